"""Every dashboard page over real sockets, its figures checked against the functions the CLI uses, on a store
filled by syncing the Odoo sandbox and enforcing the default policy; the HTML report from the command line."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from decimal import Decimal
from types import SimpleNamespace

import pytest
from markupsafe import escape

from .conftest import csrf_of

EXTERNAL = re.compile(r'(?:src|href|action)\s*=\s*"(?:https?:)?//', re.I)


def money(amount: Decimal) -> str:
    return f"{amount:,}"


def rows_of(page: str, table_id: str | None = None) -> list[str]:
    if table_id:
        page = page[page.index(f'id="{table_id}"'):]
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def assert_self_contained(page: str) -> None:
    """No script, nothing loaded from elsewhere."""
    assert "<script" not in page.lower()
    assert not EXTERNAL.search(page), EXTERNAL.search(page).group(0)
    assert "@import" not in page and "url(http" not in page and "file://" not in page


def exposure_rows(dashboard) -> list[dict]:
    from connector.checks import CreditChecker
    from creditguard.credit_commands import exposure_rows as rows

    return list(rows(dashboard.store, CreditChecker(dashboard.store, dashboard.policy, dashboard.as_of), None, None))


def test_overview(client, dashboard):
    page = client.get("/ui/").text
    assert_self_contained(page)
    rows = exposure_rows(dashboard)
    total = sum((Decimal(r["exposure"]["total"]) for r in rows), Decimal(0))
    assert f"{money(total)} USD" in page
    assert f"{len(rows)} credit groups" in page
    held = dashboard.store.holds(None, "held")
    assert held and f'<a href="/ui/holds">{len(held)}</a>' in page
    over = sum(1 for r in rows if r["limit"]["amount"] is not None
               and Decimal(r["exposure"]["total"]) > Decimal(r["limit"]["amount"]))
    assert f'<a href="/ui/groups?over=1">{over}</a>' in page
    if not dashboard.store.snapshot_days():
        assert "No history yet" in page  # no daily snapshot taken: no made-up trend (tests/ui/test_trend_and_dso.py)
    assert ">DSO<" in page  # the consolidated countback DSO (tests/ui/test_trend_and_dso.py checks its figure)
    tightest = min((r for r in rows if r["headroom"] is not None), key=lambda r: Decimal(r["headroom"]))
    assert escape(tightest["name"]) in page


def test_ageing_by_company_ties_to_the_ageing_report(client, dashboard):
    from connector.ageing import age, open_items, store_converter

    page = client.get("/ui/ageing").text
    assert_self_contained(page)
    policy = dashboard.policy
    report = age(open_items(dashboard.store), policy.ageing.buckets, dashboard.as_of, by="company",
                 base_currency="USD", convert=store_converter(dashboard.store), conversion=policy.exposure.conversion)
    assert len(report.companies) == 2  # the sandbox's two companies, USD and EUR
    for section in report.companies:
        assert money(section.total.total) in page and f"?company={section.source}%3A{section.company_id}" in page
    assert money(report.total.total) in page and money(report.total.past_due) in page
    # the chart: inline SVG, accessible, a bar per company and bucket, no script
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert len(re.findall(r'<rect[^>]*class="rect reactive tooltip-trigger"', svg)) >= len(report.companies)
    for label in ("Not due", "1–30", "Over 120"):
        assert f'<th scope="col" class="num">{label}</th>' in page


def test_ageing_drills_down_to_groups_and_documents(client, dashboard):
    from connector.ageing import open_items

    company = next(c for c in dashboard.store.companies("odoo") if c.currency == "EUR")
    page = client.get("/ui/ageing", params={"company": f"odoo:{company.erp_id}"}).text
    assert_self_contained(page)
    assert f"{escape(company.name)} (odoo)" in page and "<svg" in page
    links = re.findall(r'href="\?company=odoo%3A' + company.erp_id + r'&amp;group=([^"]+)"', page)
    assert links
    group = links[0]
    items = list(open_items(dashboard.store, "odoo", company.erp_id, group))
    documents = client.get("/ui/ageing", params={"company": f"odoo:{company.erp_id}", "group": group}).text
    assert_self_contained(documents)
    for item in items:
        assert f'<th scope="row">{escape(item.number)}</th>' in documents
    total = sum((i.amount_open_company for i in items), Decimal(0))
    assert f'<td class="num">{money(total)}</td></tr></tfoot>' in documents
    assert client.get("/ui/ageing", params={"company": "odoo:nope"}).status_code == 404


def test_groups_table_filters_and_sorts_without_javascript(client, dashboard):
    rows = exposure_rows(dashboard)
    page = client.get("/ui/groups").text
    assert_self_contained(page)
    assert len(rows_of(page, "groups")) == len(rows)
    assert 'aria-sort="ascending"' in page  # least headroom first by default
    acme = next(r for r in rows if r["name"] == "Acme Corporation")
    narrowed = client.get("/ui/groups", params={"q": "acme"}).text
    found = rows_of(narrowed, "groups")
    assert len(found) == 1 and "Acme Corporation" in found[0] and money(Decimal(acme["exposure"]["total"])) in found[0]
    assert 'value="acme"' in narrowed
    by_exposure = client.get("/ui/groups", params={"sort": "exposure", "dir": "desc"}).text
    biggest = max(rows, key=lambda r: Decimal(r["exposure"]["total"]))
    assert escape(biggest["name"]) in rows_of(by_exposure, "groups")[0]
    assert 'aria-sort="descending"' in by_exposure
    over = rows_of(client.get("/ui/groups", params={"over": "1"}).text, "groups")
    assert over and all('class="num neg"' in r for r in over)
    stopped = rows_of(client.get("/ui/groups", params={"flag": "stop"}).text, "groups")
    assert all('badge stop">stop<' in r for r in stopped)
    assert "No credit group matches." in client.get("/ui/groups", params={"q": "no such customer"}).text


def test_holds_queue(client, dashboard):
    page = client.get("/ui/holds").text
    assert_self_contained(page)
    held = dashboard.store.holds(None, "held")
    assert f"{len(held)} orders on hold" in page
    for record in held:
        assert f'<th scope="row">{escape(record.order_number)}</th>' in page
        for reason in record.reasons:
            assert escape(reason["message"]) in page
    tiers = {r.release_tier for r in held if r.release_tier}
    assert tiers and all(f"<td>{t}</td>" in page for t in tiers)
    assert "No hold has been released." in client.get("/ui/holds", params={"state": "released"}).text


def test_insurer_deadlines(client, dashboard):
    from connector.deadlines import deadlines_of

    page = client.get("/ui/deadlines").text
    assert_self_contained(page)
    found = deadlines_of(dashboard.store, dashboard.policy, ["odoo"], dashboard.as_of, include_pending=False)
    acme = next(d for d in found if d.customer == "C00001")  # insured by Allianz Trade in the default policy
    assert "Allianz Trade" in page and escape(acme.invoice_number) in page
    assert f"{len(found)} insured buyers" in page
    everything = client.get("/ui/deadlines", params={"all": "1"}).text
    assert len(rows_of(everything)) >= len(rows_of(page))


def test_decision_log_search(client, dashboard):
    page = client.get("/ui/decisions").text
    assert_self_contained(page)
    logged = dashboard.store.decisions(limit=100_000)
    assert len(rows_of(page)) == min(200, len(logged))
    number = dashboard.checked_order
    found = rows_of(client.get("/ui/decisions", params={"q": number}).text)
    assert found and all(number in row for row in found)
    checks = rows_of(client.get("/ui/decisions", params={"trigger": "check"}).text)
    assert len(checks) == len([d for d in logged if d["trigger"] == "check"]) == 1
    holds = rows_of(client.get("/ui/decisions", params={"result": "hold"}).text)
    assert holds and all('badge hold">hold<' in r for r in holds)
    reason = next(d["record"]["reasons"][0]["message"] for d in logged if d["record"]["reasons"])
    words = reason.split(" ")[0]
    assert rows_of(client.get("/ui/decisions", params={"q": words}).text)
    assert "No decision matches." in client.get("/ui/decisions", params={"q": "100%_no_such"}).text


def test_policy_what_if(client, dashboard):
    from creditguard.credit_commands import _simulate
    from policy.loader import load_policy

    form = client.get("/ui/whatif").text
    assert_self_contained(form)
    text = html.unescape(re.search(r'<textarea[^>]*>(.*?)</textarea>', form, re.S).group(1))
    assert text == dashboard.config.policy.path.read_text()  # the active policy, to start from
    lenient = text.replace("days = 30\n", "days = 100000\n", 1)
    assert lenient != text
    decisions_before = len(dashboard.store.decisions(limit=100_000))
    answer = client.post("/ui/whatif", data={"csrf": csrf_of(form), "policy_text": lenient})
    assert answer.status_code == 200
    candidate_file = dashboard.config_path.with_name("lenient.toml")
    candidate_file.write_text(lenient)
    expected = _simulate(SimpleNamespace(store=dashboard.store), dashboard.policy, load_policy(candidate_file),
                         dashboard.as_of, None)
    totals = expected["totals"]
    assert totals["newly_approved"] > 0
    assert (f"{totals['orders_checked']} open orders checked as of {dashboard.as_of}: {totals['newly_held']} newly "
            f"held, {totals['newly_approved']} newly approved") in answer.text
    for order in expected["orders"]:
        assert f'<th scope="row">{escape(order["order"])}</th>' in answer.text
    assert len(dashboard.store.decisions(limit=100_000)) == decisions_before  # nothing recorded
    assert dashboard.daemon.policy is dashboard.policy  # the active policy stays


def test_a_malformed_policy_shows_the_loaders_errors_and_changes_nothing(client, dashboard):
    token = csrf_of(client.get("/ui/whatif").text)
    before = len(dashboard.store.decisions(limit=100_000))
    broken = 'version = 1\nname = "Broken"\nbase_currency = "USX"\n\n[limits]\nfoo = 1\n'
    answer = client.post("/ui/whatif", data={"csrf": token, "policy_text": broken})
    assert 'id="policy-errors"' in answer.text and "nothing changed" in answer.text
    assert "pasted-policy.toml:3:1: base_currency: unknown currency" in answer.text
    assert "pasted-policy.toml:6:1: limits.foo: unknown key" in answer.text
    assert "/tmp" not in answer.text and "creditguard-whatif" not in answer.text  # named as given, not the temp file
    upload = client.post("/ui/whatif", data={"csrf": token, "policy_text": ""},
                         files={"policy_file": ("strict policy.toml", b"version = 1\n[limits\n", "text/plain")})
    assert "strict_policy.toml:2:" in upload.text
    empty = client.post("/ui/whatif", data={"csrf": token, "policy_text": "  "})
    assert "Give a policy file or paste its text." in empty.text
    binary = client.post("/ui/whatif", data={"csrf": token},
                         files={"policy_file": ("p.toml", b"\xff\xfe\x00bad", "application/octet-stream")})
    assert 'id="policy-errors"' in binary.text and "p.toml" in binary.text
    assert len(dashboard.store.decisions(limit=100_000)) == before and dashboard.daemon.policy is dashboard.policy


def test_unknown_page_for_a_logged_in_person(client):
    answer = client.get("/ui/nothing-here")
    assert answer.status_code == 404 and "There is no page /ui/nothing-here." in answer.text
    assert client.post("/ui/groups", data={}).status_code == 405


def test_report_html_is_one_self_contained_file(dashboard, tmp_path):
    target = tmp_path / "report.html"
    env = dict(os.environ, COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(dashboard.config_path), "report",
                           "--html", str(target)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{target}: report written" in done.stdout
    page = target.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "<style>" in page and page.count("<svg") >= 1 and "Receivables by ageing bucket" in page
    assert "Content-Security-Policy" in page and "/ui/" not in page  # no link into the dashboard
    rows = exposure_rows(dashboard)
    total = sum((Decimal(r["exposure"]["total"]) for r in rows), Decimal(0))
    assert f"{money(total)} USD" in page
    unwritable = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(dashboard.config_path),
                                 "report", "--html", str(tmp_path / "missing" / "r.html")],
                                capture_output=True, text=True, env=env, timeout=120)
    assert unwritable.returncode == 1 and "cannot write" in unwritable.stderr and "Traceback" not in unwritable.stderr


@pytest.mark.parametrize("path", ["/ui/", "/ui/ageing", "/ui/groups", "/ui/holds", "/ui/deadlines", "/ui/decisions",
                                  "/ui/whatif"])
def test_every_page_is_accessible_markup(client, path):
    page = client.get(path).text
    assert '<html lang="en">' in page and '<main id="content"' in page and 'class="skip"' in page
    assert 'aria-current="page"' in page
    for table in re.findall(r"<table.*?</table>", page, re.S):
        headers = re.findall(r"<th(?:\s[^>]*)?>", table)
        assert headers and all('scope="' in h for h in headers), headers
    for field in re.findall(r'<(?:input|select|textarea)\b[^>]*\bid="([^"]+)"', page):
        assert f'for="{field}"' in page, field
