"""The insurer feed's pure parts: amounts and dates as exports write them (hypothesis), buyer numbers,
the shipped mappings, and the precedence between policy-file and imported decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.decisions import insurer_decision
from connector.insurer_feed import normalise_id, parse_amount, parse_date
from connector.insurer_limits import merge
from connector.insurer_mapping import DEFAULT_MAPPING, Decision, load_mapping
from connector.store.insurer_decisions import ImportedDecision
from policy.model import Grouping, GroupingSettings, InsurerLimit, InsurerStatus, LimitSettings, Policy

EXAMPLES = Path(__file__).resolve().parents[2] / "policy" / "examples" / "insurers"
SEPARATORS = [(".", ""), (".", ","), (",", "."), (",", " "), (".", "'"), (",", "")]


def written(amount: Decimal, decimal: str, thousands: str) -> str:
    """``amount`` as an export writes it, grouped by thousands."""
    integer, _, fraction = f"{amount:f}".partition(".")
    groups = f"{int(integer):,}".replace(",", thousands) if thousands else integer
    return groups + (decimal + fraction if fraction else "")


@settings(max_examples=300, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=Decimal("999999999999.999"), places=3),
       separators=st.sampled_from(SEPARATORS))
def test_an_amount_reads_back_exactly_in_every_notation(amount, separators):
    decimal, thousands = separators
    parsed = parse_amount(written(amount, decimal, thousands), decimal, thousands)
    assert parsed == amount and isinstance(parsed, Decimal)


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=Decimal("999999999"), places=2))
def test_spreadsheet_numbers_are_exact(amount):
    assert parse_amount(float(amount)) == amount  # a float cell through its shortest repr, never its binary value
    assert parse_amount(int(amount)) == int(amount)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=20), separators=st.sampled_from(SEPARATORS))
def test_any_text_is_an_amount_or_a_value_error(text, separators):
    try:
        parsed = parse_amount(text, *separators)
    except ValueError as exc:
        assert "amount" in str(exc)
    else:
        assert parsed >= 0 and parsed.is_finite()


@pytest.mark.parametrize("text, separators", [
    ("1,5", (".", ",")),          # "," groups thousands here: 1,5 is not 15
    ("1.234,5", (".", ",")),      # the separators the other way round
    ("12,34,567", (".", ",")),    # Indian grouping is not thousands
    ("1 234", (".", "")),
    ("1e6", (".", "")),
    ("NaN", (".", "")),
    ("-1", (".", "")),
    ("1" * 16, (".", "")),        # 10^15 is not a credit limit
])
def test_ambiguous_amounts_are_refused(text, separators):
    with pytest.raises(ValueError):
        parse_amount(text, *separators)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, None, [1]])
def test_odd_cells_are_not_amounts(value):
    with pytest.raises(ValueError):
        parse_amount(value)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
       fmt=st.sampled_from(["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d-%b-%Y"]))
def test_a_date_reads_back_in_its_format(day, fmt):
    assert parse_date(day.strftime(fmt), fmt) == day
    assert parse_date(datetime.combine(day, datetime.min.time()), fmt) == day  # an XLSX date cell


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_any_text_is_a_date_or_a_value_error(text):
    try:
        parse_date(text, "%d.%m.%Y")
    except ValueError as exc:
        assert "expected a date like 31.03.2026" in str(exc)


@pytest.mark.parametrize("a, b", [
    ("BE0477472701", "be 0477.472.701"),
    ("BE0477472701", "0477472701"),
    ("NL800123456B01", "NL 8001.23.456.B01"),
    ("DE123456789", "de-123-456-789"),
    ("CHE-123.456.789", "CHE123456789"),
])
def test_buyer_numbers_match_whatever_their_spelling(a, b):
    assert normalise_id(a) == normalise_id(b) != ""


def test_different_numbers_stay_different():
    assert normalise_id("DE123456789") != normalise_id("DE123456780")
    assert normalise_id(None) == normalise_id("  ") == ""


def test_the_shipped_default_mapping_is_the_built_in_one():
    shipped = load_mapping(EXAMPLES / "default.toml")
    assert replace(shipped, origin="default mapping") == load_mapping(None)
    assert (EXAMPLES / "default.toml").read_text() == DEFAULT_MAPPING


def test_the_example_mapping_reverses_the_grade_scale():
    coface = load_mapping(EXAMPLES / "coface.toml")
    assert coface.insurer == "Coface" and (coface.decimal_separator, coface.thousands_separator) == (",", ".")
    assert coface.grades["10"] == 1 and coface.grades["0"] == 10
    assert coface.decisions["9"] is Decision.REDUCED and coface.code(Decision.PARTLY_APPROVED) == "5"


# ------------------------------------------------------------------------------ precedence

T = datetime(2026, 12, 1, tzinfo=UTC)
D = Decimal


def imported(customer, decided, amount, decision="approved", expires=None, id_=1, insurer="Atradius"):
    return ImportedDecision(insurer, "odoo", "10", customer, "Acme", None, "DE1", "DE", decision, decision, decided,
                            amount * 100 if amount is not None else None, "EUR", expires, None, None, "x.csv", 2,
                            "digest", T, id_)


def entry(customer, decided, amount, **kwargs):
    return InsurerLimit(customer, "Atradius", D(amount), "EUR", decided, **kwargs)


POLICY = Policy(version=1, name="p", base_currency="EUR",
                limits=LimitSettings(insurer=(entry("C1", date(2026, 3, 1), 35000),
                                              entry("C9", date(2026, 1, 1), 1000))))


def in_force(policy, on, customer="C1"):
    found = insurer_decision(policy, customer, on)
    return (found.amount, found.status) if found else None


def test_the_latest_decision_date_wins_whatever_its_origin():
    merged = merge(POLICY, [imported("C1", date(2026, 1, 15), 50000), imported("C1", date(2026, 6, 1), 20000,
                                                                              "reduced", id_=2)])
    assert in_force(merged, date(2026, 1, 20)) == (D(50000), InsurerStatus.APPROVED)
    assert in_force(merged, date(2026, 3, 1)) == (D(35000), InsurerStatus.APPROVED)  # the policy file's
    assert in_force(merged, date(2026, 6, 1)) == (D(20000), InsurerStatus.REDUCED)
    assert in_force(merged, date(2025, 12, 31)) is None
    assert in_force(merged, date(2026, 6, 1), "C9") == (D(1000), InsurerStatus.APPROVED)  # untouched


def test_a_later_decision_ends_an_earlier_one_even_after_it_expires():
    merged = merge(POLICY, [imported("C1", date(2026, 4, 1), 60000, expires=date(2026, 9, 30))])
    assert in_force(merged, date(2026, 9, 30)) == (D(60000), InsurerStatus.APPROVED)
    assert in_force(merged, date(2026, 10, 1)) is None  # the policy's March decision does not come back


def test_on_the_same_day_the_policy_file_wins_and_the_later_import():
    merged = merge(POLICY, [imported("C1", date(2026, 3, 1), 99000)])
    assert in_force(merged, date(2026, 3, 2)) == (D(35000), InsurerStatus.APPROVED)
    merged = merge(POLICY, [imported("C2", date(2026, 3, 1), 1, id_=1), imported("C2", date(2026, 3, 1), 2, id_=2)])
    assert in_force(merged, date(2026, 3, 2), "C2") == (D(2), InsurerStatus.APPROVED)


def test_pending_changes_nothing_and_refused_gives_no_limit():
    merged = merge(POLICY, [imported("C1", date(2026, 5, 1), None, "pending")])
    assert in_force(merged, date(2026, 5, 2)) == (D(35000), InsurerStatus.APPROVED)
    merged = merge(POLICY, [imported("C1", date(2026, 5, 1), None, "refused")])
    assert in_force(merged, date(2026, 5, 2)) == (D(0), InsurerStatus.WITHDRAWN)
    merged = merge(POLICY, [imported("C1", date(2026, 5, 1), 40000, "partly_approved")])
    assert in_force(merged, date(2026, 5, 2)) == (D(40000), InsurerStatus.APPROVED)


def test_a_member_of_a_custom_group_is_insured_through_the_group():
    policy = replace(POLICY, grouping=GroupingSettings(Grouping.CUSTOM, {"Acme group": ("C7", "C8")}))
    merged = merge(policy, [imported("C8", date(2026, 5, 1), 40000)])
    assert in_force(merged, date(2026, 5, 2), "Acme group") == (D(40000), InsurerStatus.APPROVED)
