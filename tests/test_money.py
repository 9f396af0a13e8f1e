from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.money import (
    UnknownCurrency,
    currency_precision,
    float_money,
    from_minor,
    money,
    quantize,
    to_decimal,
    to_minor,
)

CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KWD", "CHF"]


def test_precisions_follow_iso_4217():
    assert currency_precision("USD") == 2
    assert currency_precision("JPY") == 0
    assert currency_precision("KWD") == 3


@pytest.mark.parametrize("code", ["XYZ", "usd", "US", "", None, 840])
def test_unknown_currency_is_refused(code):
    with pytest.raises(UnknownCurrency):
        currency_precision(code)


def test_floats_from_the_erp_are_read_through_repr_and_rounded_half_up():
    assert money(0.1 + 0.2, "USD") == Decimal("0.30")
    assert money(2.675, "USD") == Decimal("2.68")  # binary 2.67499999... would round down
    assert money(1234.5, "JPY") == Decimal("1235")
    assert money(36512.5, "USD") == Decimal("36512.50")


@pytest.mark.parametrize("value", [False, True, None, "abc", float("nan"), float("inf"), [1]])
def test_non_numbers_are_refused(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@given(
    st.decimals(min_value=-10**12, max_value=10**12, allow_nan=False, allow_infinity=False, places=4),
    st.sampled_from(CURRENCIES),
)
def test_minor_units_round_trip(amount, currency):
    rounded = quantize(amount, currency)
    assert from_minor(to_minor(amount, currency), currency) == rounded
    assert isinstance(to_minor(amount, currency), int)


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.sampled_from(CURRENCIES))
def test_money_from_float_is_the_shortest_decimal_rounded(value, currency):
    assert money(value, currency) == quantize(Decimal(repr(value)), currency)


def _same(fast: Decimal, reference: Decimal) -> bool:
    """Equal, at the same precision (a negative zero may lose its sign: it is zero)."""
    return fast == reference and fast.as_tuple().exponent == reference.as_tuple().exponent


@given(st.floats(min_value=-1e20, max_value=1e20, allow_nan=False), st.sampled_from(CURRENCIES))
def test_float_money_is_money_for_any_float(value, currency):
    assert _same(float_money(value, currency), money(value, currency))


@given(st.integers(min_value=-(2**52), max_value=2**52), st.sampled_from(CURRENCIES))
def test_float_money_is_money_for_the_amounts_erps_store(minor, currency):
    """Amounts at the currency's precision (what an ERP stores and sends as the nearest float), up to and beyond
    the largest one read without going through text."""
    value = float(Decimal(minor).scaleb(-currency_precision(currency)))
    assert _same(float_money(value, currency), money(value, currency))


@given(st.decimals(allow_nan=False, allow_infinity=False), st.sampled_from(CURRENCIES))
def test_minor_units_are_the_amount_rounded_half_up(amount, currency):
    places = currency_precision(currency)
    try:
        expected = int(amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP).scaleb(places))
    except InvalidOperation:
        with pytest.raises(InvalidOperation):
            to_minor(amount, currency)
    else:
        assert to_minor(amount, currency) == expected


def test_float_money_rounds_half_up_what_is_finer_than_the_currency():
    assert float_money(2.675, "USD") == Decimal("2.68")
    assert float_money(1234.5, "JPY") == Decimal("1235")
    assert float_money(0.0005, "KWD") == Decimal("0.001")
    assert str(float_money(-0.0, "USD")) == "0.00"


@given(
    st.lists(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
             max_size=50)
)
def test_sums_in_minor_units_equal_decimal_sums(amounts):
    assert from_minor(sum(to_minor(a, "USD") for a in amounts), "USD") == quantize(sum(amounts, Decimal(0)), "USD")
