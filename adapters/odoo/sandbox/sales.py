"""``sale.order``: states, locking, and what is invoiced / left to invoice per version.

Orders keep their totals only (no order lines).  ``x_sb_eligible_amount`` is
the tax-included value of the quantity eligible for invoicing (delivered
quantity for products invoiced on delivery, ordered quantity otherwise): Odoo
19 computes ``amount_to_invoice`` from it, Odoo 17 from the total.  Invoices
are linked to orders in ``x_sb_sale_invoice``.
"""

from __future__ import annotations

import json
from typing import Any

from . import access
from .faults import UserError
from .mail import MailThread
from .orm import BaseModel, register

CANCEL_WIZARD_VIEW_ID = 1187


@register
class SaleOrder(MailThread, BaseModel):
    _name = "sale.order"
    _description = "Sales Order"
    _order = "date_order desc, id desc"
    _company_rule = "strict"
    _portal = "own"
    _extra_columns = {"x_sb_eligible_amount": "REAL"}
    _extra_sql = (
        "CREATE TABLE x_sb_sale_invoice (order_id INTEGER NOT NULL, move_id INTEGER NOT NULL)",
        "CREATE INDEX x_sb_sale_invoice_order ON x_sb_sale_invoice (order_id)",
        "CREATE INDEX x_sb_sale_invoice_move ON x_sb_sale_invoice (move_id)",
    )
    _indexes = ("partner_id", "company_id", "state", "name")

    def _portal_rule_sql(self, alias: str) -> str:
        partner = int(self.env.user["partner_id"] or 0)
        return (f'{alias}."partner_id" IN (SELECT p."id" FROM "res_partner" p WHERE p."commercial_partner_id" = '
                f'(SELECT q."commercial_partner_id" FROM "res_partner" q WHERE q."id" = {partner}))')

    @staticmethod
    def _invoiced_sql(alias: str) -> str:
        """Posted invoices minus posted credit notes linked to the order (order currency)."""
        return ("(SELECT COALESCE(SUM(CASE WHEN m.\"move_type\" = 'out_refund' THEN -m.\"amount_total\" "
                "ELSE m.\"amount_total\" END), 0.0) FROM x_sb_sale_invoice l JOIN \"account_move\" m "
                f"ON m.\"id\" = l.move_id WHERE l.order_id = {alias}.\"id\" AND m.\"state\" = 'posted')")

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        invoiced = self._invoiced_sql(alias)
        if self.env.version == "17":
            to_invoice = (f"(CASE WHEN {alias}.\"invoice_status\" = 'invoiced' THEN 0.0 "
                          f"ELSE ROUND({alias}.\"amount_total\" - {invoiced}, 2) END)")
            if fname == "amount_to_invoice":
                return to_invoice
            if fname == "amount_invoiced":
                return f'ROUND({alias}."amount_total" - {to_invoice}, 2)'
        else:
            if fname == "amount_to_invoice":
                return f'ROUND(COALESCE({alias}."x_sb_eligible_amount", 0.0) - {invoiced}, 2)'
            if fname == "amount_invoiced":
                return f"ROUND({invoiced}, 2)"
        if fname == "invoice_count":
            return f'(SELECT COUNT(*) FROM x_sb_sale_invoice l WHERE l.order_id = {alias}."id")'
        if fname == "type_name":
            return f"(CASE WHEN {alias}.\"state\" IN ('draft', 'sent', 'cancel') THEN 'Quotation' ELSE 'Sales Order' END)"
        return super()._computed_sql(fname, alias)

    def _x2many_pairs_sql(self, fname: str) -> str | None:
        if fname == "invoice_ids":
            return "SELECT order_id AS id1, move_id AS id2 FROM x_sb_sale_invoice"
        return super()._x2many_pairs_sql(fname)

    # -- create / write -----------------------------------------------------
    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        company = vals.get("company_id") or self.env.company_id
        currency = self._sql('SELECT "currency_id" FROM "res_company" WHERE "id" = ?', [company])
        defaults.update(state="draft", date_order=self.env.now_str(), company_id=company,
                        currency_id=currency[0][0] if currency else None, user_id=self.env.uid,
                        invoice_status="no", locked=False, amount_untaxed=0.0, amount_tax=0.0,
                        amount_total=0.0, x_sb_eligible_amount=0.0, name="New")
        return defaults

    def _prepare_columns(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        lines = vals.get("order_line")
        vals = {k: v for k, v in vals.items() if k != "order_line"}
        columns, commands, related = super()._prepare_columns(vals)
        if lines:
            untaxed = 0.0
            for command in lines:
                if isinstance(command, (list, tuple)) and command and command[0] == 0 and len(command) > 2:
                    line = command[2] or {}
                    qty = float(line.get("product_uom_qty", 1.0) or 0.0)
                    price = float(line.get("price_unit", 0.0) or 0.0)
                    untaxed += qty * price * (1 - float(line.get("discount", 0.0) or 0.0) / 100)
            columns.update(amount_untaxed=round(untaxed, 2), amount_tax=0.0, amount_total=round(untaxed, 2))
        return columns, commands, related

    def _prepare_create(self, columns: dict[str, Any], vals: dict[str, Any]) -> dict[str, Any]:
        if not columns.get("name") or columns["name"] == "New":
            rows = self._sql("SELECT MAX(CAST(SUBSTR(\"name\", 2) AS INTEGER)) FROM \"sale_order\" "
                             "WHERE \"name\" GLOB 'S[0-9]*'")
            columns["name"] = f"S{(rows[0][0] or 0) + 1:05d}"
        partner = columns.get("partner_id")
        if partner:
            for key, kind in (("partner_invoice_id", "invoice"), ("partner_shipping_id", "delivery")):
                if not columns.get(key):
                    child = self._sql('SELECT "id" FROM "res_partner" WHERE "parent_id" = ? AND "type" = ? '
                                      'AND "active" = 1 ORDER BY "id" LIMIT 1', [partner, kind])
                    columns[key] = child[0][0] if child else partner
        return columns

    # -- actions --------------------------------------------------------------
    def _orders(self) -> list[tuple]:
        self._ensure_exist()
        access.check_records(self, self.ids, "write")
        return self._sql('SELECT "id", "name", "state", "locked", "x_sb_eligible_amount" FROM "sale_order" '
                         'WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])

    def action_confirm(self):
        orders = self._orders()
        if any(state not in ("draft", "sent") for _i, _n, state, _l, _e in orders):
            names = ", ".join(name for _i, name, *_rest in sorted(orders, key=lambda o: self.ids.index(o[0])))
            raise UserError(f"The following orders are not in a state requiring confirmation: {names}")
        now = self.env.now_str()
        for order_id, _name, _state, _locked, eligible in orders:
            self._browse([order_id])._write_columns({
                "state": "sale", "date_order": now,
                "invoice_status": "to invoice" if (eligible or 0) > 0 else "no"})
        return True

    def action_cancel(self):
        orders = self._orders()
        if any(locked for _i, _n, _s, locked, _e in orders):
            raise UserError("You cannot cancel a locked order. Please unlock it first.")
        if not self.env.context.get("disable_cancel_warning") and any(s != "draft" for _i, _n, s, _l, _e in orders):
            first = orders[0]
            type_name = "Quotation" if first[2] in ("draft", "sent", "cancel") else "Sales Order"
            return {
                "name": f"Cancel {type_name}",
                "view_mode": "form",
                "res_model": "sale.order.cancel",
                "view_id": CANCEL_WIZARD_VIEW_ID,
                "type": "ir.actions.act_window",
                "context": {"default_order_id": first[0]},
                "target": "new",
            }
        draft_invoices = [r[0] for r in self._sql(
            'SELECT m."id" FROM x_sb_sale_invoice l JOIN "account_move" m ON m."id" = l.move_id '
            "WHERE l.order_id IN (SELECT value FROM json_each(?)) AND m.\"state\" = 'draft'",
            [json.dumps(self.ids)])]
        if draft_invoices:
            self.env["account.move"]._browse(draft_invoices).button_cancel()
        self._write_columns({"state": "cancel", "invoice_status": "no"})
        return True

    def action_draft(self):
        orders = self._orders()
        ids = [i for i, _n, state, _l, _e in orders if state in ("cancel", "sent")]
        self._browse(ids)._write_columns({"state": "draft"})
        return True

    def action_quotation_sent(self):
        orders = self._orders()
        if any(state != "draft" for _i, _n, state, _l, _e in orders):
            raise UserError("Only draft orders can be marked as sent directly.")
        self._write_columns({"state": "sent"})

    def action_lock(self):
        self._orders()
        self._write_columns({"locked": True})

    def action_unlock(self):
        self._orders()
        self._write_columns({"locked": False})

    def _check_unlink(self) -> None:
        rows = self._sql("SELECT 1 FROM \"sale_order\" WHERE \"state\" NOT IN ('draft', 'cancel') "
                         "AND \"id\" IN (SELECT value FROM json_each(?))", [json.dumps(self.ids)])
        if rows:
            raise UserError("You can not delete a sent quotation or a confirmed sales order. "
                            "You must first cancel it.")

    def _delete(self) -> None:
        self.env.cr.execute("DELETE FROM x_sb_sale_invoice WHERE order_id IN (SELECT value FROM json_each(?))",
                            [json.dumps(self.ids)])
        super()._delete()
