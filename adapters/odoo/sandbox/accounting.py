"""``account.move`` (invoices), currencies and the small accounting models around them."""

from __future__ import annotations

import json
import re
from typing import Any

from . import access
from .convert import round_money
from .faults import UserError
from .mail import MailThread
from .orm import BaseModel, register
from . import receivables

DRAFT_LABELS = {
    "out_invoice": "Draft Invoice", "out_refund": "Draft Credit Note", "in_invoice": "Draft Bill",
    "in_refund": "Draft Vendor Credit Note", "out_receipt": "Draft Sales Receipt",
    "in_receipt": "Draft Purchase Receipt", "entry": "Draft Entry",
}
#: ``direction_sign``: company-currency amounts of these move types are negative.
SIGN = {"out_invoice": 1, "out_refund": -1, "in_invoice": -1, "in_refund": 1,
        "out_receipt": 1, "in_receipt": -1, "entry": 1}
JOURNAL_TYPE = {"out_invoice": "sale", "out_refund": "sale", "out_receipt": "sale",
                "in_invoice": "purchase", "in_refund": "purchase", "in_receipt": "purchase", "entry": "general"}
LINE_FIELDS = {"partner_id", "invoice_date_due", "invoice_payment_term_id", "payment_reference", "ref", "name",
               "journal_id", "state"}
AMOUNT_FIELDS = {"amount_total", "amount_untaxed", "amount_tax", "amount_residual", "currency_id", "date",
                 "invoice_date", "move_type", "company_id", "invoice_line_ids", "line_ids"}


def sequence_prefix(move_type: str, date: str) -> str:
    year, month = date[:4], date[5:7]
    if move_type in ("out_invoice", "out_receipt"):
        return f"INV/{year}/"
    if move_type == "out_refund":
        return f"RINV/{year}/"
    if move_type == "in_invoice":
        return f"BILL/{year}/{month}/"
    if move_type == "in_refund":
        return f"RBILL/{year}/{month}/"
    return f"MISC/{year}/{month}/"


def rate_sql(currency: str, company: str, day: str) -> str:
    """SQL for ``res.currency._get_rates``: units of the currency per company-currency unit."""
    base = (f'FROM "res_currency_rate" x_rt WHERE x_rt."currency_id" = {currency} '
            f'AND (x_rt."company_id" = {company} OR x_rt."company_id" IS NULL)')
    return (f'COALESCE((SELECT x_rt."rate" {base} AND x_rt."name" <= {day} ORDER BY x_rt."company_id" IS NULL, '
            f'x_rt."name" DESC LIMIT 1), (SELECT x_rt."rate" {base} ORDER BY x_rt."company_id" IS NULL, '
            f'x_rt."name" ASC LIMIT 1), 1.0)')


def currency_rate(model: BaseModel, currency_id: int, company_id: int, day: str) -> float:
    """Rate of ``currency_id`` for ``company_id`` on ``day`` (1.0 for the company currency)."""
    company_currency = model._sql('SELECT "currency_id" FROM "res_company" WHERE "id" = ?', [company_id])
    if company_currency and company_currency[0][0] == currency_id:
        return 1.0
    rows = model._sql(f"SELECT {rate_sql('?', '?', '?')}", [currency_id, company_id, day,
                                                             currency_id, company_id])
    return float(rows[0][0] or 1.0)


def currency_digits(model: BaseModel, currency_id: int | None) -> int:
    rows = model._sql('SELECT "decimal_places" FROM "res_currency" WHERE "id" = ?', [currency_id])
    return int(rows[0][0]) if rows and rows[0][0] is not None else 2


@register
class ResCurrency(BaseModel):
    _name = "res.currency"
    _description = "Currency"
    _order = "active desc, name"
    _portal = "all"
    _indexes = ("name",)

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        company = str(int(self.env.company_id))
        day = f"'{self.env.today_str()}'"
        if fname == "rate":
            return rate_sql(f'{alias}."id"', company, day)
        if fname == "inverse_rate":
            return f"(1.0 / {rate_sql(alias + '.' + chr(34) + 'id' + chr(34), company, day)})"
        if fname == "date":
            return (f'(SELECT x_rt."name" FROM "res_currency_rate" x_rt WHERE x_rt."currency_id" = {alias}."id" '
                    f'AND (x_rt."company_id" = {company} OR x_rt."company_id" IS NULL) AND x_rt."name" <= {day} '
                    f'ORDER BY x_rt."company_id" IS NULL, x_rt."name" DESC LIMIT 1)')
        if fname == "is_current_company_currency":
            return (f'({alias}."id" = (SELECT c."currency_id" FROM "res_company" c WHERE c."id" = {company}))')
        return super()._computed_sql(fname, alias)


@register
class ResCurrencyRate(BaseModel):
    _name = "res.currency.rate"
    _description = "Currency Rate"
    _order = "name desc"
    _company_rule = "shared"
    _portal = "all"
    _indexes = (("currency_id", "name"),)

    def _display_name_sql(self, alias: str) -> str:
        return f'COALESCE({alias}."name", \'\')'

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "company_rate":
            return f'{alias}."rate"'
        if fname == "inverse_company_rate":
            return f'(CASE WHEN {alias}."rate" THEN 1.0 / {alias}."rate" ELSE 0.0 END)'
        return super()._computed_sql(fname, alias)

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        defaults.update(name=self.env.today_str(), rate=1.0)
        return defaults


@register
class AccountJournal(BaseModel):
    _name = "account.journal"
    _description = "Journal"
    _order = "sequence, type, code"
    _company_rule = "strict"


@register
class AccountAccount(BaseModel):
    _name = "account.account"
    _description = "Account"
    _order = "code, company_id"
    _company_rule = "strict"

    def _display_name_sql(self, alias: str) -> str:
        return f'COALESCE({alias}."code" || \' \' || {alias}."name", {alias}."name", \'\')'


@register
class AccountPaymentTerm(BaseModel):
    _name = "account.payment.term"
    _description = "Payment Terms"
    _order = "sequence, id"
    _company_rule = "shared"
    _portal = "all"


@register
class AccountMoveLine(BaseModel):
    """Journal items: the receivable items of customer documents and payments (``receivables.py``)."""

    _name = "account.move.line"
    _description = "Journal Item"
    _order = "date desc, move_name desc, id"
    _company_rule = "strict"
    _portal = None
    _indexes = ("move_id", "partner_id", "date_maturity", ("account_id", "partner_id"))

    def _display_name_sql(self, alias: str) -> str:
        return f'COALESCE({alias}."move_name" || \' \' || {alias}."name", {alias}."move_name", {alias}."name", \'\')'


@register
class AccountMove(MailThread, BaseModel):
    _name = "account.move"
    _description = "Journal Entry"
    _order = "date desc, name desc, id desc"
    _company_rule = "strict"
    _portal = None
    _indexes = ("partner_id", "commercial_partner_id", "company_id", "name", "invoice_date_due",
                ("move_type", "state"))

    def _display_name_sql(self, alias: str) -> str:
        labels = " ".join(f"WHEN '{k}' THEN '{v} '" for k, v in DRAFT_LABELS.items())
        return (f"((CASE WHEN {alias}.\"state\" = 'draft' THEN (CASE {alias}.\"move_type\" {labels} ELSE '' END) "
                f"ELSE '' END) || (CASE WHEN {alias}.\"name\" IS NULL OR {alias}.\"name\" = '/' "
                f"THEN '(* ' || {alias}.\"id\" || ')' ELSE {alias}.\"name\" END) || "
                f"(CASE WHEN {alias}.\"ref\" IS NOT NULL AND {alias}.\"ref\" != '' "
                f"THEN ' (' || {alias}.\"ref\" || ')' ELSE '' END))")

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "status_in_payment":
            return (f"(CASE WHEN {alias}.\"state\" = 'posted' THEN (CASE WHEN {alias}.\"payment_state\" "
                    f"IN ('not_paid') THEN (CASE WHEN {alias}.\"is_move_sent\" THEN 'sent' ELSE 'posted' END) "
                    f"ELSE {alias}.\"payment_state\" END) ELSE {alias}.\"state\" END)")
        if fname == "partner_credit":  # the partner's credit in the document's company
            return receivables.credit_sql(f'{alias}."commercial_partner_id"', f'{alias}."company_id"')
        if fname == "payment_count":
            return "0"
        return super()._computed_sql(fname, alias)

    # -- create / write -----------------------------------------------------
    def _company_currency(self, company_id: int) -> int | None:
        rows = self._sql('SELECT "currency_id" FROM "res_company" WHERE "id" = ?', [company_id])
        return rows[0][0] if rows else None

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        company = vals.get("company_id") or self.env.company_id
        move_type = vals.get("move_type") or "entry"
        defaults.update(move_type="entry", state="draft", name="/", date=self.env.today_str(), auto_post="no",
                        payment_state="not_paid", company_id=company,
                        currency_id=self._company_currency(company), is_move_sent=False,
                        amount_untaxed=0.0, amount_tax=0.0, amount_total=0.0, amount_residual=0.0)
        journal = self._sql('SELECT "id" FROM "account_journal" WHERE "company_id" = ? AND "type" = ? '
                            'ORDER BY "sequence", "id" LIMIT 1', [company, JOURNAL_TYPE.get(move_type, "general")])
        if journal:
            defaults["journal_id"] = journal[0][0]
        if move_type != "entry":
            defaults["invoice_user_id"] = self.env.uid
        return defaults

    def _prepare_columns(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        lines = [vals.get(k) for k in ("invoice_line_ids", "line_ids") if vals.get(k)]
        vals = {k: v for k, v in vals.items() if k not in ("invoice_line_ids", "line_ids")}
        columns, commands, related = super()._prepare_columns(vals)
        if lines:
            untaxed = 0.0
            for command in (c for group in lines for c in group):
                if isinstance(command, (list, tuple)) and command and command[0] == 0 and len(command) > 2:
                    line = command[2] or {}
                    qty = float(line.get("quantity", 1.0) or 0.0)
                    price = float(line.get("price_unit", 0.0) or 0.0)
                    untaxed += qty * price * (1 - float(line.get("discount", 0.0) or 0.0) / 100)
            columns.update(amount_untaxed=untaxed, amount_tax=0.0, amount_total=untaxed, amount_residual=untaxed)
        return columns, commands, related

    def _after_change(self, fnames: set[str], created: bool = False) -> None:
        if created or "partner_id" in fnames:
            self.env.cr.execute(
                'UPDATE "account_move" SET "commercial_partner_id" = (SELECT p."commercial_partner_id" '
                'FROM "res_partner" p WHERE p."id" = "account_move"."partner_id") '
                'WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])
        if created or fnames & AMOUNT_FIELDS:
            self._recompute_amounts()
        if created or fnames & (AMOUNT_FIELDS | LINE_FIELDS):
            self._rebuild_receivables()

    def _rebuild_receivables(self) -> None:
        """The receivable items follow the document (``receivables.py``), stamped with this transaction."""
        receivables.rebuild(self.env.cr, self.ids, self.env.cr_now_str(), self.env.uid)

    def _recompute_amounts(self) -> None:
        """Company-currency (``*_signed``) amounts; drafts owe their total."""
        rows = self._sql(
            'SELECT "id", "move_type", "state", "currency_id", "company_id", COALESCE("invoice_date", "date"), '
            '"amount_untaxed", "amount_tax", "amount_total", "amount_residual" FROM "account_move" '
            'WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])
        has_rate = "invoice_currency_rate" in self._fields
        for (move_id, move_type, state, currency, company, day, untaxed, tax, total, residual) in rows:
            digits = currency_digits(self, currency)
            company_digits = currency_digits(self, self._company_currency(company))
            if state == "draft":
                residual = total
            rate = currency_rate(self, currency, company, day or self.env.today_str())
            sign = SIGN.get(move_type or "entry", 1)

            def signed(amount: float | None) -> float:
                return sign * round_money((amount or 0.0) / rate, company_digits)

            values = {
                "amount_untaxed": round_money(untaxed or 0.0, digits), "amount_tax": round_money(tax or 0.0, digits),
                "amount_total": round_money(total or 0.0, digits), "amount_residual": round_money(residual or 0.0, digits),
                "amount_untaxed_signed": signed(untaxed), "amount_tax_signed": signed(tax),
                "amount_total_signed": signed(total), "amount_residual_signed": signed(residual),
                "amount_total_in_currency_signed": sign * round_money(total or 0.0, digits),
            }
            if "amount_untaxed_in_currency_signed" in self._fields:
                values["amount_untaxed_in_currency_signed"] = sign * round_money(untaxed or 0.0, digits)
            if has_rate:
                values["invoice_currency_rate"] = rate
            self._browse([move_id])._write_columns(values, touch=False)

    # -- actions --------------------------------------------------------------
    def _moves(self) -> list[dict[str, Any]]:
        self._ensure_exist()
        access.check_records(self, self.ids, "write")
        rows = self._read_rows(self.ids, ["name", "state", "move_type", "partner_id", "invoice_date",
                                          "invoice_date_due", "date", "company_id", "display_name",
                                          "invoice_payment_term_id"])
        return rows

    def action_post(self):
        moves = self._moves()
        for move in moves:
            if move["state"] != "draft":
                raise UserError(f"The entry {move['name']} (id {move['id']}) must be in draft.")
            if move["move_type"] != "entry" and not move["partner_id"]:
                kind = "Customer" if move["move_type"].startswith("out") else "Vendor"
                label = {"out_invoice": "Customer Invoice", "out_refund": "Customer Credit Note",
                         "in_invoice": "Vendor Bill", "in_refund": "Vendor Credit Note"}.get(move["move_type"], "Entry")
                raise UserError(f"The field '{kind}' is required, please complete it to validate the {label}.")
        today = self.env.today_str()
        for move in moves:
            values: dict[str, Any] = {"state": "posted", "payment_state": "not_paid"}
            is_invoice = move["move_type"] != "entry"
            invoice_date = move["invoice_date"] or (today if is_invoice else False)
            day = invoice_date or move["date"] or today
            if is_invoice:
                term = move["invoice_payment_term_id"][0] if move["invoice_payment_term_id"] else None
                dues = receivables.term_due_dates(term, invoice_date)  # the last instalment's, as Odoo
                values.update(invoice_date=invoice_date, date=invoice_date,
                              invoice_date_due=max(dues) if dues else move["invoice_date_due"] or invoice_date)
            if not move["name"] or move["name"] == "/":
                values["name"] = self._next_name(move["move_type"], day, move["company_id"][0])
            record = self._browse([move["id"]])
            record._write_columns(values)
            record._sql('UPDATE "account_move" SET "amount_residual" = "amount_total" WHERE "id" = ?', [move["id"]])
            record._recompute_amounts()
        self._rebuild_receivables()
        return False

    def _next_name(self, move_type: str, day: str, company_id: int) -> str:
        prefix = sequence_prefix(move_type, day)
        rows = self._sql('SELECT "name" FROM "account_move" WHERE "company_id" = ? AND "name" LIKE ? '
                         'ORDER BY "name" DESC LIMIT 1', [company_id, prefix.replace("_", "\\_") + "%"])
        last = 0
        if rows and (match := re.search(r"(\d+)$", rows[0][0] or "")):
            last = int(match.group(1))
        width = 5 if prefix.count("/") == 2 else 4
        return f"{prefix}{last + 1:0{width}d}"

    def button_draft(self):
        moves = self._moves()
        if any(m["state"] not in ("cancel", "posted") for m in moves):
            raise UserError("Only posted/cancelled journal entries can be reset to draft.")
        self._write_columns({"state": "draft", "payment_state": "not_paid", "is_move_sent": False})
        self._recompute_amounts()
        self._rebuild_receivables()

    def button_cancel(self):
        moves = self._moves()
        posted = [m["id"] for m in moves if m["state"] == "posted"]
        if posted:
            self._browse(posted).button_draft()
            moves = self._moves()
        if any(m["state"] != "draft" for m in moves):
            raise UserError("Only draft journal entries can be cancelled.")
        self._write_columns({"state": "cancel", "auto_post": "no"})
        self._rebuild_receivables()

    def _check_unlink(self) -> None:
        rows = self._sql('SELECT "id" FROM "account_move" WHERE "state" = \'posted\' '
                         'AND "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])
        if rows:
            raise UserError("You can't delete a posted journal item. Don\u2019t play games with your accounting "
                            "records; reset the journal entry to draft before deleting it.")

    def _delete(self) -> None:
        self.env.cr.execute("DELETE FROM x_sb_sale_invoice WHERE move_id IN (SELECT value FROM json_each(?))",
                            [json.dumps(self.ids)])
        self.env.cr.execute('DELETE FROM "account_move_line" WHERE "move_id" IN (SELECT value FROM json_each(?))',
                            [json.dumps(self.ids)])
        super()._delete()
