"""``creditguard doctor``: what is wrong with this installation, and how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}


def _print(console: Console, status: str, message: str, hint: str = "") -> None:
    from rich.markup import escape

    console.print(f"  {MARKS[status]} {escape(message)}")
    if hint:
        console.print(f"      [dim]→ {escape(hint)}[/]")


def run_doctor(config_path: str | None) -> int:
    from rich.console import Console

    from connector.config import default_config_path, load_config
    from connector.errors import ConfigError

    console = Console()
    failures = 0
    path = config_path or str(default_config_path())
    console.print(f"[bold]Configuration[/] {path}")
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            _print(console, "fail", line)
        console.print("Fix the configuration first; see config.example.toml.")
        return 2
    _print(console, "ok", f"{len(config.sources)} source(s): " + ", ".join(s.name for s in config.sources))
    for warning in config.warnings:
        _print(console, "warn", warning)

    failures += _check_store(config, console)
    failures += _check_policy(config, console)
    for source in config.sources:
        console.print(f"[bold]Source[/] {source.name} ({source.kind}, {source.url})")
        if not source.enabled:
            _print(console, "warn", "disabled (enabled = false)")
            continue
        for finding in _diagnose(source):
            failures += finding.status == "fail"
            _print(console, finding.status, finding.message, finding.hint)
    console.print("[bold green]All good.[/]" if not failures else f"[bold red]{failures} problem(s) to fix.[/]")
    return 1 if failures else 0


def _check_store(config: Any, console: Console) -> int:
    from connector.store import Store

    console.print(f"[bold]Store[/] {config.store.display_url()}")
    try:
        store = Store.open(config.store.url_with_password(), apply_migrations=False)
        try:
            current, head = store.schema_status()
        finally:
            store.close()
    except Exception as exc:  # any driver error: report it, do not crash the doctor
        _print(console, "fail", f"cannot open the store: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
               "check [store].url, that the database server runs, and the store password")
        return 1
    if current == head:
        _print(console, "ok", f"schema up to date (revision {head})")
    else:
        _print(console, "warn", f"schema at revision {current or 'none'}, latest {head}",
               "migrations are applied automatically when creditguard starts")
    return 0


def _check_policy(config: Any, console: Console) -> int:
    from policy.cases import run_cases
    from policy.loader import PolicyError, load_policy

    console.print("[bold]Policy[/]")
    if config.policy is None:
        _print(console, "warn", "no [policy] table: check, exposure and enforce need one",
               'add [policy] path = "policy.toml" (see policy/examples/)')
        return 0
    try:
        policy = load_policy(config.policy.path)
    except PolicyError as exc:
        for line in exc.errors:
            _print(console, "fail", line)
        return 1
    count, failures = run_cases(policy)
    _print(console, "ok" if not failures else "fail",
           f"{policy.name!r} v{policy.version} ({config.policy.path}), {count - len(failures)}/{count} test cases pass")
    for failure in failures:
        _print(console, "fail", failure)
    return 1 if failures else 0


def _diagnose(source: Any) -> list[Any]:
    if source.kind == "odoo":
        from adapters.odoo.diagnose import diagnose

        return diagnose(source)
    from adapters.odoo.diagnose import Finding

    return [Finding("warn", f"no diagnosis for kind {source.kind!r} yet")]


def register(main: click.Group) -> None:
    @main.command()
    @click.pass_context
    def doctor(ctx: click.Context) -> None:
        """Check configuration, store, policy and every ERP connection; say how to fix what is wrong."""
        raise SystemExit(run_doctor(ctx.obj.config_path))
