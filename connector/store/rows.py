"""Conversion between domain records and table rows (pure functions)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime
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
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    return value


def content_hash(record: SyncedRecord) -> str:
    """A stable hash of everything the ERP told us about ``record``."""
    data = {k: _jsonable(v) for k, v in asdict(record).items()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def record_to_row(record: SyncedRecord, model: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": record.source,
        "erp_model": model,
        "erp_id": record.erp_id,
        "changed_at": record.changed_at,
        "content_hash": content_hash(record),
    }
    if isinstance(record, Customer):
        row.update(
            ref=record.ref,
            name=record.name,
            credit_group_id=record.credit_group_id,
            company_id=record.company_id,
            country=record.country,
            vat=record.vat,
            is_company=record.is_company,
            parent_id=record.parent_id,
            credit_limit_minor=(
                to_minor(record.credit_limit, record.credit_limit_currency)
                if record.credit_limit is not None and record.credit_limit_currency
                else None
            ),
            credit_limit_currency=record.credit_limit_currency,
            active=record.active,
            risk_category=record.risk_category,
            credit_blocked=record.credit_blocked,
        )
    elif isinstance(record, Invoice):
        row.update(
            number=record.number,
            customer_id=record.customer_id,
            credit_group_id=record.credit_group_id,
            kind=record.kind.value,
            state=record.state.value,
            payment_state=record.payment_state.value,
            invoice_date=record.invoice_date,
            due_date=record.due_date,
            currency=record.currency,
            amount_total_minor=to_minor(record.amount_total, record.currency),
            amount_open_minor=to_minor(record.amount_open, record.currency),
            company_id=record.company_id,
            company_currency=record.company_currency,
            amount_total_company_minor=to_minor(record.amount_total_company, record.company_currency),
            amount_open_company_minor=to_minor(record.amount_open_company, record.company_currency),
            origin=record.origin,
        )
    elif isinstance(record, SalesOrder):
        row.update(
            number=record.number,
            customer_id=record.customer_id,
            state=record.state.value,
            locked=record.locked,
            order_date=record.order_date,
            currency=record.currency,
            amount_total_minor=to_minor(record.amount_total, record.currency),
            amount_uninvoiced_minor=to_minor(record.amount_uninvoiced, record.currency),
            company_id=record.company_id,
            project=record.project,
            erp_hold=record.erp_hold,
            erp_released_at=record.erp_released_at,
            erp_released_by=record.erp_released_by,
        )
    elif isinstance(record, CurrencyRate):
        row.update(
            currency=record.currency,
            company_id=record.company_id,
            day=record.day,
            rate=str(record.rate),
        )
    else:  # pragma: no cover - guarded by the type union
        raise TypeError(f"not a synced record: {record!r}")
    return row


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
