"""The stand-in of ``stock`` + ``sale_stock`` + ``stock_sms`` for the credit_guard_stock bridge modules.

Only what the deliveries need, following the flow captured from Odoo 17 and 19 (``captured/odoo17/stock``,
``captured/odoo19/stock``, README.md and ``button_validate.json``):

* ``stock.picking`` with the captured fields the bridge and the flow use (``picking_type_code``,
  ``sale_id``, ``state``, ``company_id``, ``backorder_id``, ``date_done``, ...) and ``stock.move``
  (``product_uom_qty`` demand, ``quantity`` reserved/done, ``picked``);
* ``button_validate`` as Odoo runs it: ``_sanity_check`` (nothing reserved: ``UserError`` with the
  captured text), ``_pre_action_done_hook`` (the ``Create Backorder?`` wizard when a move is short, then
  stock_sms's one-time ``confirm.stock.sms`` question per company), then ``_action_done``; the wizards'
  buttons call ``button_validate`` again with ``skip_backorder`` / after setting the company's flag;
* the captured ACLs and rules of stock.picking / stock.move apply (``access.py``): a salesperson may
  read, write and create pickings of his companies — so he may validate any delivery.

``StockWorld`` is ``harness.World`` with these models and a bridge module loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from .harness import ADMIN, BASE_MODULE, World

STOCK_MODULE = "odoo.addons.standin_stock"
CAPTURED = Path(__file__).resolve().parent / "captured"
STOCK_DIRS = {"credit_guard": CAPTURED / "odoo17" / "stock", "credit_guard_19": CAPTURED / "odoo19" / "stock"}
BRIDGES = {"credit_guard": "credit_guard_stock", "credit_guard_19": "credit_guard_stock_19"}


def captured_flow(addon_name: str) -> dict:
    return json.loads((STOCK_DIRS[addon_name] / "button_validate.json").read_text())


def captured_fields(addon_name: str, model: str) -> dict:
    return json.loads((STOCK_DIRS[addon_name] / "fields" / f"{model}.json").read_text())


_STOCK_DEFINED = False


def define_stock_models():
    """Declare the stand-ins of stock.picking, stock.move and the two validation wizards (once)."""
    global _STOCK_DEFINED
    if _STOCK_DEFINED:
        return
    _STOCK_DEFINED = True
    from odoo import fields, models
    from odoo.exceptions import UserError

    class ResCompany(models.Model):
        __module__ = STOCK_MODULE
        _inherit = "res.company"

        has_received_warning_stock_sms = fields.Boolean()  # stock_sms: the question is asked once

    class StockPicking(models.Model):
        __module__ = STOCK_MODULE
        _name = "stock.picking"
        _description = "Transfer"
        _mail_thread = True

        name = fields.Char()
        origin = fields.Char()
        partner_id = fields.Many2one("res.partner")
        company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
        picking_type_code = fields.Selection(
            [("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")])
        state = fields.Selection(
            [("draft", "Draft"), ("waiting", "Waiting Another Operation"), ("confirmed", "Waiting"),
             ("assigned", "Ready"), ("done", "Done"), ("cancel", "Cancelled")], default="draft")
        sale_id = fields.Many2one("sale.order")  # 17: related group_id.sale_id; 19: stored compute
        backorder_id = fields.Many2one("stock.picking")
        date_done = fields.Datetime()

        def _moves(self):
            return self.env["stock.move"].search([("picking_id", "in", self.ids)])

        def button_validate(self):
            self = self.filtered(lambda p: p.state not in ("done", "cancel"))
            self._sanity_check()
            context = dict(self.env.context, button_validate_picking_ids=self.ids)
            answer = self.with_context(context)._pre_action_done_hook()
            if answer is not True:
                return answer
            self._action_done()
            return True

        def _sanity_check(self):
            for picking in self:
                if not any(move.quantity for move in picking._moves()):
                    raise UserError(self.env.registry.stock_texts["no_quantities"])

        def _pre_action_done_hook(self):
            context = self.env.context
            if not context.get("skip_backorder"):
                short = self.filtered(lambda p: any(m.quantity < m.product_uom_qty for m in p._moves()))
                if short:
                    return {
                        "type": "ir.actions.act_window", "res_model": "stock.backorder.confirmation",
                        "name": "Create Backorder?", "target": "new", "view_mode": "form",
                        "context": dict(context, default_pick_ids=[[4, p.id] for p in short],
                                        default_show_transfers=False),
                    }
            if not context.get("skip_sms"):
                warn = self.filtered(lambda p: p.picking_type_code == "outgoing"
                                     and not p.company_id.sudo().has_received_warning_stock_sms)
                if warn:
                    wizard = self.env["confirm.stock.sms"].create({"pick_ids": warn.ids})
                    return {
                        "type": "ir.actions.act_window", "res_model": "confirm.stock.sms", "res_id": wizard.id,
                        "name": "SMS", "target": "new", "view_mode": "form",
                        "context": {"button_validate_picking_ids": context["button_validate_picking_ids"]},
                    }
            return True

        def _action_done(self):
            no_backorder = set(self.env.context.get("picking_ids_not_to_backorder") or ())
            now = fields.Datetime.now()
            for picking in self:
                short = [(m, m.product_uom_qty - m.quantity) for m in picking._moves()
                         if m.quantity < m.product_uom_qty]
                if short and picking.id not in no_backorder:
                    backorder = self.create({
                        "name": f"{picking.name}-BO", "origin": picking.origin, "partner_id": picking.partner_id.id,
                        "company_id": picking.company_id.id, "picking_type_code": picking.picking_type_code,
                        "sale_id": picking.sale_id.id, "backorder_id": picking.id, "state": "confirmed",
                    })
                    for move, missing in short:
                        self.env["stock.move"].create({
                            "picking_id": backorder.id, "company_id": move.company_id.id,
                            "product_uom_qty": missing, "quantity": 0.0, "state": "confirmed"})
                        move.write({"product_uom_qty": move.quantity})
                picking._moves().write({"state": "done", "picked": True})
                picking.write({"state": "done", "date_done": now})
            return True

        def action_cancel(self):
            self._moves().write({"state": "cancel"})
            self.write({"state": "cancel"})
            return True

    class StockMove(models.Model):
        __module__ = STOCK_MODULE
        _name = "stock.move"
        _description = "Stock Move"

        picking_id = fields.Many2one("stock.picking")
        company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
        product_uom_qty = fields.Float()  # demand
        quantity = fields.Float()  # reserved, then done
        picked = fields.Boolean()
        state = fields.Selection(
            [("draft", "New"), ("waiting", "Waiting Another Move"), ("confirmed", "Waiting"),
             ("partially_available", "Partially Available"), ("assigned", "Available"), ("done", "Done"),
             ("cancel", "Cancelled")], default="draft")

        def write(self, vals):
            ids = self.ids
            res = super().write(vals)
            if "quantity" in vals or "picked" in vals:  # (re)assign the picking, as the captured write did
                pickings = {m.picking_id.id for m in self.browse(ids)}
                for picking in self.env["stock.picking"].browse(sorted(pickings)):
                    if picking.state in ("confirmed", "waiting") and any(m.quantity for m in picking._moves()):
                        picking.write({"state": "assigned"})
            return res

    class StockBackorderConfirmation(models.TransientModel):
        __module__ = STOCK_MODULE
        _name = "stock.backorder.confirmation"

        pick_ids = fields.Field()

        def _pickings(self):
            return self.env["stock.picking"].browse(self.env.context.get("button_validate_picking_ids") or ())

        def process(self):
            return self._pickings().with_context(skip_backorder=True).button_validate()

        def process_cancel_backorder(self):
            pickings = self._pickings()
            return pickings.with_context(skip_backorder=True, picking_ids_not_to_backorder=pickings.ids
                                         ).button_validate()

    class ConfirmStockSms(models.TransientModel):
        __module__ = STOCK_MODULE
        _name = "confirm.stock.sms"

        pick_ids = fields.Field()

        def _validate(self):
            self.ensure_one()
            pickings = self.env["stock.picking"].browse(self.env.context.get("button_validate_picking_ids") or ())
            for picking in pickings:
                picking.company_id.sudo().write({"has_received_warning_stock_sms": True})
            return pickings.button_validate()

        def send_sms(self):
            return self._validate()

        def dont_send_sms(self):
            return self._validate()


class StockWorld(World):
    """``World`` with stock + sale_stock + stock_sms and the bridge module of the addon's version."""

    def __init__(self, addon_name: str):
        super().__init__(addon_name)
        flow = captured_flow(addon_name)
        self.registry.stock_texts = {"no_quantities": flow["A02_stock.picking.button_validate"]["fault"]["faultString"]}
        self._picking_seq = 0

    def module_prefixes(self, addon_name: str) -> list:
        return [BASE_MODULE, f"odoo.addons.{addon_name}.", STOCK_MODULE, f"odoo.addons.{BRIDGES[addon_name]}."]

    def picking(self, order=None, code="outgoing", demand=1.0, reserved=1.0, **vals):
        """A transfer (the delivery of ``order``) with one move, reserved as told (``state`` follows)."""
        self._picking_seq += 1
        prefix = {"outgoing": "WH/OUT", "incoming": "WH/IN", "internal": "WH/INT"}[code]
        root = self.env(ADMIN, su=True)
        values = {"name": "%s/%05d" % (prefix, self._picking_seq), "picking_type_code": code,
                  "company_id": self.company.id, "partner_id": self.customer.id,
                  "state": "assigned" if reserved else "confirmed"}
        if order is not None:
            values.update({"sale_id": order.id, "origin": order.name, "company_id": order.company_id.id})
        values.update(vals)
        picking = root["stock.picking"].create(values)
        root["stock.move"].create({"picking_id": picking.id, "company_id": values["company_id"],
                                   "product_uom_qty": demand, "quantity": reserved,
                                   "state": "assigned" if reserved else "confirmed"})
        return picking

    def moves(self, picking):
        return self.env(ADMIN, su=True)["stock.move"].search([("picking_id", "=", picking.id)])

    def call_with(self, who, method, records, context, *args):
        """An RPC call with a context (``execute_kw(..., {"context": ...})``)."""
        from odoo.api import Environment

        env = Environment(self.registry, self.uids[who], context=context)
        return self.registry.call(env, records._name, method, records.ids, *args)

    def validate(self, who, picking):
        """``button_validate`` over RPC, then the wizards' buttons as the client presses them
        (``process``: create the backorder; ``dont_send_sms``), until the answer is ``True``."""
        answer = self.call(who, "button_validate", picking)
        steps = [answer]
        while isinstance(answer, dict):
            context = answer["context"]
            model = answer["res_model"]
            if model == "stock.backorder.confirmation":
                wizard = self.registry.call(self.env(who), model, "create", [], {})
                answer = self.call_with(who, "process", wizard, context)
            elif model == "confirm.stock.sms":
                wizard = self.env(who)[model].browse(answer["res_id"])
                answer = self.call_with(who, "dont_send_sms", wizard, context)
            else:
                raise AssertionError(f"unexpected action {answer!r}")
            steps.append(answer)
        return steps
