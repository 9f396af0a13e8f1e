"""``res.partner``, ``res.users`` and ``res.company``."""

from __future__ import annotations

from typing import Any

from .mail import MailThread
from . import receivables
from .orm import BaseModel, model_api, register

TYPE_LABELS = {
    "17": {"invoice": "Invoice Address", "delivery": "Delivery Address", "other": "Other Address"},
    "19": {"invoice": "Invoice", "delivery": "Delivery", "other": "Other"},
}
TREE_FIELDS = {"name", "parent_id", "is_company", "company_name", "type"}


def complete_name(version: str, name: str | None, is_company: bool, parent_name: str | None,
                  commercial_company_name: str | None, company_name: str | None, ptype: str | None,
                  has_parent: bool) -> str:
    """``res.partner._get_complete_name``."""
    name = name or ""
    if company_name or has_parent:
        if not name and ptype in TYPE_LABELS[version]:
            name = TYPE_LABELS[version][ptype]
        if not is_company:
            name = f"{commercial_company_name or parent_name}, {name}"
    return name.strip()


@register
class ResPartner(MailThread, BaseModel):
    _name = "res.partner"
    _description = "Contact"
    _order = "complete_name ASC, id DESC"
    _rec_name_field = "complete_name"
    _company_rule = "shared"
    _portal = "own"
    _indexes = ("parent_id", "commercial_partner_id", "company_id", "complete_name", "ref")

    def _display_name_sql(self, alias: str) -> str:
        return f'COALESCE({alias}."complete_name", {alias}."name", \'\')'

    def _m2m_table(self, fname: str) -> tuple[str, str, str]:
        if fname == "category_id":  # fields.Many2many(column1='partner_id', column2='category_id')
            return "res_partner_res_partner_category_rel", "partner_id", "category_id"
        return super()._m2m_table(fname)

    def _portal_rule_sql(self, alias: str) -> str:
        user = self.env.user
        partner = int(user["partner_id"] or 0)
        return (f'{alias}."id" IN ({partner}, (SELECT "commercial_partner_id" FROM "res_partner" '
                f'WHERE "id" = {partner}))')

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        company = int(self.env.company_id)
        if fname == "credit":
            # the posted receivable items of the partner in the current company (receivables.py)
            return receivables.credit_sql(f'{alias}."id"', str(company))
        if fname == "total_invoiced":
            return (f'(SELECT COALESCE(ROUND(SUM(m."amount_untaxed_signed"), 2), 0.0) FROM "account_move" m '
                    f'WHERE m."commercial_partner_id" = {alias}."id" AND m."state" = \'posted\' '
                    f'AND m."move_type" IN (\'out_invoice\', \'out_refund\') AND m."company_id" = {company})')
        if fname == "debit":
            return "0.0"
        if fname == "use_partner_credit_limit":
            return f'(COALESCE({alias}."credit_limit", 0) != 0)'
        if fname == "company_type":
            return f"(CASE WHEN {alias}.\"is_company\" THEN 'company' ELSE 'person' END)"
        if fname == "sale_order_count":
            return (f'(SELECT COUNT(*) FROM "sale_order" o WHERE o."partner_id" IN '
                    f'(SELECT c."id" FROM "res_partner" c WHERE c."commercial_partner_id" = {alias}."id"))')
        return super()._computed_sql(fname, alias)

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        defaults.update(type="contact", is_company=False, customer_rank=0, supplier_rank=0, lang="en_US",
                        color=0, partner_share=True, employee=False)
        fields = self._fields
        if "invoice_warn" in fields:
            defaults.update(invoice_warn="no-message", sale_warn="no-message")
        if "autopost_bills" in fields:
            defaults["autopost_bills"] = "ask"
        accounts = dict(self._sql(
            'SELECT "account_type", MIN("id") FROM "account_account" WHERE "company_id" = ? GROUP BY 1',
            [self.env.company_id]))
        if "property_account_receivable_id" in fields:
            defaults["property_account_receivable_id"] = accounts.get("asset_receivable")
        if "property_account_payable_id" in fields:
            defaults["property_account_payable_id"] = accounts.get("liability_payable")
        return defaults

    def _after_change(self, fnames: set[str], created: bool = False) -> None:
        if created or fnames & TREE_FIELDS:
            self._recompute_tree(touch_self=False)

    def _recompute_tree(self, touch_self: bool) -> None:
        """Stored computed fields depending on the parent chain, for these partners and descendants."""
        version = self.env.version
        todo, seen = list(self.ids), set()
        first = set(self.ids)
        while todo:
            pid = todo.pop(0)
            if pid in seen:
                continue
            seen.add(pid)
            row = self._sql(
                'SELECT p."name", p."parent_id", p."is_company", p."company_name", p."type", '
                'p."commercial_partner_id", p."complete_name", p."commercial_company_name", '
                'q."name", q."commercial_partner_id" FROM "res_partner" p '
                'LEFT JOIN "res_partner" q ON q."id" = p."parent_id" WHERE p."id" = ?', [pid])
            if not row:
                continue
            (name, parent, is_company, company_name, ptype, old_commercial, old_complete, old_ccn,
             parent_name, parent_commercial) = row[0]
            commercial = pid if (is_company or not parent) else (parent_commercial or parent)
            if commercial == pid:
                ccn_row = [(name, is_company)]
            else:
                ccn_row = self._sql('SELECT "name", "is_company" FROM "res_partner" WHERE "id" = ?', [commercial])
            ccn = (ccn_row[0][0] if ccn_row and ccn_row[0][1] else None) or company_name
            complete = complete_name(version, name, bool(is_company), parent_name, ccn, company_name, ptype,
                                     bool(parent))
            values = {"commercial_partner_id": commercial, "complete_name": complete,
                      "commercial_company_name": ccn or None}
            if (old_commercial, old_complete, old_ccn) != (commercial, complete, ccn or None):
                self._browse([pid])._write_columns(values, touch=touch_self or pid not in first)
            todo.extend(r[0] for r in self._sql('SELECT "id" FROM "res_partner" WHERE "parent_id" = ?', [pid]))


@register
class ResUsers(BaseModel):
    _name = "res.users"
    _description = "User"
    _order = "name, login"
    _portal = "own"
    _indexes = ("login", "partner_id")

    def _display_name_sql(self, alias: str) -> str:
        return f'COALESCE((SELECT p."name" FROM "res_partner" p WHERE p."id" = {alias}."partner_id"), \'\')'

    def _portal_rule_sql(self, alias: str) -> str:
        return f'{alias}."id" = {int(self.env.uid)}'

    @model_api
    def context_get(self):
        return {"lang": "en_US", "tz": "Europe/Brussels", "uid": self.env.uid}


@register
class ResCompany(BaseModel):
    _name = "res.company"
    _description = "Companies"
    _order = "sequence, name"
    _portal = "all"
    _indexes = ()

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        partner_fields = {"country_id", "email", "phone", "street", "city", "zip", "vat", "website",
                          "company_registry", "state_id", "street2", "mobile"}
        if fname in partner_fields and fname in self.env.registry.fields["res.partner"]:
            return f'(SELECT p."{fname}" FROM "res_partner" p WHERE p."id" = {alias}."partner_id")'
        if fname == "country_code":
            return (f'(SELECT c."code" FROM "res_partner" p JOIN "res_country" c ON c."id" = p."country_id" '
                    f'WHERE p."id" = {alias}."partner_id")')
        return super()._computed_sql(fname, alias)

    def _where(self, domain: Any, alias: str, compiler: Any, rules: bool = True) -> str:
        where = super()._where(domain, alias, compiler, rules)
        if rules and self.env.context.get("allowed_company_ids"):
            ids = ", ".join(str(int(c)) for c in self.env.company_ids)
            where += f' AND {alias}."id" IN ({ids})'
        return where
