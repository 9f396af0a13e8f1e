"""Domains: operators, NULL rules, paths, active_test, errors; SQL vs a tiny Python evaluator."""

from __future__ import annotations

import re
import xmlrpc.client
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.odoo.sandbox import OdooSandbox

from .conftest import Client

# --------------------------------------------------------------------------
# A tiny evaluator of Odoo 17/19 domain semantics (Kleene logic, None = SQL NULL)
# --------------------------------------------------------------------------

NEGATION = {"<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=", "in": "not in", "not in": "in",
            "like": "not like", "not like": "like", "ilike": "not ilike", "not ilike": "ilike"}
FIELDS = {"name": "char", "ref": "char", "email": "char", "vat": "char", "type": "selection",
          "customer_rank": "integer", "credit_limit": "float", "is_company": "boolean", "active": "boolean",
          "parent_id": "many2one", "country_id": "many2one", "company_id": "many2one"}


def like(value: Any, pattern: str, insensitive: bool) -> bool | None:
    if value is None:
        return None
    regex, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    text = str(value)
    if insensitive:
        text, regex = text.lower(), regex.lower()
    return re.fullmatch(regex, text, re.S) is not None


def compare(x: Any, op: str, v: Any) -> bool | None:
    if x is None or v is None:
        return None
    return {"=": x == v, "!=": x != v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]


def k_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def k_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def k_not(a: bool | None) -> bool | None:
    return None if a is None else not a


def leaf(row: dict[str, Any], field: str, op: str, v: Any) -> bool | None:
    """Odoo's ``__leaf_to_sql`` evaluated in Python."""
    ftype, x = FIELDS[field], row[field]
    if op in ("in", "not in"):
        if ftype == "boolean":
            params = [int(b) for b in (True, False) if b in v]
            check_null = False in v
        else:
            params = [p for p in v if p is not False and p is not None]
            check_null = len(params) < len(v)
        if params:
            found = None if x is None else x in params
            result = found if op == "in" else k_not(found)
        else:
            result = op == "not in"
        if (op == "in" and check_null) or (op == "not in" and not check_null):
            return k_or(result, x is None)
        if op == "not in" and check_null:
            return k_and(result, x is not None)
        return result
    if ftype == "boolean" and ((op == "=" and v is False) or (op == "!=" and v is True)):
        return x is None or x == 0
    if v is False and op == "=":
        return x is None
    if ftype == "boolean" and ((op == "!=" and v is False) or (op == "=" and v is True)):
        return x is not None and x != 0
    if v is False and op == "!=":
        return x is not None
    if op.endswith("like"):
        wildcard = op in ("like", "ilike", "not like", "not ilike")
        pattern = f"%{v}%" if wildcard else v
        matched = like(x, pattern, "ilike" in op)
        result = k_not(matched) if op.startswith("not") else matched
        if (wildcard and not v) or (v and op.startswith("not")):
            return k_or(result, x is None)
        return result
    value = int(v) if ftype == "boolean" else v
    result = compare(x, op, value)
    if op == "!=" and v:
        return k_or(result, x is None)
    return result


def evaluate(row: dict[str, Any], domain: list, version: str) -> bool:
    """Prefix-notation domain on one row: 17 distributes '!', 19 uses IS NOT TRUE."""
    tokens = list(domain)
    pos = 0

    def node(negate: bool) -> bool | None:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "!":
            if version == "19":
                inner = node(False)
                value = inner is not True
                return (value is not True) if negate else value
            return node(not negate)
        if token in ("&", "|"):
            op = token if not (negate and version == "17") else ("|" if token == "&" else "&")
            left, right = node(negate and version == "17"), node(negate and version == "17")
            value = k_and(left, right) if op == "&" else k_or(left, right)
            return (value is not True) if (negate and version == "19") else value
        field, op, v = token
        if negate:
            if version == "19":
                return leaf(row, field, op, v) is not True
            if op in NEGATION:
                return leaf(row, field, NEGATION[op], v)
            return k_not(leaf(row, field, op, v))
        return leaf(row, field, op, v)

    if not tokens:
        return True
    # implicit '&' between top-level terms
    arity = {"!": 1, "&": 2, "|": 2}
    expected, normalized = 1, []
    for token in tokens:
        if expected == 0:
            normalized.insert(0, "&")
            expected = 1
        expected += arity.get(token, 0) - 1 if isinstance(token, str) else -1
        normalized.append(token)
    tokens[:] = normalized
    return node(False) is True


def raw_partners(sb: OdooSandbox) -> list[dict[str, Any]]:
    columns = list(FIELDS)
    rows = sb.db.conn.execute(f'SELECT "id", {", ".join(chr(34) + c + chr(34) for c in columns)} FROM res_partner')
    return [dict(zip(["id", *columns], row)) for row in rows]


# --------------------------------------------------------------------------
# Property test
# --------------------------------------------------------------------------

_ROWS: list[dict[str, Any]] = []


def partner_rows(sb: OdooSandbox) -> list[dict[str, Any]]:
    """The demo partners as raw column values (the same in both versions)."""
    if not _ROWS:
        _ROWS.extend(raw_partners(sb))
    return _ROWS


def values_for(rows: list[dict[str, Any]], field: str) -> st.SearchStrategy:
    ftype = FIELDS[field]
    seen = sorted({r[field] for r in rows if r[field] is not None}, key=repr)[:40]
    if ftype == "boolean":
        return st.sampled_from([True, False])
    if ftype == "integer":
        return st.sampled_from(seen + [0, 3, 10, 100]) if seen else st.integers(0, 30)
    if ftype == "float":
        return st.sampled_from(seen + [0.0, 5000.0, 99999.5])
    if ftype == "many2one":
        return st.sampled_from(seen + [False, 1, 10, 233])
    samples = [s for s in seen if isinstance(s, str)]
    fragments = [s[:3] for s in samples] + [s[-2:].upper() for s in samples]
    return st.sampled_from(samples + fragments + ["", "a", "Inc", "%o%", "_e%", False])


CHAR_OPS = ["=", "!=", "<", ">", "like", "ilike", "not like", "not ilike", "=like", "=ilike", "in", "not in"]
NUM_OPS = ["=", "!=", "<", "<=", ">", ">=", "in", "not in"]


@st.composite
def leaves(draw: st.DrawFn, rows: list[dict[str, Any]]) -> tuple:
    field = draw(st.sampled_from(sorted(FIELDS)))
    ftype = FIELDS[field]
    ops = CHAR_OPS if ftype in ("char", "selection") else ["=", "!=", "in", "not in"] \
        if ftype == "boolean" else NUM_OPS
    op = draw(st.sampled_from(ops))
    values = values_for(rows, field)
    if op in ("in", "not in"):
        value: Any = draw(st.lists(values, min_size=0, max_size=3))
    else:
        value = draw(values)
        if op.endswith("like") and value is False:
            value = ""
        if op in ("<", "<=", ">", ">=") and value is False:
            value = "" if ftype in ("char", "selection") else 0
    return (field, op, value)


@st.composite
def domains(draw: st.DrawFn, rows: list[dict[str, Any]], depth: int = 0) -> list:
    kind = draw(st.sampled_from(["leaf", "leaf", "and", "or", "not", "implicit"] if depth < 3 else ["leaf"]))
    if kind == "leaf":
        return [draw(leaves(rows))]
    if kind == "not":
        return ["!", *draw(domains(rows, depth + 1))]
    if kind == "implicit":
        return draw(domains(rows, depth + 1)) + draw(domains(rows, depth + 1))
    head = "&" if kind == "and" else "|"
    left, right = draw(domains(rows, depth + 1)), draw(domains(rows, depth + 1))
    # a sub-domain with implicit '&' must be wrapped to stay one operand
    return [head, *_one(left), *_one(right)]


def _one(domain: list) -> list:
    count = sum(1 for t in domain if not isinstance(t, str)) - sum(1 for t in domain if t in ("&", "|"))
    return ["&"] * (count - 1) + domain if count > 1 else domain


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sql_matches_python_evaluator(sb17: OdooSandbox, sb19: OdooSandbox, data) -> None:
    rows = partner_rows(sb17)
    domain = data.draw(domains(rows), label="domain")
    for sb in (sb17, sb19):
        expected = sorted(r["id"] for r in rows if evaluate(r, domain, sb.version))
        got = sorted(sb.call("res.partner", "search", domain, context={"active_test": False}))
        assert got == expected, (sb.version, domain)


# --------------------------------------------------------------------------
# Targeted cases
# --------------------------------------------------------------------------

def ids(client: Client, domain: list, model: str = "res.partner", **kwargs: Any) -> list[int]:
    return client.execute(model, "search", domain, **kwargs)


def test_false_means_null(c17: Client) -> None:
    without_ref = ids(c17, [("ref", "=", False)])
    with_ref = ids(c17, [("ref", "!=", False)])
    assert without_ref and with_ref and not set(without_ref) & set(with_ref)
    assert sorted(without_ref + with_ref) == sorted(ids(c17, []))
    # '!=' a value also matches the NULLs
    assert set(without_ref) <= set(ids(c17, [("ref", "!=", "C00001")]))


def test_many2one_by_id_name_and_path(c17: Client) -> None:
    acme = ids(c17, [("name", "=", "Acme Corporation")])[0]
    contacts = ids(c17, [("parent_id", "=", acme)])
    assert contacts and set(contacts) == set(ids(c17, [("parent_id", "in", [acme])]))
    assert set(contacts) == set(ids(c17, [("parent_id", "=", "Acme Corporation")]))
    assert set(contacts) == set(ids(c17, [("parent_id.name", "=", "Acme Corporation")]))
    invoices = ids(c17, [("commercial_partner_id.customer_rank", ">", 0), ("partner_id.parent_id", "=", acme)],
                   model="account.move")
    assert set(invoices) <= set(ids(c17, [("commercial_partner_id", "=", acme)], model="account.move"))
    assert set(ids(c17, [("parent_id", "child_of", acme)])) == {acme, *contacts}
    assert ids(c17, [("country_id.code", "=", "JP"), ("is_company", "=", True)])
    assert set(ids(c17, [("country_code", "=", "JP")])) == set(ids(c17, [("country_id.code", "=", "JP")]))


def test_x2many_and_any(c17: Client) -> None:
    with_children = ids(c17, [("child_ids", "!=", False)])
    assert with_children and all(c17.execute("res.partner", "read", with_children[:5], ["child_ids"])[i]["child_ids"]
                                 for i in range(min(5, len(with_children))))
    by_child_name = ids(c17, [("child_ids.name", "ilike", "kim")])
    assert set(by_child_name) <= set(with_children)
    assert set(ids(c17, [("child_ids", "any", [("name", "ilike", "kim")])])) == set(by_child_name)
    invoiced = ids(c17, [("invoice_ids", "!=", False)], model="sale.order")
    assert 0 < len(invoiced) < c17.execute("sale.order", "search_count", [])
    rows = c17.execute("sale.order", "read", invoiced, ["invoice_ids", "invoice_count"])
    assert all(r["invoice_ids"] and r["invoice_count"] == len(r["invoice_ids"]) for r in rows)


def test_active_test(c17: Client) -> None:
    archived = ids(c17, [("active", "=", False)])
    assert len(archived) >= 2
    everyone = ids(c17, [], context={"active_test": False})
    active = ids(c17, [])
    assert set(everyone) == set(active) | set(archived)
    assert not set(active) & set(archived)
    assert set(ids(c17, ["|", ("active", "=", True), ("active", "=", False)])) == set(everyone)
    # read does not filter archived records
    assert c17.execute("res.partner", "read", archived[:1], ["active"])[0]["active"] is False
    # archived currencies
    assert c17.execute("res.currency", "search_count", []) == 4
    assert c17.execute("res.currency", "search_count", [], context={"active_test": False}) == 6


def test_allowed_company_ids(c17: Client) -> None:
    both = c17.execute("account.move", "search_count", [])
    us = c17.execute("account.move", "search_count", [], context={"allowed_company_ids": [1]})
    eu = c17.execute("account.move", "search_count", [], context={"allowed_company_ids": [2]})
    assert us and eu and us + eu == both
    eu_ids = ids(c17, [], model="account.move", context={"allowed_company_ids": [2]}, limit=1)
    with pytest.raises(xmlrpc.client.Fault) as info:
        c17.execute("account.move", "read", eu_ids, ["name"], context={"allowed_company_ids": [1]})
    assert info.value.faultCode == 4 and "multi-company" in info.value.faultString
    shared = c17.execute("res.partner", "search_count", [("company_id", "=", False)])
    assert c17.execute("res.partner", "search_count", [], context={"allowed_company_ids": [1]}) > shared
    with pytest.raises(xmlrpc.client.Fault) as info:
        c17.execute("res.partner", "search", [], context={"allowed_company_ids": [3]})
    assert info.value.faultString == "Access to unauthorized or invalid companies."


@pytest.mark.parametrize("domain,message17,message19", [
    ([("name", "foo", 1)], "ValueError: Invalid leaf ('name', 'foo', 1)",
     "ValueError: Invalid operator in condition ('name', 'foo', 1)"),
    (["|", ("name", "=", "x")], "ValueError: Domain ['|', ['name', '=', 'x']] is syntactically not correct.",
     "ValueError: Domain() malformed domain ['|', ['name', '=', 'x']]"),
    ([("name.foo", "=", 1)], "ValueError: Invalid field 'name.foo' in domain term ('name.foo', '=', 1)",
     "ValueError: Invalid field 'name.foo' in domain term ('name.foo', '=', 1)"),
])
def test_bad_domains(c17: Client, c19: Client, domain: list, message17: str, message19: str) -> None:
    for client, message in ((c17, message17), (c19, message19)):
        with pytest.raises(xmlrpc.client.Fault) as info:
            client.execute("res.partner", "search", domain)
        assert info.value.faultCode == 1
        assert info.value.faultString.rstrip().splitlines()[-1] == message


def test_non_stored_fields(c17: Client, c19: Client) -> None:
    # 17 ignores a leaf on a non-searchable non-stored field (Odoo logs an error), 19 refuses it
    everyone = c17.execute("sale.order", "search_count", [])
    assert c17.execute("sale.order", "search_count", [("amount_invoiced", ">", 10 ** 9)]) == everyone
    # 17 stores amount_to_invoice: searchable
    assert 0 < c17.execute("sale.order", "search_count", [("amount_to_invoice", ">", 0)]) < everyone
    with pytest.raises(xmlrpc.client.Fault):
        c19.execute("sale.order", "search", [("amount_invoiced", ">", 0)])
    # searchable non-stored related field
    usd = c17.execute("account.move", "search_count", [("company_currency_id.name", "=", "USD")])
    assert usd == c17.execute("account.move", "search_count", [("company_id", "=", 1)])


def test_like_is_case_sensitive_ilike_is_not(c17: Client) -> None:
    assert ids(c17, [("name", "like", "acme")]) == []
    assert ids(c17, [("name", "ilike", "acme")]) == ids(c17, [("name", "like", "Acme")])
    assert ids(c17, [("name", "=like", "Acme%")]) == ids(c17, [("name", "=ilike", "acme%")])


def test_datetime_with_a_date(c17: Client) -> None:
    day = c17.execute("account.move", "search_read", [], ["write_date"], limit=1)[0]["write_date"][:10]
    same_day = ids(c17, [("write_date", ">=", day), ("write_date", "<=", day)], model="account.move")
    assert same_day
    assert all(r["write_date"].startswith(day)
               for r in c17.execute("account.move", "read", same_day, ["write_date"]))
