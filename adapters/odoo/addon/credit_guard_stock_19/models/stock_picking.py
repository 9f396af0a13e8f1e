# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""Deliveries of sales orders on credit hold cannot be validated.

``button_validate`` is the one entry point of a validation: the "Validate" button, the external
API (any salesperson may validate any delivery of his companies: stock.picking ACL read/write/create
from sale_stock, only the company rule), and the wizards it answers with (``Create Backorder?``,
stock_sms's ``confirm.stock.sms``), whose buttons call ``button_validate`` again.  The check runs
before Odoo's own, so nothing changes and the caller gets a ``UserError`` (XML-RPC fault 2).

No bypass: not for the superuser, not for inventory or sales administrators.  A hold is a state
of the order, not an access right; the way through is the release by a Credit Controller.
``_action_done`` (private, not callable over the API) is left alone: it is what other modules'
automated flows call, where an error would break a process instead of informing a user.
"""

from odoo import models
from odoo.exceptions import AccessError, UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def button_validate(self):
        self._credit_guard_check_hold()
        return super().button_validate()

    def _credit_guard_held_orders(self):
        """The sales orders on credit hold whose deliveries are in ``self`` (read as superuser:
        the user may validate a delivery of an order he cannot read)."""
        order_ids = []
        for picking in self.sudo():
            if picking.picking_type_code != "outgoing" or picking.state in ("done", "cancel"):
                continue
            order = picking.sale_id
            if order and order.credit_hold and order.id not in order_ids:
                order_ids.append(order.id)
        return self.env["sale.order"].sudo().browse(order_ids)

    def _credit_guard_check_hold(self):
        held = self._credit_guard_held_orders()
        if not held:
            return
        try:  # the orders the user may read get the full refusal (reasons, tier)
            readable = self.env["sale.order"].search([("id", "in", held.ids)])
        except AccessError:
            readable = self.env["sale.order"]
        lines = [self.env._("A delivery of a sales order on credit hold cannot be validated until the hold is released.")]
        if readable:
            lines.append(readable._credit_hold_error())
        for order in held:
            if order.id not in readable.ids:
                lines.append(self.env._(
                    "Sales order %(order)s is on credit hold. A user in the group Credit Controller "
                    "must release it first.",
                    order=order.name,
                ))
        raise UserError("\n".join(lines))
