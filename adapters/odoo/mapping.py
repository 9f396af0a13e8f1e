"""Pure functions from raw Odoo records to domain records.

Odoo's quirks stop here: ``False`` for empty, many2one as ``[id, name]``, naive
UTC datetime strings, floats for money, credit notes with positive amounts and
negative ``_signed`` amounts.  Anything that does not fit raises
:class:`~connector.errors.BadRecord` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from connector.domain import (
    RELEASE_REASON_MAX,
    TIER_MAX,
    Company,
    CurrencyRate,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceState,
    OrderState,
    PaymentState,
    ReceivableItem,
    ReceivableKind,
    SalesOrder,
    user_text,
)
from connector.errors import BadRecord
from connector.money import UnknownCurrency, currency_precision, float_money, money, to_decimal

MOVE_KINDS = {"out_invoice": InvoiceKind.INVOICE, "out_refund": InvoiceKind.CREDIT_NOTE}
MOVE_STATES = {"draft": InvoiceState.DRAFT, "posted": InvoiceState.POSTED, "cancel": InvoiceState.CANCELLED}
PAYMENT_STATES = {s.value: s for s in PaymentState}
# the kind of a receivable item by its document's type: invoices (and sales receipts) have instalments, a credit
# note's item is its open credit, anything else (a payment on account, a miscellaneous entry) is a payment
ITEM_KINDS = {"out_invoice": ReceivableKind.INSTALMENT, "out_receipt": ReceivableKind.INSTALMENT,
              "out_refund": ReceivableKind.CREDIT_NOTE}
ORDER_STATES = {
    "draft": OrderState.DRAFT,
    "sent": OrderState.SENT,
    "sale": OrderState.CONFIRMED,
    "done": OrderState.DONE,  # Odoo 16 and older: a locked confirmed order
    "cancel": OrderState.CANCELLED,
}


_KNOWN_CURRENCIES: set[str] = set()  # codes already checked to be ISO 4217
_ZERO = Decimal(0)
_LARGEST = 1e20  # floats below this quantize to any currency's precision (larger ones take the checked path)


@lru_cache(maxsize=4096)
def _timestamp(value: str) -> datetime:
    """Odoo's ``'YYYY-MM-DD HH:MM:SS'`` (naive UTC) as an aware datetime; cached, as thousands of records
    written in one transaction share it."""
    if len(value) != 19 or value[10] != " ":
        raise ValueError(value)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def _day(value: str) -> date:
    if len(value) != 10:
        raise ValueError(value)
    return date.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class MappingContext:
    """What a mapper needs besides the raw record."""

    source: str
    model: str
    default_currency: str  # currency of the company in whose context company-dependent fields are read


class _Reader:
    """Typed access to one raw record; every failure names the model, id and field."""

    def __init__(self, model: str, raw: dict[str, Any]) -> None:
        self.model = model
        self.raw = raw
        self.erp_id = str(raw.get("id", "?"))

    def bad(self, field: str, reason: str) -> BadRecord:
        return BadRecord(self.model, self.erp_id, f"field {field!r}: {reason}")

    def get(self, field: str) -> Any:
        try:
            return self.raw[field]
        except KeyError:
            raise BadRecord(self.model, self.erp_id, f"missing field {field!r}") from None

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = self.get(field)
        if value is False or value is None or value == "":
            if required:
                raise self.bad(field, "is empty")
            return None
        if not isinstance(value, str):
            raise self.bad(field, f"expected text, got {value!r}")
        return value

    def boolean(self, field: str) -> bool:
        value = self.get(field)
        if not isinstance(value, bool):
            raise self.bad(field, f"expected true/false, got {value!r}")
        return value

    def many2one(self, field: str, *, required: bool = False) -> tuple[str, str] | None:
        value = self.get(field)
        if type(value) is list and len(value) == 2 and type(value[0]) is int:  # the common case, fast
            return str(value[0]), str(value[1])
        if value is False or value is None:
            if required:
                raise self.bad(field, "is empty")
            return None
        if (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and isinstance(value[0], int)
            and not isinstance(value[0], bool)
        ):
            return str(value[0]), str(value[1])
        raise self.bad(field, f"expected [id, name], got {value!r}")

    def many2one_id(self, field: str, *, required: bool = False) -> str | None:
        pair = self.many2one(field, required=required)
        return pair[0] if pair else None

    def currency(self, field: str) -> str:
        pair = self.many2one(field, required=True)
        assert pair is not None
        code = pair[1]
        if code not in _KNOWN_CURRENCIES:
            try:
                currency_precision(code)
            except UnknownCurrency:
                raise self.bad(field, f"unknown currency {code!r}") from None
            _KNOWN_CURRENCIES.add(code)
        return code

    def amount(self, field: str, currency: str) -> Decimal:
        value = self.get(field)
        if (plain := _plain_money(value, currency)) is not None:  # the common case
            return plain
        try:
            return money(value, currency)
        except TypeError:
            raise self.bad(field, f"expected a number, got {value!r}") from None

    def number(self, field: str) -> Decimal:
        value = self.get(field)
        try:
            return to_decimal(value)
        except TypeError:
            raise self.bad(field, f"expected a number, got {value!r}") from None

    def day(self, field: str, *, required: bool = False) -> date | None:
        value = self.get(field)
        if value is False or value is None:
            if required:
                raise self.bad(field, "is empty")
            return None
        try:
            return _day(value)
        except (TypeError, ValueError):
            raise self.bad(field, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def timestamp(self, field: str, *, required: bool = False) -> datetime | None:
        value = self.get(field)
        if value is False or value is None:
            if required:
                raise self.bad(field, "is empty")
            return None
        try:
            return _timestamp(value)
        except (TypeError, ValueError):
            raise self.bad(field, f"expected a UTC datetime 'YYYY-MM-DD HH:MM:SS', got {value!r}") from None

    def choice(self, field: str, choices: dict[str, Any]) -> Any:
        value = self.get(field)
        if not isinstance(value, str) or value not in choices:
            raise self.bad(field, f"unexpected value {value!r} (known: {', '.join(sorted(choices))})")
        return choices[value]

    def record_id(self) -> str:
        value = self.get("id")
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.bad("id", f"expected an integer, got {value!r}")
        return str(value)


def record_key(raw: dict[str, Any]) -> tuple[datetime, int] | None:
    """(write_date, id) of a raw record, or None when either is unusable."""
    try:
        return _timestamp(raw["write_date"]), int(raw["id"])
    except (KeyError, TypeError, ValueError):
        return None


def map_company(ctx: MappingContext, raw: dict[str, Any]) -> Company:
    r = _Reader(ctx.model, raw)
    return Company(source=ctx.source, erp_id=r.record_id(), name=r.text("name", required=True) or "",
                   currency=r.currency("currency_id"))


def map_partner(ctx: MappingContext, raw: dict[str, Any]) -> Customer:
    r = _Reader(ctx.model, raw)
    erp_id = r.record_id()
    limit = r.number("credit_limit")
    if limit < 0:
        raise r.bad("credit_limit", f"negative credit limit {limit}")
    country = r.text("country_code")
    return Customer(
        source=ctx.source,
        erp_id=erp_id,
        ref=r.text("ref"),
        name=r.text("name") or r.text("display_name") or f"#{erp_id}",
        credit_group_id=r.many2one_id("commercial_partner_id") or erp_id,
        company_id=r.many2one_id("company_id"),
        country=country.upper() if country else None,
        vat=r.text("vat"),
        is_company=r.boolean("is_company"),
        parent_id=r.many2one_id("parent_id"),
        # Odoo's 0 means "no limit set"
        credit_limit=r.amount("credit_limit", ctx.default_currency) if limit else None,
        credit_limit_currency=ctx.default_currency if limit else None,
        active=r.boolean("active"),
        changed_at=r.timestamp("write_date", required=True),  # type: ignore[arg-type]
        lang=r.text("lang") if "lang" in raw else None,
        registry=r.text("company_registry") if "company_registry" in raw else None,
    )


def _many2one_id(value: Any) -> str | None:
    """The id of a well-formed many2one ``[id, name]``, else None."""
    if type(value) is list and len(value) == 2 and type(value[0]) is int:
        return str(value[0])
    return None


def _currency_pair(value: Any) -> str | None:
    if type(value) is list and len(value) == 2 and type(value[0]) is int and value[1] in _KNOWN_CURRENCIES:
        return value[1]
    return None


def _plain_money(value: Any, currency: str) -> Decimal | None:
    if type(value) is float and -_LARGEST < value < _LARGEST:  # neither infinite nor NaN
        return float_money(value, currency)
    return None


def _company_money(signed: Any, unsigned: float, amount: Decimal, currency: str, company_currency: str) -> Decimal | None:
    """The unsigned company-currency amount of a document from its signed field; the document-currency
    ``amount`` itself when the two are the same number in the same currency (most documents)."""
    if company_currency == currency and type(signed) is float and (signed == unsigned or signed == -unsigned):
        return amount
    value = _plain_money(signed, company_currency)
    return None if value is None else abs(value)


def _move_fast(ctx: MappingContext, raw: dict[str, Any]) -> Invoice | None:
    """A well-formed posted document, mapped without the reader's bookkeeping; None when anything is out
    of the ordinary (the reader then maps it, or names the bad field).  Accepts nothing the reader refuses."""
    try:
        erp_id, name = raw["id"], raw["name"]
        currency = _currency_pair(raw["currency_id"])
        company_currency = _currency_pair(raw["company_currency_id"])
        partner, commercial = _many2one_id(raw["partner_id"]), raw["commercial_partner_id"]
        company = _many2one_id(raw["company_id"])
        kind, state = MOVE_KINDS[raw["move_type"]], MOVE_STATES[raw["state"]]
        payment_state = PAYMENT_STATES[raw["payment_state"]]
        invoice_date, due, written = raw["invoice_date"], raw["invoice_date_due"], raw["write_date"]
        origin = raw.get("invoice_origin", None)
        if (type(erp_id) is not int or type(name) is not str or not name or currency is None
                or company_currency is None or partner is None or company is None
                or type(invoice_date) is not str or type(due) is not str or type(written) is not str
                or (origin is not None and origin is not False and type(origin) is not str)):
            return None
        total = _plain_money(raw["amount_total"], currency)
        open_amount = _plain_money(raw["amount_residual"], currency)
        if total is None or open_amount is None or total < 0 or open_amount < 0:
            return None
        total_company = _company_money(raw["amount_total_signed"], raw["amount_total"], total, currency,
                                       company_currency)
        open_company = _company_money(raw["amount_residual_signed"], raw["amount_residual"], open_amount, currency,
                                      company_currency)
        if total_company is None or open_company is None:
            return None
        group = _many2one_id(commercial) if commercial is not False else None
        if commercial is not False and group is None:
            return None
        return Invoice(ctx.source, str(erp_id), name, partner, group or partner, kind, state,
                       payment_state, _day(invoice_date), _day(due), currency, total, open_amount, company,
                       company_currency, total_company, open_company, _timestamp(written),
                       (origin or None) if "invoice_origin" in raw else None)
    except (KeyError, TypeError, ValueError):
        return None


def map_move(ctx: MappingContext, raw: dict[str, Any]) -> Invoice:
    return _move_fast(ctx, raw) or _move_checked(ctx, raw)


def _move_checked(ctx: MappingContext, raw: dict[str, Any]) -> Invoice:
    r = _Reader(ctx.model, raw)
    erp_id = r.record_id()
    currency = r.currency("currency_id")
    company_currency = r.currency("company_currency_id")
    customer = r.many2one_id("partner_id", required=True)
    assert customer is not None
    total = r.amount("amount_total", currency)
    open_amount = r.amount("amount_residual", currency)
    if total < 0 or open_amount < 0:
        raise r.bad("amount_residual", f"negative document amount (total {total}, open {open_amount})")
    return Invoice(
        source=ctx.source,
        erp_id=erp_id,
        number=r.text("name", required=True) or "",
        customer_id=customer,
        credit_group_id=r.many2one_id("commercial_partner_id") or customer,
        kind=r.choice("move_type", MOVE_KINDS),
        state=r.choice("state", MOVE_STATES),
        payment_state=r.choice("payment_state", PAYMENT_STATES),
        invoice_date=r.day("invoice_date"),
        due_date=r.day("invoice_date_due"),
        currency=currency,
        amount_total=total,
        amount_open=open_amount,
        company_id=r.many2one_id("company_id", required=True) or "",
        company_currency=company_currency,
        # the _signed fields are in company currency, negative for credit notes
        amount_total_company=abs(r.amount("amount_total_signed", company_currency)),
        amount_open_company=abs(r.amount("amount_residual_signed", company_currency)),
        changed_at=r.timestamp("write_date", required=True),  # type: ignore[arg-type]
        origin=r.text("invoice_origin") if "invoice_origin" in raw else None,
    )


def map_receivable_line(ctx: MappingContext, raw: dict[str, Any]) -> ReceivableItem:
    """A receivable journal item (``account.move.line``): an instalment of an invoice, a credit note's credit, an
    unapplied payment.  ``amount_residual`` is in company currency and ``amount_residual_currency`` in the item's
    currency, both signed (credits negative), as the ledger keeps them; the partner is the commercial partner
    (Odoo sets it so on receivable items): it is the credit group."""
    r = _Reader(ctx.model, raw)
    erp_id = r.record_id()
    currency = r.currency("currency_id")
    company_currency = r.currency("company_currency_id")
    customer = r.many2one_id("partner_id", required=True)
    assert customer is not None
    move = r.many2one("move_id", required=True)
    assert move is not None
    move_type = r.text("move_type") or "entry"
    return ReceivableItem(
        source=ctx.source,
        erp_id=erp_id,
        kind=ITEM_KINDS.get(move_type, ReceivableKind.PAYMENT),
        document_id=move[0],
        document_number=r.text("move_name") or move[1],
        customer_id=customer,
        credit_group_id=customer,
        state=r.choice("parent_state", MOVE_STATES),
        document_date=r.day("date"),
        due_date=r.day("date_maturity"),
        currency=currency,
        amount_open=r.amount("amount_residual_currency", currency),
        company_id=r.many2one_id("company_id", required=True) or "",
        company_currency=company_currency,
        amount_open_company=r.amount("amount_residual", company_currency),
        changed_at=r.timestamp("write_date", required=True),  # type: ignore[arg-type]
        amount_company=r.amount("balance", company_currency) if "balance" in raw else None,
        paid_on=r.day("paid_on") if "paid_on" in raw else None,  # set by the source from the item's reconciliations (settled in full only)
    )


def _order_fast(ctx: MappingContext, raw: dict[str, Any]) -> SalesOrder | None:
    """A well-formed order without the project and hold fields (see :func:`_move_fast`)."""
    if "analytic_account_id" in raw or "credit_hold" in raw or "credit_released_at" in raw \
            or "credit_released_by" in raw or "credit_released_tier" in raw or "credit_release_reason" in raw:
        return None
    try:
        erp_id, name, written, ordered = raw["id"], raw["name"], raw["write_date"], raw["date_order"]
        currency = _currency_pair(raw["currency_id"])
        partner, company = _many2one_id(raw["partner_id"]), _many2one_id(raw["company_id"])
        state = ORDER_STATES[raw["state"]]
        locked = raw["locked"] if "locked" in raw else state is OrderState.DONE
        if (type(erp_id) is not int or type(name) is not str or not name or currency is None or partner is None
                or company is None or type(written) is not str or type(ordered) is not str or type(locked) is not bool):
            return None
        total = _plain_money(raw["amount_total"], currency)
        invoiced = _plain_money(raw["amount_invoiced"], currency)
        if total is None or invoiced is None:
            return None
        uninvoiced = min(max(total - invoiced, _ZERO), max(total, _ZERO))
        return SalesOrder(ctx.source, str(erp_id), name, partner, state, locked, _timestamp(ordered), currency,
                          total, uninvoiced, company, _timestamp(written))
    except (KeyError, TypeError, ValueError):
        return None


def map_order(ctx: MappingContext, raw: dict[str, Any]) -> SalesOrder:
    return _order_fast(ctx, raw) or _order_checked(ctx, raw)


def _order_checked(ctx: MappingContext, raw: dict[str, Any]) -> SalesOrder:
    r = _Reader(ctx.model, raw)
    currency = r.currency("currency_id")
    state = r.choice("state", ORDER_STATES)
    total = r.amount("amount_total", currency)
    invoiced = r.amount("amount_invoiced", currency)
    # Odoo 19's amount_to_invoice counts delivered quantities only and is not stored;
    # total − invoiced is the un-invoiced part of the order on every version.
    uninvoiced = min(max(total - invoiced, Decimal(0)), max(total, Decimal(0)))
    locked = r.boolean("locked") if "locked" in raw else state is OrderState.DONE
    customer = r.many2one_id("partner_id", required=True)
    return SalesOrder(
        source=ctx.source,
        erp_id=r.record_id(),
        number=r.text("name", required=True) or "",
        customer_id=customer or "",
        state=state,
        locked=locked,
        order_date=r.timestamp("date_order"),
        currency=currency,
        amount_total=total,
        amount_uninvoiced=uninvoiced,
        company_id=r.many2one_id("company_id", required=True) or "",
        changed_at=r.timestamp("write_date", required=True),  # type: ignore[arg-type]
        project=_project(r) if "analytic_account_id" in raw else None,
        erp_hold=r.boolean("credit_hold") if "credit_hold" in raw else None,
        erp_released_at=r.timestamp("credit_released_at") if "credit_released_at" in raw else None,
        erp_released_by=user_text((r.many2one("credit_released_by") or (None, None))[1])
        if "credit_released_by" in raw else None,
        # the addon's tiered release on (older versions of the addon have neither field)
        erp_released_tier=user_text(r.text("credit_released_tier"), TIER_MAX) if "credit_released_tier" in raw
        else None,
        erp_release_reason=user_text(r.text("credit_release_reason"), RELEASE_REASON_MAX)
        if "credit_release_reason" in raw else None,
    )


def _project(r: _Reader) -> str | None:
    pair = r.many2one("analytic_account_id")
    return pair[1] if pair else None


def map_rate(ctx: MappingContext, raw: dict[str, Any]) -> CurrencyRate:
    r = _Reader(ctx.model, raw)
    rate = r.number("rate")
    if rate <= 0:
        raise r.bad("rate", f"rate must be positive, got {rate}")
    return CurrencyRate(
        source=ctx.source,
        erp_id=r.record_id(),
        currency=r.currency("currency_id"),
        company_id=r.many2one_id("company_id"),
        day=r.day("name", required=True),  # type: ignore[arg-type]
        rate=rate,
        changed_at=r.timestamp("write_date", required=True),  # type: ignore[arg-type]
    )
