"""``creditguard insurer import | request``: the insurer limit feed (docs/insurer-feed.md), and the
imported decisions that ``policy explain`` shows."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from .credit_commands import active_policy, group_head, today
from .render import cell, escape, print_json
from .render import console as rich_console

if TYPE_CHECKING:
    from rich.console import Console

    from connector.domain import Customer
    from connector.insurer_limits import ImportReport
    from connector.store.insurer_decisions import ImportedDecision
    from policy.model import Policy


def _amount(minor: int | None, currency: str | None) -> Decimal | None:
    from connector.money import from_minor

    return from_minor(minor, currency) if minor is not None and currency else None


def report_json(report: ImportReport) -> dict[str, Any]:
    """The outcome of an import as documented for ``creditguard insurer import --json``."""
    return {
        "file": report.file, "insurer": report.insurer, "dry_run": report.dry_run, "rows": report.rows,
        "added": report.added, "unchanged": report.unchanged,
        "applied": [{
            "line": d.line, "buyer_name": d.buyer_name, "buyer_id": d.buyer_id, "source": d.source,
            "credit_group": d.customer_erp_id, "customer": d.customer, "customer_name": d.customer_name,
            "decision": d.decision, "code": d.code, "decided": d.decided,
            "amount": _amount(d.amount_minor, d.currency), "currency": d.currency, "expires": d.expires,
            "grade": d.grade, "insurer_grade": d.insurer_grade} for _, d in report.applied],
        "not_applied": [{"file": report.file, "line": m.row.line, "buyer_name": m.row.buyer_name,
                         "buyer_id": m.row.buyer_id, "reason": m.reason} for m in report.skipped],
    }


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{amount:,} {currency}" if amount is not None else "-"


def _print_report(report: ImportReport, console: Console) -> None:
    from rich.table import Table

    verb = "Would import" if report.dry_run else "Imported"
    console.print(cell(f"{verb} {report.file} ({report.insurer}): {report.rows} decisions read, "
                       f"{len(report.applied)} matched ({report.added} new, {report.unchanged} already imported), "
                       f"{len(report.skipped)} not applied."))
    if report.applied:
        table = Table(title="Matched buyers")
        for header in ("Line", "Buyer", "Customer", "Decision", "Decided", "Amount", "Expires", "Grade"):
            table.add_column(header)
        for _, d in report.applied:
            table.add_row(str(d.line), escape(f"{d.buyer_name or ''} ({d.buyer_id})"),
                          escape(f"{d.customer_name} ({d.customer})"), escape(f"{d.decision} ({d.code})"),
                          str(d.decided), _money(_amount(d.amount_minor, d.currency), d.currency),
                          str(d.expires or "-"), str(d.grade or "-"))
        console.print(table)
    for m in report.skipped:
        console.print(cell(f"{report.file}:{m.row.line}: not applied: {m.row.buyer_name or 'buyer'}: {m.reason}"))
    if report.dry_run:
        console.print("Dry run: nothing was written.")


def _terms_warning(app: Any, insurer: str) -> str | None:
    """A note when the active policy has no deadlines for the insurer (no [insurers."NAME"] table)."""
    from connector.errors import ConfigError

    if app.config.policy is None:
        return None
    try:
        policy = active_policy(app.config)
    except ConfigError as exc:
        return f"note: the active policy cannot be used until it is corrected:\n{exc}"
    if insurer in policy.insurers:
        return None
    return (f"note: the policy {policy.name!r} has no [insurers.\"{insurer}\"] terms: the limits apply, but no "
            "insurer deadlines are computed for these buyers")


def _request_values(app: Any, head: Customer, amount: Decimal, currency: str | None, insurer: str | None,
                    mapping: Any) -> tuple[str, dict[str, Any], str]:
    from connector.decisions import customer_key, insurer_decision
    from connector.errors import CreditGuardError
    from connector.insurer_limits import policy_key, with_imported_decisions
    from connector.money import UnknownCurrency, currency_precision, quantize
    from policy.model import InsurerStatus

    as_of = today(app.config)
    policy = with_imported_decisions(app.store, active_policy(app.config)) if app.config.policy else None
    key = customer_key(head.ref, head.source, head.erp_id)
    cover = insurer_decision(policy, policy_key(policy, key), as_of) if policy else None
    if cover is not None and insurer is not None and cover.insurer != insurer:
        cover = None
    insurer = insurer or (cover.insurer if cover else None)
    if insurer is None:
        raise CreditGuardError(f"{head.name} has no insurer decision in force: name the insurer with --insurer")
    currency = currency or (cover.currency if cover else None) or (policy.base_currency if policy else None)
    if currency is None:
        raise CreditGuardError("give the currency of the amount with --currency")
    try:
        currency_precision(currency)
    except UnknownCurrency:
        raise CreditGuardError(f"unknown currency {currency!r}") from None
    amount = quantize(amount, currency)
    kind, what = "new", f"a new {insurer} limit of {amount:,} {currency} for {head.name}"
    if cover is not None and cover.status is not InsurerStatus.WITHDRAWN:
        current = quantize(cover.amount, cover.currency)
        if cover.currency == currency and amount <= cover.amount:
            raise CreditGuardError(f"the {insurer} limit in force for {head.name} is already {current:,} "
                                   f"{cover.currency} (decided {cover.decided}): a cover request asks for more")
        kind = "increase"
        what = (f"an increase of the {insurer} limit for {head.name} from {current:,} {cover.currency} to "
                f"{amount:,} {currency}")
    vat_field = "vat" if "vat" in mapping.columns else "registration"
    values = {"buyer_name": head.name, vat_field: head.vat, "country": head.country,
              "decision": mapping.request_codes[kind], "decided": as_of, "amount": amount, "currency": currency}
    return insurer, values, what


def print_insurer_history(store: Any, file_policy: Policy, policy: Policy, head: Customer, key: str, as_of,
                          console: Console) -> None:
    """For ``policy explain``: the insurer decision in force and where it came from, then the history of
    the buyer's imported decisions."""
    from connector.decisions import insurer_decision
    from connector.insurer_limits import from_policy_file
    from connector.money import quantize

    history: list[ImportedDecision] = store.insurer_decisions(head.source, head.erp_id)
    cover = insurer_decision(policy, key, as_of)
    if cover is not None:
        origin = "policy file" if from_policy_file(file_policy, cover) else "imported"
        until = f" until {cover.expires}" if cover.expires else ""
        console.print(cell(f"Insurer decision in force: {cover.insurer} {cover.status.value} "
                           f"{quantize(cover.amount, cover.currency):,} {cover.currency}, decided {cover.decided}"
                           f"{until} ({origin})"))
    elif history:
        console.print("Insurer decision in force: none")
    if not history:
        return
    console.print("Imported insurer decisions (oldest first):")
    for d in history:
        amount = _money(_amount(d.amount_minor, d.currency), d.currency)
        grade = f", grade {d.grade} (insurer {d.insurer_grade})" if d.grade is not None else ""
        until = f" until {d.expires}" if d.expires else ""
        console.print(cell(f"  {d.decided} {d.insurer}: {d.decision} (code {d.code}) {amount}{until}{grade} — "
                           f"{d.file} line {d.line}, imported {d.imported_at:%Y-%m-%d %H:%M} UTC"))


def register(main: click.Group, guarded, App) -> None:
    @main.group()
    def insurer() -> None:
        """The insurer limit feed: import the insurer's limit decisions, write cover requests."""

    @insurer.command("import")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--insurer", "insurer_name", required=True, help="The insurer, as named in the policy.")
    @click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False),
                  help="The insurer's mapping file (default: the documented default mapping).")
    @click.option("--source", "source_name", help="Match buyers to customers of this source only.")
    @click.option("--dry-run", is_flag=True, help="Read and match, write nothing.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def insurer_import(app: App, file: str, insurer_name: str, mapping_path: str | None, source_name: str | None,
                       dry_run: bool, as_json: bool) -> None:
        """Import an insurer's limit decisions (CSV or XLSX portal export); all or nothing."""
        from connector.insurer_limits import import_export
        from connector.insurer_mapping import load_mapping

        mapping = load_mapping(mapping_path)
        source = app.config.source(source_name).name if source_name else None
        warning = _terms_warning(app, insurer_name)
        report = import_export(app.store, file, mapping, insurer_name, datetime.now(UTC), source=source,
                               dry_run=dry_run)
        if warning:
            click.echo(warning, err=True)
        if as_json:
            print_json(report_json(report), sys.stdout)
            return
        _print_report(report, rich_console())

    @insurer.command("request")
    @click.argument("group")
    @click.option("--amount", required=True, help="The limit asked for.")
    @click.option("--currency", help="Its currency (default: the limit in force's, else the policy's).")
    @click.option("--insurer", "insurer_name", help="The insurer (default: the one of the decision in force).")
    @click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False),
                  help="The insurer's mapping file: the request is written in its columns and formats.")
    @click.option("--source", "source_name", help="The source, when the customer exists in several.")
    @click.option("--out", required=True, type=click.Path(dir_okay=False),
                  help="The file to write: .xlsx, else CSV.")
    @click.pass_obj
    @guarded
    def insurer_request(app: App, group: str, amount: str, currency: str | None, insurer_name: str | None,
                        mapping_path: str | None, source_name: str | None, out: str) -> None:
        """Write a cover request (a new limit or an increase) for GROUP, for upload to the insurer's portal."""
        from connector.insurer_feed import parse_amount, write_request
        from connector.insurer_mapping import load_mapping

        try:
            wanted = parse_amount(amount)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--amount") from None
        if wanted <= 0:
            raise click.BadParameter("ask for more than 0", param_hint="--amount")
        mapping = load_mapping(mapping_path)
        head = group_head(app.store, group, source_name)
        insurer_name, values, what = _request_values(app, head, wanted, currency and currency.upper(),
                                                     insurer_name, mapping)
        if mapping.insurer is not None and mapping.insurer != insurer_name:
            raise click.BadParameter(f"the mapping is for insurer {mapping.insurer!r}, not {insurer_name!r}",
                                     param_hint="--mapping")
        write_request(out, mapping, values)
        rich_console().print(cell(f"Wrote a cover request for {what} to {out}."))


__all__ = ["print_insurer_history", "register", "report_json"]
