# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""The release of credit holds, with its reason (opened by the order form and the Credit holds queue)."""

from odoo import fields, models


class CreditGuardReleaseWizard(models.TransientModel):
    _name = "credit.guard.release.wizard"
    _description = "Release Credit Holds"

    order_ids = fields.Many2many("sale.order", string="Orders")
    reason = fields.Text(
        string="Reason",
        required=True,
        help="Why the holds are released: kept on the orders and posted in their chatter.",
    )

    def action_release(self):
        """Release the holds of the orders; sale.order checks the group, the tiers and the reason."""
        self.ensure_one()
        self.order_ids.action_release_credit_hold(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
