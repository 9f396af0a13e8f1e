"""The overview's trend from the daily snapshots and its DSO tile, and the payment figures of the API's customer
view, on the dashboard's store (a sync of the Odoo sandbox, the default policy enforced)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from .conftest import API_TOKEN
from .test_dashboard_pages import assert_self_contained, exposure_rows, money


@pytest.fixture
def snapshots(dashboard):
    """Snapshots of today, yesterday and a week ago (the same open items aged as of each day); removed after."""
    from creditguard.snapshot_command import take_snapshot

    days = [dashboard.as_of - timedelta(days=back) for back in (7, 1, 0)]
    for day in days:
        take_snapshot(dashboard.store, dashboard.policy, ["odoo"], day, keep_days=400)
    try:
        yield days
    finally:
        for day in days:
            dashboard.store.replace_snapshot_day(day, ["odoo"], [])


def test_the_trend_shows_the_snapshots(client, dashboard, snapshots):
    from creditguard.ui.queries import daily_history

    history = daily_history(dashboard.store, dashboard.as_of, currency="USD")
    assert [day for day, _, _ in history] == snapshots  # days without a snapshot are left out, not filled in
    rows = exposure_rows(dashboard)
    exposure = sum((Decimal(r["exposure"]["total"]) for r in rows), Decimal(0))
    assert history[-1][1] == exposure  # every day's exposure is today's (snapshots of today's store)
    assert history[0][2] <= history[-1][2]  # aged a week earlier: less past due
    page = client.get("/ui/").text
    assert_self_contained(page)
    assert "No history yet" not in page and "Exposure and overdue, last 90 days" in page
    trend = page[page.index('id="trend-heading"'):]
    assert "<svg" in trend[:trend.index("</section>")]
    for day, e, o in history:
        assert f"{day}</th>" in page and money(e) in page and money(o) in page


def test_the_dso_tile_is_the_consolidated_countback(client, dashboard):
    from connector.ageing import age, open_items, store_converter
    from connector.figures import figures

    policy = dashboard.policy
    per_group, total = figures(dashboard.store, ["odoo"], dashboard.as_of, months=3, base_currency="USD",
                               conversion=policy.exposure.conversion, convert=store_converter(dashboard.store))
    report = age(open_items(dashboard.store, "odoo"), policy.ageing.buckets, dashboard.as_of,
                 base_currency="USD", convert=store_converter(dashboard.store), conversion=policy.exposure.conversion)
    assert total.receivable == report.total.total  # the ageing's consolidated total: the receivable counted back
    assert total.receivable == sum((g.total.receivable for g in per_group.values()), Decimal(0))
    dso = total.dso()
    assert 0 < dso.days <= dso.window_days
    page = client.get("/ui/").text
    tile = page[page.index("<h2>DSO</h2>"):]
    assert f"{dso.days} days" in tile[:300] and "last 3 months" in tile[:300]


def test_the_api_customer_view_has_the_figures(dashboard):
    import httpx

    from connector.checks import CreditChecker
    from creditguard.credit_commands import exposure_rows as rows_of, with_figures

    checker = CreditChecker(dashboard.store, dashboard.policy, dashboard.as_of)
    every = with_figures(dashboard.store, dashboard.policy, list(rows_of(dashboard.store, checker, None, None)),
                         dashboard.as_of, 3)
    row = max(every, key=lambda r: Decimal(r["figures"]["receivable"]))
    with httpx.Client(base_url=dashboard.url, timeout=60) as c:
        answer = c.get(f"/v1/customers/{row['customer']}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["figures"] == row["figures"]
    assert Decimal(body["figures"]["receivable"]) > 0 and body["figures"]["dso"]["months"] == 3
    assert {"dso", "overdue_ratio", "receivable", "past_due", "sales", "companies"} <= set(body["figures"])
