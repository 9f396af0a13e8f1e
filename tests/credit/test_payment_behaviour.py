"""Payment behaviour feeding the grade: the policy's ``[[payment_behaviour]]`` steps, validated like the rest of
the file; the step that applies and the clamped grade (hypothesis); a credit check reading the group's latest
daily snapshot (SQLite and PostgreSQL) and saying why its grade moved; nothing read without the table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.checks import CreditChecker
from connector.decisions import Result
from connector.domain import Company, Customer
from connector.payment_grade import PaymentRecord, adjust_grade, clamp, combine, describe, matching_step
from connector.ports import Stream
from connector.store.snapshots import GROUP_ROW, SnapshotRow
from policy.loader import PolicyError, load_policy
from policy.model import PaymentBehaviourStep

D = Decimal
AS_OF = date(2026, 12, 3)
T = datetime(2026, 12, 1, tzinfo=UTC)

STEPS = """
[[payment_behaviour]]
average_days_late = 0
adjust = -1
min_items = 5

[[payment_behaviour]]
average_days_late = 15
adjust = 1

[[payment_behaviour]]
average_days_late = 30
share_paid_late = 0.5
adjust = 2
"""
POLICY = """\
version = 1
name = "Payment behaviour"
base_currency = "USD"
[limits]
precedence = ["grade"]
[limits.grades]
5 = 60000
6 = 50000
7 = 20000
8 = 5000
[customers."C00010"]
grade = 6
[rules.grade]
hold_at_or_worse = 8
[rules.overdue]
enabled = false
"""


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def step(days, adjust, share=None, min_items=3, where="") -> PaymentBehaviourStep:
    return PaymentBehaviourStep(D(days), adjust, None if share is None else D(share), min_items, where)


def record(days, share, items=8, paid="1000", day=date(2026, 12, 2)) -> PaymentRecord:
    return PaymentRecord(day, 12, items, D(paid), None if days is None else D(days),
                         None if share is None else D(share))


# --- the policy table ---------------------------------------------------------------------------------------------


def test_a_valid_table_is_read_in_order(tmp_path):
    policy = load_policy(write(tmp_path, POLICY + STEPS))
    assert policy.payment_behaviour == (
        step(0, -1, min_items=5, where="payment_behaviour.0"), step(15, 1, where="payment_behaviour.1"),
        step(30, 2, "0.5", where="payment_behaviour.2"))
    assert load_policy(write(tmp_path, POLICY, "none.toml")).payment_behaviour == ()


@pytest.mark.parametrize(("table", "error"), [
    ("[[payment_behaviour]]\naverage_days_late = 10\nadjust = 1\nshare_paid_lat = 0.5\n",
     "18:1: payment_behaviour.0.share_paid_lat: unknown key 'share_paid_lat'; did you mean 'share_paid_late'?"),
    ("[[payment_behaviour]]\naverage_days_late = 10\nadjust = 1\nshare_paid_late = 1.5\n",
     "18:1: payment_behaviour.0.share_paid_late: must be a share from 0 to 1 (0.5 is half; got 1.5)"),
    ("[[payment_behaviour]]\naverage_days_late = -1\nadjust = 1\n",
     "16:1: payment_behaviour.0.average_days_late: must not be negative (got -1)"),
    ("[[payment_behaviour]]\naverage_days_late = 10\nadjust = 10\n",
     "17:1: payment_behaviour.0.adjust: must be at most 9 (got 10)"),
    ("[[payment_behaviour]]\naverage_days_late = 10\nadjust = 1\nmin_items = 0\n",
     "18:1: payment_behaviour.0.min_items: must be at least 1 (got 0)"),
    ("[[payment_behaviour]]\naverage_days_late = 10\n",
     "15:1: payment_behaviour.0.adjust: missing required key 'adjust'"),
    ("[payment_behaviour]\naverage_days_late = 10\nadjust = 1\n",
     "15:1: payment_behaviour: expected an array of tables: write each entry as [[payment_behaviour]], "
     "not [payment_behaviour]"),
    ("[[payment_behaviour]]\naverage_days_late = 20\nadjust = 1\n"
     "[[payment_behaviour]]\naverage_days_late = 20.0\nadjust = 2\n",
     "19:1: payment_behaviour.1.average_days_late: steps must be strictly increasing in average_days_late: 20.0 is "
     "not above 20; list the mildest step first"),
])
def test_bad_tables_are_reported_with_their_place(tmp_path, table, error):
    path = write(tmp_path, POLICY.replace("[rules.overdue]\nenabled = false\n", "") + table)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.errors == (f"{path}:{error}",)


# --- the step that applies, the clamped grade (pure) ---------------------------------------------------------------


def test_the_highest_matching_step_applies():
    steps = (step(0, -1, min_items=5), step(15, 1), step(30, 2, "0.5"))
    assert matching_step(steps, record("34.5", "0.625")) == steps[2]
    assert matching_step(steps, record("34.5", "0.4")) == steps[1]  # late on average, but mostly on time
    assert matching_step(steps, record("3", "0.1")) == steps[0]
    assert matching_step(steps, record("3", "0.1", items=4)) is None  # too few instalments for the good-payer step
    assert matching_step(steps, record("40", "0.9", items=2)) is None
    assert matching_step(steps, record(None, None, items=0, paid="0")) is None
    assert matching_step(steps, None) is None


def test_the_reason_says_how_and_why():
    steps = (step(15, 1, where="payment_behaviour.1"), step(30, 2, "0.5", where="payment_behaviour.2"))
    assert adjust_grade(steps, 6, "policy customer file", record("34.5", "0.625")) == (
        8, "grade 6 from policy customer file, 2 worse by payment behaviour: paid 34.5 days late on average and "
           "62.5 % of it late, 8 instalments over the 12 months to 2026-12-02 [payment_behaviour.2]")
    assert adjust_grade(steps, 9, "ERP risk category C03", record("34.5", "0.625"))[1].startswith(
        "grade 9 from ERP risk category C03, 2 worse by payment behaviour, capped at 10: paid 34.5")
    # not graded: not adjusted; no step: unchanged
    assert adjust_grade(steps, None, None, record("34.5", "0.625")) == (None, None)
    assert adjust_grade(steps, 6, "policy customer file", record("2", "0.1")) == (6, "policy customer file")
    assert adjust_grade((), 6, "x", record("99", "1")) == (6, "x")
    better = adjust_grade((step(0, -2),), 2, "policy customer file", record("0", "0"))
    assert better[0] == 1 and ", 2 better by payment behaviour, capped at 1: paid 0 days late" in better[1]
    assert describe(record(None, None, items=0)) == "no instalment settled over the 12 months to 2026-12-02"


tenths = st.integers(min_value=0, max_value=3650).map(lambda n: D(n) / 10)
shares = st.integers(min_value=0, max_value=10_000).map(lambda n: D(n) / 10_000)


@st.composite
def tables(draw):
    thresholds = sorted(draw(st.sets(tenths, min_size=1, max_size=6)))
    return tuple(PaymentBehaviourStep(days, draw(st.integers(-9, 9)), draw(st.none() | shares),
                                      draw(st.integers(1, 12)), f"payment_behaviour.{i}")
                 for i, days in enumerate(thresholds))


@given(tables(), st.integers(1, 10), tenths, shares, st.integers(0, 20))
def test_step_selection_and_clamping(steps, grade, days, share, items):
    paid = record(days, share, items=items)
    chosen = matching_step(steps, paid)
    matching = [s for s in steps if items >= s.min_items and days >= s.average_days_late
                and (s.share_paid_late is None or share >= s.share_paid_late)]
    # the matching step with the highest threshold, or none
    assert chosen == (max(matching, key=lambda s: s.average_days_late) if matching else None)
    adjusted, origin = adjust_grade(steps, grade, "policy customer file", paid)
    assert 1 <= adjusted <= 10
    if chosen is None or chosen.adjust == 0:
        assert (adjusted, origin) == (grade, "policy customer file")
    else:
        assert adjusted == clamp(grade + chosen.adjust)
        assert (adjusted - grade) * chosen.adjust >= 0  # never moved the other way
        assert origin.endswith(f"[{chosen.where}]") and describe(paid) in origin
    # paying later never gives a better grade when the adjustments grow with the days (from 0: no step)
    adjusts = [0, *(s.adjust for s in steps)]
    if all(a <= b for a, b in zip(adjusts, adjusts[1:])):
        later = adjust_grade(steps, grade, "policy customer file", record(days + 30, share, items=items))[0]
        assert later >= adjusted


@given(st.lists(st.tuples(tenths, shares, st.integers(1, 50), st.integers(1, 10**9)), min_size=1, max_size=5))
def test_combined_groups_weigh_by_amount_paid(parts):
    records = [record(d, s, items=n, paid=str(p)) for d, s, n, p in parts]
    both = combine(records)
    assert both.items == sum(n for _, _, n, _ in parts) and both.paid == sum(D(p) for *_, p in parts)
    days = [r.average_days_late for r in records]
    assert min(days) - D("0.05") <= both.average_days_late <= max(days) + D("0.05")
    assert D(0) <= both.share_paid_late <= 1


# --- at check time: the group's latest snapshot row ---------------------------------------------------------------


def snapshot(day: date, group: str = "10", *, days_tenths: int | None = 345, share_bp: int | None = 6250,
             items: int | None = 8, months: int | None = 12) -> SnapshotRow:
    return SnapshotRow(day, "odoo", group, GROUP_ROW, "C00010", "USD", "USD", 0, None, 0, 0, 0, 0, 0,
                       '{"buckets":[0]}', T, months, items, None if items is None else 1234_00, days_tenths,
                       share_bp)


@pytest.fixture
def graded(store):
    store.save_companies("odoo", [Company("odoo", "1", "YourCompany", "USD")])
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner",
                    [Customer("odoo", "10", "C00010", "Late Payer", "10", None, "US", None, True, None, None, None,
                              True, T)], [], None)
    return store


def check(store, policy, as_of=AS_OF):
    return CreditChecker(store, policy, as_of).check_prospective("C00010", D("1000"), "USD", record=False)


def test_a_late_payer_gets_a_worse_grade_and_every_decision_says_why(graded, tmp_path):
    policy = load_policy(write(tmp_path, POLICY + STEPS))
    graded.replace_snapshot_day(AS_OF - timedelta(days=1), ["odoo"], [snapshot(AS_OF - timedelta(days=1))])
    outcome = check(graded, policy)
    why = ("grade 6 from policy customer file, 2 worse by payment behaviour: paid 34.5 days late on average and "
           "62.5 % of it late, 8 instalments over the 12 months to 2026-12-02 [payment_behaviour.2]")
    assert (outcome.facts.grade, outcome.facts.grade_source) == (8, why)
    d = outcome.decision
    assert d.result is Result.HOLD and d.matched_rules == ("rules.grade",)
    assert d.limit.amount == D("5000.00") and d.limit.detail == f"policy limit for grade 8 ({why})"
    assert [r.message for r in d.reasons] == [f"Risk grade 8 ({why}) is at or worse than 8."]
    # a later snapshot with better figures: the latest one up to the day of the check counts
    graded.replace_snapshot_day(AS_OF, ["odoo"], [snapshot(AS_OF, days_tenths=170, share_bp=2000)])
    assert check(graded, policy).facts.grade == 7
    assert check(graded, policy, AS_OF - timedelta(days=1)).facts.grade == 8
    # a good payer (5 instalments or more, none late): one better
    graded.replace_snapshot_day(AS_OF, ["odoo"], [snapshot(AS_OF, days_tenths=0, share_bp=0)])
    outcome = check(graded, policy)
    assert outcome.facts.grade == 5 and "1 better by payment behaviour" in outcome.facts.grade_source
    assert outcome.decision.result is Result.APPROVE and outcome.decision.limit.amount == D("60000.00")


def test_no_adjustment_without_figures_or_without_the_table(graded, tmp_path, monkeypatch):
    policy = load_policy(write(tmp_path, POLICY + STEPS))
    assert (check(graded, policy).facts.grade, check(graded, policy).facts.grade_source) == (
        6, "policy customer file")  # no snapshot yet
    old = replace(snapshot(AS_OF), payment_months=None, paid_items=None, paid_minor=None, days_late_tenths=None,
                  share_late_bp=None)  # a row taken before the figures were kept
    graded.replace_snapshot_day(AS_OF, ["odoo"], [old])
    assert check(graded, policy).facts.grade == 6
    graded.replace_snapshot_day(AS_OF, ["odoo"], [snapshot(AS_OF, days_tenths=None, share_bp=None, items=0)])
    assert check(graded, policy).facts.grade == 6  # nothing settled in the window
    graded.replace_snapshot_day(AS_OF, ["odoo"], [snapshot(AS_OF, items=2)])
    assert check(graded, policy).facts.grade == 6  # too few instalments
    # without the table the snapshot is not even read
    graded.replace_snapshot_day(AS_OF, ["odoo"], [snapshot(AS_OF)])
    reads = []
    monkeypatch.setattr(type(graded), "latest_payment_snapshot", lambda *a: reads.append(a))
    plain = load_policy(write(tmp_path, POLICY, "plain.toml"))
    assert check(graded, plain).facts.grade == 6 and reads == []
    # nor for a customer without a grade: payment behaviour adjusts a grade, it does not give one
    ungraded = load_policy(write(tmp_path, (POLICY + STEPS).replace('grade = 6\n', 'segment = "x"\n').replace(
        "[rules.grade]", '[segments.x]\n[rules.grade]'), "ungraded.toml"))
    outcome = check(graded, ungraded)
    assert (outcome.facts.grade, outcome.facts.grade_source) == (None, None) and reads == []


def test_a_custom_group_weighs_its_credit_groups_by_amount_paid(graded, tmp_path):
    graded.save_page("odoo", Stream.CUSTOMERS, "res.partner",
                     [Customer("odoo", "20", "C00020", "Sister", "20", None, "US", None, True, None, None, None,
                               True, T)], [], None)
    policy = load_policy(write(tmp_path, POLICY.replace('[customers."C00010"]', '[grouping]\nkey = "custom"\n'
                                                         '[grouping.groups]\n"Both" = ["C00010", "C00020"]\n'
                                                         '[customers."Both"]') + STEPS))
    graded.replace_snapshot_day(AS_OF, ["odoo"], [snapshot(AS_OF), snapshot(AS_OF, "20", days_tenths=0, share_bp=0)])
    facts = check(graded, policy).facts
    # 1,234 paid 34.5 days late and 1,234 on time: 17.3 days, 31.25 % late → one worse
    assert facts.grade == 7 and "paid 17.3 days late on average and 31.25 % of it late, 16 instalments" in (
        facts.grade_source)


def test_policy_test_cases_can_give_how_the_customer_pays(tmp_path):
    from policy.cases import run_cases

    def case(name: str, expect: str, facts: str) -> str:
        return (f'\n[[tests]]\nname = "{name}"\ncustomer = "C00010"\nexposure = 1000\norder = 1000\n'
                f'as_of = 2026-12-03\nexpect = "{expect}"\n{facts}')

    late = "average_days_late = 34.5\nshare_paid_late = 0.625\n"
    cases = (case("late payer held by the grade rule", "hold", late + 'reasons = ["grade"]\n')
             + case("the same, too few instalments", "approve", late + "paid_items = 2\n")
             + case("how it pays not known: the file's grade", "hold", ""))
    policy = load_policy(write(tmp_path, POLICY + STEPS + cases))
    count, failures = run_cases(policy)
    assert count == 3 and len(failures) == 1
    assert failures[0].endswith("tests.2 (how it pays not known: the file's grade): expected hold, got approve "
                                "(no reason to hold)")


NEW = ("payment_months", "paid_items", "paid_minor", "days_late_tenths", "share_late_bp")  # columns of 0018


def test_migration_0018_keeps_the_snapshots_taken_before(store_url):
    """A store at 0017 with a day of snapshots: the upgrade keeps its rows, without payment figures (no
    adjustment from them), and the new columns round-trip; down to 0017 and up again."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import insert

    from connector.store import Store
    from connector.store import tables as t
    from connector.store.engine import SCHEMA_HEAD, create_store_engine
    from connector.store.tables import metadata

    from ..test_store import _migrate

    engine = create_store_engine(store_url)
    _migrate(engine, "0017")
    old = snapshot(AS_OF)
    with engine.begin() as conn:
        conn.execute(insert(t.daily_snapshots), [{c: getattr(old, c) for c in SnapshotRow.__slots__ if c not in NEW}])
    engine.dispose()
    with Store.open(store_url) as store:
        assert store.schema_status() == (SCHEMA_HEAD, SCHEMA_HEAD)
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        [kept] = store.snapshot_rows(AS_OF)
        assert kept == replace(old, **dict.fromkeys(NEW))
        latest = store.latest_payment_snapshot("odoo", "10", AS_OF)
        assert latest.day == AS_OF and latest.paid_items is None
        store.replace_snapshot_day(AS_OF, ["odoo"], [old])
        assert store.snapshot_rows(AS_OF) == [old]
        assert store.latest_payment_snapshot("odoo", "10", AS_OF - timedelta(days=1)) is None
        store.engine.dispose()
        _migrate(store.engine, "0017", down=True)
        _migrate(store.engine, "head")
        [again] = store.snapshot_rows(AS_OF)
        assert again.paid_items is None and again.exposure_minor == old.exposure_minor
