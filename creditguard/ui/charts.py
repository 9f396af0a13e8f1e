"""Charts as inline SVG, drawn on the server by pygal.

pygal's SVG is made self-contained and script-free here: no ``<script>`` (pygal always embeds its configuration
for its tooltip script, which the dashboard does not load; the pages' Content-Security-Policy allows no script
at all), no comments naming web sites, no external style sheet (pygal inlines its own CSS).  Each chart gets
``role="img"``, a ``<title>`` and a ``<desc>`` naming what it shows, and every bar a ``<title>`` with its
figure (the browser's own tooltip, without JavaScript); the pages show the same numbers as a table too.

Amounts are drawn from ``Decimal`` converted to ``float``: for the geometry only, never to compute or show a
figure.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from lxml import etree
from markupsafe import Markup

SVG = "http://www.w3.org/2000/svg"
# not due → most overdue: blue to dark red, each at least 3:1 against the white plot
BUCKET_COLOURS = ("#2166ac", "#3f88c5", "#8c6d00", "#d9661f", "#c0282d", "#67001f", "#5b2a86", "#333333")
TREND_COLOURS = ("#2166ac", "#c0282d")


def _style(colours: tuple[str, ...]):
    from pygal.style import Style

    return Style(background="transparent", plot_background="#ffffff", foreground="#1f2933",
                 foreground_strong="#111111", foreground_subtle="#d0d5da", opacity="1", opacity_hover="0.85",
                 transition="0s", colors=colours,
                 font_family="'Segoe UI', Roboto, 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif",
                 label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15,
                 value_font_size=11, tooltip_font_size=12, no_data_font_size=16)


def _config(**options):
    return dict(js=[], disable_xml_declaration=True, explicit_size=False, pretty_print=False, show_legend=True,
                legend_at_bottom=True, print_values=False, margin=8, spacing=10,
                **options)


def _accessible(svg: str, title: str, description: str) -> Markup:
    """pygal's SVG without scripts and comments, with an accessible name and description, bars titled."""
    root = etree.fromstring(svg.encode("utf-8"))
    for node in root.iter(etree.Comment):
        node.getparent().remove(node)
    for node in list(root.iter(f"{{{SVG}}}script")):
        node.getparent().remove(node)
    for node in list(root.findall(f"{{{SVG}}}title")):
        root.remove(node)
    for bar in root.iter(f"{{{SVG}}}g"):  # a bar or a point: its label (see _point) becomes its tooltip
        label = bar.find(f"{{{SVG}}}desc[@class='label']")
        if label is not None and label.text and bar.find(f"{{{SVG}}}title") is None:
            tip = etree.Element(f"{{{SVG}}}title")
            tip.text = label.text
            bar.insert(0, tip)
    ident = root.get("id")  # pygal's own style sheet is scoped to it
    if not ident:
        ident = f"chart-{uuid.uuid4().hex}"
        root.set("id", ident)
    root.set("role", "img")
    root.set("aria-labelledby", f"{ident}-title {ident}-desc")
    root.set("focusable", "false")
    heading = etree.Element(f"{{{SVG}}}title", id=f"{ident}-title")
    heading.text = title
    desc = etree.Element(f"{{{SVG}}}desc", id=f"{ident}-desc")
    desc.text = description
    root.insert(0, desc)
    root.insert(0, heading)
    return Markup(etree.tostring(root, encoding="unicode"))


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,} {currency}"


def _point(value: Decimal, label: str) -> dict:
    return {"value": float(value), "label": label}


def ageing_chart(labels: tuple[str, ...], rows: list[tuple[str, list[Decimal]]], currency: str,
                 title: str = "Receivables by ageing bucket", horizontal: bool = False) -> Markup:
    """A stacked bar per row (a company, a credit group), one colour per bucket; ``rows``: (name, amount per
    bucket), all in ``currency``.  ``horizontal``: bars across, for many rows with long names."""
    import pygal

    kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    if horizontal:
        rows = rows[::-1]  # pygal draws the first row at the bottom: the table's first row goes on top
    chart = kind(style=_style(BUCKET_COLOURS), width=1200, height=110 + 28 * len(rows) if horizontal else 380,
                 **_config(x_title=currency if horizontal else None, y_title=None if horizontal else currency,
                           x_label_rotation=0, truncate_label=34, legend_at_bottom_columns=len(labels),
                           value_formatter=lambda v: f"{v:,.0f}"))
    chart.x_labels = [name for name, _ in rows]
    for index, label in enumerate(labels):
        chart.add(label, [_point(amounts[index], f"{name}, {label}: {_amount(amounts[index], currency)}")
                          for name, amounts in rows])
    overdue = sum((sum(amounts[1:], Decimal(0)) for _, amounts in rows), Decimal(0))
    total = sum((sum(amounts, Decimal(0)) for _, amounts in rows), Decimal(0))
    description = (f"Stacked bars, one per line of the table: open receivables in {currency} "
                   f"split into the buckets {', '.join(labels)}. In all {_amount(total, currency)}, of which "
                   f"{_amount(overdue, currency)} past due. The table below gives every figure.")
    return _accessible(chart.render(is_unicode=True), title, description)


def trend_chart(points: list[tuple[date, Decimal, Decimal]], currency: str) -> Markup:
    """Exposure and overdue per day (the daily snapshots), as two lines."""
    import pygal

    chart = pygal.Line(style=_style(TREND_COLOURS), height=320, width=1200,
                       **_config(y_title=currency, show_dots=len(points) <= 31, x_label_rotation=0,
                                 legend_at_bottom_columns=2,
                                 show_minor_x_labels=False, x_labels_major_every=max(1, len(points) // 6),
                                 value_formatter=lambda v: f"{v:,.0f}"))
    chart.x_labels = [day.isoformat() for day, _, _ in points]
    chart.add("Exposure", [_point(e, f"{day}: exposure {_amount(e, currency)}") for day, e, _ in points])
    chart.add("Overdue", [_point(o, f"{day}: overdue {_amount(o, currency)}") for day, _, o in points])
    first, last = points[0], points[-1]
    description = (f"Two lines over {len(points)} days from {first[0]} to {last[0]}: total exposure went from "
                   f"{_amount(first[1], currency)} to {_amount(last[1], currency)}, overdue from "
                   f"{_amount(first[2], currency)} to {_amount(last[2], currency)}.")
    return _accessible(chart.render(is_unicode=True), f"Exposure and overdue, last {len(points)} days", description)
