"""Money arithmetic: ``Decimal`` only, rounded half-up to the currency's precision.

Currency precisions come from the CLDR data shipped with Babel (ISO 4217 minor
units).  A code Babel does not know is an :class:`UnknownCurrency` error, which
the sync engine turns into a quarantined record.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision, is_currency


class UnknownCurrency(ValueError):
    """A currency code that is not an ISO 4217 code."""

    def __init__(self, code: object) -> None:
        super().__init__(f"unknown currency {code!r}")
        self.code = code


@lru_cache(maxsize=512)
def currency_precision(code: str) -> int:
    """Number of decimal places of ``code`` (``USD`` → 2, ``JPY`` → 0, ``KWD`` → 3)."""
    if not isinstance(code, str) or len(code) != 3 or not code.isupper() or not is_currency(code):
        raise UnknownCurrency(code)
    return get_currency_precision(code)


@lru_cache(maxsize=512)
def exponent(code: str) -> Decimal:
    """The smallest unit of ``code`` as a Decimal exponent (``USD`` → ``0.01``), for ``quantize``."""
    return Decimal(1).scaleb(-currency_precision(code))


def to_decimal(value: object) -> Decimal:
    """Exact decimal of an ERP number.

    Floats (as Odoo sends monetary fields over XML-RPC and JSON) go through
    ``repr``, the shortest string that round-trips, never through binary
    expansion.  Booleans are refused: Odoo's ``False`` is "empty", not zero.
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise TypeError(f"not a number: {value!r}") from None
    else:
        raise TypeError(f"not a number: {value!r}")
    if not result.is_finite():
        raise TypeError(f"not a finite number: {value!r}")
    return result


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s precision."""
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def for_people(amount: Decimal, currency: str) -> str:
    """``amount`` as reasons, notes and summaries write it: ``1,234.50 USD`` (the currency's precision)."""
    return f"{quantize(amount, currency):,} {currency}"


def money(value: object, currency: str) -> Decimal:
    """An ERP number as a ``Decimal`` rounded to ``currency``'s precision; TypeError when it is not a
    number or too large to be one (more digits than decimal arithmetic carries, about 1e26)."""
    try:
        return quantize(to_decimal(value), currency)
    except InvalidOperation:
        raise TypeError(f"amount out of range: {value!r}") from None


_EXACT_MINOR = 2**49  # below this many minor units a float is at most a thousandth of a unit from its neighbours
_DECIMAL_LIMIT = 10**28  # decimal arithmetic's default precision: 28 digits
# code -> (exponent, places, 10 ** places, the same as a float): float_money and to_minor run per synced amount
_UNITS: dict[str, tuple[Decimal, int, int, float]] = {}


def _units(currency: str) -> tuple[Decimal, int, int, float]:
    try:
        return _UNITS[currency]
    except KeyError:
        places = currency_precision(currency)
        return _UNITS.setdefault(currency, (exponent(currency), places, 10**places, float(10**places)))


def float_money(value: float, currency: str) -> Decimal:
    """A finite float amount, as an ERP's JSON or XML-RPC carries it, as the ``Decimal`` it stands for rounded
    half-up to ``currency``'s precision: the same as ``money(value, currency)``.  An amount that is already at
    the currency's precision (every amount an ERP stores) is recognised without going through text: its minor
    units times the unit give back the same float, and then ``repr`` would have given those digits too."""
    quantum, places, _, scale = _units(currency)
    minor = round(value * scale)
    if -_EXACT_MINOR < minor < _EXACT_MINOR and minor / scale == value:
        return Decimal(minor).scaleb(-places)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units (cents) of ``amount``; ``amount`` is rounded first.  An amount already at the
    currency's precision (as every stored one is) is converted as a fraction, without rounding."""
    quantum, places, unit, _ = _units(currency)
    try:
        numerator, denominator = amount.as_integer_ratio()
    except (ValueError, OverflowError):  # not finite: quantize says so
        pass
    else:
        if unit % denominator == 0:
            minor = numerator * (unit // denominator)
            if -_DECIMAL_LIMIT < minor < _DECIMAL_LIMIT:  # beyond, quantize refuses it
                return minor
    return int(amount.quantize(quantum, ROUND_HALF_UP).scaleb(places))


def from_minor(minor: int, currency: str) -> Decimal:
    """The ``Decimal`` amount of ``minor`` units of ``currency``."""
    return quantize(Decimal(minor).scaleb(-currency_precision(currency)), currency)
