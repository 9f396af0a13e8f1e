"""The facts of a check as the ERP sends them (``POST /v1/check``, ``creditguard check --order-id ...``).

    {"source": "odoo", "event": "confirm",
     "order": {"erp_id": "42", "reference": "S00042", "state": "draft", "date": "2026-12-02", "type": "sale",
               "company_id": "1", "currency": "USD", "amount_total": "9000000.00",
               "amount_uninvoiced": "9000000.00"},
     "customer": {"erp_id": "57", "name": "Jane Buyer", "commercial_erp_id": "56",
                  "commercial_name": "New Buyer Inc", "commercial_ref": "C00056",
                  "credit_limit": "0", "credit_limit_currency": "USD"}}

``event``: ``check`` (the default: decide and log) or ``confirm`` (the order is being confirmed: decided one
at a time per credit group; an approval reserves its amount, a hold is registered).  Bad input is a
:class:`RequestError` naming the field: 400 when a fact is missing or malformed, 422 when the facts
contradict each other or cannot be decided on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.domain import OrderState
from connector.live_checks import LiveCustomer, LiveOrder
from connector.money import UnknownCurrency, currency_precision

STATES = {"draft": OrderState.DRAFT, "sent": OrderState.SENT, "sale": OrderState.CONFIRMED,
          "confirmed": OrderState.CONFIRMED, "done": OrderState.DONE, "cancel": OrderState.CANCELLED,
          "cancelled": OrderState.CANCELLED}
EVENTS = ("check", "confirm")
AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII digits only: no "1_000", no other scripts' digits, no exponent
AMOUNT_CHARS = 40  # longer strings are not an amount (15 digits, a point and decimals fit many times over)
LARGEST = Decimal("1e15")  # more than any order: larger numbers are a mistake, not an order
MAX_PLACES = 6  # decimals allowed where the currency is not known (the currency's own check rejects it later)
ORDER_KEYS = {"erp_id", "reference", "state", "date", "type", "company_id", "currency", "amount_total",
              "amount_uninvoiced", "project"}
CUSTOMER_KEYS = {"erp_id", "name", "commercial_erp_id", "commercial_name", "commercial_ref", "credit_limit",
                 "credit_limit_currency"}


class RequestError(Exception):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status, self.field, self.message = status, field, message


@dataclass(frozen=True, slots=True)
class CheckRequest:
    order: LiveOrder
    customer: LiveCustomer
    confirm: bool


def is_facts_request(body: dict[str, Any]) -> bool:
    """The new form names the order by an object of facts; the old one by its reference (a string)."""
    return isinstance(body.get("order"), dict)


def parse_check_request(body: dict[str, Any], sources: set[str] | None = None) -> CheckRequest:
    _no_other_keys(body, {"source", "event", "order", "customer"}, "")
    source = _text(body, "source", "source")
    if sources is not None and source not in sources:
        raise RequestError(422, "source", f"{source!r} is not a configured source ({', '.join(sorted(sources))})")
    event = body.get("event", "check")
    if event not in EVENTS:
        raise RequestError(400, "event", f"expected one of {', '.join(EVENTS)}, not {event!r}")
    o = _object(body, "order")
    c = _object(body, "customer")
    _no_other_keys(o, ORDER_KEYS, "order.")
    _no_other_keys(c, CUSTOMER_KEYS, "customer.")
    state_name = _text(o, "state", "order.state")
    if state_name not in STATES:
        raise RequestError(400, "order.state", f"expected one of {', '.join(STATES)}, not {state_name!r}")
    currency = _currency(o, "currency", "order.currency")
    total = _amount(o, "amount_total", "order.amount_total", currency)
    uninvoiced = _amount(o, "amount_uninvoiced", "order.amount_uninvoiced", currency) \
        if "amount_uninvoiced" in o else total
    if uninvoiced > total:
        raise RequestError(422, "order.amount_uninvoiced",
                           f"{uninvoiced} is more than the order's total {total}")
    state = STATES[state_name]
    if state is OrderState.CANCELLED:
        raise RequestError(422, "order.state", "the order is cancelled: there is nothing to decide")
    order = LiveOrder(source=source, erp_id=_text(o, "erp_id", "order.erp_id"),
                      number=_text(o, "reference", "order.reference"), state=state, currency=currency,
                      amount_total=total, amount_uninvoiced=uninvoiced,
                      company_id=_optional_text(o, "company_id", "order.company_id"),
                      order_date=_date(o, "date", "order.date"),
                      order_type=_optional_text(o, "type", "order.type"),
                      project=_optional_text(o, "project", "order.project"))
    erp_id = _text(c, "erp_id", "customer.erp_id")
    name = _text(c, "name", "customer.name")
    limit_currency = _currency(c, "credit_limit_currency", "customer.credit_limit_currency") \
        if c.get("credit_limit_currency") is not None else None
    limit = _amount(c, "credit_limit", "customer.credit_limit", limit_currency) \
        if c.get("credit_limit") is not None else None
    if limit and limit_currency is None:
        raise RequestError(400, "customer.credit_limit_currency", "required with a credit_limit")
    customer = LiveCustomer(
        erp_id=erp_id, name=name,
        commercial_erp_id=_optional_text(c, "commercial_erp_id", "customer.commercial_erp_id") or erp_id,
        commercial_name=_optional_text(c, "commercial_name", "customer.commercial_name") or name,
        commercial_ref=_optional_text(c, "commercial_ref", "customer.commercial_ref"),
        credit_limit=limit, credit_limit_currency=limit_currency)
    return CheckRequest(order, customer, event == "confirm")


def _no_other_keys(data: dict[str, Any], known: set[str], prefix: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise RequestError(400, f"{prefix}{unknown[0]}", f"unknown field (known: {', '.join(sorted(known))})")


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise RequestError(400, key, "expected an object of facts")
    return value


def _text(data: dict[str, Any], key: str, field: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and key.endswith(("erp_id", "company_id")):
        value = str(value)  # ERP ids may come as numbers
    if not isinstance(value, str) or not value.strip():
        raise RequestError(400, field, "required: a non-empty string")
    if len(value) > 200 or not value.isprintable():
        raise RequestError(400, field, "expected printable text of at most 200 characters")
    return value.strip()


def _optional_text(data: dict[str, Any], key: str, field: str) -> str | None:
    value = data.get(key)
    return None if value is None or value is False or value == "" else _text(data, key, field)


def _amount(data: dict[str, Any], key: str, field: str, currency: str | None) -> Decimal:
    places = currency_precision(currency) if currency else MAX_PLACES
    return parse_amount(data.get(key), field, places, currency=currency)


def parse_amount(value: Any, field: str, places: int = MAX_PLACES, *, currency: str | None = None,
                 semantic_status: int = 422) -> Decimal:
    """An amount of money as a request gives it: a string of ASCII digits with an optional sign and decimal
    point (no exponent, no ``_``, no other scripts' digits) or a JSON number (an exponent is fine when the value
    is), finite, ``|x| < 1e15``, with at most ``places`` decimals (trailing zeros aside).  Anything else is a
    :class:`RequestError` naming ``field``: 400 when it is not an amount, ``semantic_status`` when it is one
    that no order can have (negative, too large)."""
    if value is None:
        raise RequestError(400, field, 'required: a decimal amount, e.g. "1250.00"')
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise RequestError(400, field, 'not a decimal amount: expected a string such as "1250.00" or a number')
    if isinstance(value, str):
        text = value.strip()
        if len(text) > AMOUNT_CHARS or not AMOUNT.fullmatch(text):
            shown = repr(text[:AMOUNT_CHARS]) + ("..." if len(text) > AMOUNT_CHARS else "")
            raise RequestError(400, field, f'not a decimal amount: {shown} (ASCII digits, an optional "." and '
                                           f'decimals, e.g. "1250.00")')
        amount = Decimal(text)
    elif isinstance(value, int):  # compared as a number: str() of a huge int is slow, and refused past 4300 digits
        amount = Decimal(value) if -LARGEST < value < LARGEST else Decimal(-1 if value < 0 else 1).scaleb(99)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        amount = value
    if not amount.is_finite():
        raise RequestError(400, field, "not a decimal amount: not a finite number")
    if amount < 0:
        raise RequestError(semantic_status, field, "must not be negative")
    if amount >= LARGEST:
        raise RequestError(semantic_status, field, f"out of range: an amount must be less than {LARGEST:,.0f}")
    quantum = Decimal(1).scaleb(-places)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -places:
        rounded = amount.quantize(quantum)
        if rounded != amount:
            raise RequestError(400, field, f"not a decimal amount: more than {places} decimals"
                                           + (f" ({currency} has {places})" if currency else ""))
        amount = rounded
    elif exponent > 0:
        amount = amount.quantize(Decimal(1))
    return amount if amount else abs(amount)  # no "-0"


def _currency(data: dict[str, Any], key: str, field: str) -> str:
    code = _text(data, key, field)
    try:
        currency_precision(code)
    except UnknownCurrency:
        raise RequestError(422, field, f"unknown currency {code!r} (an ISO 4217 code such as USD)") from None
    return code


def _date(data: dict[str, Any], key: str, field: str) -> date | None:
    value = data.get(key)
    if value is None or value is False:
        return None
    if not isinstance(value, str):
        raise RequestError(400, field, "expected a date YYYY-MM-DD")
    try:
        return datetime.fromisoformat(value.strip()).date() if len(value.strip()) > 10 \
            else date.fromisoformat(value.strip())
    except ValueError:
        raise RequestError(400, field, f"{value[:40]!r} is not a date YYYY-MM-DD") from None
