"""``creditguard ageing``: open receivables by ageing bucket, per company and consolidated.

The report comes from :func:`connector.ageing.age` on :func:`connector.ageing.open_items`; this module
resolves the options, names companies and customers, and renders one document (:func:`report_document`)
as a table, JSON, CSV or an Excel workbook — the same figures in each.
"""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .credit_commands import active_policy, today
from .render import cell, escape, print_json
from .render import console as rich_console

if TYPE_CHECKING:
    from connector.ageing import AgeingLine, AgeingReport
    from connector.domain import Company

BY = ("company", "currency", "group")  # connector.ageing.By, not imported at start-up
LINE_HEADER = {"company": "Company", "currency": "Document currency", "group": "Customer"}


# ------------------------------------------------------------------------------------ options


def find_company(companies: list[Company], value: str) -> Company:
    """The company named by its ERP id or its name (case-insensitive); a usage error naming the known ones."""
    found = [c for c in companies if c.erp_id == value] or [
        c for c in companies if c.name.casefold() == value.strip().casefold()]
    if not found:
        known = "; ".join(f"{c.erp_id} {c.name!r} ({c.source}, {c.currency})" for c in companies)
        raise click.BadParameter(f"unknown company {value!r}: give its ERP id or its name ("
                                 + (f"companies in the store: {known})" if known else "the store has no company: "
                                    "sync first)"), param_hint="--company")
    if len({c.source for c in found}) > 1:
        raise click.BadParameter(f"company {value!r} exists in several sources "
                                 f"({', '.join(sorted({c.source for c in found}))}): choose one with --source",
                                 param_hint="--company")
    if len(found) > 1:
        raise click.BadParameter(f"several companies are called {value!r}: give the ERP id of one ("
                                 + ", ".join(c.erp_id for c in found) + ")", param_hint="--company")
    return found[0]


def find_group(store: Any, value: str, source: str | None) -> tuple[str, str]:
    """(source, credit group) of the customer ``value`` (its reference, or ``source:erp_id``)."""
    customers = store.find_customers(value, source)
    if not customers:
        raise click.BadParameter(f"no customer {value!r} in the store"
                                 + (f" for source {source!r}" if source else "")
                                 + " (give its reference, e.g. C00042, or source:erp_id, e.g. odoo:42)",
                                 param_hint="--customer")
    groups = sorted({(c.source, c.credit_group_id) for c in customers})
    if len({s for s, _ in groups}) > 1:
        raise click.BadParameter(f"customer {value!r} exists in several sources "
                                 f"({', '.join(sorted({s for s, _ in groups}))}): choose one with --source",
                                 param_hint="--customer")
    if len(groups) > 1:
        raise click.BadParameter(f"reference {value!r} names customers of several credit groups "
                                 f"({', '.join(g for _, g in groups)}): give source:erp_id instead",
                                 param_hint="--customer")
    return groups[0]


def build_report(app: Any, source_name: str | None, company: str | None, customer: str | None, by: str,
                 as_of: date | None) -> dict[str, Any]:
    """The ageing report for the options given, as :func:`report_document`."""
    from connector.ageing import age, open_items, store_converter

    policy = active_policy(app.config)
    day = as_of or today(app.config)
    if source_name is not None:
        source_name = app.config.source(source_name).name  # an unknown name is bad input (exit 2)
    store = app.store
    companies = store.companies(source_name)
    chosen = find_company(companies, company) if company is not None else None
    group_source, group = find_group(store, customer, source_name) if customer is not None else (None, None)
    if chosen is not None and group_source is not None and chosen.source != group_source:
        raise click.UsageError(f"company {company!r} is in source {chosen.source!r} but customer {customer!r} "
                               f"in {group_source!r}")
    source = source_name or (chosen.source if chosen else group_source)
    items = open_items(store, source, chosen.erp_id if chosen else None, group)
    report = age(items, policy.ageing.buckets, day, by=by, base_currency=policy.base_currency,
                 convert=store_converter(store), conversion=policy.exposure.conversion)
    return report_document(report, companies, _group_names(store, report) if by == "group" else {})


def _group_names(store: Any, report: AgeingReport) -> dict[tuple[str, str], tuple[str, str]]:
    """(source, credit group) → (name, customer key) of the groups in the report."""
    wanted = {(line.source, line.key) for section in report.companies for line in section.lines}
    names = {}
    for source in sorted({s for s, _ in wanted}):
        for c in store.iter_customers(source):
            if (c.source, c.erp_id) in wanted:
                names[(c.source, c.erp_id)] = (c.name, c.ref or f"{c.source}:{c.erp_id}")
    return names


# ------------------------------------------------------------------------------------ the document


def report_document(report: AgeingReport, companies: list[Company],
                    groups: dict[tuple[str, str], tuple[str, str]]) -> dict[str, Any]:
    """The report as one document (amounts ``Decimal``): what --json prints, and what the table, CSV and
    workbook show."""
    names = {(c.source, c.erp_id): c.name for c in companies}
    cols = report.columns
    by = report.by.value

    def line(entry: AgeingLine, name: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {"source": entry.source, "key": entry.key}
        if name is None:
            if by == "company":
                name = names.get((entry.source, entry.key), entry.key)
            elif by == "currency":
                name = entry.key
            else:
                name, customer = groups.get((entry.source, entry.key), (entry.key, f"{entry.source}:{entry.key}"))
                result["customer"] = customer
        result.update({
            "name": name, "currency": entry.currency,
            "buckets": {c.key: amount for c, amount in zip(cols, entry.buckets)},
            "past_due": entry.past_due, "credits": entry.credits, "total": entry.total, "items": entry.items,
        })
        return result

    def lines(entries: tuple[AgeingLine, ...]) -> list[dict[str, Any]]:
        result = [line(entry) for entry in entries]
        if by == "group":  # customers by name; companies by id and currencies by code, as the report has them
            result.sort(key=lambda r: (r["name"].casefold(), r["source"], r["key"]))
        return result

    return {
        "as_of": report.as_of, "by": by, "base_currency": report.base_currency, "buckets": list(report.buckets),
        "columns": [{"key": c.key, "label": c.label, "from": c.first, "to": c.last} for c in cols],
        "companies": [
            {"source": s.source, "company": s.company_id, "name": names.get((s.source, s.company_id), s.company_id),
             "currency": s.currency, "lines": lines(s.lines), "total": line(s.total, "Total")}
            for s in report.companies
        ],
        "consolidated": {"currency": report.base_currency, "lines": lines(report.lines),
                         "total": line(report.total, "Total")},
    }


# ------------------------------------------------------------------------------------ renderers


def _amount(value: Decimal) -> str:
    return f"{value:,}"


def print_tables(doc: dict[str, Any]) -> None:
    from rich.table import Table

    console = rich_console()
    keys = [c["key"] for c in doc["columns"]]
    labels = [c["label"] for c in doc["columns"]]
    head = LINE_HEADER[doc["by"]]
    if not doc["companies"]:
        console.print(f"No open receivables as of {doc['as_of']}.")
        return

    def table(title: str, rows: list[dict[str, Any]], total: dict[str, Any] | None, currency_column: bool) -> Table:
        t = Table(title=cell(title))
        t.add_column(head)
        if currency_column:
            t.add_column("Cur")
        for label in [*labels, "Credits", "Total"]:
            t.add_column(label, justify="right")
        for r in rows:
            t.add_row(cell(r["name"]), *([cell(r["currency"])] if currency_column else []),
                      *(_amount(r["buckets"][k]) for k in keys), _amount(r["credits"]), _amount(r["total"]))
        if total is not None:
            name = f"Total in {total['currency']}" if doc["by"] == "currency" else "Total"
            t.add_row(f"[bold]{escape(name)}[/]", *(["[bold]" + escape(total["currency"]) + "[/]"] if currency_column else []),
                      *(f"[bold]{_amount(total['buckets'][k])}[/]" for k in keys),
                      f"[bold]{_amount(total['credits'])}[/]", f"[bold]{_amount(total['total'])}[/]")
        return t

    if doc["by"] == "company":  # one line per company says it all: one table, each company in its currency
        console.print(table(f"Ageing per company, in company currency (as of {doc['as_of']})",
                            [s["lines"][0] for s in doc["companies"]], None, True))
    else:
        for s in doc["companies"]:
            console.print(table(f"Ageing of {s['name']} ({s['currency']}, as of {doc['as_of']})",
                                s["lines"], s["total"], False))
    consolidated = doc["consolidated"]
    console.print(table(f"Consolidated ageing ({consolidated['currency']}, as of {doc['as_of']})",
                        consolidated["lines"], consolidated["total"], False))


CSV_FIELDS = ("section", "source", "company", "row", "key", "name", "customer", "currency")


def write_csv(doc: dict[str, Any], out) -> None:
    """One row per line and per total: ``section`` is ``company`` or ``consolidated``, ``row`` is ``line`` or
    ``total``; amounts as decimal strings."""
    keys = [c["key"] for c in doc["columns"]]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_FIELDS, *keys, "past_due", "credits", "total", "items"])

    def row(section: str, company: str, kind: str, r: dict[str, Any]) -> None:
        writer.writerow([section, r["source"] or "", company, kind, r["key"], r["name"], r.get("customer", ""),
                         r["currency"], *(str(r["buckets"][k]) for k in keys), str(r["past_due"]),
                         str(r["credits"]), str(r["total"]), r["items"]])

    for s in doc["companies"]:
        for r in s["lines"]:
            row("company", s["company"], "line", r)
        row("company", s["company"], "total", s["total"])
    for r in doc["consolidated"]["lines"]:
        row("consolidated", "", "line", r)
    row("consolidated", "", "total", doc["consolidated"]["total"])


def number_format(currency: str) -> str:
    """Excel's format for amounts of ``currency``: thousands separators, the currency's decimals, negative
    amounts (credits) in red."""
    from connector.money import currency_precision

    places = currency_precision(currency)
    positive = "#,##0" + ("." + "0" * places if places else "")
    return f"{positive};[Red]-{positive}"


def sheet_title(name: str, taken: set[str]) -> str:
    """A worksheet title from ``name``: without the characters Excel refuses, at most 31 characters, unique."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip().strip("'") or "Company"
    title, n = cleaned[:31], 1
    while title.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        title = cleaned[:31 - len(suffix)] + suffix
    taken.add(title.casefold())
    return title


def write_xlsx(doc: dict[str, Any], path: Path) -> None:
    """One sheet per company (company currency) and a consolidated sheet (base currency): a title row, a frozen
    header row, a line per row, the total in bold; amounts as numbers with the currency's decimals."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    keys = [c["key"] for c in doc["columns"]]
    labels = [c["label"] for c in doc["columns"]]
    head = LINE_HEADER[doc["by"]]
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"Ageing as of {doc['as_of']}"
    taken: set[str] = set()

    def sheet(title: str, heading: str, rows: list[dict[str, Any]], total: dict[str, Any]) -> None:
        ws = workbook.create_sheet(sheet_title(title, taken))
        ws.append([heading])
        ws["A1"].font = Font(bold=True, size=12)
        header = [head, "Customer key" if doc["by"] == "group" else None, "Currency", *labels, "Past due",
                  "Credits", "Total", "Items"]
        header = [h for h in header if h is not None]
        ws.append(header)
        for c in ws[2]:
            c.font = bold
            c.alignment = Alignment(horizontal="center" if c.column > 1 else "left", wrap_text=True)
        ws.freeze_panes = "B3"  # the header and the names stay in sight
        for r, is_total in [*((r, False) for r in rows), (total, True)]:
            values = [r["name"], *([r.get("customer", "")] if doc["by"] == "group" else []), r["currency"],
                      *(r["buckets"][k] for k in keys), r["past_due"], r["credits"], r["total"], r["items"]]
            ws.append(values)
            fmt = number_format(r["currency"])
            first_amount = 4 if doc["by"] == "group" else 3
            for c in ws[ws.max_row]:
                if first_amount <= c.column < len(values):
                    c.number_format = fmt
                if is_total:
                    c.font = bold
        ws.column_dimensions["A"].width = 34
        for index in range(2, len(header) + 1):
            ws.column_dimensions[ws.cell(row=2, column=index).column_letter].width = 14

    for s in doc["companies"]:
        sheet(s["name"], f"Ageing of {s['name']} ({s['source']}, company {s['company']}) in {s['currency']}, "
                         f"as of {doc['as_of']}", s["lines"], s["total"])
    consolidated = doc["consolidated"]
    sheet("Consolidated", f"Consolidated ageing in {consolidated['currency']}, as of {doc['as_of']}",
          consolidated["lines"], consolidated["total"])
    workbook.save(path)


# ------------------------------------------------------------------------------------ the command


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--company", help="Only this company: its ERP id or its name.")
    @click.option("--customer", help="Only this customer's credit group: its reference (C00042) or source:erp_id.")
    @click.option("--by", type=click.Choice(BY), default="company", show_default=True,
                  help="One line per company, per document currency or per credit group.")
    @click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                  help="Age as of this day (default: today in the company's time zone). Open amounts stay "
                       "today's: payments made since are not undone.")
    @click.option("--json", "as_json", is_flag=True, help="JSON output (amounts as decimal strings).")
    @click.option("--csv", "as_csv", is_flag=True, help="CSV output: one row per line and per total.")
    @click.option("--xlsx", "xlsx_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                  help="Write an Excel workbook: one sheet per company and a consolidated sheet.")
    @click.pass_obj
    @guarded
    def ageing(app: App, source_name: str | None, company: str | None, customer: str | None, by: str,
               as_of: datetime | None, as_json: bool, as_csv: bool, xlsx_file: Path | None) -> None:
        """Open receivables by ageing bucket ([ageing] buckets of the policy), per company in its currency and
        consolidated in the policy's base currency; credit notes and unapplied payments in their own column."""
        if sum((as_json, as_csv, xlsx_file is not None)) > 1:
            raise click.UsageError("choose one output: --json, --csv or --xlsx FILE")
        doc = build_report(app, source_name, company, customer, by, as_of.date() if as_of else None)
        if as_json:
            print_json(doc, sys.stdout)
        elif as_csv:
            write_csv(doc, sys.stdout)
        elif xlsx_file is not None:
            try:
                write_xlsx(doc, xlsx_file)
            except OSError as exc:
                raise click.BadParameter(f"cannot write {str(xlsx_file)!r}: {exc.strerror or exc}",
                                         param_hint="--xlsx") from None
            click.echo(f"{xlsx_file}: {len(doc['companies'])} company sheet(s) and a consolidated sheet, "
                       f"as of {doc['as_of']}")
        else:
            print_tables(doc)


__all__ = ["register", "report_document", "write_csv", "write_xlsx"]
