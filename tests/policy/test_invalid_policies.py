"""Broken policy files: each problem is reported at its FILE:LINE:COLUMN with its key path.

Every case is a whole file; the first three lines are a valid header unless
the case is about the header.  Lines and columns are 1-based.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.loader import PolicyError, load_policy, validate_policy_files

H = 'version = 1\nname = "Test policy"\nbase_currency = "EUR"\n'  # lines 1-3

INSURER = """\
[[limits.insurer]]
customer = "C00001"
insurer = "Atradius"
amount = 1000
"""  # lines 4-7 after H

OVERRIDE = """\
[[limits.override]]
customer = "C00002"
amount = 80000
"""  # lines 4-6 after H

ATRADIUS_DECIDED = INSURER + "decided = 2026-01-15\n"  # lines 4-8 after H

TIERS_A_1000 = '[[approval_tiers]]\nrole = "a"\nup_to = 1000\n'  # lines 4-6 after H

CASES = [
    # -- unknown keys, with a hint ------------------------------------------------
    pytest.param(H + 'nmae = "x"\n', "4:1: nmae", "unknown key 'nmae'; did you mean 'name'?", id="unknown-key"),
    pytest.param(H + "[rules.overdue]\ndyas = 30\n", "5:1: rules.overdue.dyas", "did you mean 'days'?",
                 id="unknown-key-in-rule"),
    pytest.param(H + '[customers."C00001"]\ngrdae = 3\n', "5:1: customers.C00001.grdae",
                 "unknown key 'grdae'; did you mean 'grade'?", id="unknown-key-in-customer"),
    pytest.param(H + '[segment.retail]\nprofile = "wholesale"\n', "4:1: segment", "did you mean 'segments'?",
                 id="unknown-table"),
    pytest.param(H + "[exposure]\ncolour = true\n", "5:1: exposure.colour",
                 "allowed keys: open_invoices, credit_notes, draft_invoices", id="unknown-key-allowed-list"),
    pytest.param(H + "[[alerts.ageing]]\ndays = 30\n[[alerts.ageing]]\ndays = 30\n", "7:1: alerts.ageing.1.days",
                 "thresholds must increase: 30 days comes after 30 days", id="alert-thresholds-not-increasing"),
    pytest.param(H + '[[alerts.ageing]]\ndays = 1\naction = "email"\n', "6:1: alerts.ageing.0.action",
                 "activity", id="alert-unknown-action"),
    # -- types ----------------------------------------------------------------------
    pytest.param(H + '[exposure]\nquotations = "yes"\n', "5:1: exposure.quotations",
                 "expected a boolean (true or false), got a string", id="wrong-type-bool"),
    pytest.param(H + "[rules.overdue]\ndays = 30.5\n", "5:1: rules.overdue.days",
                 "expected an integer, got a float", id="wrong-type-int"),
    pytest.param(H + 'rules = "strict"\n', "4:1: rules", "expected a table, got a string", id="wrong-type-table"),
    pytest.param(H + "[exemptions]\nauto_approve_below = true\n", "5:1: exemptions.auto_approve_below",
                 "expected an amount (a number such as 1000 or 1000.50), got a boolean", id="boolean-as-amount"),
    pytest.param(H + '[limits]\ndiscretionary = "10,000"\n', "5:1: limits.discretionary",
                 "'10,000' is not a decimal number", id="amount-string-not-decimal"),
    pytest.param(H + "[limits]\ndiscretionary = nan\n", "5:1: limits.discretionary",
                 "must be a finite number", id="nan-amount"),
    pytest.param(H + '[limits.insurer]\ncustomer = "C00001"\n', "4:1: limits.insurer",
                 "write each entry as [[limits.insurer]], not [limits.insurer]", id="array-of-tables-as-table"),
    pytest.param(H + OVERRIDE + 'starts = "2026-11-01"\nexpires = 2026-12-31\nreason = "Q4"\napproved_by = "CFO"\n',
                 "7:1: limits.override.0.starts", "got a string (write the date without quotes)",
                 id="date-as-string"),
    pytest.param(H + OVERRIDE + 'expires = 2026-12-31T18:00:00\nreason = "Q4"\napproved_by = "CFO"\n',
                 "7:1: limits.override.0.expires", "got a date-time (leave the time out)", id="date-time-as-date"),
    pytest.param(H + "rules = { overdue = { days = -1 } }\n", "4:23: rules.overdue.days",
                 "must be at least 0 (got -1)", id="inline-table-position"),
    # -- negative limits, ranges ------------------------------------------------------
    pytest.param(H + "[limits.grades]\n5 = -1000\n", "5:1: limits.grades.5", "must not be negative (got -1000)",
                 id="negative-grade-limit"),
    pytest.param(H + "[limits]\ndiscretionary = -0.01\n", "5:1: limits.discretionary",
                 "must not be negative (got -0.01)", id="negative-discretionary"),
    pytest.param(H + INSURER.replace("1000", "-5") + "decided = 2026-01-15\n", "7:1: limits.insurer.0.amount",
                 "must not be negative (got -5)",
                 id="negative-insurer-limit"),
    pytest.param(H + "[rules.over_limit]\ntolerance_percent = 150\n", "5:1: rules.over_limit.tolerance_percent",
                 "must be a percentage from 0 to 100 (got 150)", id="tolerance-percent-over-100"),
    pytest.param(H + "[rules.grade]\nhold_at_or_worse = 11\n", "5:1: rules.grade.hold_at_or_worse",
                 "grades run from 1 (best) to 10 (default) (got 11)", id="rule-grade-out-of-range"),
    pytest.param(H + '[customers."C00001"]\ngrade = 0\n', "5:1: customers.C00001.grade",
                 "grades run from 1 (best) to 10 (default) (got 0)", id="customer-grade-out-of-range"),
    pytest.param(H + '[risk_categories]\n"A01" = 1\n"C03" = 12\n', "6:1: risk_categories.C03",
                 "grades run from 1 (best) to 10 (default) (got 12)", id="risk-category-grade-out-of-range"),
    pytest.param(H + '[risk_categories]\n"B02" = "high"\n', "5:1: risk_categories.B02",
                 "expected a grade, an integer from 1 (best) to 10 (default), got a string",
                 id="risk-category-grade-not-an-integer"),
    pytest.param(H + '[rules.erp_blocked]\nenabled = "no"\n', "5:1: rules.erp_blocked.enabled",
                 "expected a boolean (true or false), got a string", id="erp-blocked-switch-not-boolean"),
    pytest.param(H + "[limits.grades]\n1 = 5000\n11 = 1000\n", "6:1: limits.grades.11",
                 "unknown grade '11': grades are the integers 1 (best) to 10 (default)", id="grades-key-out-of-range"),
    # -- currencies -------------------------------------------------------------------
    pytest.param('version = 1\nname = "Test"\nbase_currency = "EUX"\n', "3:1: base_currency",
                 "unknown currency 'EUX' (expected an ISO 4217 code such as 'EUR' or 'USD'); did you mean 'EUR'?",
                 id="unknown-base-currency"),
    pytest.param(H + INSURER + 'currency = "usd"\ndecided = 2026-01-15\n', "8:1: limits.insurer.0.currency",
                 "unknown currency 'usd' (expected an ISO 4217 code such as 'EUR' or 'USD'); did you mean 'USD'?",
                 id="unknown-insurer-currency"),
    pytest.param(H + OVERRIDE + 'currency = "XYZ"\nexpires = 2026-12-31\nreason = "Q4"\napproved_by = "CFO"\n',
                 "7:1: limits.override.0.currency", "unknown currency 'XYZ'", id="unknown-override-currency"),
    # -- approval tiers ---------------------------------------------------------------
    pytest.param(H + TIERS_A_1000 + '[[approval_tiers]]\nrole = "b"\nup_to = 500\n', "9:1: approval_tiers.1.up_to",
                 "tiers overlap or are out of order: approval_tiers.1 ('b', up to 500) must be above "
                 "approval_tiers.0 ('a', up to 1000)", id="tiers-out-of-order"),
    pytest.param(H + TIERS_A_1000 + '[[approval_tiers]]\nrole = "b"\nup_to = 1000\n', "9:1: approval_tiers.1.up_to",
                 "tiers overlap or are out of order: approval_tiers.1 ('b', up to 1000) must be above "
                 "approval_tiers.0 ('a', up to 1000)", id="tiers-overlap"),
    pytest.param(H + TIERS_A_1000 + '[[approval_tiers]]\nrole = "a"\nup_to = 2000\n', "8:1: approval_tiers.1.role",
                 "duplicate role 'a' (already approval_tiers.0)", id="duplicate-role"),
    pytest.param(H + '[[approval_tiers]]\nrole = "cfo"\n' + TIERS_A_1000, "4:1: approval_tiers.0",
                 "only the last tier may omit up_to", id="unbounded-tier-not-last"),
    # -- segments ---------------------------------------------------------------------
    pytest.param(H + '[segments.retail]\nprofile = "wholesale"\n[customers."C00001"]\nsegment = "retial"\n',
                 "7:1: customers.C00001.segment", "unknown segment 'retial'; did you mean 'retail'?",
                 id="unknown-segment"),
    pytest.param(H + '[customers."C00001"]\nsegment = "retail"\n', "5:1: customers.C00001.segment",
                 "unknown segment 'retail'; define it in a [segments.retail] table", id="unknown-segment-none-defined"),
    pytest.param(H + '[segments.retail]\nprofile = "retail"\n', "5:1: segments.retail.profile",
                 "must be 'standard', 'manufacturing', 'wholesale' or 'construction'", id="unknown-profile"),
    pytest.param(H + '[[approval_tiers]]\nrole = "credit_manager"\n[segments.oem]\nprofile = "manufacturing"\n'
                 'large_order_threshold = 100000\nlarge_order_tier = "credit_manger"\n',
                 "9:1: segments.oem.large_order_tier",
                 "unknown approval tier 'credit_manger'; did you mean 'credit_manager'?", id="unknown-large-order-tier"),
    pytest.param(H + '[segments.retail]\nprofile = "wholesale"\nproject_limit = 1000\n',
                 "6:1: segments.retail.project_limit",
                 "project_limit applies only to profile 'construction' (this segment's profile is 'wholesale')",
                 id="profile-key-on-wrong-profile"),
    pytest.param(H + '[segments.oem]\nprofile = "manufacturing"\nlarge_order_threshold = 100000\n',
                 "6:1: segments.oem.large_order_threshold", "large_order_threshold needs large_order_tier as well",
                 id="large-order-threshold-without-tier"),
    # -- insurer terms ----------------------------------------------------------------
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\noverdue_notification_days = 60\nmax_extension = 60\n',
                 "11:1: insurers.Atradius.max_extension",
                 "unknown key 'max_extension'; did you mean 'max_extension_days'?", id="insurer-terms-unknown-key"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\noverdue_notification_days = 60\ncolour = 1\n',
                 "11:1: insurers.Atradius.colour",
                 "allowed keys: overdue_notification_days, max_extension_days, collection_days, warn_days",
                 id="insurer-terms-unknown-key-allowed-list"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\nmax_extension_days = 60\n',
                 "9:1: insurers.Atradius.overdue_notification_days",
                 "missing required key 'overdue_notification_days'", id="insurer-terms-missing-notification"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\noverdue_notification_days = "60 days"\n',
                 "10:1: insurers.Atradius.overdue_notification_days", "expected an integer, got a string",
                 id="insurer-terms-days-not-an-integer"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\noverdue_notification_days = 60\n'
                 "max_extension_days = 60.5\n", "11:1: insurers.Atradius.max_extension_days",
                 "expected an integer, got a float", id="insurer-terms-days-float"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\noverdue_notification_days = 60\nwarn_days = -3\n',
                 "11:1: insurers.Atradius.warn_days", "must be at least 0 (got -3)", id="insurer-terms-negative-days"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius"]\noverdue_notification_days = 60\n'
                 "collection_days = 30\n", "11:1: insurers.Atradius.collection_days",
                 "collection_days counts from the end of the maximum extension period: give max_extension_days "
                 "as well", id="insurer-terms-collection-without-mep"),
    pytest.param(H + ATRADIUS_DECIDED + '[insurers."Atradius NV"]\noverdue_notification_days = 60\n',
                 "9:1: insurers.Atradius NV",
                 "no [[limits.insurer]] entry names insurer 'Atradius NV' (the entries name 'Atradius'); "
                 "did you mean 'Atradius'?", id="insurer-terms-for-an-unused-insurer"),
    pytest.param(H + 'insurers = { Atradius = 60 }\n' + ATRADIUS_DECIDED, "4:14: insurers.Atradius",
                 "expected a table", id="insurer-terms-not-a-table"),
    pytest.param(H + '[[tests]]\nname = "x"\ncustomer = "C1"\nexposure = 1\norder = 1\nas_of = 2026-11-28\n'
                 'expect = "approve"\noldest_due = "2026-09-01"\n', "11:1: tests.0.oldest_due",
                 "got a string (write the date without quotes)", id="case-oldest-due-as-string"),
    # -- header -----------------------------------------------------------------------
    pytest.param('version = 2\nname = "Test"\nbase_currency = "EUR"\n', "1:1: version",
                 "unsupported policy version 2; supported versions: 1", id="version-2"),
    pytest.param('name = "Test"\nbase_currency = "EUR"\n', "1:1: version",
                 "missing required key 'version' (write version = 1", id="missing-version"),
    pytest.param('version = 1\nbase_currency = "EUR"\n', "1:1: name", "missing required key 'name'",
                 id="missing-name"),
    pytest.param('version = 1\nname = "  "\nbase_currency = "EUR"\n', "2:1: name", "must not be empty",
                 id="empty-name"),
    # -- limit periods ----------------------------------------------------------------
    pytest.param(H + OVERRIDE + 'starts = 2026-11-01\nexpires = 2026-10-31\nreason = "Q4"\napproved_by = "CFO"\n',
                 "8:1: limits.override.0.expires", "expires (2026-10-31) is before starts (2026-11-01)",
                 id="override-expires-before-starts"),
    pytest.param(H + INSURER + "decided = 2026-01-15\nexpires = 2025-01-15\n", "9:1: limits.insurer.0.expires",
                 "expires (2025-01-15) is before decided (2026-01-15)", id="insurer-expires-before-decided"),
    pytest.param(H + OVERRIDE + 'starts = 2026-11-01\nexpires = 2026-12-31\nreason = "Q4"\napproved_by = "CFO"\n'
                 + OVERRIDE + 'starts = 2026-12-15\nexpires = 2027-01-31\nreason = "Q1"\napproved_by = "CFO"\n',
                 "11:1: limits.override.1",
                 "override for customer 'C00002' (2026-12-15 to 2027-01-31) overlaps limits.override.0 "
                 "(2026-11-01 to 2026-12-31)", id="overlapping-overrides"),
    pytest.param(H + INSURER + "decided = 2026-01-15\n" + INSURER + 'decided = 2026-06-01\nstatus = "reduced"\n',
                 "9:1: limits.insurer.1",
                 "insurer limit for customer 'C00001' (2026-06-01 to open-ended) overlaps limits.insurer.0 "
                 "(2026-01-15 to open-ended)", id="overlapping-insurer-decisions"),
    pytest.param(H + INSURER + 'decided = 2026-01-15\nstatus = "aproved"\n', "9:1: limits.insurer.0.status",
                 "must be 'approved', 'reduced' or 'withdrawn'; did you mean 'approved'?", id="unknown-status"),
    pytest.param(H + INSURER.replace("amount = 1000\n", "") + "decided = 2026-01-15\n", "4:1: limits.insurer.0.amount",
                 "missing required key 'amount'", id="missing-insurer-amount"),
    # -- grouping ---------------------------------------------------------------------
    pytest.param(H + '[grouping]\nkey = "custom"\n[grouping.groups]\n"Acme" = ["C00001", "C00002"]\n'
                 '"Beta" = ["C00003", "C00001"]\n', "8:21: grouping.groups.Beta.1",
                 "customer 'C00001' is already in group 'Acme'; a customer belongs to one group only",
                 id="duplicate-group-member"),
    pytest.param(H + '[grouping]\nkey = "commercial_entity"\n[grouping.groups]\n"Acme" = ["C00001"]\n',
                 "6:1: grouping.groups", 'groups are only used with key = "custom"', id="groups-with-commercial-entity"),
    pytest.param(H + '[grouping]\nkey = "custom"\n', "5:1: grouping.key", "needs a [grouping.groups] table",
                 id="custom-without-groups"),
    # -- precedence -------------------------------------------------------------------
    pytest.param(H + '[limits]\nprecedence = ["insurer", "grade", "insurer"]\n', "5:35: limits.precedence.2",
                 "'insurer' is listed twice (already limits.precedence.0)", id="precedence-duplicate"),
    pytest.param(H + '[limits]\nprecedence = ["insurer", "bank"]\n', "5:26: limits.precedence.1",
                 "must be 'override', 'insurer', 'erp' or 'grade'", id="precedence-unknown"),
    pytest.param(H + '[limits]\nprecedence = ["overide"]\n', "5:15: limits.precedence.0", "did you mean 'override'?",
                 id="precedence-typo"),
    pytest.param(H + "[limits]\nprecedence = []\n", "5:1: limits.precedence", "list at least one limit source",
                 id="precedence-empty"),
    # -- TOML syntax ------------------------------------------------------------------
    pytest.param(H + "[rules\n", "4:7", "invalid TOML: Expected ']' at the end of a table declaration",
                 id="toml-syntax-error"),
    pytest.param(H + "[rules]\n[rules]\n", "5:7", "invalid TOML: Cannot declare ('rules',) twice",
                 id="toml-table-twice"),
]


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize(("text", "where", "message"), CASES)
def test_each_broken_policy_reports_one_located_error(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    lines = info.value.errors
    assert len(lines) == 1, "\n".join(lines)
    assert lines[0].startswith(f"{path}:{where}: "), lines[0]
    assert message in lines[0]


MANY = """\
version = 1
name = "Several problems"
base_currency = "EUR"
colour = "blue"

[limits]
precedence = ["grade", "grade"]
discretionary = -1

[limits.grades]
12 = 1000

[customers."C00001"]
grade = 11
segment = "nowhere"

[rules.over_limit]
tolerance_percent = 101

[[approval_tiers]]
role = "cfo"
[[approval_tiers]]
role = "sales"
up_to = 100
"""


def test_every_error_is_reported_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "many.toml"
    path.write_text(MANY, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.errors == (
        f"{path}:4:1: colour: unknown key 'colour'; allowed keys: version, name, base_currency, exposure, "
        "grouping, limits, customers, risk_categories, rules, exemptions, approval_tiers, segments, tests, alerts, "
        "insurers, ageing, dunning, cases, payment_behaviour",
        f"{path}:7:24: limits.precedence.1: 'grade' is listed twice (already limits.precedence.0); "
        "list each limit source once",
        f"{path}:8:1: limits.discretionary: must not be negative (got -1)",
        f"{path}:11:1: limits.grades.12: unknown grade '12': grades are the integers 1 (best) to 10 (default)",
        f"{path}:14:1: customers.C00001.grade: grades run from 1 (best) to 10 (default) (got 11)",
        f"{path}:15:1: customers.C00001.segment: unknown segment 'nowhere'; define it in a [segments.nowhere] table",
        f"{path}:18:1: rules.over_limit.tolerance_percent: must be a percentage from 0 to 100 (got 101)",
        f"{path}:20:1: approval_tiers.0: only the last tier may omit up_to (no upper bound); "
        "give 'cfo' an up_to or move it to the end",
    )
    assert str(info.value) == "\n".join(info.value.errors)
    assert validate_policy_files([path]) == {str(path): list(info.value.errors)}


@pytest.mark.parametrize(
    "value",
    ["[1, 2]", "{ a = 1 }", "true", '"text"', "2026-01-01", "12:00:00", "-3", "[[1]]", "[{}]"],
)
def test_any_value_anywhere_is_an_error_not_a_crash(tmp_path: Path, value: str) -> None:
    """Odd values in every place are reported; the checks across keys never crash."""
    example = (Path(__file__).resolve().parents[2] / "policy" / "examples" / "default.toml").read_text()
    lines = example.splitlines()
    for number, line in enumerate(lines):
        key, sep, rest = line.partition(" = ")
        if not sep or line.startswith("#") or key.strip() in ("version",):
            continue
        changed = [*lines[:number], f"{key} = {value}", *lines[number + 1 :]]
        path = tmp_path / "policy.toml"
        path.write_text("\n".join(changed) + "\n", encoding="utf-8")
        try:
            load_policy(path)
        except PolicyError as exc:
            assert all(e.startswith(f"{path}:") for e in exc.errors)
