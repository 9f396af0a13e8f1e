"""``creditguard dunning``, ``creditguard cases`` and ``creditguard case GROUP ACTION``."""

from __future__ import annotations

import getpass
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from .credit_commands import active_policy, today
from .render import cell, console, escape, print_json

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_dunning(config: Any, store: Any, policy: Any, source: Any, as_of: date, *, dry_run: bool = False,
                actor: str = "daemon", push: bool = True) -> dict[str, Any]:
    """Work out and take the dunning steps of one source on ``as_of``, then push its outbox."""
    from connector.dunning import DunningRun, plan_json

    from .enforce_commands import make_outbox, push_outbox

    plans = DunningRun(store, policy, as_of, make_outbox(config, store), actor=actor).run(source.name,
                                                                                          dry_run=dry_run)
    entry: dict[str, Any] = {"source": source.name, "as_of": as_of.isoformat(),
                             "plans": [plan_json(p) for p in plans if p.action != "none"]}
    if push and not dry_run and any(p.action == "send" for p in plans):
        entry["outbox"] = push_outbox(config, store, source)
    return entry


def _sources(app: Any, source_name: str | None) -> list[Any]:
    return [app.config.source(source_name)] if source_name else list(app.config.enabled_sources)


def _amount(value: str) -> Decimal:
    """``--amount`` read as the API reads a case's amount (the case then checks it against the currency)."""
    from .check_request import RequestError, parse_amount

    try:
        return parse_amount(value, "--amount")
    except RequestError as exc:
        raise click.BadParameter(exc.message, param_hint="--amount") from None


ACTION_LABELS = {"send": "[green]send[/]", "propose": "[yellow]propose[/]", "pending": "[yellow]awaits approval[/]",
                 "stop": "[cyan]stopped[/]", "close": "close (paid)", "done": "done", "wait": "wait"}


def register(main: click.Group, guarded, App) -> None:
    @main.group(invoke_without_command=True)
    @click.option("--dry-run", is_flag=True, help="Show the steps due; write nothing.")
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--as-of", "as_of", type=_DATE, help="The day to evaluate (default: today in the company's "
                  "time zone).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def dunning(ctx: click.Context, dry_run: bool, source_name: str | None, as_of: datetime | None,
                as_json: bool) -> None:
        """Dunning: the level each overdue credit group reached and the step due (reminder, demand letter);
        sends the steps due (or proposes those that need approval) and pushes them to the ERP.

        Each step happens once per group and level; `creditguard dunning approve GROUP` approves a proposed one.
        Exits 1 when a source's writes could not be pushed (they wait in the outbox)."""
        if ctx.invoked_subcommand is not None:
            return
        _run(ctx.obj, dry_run, source_name, as_of, as_json)

    @guarded
    def _run(app: App, dry_run: bool, source_name: str | None, as_of: datetime | None, as_json: bool) -> None:
        from rich.table import Table

        from .enforce_commands import exit_on_push_failures, print_outbox, push_failure

        policy = active_policy(app.config)
        day = as_of.date() if as_of else today(app.config)
        result = {"dry_run": dry_run, "sources": [
            run_dunning(app.config, app.store, policy, s, day, dry_run=dry_run, actor=f"cli:{_user()}")
            for s in _sources(app, source_name)]}
        failures = [reason for entry in result["sources"] if (reason := push_failure(entry))]
        if as_json:
            print_json(result, sys.stdout)
        else:
            out = console()
            for entry in result["sources"]:
                title = f"{escape(entry['source'])}: dunning as of {entry['as_of']}" + (
                    " (dry run: nothing written)" if dry_run else "")
                if not entry["plans"]:
                    out.print(f"{title}: no overdue credit group.")
                    continue
                table = Table(title=title)
                for header in ("Customer", "Group", ">Days", "Level", "Channel", "Action", ">Overdue", ">Disputed",
                               "Why"):
                    table.add_column(header.lstrip(">"), justify="right" if header.startswith(">") else "left")
                for p in entry["plans"]:
                    table.add_row(cell(p["customer"]), cell(p["credit_group"]), str(p["days_past_due"]),
                                  cell(p["level_name"] or "-"), cell(p["channel"] or "-"),
                                  ACTION_LABELS.get(p["action"], p["action"]), f"{p['overdue']} {p['currency']}",
                                  p["disputed"] if Decimal(p["disputed"]) else "-", cell(p["reason"]))
                out.print(table)
                print_outbox(out, entry)
        exit_on_push_failures(failures, "the steps")

    @dunning.command("approve")
    @click.argument("group")
    @click.option("--source", "source_name", help="The source, when the customer exists in several.")
    @click.option("--level", type=int, help="Only the step of this level (its days past due).")
    @click.option("--by", "by", help="Who approves (default: the logged-in user).")
    @click.option("--no-send", is_flag=True, help="Only approve: the next run (the daemon's) sends it.")
    @click.pass_obj
    @guarded
    def approve(app: App, group: str, source_name: str | None, level: int | None, by: str | None,
                no_send: bool) -> None:
        """Approve the proposed dunning step of GROUP (a customer reference or SOURCE:ERP_ID) and send it."""
        from connector.cases import Cases
        from connector.dunning import DunningRun

        from .enforce_commands import make_outbox

        policy = active_policy(app.config)
        day = today(app.config)
        source, group_id, name = Cases(app.store, policy, day).resolve_group(group, source_name)
        who = f"cli:{by or _user()}"
        approved = DunningRun(app.store, policy, day, make_outbox(app.config, app.store)).approve(
            source, group_id, who, level)
        if not approved:
            click.echo(f"{name}: no proposed dunning step" + (f" at level {level}" if level is not None else ""),
                       err=True)
            sys.exit(1)
        for step in approved:
            click.echo(f"{name}: dunning level {step.level} days ({step.channel}) approved by {who}")
        if not no_send:
            entry = run_dunning(app.config, app.store, policy, app.config.source(source), day, actor=who)
            outbox = entry.get("outbox") or {}
            click.echo(f"sent: {outbox.get('applied', 0)} applied, {outbox.get('retried', 0)} to retry"
                       + (f" ({outbox['stopped'] or outbox.get('error')})" if outbox.get("stopped")
                          or outbox.get("error") else ""))

    @main.command()
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--state", type=click.Choice(["open", "in_contact", "promise_to_pay", "disputed",
                                                "handed_to_collection", "claimed", "closed"]))
    @click.option("--all", "include_closed", is_flag=True, help="Closed cases too.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def cases(app: App, source_name: str | None, state: str | None, include_closed: bool, as_json: bool) -> None:
        """Collection cases: their state, promise or dispute, and the dunning steps taken."""
        from rich.table import Table

        from connector.cases import case_json

        found = app.store.list_cases(source=source_name, state=state,
                                     active_only=not include_closed and state != "closed")
        docs = [case_json(c, steps=app.store.dunning_steps(case_id=c.id)) for c in found]
        if as_json:
            print_json({"cases": docs}, sys.stdout)
            return
        if not docs:
            click.echo("No collection cases.")
            return
        table = Table(title="Collection cases")
        for header in ("Id", "Customer", "Group", "State", "Opened", "Promise", "Disputed", "Dunning"):
            table.add_column(header)
        for d in docs:
            promise = f"{d['promise']['amount']} by {d['promise']['date']}" if d["promise"] else ""
            dispute = f"{d['dispute']['amount']}: {d['dispute']['reason']}" if d["dispute"] else ""
            steps = ", ".join(f"{s['level']}d {s['state']}" for s in d["dunning"])
            table.add_row(str(d["id"]), cell(d["customer"]), cell(f"{d['source']}:{d['credit_group']}"), d["state"],
                          d["opened_on"], cell(promise), cell(dispute), cell(steps))
        console().print(table)

    @main.group()
    @click.argument("group")
    @click.option("--source", "source_name", help="The source, when the customer exists in several.")
    @click.option("--by", "by", help="Who acts (default: the logged-in user).")
    @click.pass_context
    def case(ctx: click.Context, group: str, source_name: str | None, by: str | None) -> None:
        """Show or work the collection case of GROUP (a customer reference or SOURCE:ERP_ID)."""
        ctx.obj = {"app": ctx.obj, "group": group, "source": source_name, "by": by}

    def _act(ctx_obj: dict, action: str, **kwargs: Any) -> None:
        from connector.cases import Cases, CaseError

        app = ctx_obj["app"]
        policy = active_policy(app.config)
        try:
            saved = Cases(app.store, policy, today(app.config)).act(
                ctx_obj["group"], action, f"cli:{ctx_obj['by'] or _user()}", source=ctx_obj["source"], **kwargs)
        except CaseError as exc:
            raise click.UsageError(f"{exc.field}: {exc}") from None
        click.echo(f"{saved.customer}: case {saved.id} is now {saved.state}")

    @case.command("show")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def case_show(obj: dict, as_json: bool) -> None:
        """The case and its history, with the figures at each step."""
        guarded(_show)(obj, as_json)

    def _show(obj: dict, as_json: bool) -> None:
        from rich.table import Table

        from connector.cases import Cases, case_json

        app = obj["app"]
        source, group, name = Cases(app.store, active_policy(app.config), today(app.config)).resolve_group(
            obj["group"], obj["source"])
        found = app.store.list_cases(source=source, group=group)
        docs = [case_json(c, app.store.case_events(case_id=c.id), app.store.dunning_steps(case_id=c.id))
                for c in found]
        if as_json:
            print_json({"cases": docs}, sys.stdout)
            return
        if not docs:
            click.echo(f"{name}: no collection case.")
            return
        out = console()
        for d in docs:
            table = Table(title=f"Case {d['id']} of {escape(d['customer'])}: {d['state']} ({d['currency']})")
            for header in ("At", "Event", "State", "Detail", ">Overdue", ">Disputed", ">Exposure", "By"):
                table.add_column(header.lstrip(">"), justify="right" if header.startswith(">") else "left")
            for e in d["history"]:
                table.add_row(e["at"][:19], e["event"], e["state"], cell(e["detail"]), e["overdue"] or "",
                              e["disputed"] or "", e["exposure"] or "", cell(e["actor"]))
            out.print(table)

    def _simple(name: str, help_text: str) -> None:
        @case.command(name, help=help_text)
        @click.option("--text", "text", help="A comment for the history.")
        @click.pass_obj
        def command(obj: dict, text: str | None) -> None:
            guarded(_act)(obj, name, text=text)

    _simple("contact", "Record that the customer was reached (state in_contact).")
    _simple("resolve", "The dispute is settled: the disputed amount counts again (state open).")
    _simple("handover", "Hand the debt over to collection (state handed_to_collection): dunning stops.")
    _simple("claim", "The claim was filed with the insurer (state claimed).")
    _simple("close", "Close the case.")

    @case.command("note")
    @click.argument("text")
    @click.pass_obj
    def case_note(obj: dict, text: str) -> None:
        """Add a note to the case's history."""
        guarded(_act)(obj, "note", text=text)

    @case.command("promise")
    @click.option("--amount", required=True, help="The amount promised (the policy's base currency).")
    @click.option("--date", "day", type=_DATE, required=True, help="The date promised (YYYY-MM-DD).")
    @click.option("--text", "text", help="A comment for the history.")
    @click.pass_obj
    def case_promise(obj: dict, amount: str, day: datetime, text: str | None) -> None:
        """Record a promise to pay: the next dunning level waits until its date; unpaid by then, it is broken
        and the case reopens."""
        guarded(_act)(obj, "promise", amount=_amount(amount), day=day.date(), text=text)

    @case.command("dispute")
    @click.option("--amount", required=True, help="The amount disputed (the policy's base currency).")
    @click.option("--reason", required=True, help="Why the customer disputes it.")
    @click.pass_obj
    def case_dispute(obj: dict, amount: str, reason: str) -> None:
        """Record a dispute: with [cases] exclude_disputed the amount is left out of the overdue rules."""
        guarded(_act)(obj, "dispute", amount=_amount(amount), text=reason)


__all__ = ["register", "run_dunning"]
