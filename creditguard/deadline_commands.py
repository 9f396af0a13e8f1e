"""``creditguard deadlines``: the insurer deadlines of insured buyers with an overdue account."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from .credit_commands import active_policy, today
from .render import console as rich_console
from .render import print_json

if TYPE_CHECKING:
    from connector.deadlines import Deadline

COLOURS = {"missed": "red", "due_soon": "yellow", "pending": "default"}  # by DeadlineStatus
LABELS = {"missed": "missed", "due_soon": "due soon", "pending": "pending"}


def deadline_rows(app: Any, source_name: str | None, include_pending: bool) -> dict[str, Any]:
    from connector.deadlines import deadlines_of

    policy = active_policy(app.config)
    as_of = today(app.config)
    names = [app.config.source(source_name).name] if source_name else [s.name for s in app.config.enabled_sources]
    return {"as_of": as_of, "found": deadlines_of(app.store, policy, names, as_of, include_pending=include_pending)}


def _cell(deadline: Deadline | None) -> str:
    if deadline is None:
        return "-"
    return f"[{COLOURS[deadline.status.value]}]{deadline.day}[/]"


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--all", "include_pending", is_flag=True, help="Also the deadlines not due soon yet.")
    @click.pass_obj
    @guarded
    def deadlines(app: App, source_name: str | None, as_json: bool, include_pending: bool) -> None:
        """Insurer deadlines (notify the overdue account, cover stops, collection) due soon or missed."""
        from rich.markup import escape
        from rich.table import Table

        from connector.deadlines import DeadlineKind, deadlines_json

        result = deadline_rows(app, source_name, include_pending)
        if as_json:
            print_json({"as_of": result["as_of"], "deadlines": [deadlines_json(d) for d in result["found"]]},
                       sys.stdout)
            return
        console = rich_console()
        which = "every insurer deadline" if include_pending else "insurer deadlines due soon or missed"
        title = f"{which.capitalize()} (as of {result['as_of']})"
        if not result["found"]:
            console.print(f"{title}: none.")
            return
        table = Table(title=title)
        for header in ("Customer", "Insurer", "Oldest invoice", "Due", "Notify by", "Cover stops", "Collection by",
                       "Status", ">Days left"):
            table.add_column(header.lstrip(">"), justify="right" if header.startswith(">") else "left")
        for d in result["found"]:
            upcoming = d.next
            table.add_row(escape(d.customer_name), escape(d.insurer), escape(d.invoice_number), str(d.due),
                          *(_cell(d.get(kind)) for kind in DeadlineKind),
                          f"[{COLOURS[d.status.value]}]{LABELS[d.status.value]}[/]",
                          str(upcoming.days_left) if upcoming else "-")
        console.print(table)


__all__ = ["register"]
