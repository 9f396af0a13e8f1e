"""``creditguard report --html FILE``: the dashboard's overview and ageing as one self-contained HTML file.

Everything is inline — the style sheet, the charts as SVG — and nothing is fetched when the file is opened:
it can be sent by e-mail and read offline.  It carries no link into the dashboard and no script.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click


def overview_context(store: Any, policy: Any, config: Any, as_of: date, rate_tables: Any = None,
                     *, with_ageing: bool = True) -> dict[str, Any]:
    """What the overview (and, ``with_ageing``, the ageing by company) shows."""
    from . import queries
    from .ageing_source import ageing_by_company
    from .charts import ageing_chart, trend_chart

    groups = queries.credit_groups(store, policy, as_of, rate_tables)
    ageing = ageing_by_company(store, policy, as_of)
    view = queries.overview(store, policy, config, as_of, groups, ageing.total)
    context: dict[str, Any] = {"view": view, "trend": trend_chart(view.history, view.currency) if view.history else None,
                               "dso_months": config.figures.dso_months}
    if with_ageing:
        rows = [(r.label, r.base) for r in ageing.rows if r.base is not None]
        context["report"] = ageing
        context["chart"] = ageing_chart(ageing.labels, rows, policy.base_currency) if rows else None
    return context


def write_report(store: Any, policy: Any, config: Any, as_of: date, path: Path) -> int:
    from .app import generated_at
    from .templating import render

    context = overview_context(store, policy, config, as_of)
    html = render("report.html", base="", links=False, policy=policy, generated=generated_at(), **context)
    data = html.encode("utf-8")
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)  # a reader never sees half a report
    return len(data)


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.option("--html", "html_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  metavar="FILE", help="Write the overview and the ageing as one self-contained HTML file.")
    @click.pass_obj
    @guarded
    def report(app: App, html_file: Path) -> None:
        """The dashboard's overview and ageing as one HTML file (inline CSS and SVG), e.g. to send by e-mail."""
        from ..credit_commands import active_policy, today

        policy = active_policy(app.config)
        try:
            size = write_report(app.store, policy, app.config, today(app.config), html_file)
        except OSError as exc:
            click.echo(f"creditguard: error: cannot write {html_file}: {exc.strerror or exc}", err=True)
            sys.exit(1)
        click.echo(f"{html_file}: report written ({size:,} bytes)")


__all__ = ["overview_context", "register", "write_report"]
