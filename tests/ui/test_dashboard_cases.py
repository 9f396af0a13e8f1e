"""The dashboard's Cases page: the collection cases, in the nav, behind the login like every page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from connector.cases import Cases


def test_cases_page_lists_the_open_cases(client, anonymous, dashboard):
    assert anonymous.get("/ui/cases").status_code in (302, 303)
    page = client.get("/ui/cases")
    assert page.status_code == 200 and 'href="/ui/cases"' in page.text and "No collection case." in page.text
    group = next(i.credit_group_id for i in dashboard.store.iter_invoices("odoo", open_only=True))
    cases = Cases(dashboard.store, dashboard.policy, dashboard.as_of)
    cases.act(f"odoo:{group}", "contact", "cli:carla", text="called <the> buyer")
    cases.act(f"odoo:{group}", "promise", "cli:carla", amount=Decimal("25.00"),
              day=dashboard.as_of + timedelta(days=10))
    page = client.get("/ui/cases").text
    assert "promise to pay" in page and f"25.00 {dashboard.policy.base_currency} by" in page
    assert "called &lt;the&gt; buyer" in page  # escaped
    assert "No collection case." in client.get("/ui/cases", params={"state": "disputed"}).text
    assert "promise to pay" in client.get("/ui/cases", params={"state": "<script>"}).text  # ignored filter
    cases.act(f"odoo:{group}", "close", "cli:carla")
    assert "No collection case." in client.get("/ui/cases").text
    assert "case closed" in client.get("/ui/cases", params={"state": "all"}).text
