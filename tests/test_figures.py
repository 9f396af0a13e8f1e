"""DSO by the countback method and the overdue ratio (connector.figures): the arithmetic, its bounds, the months."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from connector.figures import DAYS, Figures, Payments, add_months, countback, month_windows, ratio

D = Decimal
amounts = st.decimals(min_value=D("-100000"), max_value=D("1000000"), places=2, allow_nan=False,
                      allow_infinity=False)
months = st.lists(st.tuples(st.integers(min_value=28, max_value=31), amounts), min_size=1, max_size=12)


def test_countback_walks_back_month_by_month():
    # 30-day months, newest first: 1,000 then 2,000 then 4,000 of sales
    sales = [(30, D("1000")), (31, D("2000")), (30, D("4000"))]
    assert countback(D("500"), sales).days == D("15.0")  # half of the last month
    assert countback(D("1000"), sales).days == D("30.0")  # exactly the last month
    assert countback(D("2000"), sales).days == D("45.5")  # the last month and half of the one before
    assert countback(D("5000"), sales).days == D("76.0")  # 30 + 31, then 2,000 left of 4,000: 30 × 1/2
    full = countback(D("7000"), sales)
    assert (full.days, full.capped) == (D("91"), False)
    over = countback(D("7000.01"), sales)
    assert (over.days, over.capped, over.window_days) == (D("91"), True, 91)


def test_months_without_sales_count_whole():
    # nothing sold last month, more credit notes than invoices the month before: both explain nothing
    assert countback(D("100"), [(30, D("0")), (31, D("-50")), (30, D("200"))]).days == D("76.0")


@given(amounts, months)
def test_dso_lies_between_zero_and_the_window(receivable, sales):
    dso = countback(receivable, sales)
    window = sum(days for days, _ in sales)
    assert dso.window_days == window
    assert D(0) <= dso.days <= window
    assert dso.days == dso.days.quantize(DAYS)
    if receivable <= 0:  # no receivable (or a net credit): 0 days
        assert dso.days == 0 and not dso.capped
    if dso.capped:  # the window's sales do not explain the receivable: the window's length, said so
        assert dso.days == window and receivable > sum((a for _, a in sales if a > 0), D(0))
    else:
        assert receivable <= sum((a for _, a in sales if a > 0), D(0)) or receivable <= 0


@given(amounts, amounts, months)
def test_dso_grows_with_the_receivable(first, second, sales):
    low, high = sorted((first, second))
    assert countback(low, sales).days <= countback(high, sales).days


@given(st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2), st.integers(min_value=28, max_value=31))
def test_one_month_of_sales_outstanding_is_that_month(amount, days):
    assert countback(amount, [(days, amount), (30, amount)]).days == days


def test_month_windows_end_on_the_day_and_clamp_short_months():
    assert month_windows(date(2026, 12, 3), 3) == [
        (date(2026, 11, 4), date(2026, 12, 3)), (date(2026, 10, 4), date(2026, 11, 3)),
        (date(2026, 9, 4), date(2026, 10, 3))]
    # 31 March: February has 28 days in 2026
    assert month_windows(date(2026, 3, 31), 2) == [(date(2026, 3, 1), date(2026, 3, 31)),
                                                   (date(2026, 2, 1), date(2026, 2, 28))]
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(min_value=1, max_value=24))
def test_month_windows_are_contiguous_and_cover_the_months(as_of, count):
    windows = month_windows(as_of, count)
    assert windows[0][1] == as_of and len(windows) == count
    for (first, _), (_, last) in zip(windows, windows[1:]):
        assert last == first - timedelta(days=1)
    assert all(28 <= (last - first).days + 1 <= 31 for first, last in windows)


def test_overdue_ratio_is_past_due_over_open_items_before_credits():
    assert ratio(D("250"), D("1000")) == D("0.2500")
    assert ratio(D("0"), D("0")) is None
    figures = Figures("EUR", 3, receivable=D("900"), gross=D("1000"), past_due=D("250"),
                      sales=[D("1800"), D("0"), D("0")], window=[30, 31, 30])
    doc = figures.as_json()
    assert doc["overdue_ratio"] == "0.2500" and doc["dso"] == {"days": "15.0", "capped": False, "window_days": 91,
                                                               "months": 3}
    assert doc["receivable"] == "900.00" and doc["sales"] == ["1800.00", "0.00", "0.00"]


settlements = st.lists(st.tuples(st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
                                 st.integers(min_value=0, max_value=400)), min_size=1, max_size=30)


@given(settlements)
@example([(D("0.01"), 1), (D("200.00"), 0)])  # a sliver paid late: a share of 0.00005, shown as 0.0000
def test_days_late_lie_between_the_extremes_and_the_share_between_zero_and_one(paid):
    payments = Payments()
    for amount, days in paid:
        payments.add(amount, days)
    average, share = payments.average_days_late(), payments.share_paid_late()
    low, high = min(d for _a, d in paid), max(d for _a, d in paid)
    assert D(low) - DAYS / 2 <= average <= D(high) + DAYS / 2
    assert D(0) <= share <= D(1)
    late = sum((a for a, d in paid if d > 0), D(0))
    assert share == ratio(late, sum(a for a, _d in paid))  # to four places: a sliver paid late may show as 0
    if all(d == 0 for _a, d in paid):
        assert share == 0
    assert payments.items == len(paid) and payments.paid == sum(a for a, _d in paid)


def test_days_late_are_weighted_by_amount():
    payments = Payments()
    for amount, days in ((D("300"), 70), (D("700"), 10), (D("500"), 0)):
        payments.add(amount, days)
    assert (payments.average_days_late(), payments.share_paid_late()) == (D("18.7"), D("0.6667"))
    assert Payments().average_days_late() is None and Payments().share_paid_late() is None
