"""The mapping of one insurer's portal export: which column is which, how dates and amounts are
written, and what its decision codes and grades mean (docs/insurer-feed.md).

A mapping is a TOML file validated into a frozen :class:`InsurerMapping`; every problem is reported
at once as ``FILE:LINE:COLUMN: key.path: message``.  :data:`DEFAULT_MAPPING` is the documented
default (the same text as ``policy/examples/insurers/default.toml``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .config import read_toml
from .errors import ConfigError
from .money import UnknownCurrency, currency_precision
from .tomlpos import TomlPositions, format_error


class Decision(StrEnum):
    """One vocabulary for every insurer's decisions (after EDIFACT 4507)."""

    APPROVED = "approved"  # 4507 code 2
    PARTLY_APPROVED = "partly_approved"  # 5: a lower limit than requested
    REDUCED = "reduced"  # 9
    WITHDRAWN = "withdrawn"  # 8: cancellation
    REFUSED = "refused"  # 3: not approved
    PENDING = "pending"  # 1, 6: still investigating


FIELDS = ("buyer_name", "registration", "vat", "country", "decision", "decided", "amount", "currency", "expires",
          "grade")
REQUIRED_FIELDS = ("decision", "decided", "amount")


@dataclass(frozen=True, slots=True)
class InsurerMapping:
    insurer: str | None  # the insurer the mapping is for, if it says
    columns: Mapping[str, str]  # our field → the export's column header
    decisions: Mapping[str, Decision]  # the insurer's code (upper case, trimmed) → our vocabulary
    grades: Mapping[str, int]  # the insurer's grade (upper case, trimmed) → the policy's 1-10 grade
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""
    delimiter: str = ","
    encoding: str = "utf-8"
    sheet: str | None = None
    currency: str | None = None  # when the export has no currency column
    request_codes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({"new": "new",
                                                                                      "increase": "increase"}))
    origin: str = "default mapping"

    def code(self, decision: Decision) -> str:
        """The insurer's code for one of our decisions (the first listed), else our own word."""
        return next((code for code, ours in self.decisions.items() if ours is decision), decision.value)


DEFAULT_MAPPING = """\
# The default mapping of an insurer's limit export (docs/insurer-feed.md).  Copy it, rename the
# column headers to the ones of your insurer's portal export, and pass it with --mapping.
# insurer = "Atradius"        # the insurer this mapping is for: an import under another --insurer is refused

[format]
date_format = "%Y-%m-%d"      # how dates are written (Python strptime codes: %d.%m.%Y, %d/%m/%Y ...)
decimal_separator = "."       # "." or ","
thousands_separator = ""      # "", ",", "." or " " (spaces of any width are ignored then)
delimiter = ","               # CSV only: ",", ";", "|" or "\\t"
encoding = "utf-8"            # CSV only: utf-8 (a BOM is fine), cp1252, latin-1; UTF-16 files are recognised
# sheet = "Limits"            # XLSX only: the sheet to read (default: the first)
# currency = "EUR"            # when the export has no currency column

[columns]                     # our field = the column header in the export (matched ignoring case)
buyer_name = "Buyer name"
registration = "Registration number"
vat = "VAT number"
country = "Country"
decision = "Decision"
decided = "Decision date"
amount = "Amount"
currency = "Currency"
expires = "Expiry date"
grade = "Grade"

[decisions]                   # the insurer's code = approved, partly_approved, reduced, withdrawn, refused, pending
approved = "approved"
partly_approved = "partly_approved"
reduced = "reduced"
withdrawn = "withdrawn"
refused = "refused"
pending = "pending"

[grades]                      # the insurer's grade = the policy's grade, 1 (best) ... 10 (default)
1 = 1
2 = 2
3 = 3
4 = 4
5 = 5
6 = 6
7 = 7
8 = 8
9 = 9
10 = 10

[request]                     # the code written in the decision column of a cover request
new = "new"                   # a first limit for the buyer
increase = "increase"         # more than the limit in force
"""

_TOP = {"insurer", "format", "columns", "decisions", "grades", "request"}
_FORMAT = {"date_format", "decimal_separator", "thousands_separator", "delimiter", "encoding", "sheet", "currency"}
_SEPARATORS = {"decimal_separator": (".", ","), "thousands_separator": ("", ",", ".", " ", "'")}
_DELIMITERS = (",", ";", "|", "\t")


def load_mapping(path: str | Path | None) -> InsurerMapping:
    """The mapping in ``path``, or the default one; :class:`ConfigError` listing every problem."""
    if path is None:
        return parse_mapping(tomllib.loads(DEFAULT_MAPPING), TomlPositions(DEFAULT_MAPPING), "default mapping")
    data, positions = read_toml(path)
    return parse_mapping(data, positions, str(path))


def parse_mapping(data: dict[str, Any], positions: TomlPositions, origin: str) -> InsurerMapping:
    problems: list[tuple[tuple[Any, ...], str]] = []

    def bad(path: tuple[Any, ...], message: str) -> None:
        problems.append((path, message))

    def table(key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            bad((key,), "expected a table")
            return {}
        return value

    for key in data:
        if key not in _TOP:
            bad((key,), f"unknown key (expected one of {', '.join(sorted(_TOP))})")
    insurer = data.get("insurer")
    if insurer is not None and (not isinstance(insurer, str) or not insurer.strip()):
        bad(("insurer",), "give the insurer's name as text")
        insurer = None
    fmt = table("format")
    options: dict[str, Any] = {}
    for key, value in fmt.items():
        if key not in _FORMAT:
            bad(("format", key), f"unknown key (expected one of {', '.join(sorted(_FORMAT))})")
        elif not isinstance(value, str):
            bad(("format", key), "expected text")
        else:
            options[key] = value
    for key, allowed in _SEPARATORS.items():
        if key in options and options[key] not in allowed:
            bad(("format", key), f"expected one of {', '.join(map(repr, allowed))}")
    if "delimiter" in options and options["delimiter"] not in _DELIMITERS:
        bad(("format", "delimiter"), f"expected one of {', '.join(map(repr, _DELIMITERS))}")
    if options.get("decimal_separator", ".") == options.get("thousands_separator", ""):
        bad(("format", "thousands_separator"), "must differ from decimal_separator")
    if "date_format" in options and "%" not in options["date_format"]:
        bad(("format", "date_format"), "expected strptime codes such as %Y-%m-%d")
    if "encoding" in options:
        try:
            "".encode(options["encoding"])
        except LookupError:
            bad(("format", "encoding"), f"unknown encoding {options['encoding']!r}")
    if "currency" in options:
        try:
            currency_precision(options["currency"])
        except UnknownCurrency:
            bad(("format", "currency"), f"unknown currency {options['currency']!r}")
    if options.get("sheet") == "":
        options.pop("sheet")

    columns: dict[str, str] = {}
    for key, value in table("columns").items():
        if key not in FIELDS:
            bad(("columns", key), f"unknown field (expected one of {', '.join(FIELDS)})")
        elif not isinstance(value, str) or not value.strip():
            bad(("columns", key), "expected the column header as text")
        else:
            columns[key] = value.strip()
    for key in REQUIRED_FIELDS:
        if key not in columns:
            bad(("columns",), f"missing required field {key!r}")
    if "vat" not in columns and "registration" not in columns:
        bad(("columns",), "name the column of the buyer's VAT or registration number (vat or registration)")
    if "currency" not in columns and "currency" not in options:
        bad(("columns",), "name the currency column, or give [format] currency")
    headers = [h.casefold() for h in columns.values()]
    for key, value in columns.items():
        if headers.count(value.casefold()) > 1:
            bad(("columns", key), f"column {value!r} is named for more than one field")

    decisions: dict[str, Decision] = {}
    decision_table = table("decisions")
    for code, value in decision_table.items():
        try:
            decisions[code.strip().upper()] = Decision(value)
        except ValueError:
            bad(("decisions", code), f"expected one of {', '.join(d.value for d in Decision)}")
    if "decisions" not in data:  # the codes are our own words
        decisions = {d.value.upper(): d for d in Decision}
    elif not decision_table:
        bad(("decisions",), "map at least one decision code")
    grades: dict[str, int] = {}
    for code, value in table("grades").items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
            bad(("grades", code), "expected a grade from 1 (best) to 10 (default)")
        else:
            grades[code.strip().upper()] = value
    request: dict[str, str] = {}
    for key, value in table("request").items():
        if key not in ("new", "increase"):
            bad(("request", key), "unknown key (expected new or increase)")
        elif not isinstance(value, str) or not value.strip():
            bad(("request", key), "expected the code as text")
        else:
            request[key] = value.strip()
    if problems:
        raise ConfigError("\n".join(format_error(origin, positions.find(path), path, message)
                                    for path, message in problems))
    return InsurerMapping(
        insurer=insurer.strip() if insurer else None, columns=MappingProxyType(columns),
        decisions=MappingProxyType(decisions), grades=MappingProxyType(grades),
        request_codes=MappingProxyType({"new": "new", "increase": "increase", **request}), origin=origin, **options)


__all__ = ["DEFAULT_MAPPING", "Decision", "InsurerMapping", "load_mapping", "parse_mapping"]
