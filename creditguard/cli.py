"""``creditguard``: the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from connector.errors import ConfigError, CreditGuardError, SourceError

from . import __version__
from .render import console, print_json, print_json_lines_array, print_table

# Each command imports what it needs when it runs (the store, the policy, rich, structlog...): the
# command line starts in a fraction of the time a full import takes, for `--help` and scripted checks.

EXIT_ERROR = 1
EXIT_CONFIG = 2


class App:
    """Lazily loaded configuration and store, shared by the subcommands."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config = None
        self._store = None

    @property
    def config(self):
        if self._config is None:
            from connector.config import default_config_path, load_config

            from connector.logs import configure_logging

            path = self.config_path or default_config_path()
            self._config = load_config(path)
            configure_logging(self._config.logging.level, self._config.logging.format)
        return self._config

    @property
    def store(self):
        if self._store is None:
            from connector.store import Store

            self._store = Store.open(self.config.store.url_with_password())
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"creditguard: error: {message}", err=True)
    sys.exit(code)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the product's own errors into one clear line and an exit code, never a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except SourceError as exc:
            fail(str(exc))
        except CreditGuardError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


EPILOG = ("Exit codes: 0 success; 1 an ERP or store error (the ERP down or refusing the login, a policy's own "
          "test cases failing), the reason in one line on stderr; 2 bad input: a configuration or policy file "
          "that cannot be used, every problem as FILE:LINE:COLUMN: message (see README.md).")


@click.group(epilog=EPILOG)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="CREDITGUARD_CONFIG",
              help="Configuration file (default: $CREDITGUARD_CONFIG or /etc/creditguard/config.toml).")
@click.version_option(__version__, prog_name="creditguard")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """CreditGuard: credit control across your ERPs."""
    from connector.logs import configure_logging

    configure_logging("warning", "auto")
    app = App(config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


# ---------------------------------------------------------------------- sync


@main.command()
@click.option("--once", is_flag=True, help="Sync once and exit (default: keep syncing at the configured interval).")
@click.option("--full", is_flag=True, help="Re-read everything and reconcile deletions.")
@click.option("--source", "source_name", help="Only this source.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
@guarded
def sync(app: App, once: bool, full: bool, source_name: str | None, as_json: bool) -> None:
    """Sync customers, invoices, orders and currency rates into the store."""
    from .sync_command import run_sync, run_sync_forever

    if once:
        code = run_sync(app.config, app.store, full=full, source_name=source_name, as_json=as_json)
        sys.exit(code)
    run_sync_forever(app.config, app.store, full=full, source_name=source_name, as_json=as_json)


# ----------------------------------------------------------------- read-back

_source_option = click.option("--source", "source_name", help="Only this source.")
_json_option = click.option("--json", "as_json", is_flag=True, help="JSON output (amounts as decimal strings).")
_limit_option = click.option("--limit", type=int, default=200, show_default=True,
                             help="Rows shown in the table (JSON prints all).")


@main.command()
@_source_option
@click.option("--active-only", is_flag=True, help="Hide archived customers.")
@_json_option
@_limit_option
@click.pass_obj
@guarded
def customers(app: App, source_name: str | None, active_only: bool, as_json: bool, limit: int) -> None:
    """List synced customers."""
    items = app.store.iter_customers(source_name, include_inactive=not active_only)
    if as_json:
        print_json_lines_array("customers", items, sys.stdout)
        return
    print_table(
        "Customers",
        [("source", "Source"), ("erp_id", "ERP id"), ("ref", "Ref"), ("name", "Name"),
         ("credit_group_id", "Credit group"), ("country", "Country"), ("credit_limit", ">ERP limit"),
         ("credit_limit_currency", "Cur"), ("risk_category", "Risk cat."), ("credit_blocked", "ERP block"),
         ("active", "Active")],
        (_as_row(c) for c in items), console(), limit,
    )


@main.command()
@_source_option
@click.option("--open", "open_only", is_flag=True, help="Only posted documents with an open amount.")
@click.option("--customer", help="Only this credit group (ERP id of the commercial entity).")
@_json_option
@_limit_option
@click.pass_obj
@guarded
def invoices(app: App, source_name: str | None, open_only: bool, customer: str | None, as_json: bool,
             limit: int) -> None:
    """List synced invoices and credit notes."""
    items = app.store.iter_invoices(source_name, open_only=open_only, customer=customer)
    if as_json:
        print_json_lines_array("invoices", items, sys.stdout)
        return
    print_table(
        "Invoices and credit notes",
        [("number", "Number"), ("kind", "Kind"), ("state", "State"), ("payment_state", "Payment"),
         ("credit_group_id", "Credit group"), ("due_date", "Due"), ("currency", "Cur"),
         ("amount_total", ">Total"), ("amount_open", ">Open"), ("company_currency", "Co cur"),
         ("amount_open_company", ">Open (co)")],
        (_as_row(i) for i in items), console(), limit,
    )


@main.command()
@_source_option
@click.option("--customer", help="Only this customer (ERP id).")
@_json_option
@_limit_option
@click.pass_obj
@guarded
def orders(app: App, source_name: str | None, customer: str | None, as_json: bool, limit: int) -> None:
    """List synced sales orders."""
    items = app.store.iter_orders(source_name, customer=customer)
    if as_json:
        print_json_lines_array("orders", items, sys.stdout)
        return
    print_table(
        "Sales orders",
        [("number", "Number"), ("state", "State"), ("locked", "Locked"), ("customer_id", "Customer"),
         ("currency", "Cur"), ("amount_total", ">Total"), ("amount_uninvoiced", ">Not invoiced")],
        (_as_row(o) for o in items), console(), limit,
    )


@main.command()
@_source_option
@click.option("--all", "include_resolved", is_flag=True, help="Include entries resolved by a later sync.")
@_json_option
@click.pass_obj
@guarded
def quarantine(app: App, source_name: str | None, include_resolved: bool, as_json: bool) -> None:
    """List ERP records that could not be synced, with the reason."""
    entries = app.store.quarantine(source_name, include_resolved=include_resolved)
    if as_json:
        print_json({"quarantine": entries}, sys.stdout)
        return
    if not entries:
        click.echo("Quarantine is empty.")
        return
    print_table(
        "Quarantined records",
        [("source", "Source"), ("stream", "Stream"), ("erp_model", "Model"), ("erp_id", "ERP id"),
         ("reason", "Reason"), ("occurrences", ">Seen"), ("last_seen", "Last seen")],
        (_as_row(e) for e in entries), console(),
    )


def _as_row(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


# ------------------------------------------------------------------ sandbox


@main.group()
def sandbox() -> None:
    """Bundled ERP sandboxes for demos, tests and benchmarks."""


_STATE_HELP = ("Keep the data in FILE across restarts: loaded from FILE when it exists (--data is then ignored), "
               "else generated and written to it; every committed change is saved before its answer is sent.")


@sandbox.command("odoo")
@click.option("--port", type=int, default=8069, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data", default="demo", show_default=True, help="demo, or large:N for N invoices.")
@click.option("--version", "odoo_version", type=click.Choice(["17", "19"]), default="17", show_default=True)
@click.option("--commit-delay", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS",
              help="Mass actions (writes on several records) commit this long after they start, keeping "
                   "their earlier write_date.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help=_STATE_HELP)
def sandbox_odoo(port: int, host: str, data: str, odoo_version: str, commit_delay: float,
                 state_file: Path | None) -> None:
    """Serve an Odoo-protocol sandbox (database 'demo', login admin/admin) until stopped.

    With --state FILE the sandbox survives restarts: stop it, let writes wait in CreditGuard's outbox,
    start it again with the same FILE and they are applied once."""
    from adapters.odoo.sandbox import serve

    try:
        serve(port=port, data=data, version=odoo_version, host=host, commit_delay=commit_delay, state=state_file)
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot serve the Odoo sandbox on {host}:{port}: {exc}")


def _sap_option(check_name: str) -> Callable[[click.Context, click.Parameter, str], str]:
    """A click callback running the SAP sandbox's own check (a ValueError becomes a usage error)."""

    def callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
        from adapters.sap_soap.sandbox import cli as sap_cli

        try:
            return getattr(sap_cli, check_name)(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


@sandbox.command("sap")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data", default="demo", show_default=True, callback=_sap_option("check_data"),
              help="demo, or large:N for N more open items (and N/20 more customers).")
@click.option("--client", default="100", show_default=True, callback=_sap_option("check_client"),
              help="SAP client (three digits); part of every service path.")
@click.option("--user", default="admin", show_default=True, help="HTTP Basic logon user.")
@click.option("--password", default="admin", show_default=True, help="HTTP Basic logon password.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help=_STATE_HELP)
def sandbox_sap(port: int, host: str, data: str, client: str, user: str, password: str,
                state_file: Path | None) -> None:
    """Serve a SAP SOAP sandbox (RFC web services, client 100, login admin/admin) until stopped.

    With --state FILE the sandbox survives restarts: stop it, let writes wait in CreditGuard's outbox,
    start it again with the same FILE and they are applied once."""
    from adapters.sap_soap.sandbox import serve

    try:
        serve(port=port, data=data, host=host, client=client, username=user, password=password, state=state_file)
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot serve the SAP sandbox on {host}:{port}: {exc.strerror or exc}")


# --------------------------------------------------------------------- demo


@main.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"),
              show_default=True, help="Where the demo writes its configuration and SQLite store.")
@click.option("--protocol", type=click.Choice(["xmlrpc", "jsonrpc"]), default="xmlrpc", show_default=True)
@guarded
def demo(workdir: Path, protocol: str) -> None:
    """Start the Odoo sandbox, sync it once into a SQLite store and show what was synced."""
    from .demo import run_demo

    sys.exit(run_demo(workdir, protocol))


from .credit_commands import register as _register_credit  # noqa: E402

_register_credit(main, guarded, App)

from .deadline_commands import register as _register_deadlines  # noqa: E402

_register_deadlines(main, guarded, App)

from .claim_command import register as _register_claim  # noqa: E402

_register_claim(main, guarded, App)

from .insurer_commands import register as _register_insurer  # noqa: E402

_register_insurer(main, guarded, App)

from .dunning_commands import register as _register_dunning  # noqa: E402

_register_dunning(main, guarded, App)

from .ageing_command import register as _register_ageing  # noqa: E402

_register_ageing(main, guarded, App)

from .enforce_commands import register as _register_enforce  # noqa: E402

_register_enforce(main, guarded, App)

from .doctor import register as _register_doctor  # noqa: E402

_register_doctor(main)

from .ui.report import register as _register_report  # noqa: E402

_register_report(main, guarded, App)


@main.command()
@click.pass_obj
@guarded
def run(app: App) -> None:
    """Run as a service: sync, enforce and push writes on schedule; SIGHUP reloads, SIGTERM stops."""
    from connector.config import default_config_path

    from .daemon_runner import Daemon

    sys.exit(Daemon(app.config_path or str(default_config_path())).run())

if __name__ == "__main__":  # pragma: no cover
    main()

from .snapshot_command import register as _register_snapshot  # noqa: E402

_register_snapshot(main, guarded, App)
