"""SAP currency rates: BAPI1093_0 rows → CurrencyRate, the walk-back read, the sync and the conversion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.sap_soap import mapping
from adapters.sap_soap.errors import ReturnError
from adapters.sap_soap.sandbox.data import months_back
from connector.checks import CreditChecker
from connector.domain import Company, CurrencyRate
from connector.enforce import Enforcer
from connector.errors import BadRecord
from connector.money import currency_precision
from connector.outbox import Outbox
from connector.ports import Cursor, Stream
from connector.rates import MissingRate, RateTable
from connector.store import Store
from connector.sync import SyncEngine
from policy.loader import load_policy

from .conftest import TODAY, make_source

D = Decimal
CTX = mapping.MappingContext("sap", "Europe/Berlin")
COMPANIES = {"1000": "EUR", "3000": "JPY"}
NOW = dt.datetime(2024, 6, 30, 10, 0, tzinfo=dt.UTC)  # the sandbox's TODAY, 12:00 in Berlin
THIS_MONTH = months_back(TODAY, 0)


def tcurr(from_curr="JPY", to_curr="EUR", valid_from="2024-06-01", rate="0.62000", factors=(100, 1),
          indirect=False, rate_type="M", **kw):
    """A BAPI1093_0 row as zeep returns it: Decimals, dates as text, the quotation in one field."""
    f, t = (D(factors[0]), D(factors[1]))
    raw = {"RateType": rate_type, "FromCurr": from_curr, "ToCurrncy": to_curr, "ValidFrom": valid_from,
           "ExchRate": D(0) if indirect else D(rate), "FromFactor": f, "ToFactor": t,
           "ExchRateV": D(rate) if indirect else D(0), "FromFactorV": f, "ToFactorV": t}
    raw.update(kw)
    return raw


def mapped(rows, company="1000", currency="EUR"):
    return [result for _, result in mapping.map_rates(CTX, rows, company, currency)]


def table(*rates):
    return RateTable.build([Company("sap", cc, cc, cur) for cc, cur in COMPANIES.items()], rates)


# ---------------------------------------------------------------- mapping


def test_jpy_direct_quotation_per_100_units():
    """JPY→EUR 0.62 at ratio 100:1 is SAP's "100 JPY = 0.62 EUR", for both company codes."""
    row = tcurr()
    [eur_company] = mapped([row], "1000", "EUR")
    [jpy_company] = mapped([row], "3000", "JPY")
    assert eur_company == CurrencyRate(
        "sap", "M/1000/JPY/2024-06-01", "JPY", "1000", dt.date(2024, 6, 1), D("161.29032258064516129"),
        dt.datetime(2024, 5, 31, 22, 0, tzinfo=dt.UTC))  # JPY per EUR; midnight in Berlin (CEST) as UTC
    assert (jpy_company.erp_id, jpy_company.currency, jpy_company.rate) == ("M/3000/EUR/2024-06-01", "EUR",
                                                                             D("0.0062"))  # EUR per JPY, exact
    rates = table(eur_company, jpy_company)
    day = dt.date(2024, 6, 15)
    assert rates.convert(D("1250000"), "JPY", "EUR", "3000", day) == D("7750.00")  # 12,500 × 0.62
    assert rates.convert(D("1250000"), "JPY", "EUR", "1000", day) == D("7750.00")
    assert rates.convert(D("7750.00"), "EUR", "JPY", "3000", day) == D("1250000")


def test_indirect_quotation():
    """USD→EUR /1.08 (ExchRateV): 1 EUR = 1.08 USD."""
    [usd] = mapped([tcurr("USD", "EUR", rate="1.08000", factors=(1, 1), indirect=True)])
    assert (usd.currency, usd.company_id, usd.rate) == ("USD", "1000", D("1.08"))
    assert table(usd).convert(D("108.00"), "USD", "EUR", "1000", dt.date(2024, 6, 1)) == D("100.00")


def test_indirect_quotation_with_factors_is_saps_documented_example():
    """SAP's factor documentation: an indirect EUR/JPY rate of 2.00 (factors JPY 100 : EUR 1) means
    100 JPY correspond to 2 EUR."""
    row = tcurr("EUR", "JPY", rate="2.00000", factors=(1, 100), indirect=True)
    [eur_in_jpy_company] = mapped([row], "3000", "JPY")
    assert eur_in_jpy_company.rate == D("0.02")  # EUR per JPY
    assert table(eur_in_jpy_company).convert(D("100"), "JPY", "EUR", "3000", dt.date(2024, 6, 1)) == D("2.00")


def test_direct_quotation_with_a_to_factor():
    """EUR→JPY 1.6129 at ratio 1:100 = 1 EUR costs 161.29 JPY (as DEM→ITL 0.9882 at 1:1000 in SAP's docs)."""
    [eur] = mapped([tcurr("EUR", "JPY", rate="1.61290", factors=(1, 100))], "3000", "JPY")
    assert table(eur).convert(D("16129"), "JPY", "EUR", "3000", dt.date(2024, 6, 1)) == D("100.00")


def test_pair_into_the_company_currency_is_preferred_and_others_ignored():
    rows = [tcurr("JPY", "EUR", rate="0.62000"), tcurr("EUR", "JPY", rate="170.00000", factors=(1, 1)),
            tcurr("GBP", "USD", rate="1.26000", factors=(1, 1)), tcurr("EUR", "EUR", rate="1", factors=(1, 1))]
    assert [(r.erp_id, r.rate) for r in mapped(rows, "1000", "EUR")] == [
        ("M/1000/JPY/2024-06-01", D("161.29032258064516129"))]  # JPY→EUR, not the inverted EUR→JPY
    assert [(r.erp_id, r.rate) for r in mapped(rows, "3000", "JPY")] == [
        ("M/3000/EUR/2024-06-01", D("0.0058823529411764705882"))]  # EUR→JPY 170: 1/170 EUR per JPY


def test_changed_at_is_midnight_in_the_system_time_zone():
    winter, summer = mapped([tcurr(valid_from="2024-01-01"), tcurr(valid_from="2024-07-01")])
    assert winter.changed_at == dt.datetime(2023, 12, 31, 23, 0, tzinfo=dt.UTC)
    assert summer.changed_at == dt.datetime(2024, 6, 30, 22, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("change", "erp_id", "field"), [
    ({"ExchRate": D(0)}, "M/1000/JPY/2024-06-01", "ExchRate"),                     # no rate: SAP's "missing"
    ({"ExchRate": D("-0.62")}, "M/1000/JPY/2024-06-01", "ExchRate"),
    ({"ExchRate": D(0), "ExchRateV": D("-1.5")}, "M/1000/JPY/2024-06-01", "ExchRateV"),
    ({"FromFactor": D(0)}, "M/1000/JPY/2024-06-01", "FromFactor"),
    ({"ExchRate": D(0), "ExchRateV": D("161"), "ToFactorV": D(0)}, "M/1000/JPY/2024-06-01", "ToFactorV"),
    ({"FromCurr": "XYZ"}, "M/1000/XYZ/2024-06-01", "FromCurr"),
    ({"ValidFrom": "0000-00-00"}, "M/1000/JPY/0000-00-00", "ValidFrom"),
    ({"ExchRate": "0,62"}, "M/1000/JPY/2024-06-01", "ExchRate"),               # not 62
    ({"ToFactor": None}, "M/1000/JPY/2024-06-01", "ToFactor"),
])
def test_bad_rows_are_bad_records_naming_the_field(change, erp_id, field):
    [result] = mapped([tcurr(**change)])
    assert isinstance(result, BadRecord)
    assert (result.model, result.erp_id) == ("TCURR", erp_id)
    assert f"field {field!r}" in result.reason


def test_rates_round_trip_through_the_store():
    rates = [r for cc, cur in COMPANIES.items() for r in mapped(
        [tcurr(), tcurr("USD", "EUR", rate="1.07150", factors=(1, 1), indirect=True),
         tcurr("USD", "JPY", rate="160.88000", factors=(1, 1))], cc, cur)]
    with Store.open("sqlite://") as store:
        store.save_page("sap", Stream.CURRENCY_RATES, "TCURR", rates, [], None)
        back = sorted(store.iter_rates("sap"), key=lambda r: r.erp_id)
    assert back == sorted(rates, key=lambda r: r.erp_id)
    assert all(len(str(r.rate)) <= 40 for r in back)  # currency_rates.rate is String(40)
    assert str(next(r for r in back if r.erp_id == "M/3000/USD/2024-06-01").rate) == "0.0062158130283441074092"


RATE = st.decimals(min_value=D("0.00001"), max_value=D("9999.99999"), places=5)
FACTOR = st.sampled_from([D(1), D(10), D(100), D(1000)])


@settings(max_examples=200, deadline=None)
@given(rate=RATE, from_factor=FACTOR, to_factor=FACTOR, indirect=st.booleans(),
       units=st.integers(min_value=1, max_value=10**9), pair=st.sampled_from([("USD", "EUR"), ("JPY", "EUR"),
                                                                              ("USD", "JPY"), ("EUR", "JPY")]))
@example(rate=D(11), from_factor=D(1), to_factor=D(10), indirect=False, units=3650, pair=("JPY", "EUR"))  # half-way
def test_conversion_follows_the_sap_reading_and_round_trips(rate, from_factor, to_factor, indirect, units, pair):
    source_cur, target_cur = pair
    row = tcurr(source_cur, target_cur, rate=str(rate), factors=(from_factor, to_factor), indirect=indirect)
    [rate_x] = mapped([row], "C", target_cur)   # company in TO: rate of FROM
    [rate_c] = mapped([row], "X", source_cur)   # company in FROM: rate of TO (the same row, inverted)
    assert abs(rate_x.rate * rate_c.rate - 1) < D("1e-18")
    rates = RateTable.build([Company("sap", "C", "C", target_cur), Company("sap", "X", "X", source_cur)],
                            [rate_x, rate_c])
    day = dt.date(2024, 6, 1)
    amount = D(units).scaleb(-currency_precision(source_cur))
    # SAP's reading: direct amount_to = amount / FromFactor × ExchRate × ToFactor,
    # indirect amount_to = amount × ToFactorV / (ExchRateV × FromFactorV)
    exact = amount / from_factor * rate * to_factor if not indirect else amount * to_factor / (rate * from_factor)
    unit = D(1).scaleb(-currency_precision(target_cur))
    converted = rates.convert(amount, source_cur, target_cur, "C", day)
    assert abs(converted - exact) <= unit / 2 + unit / 10**6
    # either company's view: the same, but for a result exactly half-way between two units (4.015 EUR),
    # which the exact quotient rounds up and the 20-digit reciprocal (909.0909…) may round down
    assert abs(rates.convert(amount, source_cur, target_cur, "X", day) - converted) <= unit
    assert abs(rates.convert(amount, source_cur, target_cur, "X", day) - exact) <= unit / 2 + unit / 10**6
    # back again: off by at most the rounding of the way out, seen in the source currency
    back = rates.convert(converted, target_cur, source_cur, "C", day)
    source_unit = D(1).scaleb(-currency_precision(source_cur))
    assert abs(back - amount) <= unit / 2 * rate_x.rate + source_unit / 2 + source_unit / 10**6


# ---------------------------------------------------------------- the source against the sandbox


@pytest.fixture
def rates_source(client):
    source = make_source(client, clock=lambda: NOW)
    source.open()
    return source


def expected_ids(sb, lower: dt.date, rate_type: str = "M") -> set[str]:
    """Per company code, the rates valid on some day from ``lower`` to TODAY, X→C pairs first."""
    rows = [r for r in sb.data.rates.values() if r.rate_type == rate_type]
    ids = set()
    for company, currency in COMPANIES.items():
        quoted_into = {r.from_curr for r in rows if r.to_curr == currency}
        for r in rows:
            other = r.from_curr if r.to_curr == currency else \
                r.to_curr if r.from_curr == currency and r.to_curr not in quoted_into else None
            later = [o for o in rows if (o.from_curr, o.to_curr) == (r.from_curr, r.to_curr)
                     and r.valid_from < o.valid_from <= lower]
            if other and r.valid_from <= TODAY and not later:
                ids.add(f"{rate_type}/{company}/{other}/{r.valid_from.isoformat()}")
    return ids


def rate_calls(sb):
    return [c for c in sb.calls if c.operation == "ExchrateGetcurrentrates"]


def test_first_sync_stores_the_rate_history(sb, rates_source):
    with Store.open("sqlite://") as store:
        stats = SyncEngine(store).sync_stream(rates_source, Stream.CURRENCY_RATES)
        stored = {r.erp_id: r for r in store.iter_rates("sap")}
    lower = TODAY - dt.timedelta(days=400)
    assert set(stored) == expected_ids(sb, lower)
    assert len(stored) == 61  # 1000: USD, JPY 14 months + GBP 5 quarters; 3000: EUR, USD 14 months
    assert f"M/1000/USD/{months_back(TODAY, 13)}" in stored and f"M/1000/USD/{months_back(TODAY, 14)}" not in stored
    assert (stats.written, stats.read, stats.quarantined, stats.full) == (61, 61, 0, False)
    # walk back: today, then the day before each month's first, until before the lower bound
    key_dates = [dt.date.fromisoformat(c.params["Date"]) for c in rate_calls(sb)]
    assert key_dates == rates_source.rate_key_dates and stats.calls == len(key_dates) == 14
    assert key_dates[0] == TODAY and key_dates == sorted(key_dates, reverse=True) and key_dates[-1] >= lower
    assert all(c.params["RateType"] == "M" for c in rate_calls(sb))
    usd = stored[f"M/1000/USD/{THIS_MONTH}"]
    assert usd.rate == -sb.data.rates[("M", "USD", "EUR", THIS_MONTH)].rate  # indirect: USD per EUR as quoted
    assert stored[f"M/3000/EUR/{THIS_MONTH}"].rate == sb.data.rates[("M", "JPY", "EUR", THIS_MONTH)].rate / 100


def test_unchanged_cycle_costs_one_call_and_writes_nothing(sb, rates_source):
    with Store.open("sqlite://") as store:
        engine = SyncEngine(store)
        engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        cursor = store.get_cursor("sap", Stream.CURRENCY_RATES)
        before = len(rate_calls(sb))
        again = engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
    assert cursor == Cursor(dt.datetime(2024, 5, 31, 22, 0, tzinfo=dt.UTC), 0)  # midnight of June 1st, Berlin
    assert len(rate_calls(sb)) - before == again.calls == 1
    assert (again.written, again.read, again.quarantined, again.deleted) == (0, 0, 0, 0)
    assert again.reread == 5  # the rows valid today: 1000 USD, JPY, GBP; 3000 EUR, USD


def test_new_rate_shows_up_in_the_next_cycle(sb, rates_source):
    with Store.open("sqlite://") as store:
        engine = SyncEngine(store)
        engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        sb.set_rate("USD", "EUR", "1.09000", indirect=True)  # valid from today
        stats = engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        stored = {r.erp_id: r for r in store.iter_rates("sap")}
        assert store.get_cursor("sap", Stream.CURRENCY_RATES).changed_at == \
            dt.datetime(2024, 6, 29, 22, 0, tzinfo=dt.UTC)
    assert (stats.written, stats.read, stats.calls) == (1, 1, 2)  # today, then the day before
    assert stored[f"M/1000/USD/{TODAY}"].rate == D("1.09") and len(stored) == 62


def test_corrected_current_rate_is_picked_up(sb, rates_source):
    with Store.open("sqlite://") as store:
        engine = SyncEngine(store)
        engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        sb.set_rate("JPY", "EUR", "0.60000", valid_from=THIS_MONTH, from_factor=100)  # same key: corrected
        stats = engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        stored = {r.erp_id: r for r in store.iter_rates("sap")}
    assert (stats.written, stats.calls) == (2, 1)  # the JPY rate of 1000 and the EUR rate of 3000
    assert stored[f"M/3000/EUR/{THIS_MONTH}"].rate == D("0.006")


def test_zero_rate_is_quarantined_once_and_the_previous_rate_stays_in_force(sb, rates_source):
    with Store.open("sqlite://") as store:
        store.save_companies("sap", rates_source.open().companies, NOW)
        engine = SyncEngine(store)
        engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        sb.set_rate("GBP", "EUR", "0")  # SAP reads a zero rate as "no rate": the older one applies
        first = engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        second = engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        [entry] = store.quarantine("sap")
        stored = {r.erp_id: r for r in store.iter_rates("sap")}
        in_force = RateTable.build(store.companies("sap"), stored.values()).rate("GBP", "1000", TODAY)
    assert (first.quarantined, first.written, second.quarantined, second.calls) == (1, 0, 0, 1)
    assert (entry.erp_model, entry.erp_id, entry.occurrences) == ("TCURR", f"M/1000/GBP/{TODAY}", 1)
    assert "'ExchRate'" in entry.reason and entry.payload["FromCurr"] == "GBP"
    assert f"M/1000/GBP/{TODAY}" not in stored
    assert in_force == stored["M/1000/GBP/2024-04-01"].rate


def test_walk_stops_when_a_call_returns_nothing(sb, client):
    source = make_source(client, clock=lambda: NOW, rates_history_days=5000)
    source.open()
    entries = [e for page in source.read(Stream.CURRENCY_RATES, None, 1000) for e in page.entries]
    oldest = min(r.valid_from for r in sb.data.rates.values())  # GBP, 18 months back
    assert source.rate_key_dates[-1] == oldest - dt.timedelta(days=1)
    assert sb.calls[-1].params["Date"] == (oldest - dt.timedelta(days=1)).isoformat()
    assert {e.item.erp_id for e in entries} == expected_ids(sb, TODAY - dt.timedelta(days=5000))
    positions = [(e.position, e.item.erp_id) for e in entries]
    assert positions == sorted(positions)  # (changed_at, erp_id) order, on every page


def test_pages_and_rate_type(sb, client):
    source = make_source(client, clock=lambda: NOW, rate_type="B")
    source.open()
    pages = list(source.read(Stream.CURRENCY_RATES, None, 1))
    assert [[e.item.erp_id for e in p.entries] for p in pages] == [
        [f"B/1000/USD/{months_back(TODAY, 1)}"], [f"B/1000/USD/{THIS_MONTH}"]]
    assert {p.model for p in pages} == {"TCURR"} and source.count(Stream.CURRENCY_RATES) == 2


def test_unknown_rate_type_is_a_return_error(sb, client):
    source = make_source(client, clock=lambda: NOW, rate_type="Q")
    source.open()
    with pytest.raises(ReturnError) as raised:
        list(source.read(Stream.CURRENCY_RATES, None, 100))
    assert (raised.value.msg_id, raised.value.number) == ("ZSBX", "010")


def test_client_current_rates(sb, client):
    rows = client.current_rates(TODAY.isoformat(), "M")
    assert {(r["FromCurr"], r["ToCurrncy"]) for r in rows} == {
        ("USD", "EUR"), ("JPY", "EUR"), ("USD", "JPY"), ("GBP", "EUR"), ("GBP", "USD")}
    assert client.calls == 1 and all(isinstance(r["ExchRate"], Decimal) for r in rows)
    sb.fail_next(503, service="Z_BAPI_EXCHRATE_GETCURRENTRATES")
    from .conftest import make_client
    retrying = make_client(sb, retry_attempts=2)
    assert len(retrying.current_rates(TODAY.isoformat())) == 5 and retrying.calls == 2
    retrying.close()


# ---------------------------------------------------------------- conversion of SAP documents

POLICY = """\
version = 1
name = "SAP rates test policy"
base_currency = "EUR"

[limits.grades]
5 = 10000

[customers."sap:0000100026"]
grade = 5

[rules.overdue]
enabled = false
[rules.no_limit]
enabled = false
"""


def test_jpy_order_is_converted_with_the_synced_sap_rate(sb, rates_source, tmp_path):
    (tmp_path / "policy.toml").write_text(POLICY)
    policy = load_policy(tmp_path / "policy.toml")
    with Store.open("sqlite://") as store:
        engine = SyncEngine(store)
        store.save_companies("sap", rates_source.open().companies, NOW)
        for stream in (Stream.CUSTOMERS, Stream.INVOICES, Stream.ORDERS):
            engine.sync_stream(rates_source, stream)
        [open_order] = [o for o in store.iter_orders("sap", customer="0000100026") if o.amount_total == 800000]
        checker = CreditChecker(store, policy, TODAY)
        with pytest.raises(MissingRate):  # before the rates stream: no EUR rate for company code 3000
            checker.check(open_order.number, "sap", record=False)
        outbox = Outbox(store)  # dry runs: nothing is queued
        skipped = Enforcer(store, policy, TODAY, outbox).run("sap", dry_run=True).checked

        engine.sync_stream(rates_source, Stream.CURRENCY_RATES)
        outcome = CreditChecker(store, policy, TODAY).check(open_order.number, "sap", record=False)
        checked = Enforcer(store, policy, TODAY, outbox).run("sap", dry_run=True).checked
        usd_today = RateTable.build(store.companies("sap"), store.iter_rates("sap")).convert(
            D("2500.00"), "USD", "EUR", "1000", TODAY)
    eur_per_100_jpy = sb.data.rates[("M", "JPY", "EUR", THIS_MONTH)].rate  # the order is from this month
    assert outcome.exposure.components["current_order"] == (800000 * eur_per_100_jpy / 100).quantize(D("0.01"))
    assert outcome.exposure.components["current_order"] == D("4640.80")
    blocked = 690000 * eur_per_100_jpy / 100
    assert outcome.exposure.components["uninvoiced_orders"] == blocked.quantize(D("0.01"))
    assert outcome.exposure.by_currency["JPY"] > 0 and outcome.decision.currency == "EUR"
    assert checked == skipped + 2  # the two JPY orders of 0000100026 are no longer skipped
    usd_per_eur = -sb.data.rates[("M", "USD", "EUR", THIS_MONTH)].rate
    assert usd_today == (D("2500.00") / usd_per_eur).quantize(D("0.01"))
