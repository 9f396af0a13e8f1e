"""``creditguard doctor``: what is wrong with this installation, and how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .render import console as new_console
from .render import escape

if TYPE_CHECKING:
    from rich.console import Console

MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}


def _print(console: Console, status: str, message: str, hint: str = "") -> None:
    # messages quote files and ERPs: verbatim, and one line each (no wrapping at the terminal's width)
    console.print(f"  {MARKS[status]} {escape(message)}", soft_wrap=True)
    if hint:
        console.print(f"      [dim]→ {escape(hint)}[/]", soft_wrap=True)


def run_doctor(config_path: str | None) -> int:
    from connector.config import default_config_path, load_config
    from connector.errors import ConfigError

    console = new_console()
    failures = 0
    path = config_path or str(default_config_path())
    console.print(f"[bold]Configuration[/] {escape(path)}", soft_wrap=True)
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
    policy_failures, policy_unusable = _check_policy(config, console)
    failures += policy_failures
    for source in config.sources:
        console.print(f"[bold]Source[/] {escape(source.name)} ({source.kind}, {escape(source.url)})", soft_wrap=True)
        if not source.enabled:
            _print(console, "warn", "disabled (enabled = false)")
            continue
        for finding in _diagnose(source):
            failures += finding.status == "fail"
            _print(console, finding.status, finding.message, finding.hint)
    console.print("[bold green]All good.[/]" if not failures else f"[bold red]{failures} problem(s) to fix.[/]")
    return 2 if policy_unusable else 1 if failures else 0


def _check_store(config: Any, console: Console) -> int:
    from connector.store import Store

    console.print(f"[bold]Store[/] {escape(config.store.display_url())}", soft_wrap=True)
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


def _check_policy(config: Any, console: Console) -> tuple[int, bool]:
    """The problems found, and whether the policy file cannot be used at all (bad input: exit code 2)."""
    from policy.cases import run_cases
    from policy.loader import PolicyError, load_policy

    console.print("[bold]Policy[/]")
    if config.policy is None:
        _print(console, "warn", "no [policy] table: check, exposure and enforce need one",
               'add [policy] path = "policy.toml" (see policy/examples/)')
        return 0, False
    try:
        policy = load_policy(config.policy.path)
    except PolicyError as exc:
        for line in exc.errors:
            _print(console, "fail", line)
        return 1, True
    count, failures = run_cases(policy)
    _print(console, "ok" if not failures else "fail",
           f"{policy.name!r} v{policy.version} ({config.policy.path}), {count - len(failures)}/{count} test cases pass")
    for failure in failures:
        _print(console, "fail", failure)
    return (1 if failures else 0), False


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
