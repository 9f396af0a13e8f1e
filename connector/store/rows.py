"""Conversion between domain records and table rows (pure functions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain import (
    Customer,
    CurrencyRate,
    Invoice,
    InvoiceKind,
    InvoiceState,
    OrderState,
    PaymentState,
    ReceivableItem,
    ReceivableKind,
    SalesOrder,
    SyncedRecord,
)
from ..money import from_minor, to_minor
from ..ports import Stream

STREAM_OF_TYPE: dict[type, Stream] = {
    Customer: Stream.CUSTOMERS,
    Invoice: Stream.INVOICES,
    SalesOrder: Stream.ORDERS,
    CurrencyRate: Stream.CURRENCY_RATES,
    ReceivableItem: Stream.RECEIVABLES,
}


# The columns of each synced table that hold what the ERP said, in the order :func:`content_values` gives
# them (after them: synced_at, seen_run, deleted_at).  A record read again is unchanged when these are.
CONTENT_COLUMNS: dict[type, tuple[str, ...]] = {
    Customer: ("erp_id", "ref", "name", "credit_group_id", "company_id", "country", "vat", "is_company", "parent_id",
               "credit_limit_minor", "credit_limit_currency", "active", "risk_category", "credit_blocked",
               "lang", "registry", "changed_at"),
    Invoice: ("erp_id", "number", "customer_id", "credit_group_id", "kind", "state", "payment_state", "invoice_date",
              "due_date", "currency", "amount_total_minor", "amount_open_minor", "company_id", "company_currency",
              "amount_total_company_minor", "amount_open_company_minor", "origin", "changed_at"),
    SalesOrder: ("erp_id", "number", "customer_id", "state", "locked", "order_date", "currency", "amount_total_minor",
                 "amount_uninvoiced_minor", "company_id", "project", "erp_hold", "erp_released_at", "erp_released_by",
                 "erp_released_tier", "erp_release_reason", "changed_at"),
    CurrencyRate: ("erp_id", "currency", "company_id", "day", "rate", "changed_at"),
    ReceivableItem: ("erp_id", "kind", "document_id", "document_number", "customer_id", "credit_group_id", "state",
                     "document_date", "due_date", "currency", "amount_open_minor", "company_id", "company_currency",
                     "amount_open_company_minor", "amount_company_minor", "paid_on", "changed_at"),
}


def _customer(r: Customer) -> tuple:
    limit = (to_minor(r.credit_limit, r.credit_limit_currency)
             if r.credit_limit is not None and r.credit_limit_currency else None)
    return (r.erp_id, r.ref, r.name, r.credit_group_id, r.company_id, r.country, r.vat, r.is_company, r.parent_id,
            limit, r.credit_limit_currency, r.active, r.risk_category, r.credit_blocked, r.lang, r.registry,
            r.changed_at)


def _invoice(r: Invoice) -> tuple:
    currency, company_currency = r.currency, r.company_currency
    return (r.erp_id, r.number, r.customer_id, r.credit_group_id, r.kind._value_, r.state._value_,
            r.payment_state._value_, r.invoice_date, r.due_date, currency, to_minor(r.amount_total, currency),
            to_minor(r.amount_open, currency), r.company_id, company_currency,
            to_minor(r.amount_total_company, company_currency), to_minor(r.amount_open_company, company_currency),
            r.origin, r.changed_at)


def _order(r: SalesOrder) -> tuple:
    return (r.erp_id, r.number, r.customer_id, r.state._value_, r.locked, r.order_date, r.currency,
            to_minor(r.amount_total, r.currency), to_minor(r.amount_uninvoiced, r.currency), r.company_id, r.project,
            r.erp_hold, r.erp_released_at, r.erp_released_by, r.erp_released_tier, r.erp_release_reason, r.changed_at)


def _rate(r: CurrencyRate) -> tuple:
    return (r.erp_id, r.currency, r.company_id, r.day, str(r.rate), r.changed_at)


def _item(r: ReceivableItem) -> tuple:
    return (r.erp_id, r.kind._value_, r.document_id, r.document_number, r.customer_id, r.credit_group_id,
            r.state._value_, r.document_date, r.due_date, r.currency, to_minor(r.amount_open, r.currency), r.company_id,
            r.company_currency, to_minor(r.amount_open_company, r.company_currency),
            None if r.amount_company is None else to_minor(r.amount_company, r.company_currency), r.paid_on,
            r.changed_at)


_VALUES = {Customer: _customer, Invoice: _invoice, SalesOrder: _order, CurrencyRate: _rate, ReceivableItem: _item}


def content_values(record: SyncedRecord) -> tuple:
    """What the ERP told us about ``record``, as the values of :data:`CONTENT_COLUMNS` (money in minor units)."""
    try:
        return _VALUES[type(record)](record)
    except KeyError:  # pragma: no cover - guarded by the type union
        raise TypeError(f"not a synced record: {record!r}") from None


def row_to_customer(row: Any) -> Customer:
    return Customer(
        source=row.source,
        erp_id=row.erp_id,
        ref=row.ref,
        name=row.name,
        credit_group_id=row.credit_group_id,
        company_id=row.company_id,
        country=row.country,
        vat=row.vat,
        is_company=bool(row.is_company),
        parent_id=row.parent_id,
        credit_limit=(
            from_minor(row.credit_limit_minor, row.credit_limit_currency)
            if row.credit_limit_minor is not None
            else None
        ),
        credit_limit_currency=row.credit_limit_currency,
        active=bool(row.active),
        changed_at=row.changed_at,
        risk_category=row.risk_category,
        credit_blocked=bool(row.credit_blocked),
        lang=row.lang,
        registry=row.registry,
    )


def row_to_invoice(row: Any) -> Invoice:
    return Invoice(
        source=row.source,
        erp_id=row.erp_id,
        number=row.number,
        customer_id=row.customer_id,
        credit_group_id=row.credit_group_id,
        kind=InvoiceKind(row.kind),
        state=InvoiceState(row.state),
        payment_state=PaymentState(row.payment_state),
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        currency=row.currency,
        amount_total=from_minor(row.amount_total_minor, row.currency),
        amount_open=from_minor(row.amount_open_minor, row.currency),
        company_id=row.company_id,
        company_currency=row.company_currency,
        amount_total_company=from_minor(row.amount_total_company_minor, row.company_currency),
        amount_open_company=from_minor(row.amount_open_company_minor, row.company_currency),
        changed_at=row.changed_at,
        origin=row.origin,
    )


def row_to_order(row: Any) -> SalesOrder:
    return SalesOrder(
        source=row.source,
        erp_id=row.erp_id,
        number=row.number,
        customer_id=row.customer_id,
        state=OrderState(row.state),
        locked=bool(row.locked),
        order_date=row.order_date,
        currency=row.currency,
        amount_total=from_minor(row.amount_total_minor, row.currency),
        amount_uninvoiced=from_minor(row.amount_uninvoiced_minor, row.currency),
        company_id=row.company_id,
        changed_at=row.changed_at,
        project=row.project,
        erp_hold=row.erp_hold,
        erp_released_at=row.erp_released_at,
        erp_released_by=row.erp_released_by,
        erp_released_tier=row.erp_released_tier,
        erp_release_reason=row.erp_release_reason,
    )


def row_to_rate(row: Any) -> CurrencyRate:
    return CurrencyRate(
        source=row.source,
        erp_id=row.erp_id,
        currency=row.currency,
        company_id=row.company_id,
        day=row.day,
        rate=Decimal(row.rate),
        changed_at=row.changed_at,
    )


def row_to_item(row: Any) -> ReceivableItem:
    return ReceivableItem(
        source=row.source,
        erp_id=row.erp_id,
        kind=ReceivableKind(row.kind),
        document_id=row.document_id,
        document_number=row.document_number,
        customer_id=row.customer_id,
        credit_group_id=row.credit_group_id,
        state=InvoiceState(row.state),
        document_date=row.document_date,
        due_date=row.due_date,
        currency=row.currency,
        amount_open=from_minor(row.amount_open_minor, row.currency),
        company_id=row.company_id,
        company_currency=row.company_currency,
        amount_open_company=from_minor(row.amount_open_company_minor, row.company_currency),
        changed_at=row.changed_at,
        amount_company=(None if row.amount_company_minor is None
                        else from_minor(row.amount_company_minor, row.company_currency)),
        paid_on=row.paid_on,
    )
