"""What differs between the Odoo versions the adapter supports (16 to 19).

The fields read are the ones all versions share, except where noted:
``sale.order.locked`` exists from 17 on (16 has a ``done`` state instead),
``sale.order.analytic_account_id`` (the order's project) up to 17, and
``sale.order.amount_to_invoice`` changed meaning and storage in 19, so the
adapter never reads it and uses ``amount_total − amount_invoiced`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED = (16, 17, 18, 19)

PARTNER_FIELDS = (
    "id", "name", "display_name", "ref", "commercial_partner_id", "company_id", "country_code", "vat",
    "is_company", "parent_id", "credit_limit", "active", "lang", "company_registry", "write_date",
)
MOVE_FIELDS = (
    "id", "name", "move_type", "state", "payment_state", "partner_id", "commercial_partner_id",
    "invoice_date", "invoice_date_due", "currency_id", "company_id", "company_currency_id",
    "amount_total", "amount_residual", "amount_total_signed", "amount_residual_signed", "invoice_origin",
    "write_date",
)
ORDER_FIELDS = (
    "id", "name", "partner_id", "state", "date_order", "currency_id", "company_id",
    "amount_total", "amount_invoiced", "write_date",
)
# the credit_guard addon: the hold as Odoo shows it and who released it, when, at which approval tier and why (the
# last two from the addon's tiered release on; the source asks for the fields the installed version has)
ADDON_ORDER_FIELDS = ("credit_hold", "credit_released_at", "credit_released_by", "credit_released_tier",
                      "credit_release_reason")
# account.move.line: the receivable journal items (one per instalment of an invoice, the credit of a credit note or
# of a payment on account), with their own due date and residuals (company and document currency, signed)
RECEIVABLE_LINE_FIELDS = (
    "id", "move_id", "move_name", "move_type", "partner_id", "parent_state", "date", "date_maturity", "currency_id",
    "company_id", "company_currency_id", "amount_residual", "amount_residual_currency", "balance", "matched_credit_ids",
    "write_date",
)
#: what the settlement of a receivable item is read from: its ``matched_credit_ids`` (a debit item's partial
#: reconciliations with payments and credit notes), whose ``max_date`` is the later date of the two items
PARTIAL_FIELDS = ("id", "max_date")
RATE_FIELDS = ("id", "name", "rate", "currency_id", "company_id", "write_date")
COMPANY_FIELDS = ("id", "name", "currency_id")


@dataclass(frozen=True, slots=True)
class OdooVersion:
    major: int
    label: str

    @classmethod
    def from_version_info(cls, info: dict) -> "OdooVersion":
        """From ``common.version()``: ``server_version_info`` is ``[17, 0, 0, 'final', 0, '']``;
        SaaS builds say ``['saas~17', 2, ...]``."""
        version_info = info.get("server_version_info")
        raw = version_info[0] if isinstance(version_info, (list, tuple)) and version_info else None
        if isinstance(raw, str):
            raw = raw.split("~")[-1]
        try:
            major = int(raw)
        except (TypeError, ValueError):
            major = 0
        label = info.get("server_version", raw)
        return cls(major=major, label=label[:40] if isinstance(label, str) else str(major or "unknown"))

    @property
    def supported(self) -> bool:
        return self.major in SUPPORTED

    def order_fields(self) -> tuple[str, ...]:
        fields = ORDER_FIELDS + (("locked",) if self.major >= 17 else ())
        # the order's project (analytic account) is a header field up to 17; later versions
        # carry analytic distributions on the lines only
        return fields + (("analytic_account_id",) if self.major <= 17 else ())
