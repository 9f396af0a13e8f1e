"""The domain model: plain, frozen records that adapters hand to the core.

Every record carries the ``source`` it came from (the name of a configured ERP
connection) and its ``erp_id`` there, as a string so that Odoo's integer ids
and SAP's padded numbers fit the same key.  Money is ``Decimal`` rounded to
the currency's precision; dates are calendar dates; ``changed_at`` is the ERP's
change time in UTC (timezone-aware).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceState(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    CANCELLED = "cancelled"


class PaymentState(StrEnum):
    NOT_PAID = "not_paid"
    PARTIAL = "partial"
    IN_PAYMENT = "in_payment"
    PAID = "paid"
    REVERSED = "reversed"
    BLOCKED = "blocked"  # Odoo 19: payment disputed / on hold, still open
    LEGACY = "invoicing_legacy"


class OrderState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CONFIRMED = "confirmed"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Company:
    source: str
    erp_id: str
    name: str
    currency: str


@dataclass(frozen=True, slots=True)
class Customer:
    source: str
    erp_id: str
    ref: str | None
    name: str
    credit_group_id: str  # erp_id of the commercial entity that carries the risk
    company_id: str | None  # None: shared between all companies of the ERP
    country: str | None  # ISO 3166 alpha-2
    vat: str | None
    is_company: bool
    parent_id: str | None
    credit_limit: Decimal | None  # the ERP's own limit; None when the ERP sets none
    credit_limit_currency: str | None
    active: bool
    changed_at: datetime
    # the ERP's own credit management (SAP credit master KNKK): grade inputs of the policy
    risk_category: str | None = None  # e.g. SAP CTLPC "001"; mapped to a grade by [risk_categories]
    credit_blocked: bool = False  # blocked by the ERP's credit management (SAP CRBLB)


@dataclass(frozen=True, slots=True)
class Invoice:
    """A customer invoice or credit note.

    Amounts are unsigned as the document shows them; :attr:`sign` says whether
    the document adds to (+1) or reduces (-1) the receivable.
    """

    source: str
    erp_id: str
    number: str
    customer_id: str
    credit_group_id: str
    kind: InvoiceKind
    state: InvoiceState
    payment_state: PaymentState
    invoice_date: date | None
    due_date: date | None
    currency: str
    amount_total: Decimal
    amount_open: Decimal
    company_id: str
    company_currency: str
    amount_total_company: Decimal
    amount_open_company: Decimal
    changed_at: datetime
    origin: str | None = None  # the sales order(s) the invoice came from, as the ERP names them

    @property
    def sign(self) -> int:
        return -1 if self.kind is InvoiceKind.CREDIT_NOTE else 1

    @property
    def is_open(self) -> bool:
        return self.state is InvoiceState.POSTED and self.amount_open != 0


@dataclass(frozen=True, slots=True)
class SalesOrder:
    source: str
    erp_id: str
    number: str
    customer_id: str
    state: OrderState
    locked: bool
    order_date: datetime | None
    currency: str
    amount_total: Decimal
    amount_uninvoiced: Decimal  # the part of the order not yet covered by posted invoices
    company_id: str
    changed_at: datetime
    project: str | None = None  # the project / stage the order belongs to (construction), if the ERP says
    # the hold as the ERP shows it (only where the ERP has hold fields, e.g. Odoo's credit_guard addon)
    erp_hold: bool | None = None
    erp_released_at: datetime | None = None
    erp_released_by: str | None = None


@dataclass(frozen=True, slots=True)
class CurrencyRate:
    """``rate`` units of ``currency`` buy one unit of the company's currency on ``day``."""

    source: str
    erp_id: str
    currency: str
    company_id: str | None
    day: date
    rate: Decimal
    changed_at: datetime


SyncedRecord = Customer | Invoice | SalesOrder | CurrencyRate
