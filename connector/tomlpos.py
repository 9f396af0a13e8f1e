"""Where each key sits in a TOML document.

:mod:`tomllib` parses TOML into plain dicts and lists and forgets where every
value came from.  Error messages about a configuration or policy file should
nevertheless say ``FILE:LINE:COLUMN: key.path: message``, so this module scans
the same text a second time and records, for each *path*, the 1-based line
and column where it is defined.

Paths have the shape of pydantic error locations:

* ``("store", "url")`` — key ``url`` of table ``[store]``;
* ``("source", 0, "protocol")`` — key ``protocol`` of the first ``[[source]]``;
* ``("a", "b")`` for a dotted key ``a.b = 1`` or a quoted one ``"a".'b' = 1``;
* ``("x", "a")`` for the inner key of an inline table ``x = {a = 1}``;
* ``("x", 2)`` for the third element of an array ``x = [1, 2, 3]``.

A key's position is that of its (last) key token; an array element's is that
of its first character; a table's is that of the ``[`` (or ``[[``) of its
header, or of the first header that implies it (``[a.b]`` implies ``a``).

The scanner does not evaluate values.  It skips over strings (including
multi-line basic and literal strings), arrays spanning several lines and
comments, so text inside them is never mistaken for a key.  It is meant for
text that :mod:`tomllib` has accepted; on malformed text it does its best
(resynchronising at the next line) and never raises.

:meth:`TomlPositions.find` falls back to the nearest existing parent, so an
error about a missing key points at the header of its table.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

__all__ = [
    "MAX_INTEGER_DIGITS",
    "MAX_NESTING",
    "KeyPath",
    "Position",
    "TomlPositions",
    "format_error",
    "format_path",
    "locate",
    "position_at",
    "scan_limits",
]

KeyPath = tuple[str | int, ...]
"""A key path, shaped like a pydantic error location: ``("source", 0, "url")``."""


class Position(NamedTuple):
    """A 1-based line and column (columns count characters, as tomllib does)."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


START = Position(1, 1)


def format_path(path: Sequence[str | int]) -> str:
    """``("source", 0, "url")`` → ``source.0.url`` (the ``key.path`` of messages)."""
    return ".".join(str(part) for part in path)


def format_error(
    file: object, position: Position | None, path: Sequence[str | int], message: str
) -> str:
    """One line of an error report: ``FILE:LINE:COLUMN: key.path: message``.

    Without a ``position`` the start of the file is used; without a ``path``
    the ``key.path:`` part is left out.
    """
    pos = position or START
    where = f"{file}:{pos.line}:{pos.column}"
    if path:
        return f"{where}: {format_path(path)}: {message}"
    return f"{where}: {message}"


class _Stop(Exception):
    """The text does not continue as TOML should; resynchronise."""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Numbers, booleans, dates and times: everything that is not a string, an
# array or an inline table.  A date-time may have a space before its time.
_SCALAR = re.compile(r"[A-Za-z0-9_+\-.:]+")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    '"': '"',
    "\\": "\\",
}
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.line_starts = [0]
        self.line_starts.extend(m.end() for m in re.finditer("\n", text))
        self.positions: dict[KeyPath, Position] = {}
        self.explicit: set[KeyPath] = set()
        self.aot_length: dict[KeyPath, int] = {}
        self.table: KeyPath = ()

    # -- helpers ---------------------------------------------------------

    def pos(self, index: int) -> Position:
        line = bisect_right(self.line_starts, index) - 1
        return Position(line + 1, index - self.line_starts[line] + 1)

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.s[j] if j < self.n else ""

    def record(self, path: KeyPath, index: int, *, explicit: bool) -> None:
        if path not in self.positions or (explicit and path not in self.explicit):
            self.positions[path] = self.pos(index)
        if explicit:
            self.explicit.add(path)

    def skip_ws(self) -> None:
        s, n, i = self.s, self.n, self.i
        while i < n and s[i] in " \t":
            i += 1
        self.i = i

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.s.find("\n", self.i)
            self.i = self.n if end < 0 else end

    def skip_newline(self) -> bool:
        if self.peek() == "\n":
            self.i += 1
            return True
        if self.peek() == "\r" and self.peek(1) == "\n":
            self.i += 2
            return True
        return False

    def skip_blank(self) -> None:
        """Whitespace, comments and newlines (inside arrays and inline tables)."""
        while True:
            start = self.i
            self.skip_ws()
            self.skip_comment()
            self.skip_newline()
            if self.i == start:
                return

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Stop
        self.i += 1

    def end_of_line(self) -> None:
        self.skip_ws()
        self.skip_comment()
        if self.i < self.n and not self.skip_newline():
            raise _Stop

    # -- strings -----------------------------------------------------------

    def basic_string(self) -> str:
        """A one-line ``"..."`` string at ``self.i``; returns its decoded text."""
        s, n = self.s, self.n
        i = self.i + 1
        out: list[str] = []
        while True:
            if i >= n or s[i] in "\r\n":
                self.i = i
                raise _Stop
            c = s[i]
            if c == '"':
                self.i = i + 1
                return "".join(out)
            if c == "\\":
                esc = s[i + 1] if i + 1 < n else ""
                if esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                    i += 2
                    continue
                if esc in _HEX_LENGTH:
                    digits = s[i + 2 : i + 2 + _HEX_LENGTH[esc]]
                    try:
                        out.append(chr(int(digits, 16)))
                    except ValueError:
                        out.append(digits)
                    i += 2 + _HEX_LENGTH[esc]
                    continue
                out.append(esc)
                i += 2
                continue
            out.append(c)
            i += 1

    def literal_string(self) -> str:
        end = self.s.find("'", self.i + 1)
        newline = self.s.find("\n", self.i + 1)
        if end < 0 or 0 <= newline < end:
            self.i = self.n if newline < 0 else newline
            raise _Stop
        text = self.s[self.i + 1 : end]
        self.i = end + 1
        return text

    def multiline_string(self, delimiter: str) -> None:
        """Skip a ``\"\"\"...\"\"\"`` or ``'''...'''`` string at ``self.i``."""
        s, n = self.s, self.n
        quote = delimiter[0]
        i = self.i + 3
        escapes = quote == '"'
        while i < n:
            c = s[i]
            if escapes and c == "\\":
                i += 2
                continue
            if c == quote and s.startswith(delimiter, i):
                i += 3
                # Up to two more quotes belong to the content: """a"""""
                for _ in range(2):
                    if i < n and s[i] == quote:
                        i += 1
                self.i = i
                return
            i += 1
        self.i = n
        raise _Stop

    # -- keys and values ---------------------------------------------------

    def key(self) -> list[tuple[str, int]]:
        """A dotted key: its parts, each with the index where it starts."""
        parts: list[tuple[str, int]] = []
        while True:
            self.skip_ws()
            start = self.i
            c = self.peek()
            if c == '"':
                name = self.basic_string()
            elif c == "'":
                name = self.literal_string()
            else:
                m = _BARE_KEY.match(self.s, self.i)
                if not m:
                    raise _Stop
                name = m.group()
                self.i = m.end()
            parts.append((name, start))
            self.skip_ws()
            if self.peek() != ".":
                return parts
            self.i += 1

    def keyval(self, prefix: KeyPath) -> None:
        parts = self.key()
        path = prefix
        for number, (name, start) in enumerate(parts, 1):
            path = (*path, name)
            self.record(path, start, explicit=number == len(parts))
        self.expect("=")
        self.skip_ws()
        self.value(path)

    def value(self, path: KeyPath) -> None:
        s, i = self.s, self.i
        c = self.peek()
        if c == '"':
            if s.startswith('"""', i):
                self.multiline_string('"""')
            else:
                self.basic_string()
        elif c == "'":
            if s.startswith("'''", i):
                self.multiline_string("'''")
            else:
                self.literal_string()
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            m = _SCALAR.match(s, i)
            if not m:
                raise _Stop
            self.i = m.end()
            if (
                _DATE_ONLY.match(m.group())
                and self.peek() == " "
                and self.peek(1) in "0123456789"
            ):
                m = _SCALAR.match(s, self.i + 1)
                if m:
                    self.i = m.end()

    def array(self, path: KeyPath) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.i += 1
                return
            element = (*path, index)
            self.record(element, self.i, explicit=True)
            self.value(element)
            index += 1
            self.skip_blank()
            if self.peek() == ",":
                self.i += 1
                continue
            self.expect("]")
            return

    def inline_table(self, path: KeyPath) -> None:
        self.i += 1
        while True:
            # TOML 1.0 keeps inline tables on one line; 1.1 allows newlines,
            # comments and a trailing comma.  Accepting both costs nothing.
            self.skip_blank()
            if self.peek() == "}":
                self.i += 1
                return
            self.keyval(path)
            self.skip_blank()
            if self.peek() == ",":
                self.i += 1
                continue
            self.expect("}")
            return

    # -- tables --------------------------------------------------------------

    def resolve(self, names: Sequence[str]) -> KeyPath:
        """The concrete path of a header's parent keys (into the last [[...]])."""
        path: KeyPath = ()
        for name in names:
            path = (*path, name)
            length = self.aot_length.get(path)
            if length:
                path = (*path, length - 1)
        return path

    def header(self) -> None:
        start = self.i
        array = self.s.startswith("[[", start)
        self.i += 2 if array else 1
        names = [name for name, _ in self.key()]
        self.expect("]")
        if array:
            self.expect("]")
        self.end_of_line()

        parents = self.resolve(names[:-1])
        for depth in range(1, len(parents) + 1):
            if isinstance(parents[depth - 1], str):
                self.record(parents[:depth], start, explicit=False)
        table = (*parents, names[-1])
        if array:
            index = self.aot_length.get(table, 0)
            self.aot_length[table] = index + 1
            self.record(table, start, explicit=False)
            table = (*table, index)
        self.record(table, start, explicit=True)
        self.table = table

    def document(self) -> dict[KeyPath, Position]:
        while self.i < self.n:
            self.skip_ws()
            self.skip_comment()
            if self.i >= self.n or self.skip_newline():
                continue
            start = self.i
            try:
                if self.peek() == "[":
                    self.header()
                else:
                    self.keyval(self.table)
                    self.end_of_line()
            except (_Stop, RecursionError):
                resume = self.s.find("\n", max(self.i, start))
                self.i = self.n if resume < 0 else resume + 1
        return self.positions


# ---------------------------------------------------------------------------
# Limits that tomllib does not check itself


MAX_NESTING = 100
"""Arrays and inline tables nested deeper than this are refused (tomllib recurses per level)."""

MAX_INTEGER_DIGITS = 4300
"""Python refuses to convert longer decimal integers (``sys.get_int_max_str_digits``)."""

# What matters to the limits: strings and comments (skipped), brackets, '=' and ',' (keys or
# values next), newlines, and runs of digits that start a number (not inside a bare key).
_LEXEME = re.compile(r"""\"\"\"|'''|["'#\[\]{}=,\n]|(?<![\w.:+-])[+-]?[0-9][0-9_]*""")
_HEADER_LEXEME = re.compile(r"""["'#\n]""")


def position_at(text: str, index: int) -> Position:
    """The 1-based line and column of character ``index`` of ``text``."""
    line_start = text.rfind("\n", 0, index) + 1
    return Position(text.count("\n", 0, index) + 1, index - line_start + 1)


def _unescaped(text: str, index: int) -> bool:
    """Whether the character at ``index`` follows an even run of backslashes."""
    run = 0
    while index - run > 0 and text[index - run - 1] == "\\":
        run += 1
    return run % 2 == 0


def _string_end(text: str, i: int) -> int:
    """The index after the string starting at ``i`` (its line's end if it is not closed there)."""
    quote = text[i]
    n = len(text)
    if text.startswith(quote * 3, i):
        j = i + 3
        while True:
            end = text.find(quote * 3, j)
            if end < 0:
                return n
            if quote == "'" or _unescaped(text, end):
                end += 3
                while end < n and text[end] == quote:
                    end += 1
                return end
            j = end + 1
    j = i + 1
    while True:
        end = text.find(quote, j)
        newline = text.find("\n", j)
        if end < 0 or 0 <= newline < end:
            return n if newline < 0 else newline
        if quote == "'" or _unescaped(text, end):
            return end + 1
        j = end + 1


def _header_end(text: str, i: int) -> int:
    """Where the table header that goes on at ``i`` ends (before its comment or newline)."""
    while True:
        m = _HEADER_LEXEME.search(text, i)
        if m is None:
            return len(text)
        if m.group() in "#\n":
            return m.start()
        i = _string_end(text, m.start())


def scan_limits(
    text: str, *, max_nesting: int = MAX_NESTING, max_digits: int = MAX_INTEGER_DIGITS
) -> tuple[Position, str] | None:
    """The first place where ``text`` goes beyond what can be parsed safely, and what is wrong.

    A cheap lexical pass over the text outside strings and comments finds
    arrays and inline tables nested more than ``max_nesting`` deep (tomllib
    would exhaust Python's stack) and decimal integer values of more than
    ``max_digits`` digits (Python refuses to convert them).  ``None`` when
    there is neither.  It never raises, whatever the text.
    """
    stack: list[str] = []
    after_equals = [False]  # per level: a value follows, not a key
    line_start = 0
    n = len(text)
    i = 0
    while (m := _LEXEME.search(text, i)) is not None:
        token = m.group()
        first = token[0]
        i = m.end()
        if first in "\"'":
            i = _string_end(text, m.start())
        elif first == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif first == "\n":
            line_start = i
            if not stack:
                after_equals[0] = False
        elif first == "=":
            after_equals[-1] = True
        elif first == ",":
            if stack and stack[-1] == "{":
                after_equals[-1] = False
        elif first in "[{":
            if first == "[" and not stack and not after_equals[0] and not text[line_start : m.start()].strip():
                i = _header_end(text, i)  # a table header holds keys, not values
                continue
            stack.append(first)
            after_equals.append(False)
            if len(stack) > max_nesting:
                return position_at(text, m.start()), f"arrays and inline tables nested more than {max_nesting} deep"
        elif first in "]}":
            if stack:
                stack.pop()
                after_equals.pop()
        else:  # an integer, or the first digits of a float, a date or a time
            value = (stack and stack[-1] == "[") or after_equals[-1]
            digits = len(token) - token.count("_") - (first in "+-")
            if value and digits > max_digits and text[i : i + 1] not in (".", "e", "E"):
                return position_at(text, m.start()), f"integer of more than {max_digits} digits"
    return None


def locate(text: str) -> dict[KeyPath, Position]:
    """Map every key path of the TOML ``text`` to where it is defined."""
    return _Scanner(text).document()


class TomlPositions(Mapping[KeyPath, Position]):
    """The positions of the keys of one TOML text, with parent fallback.

    >>> pos = TomlPositions('[store]\\nurl = "x"\\n')
    >>> pos.find(("store", "url"))
    Position(line=2, column=1)
    >>> pos.find(("store", "password_env"))  # missing: its table's header
    Position(line=1, column=1)
    """

    def __init__(self, text: str) -> None:
        self._positions = locate(text)

    def __getitem__(self, path: KeyPath) -> Position:
        return self._positions[tuple(path)]

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def exact(self, path: Sequence[str | int]) -> Position | None:
        """The position of ``path`` itself, or ``None`` if it is not in the text."""
        return self._positions.get(tuple(path))

    def find(self, path: Sequence[str | int]) -> Position | None:
        """The position of ``path`` or of its nearest parent that is in the text.

        ``None`` only when not even the first part of the path is in the text
        (callers then point at the start of the file).
        """
        path = tuple(path)
        for length in range(len(path), 0, -1):
            position = self._positions.get(path[:length])
            if position is not None:
                return position
        return None
