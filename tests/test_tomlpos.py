"""Tests for connector.tomlpos: where each key of a TOML text is defined."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connector.tomlpos import Position, TomlPositions, format_error, format_path, locate

# ---------------------------------------------------------------------------
# Examples


def at(text: str, path: tuple[str | int, ...]) -> tuple[int, int]:
    return tuple(locate(text)[path])  # type: ignore[return-value]


def test_plain_keys_and_tables() -> None:
    text = '# comment\ntitle = "t"\n\n[store]\nurl = "sqlite://"\n  indented = 1\n'
    pos = locate(text)
    assert pos[("title",)] == Position(2, 1)
    assert pos[("store",)] == Position(4, 1)
    assert pos[("store", "url")] == Position(5, 1)
    assert pos[("store", "indented")] == Position(6, 3)
    assert set(pos) == {("title",), ("store",), ("store", "url"), ("store", "indented")}


def test_array_of_tables_are_numbered() -> None:
    text = (
        "[[source]]\n"
        'name = "a"\n'
        "[source.options]\n"
        "k = 1\n"
        "[[source]]\n"
        'name = "b"\n'
        "[[source.sub]]\n"
        "q = 1\n"
        "[[source.sub]]\n"
        "q = 2\n"
        "[[source]]\n"
        "[[source.sub]]\n"
    )
    pos = locate(text)
    assert pos[("source",)] == Position(1, 1)
    assert pos[("source", 0)] == Position(1, 1)
    assert pos[("source", 0, "name")] == Position(2, 1)
    assert pos[("source", 0, "options")] == Position(3, 1)
    assert pos[("source", 0, "options", "k")] == Position(4, 1)
    assert pos[("source", 1)] == Position(5, 1)
    assert pos[("source", 1, "name")] == Position(6, 1)
    assert pos[("source", 1, "sub", 0)] == Position(7, 1)
    assert pos[("source", 1, "sub", 0, "q")] == Position(8, 1)
    assert pos[("source", 1, "sub", 1, "q")] == Position(10, 1)
    assert pos[("source", 2)] == Position(11, 1)
    # a new [[source]] restarts the numbering of its own sub-arrays
    assert pos[("source", 2, "sub", 0)] == Position(12, 1)


def test_dotted_and_quoted_keys() -> None:
    text = 'a.b . "c.d" = 1\n"quoted key" = 2\n\'lit\'.x = 3\n"esc\\u00e9\\"" = 4\n'
    pos = locate(text)
    assert pos[("a",)] == Position(1, 1)
    assert pos[("a", "b")] == Position(1, 3)
    assert pos[("a", "b", "c.d")] == Position(1, 7)
    assert pos[("quoted key",)] == Position(2, 1)
    assert pos[("lit", "x")] == Position(3, 7)
    assert pos[('esc\u00e9"',)] == Position(4, 1)


def test_header_with_spaces_and_quotes() -> None:
    text = '[ a . "b.c" . \'d\' ]  # comment [x]\nk = 1\n[[ e ]]\n'
    pos = locate(text)
    assert pos[("a",)] == Position(1, 1)
    assert pos[("a", "b.c")] == Position(1, 1)
    assert pos[("a", "b.c", "d")] == Position(1, 1)
    assert pos[("a", "b.c", "d", "k")] == Position(2, 1)
    assert pos[("e", 0)] == Position(3, 1)
    assert ("x",) not in pos


def test_explicit_table_after_its_child() -> None:
    text = "[a.b]\nx = 1\n[a]\ny = 2\n"
    pos = locate(text)
    assert pos[("a",)] == Position(3, 1)  # its own header wins over the implicit mention
    assert pos[("a", "b")] == Position(1, 1)
    assert tomllib.loads(text) == {"a": {"b": {"x": 1}, "y": 2}}


def test_inline_tables_and_arrays() -> None:
    text = "x = {a = 1, b.c = [1, {d = 2}], e = {}}\narr = [\n  1,  # two = 2\n  [3, 4],\n]\n"
    pos = locate(text)
    assert pos[("x",)] == Position(1, 1)
    assert pos[("x", "a")] == Position(1, 6)
    assert pos[("x", "b")] == Position(1, 13)
    assert pos[("x", "b", "c")] == Position(1, 15)
    assert pos[("x", "b", "c", 0)] == Position(1, 20)
    assert pos[("x", "b", "c", 1)] == Position(1, 23)
    assert pos[("x", "b", "c", 1, "d")] == Position(1, 24)
    assert pos[("x", "e")] == Position(1, 33)
    assert pos[("arr", 0)] == Position(3, 3)
    assert pos[("arr", 1)] == Position(4, 3)
    assert pos[("arr", 1, 1)] == Position(4, 7)
    assert ("two",) not in pos


def test_keys_inside_strings_are_not_keys() -> None:
    text = (
        'a = """\n'
        "fake = 1\n"
        "[fake]\n"
        '[[fake]] \\"""\n'
        '"""\n'
        "b = '''\n"
        "fake2 = 2\n"
        "'''\n"
        'c = "d = 1 # e"\n'
        'f = """x""""\n'
        "g = '''y'''''\n"
        "h = 1 # i = 2\n"
        'j = """\\\n'
        "   k = 3 \"\"\"\n"
        "l = 'm = 4'\n"
    )
    data = tomllib.loads(text)
    pos = locate(text)
    assert set(pos) == {(k,) for k in data}
    assert pos[("b",)] == Position(6, 1)
    assert pos[("c",)] == Position(9, 1)
    assert pos[("h",)] == Position(12, 1)
    assert pos[("l",)] == Position(15, 1)


def test_date_times_with_a_space() -> None:
    text = "[t]\nodt = 1979-05-27 07:32:00Z\nld = 1979-05-27\nlt = 07:32:00\narr = [1979-05-27 07:32:00, 1]\nz = 1\n"
    pos = locate(text)
    assert pos[("t", "z")] == Position(6, 1)
    assert pos[("t", "arr", 1)] == Position(5, 29)


def test_crlf_tabs_and_unicode_columns() -> None:
    text = '[s]\r\n\tk = 1\r\n"é" = {\ta = 2 }\r\n'
    pos = locate(text)
    assert pos[("s", "k")] == Position(2, 2)
    assert pos[("s", "é", "a")] == Position(3, 9)


def test_column_matches_tomllib_error_columns() -> None:
    # tomllib counts columns in characters from 1, as the locator does
    text = 'k = "é"\nkey = ["é", ?]\n'
    with pytest.raises(tomllib.TOMLDecodeError, match=r"line 2, column 13"):
        tomllib.loads(text)
    assert locate(text)[("key", 0)] == Position(2, 8)


def test_find_falls_back_to_the_nearest_parent() -> None:
    text = "[store]\nurl = 1\n\n[[source]]\nname = 'a'\n"
    pos = TomlPositions(text)
    assert pos.find(("store", "url")) == Position(2, 1)
    assert pos.find(("store", "password_env")) == Position(1, 1)
    assert pos.find(("source", 0, "protocol")) == Position(4, 1)
    assert pos.find(("source", 0, "companies", 3)) == Position(4, 1)
    assert pos.find(("source", 5, "name")) == Position(4, 1)
    assert pos.find(("sync", "batch_size")) is None
    assert pos.find(()) is None
    assert pos.exact(("store", "password_env")) is None
    assert pos.exact(["store", "url"]) == Position(2, 1)
    assert ("store",) in pos and len(pos) == 5 and pos[("source", 0)] == Position(4, 1)


def test_format_error() -> None:
    assert format_path(("source", 0, "url")) == "source.0.url"
    assert (
        format_error("c.toml", Position(3, 7), ("source", 0, "url"), "bad")
        == "c.toml:3:7: source.0.url: bad"
    )
    assert format_error("c.toml", None, (), "bad") == "c.toml:1:1: bad"
    assert str(Position(2, 5)) == "2:5"


def test_malformed_text_does_not_raise() -> None:
    text = 'a = "unterminated\nb = 1\n[c\nd = [1, 2\ne = 5\n[f]\ng = 1\n'
    pos = locate(text)
    assert pos[("b",)] == Position(2, 1)
    assert pos[("f", "g")] == Position(7, 1)


# ---------------------------------------------------------------------------
# Properties: render random documents as TOML text, then locate every path


class Scalar:
    """A leaf value, already written as TOML."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Scalar({self.text!r})"


SCALARS = [
    "1",
    "-17",
    "1_000",
    "0x1F",
    "3.14",
    "1e10",
    "-inf",
    "nan",
    "true",
    "false",
    "1979-05-27T07:32:00Z",
    "1979-05-27 07:32:00.5+01:00",
    "1979-05-27",
    "07:32:00",
    '""',
    '"x = 1 # not a comment"',
    "'[not.a.table]'",
    '"\\"quoted\\" = 1"',
    '"""\nfake = 1\n[fake]\n[[fake]]\n  "q" = {a = 1}\n"""',
    "'''\nx = [\n# no\n]\n'''",
    '"""a""""',
    "'''b'''''",
    '"""\\\n   [fake] = 2 """',
    "'''\n'''",
]

KEY_ALPHABET = "abz09_-. \"'\\=#[]{}é\t\u2028"
BARE = re.compile(r"[A-Za-z0-9_-]+")

keys = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True),
    st.text(alphabet=KEY_ALPHABET, max_size=5),
)
leaves = st.sampled_from(SCALARS).map(Scalar)
values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(keys, children, max_size=4),
        # arrays of tables: written as [[name]] sections or inline arrays
        st.lists(st.dictionaries(keys, children, max_size=3), min_size=1, max_size=3),
    ),
    max_leaves=20,
)
documents = st.dictionaries(keys, values, max_size=6)


class Writer:
    """Builds the text and remembers where each rendered path starts."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.parts: list[str] = []
        self.line = 1
        self.column = 1
        self.expected: dict[tuple[str | int, ...], Position] = {}

    def write(self, s: str) -> None:
        self.parts.append(s)
        newlines = s.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(s) - s.rfind("\n")
        else:
            self.column += len(s)

    def mark(self, path: tuple[str | int, ...]) -> None:
        self.expected[path] = Position(self.line, self.column)

    def choose(self, *options: Any) -> Any:
        return self.draw(st.sampled_from(options))

    def text(self) -> str:
        return "".join(self.parts)


def render_key(w: Writer, key: str) -> str:
    styles = ["basic"]
    if BARE.fullmatch(key):
        styles.append("bare")
    if "'" not in key:
        styles.append("literal")
    style = w.choose(*styles)
    if style == "bare":
        return key
    if style == "literal":
        return f"'{key}'"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    if w.draw(st.booleans()):
        escaped = escaped.replace("\t", "\\t").replace("é", "\\u00E9")
    return f'"{escaped}"'


def space(w: Writer) -> str:
    return w.choose("", " ", "  ", "\t")


def comment(w: Writer) -> str:
    return w.choose("", " # x = 1", "  # [fake]", "\t#")


def is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def render_value(w: Writer, path: tuple[str | int, ...], value: Any) -> None:
    if isinstance(value, Scalar):
        w.write(value.text)
    elif isinstance(value, list):
        multiline = w.draw(st.booleans())
        w.write("[")
        for index, item in enumerate(value):
            w.write("\n" + comment(w).strip() + "\n  " if multiline else space(w))
            w.mark((*path, index))
            render_value(w, (*path, index), item)
            if index < len(value) - 1 or w.draw(st.booleans()):
                w.write(",")
        w.write("\n]" if multiline else space(w) + "]")
    else:
        w.write("{" + space(w))
        entries = flatten(w, [], value)
        for number, (chain, item) in enumerate(entries):
            if number:
                w.write("," + space(w))
            write_keyval(w, path, chain, item)
        w.write(space(w) + "}")


def flatten(w: Writer, chain: list[str], table: dict[str, Any]) -> list[tuple[list[str], Any]]:
    """Key chains for key/value lines; non-empty tables may become dotted keys."""
    out: list[tuple[list[str], Any]] = []
    for key, value in table.items():
        if isinstance(value, dict) and value and w.draw(st.booleans()):
            out.extend(flatten(w, [*chain, key], value))
        else:
            out.append(([*chain, key], value))
    return out


def write_keyval(w: Writer, prefix: tuple[str | int, ...], chain: list[str], value: Any) -> None:
    for number, key in enumerate(chain):
        if number:
            w.write(space(w) + "." + space(w))
        if number == len(chain) - 1:
            w.mark((*prefix, *chain))
        w.write(render_key(w, key))
    w.write(space(w) + "=" + space(w))
    render_value(w, (*prefix, *chain), value)


def split(w: Writer, table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(key/value children, children written as [table] / [[array]] sections)."""
    inline: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in table.items():
        if (isinstance(value, dict) or is_table_array(value)) and w.draw(st.booleans()):
            sections[key] = value
        else:
            inline[key] = value
    return inline, sections


def write_body(
    w: Writer, path: tuple[str | int, ...], names: list[str], inline: dict[str, Any], sections: dict[str, Any]
) -> None:
    for chain, value in flatten(w, [], inline):
        w.write(w.choose("", "  ", "\t"))
        write_keyval(w, path, chain, value)
        w.write(comment(w) + "\n" + w.choose("", "\n", "# [comment]\n"))
    for key, value in sections.items():
        if isinstance(value, dict):
            write_section(w, (*path, key), [*names, key], value, array=False)
        else:
            for index, element in enumerate(value):
                write_section(w, (*path, key, index), [*names, key], element, array=True)


def write_section(
    w: Writer, path: tuple[str | int, ...], names: list[str], table: dict[str, Any], *, array: bool
) -> None:
    inline, sections = split(w, table)
    implicit = not array and not inline and sections and w.draw(st.booleans())
    if not implicit:
        w.mark(path)
        header = (space(w) + "." + space(w)).join(render_key(w, n) for n in names)
        open_, close = ("[[", "]]") if array else ("[", "]")
        w.write(open_ + space(w) + header + space(w) + close + comment(w) + "\n")
    write_body(w, path, names, inline, sections)


def render_document(draw: Any, doc: dict[str, Any]) -> Writer:
    w = Writer(draw)
    inline, sections = split(w, doc)
    write_body(w, (), [], inline, sections)
    return w


def all_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> set[tuple[str | int, ...]]:
    paths: set[tuple[str | int, ...]] = set()
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return paths
    for key, item in items:
        path = (*prefix, key)
        paths.add(path)
        paths |= all_paths(item, path)
    return paths


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(doc=documents, data=st.data())
def test_every_path_is_located_where_it_was_written(doc: dict[str, Any], data: st.DataObject) -> None:
    w = render_document(data.draw, doc)
    text = w.text()
    parsed = tomllib.loads(text)  # the renderer writes valid TOML
    located = locate(text)
    assert set(located) == all_paths(parsed)
    for path, position in w.expected.items():
        assert located[path] == position, (path, text)
    lines = text.split("\n")
    for path, position in located.items():
        assert 1 <= position.line <= len(lines)
        assert 1 <= position.column <= len(lines[position.line - 1])


@PROPERTY_SETTINGS
@given(doc=documents, data=st.data())
def test_leaf_keys_are_on_a_line_that_spells_them(doc: dict[str, Any], data: st.DataObject) -> None:
    w = render_document(data.draw, doc)
    text = w.text()
    lines = text.split("\n")
    for path, position in locate(text).items():
        last = path[-1]
        if isinstance(last, str) and BARE.fullmatch(last) and path in w.expected:
            line = lines[position.line - 1]
            rest = line[position.column - 1 :]
            assert rest.startswith(("[", last, f'"{last}"', f"'{last}'")), (path, line)
            assert last in line


@PROPERTY_SETTINGS
@given(doc=documents, data=st.data())
def test_crlf_gives_the_same_positions(doc: dict[str, Any], data: st.DataObject) -> None:
    text = render_document(data.draw, doc).text()
    crlf = text.replace("\n", "\r\n")
    assert tomllib.loads(crlf) is not None
    assert locate(crlf) == locate(text)


@PROPERTY_SETTINGS
@given(doc=documents, data=st.data(), missing=st.lists(keys | st.integers(0, 3), min_size=1, max_size=3))
def test_find_falls_back_to_the_parent(
    doc: dict[str, Any], data: st.DataObject, missing: list[str | int]
) -> None:
    text = render_document(data.draw, doc).text()
    positions = TomlPositions(text)
    for path, position in positions.items():
        assert positions.find(path) == position
        probe = (*path, *missing)
        if probe not in positions:
            found = positions.find(probe)
            assert found is not None
            longest = max(
                (probe[:n] for n in range(1, len(probe) + 1) if probe[:n] in positions), key=len
            )
            assert found == positions[longest]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab=.[]{}\"'#,\n\r\t \\1-:é")), max_size=60))
@example('a = """')
@example("[[a]]\n[a]\n")
@example("a = [" * 50)
def test_never_raises_on_arbitrary_text(text: str) -> None:
    result = locate(text)
    assert all(isinstance(p, Position) and p.line >= 1 and p.column >= 1 for p in result.values())


@PROPERTY_SETTINGS
@given(doc=documents, data=st.data())
def test_never_raises_on_truncated_documents(doc: dict[str, Any], data: st.DataObject) -> None:
    text = render_document(data.draw, doc).text()
    cut = data.draw(st.integers(0, len(text)))
    locate(text[:cut])
    locate(text[cut:])
