"""Policy files: TOML in, frozen :class:`policy.model.Policy` out.

:func:`load_policy` reads a policy file with :func:`connector.config.read_toml`
(floats as ``Decimal``), validates it with the pydantic models below (unknown
keys are errors), runs the checks that span several keys (currencies,
segment and tier references, overlapping limit periods, tier order …) and
converts the result into the frozen dataclasses of :mod:`policy.model`.

On any problem it raises :class:`PolicyError`, whose message lists *every*
problem at once, in file order, one per line::

    policy.toml:3:1: base_currency: unknown currency 'EUX' (expected an ISO 4217 code); did you mean 'EUR'?
    policy.toml:41:1: approval_tiers.1.up_to: tiers overlap or are out of order: ...

:func:`validate_policy_files` checks several files and returns their error
lines, for ``creditguard policy validate FILE...``.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import typing
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, NoReturn

from babel.numbers import list_currencies
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictInt, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from connector.config import read_toml, toml_type, validation_messages
from connector.errors import ConfigError
from connector.money import UnknownCurrency, currency_precision
from connector.tomlpos import KeyPath, TomlPositions, format_path
from policy import model as m
from policy.dunning_model import CaseSettings, Channel, DunningLevel, DunningSettings, SendMode

__all__ = [
    "SUPPORTED_VERSIONS",
    "PolicyError",
    "load_policy",
    "validate_policy_files",
]

SUPPORTED_VERSIONS = (1,)

# The error type connector.config.validation_messages prints verbatim (the
# message travels in the context, see connector.config._error).
_ERROR_TYPE = "creditguard"

GRADES = range(1, 11)
# the dunning letters shipped with CreditGuard (connector.dunning_render reads them)
SHIPPED_TEMPLATES = Path(__file__).resolve().parents[1] / "connector" / "templates" / "dunning"


class PolicyError(ConfigError):
    """A policy file cannot be used (bad input, like a configuration error: exit code 2).

    ``str(error)`` lists every problem, one ``FILE:LINE:COLUMN: key.path: message``
    per line; :attr:`errors` holds the same lines.
    """

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__("\n".join(self.errors))


# ---------------------------------------------------------------------------
# Field types


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError(_ERROR_TYPE, "{message}", {"message": message})


def _fail(message: str) -> NoReturn:
    raise _error(message)


def _issue(loc: KeyPath, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=_error(message), loc=loc, input=None)


_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# Amounts are computed with 28 significant digits and stored in integer minor units: a quadrillion
# leaves room for the cents and for summing many of them.
MAX_AMOUNT = Decimal(10) ** 15


def _parse_amount(value: object) -> Decimal:
    """A number (or a string of decimals) that is finite and not negative."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        _fail(f"expected an amount (a number such as 1000 or 1000.50), got {toml_type(value)}")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            _fail(f"expected an amount: {value!r} is not a decimal number (write e.g. 1000 or \"1000.50\")")
        value = Decimal(value.strip())
    elif isinstance(value, int):
        value = Decimal(value)
    if not value.is_finite():
        _fail("must be a finite number (not nan or inf)")
    if value < 0:
        _fail(f"must not be negative (got {value})")
    if value >= MAX_AMOUNT:
        _fail(f"must be less than {MAX_AMOUNT:,} (got {value:.3g})")
    return abs(value) if value.is_zero() else value


def _parse_percent(value: object) -> Decimal:
    amount = _parse_amount(value)
    if amount > 100:
        _fail(f"must be a percentage from 0 to 100 (got {amount})")
    return amount


def _parse_share(value: object) -> Decimal:
    share = _parse_amount(value)
    if share > 1:
        _fail(f"must be a share from 0 to 1 (0.5 is half; got {share})")
    return share


def _parse_days_late(value: object) -> Decimal:
    days = _parse_amount(value)
    if days > 100_000:
        _fail(f"must be a number of days from 0 to 100000 (got {days})")
    return days


def _parse_grade(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"expected a grade, an integer from 1 (best) to 10 (default), got {toml_type(value)}")
    if value not in GRADES:
        _fail(f"grades run from 1 (best) to 10 (default) (got {value})")
    return value


def _parse_date(value: object) -> date:
    if isinstance(value, datetime):
        _fail("expected a date like 2026-12-31, got a date-time (leave the time out)")
    if isinstance(value, str):
        _fail("expected a date like 2026-12-31, got a string (write the date without quotes)")
    if not isinstance(value, date):
        _fail(f"expected a date like 2026-12-31, got {toml_type(value)}")
    return value


def _parse_text(value: object) -> str:
    if not isinstance(value, str):
        _fail(f"expected a string, got {toml_type(value)}")
    if not value.strip():
        _fail("must not be empty")
    return value


@lru_cache(maxsize=1)
def _currency_codes() -> tuple[str, ...]:
    return tuple(sorted(list_currencies()))


def _closest_currency(value: str) -> str | None:
    if value.upper() in _currency_codes():
        return value.upper()
    close = difflib.get_close_matches(value.upper(), _currency_codes(), n=8, cutoff=0.6)
    if not close:
        return None
    # Prefer a code that starts like the one written: 'EUX' → 'EUR', not 'XEU'.
    return max(close, key=lambda c: len(os.path.commonprefix([c, value.upper()])))


def _parse_currency(value: object) -> str:
    if not isinstance(value, str):
        _fail(f"expected a currency code such as 'EUR', got {toml_type(value)}")
    try:
        currency_precision(value)
    except UnknownCurrency:
        message = f"unknown currency {value!r} (expected an ISO 4217 code such as 'EUR' or 'USD')"
        close = _closest_currency(value)
        if close:
            message += f"; did you mean {close!r}?"
        _fail(message)
    return value


def _parse_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"expected an integer, got {toml_type(value)}")
    if value not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        _fail(f"unsupported policy version {value}; supported versions: {supported}")
    return value


Amount = Annotated[Decimal, PlainValidator(_parse_amount)]
Percent = Annotated[Decimal, PlainValidator(_parse_percent)]
Share = Annotated[Decimal, PlainValidator(_parse_share)]
DaysLate = Annotated[Decimal, PlainValidator(_parse_days_late)]
Grade = Annotated[int, PlainValidator(_parse_grade)]
TomlDate = Annotated[date, PlainValidator(_parse_date)]
Text = Annotated[str, PlainValidator(_parse_text)]
Currency = Annotated[str, PlainValidator(_parse_currency)]
Version = Annotated[int, PlainValidator(_parse_version)]
Days = Annotated[StrictInt, Field(ge=0, le=100_000)]  # about 270 years: dates it is added to stay in range

SourceName = Literal["override", "insurer", "erp", "grade"]
ProfileName = Literal["standard", "manufacturing", "wholesale", "construction"]


# ---------------------------------------------------------------------------
# The file's schema (pydantic field names are the TOML keys)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class ExposureTable(_Model):
    open_invoices: StrictBool = True
    credit_notes: StrictBool = True
    draft_invoices: StrictBool = False
    uninvoiced_orders: StrictBool = True
    quotations: StrictBool = False
    current_order: StrictBool = True
    conversion: Literal["document_date", "today"] = "document_date"


class GroupingTable(_Model):
    key: Literal["commercial_entity", "custom"] = "commercial_entity"
    groups: dict[str, Annotated[tuple[Text, ...], Field(min_length=1)]] | None = None


class InsurerEntry(_Model):
    customer: Text
    insurer: Text
    amount: Amount
    currency: Currency | None = None
    decided: TomlDate
    expires: TomlDate | None = None
    status: Literal["approved", "reduced", "withdrawn"] = "approved"


class InsurerTermsTable(_Model):
    overdue_notification_days: Days
    max_extension_days: Days | None = None
    collection_days: Days | None = None  # checked against max_extension_days in _cross_checks
    warn_days: Days = 7


class OverrideEntry(_Model):
    customer: Text
    amount: Amount
    currency: Currency | None = None
    starts: TomlDate | None = None
    expires: TomlDate
    reason: Text
    approved_by: Text


class LimitsTable(_Model):
    precedence: tuple[SourceName, ...] = ("override", "insurer", "erp", "grade")
    discretionary: Amount = Decimal(0)
    grades: dict[str, Amount] = Field(default_factory=dict)  # keys checked in _cross_checks
    insurer: tuple[InsurerEntry, ...] = ()
    override: tuple[OverrideEntry, ...] = ()


class CustomerTable(_Model):
    grade: Grade | None = None
    segment: Text | None = None
    lang: Annotated[str, Field(pattern=r"^[a-z]{2}([_-][A-Za-z]{2})?$")] | None = None  # e.g. "fr", "de_CH"


class OverLimitTable(_Model):
    enabled: StrictBool = True
    tolerance_percent: Percent = Decimal(0)
    tolerance_amount: Amount = Decimal(0)


class OverdueTable(_Model):
    enabled: StrictBool = True
    days: Days = 30
    amount: Amount = Decimal(0)


class GradeRuleTable(_Model):
    enabled: StrictBool = True
    hold_at_or_worse: Grade = 9


class SwitchTable(_Model):
    enabled: StrictBool = True


class RulesTable(_Model):
    over_limit: OverLimitTable = OverLimitTable()
    overdue: OverdueTable = OverdueTable()
    grade: GradeRuleTable = GradeRuleTable()
    no_limit: SwitchTable = SwitchTable()
    cover_withdrawn: SwitchTable = SwitchTable()
    insurer_cover: SwitchTable = SwitchTable()
    erp_blocked: SwitchTable = SwitchTable()


class ExemptionsTable(_Model):
    customers: tuple[Text, ...] = ()
    auto_approve_below: Amount | None = None
    excluded_order_types: tuple[Text, ...] = ()


class TierEntry(_Model):
    role: Text
    up_to: Amount | None = None


class SegmentTable(_Model):
    profile: ProfileName = "standard"
    auto_approve_below: Amount | None = None
    overdue_days: Days | None = None
    overdue_amount: Amount | None = None
    large_order_threshold: Amount | None = None
    large_order_tier: Text | None = None
    project_limit: Amount | None = None


class AgeingAlertEntry(_Model):
    days: Days
    action: Literal["activity", "message", "both"] = "activity"
    summary: Text = m.DEFAULT_ALERT_SUMMARY
    activity_type: Text = m.TODO_ACTIVITY
    deadline_days: Days = 0
    user_id: Annotated[StrictInt, Field(ge=1)] | None = None


class AlertsTable(_Model):
    ageing: tuple[AgeingAlertEntry, ...] = ()


class AgeingTable(_Model):
    buckets: tuple[Days, ...] = m.DEFAULT_AGEING_BUCKETS  # order, start and length checked in _cross_checks


class DunningLevelEntry(_Model):
    days: Days
    channel: Literal["email", "letter"]
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]  # a file name part: no paths
    approval: StrictBool = False
    name: Text | None = None


class DunningTable(_Model):
    send: Literal["propose", "auto"] = "propose"
    templates_dir: Text | None = None
    levels: tuple[DunningLevelEntry, ...] = ()  # strictly increasing days, checked in _cross_checks


class PaymentBehaviourEntry(_Model):
    average_days_late: DaysLate  # strictly increasing, checked in _cross_checks
    adjust: Annotated[StrictInt, Field(ge=-9, le=9)]
    share_paid_late: Share | None = None
    min_items: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = m.DEFAULT_PAYMENT_MIN_ITEMS


class CasesTable(_Model):
    exclude_disputed: StrictBool = True


class CaseEntry(_Model):
    name: Text
    customer: Text
    exposure: Amount
    order: Amount
    expect: Literal["approve", "hold"]
    as_of: TomlDate
    overdue: Amount = Decimal(0)
    oldest_due: TomlDate | None = None
    grade: Grade | None = None
    segment: Text | None = None
    erp_limit: Amount | None = None
    risk_category: Text | None = None
    erp_blocked: StrictBool = False
    reasons: tuple[Text, ...] | None = None
    release_tier: Text | None = None
    rates: dict[str, Amount] = Field(default_factory=dict)
    average_days_late: DaysLate | None = None  # how the customer pays ([[payment_behaviour]])
    share_paid_late: Share | None = None
    paid_items: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None


class PolicyFile(_Model):
    version: Version
    name: Text
    base_currency: Currency
    exposure: ExposureTable = ExposureTable()
    grouping: GroupingTable = GroupingTable()
    limits: LimitsTable = LimitsTable()
    customers: dict[str, CustomerTable] = Field(default_factory=dict)
    risk_categories: dict[str, Grade] = Field(default_factory=dict)  # ERP risk category → grade
    rules: RulesTable = RulesTable()
    exemptions: ExemptionsTable = ExemptionsTable()
    approval_tiers: tuple[TierEntry, ...] = ()
    segments: dict[str, SegmentTable] = Field(default_factory=dict)
    tests: tuple[CaseEntry, ...] = ()
    alerts: AlertsTable = AlertsTable()
    insurers: dict[str, InsurerTermsTable] = Field(default_factory=dict)  # keys checked in _cross_checks
    ageing: AgeingTable = AgeingTable()
    dunning: DunningTable = DunningTable()
    cases: CasesTable = CasesTable()
    payment_behaviour: tuple[PaymentBehaviourEntry, ...] = ()


# Arrays of tables, for the hint when one is written as a single [table].
_ARRAYS_OF_TABLES = {("limits", "insurer"), ("limits", "override"), ("approval_tiers",), ("tests",),
                     ("alerts", "ageing"), ("dunning", "levels"), ("payment_behaviour",)}
# Keys that only mean something for one segment profile.
_PROFILE_KEYS = {
    "large_order_threshold": "manufacturing",
    "large_order_tier": "manufacturing",
    "project_limit": "construction",
}


# ---------------------------------------------------------------------------
# Checks across keys (on the raw data, so they run even when fields are invalid)


def _table(data: object, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _array(data: object, *keys: str) -> list[Any]:
    *parents, last = keys
    value = _table(data, *parents).get(last)
    return value if isinstance(value, list) else []


def _valid(parse: Any, value: object) -> Any:
    """``parse(value)``, or ``None`` if the value is invalid (reported elsewhere)."""
    try:
        return parse(value)
    except PydanticCustomError:
        return None


def _hint(value: str, choices: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if choices:
        return f"; {what}: {', '.join(choices)}"
    return ""


def _cross_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    return [
        *_grouping_checks(data),
        *_precedence_checks(data),
        *_grade_key_checks(data),
        *_period_checks(data, "insurer", "decided"),
        *_period_checks(data, "override", "starts"),
        *_customer_checks(data),
        *_tier_checks(data),
        *_segment_checks(data),
        *_alert_checks(data),
        *_insurer_terms_checks(data),
        *_ageing_checks(data),
        *_dunning_checks(data),
        *_payment_behaviour_checks(data),
    ]


def _payment_behaviour_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Payment behaviour steps strictly increasing in average_days_late, so that the one that applies (the
    highest that matches) is never in doubt."""
    issues = []
    previous = None
    for index, entry in enumerate(_array(data, "payment_behaviour")):
        days = _valid(_parse_days_late, entry.get("average_days_late")) if isinstance(entry, dict) else None
        if days is None:
            continue  # reported by its field
        if previous is not None and days <= previous:
            issues.append(_issue(("payment_behaviour", index, "average_days_late"),
                                 f"steps must be strictly increasing in average_days_late: {days} is not above "
                                 f"{previous}; list the mildest step first"))
        previous = days
    return issues


def _ageing_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Ageing buckets: 0 first, then strictly increasing day counts, at most MAX_AGEING_BUCKETS of them."""
    buckets = _table(data, "ageing").get("buckets")
    if not isinstance(buckets, list):
        return []  # absent (the default applies) or not an array (reported by its field)
    example = "write e.g. buckets = [0, 30, 60, 90, 120]"
    if not buckets:
        return [_issue(("ageing", "buckets"), f"list at least the 0 of the not-due column; {example}")]
    issues = []
    if len(buckets) > m.MAX_AGEING_BUCKETS:
        issues.append(_issue(("ageing", "buckets"), f"at most {m.MAX_AGEING_BUCKETS} buckets (got {len(buckets)}): "
                                                    "a wider report no longer fits a screen or a page"))
    # values that are not whole days from 0 to 100000 are reported by their field
    days = [(index, value) for index, value in enumerate(buckets)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100_000]
    if days and days[0][0] == 0 and days[0][1] != 0:
        issues.append(_issue(("ageing", "buckets", 0), f"the first bucket must be 0, the not-due column (got "
                                                       f"{days[0][1]}); {example}"))
    previous = None
    for index, value in days:
        if previous is not None and value <= previous:
            issues.append(_issue(("ageing", "buckets", index), f"buckets must be strictly increasing: {value} is "
                                                               f"not above {previous}; {example}"))
        previous = value
    return issues


def _dunning_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Dunning levels strictly increasing in days, so each overdue group climbs them in order."""
    issues = []
    previous = None
    for index, entry in enumerate(_array(data, "dunning", "levels")):
        days = entry.get("days") if isinstance(entry, dict) else None
        if not isinstance(days, int) or isinstance(days, bool):
            continue  # reported by its field
        if previous is not None and days <= previous:
            issues.append(_issue(("dunning", "levels", index, "days"),
                                 f"levels must be strictly increasing in days: {days} is not above {previous}; "
                                 "list the reminder first, then the demand letter"))
        previous = days
    if "templates_dir" not in _table(data, "dunning"):  # the shipped templates only: the name must be one of them
        shipped = sorted({f.name.split(".")[0] for f in SHIPPED_TEMPLATES.glob("*.en.html")})
        for index, entry in enumerate(_array(data, "dunning", "levels")):
            name = entry.get("template") if isinstance(entry, dict) else None
            if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) and name not in shipped:
                issues.append(_issue(("dunning", "levels", index, "template"),
                                     f"unknown template {name!r}" + _hint(name, shipped, "shipped templates")
                                     + " (or set [dunning] templates_dir to your own templates)"))
    return issues


def _insurer_terms_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    """No terms under a misspelt insurer name; the collection period only after an MEP.  Terms for an
    insurer no [[limits.insurer]] entry names are fine: its decisions may come from ``creditguard insurer
    import`` (docs/insurer-feed.md); only a name close to one the entries use is taken for a typo."""
    used = list(dict.fromkeys(e["insurer"] for e in _array(data, "limits", "insurer")
                              if isinstance(e, dict) and isinstance(e.get("insurer"), str)))
    issues = []
    for name, terms in _table(data, "insurers").items():
        close = difflib.get_close_matches(name, used, n=1, cutoff=0.6) if name not in used else []
        if close:
            issues.append(_issue(("insurers", name), f"no [[limits.insurer]] entry names insurer {name!r} (the "
                                                     f"entries name {', '.join(map(repr, used))}); did you mean "
                                                     f"{close[0]!r}?"))
        if isinstance(terms, dict) and "collection_days" in terms and "max_extension_days" not in terms:
            issues.append(_issue(("insurers", name, "collection_days"),
                                 "collection_days counts from the end of the maximum extension period: "
                                 "give max_extension_days as well"))
    return issues


def _alert_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Ageing thresholds strictly increasing, so each invoice crosses them in order."""
    issues = []
    previous = None
    for index, entry in enumerate(_array(data, "alerts", "ageing")):
        days = entry.get("days") if isinstance(entry, dict) else None
        if not isinstance(days, int) or isinstance(days, bool):
            continue
        if previous is not None and days <= previous:
            issues.append(_issue(("alerts", "ageing", index, "days"),
                                 f"thresholds must increase: {days} days comes after {previous} days"))
        previous = days
    return issues


def _grouping_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    grouping = _table(data, "grouping")
    key = grouping.get("key", "commercial_entity")
    groups = grouping.get("groups")
    issues: list[InitErrorDetails] = []
    if groups is not None and key == "commercial_entity":
        issues.append(
            _issue(
                ("grouping", "groups"),
                "groups are only used with key = \"custom\" (with \"commercial_entity\" customers "
                "are grouped by their parent company); set key = \"custom\" or remove the groups",
            )
        )
    if key == "custom" and not groups:
        issues.append(
            _issue(("grouping", "key"), "key = \"custom\" needs a [grouping.groups] table listing the groups")
        )
    seen: dict[str, str] = {}
    for group, members in _table(grouping, "groups").items():
        if not isinstance(members, list):
            continue
        for index, customer in enumerate(members):
            if not isinstance(customer, str):
                continue
            if customer in seen:
                first = seen[customer]
                where = "twice in this group" if first == group else f"already in group {first!r}"
                issues.append(
                    _issue(
                        ("grouping", "groups", group, index),
                        f"customer {customer!r} is {where}; a customer belongs to one group only",
                    )
                )
            else:
                seen[customer] = group
    return issues


def _precedence_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    limits = _table(data, "limits")
    precedence = limits.get("precedence")
    if not isinstance(precedence, list):
        return []
    if not precedence:
        return [
            _issue(("limits", "precedence"), "list at least one limit source: override, insurer, erp, grade")
        ]
    issues = []
    seen: dict[str, int] = {}
    for index, source in enumerate(precedence):
        if not isinstance(source, str):
            continue
        if source in seen:
            issues.append(
                _issue(
                    ("limits", "precedence", index),
                    f"{source!r} is listed twice (already limits.precedence.{seen[source]}); "
                    "list each limit source once",
                )
            )
        else:
            seen[source] = index
    return issues


def _grade_key_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    return [
        _issue(
            ("limits", "grades", key),
            f"unknown grade {key!r}: grades are the integers 1 (best) to 10 (default)",
        )
        for key in _table(data, "limits", "grades")
        if key not in {str(g) for g in GRADES}
    ]


def _period_checks(data: dict[str, Any], kind: str, start_key: str) -> list[InitErrorDetails]:
    """``expires`` not before the start; one entry in force at a time per customer."""
    issues: list[InitErrorDetails] = []
    periods: list[tuple[int, str, date | None, date | None]] = []
    what = "insurer limit" if kind == "insurer" else "override"
    required = "decided" if kind == "insurer" else "expires"
    for index, entry in enumerate(_array(data, "limits", kind)):
        if not isinstance(entry, dict) or required not in entry:
            continue  # a missing required date is reported by its field
        start = _valid(_parse_date, entry.get(start_key)) if start_key in entry else None
        end = _valid(_parse_date, entry.get("expires")) if "expires" in entry else None
        if start is not None and end is not None and end < start:
            issues.append(
                _issue(
                    ("limits", kind, index, "expires"),
                    f"expires ({end}) is before {start_key} ({start})",
                )
            )
            continue
        customer = entry.get("customer")
        if not isinstance(customer, str):
            continue
        if start_key in entry and start is None or "expires" in entry and end is None:
            continue  # an invalid date, reported by its field
        for other, other_customer, other_start, other_end in periods:
            if other_customer != customer:
                continue
            if (other_end is None or start is None or start <= other_end) and (
                end is None or other_start is None or other_start <= end
            ):
                issues.append(
                    _issue(
                        ("limits", kind, index),
                        f"{what} for customer {customer!r} ({_period(start, end)}) overlaps "
                        f"limits.{kind}.{other} ({_period(other_start, other_end)}); "
                        f"a customer has one {what} in force at a time: end the earlier one "
                        "(expires) before the next one starts",
                    )
                )
                break
        periods.append((index, customer, start, end))
    return issues


def _period(start: date | None, end: date | None) -> str:
    return f"{start or 'always'} to {end or 'open-ended'}"


def _customer_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    segments = list(_table(data, "segments"))
    issues = []
    for ref, customer in _table(data, "customers").items():
        segment = customer.get("segment") if isinstance(customer, dict) else None
        if isinstance(segment, str) and segment.strip() and segment not in segments:
            message = f"unknown segment {segment!r}"
            message += _hint(segment, segments, "defined segments") if segments else (
                "; define it in a [segments." + segment + "] table"
            )
            issues.append(_issue(("customers", ref, "segment"), message))
    return issues


def _tier_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    tiers = _array(data, "approval_tiers")
    issues = []
    roles: dict[str, int] = {}
    previous: tuple[int, str, Decimal] | None = None
    for index, tier in enumerate(tiers):
        if not isinstance(tier, dict):
            continue
        role = tier.get("role")
        label = repr(role) if isinstance(role, str) else f"tier {index}"
        if isinstance(role, str):
            if role in roles:
                issues.append(
                    _issue(
                        ("approval_tiers", index, "role"),
                        f"duplicate role {role!r} (already approval_tiers.{roles[role]}); "
                        "roles must be unique",
                    )
                )
            else:
                roles[role] = index
        if "up_to" not in tier:
            if index != len(tiers) - 1:
                issues.append(
                    _issue(
                        ("approval_tiers", index),
                        f"only the last tier may omit up_to (no upper bound); give {label} an up_to "
                        "or move it to the end",
                    )
                )
            continue
        up_to = _valid(_parse_amount, tier["up_to"])
        if up_to is None:
            continue
        if previous is not None and up_to <= previous[2]:
            other, other_label, other_up_to = previous
            issues.append(
                _issue(
                    ("approval_tiers", index, "up_to"),
                    f"tiers overlap or are out of order: approval_tiers.{index} ({label}, up to {up_to}) "
                    f"must be above approval_tiers.{other} ({other_label}, up to {other_up_to}); "
                    "list tiers from the smallest up_to to the largest",
                )
            )
        previous = (index, label, up_to)
    return issues


def _segment_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    tiers = [t for t in _array(data, "approval_tiers") if isinstance(t, dict)]
    roles = list(dict.fromkeys(t["role"] for t in tiers if isinstance(t.get("role"), str)))
    profiles = typing.get_args(ProfileName)
    issues = []
    for name, segment in _table(data, "segments").items():
        if not isinstance(segment, dict):
            continue
        profile = segment.get("profile", "standard")
        for key, needs in _PROFILE_KEYS.items():
            if key in segment and profile in profiles and profile != needs:
                issues.append(
                    _issue(
                        ("segments", name, key),
                        f"{key} applies only to profile {needs!r} (this segment's profile is {profile!r})",
                    )
                )
        tier = segment.get("large_order_tier")
        if isinstance(tier, str) and tier.strip() and tier not in roles:
            message = f"unknown approval tier {tier!r}"
            if roles:
                message += _hint(tier, roles, "roles of [[approval_tiers]]")
            else:
                message += "; no [[approval_tiers]] are defined"
            issues.append(_issue(("segments", name, "large_order_tier"), message))
        pair = [k for k in ("large_order_threshold", "large_order_tier") if k in segment]
        if len(pair) == 1:
            present = pair[0]
            missing = "large_order_tier" if present == "large_order_threshold" else "large_order_threshold"
            issues.append(_issue(("segments", name, present), f"{present} needs {missing} as well"))
    return issues


# ---------------------------------------------------------------------------
# Error reporting


def _field_annotation(model: type[BaseModel], key: str) -> Any:
    field = model.model_fields.get(key)
    return None if field is None else field.annotation


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside ``annotation`` and whether it sits behind a dict key."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        inner, _ = _model_of(args[1])
        return inner, True
    for arg in args:
        inner, keyed = _model_of(arg)
        if inner is not None:
            return inner, keyed
    return None, False


def _table_model(loc: KeyPath) -> type[BaseModel] | None:
    """The model of the table at ``loc``, following dict keys (``customers.C00001``)."""
    current: type[BaseModel] | None = PolicyFile
    skip_key = False
    for part in loc:
        if skip_key:
            skip_key = False
            continue
        if isinstance(part, int):
            continue
        if current is None:
            return None
        current, skip_key = _model_of(_field_annotation(current, part))
    return None if skip_key else current


def _explain(err: dict[str, Any]) -> InitErrorDetails:
    """A pydantic error, with the policy's own wording where it helps."""
    loc: KeyPath = tuple(err["loc"])
    kind = err["type"]
    if kind == _ERROR_TYPE:
        return _issue(loc, err["ctx"]["message"])
    if kind == "extra_forbidden":
        allowed = list((_table_model(loc[:-1]) or _Model).model_fields)
        message = f"unknown key {loc[-1]!r}"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif allowed:
            message += f"; allowed keys: {', '.join(allowed)}"
        return _issue(loc, message)
    if kind == "missing" and loc == ("version",):
        return _issue(loc, "missing required key 'version' (write version = 1 at the top of the file)")
    if kind in ("tuple_type", "list_type") and loc in _ARRAYS_OF_TABLES:
        header = format_path(loc)
        return _issue(loc, f"expected an array of tables: write each entry as [[{header}]], not [{header}]")
    detail = InitErrorDetails(type=kind, loc=loc, input=err.get("input"))
    if "ctx" in err:
        detail["ctx"] = err["ctx"]
    return detail


# ---------------------------------------------------------------------------
# Loading


def _read(file: Path) -> tuple[dict[str, Any], TomlPositions, bytes]:
    """The parsed file, its key positions and the very bytes that were parsed."""
    for _ in range(3):
        try:
            before = file.read_bytes()
        except OSError:
            before = None
        data, positions = read_toml(file)
        try:
            after = file.read_bytes()
        except OSError:
            after = None
        if before is not None and before == after:
            return data, positions, after
    raise ConfigError(f"{file}: the file keeps changing while it is read; try again")


def load_policy(path: str | os.PathLike[str]) -> m.Policy:
    """Read, validate and convert the policy file at ``path``.

    Raises :class:`PolicyError` listing every problem, one
    ``FILE:LINE:COLUMN: key.path: message`` line each, in file order.
    """
    file = Path(path)
    name = os.fspath(path)
    try:
        data, positions, raw = _read(file)
    except ConfigError as exc:
        raise PolicyError(str(exc).splitlines()) from None
    issues = _cross_checks(data)
    parsed: PolicyFile | None = None
    try:
        parsed = PolicyFile.model_validate(data)
    except ValidationError as exc:
        issues = [*(_explain(err) for err in exc.errors(include_url=False)), *issues]
    if issues:
        error = ValidationError.from_exception_data("Policy", issues, hide_input=True)
        raise PolicyError(validation_messages(name, error, positions, PolicyFile))
    assert parsed is not None
    return _convert(parsed, content_hash=hashlib.sha256(raw).hexdigest(), path=name, positions=positions)


def validate_policy_files(paths: Iterable[str | os.PathLike[str]]) -> dict[str, list[str]]:
    """Every file's error lines (an empty list for a valid file), in the order given."""
    results: dict[str, list[str]] = {}
    for path in paths:
        try:
            load_policy(path)
        except PolicyError as exc:
            results[os.fspath(path)] = list(exc.errors)
        else:
            results[os.fspath(path)] = []
    return results


# ---------------------------------------------------------------------------
# Conversion into the frozen model


def _where(positions: TomlPositions | None, path: KeyPath) -> str:
    found = positions.find(path) if positions is not None else None
    return f"{found.line}:{found.column}" if found else "1:1"


def _convert(p: PolicyFile, *, content_hash: str, path: str, positions: TomlPositions | None = None) -> m.Policy:
    base = p.base_currency
    limits = p.limits
    return m.Policy(
        version=p.version,
        name=p.name,
        base_currency=base,
        exposure=m.ExposureSettings(
            open_invoices=p.exposure.open_invoices,
            credit_notes=p.exposure.credit_notes,
            draft_invoices=p.exposure.draft_invoices,
            uninvoiced_orders=p.exposure.uninvoiced_orders,
            quotations=p.exposure.quotations,
            current_order=p.exposure.current_order,
            conversion=m.Conversion(p.exposure.conversion),
        ),
        grouping=m.GroupingSettings(
            key=m.Grouping(p.grouping.key),
            groups=MappingProxyType(dict(p.grouping.groups or {})),
        ),
        limits=m.LimitSettings(
            precedence=tuple(m.LimitSource(s) for s in limits.precedence),
            grades=MappingProxyType(dict(sorted((int(k), v) for k, v in limits.grades.items()))),
            discretionary=limits.discretionary,
            insurer=tuple(
                m.InsurerLimit(
                    customer=e.customer,
                    insurer=e.insurer,
                    amount=e.amount,
                    currency=e.currency or base,
                    decided=e.decided,
                    expires=e.expires,
                    status=m.InsurerStatus(e.status),
                )
                for e in limits.insurer
            ),
            overrides=tuple(
                m.LimitOverride(
                    customer=e.customer,
                    amount=e.amount,
                    currency=e.currency or base,
                    expires=e.expires,
                    reason=e.reason,
                    approved_by=e.approved_by,
                    starts=e.starts,
                )
                for e in limits.override
            ),
        ),
        customers=MappingProxyType(
            {ref: m.CustomerFile(grade=c.grade, segment=c.segment, lang=c.lang) for ref, c in p.customers.items()}
        ),
        risk_categories=MappingProxyType(dict(p.risk_categories)),
        rules=m.Rules(
            over_limit=m.OverLimitRule(**dict(p.rules.over_limit)),
            overdue=m.OverdueRule(**dict(p.rules.overdue)),
            grade=m.GradeRule(**dict(p.rules.grade)),
            no_limit=m.SwitchRule(**dict(p.rules.no_limit)),
            cover_withdrawn=m.SwitchRule(**dict(p.rules.cover_withdrawn)),
            insurer_cover=m.SwitchRule(**dict(p.rules.insurer_cover)),
            erp_blocked=m.SwitchRule(**dict(p.rules.erp_blocked)),
        ),
        exemptions=m.Exemptions(
            customers=frozenset(p.exemptions.customers),
            auto_approve_below=p.exemptions.auto_approve_below,
            excluded_order_types=frozenset(p.exemptions.excluded_order_types),
        ),
        approval_tiers=tuple(m.ApprovalTier(role=t.role, up_to=t.up_to) for t in p.approval_tiers),
        segments=MappingProxyType(
            {
                name: m.Segment(
                    profile=m.Profile(s.profile),
                    auto_approve_below=s.auto_approve_below,
                    overdue_days=s.overdue_days,
                    overdue_amount=s.overdue_amount,
                    large_order_threshold=s.large_order_threshold,
                    large_order_tier=s.large_order_tier,
                    project_limit=s.project_limit,
                )
                for name, s in p.segments.items()
            }
        ),
        alerts=tuple(
            m.AgeingAlert(days=a.days, action=m.AlertAction(a.action), summary=a.summary,
                          activity_type=a.activity_type, deadline_days=a.deadline_days, user_id=a.user_id)
            for a in p.alerts.ageing
        ),
        insurers=MappingProxyType({name: m.InsurerTerms(**dict(terms)) for name, terms in p.insurers.items()}),
        ageing=m.AgeingSettings(buckets=tuple(p.ageing.buckets)),
        dunning=DunningSettings(
            levels=tuple(DunningLevel(days=lv.days, channel=Channel(lv.channel), template=lv.template,
                                      approval=lv.approval, name=lv.name or "") for lv in p.dunning.levels),
            send=SendMode(p.dunning.send),
            templates_dir=str(Path(path).parent / p.dunning.templates_dir) if p.dunning.templates_dir else None),
        cases=CaseSettings(exclude_disputed=p.cases.exclude_disputed),
        payment_behaviour=tuple(
            m.PaymentBehaviourStep(average_days_late=b.average_days_late, adjust=b.adjust,
                                   share_paid_late=b.share_paid_late, min_items=b.min_items,
                                   where=f"payment_behaviour.{index}")
            for index, b in enumerate(p.payment_behaviour)
        ),
        tests=tuple(
            m.PolicyCase(
                name=c.name, customer=c.customer, exposure=c.exposure, order=c.order, expect=c.expect,
                as_of=c.as_of, overdue=c.overdue, oldest_due=c.oldest_due, grade=c.grade, segment=c.segment,
                erp_limit=c.erp_limit, risk_category=c.risk_category, erp_blocked=c.erp_blocked, reasons=c.reasons,
                release_tier=c.release_tier, rates=MappingProxyType(dict(c.rates)),
                average_days_late=c.average_days_late, share_paid_late=c.share_paid_late, paid_items=c.paid_items,
                where=_where(positions, ("tests", index)),
            )
            for index, c in enumerate(p.tests)
        ),
        content_hash=content_hash,
        path=path,
    )
