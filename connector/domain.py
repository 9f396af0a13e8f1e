"""The domain model: plain, frozen records that adapters hand to the core.

Every record carries the ``source`` it came from (the name of a configured ERP
connection) and its ``erp_id`` there, as a string so that Odoo's integer ids
and SAP's padded numbers fit the same key.  Money is ``Decimal`` rounded to
the currency's precision; dates are calendar dates; ``changed_at`` is the ERP's
change time in UTC (timezone-aware).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

R = TypeVar("R")


def quick_init(cls: type[R]) -> type[R]:
    """A frozen, slotted dataclass whose ``__init__`` fills the slots through their own descriptors: the same
    signature and result as the dataclass's, in about half the time (its frozen ``__init__`` goes through
    ``object.__setattr__`` per field).  For the records a sync makes by the hundred thousand; a class with
    ``__post_init__``, keyword-only fields or default factories is refused."""
    params = fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(f.kw_only or f.default_factory is not MISSING or not f.init
                                            for f in params):
        raise TypeError(f"{cls.__name__}: quick_init takes plain fields only")
    namespace: dict[str, object] = {}
    signature = []
    for number, f in enumerate(params):
        namespace[f"_set{number}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        if f.default is MISSING:
            signature.append(f.name)
        else:
            namespace[f"_default{number}"] = f.default
            signature.append(f"{f.name}=_default{number}")
    body = "".join(f"    _set{number}(self, {f.name})\n" for number, f in enumerate(params))
    exec(f"def __init__(self, {', '.join(signature)}):\n{body}", namespace)  # noqa: S102 - generated from field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    return cls


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


@quick_init
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
    lang: str | None = None  # the language the customer is written to in, as the ERP names it ("fr_FR", SAP "F")
    registry: str | None = None  # the company registration number (Odoo company_registry), apart from the VAT


@quick_init
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


class ReceivableKind(StrEnum):
    INSTALMENT = "instalment"  # the part of a customer invoice due on one date (an invoice has one or several)
    CREDIT_NOTE = "credit_note"  # what is left of a credit note to apply
    PAYMENT = "payment"  # a payment on account not matched to an invoice, or another receivable entry


@quick_init
@dataclass(frozen=True, slots=True)
class ReceivableItem:
    """One item of a customer's receivable as the ERP's ledger keeps it: an instalment of an invoice, an open
    credit note, an unapplied payment (Odoo: a receivable journal item; SAP: an open item of BSID).

    Amounts are **signed** as the ledger has them (an instalment adds to the receivable, a credit note or a
    payment reduces it: negative), in the document's currency and in the company's; the sum of a customer's
    posted items in one company is its receivable balance there (Odoo's partner ``credit``).
    """

    source: str
    erp_id: str
    kind: ReceivableKind
    document_id: str | None  # the invoice / credit note / payment entry the item belongs to
    document_number: str
    customer_id: str
    credit_group_id: str
    state: InvoiceState  # the document's
    document_date: date | None
    due_date: date | None  # this item's own due date (an instalment's)
    currency: str
    amount_open: Decimal  # signed, document currency
    company_id: str
    company_currency: str
    amount_open_company: Decimal  # signed, company currency
    changed_at: datetime
    # the item's own amount when posted (signed, company currency), and the day it was settled in full: the latest
    # date of the payments (credit notes, …) matched with it; None while something is open or when the ERP does
    # not say (an open item's amount is then its open amount)
    amount_company: Decimal | None = None
    paid_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.state is InvoiceState.POSTED and (self.amount_open != 0 or self.amount_open_company != 0)


@quick_init
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
    # what the person who released the hold in the ERP recorded with the release (Odoo's credit_guard addon
    # from its tiered release on): the approval tier they released at (a role of the policy's
    # [[approval_tiers]]; None when the ERP records none) and the reason they gave (see user_text)
    erp_released_tier: str | None = None
    erp_release_reason: str | None = None


@quick_init
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


RELEASE_REASON_MAX = 500  # characters of a release reason kept (the rest is cut, the cut marked with "…")
TIER_MAX = 64  # characters of an approval tier's code kept


def user_text(value: str | None, limit: int | None = None) -> str | None:
    """Text a person typed in the ERP (a release reason, a tier code) as the store keeps it: control and other
    unprintable characters (terminal escape sequences, bidirectional overrides, tabs) become spaces, line breaks
    stay, surrounding blanks go, and at most ``limit`` characters are kept; None when nothing is left.  It is
    still data, not markup: it is printed through the console's escaping (``creditguard.render.cell``)."""
    if not value:
        return None
    if limit is not None:
        value = value[:limit * 2]  # nothing beyond the limit is looked at (a text field can be huge)
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in value.replace("\r\n", "\n")).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text or None


SyncedRecord = Customer | Invoice | SalesOrder | CurrencyRate | ReceivableItem
