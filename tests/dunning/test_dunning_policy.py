"""`[dunning]` and `[cases]` in policy files; the pure dunning plan and case transitions (Hypothesis where
arithmetic is involved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.cases import CaseError, Figures, promise_outcome, transition
from connector.dunning import GroupFacts, plan
from connector.dunning_render import LetterItem, render_letter, totals
from connector.money import to_minor
from connector.store.cases import CaseRecord
from policy.loader import PolicyError, load_policy

from .conftest import ladder

HEAD = 'version = 1\nname = "t"\nbase_currency = "EUR"\n'
LEVELS = ladder(approval="true", extra='name = "Demand letter"\n\n[customers.C1]\nlang = "fr"\n')


def load(tmp_path, text):
    path = tmp_path / "policy.toml"
    path.write_text(HEAD + text)
    return load_policy(path)


def errors(tmp_path, text):
    with pytest.raises(PolicyError) as info:
        load(tmp_path, text)
    return info.value.errors


def test_levels_load(tmp_path):
    policy = load(tmp_path, LEVELS)
    d = policy.dunning
    assert [lv.days for lv in d.levels] == [7, 30] and d.send.value == "auto"
    assert d.levels[1].label == "Demand letter" and d.levels[0].label == "Reminder"
    assert not d.needs_approval(d.levels[0]) and d.needs_approval(d.levels[1])
    assert policy.cases.exclude_disputed is True and policy.customers["C1"].lang == "fr"
    assert load(tmp_path, "").dunning.levels == ()


def test_bad_levels_are_reported_with_file_line_column_and_key(tmp_path):
    text = LEVELS.replace("days = 30", "days = 7").replace('channel = "letter"', 'channel = "fax"') \
        .replace("approval = true", "approval = true\ncolour = 1")
    found = errors(tmp_path, text)
    assert any(":14:1: dunning.levels.1.days: levels must be strictly increasing" in e for e in found), found
    assert any("dunning.levels.1.channel" in e for e in found), found
    assert any("dunning.levels.1.colour: unknown key 'colour'" in e for e in found), found
    found = errors(tmp_path, LEVELS.replace('template = "demand"', 'template = "demnad"'))
    assert any("dunning.levels.1.template: unknown template 'demnad'; did you mean 'demand'?" in e
               for e in found), found
    found = errors(tmp_path, LEVELS.replace('template = "demand"', 'template = "../etc/passwd"'))
    assert any("dunning.levels.1.template" in e for e in found), found
    found = errors(tmp_path, LEVELS.replace('send = "auto"', 'send = "always"'))
    assert any("dunning.send" in e for e in found), found
    found = errors(tmp_path, "[cases]\nexclude_disputed = 1\n")
    assert any("cases.exclude_disputed" in e for e in found), found
    found = errors(tmp_path, "[dunning.levels]\ndays = 1\n")
    assert any("write each entry as [[dunning.levels]]" in e for e in found), found


AS_OF = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


def facts(days: int, overdue: Decimal, disputed: Decimal = Decimal(0)) -> GroupFacts:
    item = LetterItem("INV/1", AS_OF - timedelta(days=days), days, overdue, "EUR")
    return GroupFacts("odoo", "7", "Acme", None, (item,) if overdue > 0 else (), Figures("EUR", overdue,
                                                                                         overdue, disputed))


def case(state="open", **kw) -> CaseRecord:
    return CaseRecord(1, "odoo", "7", "Acme", state, "EUR", AS_OF, NOW, NOW, **kw)


@given(days=st.integers(min_value=0, max_value=400))
def test_the_level_reached_is_the_highest_crossed(tmp_path_factory, days):
    policy = load(tmp_path_factory.mktemp("p"), LEVELS)
    p = plan(policy, AS_OF, facts(days, Decimal("100.00")), None, {})
    if days < 7:
        assert p.action == "wait" and p.level is None
    elif days < 30:
        assert p.action == "send" and p.level.days == 7
    else:  # the demand letter needs approval; a group first seen late skips the reminder
        assert p.action == "propose" and p.level.days == 30


def test_plan_stops_and_steps(tmp_path):
    policy = load(tmp_path, LEVELS)
    f = facts(10, Decimal("100.00"))
    assert plan(policy, AS_OF, f, case(), {7: "queued"}).action == "done"
    assert plan(policy, AS_OF, f, case(), {30: "queued"}).action == "done"
    assert plan(policy, AS_OF, f, case("promise_to_pay", promise_date=AS_OF), {}).action == "stop"
    assert plan(policy, AS_OF, f, case("handed_to_collection"), {}).action == "stop"
    assert plan(policy, AS_OF, facts(40, Decimal("1")), case(), {7: "queued", 30: "proposed"}).action == "pending"
    assert plan(policy, AS_OF, facts(40, Decimal("1")), case(), {7: "queued", 30: "approved"}).action == "send"
    assert plan(policy, AS_OF, facts(10, Decimal(0)), case(), {}).action == "close"
    assert plan(policy, AS_OF, facts(10, Decimal(0)), None, {}).action == "none"


@given(overdue=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
       disputed=st.decimals(min_value=Decimal("0"), max_value=Decimal("1e9"), places=2))
def test_a_dispute_covering_the_overdue_stops_dunning(tmp_path_factory, overdue, disputed):
    policy = load(tmp_path_factory.mktemp("p"), LEVELS)
    p = plan(policy, AS_OF, facts(10, overdue, disputed), case("disputed"), {})
    assert p.action == ("none" if disputed >= overdue else "send")


@given(promised=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e6"), places=2),
       paid=st.decimals(min_value=Decimal("0"), max_value=Decimal("1e6"), places=2),
       extra=st.decimals(min_value=Decimal("0"), max_value=Decimal("1e6"), places=2))
def test_a_promise_is_kept_when_the_promised_amount_was_paid(promised, paid, extra):
    before = promised + extra
    c = case("promise_to_pay", promise_date=AS_OF, promise_amount_minor=to_minor(promised, "EUR"),
             promise_overdue_minor=to_minor(before, "EUR"))
    now_overdue = max(Decimal(0), before - paid)
    assert promise_outcome(c, AS_OF, now_overdue) is None  # its day has not passed
    outcome = promise_outcome(c, AS_OF + timedelta(days=1), now_overdue)
    assert outcome == ("kept" if paid >= promised or now_overdue == 0 else "broken")


def test_transitions_validate_and_record():
    c = case()
    with pytest.raises(CaseError) as info:
        transition(c, "promise", as_of=AS_OF, now=NOW, amount=Decimal("10"), day=AS_OF - timedelta(days=1))
    assert info.value.field == "date"
    with pytest.raises(CaseError) as info:
        transition(c, "promise", as_of=AS_OF, now=NOW, amount=Decimal("10.001"), day=AS_OF)
    assert info.value.field == "amount"
    with pytest.raises(CaseError) as info:
        transition(c, "dispute", as_of=AS_OF, now=NOW, amount=Decimal("10"))
    assert info.value.field == "reason"
    with pytest.raises(CaseError) as info:
        transition(c, "resolve", as_of=AS_OF, now=NOW)
    assert info.value.field == "action"
    change = transition(c, "dispute", as_of=AS_OF, now=NOW, amount=Decimal("12.50"), text="wrong goods")
    assert change.case.state == "disputed" and change.case.dispute_amount_minor == 1250
    assert change.case.revision == 2 and "12.50 EUR disputed: wrong goods" == change.detail
    resolved = transition(change.case, "resolve", as_of=AS_OF, now=NOW).case
    assert resolved.state == "open" and resolved.dispute_amount_minor is None
    closed = transition(resolved, "close", as_of=AS_OF, now=NOW).case
    assert closed.state == "closed" and closed.closed_at == NOW
    with pytest.raises(CaseError):
        transition(closed, "note", as_of=AS_OF, now=NOW, text="x")


@given(amounts=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
                        min_size=1, max_size=6),
       yen=st.lists(st.integers(min_value=1, max_value=10**9), max_size=3))
def test_letter_totals_are_exact_per_currency(amounts, yen):
    items = [LetterItem(f"INV/{i}", AS_OF, 3, a, "EUR") for i, a in enumerate(amounts)]
    items += [LetterItem(f"JP/{i}", AS_OF, 3, Decimal(y), "JPY") for i, y in enumerate(yen)]
    sums = totals(items)
    assert sums["EUR"] == sum(amounts, Decimal(0))
    assert sums.get("JPY", Decimal(0)) == sum(yen)
    letter = render_letter("reminder", "en", customer="Acme", as_of=AS_OF, items=items)
    assert f"€{sums['EUR']:,.2f}" in letter.html
    if yen:
        assert f"¥{sums['JPY']:,}" in letter.html


def test_letters_in_the_customers_language_fall_back_to_english():
    items = [LetterItem("INV/1", date(2026, 11, 1), 32, Decimal("1234.5"), "EUR")]
    fr = render_letter("demand", "fr_BE", customer="Dupont <SA>", as_of=AS_OF, items=items,
                       disputed=(Decimal("10"), "EUR"))
    assert fr.lang == "fr" and fr.subject.startswith("Mise en demeure")
    assert "1 234,50\u00a0€" in fr.html.replace("\u202f", " ") or "1\u202f234,50\u00a0€" in fr.html
    assert "Dupont &lt;SA&gt;" in fr.html and "1 novembre 2026" in fr.html and "10,00" in fr.html
    de = render_letter("reminder", "de", customer="X", as_of=AS_OF, items=items)
    assert de.lang == "en" and "€1,234.50" in de.html
