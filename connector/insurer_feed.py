"""The insurer limit feed: read an insurer's portal export (CSV or XLSX), parse each row under the
insurer's :class:`~connector.insurer_mapping.InsurerMapping`, and match each buyer to one ERP customer
by its VAT or registration number — never by name (docs/insurer-feed.md).

A file or row that cannot be read is a :class:`FeedError` naming the file, line and column of every
problem: nothing of the file is then imported.  A buyer that matches no customer, or customers of
more than one credit group, is reported and left out.  :func:`parse_amount` and :func:`parse_date`
are pure; :func:`read_export` reads the file; :func:`match_rows` is pure.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .domain import Customer
from .errors import ConfigError
from .insurer_mapping import FIELDS, Decision, InsurerMapping
from .money import UnknownCurrency, currency_precision, quantize

MAX_FILE_BYTES = 20_000_000  # an export of a few hundred thousand buyers stays well below
MAX_UNZIPPED_BYTES = 200_000_000  # XLSX: what the file may hold once uncompressed (a zip bomb is refused)
MAX_ROWS = 200_000
MAX_CELL = 1_000  # characters in one cell
MAX_INTEGER_DIGITS = 15  # an insurer limit of 10^15 is not a limit
MAX_LISTED = 50  # errors listed of a bad file (the count says how many more)


class FeedError(ConfigError):
    """An export that cannot be imported: every problem as ``FILE:LINE:COLUMN: column: message``."""


# ------------------------------------------------------------------------------ values


def parse_amount(value: Any, decimal_separator: str = ".", thousands_separator: str = "") -> Decimal:
    """An amount as the export writes it: ``1.234.567,89`` with "," and "."; numbers of an XLSX cell
    as they are (floats through their shortest repr).  ValueError when it is not a positive amount."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
        if not amount.is_finite():
            raise ValueError(f"not an amount: {value!r}")
    elif isinstance(value, str):
        text = value.strip()
        if thousands_separator == " ":
            text = re.sub(r"\s", "", text)
        integer = (rf"[0-9]{{1,3}}(?:{re.escape(thousands_separator)}[0-9]{{3}})+|[0-9]+" if thousands_separator
                   else "[0-9]+")
        pattern = rf"(-?)({integer})(?:{re.escape(decimal_separator)}([0-9]+))?"
        match = re.fullmatch(pattern, text)
        if match is None:
            example = f"1{thousands_separator}234{thousands_separator}567{decimal_separator}89"
            raise ValueError(f"not an amount: {value!r} (expected e.g. {example})")
        digits = match[2].replace(thousands_separator, "") if thousands_separator else match[2]
        amount = Decimal(f"{match[1]}{digits}.{match[3] or '0'}")
    else:
        raise ValueError(f"not an amount: {value!r}")
    if amount < 0:
        raise ValueError(f"a negative amount: {value!r}")
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"amount too large: {value!r}")
    return amount


def parse_date(value: Any, date_format: str = "%Y-%m-%d") -> date:
    """A date as the export writes it (``date_format``), or an XLSX date cell.  ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), date_format).date()
        except ValueError:
            pass
    example = date(2026, 3, 31).strftime(date_format)
    raise ValueError(f"not a date: {value!r} (expected a date like {example}, format {date_format})")


_ID_JUNK = re.compile(r"[^0-9A-Z]")


def normalise_id(value: str | None) -> str:
    """A VAT or registration number to compare: upper case, letters and digits only, without its
    two-letter country prefix (``be 0477.472.701`` and ``BE0477472701`` → ``0477472701``)."""
    text = _ID_JUNK.sub("", (value or "").upper())
    if len(text) > 3 and text[:2].isalpha() and text[2].isdigit():
        text = text[2:]
    return text


# ------------------------------------------------------------------------------ rows


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One decision of the export, parsed."""

    line: int
    buyer_name: str | None
    registration: str | None
    vat: str | None
    country: str | None
    decision: Decision
    code: str  # as the insurer wrote it
    decided: date
    amount: Decimal | None  # rounded to the currency's precision; None: no amount (refused, withdrawn, pending)
    currency: str | None
    expires: date | None
    grade: int | None  # on the policy's 1-10 scale
    insurer_grade: str | None

    @property
    def buyer_id(self) -> str:
        return self.vat or self.registration or ""


@dataclass(frozen=True, slots=True)
class Table:
    """The cells of an export: its header and its rows, each with its line (CSV) or row (XLSX) number."""

    file: str
    header_line: int
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    digest: str = ""  # of the file's bytes: which import a decision came from


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_rows(table: Table, mapping: InsurerMapping) -> list[ExportRow]:
    """Every row of ``table`` parsed; a :class:`FeedError` listing every problem when one is bad."""
    folded = [h.strip().casefold() for h in table.header]
    where: dict[str, int] = {}
    problems: list[str] = []
    for field, header in mapping.columns.items():
        try:
            where[field] = folded.index(header.casefold())
        except ValueError:
            shown = ", ".join(repr(h) for h in table.header if h.strip())[:300]
            problems.append(f"{table.file}:{table.header_line}: no column {header!r} ({field}) in the header "
                            f"(it has {shown or 'no names'}): check the mapping's [columns] ({mapping.origin})")
    if problems:
        raise FeedError("\n".join(problems))
    rows = []
    for line, cells in table.rows:
        errors: list[str] = []
        row = _parse_row(table.file, line, cells, where, mapping, errors)
        problems.extend(errors)
        if row is not None:
            rows.append(row)
    if problems:
        more = len(problems) - MAX_LISTED
        raise FeedError("\n".join(problems[:MAX_LISTED] + ([f"... and {more} more"] if more > 0 else []))
                        + "\nnothing was imported")
    return rows


def _parse_row(file: str, line: int, cells: Sequence[Any], where: dict[str, int], mapping: InsurerMapping,
               errors: list[str]) -> ExportRow | None:
    def cell(field: str) -> Any:
        index = where.get(field)
        return cells[index] if index is not None and index < len(cells) else None

    def bad(field: str, message: str) -> None:
        errors.append(f"{file}:{line}:{where[field] + 1}: {mapping.columns[field]}: {message}")

    for field in where:
        value = cell(field)
        if isinstance(value, str) and len(value) > MAX_CELL:
            bad(field, f"a cell of {len(value)} characters (at most {MAX_CELL})")
            return None
    values = {field: _text(cell(field)) or None for field in where if field not in ("decided", "expires", "amount")}
    code = values.get("decision") or ""
    decision = mapping.decisions.get(code.upper()) if code else None
    if decision is None:
        known = ", ".join(repr(c) for c in mapping.decisions) or "none"
        bad("decision", f"unknown decision code {code!r} (the mapping's [decisions] knows {known})" if code
            else "no decision code")
    currency = (values.get("currency") or mapping.currency or "").upper() or None
    if currency is not None:
        try:
            currency_precision(currency)
        except UnknownCurrency:
            bad("currency" if "currency" in where else "decision", f"unknown currency {currency!r}")
            currency = None
    decided = expires = amount = None
    try:
        decided = parse_date(cell("decided"), mapping.date_format) if _text(cell("decided")) else None
        if decided is None:
            bad("decided", "no decision date")
    except ValueError as exc:
        bad("decided", str(exc))
    if "expires" in where and _text(cell("expires")):
        try:
            expires = parse_date(cell("expires"), mapping.date_format)
        except ValueError as exc:
            bad("expires", str(exc))
    if _text(cell("amount")):
        try:
            amount = parse_amount(cell("amount"), mapping.decimal_separator, mapping.thousands_separator)
        except ValueError as exc:
            bad("amount", str(exc))
        else:
            if currency is None:
                bad("currency" if "currency" in where else "amount", "no currency for the amount")
            else:
                amount = quantize(amount, currency)
    elif decision in (Decision.APPROVED, Decision.PARTLY_APPROVED, Decision.REDUCED):
        bad("amount", f"no amount for a decision {decision.value!r}")
    grade, insurer_grade = None, values.get("grade")
    if insurer_grade is not None:
        if mapping.grades:
            grade = mapping.grades.get(insurer_grade.upper())
            if grade is None:
                bad("grade", f"unknown grade {insurer_grade!r} (the mapping's [grades] knows "
                             f"{', '.join(repr(g) for g in mapping.grades)})")
        elif insurer_grade.isascii() and insurer_grade.isdigit() and 1 <= int(insurer_grade) <= 10:
            grade = int(insurer_grade)
        else:
            bad("grade", f"grade {insurer_grade!r} is not 1 to 10: map the insurer's grades in [grades]")
    country = values.get("country")
    if country is not None:
        country = country.upper()
        if len(country) != 2 or not country.isalpha() or not country.isascii():
            bad("country", f"expected a two-letter country code (ISO 3166), got {country!r}")
    if decided is not None and expires is not None and expires < decided:
        bad("expires", f"expires {expires} before the decision date {decided}")
    if errors or decision is None or decided is None:
        return None
    return ExportRow(line, values.get("buyer_name"), values.get("registration"), values.get("vat"), country,
                     decision, code, decided, amount, currency, expires, grade, insurer_grade)


# ------------------------------------------------------------------------------ files


def read_export(path: str | Path, mapping: InsurerMapping) -> Table:
    """The cells of a CSV or XLSX export (chosen by its content, not its name)."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FeedError(f"{file}: {size:,} bytes: too large for an insurer export (at most {MAX_FILE_BYTES:,})")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise FeedError(f"{file}: file not found") from None
    except IsADirectoryError:
        raise FeedError(f"{file}: a directory, not a file") from None
    except OSError as exc:
        raise FeedError(f"{file}: cannot read: {exc.strerror or exc.__class__.__name__}") from None
    if raw.startswith(b"PK\x03\x04"):
        table = _read_xlsx(file, raw, mapping)
    elif raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise FeedError(f"{file}: an old Excel (.xls) file: save it as .xlsx or CSV")
    else:
        table = _read_csv(file, raw, mapping)
    return replace(table, digest=hashlib.sha256(raw).hexdigest()[:32])


def _decode(file: Path, raw: bytes, encoding: str) -> str:
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            encoding = name
            break
    else:
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FeedError(f"{file}:{line}:{column}: not valid {encoding} text: set [format] encoding in the mapping "
                        "(e.g. \"cp1252\" for a Windows export)") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FeedError(f"{file}:{line}: a NUL character: not a text (CSV) export")
    return text


def _read_csv(file: Path, raw: bytes, mapping: InsurerMapping) -> Table:
    text = _decode(file, raw, mapping.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, strict=True)
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[Any, ...]]] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_line = tuple(c.strip() for c in cells), line
                continue
            if len(rows) >= MAX_ROWS:
                raise FeedError(f"{file}:{line}: more than {MAX_ROWS:,} rows: split the export")
            rows.append((line, tuple(cells)))
    except csv.Error as exc:
        raise FeedError(f"{file}:{reader.line_num}: not a readable CSV line ({exc})") from None
    if header is None:
        raise FeedError(f"{file}: empty: no header line")
    if len(header) == 1:
        guess = next((d for d in (";", ",", "\t", "|") if d != mapping.delimiter and d in header[0]), None)
        if guess is not None:
            raise FeedError(f"{file}:{header_line}: one column only: the file seems to be separated by {guess!r}; "
                            f"set [format] delimiter = {guess!r} in the mapping")
    return Table(str(file), header_line, header, tuple(rows))


def _read_xlsx(file: Path, raw: bytes, mapping: InsurerMapping) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unzipped = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FeedError(f"{file}: not a readable XLSX file (a damaged zip archive)") from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise FeedError(f"{file}: {unzipped:,} bytes once uncompressed: too large for an insurer export")
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises anything from KeyError to its own InvalidFileException
        raise FeedError(f"{file}: not a readable XLSX file ({exc.__class__.__name__})") from None
    try:
        if mapping.sheet is not None and mapping.sheet not in book.sheetnames:
            raise FeedError(f"{file}: no sheet {mapping.sheet!r} (it has {', '.join(map(repr, book.sheetnames))})")
        sheet = book[mapping.sheet] if mapping.sheet is not None else book.worksheets[0]
        sheet.reset_dimensions()  # the cells present only: a declared A1:XFD1048576 is not padded out
        return _xlsx_table(file, sheet)
    except FeedError:
        raise
    except Exception as exc:  # a damaged sheet: openpyxl fails while iterating
        raise FeedError(f"{file}: not a readable XLSX sheet ({exc.__class__.__name__})") from None
    finally:
        book.close()


def _xlsx_table(file: Path, sheet: Any) -> Table:
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        values = []
        for column, c in enumerate(cells, start=1):
            if getattr(c, "data_type", None) == "f":
                raise FeedError(f"{file}:{number}:{column}: a formula ({str(c.value)[:40]}): export the values, "
                                "not formulas")
            values.append(c.value)
        if not any(_text(v) for v in values):
            continue
        if header is None:
            header, header_line = tuple(_text(v) for v in values), number
            continue
        if len(rows) >= MAX_ROWS:
            raise FeedError(f"{file}:{number}: more than {MAX_ROWS:,} rows: split the export")
        rows.append((number, tuple(values)))
    if header is None:
        raise FeedError(f"{file}: the sheet is empty: no header row")
    return Table(str(file), header_line, header, tuple(rows))


# ------------------------------------------------------------------------------ matching


@dataclass(frozen=True, slots=True)
class Match:
    """Where a row's buyer is in the ERP: one credit group, or why not."""

    row: ExportRow
    source: str | None
    credit_group: str | None  # None: unmatched or ambiguous
    reason: str  # why it is not matched ("" when it is)
    customers: tuple[Customer, ...] = ()  # the customers whose number matched

    @property
    def matched(self) -> bool:
        return self.credit_group is not None


def match_rows(rows: Iterable[ExportRow], customers: Iterable[Customer]) -> list[Match]:
    """Each row's buyer matched to the credit groups of the customers with the same VAT or registration
    number (normalised); a country on both sides must agree.  Never by name."""
    by_id: dict[str, list[Customer]] = {}
    for c in customers:
        for key in {normalise_id(c.vat), normalise_id(c.registry)} - {""}:  # the ERP's VAT and registration no.
            by_id.setdefault(key, []).append(c)
    found = []
    for row in rows:
        ids = [(label, value) for label, value in (("VAT", row.vat), ("registration number", row.registration))
               if normalise_id(value)]
        if not ids:
            found.append(Match(row, None, None, "no VAT or registration number to match the buyer on"))
            continue
        hits = list({id(c): c for _, value in ids for c in by_id.get(normalise_id(value), ())
                     if row.country is None or c.country is None or c.country.upper() == row.country}.values())
        groups = sorted({(c.source, c.credit_group_id) for c in hits})
        numbers = " / ".join(f"{label} {value}" for label, value in ids)
        if not groups:
            found.append(Match(row, None, None, f"no customer with {numbers}"
                                                + (f" in {row.country}" if row.country else "")))
        elif len(groups) > 1:
            names = "; ".join(sorted({f"{c.name} ({c.source}:{c.credit_group_id})" for c in hits
                                      if c.erp_id == c.credit_group_id} or {f"{c.name} ({c.source}:{c.erp_id})"
                                                                           for c in hits}))
            found.append(Match(row, None, None, f"ambiguous: {numbers} matches {len(groups)} credit groups: "
                                                f"{names}", tuple(hits)))
        else:
            [(source, group)] = groups
            found.append(Match(row, source, group, "", tuple(hits)))
    return found


def conflicts(matches: Iterable[Match], file: str) -> list[str]:
    """Two rows deciding differently on the same buyer on the same day: which one holds is unknowable."""
    seen: dict[tuple[str, str, date], ExportRow] = {}
    problems = []
    for m in matches:
        if not m.matched:
            continue
        key = (m.source or "", m.credit_group or "", m.row.decided)
        other = seen.setdefault(key, m.row)
        if other is not m.row and (other.decision, other.amount, other.currency, other.expires, other.grade) != (
                m.row.decision, m.row.amount, m.row.currency, m.row.expires, m.row.grade):
            problems.append(f"{file}:{m.row.line}: the same buyer as line {other.line} ({m.customers[0].name}) with "
                            f"another decision on the same day {m.row.decided}")
    return problems


# ------------------------------------------------------------------------------ cover requests


def _safe_cell(value: str) -> str:
    """Text that a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def request_cells(mapping: InsurerMapping, values: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The header and the one row of a cover request, in the mapping's columns and formats."""
    header, row = [], []
    for field in FIELDS:
        if field not in mapping.columns:
            continue
        value = values.get(field)
        if isinstance(value, date):
            value = value.strftime(mapping.date_format)
        elif isinstance(value, Decimal):
            value = f"{value:f}".replace(".", mapping.decimal_separator)
        header.append(mapping.columns[field])
        row.append(_safe_cell(str(value)) if value is not None else "")
    return header, row


def write_request(path: str | Path, mapping: InsurerMapping, values: dict[str, Any]) -> None:
    """A cover request file: XLSX when ``path`` ends in .xlsx, else CSV in the mapping's delimiter and
    encoding."""
    header, row = request_cells(mapping, values)
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = mapping.sheet or "Request"
        sheet.append(header)
        sheet.append(row)
        try:
            book.save(target)
        except OSError as exc:
            raise FeedError(f"{target}: cannot write: {exc.strerror or exc.__class__.__name__}") from None
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=mapping.delimiter, lineterminator="\r\n")
    writer.writerows([header, row])
    encoding = "utf-8" if mapping.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else mapping.encoding
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError as exc:
        raise FeedError(f"{target}: {exc.object[exc.start:exc.end]!r} cannot be written in {encoding}") from None
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise FeedError(f"{target}: cannot write: {exc.strerror or exc.__class__.__name__}") from None


__all__ = ["ExportRow", "FeedError", "Match", "Table", "conflicts", "match_rows", "normalise_id", "parse_amount",
           "parse_date", "parse_rows", "read_export", "request_cells", "write_request"]
