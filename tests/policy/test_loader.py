"""Tests for policy.loader: valid files, the frozen objects they become, round trips."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.loader import PolicyError, load_policy, validate_policy_files
from policy.model import (
    AgeingSettings,
    ApprovalTier,
    Conversion,
    CustomerFile,
    Exemptions,
    ExposureSettings,
    GradeRule,
    Grouping,
    GroupingSettings,
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

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "policy" / "examples"
EXAMPLE_NAMES = ["default", "manufacturing", "wholesale", "construction"]

MINIMAL = 'version = 1\nname = "Minimal"\nbase_currency = "EUR"\n'


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def without_origin(policy: Policy) -> Policy:
    return dataclasses.replace(policy, content_hash="", path=None)


# ---------------------------------------------------------------------------
# Examples


def test_the_four_examples_are_there() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.toml")) == sorted(EXAMPLE_NAMES)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_loads(name: str) -> None:
    path = EXAMPLES / f"{name}.toml"
    policy = load_policy(path)
    assert policy.version == 1
    assert policy.path == str(path)
    assert policy.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    # Each example shows tiers, grades, an insurer limit, a temporary override …
    assert policy.approval_tiers and policy.approval_tiers[-1].up_to is None
    assert set(policy.limits.grades) == set(range(1, 11))
    assert policy.limits.insurer and policy.limits.overrides
    # … and its industry's segment profile in use by a customer.
    expected_profile = Profile.STANDARD if name == "default" else Profile(name)
    used = {policy.segments[c.segment].profile for c in policy.customers.values() if c.segment}
    assert expected_profile in used
    # Every amount is a Decimal, every grade an int.
    for grade, limit in policy.limits.grades.items():
        assert type(grade) is int and type(limit) is Decimal
    for tier in policy.approval_tiers:
        assert tier.up_to is None or type(tier.up_to) is Decimal
    for entry in (*policy.limits.insurer, *policy.limits.overrides):
        assert type(entry.amount) is Decimal and type(entry.expires or date.min) is date


def test_default_example_values() -> None:
    policy = load_policy(EXAMPLES / "default.toml")
    assert policy.name == "Default credit policy"
    assert policy.base_currency == "USD"
    assert policy.exposure == ExposureSettings()
    assert policy.grouping == GroupingSettings(key=Grouping.COMMERCIAL_ENTITY)
    limits = policy.limits
    assert limits.precedence == (
        LimitSource.OVERRIDE,
        LimitSource.INSURER,
        LimitSource.ERP,
        LimitSource.GRADE,
    )
    assert limits.discretionary == Decimal("5000")
    assert limits.grades[1] == Decimal("250000") and limits.grades[10] == Decimal(0)
    assert list(limits.grades) == list(range(1, 11))
    assert limits.insurer[0] == InsurerLimit(
        customer="C00001",
        insurer="Allianz Trade",
        amount=Decimal("120000"),
        currency="USD",  # defaults to base_currency
        decided=date(2026, 1, 15),
        expires=date(2027, 1, 14),
        status=InsurerStatus.APPROVED,
    )
    assert limits.insurer[1].status is InsurerStatus.WITHDRAWN
    assert limits.insurer[1].expires is None
    assert limits.overrides == (
        LimitOverride(
            customer="C00002",
            amount=Decimal("80000"),
            currency="USD",
            expires=date(2026, 12, 31),
            reason="Q4 peak season",
            approved_by="CFO",
            starts=date(2026, 11, 1),
        ),
    )
    assert policy.customers["C00001"] == CustomerFile(grade=2, segment="key_accounts")
    assert policy.customers["C00004"] == CustomerFile(grade=8)
    assert policy.rules == Rules(
        over_limit=OverLimitRule(True, Decimal(5), Decimal(500)),
        overdue=OverdueRule(True, 30, Decimal(1000)),
        grade=GradeRule(True, 9),
        no_limit=SwitchRule(True),
        cover_withdrawn=SwitchRule(True),
    )
    assert policy.exemptions == Exemptions(
        customers=frozenset({"C00010"}),
        auto_approve_below=Decimal(250),
        excluded_order_types=frozenset({"sample"}),
    )
    assert policy.approval_tiers == (
        ApprovalTier("sales_manager", Decimal(25000)),
        ApprovalTier("credit_manager", Decimal(100000)),
        ApprovalTier("cfo", None),
    )
    assert policy.segments["key_accounts"] == Segment(
        profile=Profile.STANDARD,
        auto_approve_below=Decimal(1000),
        overdue_days=45,
        overdue_amount=Decimal(5000),
    )


def test_manufacturing_example_values() -> None:
    policy = load_policy(EXAMPLES / "manufacturing.toml")
    assert policy.base_currency == "EUR"
    assert policy.limits.precedence == (LimitSource.OVERRIDE, LimitSource.INSURER, LimitSource.GRADE)
    swiss = policy.limits.insurer[1]
    assert (swiss.currency, swiss.amount, swiss.status) == ("CHF", Decimal(150000), InsurerStatus.REDUCED)
    oem = policy.segments["oem"]
    assert oem.profile is Profile.MANUFACTURING
    assert oem.large_order_threshold == Decimal(100000)
    assert oem.large_order_tier == "credit_manager"
    assert oem.large_order_tier in {t.role for t in policy.approval_tiers}
    assert policy.exemptions.customers == frozenset()
    assert policy.exemptions.auto_approve_below is None
    assert policy.insurers == {
        "Allianz Trade": InsurerTerms(overdue_notification_days=60, warn_days=10),
        "Atradius": InsurerTerms(overdue_notification_days=60, max_extension_days=60, collection_days=30, warn_days=7),
    }
    assert isinstance(policy.insurers, MappingProxyType)
    assert policy.rules.insurer_cover == SwitchRule(enabled=True)


def test_wholesale_example_values() -> None:
    policy = load_policy(EXAMPLES / "wholesale.toml")
    assert policy.base_currency == "GBP"
    assert policy.exposure.conversion is Conversion.TODAY
    assert policy.exposure.draft_invoices is True
    assert policy.grouping.key is Grouping.CUSTOM
    assert policy.grouping.groups["Northern buying group"] == ("C00020", "C00021", "C00022")
    assert policy.rules.no_limit == SwitchRule(enabled=False)
    assert policy.rules.over_limit.tolerance_percent == Decimal(10)
    # An amount written as a string keeps its decimals.
    assert policy.limits.overrides[0].amount == Decimal("15000.00")
    assert str(policy.limits.overrides[0].amount) == "15000.00"
    retail = policy.segments["retail"]
    assert retail.profile is Profile.WHOLESALE
    assert (retail.auto_approve_below, retail.overdue_days, retail.overdue_amount) == (
        Decimal(1500),
        14,
        Decimal(0),
    )
    # Two successive insurer decisions for the same customer, not overlapping.
    first, second = policy.limits.insurer
    assert first.customer == second.customer == "C00020"
    assert first.expires is not None and first.expires < second.decided


def test_construction_example_values() -> None:
    policy = load_policy(EXAMPLES / "construction.toml")
    contractors = policy.segments["contractors"]
    assert contractors.profile is Profile.CONSTRUCTION
    assert contractors.project_limit == Decimal(250000)
    assert policy.rules.grade.hold_at_or_worse == 7
    assert policy.customers["C00005"].segment == "contractors"
    assert policy.approval_tiers[-1] == ApprovalTier("managing_director", None)


def test_policies_are_frozen() -> None:
    policy = load_policy(EXAMPLES / "default.toml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.name = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.limits.discretionary = Decimal(0)  # type: ignore[misc]
    for mapping in (policy.customers, policy.segments, policy.limits.grades, policy.grouping.groups):
        assert isinstance(mapping, MappingProxyType)
        with pytest.raises(TypeError):
            mapping["x"] = None  # type: ignore[index]
    assert isinstance(policy.approval_tiers, tuple)
    assert isinstance(policy.exemptions.customers, frozenset)


# ---------------------------------------------------------------------------
# Minimal files, defaults, hashes


def test_minimal_file_takes_every_default(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    policy = load_policy(path)
    assert policy == Policy(
        version=1,
        name="Minimal",
        base_currency="EUR",
        content_hash=hashlib.sha256(MINIMAL.encode()).hexdigest(),
        path=str(path),
    )
    assert policy.limits == LimitSettings()
    assert policy.rules == Rules()
    assert policy.customers == {} and policy.segments == {} and policy.approval_tiers == ()


def test_omitted_keys_inside_tables_take_defaults(tmp_path: Path) -> None:
    text = MINIMAL + (
        "[exposure]\nquotations = true\n"
        "[rules.overdue]\ndays = 10\n"
        "[limits]\ndiscretionary = 100\n"
        '[segments.x]\noverdue_days = 5\n'
        '[[approval_tiers]]\nrole = "boss"\n'
    )
    policy = load_policy(write(tmp_path, text))
    assert policy.exposure == ExposureSettings(quotations=True)
    assert policy.rules.overdue == OverdueRule(days=10)
    assert policy.rules.over_limit == OverLimitRule()
    assert policy.limits == LimitSettings(discretionary=Decimal(100))
    assert policy.segments == {"x": Segment(overdue_days=5)}
    assert policy.approval_tiers == (ApprovalTier("boss", None),)


def test_amounts_keep_their_exact_decimal_value(tmp_path: Path) -> None:
    text = MINIMAL + (
        "[limits]\ndiscretionary = 1000.10\n"
        '[limits.grades]\n1 = "2500.55"\n2 = 0.1\n3 = 7\n'
        "[rules.over_limit]\ntolerance_percent = 2.5\n"
    )
    policy = load_policy(write(tmp_path, text))
    assert policy.limits.discretionary == Decimal("1000.10")
    assert dict(policy.limits.grades) == {1: Decimal("2500.55"), 2: Decimal("0.1"), 3: Decimal(7)}
    assert policy.rules.over_limit.tolerance_percent == Decimal("2.5")


def test_content_hash_changes_when_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    first = load_policy(path)
    assert load_policy(path).content_hash == first.content_hash
    path.write_text(MINIMAL + "# a comment changes the hash too\n", encoding="utf-8")
    second = load_policy(path)
    assert second.content_hash != first.content_hash
    assert second.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert without_origin(second) == without_origin(first)


def test_validate_policy_files_reports_per_file(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL, "good.toml")
    bad = write(tmp_path, MINIMAL + "colour = 1\n", "bad.toml")
    missing = tmp_path / "missing.toml"
    results = validate_policy_files([good, bad, missing])
    assert list(results) == [str(good), str(bad), str(missing)]
    assert results[str(good)] == []
    assert results[str(bad)] == [f"{bad}:4:1: colour: unknown key 'colour'; allowed keys: " + ", ".join(
        ["version", "name", "base_currency", "exposure", "grouping", "limits", "customers", "risk_categories", "rules",
         "exemptions", "approval_tiers", "segments", "tests", "alerts", "insurers", "ageing", "dunning", "cases",
         "payment_behaviour"]
    )]
    assert results[str(missing)] == [f"{missing}: file not found"]


def test_policy_error_lists_lines(tmp_path: Path) -> None:
    path = write(tmp_path, 'version = 1\nname = ""\nbase_currency = "EUR"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.errors == (f"{path}:2:1: name: must not be empty",)
    assert str(info.value) == info.value.errors[0]


# ---------------------------------------------------------------------------
# Round trip: random valid policies rendered to TOML load back equal

CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CHF"]
ROLES = ["clerk", "sales_manager", "credit_manager", "controller", "cfo"]
refs = st.integers(1, 58).map(lambda n: f"C{n:05d}")
amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
days = st.dates(date(2024, 1, 1), date(2030, 12, 31))
texts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC-éü'\"\\", min_size=1, max_size=12).filter(str.strip)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    base = draw(st.sampled_from(CURRENCIES))
    customers = draw(st.lists(refs, unique=True, max_size=6))
    segment_names = draw(st.lists(st.sampled_from(["retail", "oem", "sites", "key accounts"]), unique=True))
    tier_roles = draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=4))
    bounds = sorted(draw(st.lists(amounts.filter(bool), unique=True, min_size=len(tier_roles), max_size=len(tier_roles))))
    tiers = [ApprovalTier(role, up_to) for role, up_to in zip(tier_roles, bounds)]
    if tiers and draw(st.booleans()):
        tiers[-1] = ApprovalTier(tiers[-1].role, None)

    segments = {}
    for name in segment_names:
        profile = draw(st.sampled_from(list(Profile)))
        extra = {}
        if profile is Profile.MANUFACTURING and tiers and draw(st.booleans()):
            extra = {"large_order_threshold": draw(amounts), "large_order_tier": draw(st.sampled_from(tier_roles))}
        if profile is Profile.CONSTRUCTION:
            extra = {"project_limit": draw(st.none() | amounts)}
        segments[name] = Segment(
            profile=profile,
            auto_approve_below=draw(st.none() | amounts),
            overdue_days=draw(st.none() | st.integers(0, 365)),
            overdue_amount=draw(st.none() | amounts),
            **extra,
        )

    def period(start_optional: bool) -> tuple[date | None, date | None]:
        start = draw(days)
        length = draw(st.none() | st.integers(0, 400))
        end = None if length is None else start + timedelta(days=length)
        return start, end

    insurer = []
    overrides = []
    for ref in customers:  # one entry of each kind per customer: no overlaps
        if draw(st.booleans()):
            decided, expires = period(False)
            insurer.append(
                InsurerLimit(ref, draw(texts), draw(amounts), draw(st.sampled_from(CURRENCIES)), decided, expires,
                             draw(st.sampled_from(list(InsurerStatus))))
            )
        if draw(st.booleans()):
            starts, expires = period(True)
            overrides.append(
                LimitOverride(ref, draw(amounts), draw(st.sampled_from(CURRENCIES)), expires or starts,
                              draw(texts), draw(texts), draw(st.none() | st.just(starts)))
            )
    terms = {}
    for name in dict.fromkeys(entry.insurer for entry in insurer):  # terms only for insurers that decided
        if draw(st.booleans()):
            mep = draw(st.none() | st.integers(0, 365))
            terms[name] = InsurerTerms(draw(st.integers(0, 365)), mep,
                                       draw(st.none() | st.integers(0, 90)) if mep is not None else None,
                                       draw(st.integers(0, 60)))
    grouping = GroupingSettings()
    if customers and draw(st.booleans()):
        split = draw(st.integers(1, len(customers)))
        grouping = GroupingSettings(
            Grouping.CUSTOM, MappingProxyType({"group a": tuple(customers[:split]), **(
                {"group b": tuple(customers[split:])} if customers[split:] else {})})
        )
    return Policy(
        version=1,
        name=draw(texts),
        base_currency=base,
        exposure=ExposureSettings(*draw(st.tuples(*[st.booleans()] * 6)), draw(st.sampled_from(list(Conversion)))),
        grouping=grouping,
        limits=LimitSettings(
            precedence=tuple(draw(st.permutations(list(LimitSource)))[: draw(st.integers(1, 4))]),
            grades=MappingProxyType(draw(st.dictionaries(st.integers(1, 10), amounts))),
            discretionary=draw(amounts),
            insurer=tuple(insurer),
            overrides=tuple(overrides),
        ),
        customers=MappingProxyType({
            ref: CustomerFile(draw(st.none() | st.integers(1, 10)),
                              draw(st.none() | st.sampled_from(segment_names)) if segment_names else None)
            for ref in customers
        }),
        rules=Rules(
            OverLimitRule(draw(st.booleans()), draw(amounts.filter(lambda a: a <= 100)), draw(amounts)),
            OverdueRule(draw(st.booleans()), draw(st.integers(0, 365)), draw(amounts)),
            GradeRule(draw(st.booleans()), draw(st.integers(1, 10))),
            SwitchRule(draw(st.booleans())),
            SwitchRule(draw(st.booleans())),
            SwitchRule(draw(st.booleans())),
        ),
        exemptions=Exemptions(
            frozenset(draw(st.lists(refs, max_size=3))),
            draw(st.none() | amounts),
            frozenset(draw(st.lists(st.sampled_from(["sample", "warranty", "internal"]), max_size=2))),
        ),
        approval_tiers=tuple(tiers),
        segments=MappingProxyType(segments),
        insurers=MappingProxyType(terms),
        ageing=AgeingSettings(draw(st.lists(st.integers(1, 1000), unique=True, max_size=11).map(
            lambda days: (0, *sorted(days))))),
    )


def toml_value(value: object, as_string: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f'"{value}"' if as_string else str(value)
    if isinstance(value, (int, date)):
        return str(value) if isinstance(value, int) else value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for this alphabet
    if isinstance(value, frozenset):
        value = sorted(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, as_string) for v in value) + "]"
    raise TypeError(value)


def render(policy: Policy, strings: bool) -> str:
    """The policy as TOML, as a finance user would write it (amounts as strings if ``strings``)."""
    def fields(obj: object, skip: tuple[str, ...] = ()) -> list[str]:
        lines = []
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            value = getattr(obj, f.name)
            if f.name in skip or value is None:
                continue
            lines.append(f"{f.name} = {toml_value(value, strings)}")
        return lines

    out = [f"version = {policy.version}", f"name = {toml_value(policy.name)}",
           f"base_currency = {toml_value(policy.base_currency)}", "[exposure]", *fields(policy.exposure),
           "[grouping]", f"key = {toml_value(str(policy.grouping.key))}"]
    if policy.grouping.groups:
        out.append("[grouping.groups]")
        out += [f"{toml_value(k)} = {toml_value(v)}" for k, v in policy.grouping.groups.items()]
    limits = policy.limits
    out += ["[limits]", f"precedence = {toml_value([str(s) for s in limits.precedence])}",
            f"discretionary = {toml_value(limits.discretionary, strings)}", "[limits.grades]"]
    out += [f"{grade} = {toml_value(amount, strings)}" for grade, amount in limits.grades.items()]
    for entry in limits.insurer:
        out += ["[[limits.insurer]]", *fields(entry)]
    for entry in limits.overrides:
        out += ["[[limits.override]]", *fields(entry)]
    for ref, customer in policy.customers.items():
        out += [f"[customers.{toml_value(ref)}]", *fields(customer)]
    for name in ("over_limit", "overdue", "grade", "no_limit", "cover_withdrawn", "insurer_cover"):
        out += [f"[rules.{name}]", *fields(getattr(policy.rules, name))]
    out += ["[exemptions]", *fields(policy.exemptions)]
    for tier in policy.approval_tiers:
        out += ["[[approval_tiers]]", *fields(tier)]
    for name, segment in policy.segments.items():
        out += [f"[segments.{toml_value(name)}]", *fields(segment)]
    for name, terms in policy.insurers.items():
        out += [f"[insurers.{toml_value(name)}]", *fields(terms)]
    out += ["[ageing]", *fields(policy.ageing)]
    return "\n".join(out) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), strings=st.booleans())
def test_random_valid_policies_round_trip(policy: Policy, strings: bool) -> None:
    text = render(policy, strings)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.toml"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_policy(path)
        except PolicyError as exc:  # pragma: no cover - shows the text on failure
            pytest.fail(f"{exc}\n---\n{text}")
    assert without_origin(loaded) == policy
    assert loaded.content_hash == hashlib.sha256(text.encode()).hexdigest()
