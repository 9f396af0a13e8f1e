"""Golden tests of the pure decision function, and its monotonicity properties."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.decisions import (
    GRADE_FROM_FILE,
    CustomerFacts,
    OrderFacts,
    Result,
    customer_grade,
    decide,
    effective_limit,
    release_tier,
)
from connector.exposure import Exposure, Overdue
from policy.model import (
    ApprovalTier,
    CustomerFile,
    Exemptions,
    GradeRule,
    InsurerLimit,
    InsurerStatus,
    InsurerTerms,
    LimitOverride,
    LimitSettings,
    LimitSource,
    OverdueRule,
    OverLimitRule,
    Policy,
    Profile,
    Rules,
    Segment,
    SwitchRule,
)

D = Decimal
AS_OF = date(2026, 11, 28)
RATES = {"EUR": D(1), "USD": D("0.5"), "GBP": D(2)}  # units of EUR per unit


def convert(amount, currency):
    return (amount * RATES[currency]).quantize(D("0.01"))


TIERS = (ApprovalTier("sales_manager", D(50000)), ApprovalTier("credit_manager", D(250000)), ApprovalTier("cfo", None))


def policy(**changes) -> Policy:
    base = Policy(
        version=1, name="golden", base_currency="EUR",
        limits=LimitSettings(grades={1: D(500000), 5: D(100000), 8: D(20000), 10: D(0)}, discretionary=D(5000)),
        rules=Rules(overdue=OverdueRule(days=30, amount=D(1000))),
        approval_tiers=TIERS, content_hash="h",
    )
    return replace(base, **changes)


def customer(**changes) -> CustomerFacts:
    base = CustomerFacts(source="odoo", erp_id="10", key="C00001", name="Acme", credit_group="10",
                         erp_limit=None, grade=5, segment=None)
    return replace(base, **changes)


def exposure(total: Decimal) -> Exposure:
    return Exposure("odoo", "10", "EUR", {"open_invoices": total})


NO_OVERDUE = Overdue(D(0), 0, None)
ORDER = OrderFacts("S00001", "1", D(10000))


def run(p=None, c=None, total=D(50000), overdue=NO_OVERDUE, order=ORDER, as_of=AS_OF):
    return decide(p or policy(), c or customer(), exposure(total), overdue, order, as_of, convert)


def codes(decision):
    return [r.code for r in decision.reasons]


def test_within_grade_limit_is_approved_with_headroom():
    d = run(total=D(60000))
    assert d.result is Result.APPROVE and d.reasons == ()
    assert d.limit.amount == D(100000) and d.limit.source is LimitSource.GRADE
    assert d.headroom == D(40000) and d.release_tier is None


def test_over_limit_holds_and_says_by_how_much():
    d = run(total=D(100000.01))
    assert d.result is Result.HOLD and codes(d) == ["over_limit"]
    assert "100,000.01 EUR exceeds the limit 100,000.00 EUR (grade)" in d.reasons[0].message
    assert "by 0.01 EUR" in d.reasons[0].message
    assert d.headroom == D("-0.01") and d.release_tier == "sales_manager"


@pytest.mark.parametrize("percent, amount, total, result", [
    (D(5), D(0), D(105000), Result.APPROVE),
    (D(5), D(0), D("105000.01"), Result.HOLD),
    (D(0), D(7500), D(107500), Result.APPROVE),
    (D(5), D(7500), D(107500), Result.APPROVE),  # the larger tolerance applies
    (D(5), D(7500), D("107500.01"), Result.HOLD),
])
def test_tolerance_percent_or_amount(percent, amount, total, result):
    p = policy(rules=Rules(over_limit=OverLimitRule(tolerance_percent=percent, tolerance_amount=amount)))
    assert run(p, total=total).result is result


def test_limit_precedence_override_insurer_erp_grade():
    limits = LimitSettings(
        grades={5: D(100000)}, discretionary=D(5000),
        insurer=(InsurerLimit("C00001", "Allianz Trade", D(60000), "GBP", date(2026, 1, 1)),),
        overrides=(LimitOverride("C00001", D(300000), "EUR", date(2026, 12, 31), "Q4 peak", "CFO"),),
    )
    c = customer(erp_limit=D(80000))
    p = policy(limits=limits)
    assert effective_limit(p, c, AS_OF, convert).source is LimitSource.OVERRIDE
    assert effective_limit(p, c, AS_OF, convert).amount == D(300000)
    p2 = policy(limits=replace(limits, overrides=()))
    insurer = effective_limit(p2, c, AS_OF, convert)
    assert insurer.source is LimitSource.INSURER and insurer.amount == D(125000)  # 60,000 GBP = 120,000 EUR + 5,000
    p3 = policy(limits=replace(limits, overrides=(), insurer=()))
    assert effective_limit(p3, c, AS_OF, convert).source is LimitSource.ERP
    assert effective_limit(p3, customer(), AS_OF, convert).source is LimitSource.GRADE
    reordered = policy(limits=replace(limits, precedence=(LimitSource.GRADE, LimitSource.OVERRIDE)))
    assert effective_limit(reordered, c, AS_OF, convert).source is LimitSource.GRADE


def test_temporary_increase_applies_until_its_expiry_day_included():
    override = LimitOverride("C00001", D(300000), "EUR", date(2026, 12, 31), "Q4 peak", "CFO",
                             starts=date(2026, 11, 1))
    p = policy(limits=replace(policy().limits, overrides=(override,)))
    assert run(p, total=D(250000), as_of=date(2026, 10, 31)).result is Result.HOLD  # before it starts
    assert run(p, total=D(250000), as_of=date(2026, 11, 1)).result is Result.APPROVE
    assert run(p, total=D(250000), as_of=date(2026, 12, 31)).result is Result.APPROVE
    after = run(p, total=D(250000), as_of=date(2027, 1, 1))
    assert after.result is Result.HOLD and after.limit.source is LimitSource.GRADE


def test_insurer_limit_expiry_and_withdrawal():
    cover = InsurerLimit("C00001", "Atradius", D(200000), "EUR", date(2026, 1, 15), expires=date(2026, 12, 1))
    p = policy(limits=replace(policy().limits, insurer=(cover,)))
    assert run(p, total=D(150000)).limit.source is LimitSource.INSURER
    assert run(p, total=D(150000), as_of=date(2026, 12, 2)).limit.source is LimitSource.GRADE
    withdrawn = replace(cover, decided=date(2026, 11, 20), status=InsurerStatus.WITHDRAWN)
    p = policy(limits=replace(policy().limits, insurer=(cover, withdrawn)))
    d = run(p, total=D(1000))
    assert d.result is Result.HOLD and codes(d) == ["cover_withdrawn"]
    assert d.limit.source is LimitSource.GRADE  # the withdrawn cover no longer gives a limit
    assert "Atradius withdrew cover for Acme on 2026-11-20" in d.reasons[0].message


def test_no_limit_new_buyer():
    d = run(c=customer(grade=None), total=D(100))
    assert d.result is Result.HOLD and codes(d) == ["no_limit"] and d.headroom is None


def test_overdue_rule():
    overdue = Overdue(D("1500.00"), 2, date(2026, 9, 1))
    d = run(overdue=overdue)
    assert d.result is Result.HOLD and codes(d) == ["overdue"]
    assert "1,500.00 EUR is more than 30 days overdue (2 invoice(s), oldest due 2026-09-01, 88 days)" \
        in d.reasons[0].message
    assert run(overdue=Overdue(D(1000), 1, date(2026, 9, 1))).result is Result.APPROVE  # not more than 1,000


def test_grade_rule():
    p = policy(rules=Rules(grade=GradeRule(hold_at_or_worse=8)))
    assert codes(run(p, c=customer(grade=8), total=D(0))) == ["grade"]
    assert run(p, c=customer(grade=7, erp_limit=D(1000)), total=D(0)).result is Result.APPROVE


def test_several_reasons_are_all_given():
    d = run(c=customer(grade=10), total=D(1), overdue=Overdue(D(5000), 1, date(2026, 1, 1)))
    assert codes(d) == ["over_limit", "overdue", "grade"]


def test_exemptions_and_fast_paths():
    assert run(policy(exemptions=Exemptions(customers=frozenset({"C00001"}))), total=D(10**9)).result \
        is Result.APPROVE
    fast = policy(exemptions=Exemptions(auto_approve_below=D(500)))
    assert run(fast, order=OrderFacts("S1", "1", D(499)), total=D(10**9)).result is Result.APPROVE
    assert run(fast, order=OrderFacts("S1", "1", D(500)), total=D(10**9)).result is Result.HOLD
    typed = policy(exemptions=Exemptions(excluded_order_types=frozenset({"sample"})))
    assert run(typed, order=OrderFacts("S1", "1", D(1), "sample"), total=D(10**9)).matched_rules \
        == ("exemptions.excluded_order_types",)


@pytest.mark.parametrize("amount, tier", [(D(1), "sales_manager"), (D(50000), "sales_manager"),
                                          (D("50000.01"), "credit_manager"), (D(250000), "credit_manager"),
                                          (D(10**9), "cfo")])
def test_release_tiers(amount, tier):
    assert release_tier(TIERS, amount) == tier
    d = run(total=D(10**9), order=OrderFacts("S1", "1", amount))
    assert d.release_tier == tier


def test_segment_profiles():
    segments = {
        "wholesale": Segment(Profile.WHOLESALE, auto_approve_below=D(5000), overdue_days=15, overdue_amount=D(0)),
        "manufacturing": Segment(Profile.MANUFACTURING, large_order_threshold=D(100000),
                                 large_order_tier="credit_manager"),
    }
    p = policy(segments=segments, customers={"C00001": CustomerFile(grade=5, segment="wholesale")})
    wholesale = customer(segment="wholesale")
    assert run(p, c=wholesale, order=OrderFacts("S1", "1", D(4999)), total=D(10**9)).result is Result.APPROVE
    tight = run(p, c=wholesale, overdue=Overdue(D("0.01"), 1, date(2026, 11, 1)))
    assert codes(tight) == ["overdue"] and "more than 15 days overdue" in tight.reasons[0].message
    big = run(p, c=customer(segment="manufacturing", erp_limit=D(10**7)), order=OrderFacts("S9", "9", D(120000)))
    assert codes(big) == ["large_order"] and big.release_tier == "credit_manager"
    small = run(p, c=customer(segment="manufacturing"), order=OrderFacts("S9", "9", D(1000)), total=D(10**9))
    assert small.release_tier == "sales_manager"


def test_mixed_currencies_convert_insurer_and_override_amounts():
    limits = LimitSettings(overrides=(LimitOverride("C00001", D(100000), "USD", date(2026, 12, 31), "r", "CFO"),))
    d = run(policy(limits=limits), total=D(50000))
    assert d.limit.amount == D(50000) and d.result is Result.APPROVE  # 100,000 USD = 50,000 EUR


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(total=amounts, extra=amounts, overdue=amounts, grade=st.integers(1, 10))
def test_more_exposure_never_turns_a_hold_into_an_approval(total, extra, overdue, grade):
    c = customer(grade=grade)
    od = Overdue(overdue, 1, date(2026, 1, 1))
    before = run(c=c, total=total, overdue=od)
    after = run(c=c, total=total + extra, overdue=od)
    if before.result is Result.HOLD:
        assert after.result is Result.HOLD


@given(total=amounts, limit=amounts, raise_by=amounts, grade=st.integers(1, 10))
def test_a_higher_limit_never_turns_an_approval_into_a_hold(total, limit, raise_by, grade):
    before = run(c=customer(erp_limit=limit, grade=grade), total=total,
                 p=policy(limits=LimitSettings(precedence=(LimitSource.ERP,))))
    after = run(c=customer(erp_limit=limit + raise_by, grade=grade), total=total,
                p=policy(limits=LimitSettings(precedence=(LimitSource.ERP,))))
    if before.result is Result.APPROVE:
        assert after.result is Result.APPROVE


def test_construction_project_limit():
    segments = {"contractors": Segment(Profile.CONSTRUCTION, project_limit=D(250000))}
    p = policy(segments=segments)
    c = customer(segment="contractors", erp_limit=D(10**7))
    tower = Exposure("odoo", "Riverside Tower", "EUR", {"open_invoices": D(200000), "current_order": D(60000)})
    d = decide(p, c, exposure(D(260000)), NO_OVERDUE, ORDER, AS_OF, convert, project=("Riverside Tower", tower))
    assert d.result is Result.HOLD and codes(d) == ["project_limit"]
    assert "Project 'Riverside Tower' exposure 260,000.00 EUR exceeds the project limit 250,000.00 EUR by 10,000.00 EUR" \
        in d.reasons[0].message
    small = Exposure("odoo", "Depot", "EUR", {"open_invoices": D(1000)})
    assert decide(p, c, exposure(D(260000)), NO_OVERDUE, ORDER, AS_OF, convert,
                  project=("Depot", small)).result is Result.APPROVE
    # the group's limit still applies on top of the project's
    assert codes(decide(p, customer(segment="contractors", erp_limit=D(1)), exposure(D(5)), NO_OVERDUE, ORDER,
                        AS_OF, convert, project=("Depot", small))) == ["over_limit"]


# --------------------------------------------------------------- the ERP's credit management as inputs


def test_grade_comes_from_the_erp_risk_category_when_the_file_has_none():
    p = policy(risk_categories={"C03": 8, "A01": 1}, rules=Rules(grade=GradeRule(hold_at_or_worse=8)))
    grade, origin = customer_grade(p, None, "C03")
    assert (grade, origin) == (8, "ERP risk category C03")
    d = run(p, customer(grade=grade, grade_source=origin, risk_category="C03"), total=D(1000))
    assert d.result is Result.HOLD and codes(d) == ["grade"]
    assert "Risk grade 8 (ERP risk category C03) is at or worse than 8" in d.reasons[0].message
    assert d.limit.detail == "policy limit for grade 8 (ERP risk category C03)"


def test_the_policy_file_grade_wins_over_the_erp_risk_category():
    p = policy(risk_categories={"C03": 9})
    assert customer_grade(p, 5, "C03") == (5, GRADE_FROM_FILE)
    d = run(p, customer(grade=5, grade_source=GRADE_FROM_FILE, risk_category="C03"), total=D(1000))
    assert d.result is Result.APPROVE and d.limit.detail == "policy limit for grade 5"


def test_an_unmapped_erp_risk_category_gives_no_grade():
    assert customer_grade(policy(risk_categories={"A01": 1}), None, "Z99") == (None, None)
    assert customer_grade(policy(), None, None) == (None, None)


def test_grade_limit_names_the_erp_risk_category_it_came_from():
    p = policy(risk_categories={"B02": 8})
    d = run(p, customer(grade=8, grade_source="ERP risk category B02"), total=D(15000))
    assert d.limit.amount == D(20000) and d.limit.detail == "policy limit for grade 8 (ERP risk category B02)"


def test_a_customer_blocked_in_the_erp_is_held_even_below_the_fast_path():
    p = policy(exemptions=Exemptions(auto_approve_below=D(1000000)))
    d = run(p, customer(erp_blocked=True), total=D(10))
    assert d.result is Result.HOLD and codes(d) == ["erp_blocked"]
    assert d.matched_rules == ("rules.erp_blocked",)
    assert "Acme is blocked by the ERP's credit management" in d.reasons[0].message
    assert d.release_tier == "sales_manager"  # the order's amount decides who may release


def test_the_erp_block_can_be_switched_off_and_exempt_customers_stay_exempt():
    off = policy(rules=Rules(erp_blocked=SwitchRule(enabled=False)))
    assert run(off, customer(erp_blocked=True), total=D(1000)).result is Result.APPROVE
    exempt = policy(exemptions=Exemptions(customers=frozenset({"C00001"})))
    assert run(exempt, customer(erp_blocked=True), total=D(1000)).matched_rules == ("exemptions.customers",)


@given(st.booleans(), st.integers(min_value=0, max_value=10**9))
def test_an_erp_block_never_turns_a_hold_into_an_approval(blocked, total):
    """Monotonicity: setting the ERP's block can only make the decision stricter."""
    free = run(c=customer(erp_blocked=False), total=D(total))
    maybe = run(c=customer(erp_blocked=blocked), total=D(total))
    if free.result is Result.HOLD:
        assert maybe.result is Result.HOLD
    if blocked:
        assert maybe.result is Result.HOLD


# --------------------------------------------------------------- insurer cover: the maximum extension period

ATRADIUS = InsurerLimit("C00001", "Atradius", D(200000), "EUR", date(2026, 1, 15))
MEP_TERMS = InsurerTerms(overdue_notification_days=30, max_extension_days=60, collection_days=30)


def insured(cover=ATRADIUS, terms=MEP_TERMS, **rules):
    return policy(limits=replace(policy().limits, insurer=(cover,)),
                  insurers={cover.insurer: terms} if terms else {}, rules=replace(policy().rules, **rules))


def oldest(due):
    return Overdue(D(0), 0, None, due)


@pytest.mark.parametrize("due, result", [
    (date(2026, 9, 30), Result.APPROVE),  # the MEP expires on 2026-11-29: the day before
    (date(2026, 9, 29), Result.APPROVE),  # … on 2026-11-28, as_of itself: still covered that day
    (date(2026, 9, 28), Result.HOLD),     # … on 2026-11-27: cover stopped, the day after
    (None, Result.APPROVE),               # nothing unpaid
])
def test_insurer_cover_stops_the_day_after_the_maximum_extension_period(due, result):
    d = run(insured(), total=D(1000), overdue=oldest(due))
    assert d.result is result
    assert codes(d) == (["insurer_cover_stopped"] if result is Result.HOLD else [])


def test_insurer_cover_stopped_says_who_when_and_why():
    d = run(insured(), total=D(1000), overdue=oldest(date(2026, 9, 1)))
    assert d.matched_rules == ("rules.insurer_cover",) and d.release_tier == "sales_manager"
    assert d.reasons[0].message == (
        "Atradius cover for new deliveries to Acme stopped when the maximum extension period of 60 days expired "
        "on 2026-10-31: the oldest unpaid invoice was due 2026-09-01.")
    assert d.limit.source is LimitSource.INSURER  # the limit stays; the insurer no longer covers new deliveries


def test_insurer_cover_needs_a_decision_in_force_terms_with_an_mep_and_the_rule():
    old = oldest(date(2026, 1, 1))
    withdrawn = replace(ATRADIUS, status=InsurerStatus.WITHDRAWN)
    assert codes(run(insured(withdrawn), total=D(1000), overdue=old)) == ["cover_withdrawn"]  # no cover to stop
    reduced = replace(ATRADIUS, status=InsurerStatus.REDUCED)
    assert codes(run(insured(reduced), total=D(1000), overdue=old)) == ["insurer_cover_stopped"]
    expired = replace(ATRADIUS, expires=date(2026, 11, 27))
    assert run(insured(expired), total=D(1000), overdue=old).result is Result.APPROVE
    assert run(insured(terms=None), total=D(1000), overdue=old).result is Result.APPROVE
    notify_only = InsurerTerms(overdue_notification_days=60)
    assert run(insured(terms=notify_only), total=D(1000), overdue=old).result is Result.APPROVE
    off = insured(insurer_cover=SwitchRule(enabled=False))
    assert run(off, total=D(1000), overdue=old).result is Result.APPROVE
    other_customer = replace(ATRADIUS, customer="C00002")
    assert run(insured(other_customer), total=D(1000), overdue=old).result is Result.APPROVE


def test_insurer_cover_stopped_comes_first_with_the_other_reasons():
    d = run(insured(), total=D(10**6), overdue=Overdue(D(5000), 1, date(2026, 8, 1), date(2026, 8, 1)))
    assert codes(d) == ["insurer_cover_stopped", "over_limit", "overdue"]


@given(due=st.dates(date(2025, 1, 1), date(2027, 12, 31)), mep=st.integers(0, 400),
       first=st.dates(date(2026, 1, 15), date(2027, 12, 31)), later_by=st.integers(0, 800),
       total=st.integers(0, 400000), overdue=st.integers(0, 5000))
def test_a_hold_never_turns_into_an_approval_as_time_goes_by(due, mep, first, later_by, total, overdue):
    """Other facts fixed (an open-ended insurer decision, the same unpaid invoices), a later day never
    lifts a hold: the maximum extension period only ever expires."""
    p = insured(terms=InsurerTerms(overdue_notification_days=0, max_extension_days=mep))
    facts = Overdue(D(overdue), 1 if overdue else 0, due if overdue else None, due)
    before = run(p, total=D(total), overdue=facts, as_of=first)
    after = run(p, total=D(total), overdue=facts, as_of=first + timedelta(days=later_by))
    if before.result is Result.HOLD:
        assert after.result is Result.HOLD
    if "insurer_cover_stopped" in codes(before):
        assert "insurer_cover_stopped" in codes(after)
