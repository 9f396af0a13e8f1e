"""The charts: pygal's SVG made self-contained, script-free and accessible."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from lxml import etree

from creditguard.ui.charts import ageing_chart, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


def check(svg: str, title: str) -> etree._Element:
    assert "<script" not in svg and "<!--" not in svg and "file://" not in svg and "pygal.org" not in svg
    assert not re.search(r'(?:href|src)="(?:https?:)?//', svg)
    root = etree.fromstring(svg.encode())
    assert root.get("role") == "img"
    first, second = root[0], root[1]
    assert (first.tag, second.tag) == (f"{SVG}title", f"{SVG}desc") and first.text == title
    assert root.get("aria-labelledby") == f"{first.get('id')} {second.get('id')}"
    assert root.find(f"{SVG}defs/{SVG}style").text.startswith(f"#{root.get('id')}")  # pygal's own, inline CSS
    return root


def test_ageing_chart():
    labels = ("Not due", "1–30", "Over 30")
    svg = ageing_chart(labels, [("Acme (odoo)", [Decimal("100.50"), Decimal("20.00"), Decimal("0.00")]),
                                ("EU (odoo)", [Decimal("5.00"), Decimal("0.00"), Decimal("700.00")])], "USD")
    root = check(svg, "Receivables by ageing bucket")
    desc = root[1].text
    assert "825.50 USD" in desc and "720.00 USD past due" in desc
    bars = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar"]
    tips = {g.find(f"{SVG}title").text for g in bars}
    assert "Acme (odoo), Not due: 100.50 USD" in tips and "EU (odoo), Over 30: 700.00 USD" in tips


def test_horizontal_ageing_chart_keeps_the_tables_order_top_down():
    svg = ageing_chart(("Not due", "Over 0"), [("first", [Decimal(1), Decimal(2)]), ("second", [Decimal(3), Decimal(0)])],
                       "EUR", title="Groups", horizontal=True)
    check(svg, "Groups")
    assert svg.index(">second<") < svg.index(">first<")  # pygal lists the bottom row first


def test_trend_chart():
    start = date(2026, 9, 1)
    points = [(start + timedelta(days=i), Decimal(1000 + i), Decimal(i)) for i in range(90)]
    root = check(trend_chart(points, "USD"), "Exposure and overdue, last 90 days")
    assert "from 2026-09-01 to 2026-11-29" in root[1].text and "1,000 USD to 1,089 USD" in root[1].text
