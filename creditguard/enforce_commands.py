"""``creditguard enforce``, ``creditguard holds`` and ``creditguard outbox``."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from connector.errors import SourceError

from .credit_commands import active_policy, today
from .render import cell, console, escape, print_json

if TYPE_CHECKING:
    from connector.enforce import Change
    from connector.outbox import Outbox


def make_outbox(config: Any, store: Any) -> Outbox:
    from connector.outbox import Outbox

    cfg = config.outbox
    return Outbox(store, max_attempts=cfg.max_attempts, base_delay=float(cfg.retry_delay_seconds),
                  max_delay=float(cfg.max_retry_delay_seconds))


def enforce_source(config: Any, store: Any, policy: Any, source: Any, *, dry_run: bool = False,
                   holds: bool = True, alerts: bool = True) -> dict[str, Any]:
    """Evaluate one source's open orders (holds), insurer deadlines and ageing (alerts), queue the changes,
    push its outbox."""
    from connector.enforce import EnforceReport, Enforcer

    outbox = make_outbox(config, store)
    as_of = today(config)
    report = Enforcer(store, policy, as_of, outbox).run(source.name, dry_run=dry_run) if holds \
        else EnforceReport(source.name)
    alerts = run_alerts(store, policy, as_of, outbox, source.name, source.credit_controller_user_id,
                        dry_run=dry_run) if alerts else []
    entry: dict[str, Any] = {"source": source.name, "checked": report.checked, "held": report.held,
                             "changes": [asdict(c) for c in report.changes + alerts]}
    if not dry_run:
        entry["outbox"] = push_outbox(config, store, source)
    return entry


def run_alerts(store: Any, policy: Any, as_of: Any, outbox: Outbox, source_name: str, controller_user_id: int | None,
               *, dry_run: bool = False) -> list[Change]:
    """Insurer deadlines and ageing alerts on the source's invoices (and the closing of paid ones)."""
    from connector.enforce import AgeingAlerts, InsurerDeadlineAlerts

    return [*InsurerDeadlineAlerts(store, policy, as_of, outbox, controller_user_id).run(source_name, dry_run=dry_run),
            *AgeingAlerts(store, policy, as_of, outbox, controller_user_id).run(source_name, dry_run=dry_run)]


def push_outbox(config: Any, store: Any, source: Any) -> dict[str, Any]:
    """Apply what waits in the source's outbox; an ERP that cannot be asked leaves it queued."""
    from .sources import build_writer

    writer = build_writer(source, store)
    try:
        report = make_outbox(config, store).drain(writer, source.name)
        if not (report.applied or report.retried or report.dead or report.stopped) and hasattr(writer, "probe"):
            writer.probe()  # nothing to write: still say whether the ERP answers and takes the login
        return asdict(report)
    except SourceError as exc:
        return {"error": str(exc)}
    finally:
        writer.client.close()


def push_failure(entry: dict[str, Any]) -> str | None:
    """Why the source's writes could not be pushed (the ERP is down, or refused the login), or ``None``."""
    outbox = entry.get("outbox") or {}
    return outbox.get("error") or outbox.get("stopped")


def print_outbox(out: Any, entry: dict[str, Any]) -> None:
    """The line saying what a push of the source's outbox did, when there was one."""
    outbox = entry.get("outbox")
    if outbox:
        out.print(f"Outbox: {outbox.get('applied', 0)} applied, {outbox.get('retried', 0)} to retry, "
                  f"{outbox.get('dead', 0)} dead letters")


def exit_on_push_failures(failures: list[str], what: str) -> None:
    """Each source whose ``what`` could not be pushed, on stderr, and exit 1; nothing when all were pushed."""
    for reason in failures:
        click.echo(f"creditguard: error: {reason}; {what} wait in the outbox", err=True)
    if failures:
        sys.exit(1)


def enforce_sources(app: Any, source_name: str | None, dry_run: bool) -> dict[str, Any]:
    policy = active_policy(app.config)
    sources = [app.config.source(source_name)] if source_name else list(app.config.enabled_sources)
    return {"dry_run": dry_run,
            "sources": [enforce_source(app.config, app.store, policy, s, dry_run=dry_run) for s in sources]}


def released_by_text(released_by: str | None) -> str:
    """Who released a hold, for people: ``Carla Credit (in the ERP)``, ``CreditGuard (policy)``."""
    if released_by is None:
        return ""
    if released_by.startswith("erp:"):
        return f"{released_by[4:] or 'a user'} (in the ERP)"
    return "CreditGuard (policy)" if released_by == "policy" else released_by


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def enforce(app: App, dry_run: bool, source_name: str | None, as_json: bool) -> None:
        """Place and release credit holds on open orders, flag customers, push the writes to the ERP.

        Exits 1 when a source's writes could not be pushed (its ERP is down or refused the login):
        they wait in the outbox, and the reason is the last line on stderr.
        """
        from rich.table import Table

        result = enforce_sources(app, source_name, dry_run)
        failures = [reason for entry in result["sources"] if (reason := push_failure(entry))]
        if as_json:
            print_json(result, sys.stdout)
        else:
            out = console()
            for entry in result["sources"]:
                title = f"{escape(entry['source'])}: {entry['checked']} open orders checked, {entry['held']} to hold"
                table = Table(title=title + (" (dry run: nothing written)" if dry_run else ""))
                for header in ("Order", "Customer", "Action", "Why"):
                    table.add_column(header)
                for change in entry["changes"]:
                    table.add_row(cell(change["order"]), cell(change["customer"]), change["action"],
                                  cell(change["detail"]))
                out.print(table if entry["changes"] else f"{title}: nothing to change.")
                print_outbox(out, entry)
        exit_on_push_failures(failures, "the writes")

    @main.command()
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--state", type=click.Choice(["held", "released"]), help="Only holds in this state.")
    @click.option("--order", "order_ref", help="Only the hold of this order (number).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def holds(app: App, source_name: str | None, state: str | None, order_ref: str | None, as_json: bool) -> None:
        """Holds on orders: why, the tier that may release them, and who released them (a person in the ERP: at
        which tier and why; or the policy)."""
        from rich.table import Table

        records = app.store.holds(source_name, state, order_ref)
        if as_json:
            print_json({"holds": records}, sys.stdout)
            return
        table = Table(title="Holds")
        for header in ("Source", "Order", "State", "Rev", "Release tier", "Since", "Reasons", "Released by",
                       "At tier", "Release reason", "Updated"):
            table.add_column(header)
        for h in records:
            table.add_row(cell(h.source), cell(h.order_number), h.state, str(h.revision), cell(h.release_tier or ""),
                          h.since.isoformat(timespec="seconds"), cell("; ".join(r["message"] for r in h.reasons)),
                          cell(released_by_text(h.released_by)), cell(h.released_tier or ""),
                          cell(h.release_reason or ""), h.updated_at.isoformat(timespec="seconds"))
        if records:
            console().print(table)
        else:
            click.echo("No holds.")

    @main.command()
    @click.option("--state", type=click.Choice(["pending", "applied", "dead"]), help="Only entries in this state.")
    @click.option("--source", "source_name")
    @click.option("--retry", "retry_id", type=int, help="Send a dead letter back to the queue.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def outbox(app: App, state: str | None, source_name: str | None, retry_id: int | None, as_json: bool) -> None:
        """Writes waiting for, applied to, or refused by the ERP (dead letters)."""
        from rich.table import Table

        if retry_id is not None:
            outbox_ = make_outbox(app.config, app.store)
            ok = outbox_.store.outbox_retry_dead(retry_id, outbox_.clock())
            click.echo(f"entry {retry_id} queued again" if ok else f"entry {retry_id} is not a dead letter")
            sys.exit(0 if ok else 1)
        entries = app.store.outbox_entries(source=source_name, state=state)
        if as_json:
            counts = {s: sum(1 for e in app.store.outbox_entries(source=source_name, state=s)) for s in
                      ("pending", "applied", "dead")}
            print_json({"counts": counts, "entries": entries}, sys.stdout)
            return
        table = Table(title="Outbox")
        for header in ("Id", "Source", "Kind", "Target", "State", "Tries", "Last error / result"):
            table.add_column(header)
        for e in entries:
            table.add_row(str(e.id), cell(e.source), e.kind, cell(f"{e.target_model}:{e.target_id}"), e.state,
                          str(e.attempts), cell(e.last_error or e.result or ""))
        console().print(table)
