"""Test cases shipped in policy files ([[tests]]), run by `creditguard policy validate`."""

import subprocess
import sys
from datetime import date
from pathlib import Path

from policy.cases import run_cases
from policy.loader import load_policy

EXAMPLES = Path(__file__).resolve().parents[2] / "policy" / "examples"

POLICY = """\
version = 1
name = "cases"
base_currency = "EUR"

[limits.grades]
5 = 10000

[[limits.override]]
customer = "C1"
amount = 20000
currency = "USD"
expires = 2026-12-31
reason = "peak"
approved_by = "CFO"

[customers."C1"]
grade = 5

[[tests]]
name = "passes"
customer = "C1"
exposure = 9000
order = 1000
as_of = 2027-01-01
expect = "approve"

[[tests]]
name = "wrong expectation"
customer = "C1"
exposure = 12000
order = 1000
as_of = 2027-01-01
expect = "approve"

[[tests]]
name = "needs a rate"
customer = "C1"
exposure = 12000
order = 1000
as_of = 2026-12-01
expect = "approve"
"""


def test_examples_ship_passing_cases():
    for path in sorted(EXAMPLES.glob("*.toml")):
        count, failures = run_cases(load_policy(path))
        assert count >= 1 and failures == [], path


def test_failing_cases_are_reported_with_their_position(tmp_path):
    path = tmp_path / "cases.toml"
    path.write_text(POLICY)
    count, failures = run_cases(load_policy(path))
    assert count == 3
    assert failures[0].startswith(f"{path}:27:1: tests.1 (wrong expectation): expected approve, got hold")
    assert "Exposure 12,000.00 EUR exceeds the limit 10,000.00 EUR (grade)" in failures[0]
    assert failures[1].startswith(f"{path}:35:1: tests.2 (needs a rate): no rate for USD")
    result = subprocess.run([sys.executable, "-m", "creditguard", "policy", "validate", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "2 of 3 test case(s) failed" in result.stderr


def test_rates_let_a_case_convert_foreign_limits(tmp_path):
    path = tmp_path / "cases.toml"
    path.write_text(POLICY.replace('as_of = 2026-12-01\nexpect = "approve"',
                                   'as_of = 2026-12-01\nexpect = "approve"\nrates = { USD = 0.9 }'))
    count, failures = run_cases(load_policy(path))
    assert [f.split(":")[3] for f in failures] == [" tests.1 (wrong expectation)"]


ERP_INPUTS = """\
version = 1
name = "erp inputs"
base_currency = "EUR"

[limits.grades]
2 = 50000
6 = 10000

[risk_categories]
"A01" = 2
"B02" = 6
"C03" = 9

[[tests]]
name = "low risk category gets the grade-2 limit"
customer = "0000100001"
risk_category = "A01"
exposure = 40000
order = 1000
as_of = 2027-01-01
expect = "approve"

[[tests]]
name = "high risk category is held for its grade"
customer = "0000100006"
risk_category = "C03"
exposure = 10
order = 10
as_of = 2027-01-01
expect = "hold"
reasons = ["no_limit", "grade"]

[[tests]]
name = "blocked in the ERP"
customer = "0000100003"
risk_category = "A01"
erp_blocked = true
exposure = 100
order = 100
as_of = 2027-01-01
expect = "hold"
reasons = ["erp_blocked"]
"""


def test_cases_can_state_the_erp_risk_category_and_block(tmp_path):
    path = tmp_path / "erp.toml"
    path.write_text(ERP_INPUTS)
    policy = load_policy(path)
    assert dict(policy.risk_categories) == {"A01": 2, "B02": 6, "C03": 9}
    assert policy.rules.erp_blocked.enabled
    assert run_cases(policy) == (3, [])


INSURER_COVER = """\
version = 1
name = "insurer cover"
base_currency = "EUR"

[[limits.insurer]]
customer = "C1"
insurer = "Atradius"
amount = 100000
decided = 2026-01-01

[insurers."Atradius"]
overdue_notification_days = 60
max_extension_days = 60

[[tests]]
name = "the last day of the maximum extension period"
customer = "C1"
exposure = 5000
order = 1000
oldest_due = 2026-09-29
as_of = 2026-11-28
expect = "approve"

[[tests]]
name = "the day after it"
customer = "C1"
exposure = 5000
order = 1000
oldest_due = 2026-09-28
as_of = 2026-11-28
expect = "hold"
reasons = ["insurer_cover_stopped"]

[[tests]]
name = "no unpaid invoice"
customer = "C1"
exposure = 5000
order = 1000
as_of = 2026-11-28
expect = "approve"
"""


def test_cases_can_state_the_due_date_of_the_oldest_unpaid_invoice(tmp_path):
    path = tmp_path / "insurer.toml"
    path.write_text(INSURER_COVER)
    policy = load_policy(path)
    assert [case.oldest_due for case in policy.tests] == [date(2026, 9, 29), date(2026, 9, 28), None]
    assert run_cases(policy) == (3, [])
    # with the rule switched off the second case fails, and says what the policy decided
    path.write_text(INSURER_COVER.replace("[insurers.", "[rules.insurer_cover]\nenabled = false\n\n[insurers."))
    count, failures = run_cases(load_policy(path))
    assert count == 3 and len(failures) == 1
    assert "tests.1 (the day after it): expected hold, got approve" in failures[0]
