"""The dashboard in a real headless browser: Debian's chromium driven by Playwright (its own browser download
cannot work here; .ci/run installs chromium).  Logs in, opens every page (no console error, data shown), checks
the ageing chart is drawn, narrows the groups table with the filter form, refuses a visitor without a session,
and writes a screenshot of each page to var/screenshots/ (git-ignored) for a person to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import API_TOKEN, ROOT

CHROMIUM = os.environ.get("CREDITGUARD_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
PAGES = [("overview", "/ui/", "Overview"), ("ageing", "/ui/ageing", "Ageing"),
         ("groups", "/ui/groups", "Credit groups"), ("holds", "/ui/holds", "Credit holds"),
         ("deadlines", "/ui/deadlines", "Insurer deadlines"), ("decisions", "/ui/decisions", "Decision log"),
         ("whatif", "/ui/whatif", "Policy what-if")]


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI"):
            pytest.fail(f"chromium missing in CI ({CHROMIUM}): .ci/run must install it")
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests run as root in CI, where chromium's own sandbox cannot start
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, dashboard):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=dashboard.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.errors = []  # console errors and uncaught page errors
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def log_in(page) -> None:
    page.goto("/ui/")
    assert "/ui/login" in page.url
    page.get_by_label("Token").fill(API_TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/ui/")


def test_every_page_renders_with_data_and_no_console_error(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/ui/")
    page.screenshot(path=str(SCREENSHOTS / "login.png"))
    log_in(page)
    for name, path, heading in PAGES:
        page.goto(path)
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert page.locator("main table tbody tr, main textarea").count() > 0, name
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert page.errors == []


def test_the_ageing_chart_is_drawn(page):
    log_in(page)
    page.goto("/ui/ageing")
    chart = page.locator("svg[role=img]")
    assert chart.count() == 1
    bars = chart.locator("rect.reactive")
    assert bars.count() >= 2
    box = bars.first.bounding_box()
    assert box is not None and box["width"] > 10  # drawn, with a size, not only present in the markup
    assert chart.locator("title").first.inner_html() == "Receivables by ageing bucket"
    page.get_by_role("link", name="My EU Company (odoo)").click()  # drill down to the company's credit groups
    page.wait_for_url("**/ui/ageing?company=*")
    page.wait_for_load_state()  # the URL changes when the answer starts; count once the page is parsed
    assert page.locator("svg[role=img] rect.reactive").count() >= 2
    page.locator("table a").first.click()  # … and to one group's open items
    page.wait_for_url("**&group=*")
    page.wait_for_load_state()
    assert page.locator("main table tbody tr").count() >= 1 and "&group=" in page.url
    page.screenshot(path=str(SCREENSHOTS / "ageing-documents.png"), full_page=True)
    assert page.errors == []


def test_a_filter_narrows_the_groups_table(page):
    log_in(page)
    page.goto("/ui/groups")
    rows = page.locator("#groups tbody tr")
    everyone = rows.count()
    assert everyone > 10
    page.get_by_label("Customer or name").fill("acme")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/ui/groups?*q=acme*")
    assert rows.count() == 1 and "Acme Corporation" in rows.first.inner_text()
    page.get_by_label("Customer or name").fill("")
    page.get_by_label("over the limit").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**over=1*")
    assert 0 < rows.count() < everyone
    page.get_by_role("link", name="Exposure").click()  # sorting is a link: works without JavaScript
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Exposure")
    assert page.errors == []


def test_keyboard_focus_is_visible_and_skips_to_the_content(page):
    log_in(page)
    page.goto("/ui/groups")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to the content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_logout_and_a_visitor_without_a_session_is_refused(page, dashboard):
    log_in(page)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login?logged_out=1")
    page.goto("/ui/groups")
    assert "/ui/login" in page.url and page.locator("#groups").count() == 0
    refused = page.request.get(dashboard.url + "/ui/nothing-here", max_redirects=0)
    assert refused.status == 401
    page.get_by_label("Token").fill("not-the-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-message")).to_contain_text("That token is not valid.")


def test_the_cases_page_renders_a_case(page, dashboard):
    from decimal import Decimal

    from connector.cases import Cases

    group = next(i.credit_group_id for i in dashboard.store.iter_invoices("odoo", open_only=True))
    cases = Cases(dashboard.store, dashboard.policy, dashboard.as_of)
    cases.act(f"odoo:{group}", "dispute", "cli:carla", amount=Decimal("40.00"), text="goods returned")
    try:
        log_in(page)
        page.goto("/ui/cases")
        assert page.get_by_role("heading", level=1).inner_text() == "Collection cases"
        assert page.locator("main table tbody tr").count() >= 1
        expect(page.locator("main table")).to_contain_text("goods returned")
        page.screenshot(path=str(SCREENSHOTS / "cases.png"), full_page=True)
        assert page.errors == []
    finally:
        cases.act(f"odoo:{group}", "close", "cli:carla")
