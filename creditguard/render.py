"""Output of the read-back commands: JSON (decimal strings, ISO dates) or rich tables.

Text that comes from files or ERPs (names, numbers, error messages) is data: it is never read as
rich console markup (``[bold]``) or emoji codes (``:100:``).  Put it in a table as :func:`cell`, into
a markup string through :func:`escape`, and print on a :func:`console`, which has emoji codes off.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def print_json(obj: Any, out) -> None:
    out.write(json.dumps(jsonable(obj), indent=2, ensure_ascii=False) + "\n")


def print_json_lines_array(key: str, items: Iterable[Any], out) -> int:
    """``{"key": [...]}`` written item by item, so that large lists stream."""
    out.write('{"%s": [' % key)
    count = 0
    for item in items:
        out.write(("," if count else "") + "\n  " + json.dumps(jsonable(item), ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count


def print_table(title: str, columns: list[tuple[str, str]], rows: Iterable[dict[str, Any]], console: Console,
                limit: int | None = None) -> int:
    """A rich table; ``columns`` are (key, header); headers starting with '>' are right-aligned."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for _key, header in columns:
        if header.startswith(">"):
            table.add_column(header[1:], justify="right")
        else:
            table.add_column(header)
    count = 0
    for row in rows:
        count += 1
        if limit is None or count <= limit:
            table.add_row(*(cell("" if row.get(k) is None else jsonable(row.get(k))) for k, _h in columns))
    if limit is not None and count > limit:
        table.caption = f"{limit} of {count} shown (--json for all)"
    console.print(table)
    return count


def console(stderr: bool = False) -> Console:
    """A rich console (imported when something is printed, not when the command line starts).

    Emoji codes are off: ``line100.toml:100:1`` stays what it is.  Markup stays on for the
    product's own styles; data goes in escaped (:func:`escape`) or as :func:`cell`.
    """
    from rich.console import Console

    return Console(stderr=stderr, emoji=False)


def cell(value: Any) -> Text:
    """A table cell or printable holding ``value`` verbatim (no markup, no emoji codes)."""
    from rich.text import Text

    return Text(str(value))


def escape(value: Any) -> str:
    """``value`` as text to put into a markup string verbatim."""
    from rich.markup import escape as escape_markup

    return escape_markup(str(value))
