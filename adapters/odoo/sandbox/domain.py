"""Odoo domains (prefix notation) to parameterised SQLite ``WHERE`` clauses.

Leaf semantics follow Odoo's ``expression.__leaf_to_sql`` (17): ``!=``,
``not in`` and the negative ``like`` operators also match NULL, ``= False``
is ``IS NULL``, a boolean ``= False`` also matches ``false``.  Negation is
distributed over the leaves on 17 (``distribute_not``) and is ``IS NOT TRUE``
on 19.  Error messages are those of the version being imitated.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from .convert import domain_datetime, to_domain_value

if TYPE_CHECKING:
    from .orm import BaseModel

TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)
DOMAIN_OPERATORS = ("!", "|", "&")
TERM_OPERATORS = ("=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like",
                  "ilike", "not ilike", "in", "not in", "child_of", "parent_of", "any", "not any")
NEGATIVE = ("!=", "not like", "not ilike", "not in", "not any")
NEGATION = {"<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=", "in": "not in",
            "not in": "in", "like": "not like", "not like": "like", "ilike": "not ilike",
            "not ilike": "ilike", "any": "not any", "not any": "any"}
LIKE_SQL = {"like": "LIKE", "not like": "NOT LIKE", "=like": "LIKE",
            "ilike": "LIKE", "not ilike": "NOT LIKE", "=ilike": "LIKE"}


# --------------------------------------------------------------------------
# Parsing: list → tree of ('&'|'|', a, b), ('!', a), ('leaf', (l, op, r))
# --------------------------------------------------------------------------

def _is_leaf(element: Any) -> bool:
    return (isinstance(element, (list, tuple)) and len(element) == 3
            and isinstance(element[1], str) and element[1].lower() in TERM_OPERATORS + ("<>", "==")
            and ((isinstance(element[0], str) and element[0]) or tuple(element) in (TRUE_LEAF, FALSE_LEAF)))


def _normalize_leaf(element: tuple, version: str) -> tuple:
    left, operator, right = element
    operator = operator.lower()
    if operator == "<>":
        operator = "!="
    if operator == "==" and version == "19":
        operator = "="
    if isinstance(right, bool) and operator in ("in", "not in") and version == "17":
        operator = "=" if operator == "in" else "!="
    if isinstance(right, (list, tuple)) and operator in ("=", "!="):
        operator = "in" if operator == "=" else "not in"
    return (left, operator, right)


def parse(domain: Any, version: str) -> Any:
    """The domain as a tree; raises Odoo's errors for malformed domains."""
    if version == "19":
        return _parse_19(domain)
    return _parse_17(domain)


def _parse_17(domain: Any) -> Any:
    if not isinstance(domain, (list, tuple)):
        raise AssertionError("Domains to normalize must have a 'domain' form: a list or tuple of domain components")
    if not domain:
        return ("leaf", TRUE_LEAF)
    tokens: list[Any] = []
    expected = 1
    arity = {"!": 1, "&": 2, "|": 2}
    for token in domain:
        if expected == 0:
            tokens.insert(0, "&")
            expected = 1
        if isinstance(token, (list, tuple)):
            expected -= 1
            token = tuple(token)
        else:
            expected += arity.get(token, 0) - 1
        tokens.append(token)
    if expected:
        raise ValueError(f"Domain {domain} is syntactically not correct.")
    for token in tokens:
        if not (isinstance(token, str) and token in DOMAIN_OPERATORS) and not _is_leaf(token):
            raise ValueError(f"Invalid leaf {token}")
    stack: list[Any] = []
    for token in reversed(tokens):
        if token == "!":
            stack.append(("!", stack.pop()))
        elif token in ("&", "|"):
            stack.append((token, stack.pop(), stack.pop()))
        else:
            leaf = tuple(token) if tuple(token) in (TRUE_LEAF, FALSE_LEAF) else _normalize_leaf(token, "17")
            stack.append(("leaf", leaf))
    return stack[0]


def _parse_19(domain: Any) -> Any:
    if domain is True or (isinstance(domain, (list, tuple)) and not domain):
        return ("leaf", TRUE_LEAF)
    if domain is False:
        return ("leaf", FALSE_LEAF)
    if not isinstance(domain, (list, tuple)):
        raise TypeError(f"Domain() invalid argument type for domain: {domain!r}")
    stack: list[Any] = []
    try:
        for item in reversed(domain):
            if isinstance(item, (list, tuple)) and len(item) == 3:
                stack.append(("leaf", _check_condition_19(tuple(item))))
            elif item == "&":
                stack.append(("&", stack.pop(), stack.pop()))
            elif item == "|":
                stack.append(("|", stack.pop(), stack.pop()))
            elif item == "!":
                stack.append(("!", stack.pop()))
            else:
                raise ValueError(f"Domain() invalid item in domain: {item!r}")
    except IndexError:
        raise ValueError(f"Domain() malformed domain {list(domain)!r}") from None
    node = stack[-1]
    for other in reversed(stack[:-1]):
        node = ("&", node, other)
    return node


def _check_condition_19(item: tuple) -> tuple:
    left, operator, right = item
    if not isinstance(left, str):
        if item in (TRUE_LEAF, FALSE_LEAF):
            return item
        raise TypeError(f"Domain() invalid arguments: {item!r}")
    if not left:
        raise TypeError(f"Empty field name in condition ({left!r}, {operator!r}, {right!r})")
    if not isinstance(operator, str) or operator.lower() not in TERM_OPERATORS + ("<>", "=="):
        raise ValueError(f"Invalid operator in condition ({left!r}, {operator!r}, {right!r})")
    if right is None:
        right = False
    return _normalize_leaf((left, operator, right), "19")


# --------------------------------------------------------------------------
# SQL generation
# --------------------------------------------------------------------------

class Compiler:
    """Compiles domains of one environment; aliases are unique per compiler."""

    def __init__(self) -> None:
        self._aliases = itertools.count(1)
        self.params: list[Any] = []

    def alias(self) -> str:
        return f"t{next(self._aliases)}"

    def where(self, model: BaseModel, domain: Any, alias: str) -> str:
        version = model.env.version
        tree = parse(domain, version)
        return self._node(model, tree, alias, negate=False)

    # -- tree ------------------------------------------------------------
    def _node(self, model: BaseModel, node: Any, alias: str, negate: bool) -> str:
        kind = node[0]
        v19 = model.env.version == "19"
        if kind == "!":
            if v19:
                inner = self._node(model, node[1], alias, negate=False)
                sql = f"(({inner}) IS NOT TRUE)"
                return f"(({sql}) IS NOT TRUE)" if negate else sql
            return self._node(model, node[1], alias, negate=not negate)
        if kind in ("&", "|"):
            op = kind
            if negate and not v19:
                op = "|" if kind == "&" else "&"
            left = self._node(model, node[1], alias, negate and not v19)
            right = self._node(model, node[2], alias, negate and not v19)
            sql = f"({left} {'AND' if op == '&' else 'OR'} {right})"
            if negate and v19:
                return f"(({sql}) IS NOT TRUE)"
            return sql
        leaf = node[1]
        if negate:
            if v19:
                return f"(({self.leaf(model, leaf, alias)}) IS NOT TRUE)"
            if leaf in (TRUE_LEAF, FALSE_LEAF):
                return "0" if leaf == TRUE_LEAF else "1"
            left, operator, right = leaf
            if operator in NEGATION:
                return self.leaf(model, (left, NEGATION[operator], right), alias)
            return f"(NOT ({self.leaf(model, leaf, alias)}))"
        return self.leaf(model, leaf, alias)

    # -- leaves ----------------------------------------------------------
    def leaf(self, model: BaseModel, leaf: tuple, alias: str) -> str:
        if leaf == TRUE_LEAF:
            return "1"
        if leaf == FALSE_LEAF:
            return "0"
        left, operator, right = leaf
        right = _plain(right)
        fields = model._fields
        path = left.split(".", 1)
        field = fields.get(path[0])
        if field is None:
            if model.env.version == "19":
                raise ValueError(f"Invalid field {model._name}.{path[0]} in condition {leaf!r}")
            raise ValueError(f"Invalid field {model._name}.{path[0]} in leaf {leaf!r}")
        if operator == "=?":
            if right is False or right is None:
                return "1"
            operator = "="
        if left == "id" and operator in ("child_of", "parent_of"):
            return self._hierarchy(model, f'{alias}."id"', operator, right)
        if operator in ("in", "not in") and not isinstance(right, (list, tuple, set)):
            if model.env.version == "17":
                raise ValueError(f"Invalid domain term {leaf!r}")
            right = [right]

        if not field.store and not field.searchable and field.name != "id":
            if model.env.version == "19":
                raise ValueError(f"Cannot convert {model._name}.{field.name} to SQL because it is not stored")
            return "1"  # Odoo 17 logs "Non-stored field ... cannot be searched." and ignores the leaf
        if len(path) > 1 or operator in ("any", "not any"):
            return self._path(model, field, path, operator, right, alias, leaf)

        expr = model._field_sql(field.name, alias)
        if expr is None:
            if field.related:
                return self.leaf(model, (field.related, operator, right), alias)
            custom = model._search_sql(field.name, operator, right, alias, self)
            if custom is not None:
                return custom
            expr = "NULL"

        if field.type == "many2one":
            if operator in ("child_of", "parent_of"):
                comodel = model.env[field.relation]
                if field.relation == model._name:  # ('parent_id', 'child_of', x): the tree below x, x included
                    ids_sql = self._hierarchy_ids(model, operator, right, parent=field.name)
                    return f'({alias}."id" IN ({ids_sql}))'
                return self._hierarchy(comodel, expr, operator, right)
            if isinstance(right, str) or (isinstance(right, (list, tuple)) and right
                                          and all(isinstance(r, str) for r in right)):
                return self._m2o_names(model, field, expr, operator, right)
        elif field.type in ("one2many", "many2many"):
            return self._x2many(model, field, operator, right, alias)
        return self.compare(expr, field.type, operator, right, leaf)

    def compare(self, expr: str, ftype: str, operator: str, right: Any, leaf: tuple = ()) -> str:
        """``expr operator right`` with Odoo's NULL rules."""
        if operator in ("in", "not in"):
            values = list(right)
            if ftype == "boolean":
                params = [int(v) for v in (True, False) if v in values]
                check_null = False in values
            else:
                params = [to_domain_value(v) for v in values if v is not False and v is not None]
                if ftype == "datetime":
                    params = [domain_datetime(v) if isinstance(v, str) else v for v in params]
                check_null = len(params) < len(values)
            if params:
                self.params.extend(params)
                marks = ", ".join("?" * len(params))
                sql = f"({expr} {'IN' if operator == 'in' else 'NOT IN'} ({marks}))"
            else:
                sql = "0" if operator == "in" else "1"
            if (operator == "in" and check_null) or (operator == "not in" and not check_null):
                sql = f"({sql} OR {expr} IS NULL)"
            elif operator == "not in" and check_null:
                sql = f"({sql} AND {expr} IS NOT NULL)"
            return sql
        if ftype == "boolean" and ((operator == "=" and right is False) or (operator == "!=" and right is True)):
            return f"({expr} IS NULL OR {expr} = 0)"
        if (right is False or right is None) and operator == "=":
            return f"({expr} IS NULL)"
        if ftype == "boolean" and ((operator == "!=" and right is False) or (operator == "=" and right is True)):
            return f"({expr} IS NOT NULL AND {expr} != 0)"
        if (right is False or right is None) and operator == "!=":
            return f"({expr} IS NOT NULL)"
        if operator in LIKE_SQL:
            wildcard = operator in ("like", "ilike", "not like", "not ilike")
            text = "" if right is False or right is None else str(right)
            pattern = f"%{text}%" if wildcard else text
            if operator in ("ilike", "not ilike", "=ilike"):
                sql = f"(sb_lower({expr}) {LIKE_SQL[operator]} sb_lower(?) ESCAPE '\\')"
            else:
                sql = f"({expr} {LIKE_SQL[operator]} ? ESCAPE '\\')"
            self.params.append(pattern)
            if (wildcard and not text) or (text and operator in NEGATIVE):
                sql = f"({sql} OR {expr} IS NULL)"
            return sql
        if operator in ("=", "!=", "<", "<=", ">", ">="):
            value = to_domain_value(right)
            if ftype == "boolean":
                value = int(bool(value))
            elif ftype == "datetime" and isinstance(value, str) and len(value) == 10:
                value += " 23:59:59" if operator in (">", "<=") else " 00:00:00"
            elif ftype == "datetime" and isinstance(value, str):
                value = domain_datetime(value)
            self.params.append(value)
            sql = f"({expr} {operator} ?)"
            if operator == "!=" and right:
                sql = f"({sql} OR {expr} IS NULL)"
            return sql
        raise ValueError(f"Invalid domain term {leaf!r}")

    # -- relational helpers ----------------------------------------------
    def _subquery(self, comodel: BaseModel, domain: list, active_test: bool | None) -> str:
        """``SELECT id FROM comodel WHERE domain`` (record rules are not applied)."""
        co_alias = self.alias()
        where = self.where(comodel, domain, co_alias)
        if active_test is None:
            active_test = comodel.env.context.get("active_test", True)
        if active_test and comodel._active_name and not any(
                isinstance(t, (list, tuple)) and t and t[0] == comodel._active_name for t in domain):
            where = f"({where} AND {co_alias}.\"{comodel._active_name}\" = 1)"
        return f'SELECT {co_alias}."id" FROM "{comodel._table}" {co_alias} WHERE {where}'

    def _path(self, model: BaseModel, field: Any, path: list[str], operator: str, right: Any,
              alias: str, leaf: tuple) -> str:
        if operator in ("any", "not any"):
            subdomain = list(right) if isinstance(right, (list, tuple)) else right
        else:
            subdomain = [(path[1], operator, right)]
        positive = operator != "not any"
        if field.type not in ("many2one", "one2many", "many2many") or field.relation not in model.env.registry:
            if len(path) > 1 and field.related:
                return self.leaf(model, (f"{field.related}.{path[1]}", operator, right), alias)
            raise ValueError(f"Invalid field {leaf[0]!r} in domain term {leaf!r}")
        comodel = model.env[field.relation]
        if field.type == "many2one":
            expr = model._field_sql(field.name, alias)
            if expr is None:
                if field.related:
                    rest = f".{path[1]}" if len(path) > 1 else ""
                    return self.leaf(model, (f"{field.related}{rest}", operator, right), alias)
                return "0" if positive else "1"
            sub = self._subquery(comodel._with_context(active_test=False), subdomain, active_test=False)
            if positive:
                return f"({expr} IN ({sub}))"
            return f"({expr} IS NULL OR {expr} NOT IN ({sub}))"
        sub = self._subquery(comodel, subdomain, active_test=None)
        pairs = model._x2many_pairs_sql(field.name)
        if pairs is None:
            return "0" if positive else "1"
        inner = f'SELECT p.id1 FROM ({pairs}) p WHERE p.id2 IN ({sub})'
        return f'({alias}."id" {"IN" if positive else "NOT IN"} ({inner}))'

    def _x2many(self, model: BaseModel, field: Any, operator: str, right: Any, alias: str) -> str:
        pairs = model._x2many_pairs_sql(field.name)
        if pairs is None:
            return self.compare("NULL", field.type, operator, right)
        negative = operator in NEGATIVE
        if right is False or right is None or (isinstance(right, (list, tuple)) and not right
                                               and operator in ("=", "!=")):
            exists = f'{alias}."id" IN (SELECT p.id1 FROM ({pairs}) p)'
            return f"({exists})" if negative else f"(NOT ({exists}))"
        comodel = model.env[field.relation]
        if operator in ("child_of", "parent_of"):
            ids_sql = self._hierarchy_ids(comodel, operator, right)
        elif isinstance(right, str) or (isinstance(right, (list, tuple)) and right
                                        and all(isinstance(r, str) for r in right)):
            positive_op = NEGATION[operator] if negative else operator
            if positive_op in ("<", ">", "<=", ">="):
                positive_op = "in"
            names = right if isinstance(right, (list, tuple)) else [right]
            if positive_op in ("=", "in"):
                positive_op = "in"
            else:
                names = names[0] if len(names) == 1 else names
            ids_sql = self._subquery(comodel, [(comodel._rec_name_field, positive_op, names)], active_test=None)
        else:
            ids = list(right) if isinstance(right, (list, tuple, set)) else [right]
            ids = [int(i) for i in ids if i]
            if not ids:
                return "1" if negative else "0"
            self.params.extend(ids)
            ids_sql = "VALUES " + ", ".join("(?)" for _ in ids)
            ids_sql = f"SELECT column1 FROM ({ids_sql})"
        inner = f'SELECT p.id1 FROM ({pairs}) p WHERE p.id2 IN ({ids_sql})'
        return f'({alias}."id" {"NOT IN" if negative else "IN"} ({inner}))'

    def _m2o_names(self, model: BaseModel, field: Any, expr: str, operator: str, right: Any) -> str:
        comodel = model.env[field.relation] if field.relation in model.env.registry else None
        if comodel is None:
            return self.compare("NULL", "char", operator, right)
        if operator in ("<", ">", "<=", ">="):
            operator = "in"
        if isinstance(right, (list, tuple)):
            right = list(right)
            operator = {"=": "in", "!=": "not in"}.get(operator, operator)
        elif operator in ("in", "not in"):
            operator = {"in": "=", "not in": "!="}[operator]
        negative = operator in NEGATIVE
        positive_op = NEGATION[operator] if negative else operator
        sub = self._subquery(comodel._with_context(active_test=False),
                             [(comodel._rec_name_field, positive_op, right)], active_test=False)
        if negative:
            return f"({expr} IS NULL OR {expr} NOT IN ({sub}))"
        return f"({expr} IN ({sub}))"

    def _hierarchy_ids(self, model: BaseModel, operator: str, right: Any, parent: str | None = None) -> str:
        parent = parent or model._parent_name
        if parent not in model._fields:
            raise ValueError(f"Invalid parent field: {model._name}.{parent}")
        if isinstance(right, str) or (isinstance(right, (list, tuple)) and right
                                      and all(isinstance(r, str) for r in right)):
            names = right if isinstance(right, (list, tuple)) else [right]
            seeds = self._subquery(model._with_context(active_test=False),
                                   ["|"] * (len(names) - 1) + [(model._rec_name_field, "ilike", n) for n in names],
                                   active_test=False)
        else:
            ids = list(right) if isinstance(right, (list, tuple, set)) else [right]
            ids = [int(i) for i in ids if i]
            if not ids:
                return "SELECT NULL WHERE 0"
            self.params.extend(ids)
            seeds = f'SELECT "id" FROM "{model._table}" WHERE "id" IN ({", ".join("?" * len(ids))})'
        table = model._table
        cte = self.alias()
        if operator == "child_of":
            step = f'SELECT c."id" FROM "{table}" c JOIN {cte} h ON c."{parent}" = h.id'
        else:
            step = f'SELECT c."{parent}" FROM "{table}" c JOIN {cte} h ON c."id" = h.id WHERE c."{parent}" IS NOT NULL'
        return f"WITH RECURSIVE {cte}(id) AS ({seeds} UNION {step}) SELECT id FROM {cte}"

    def _hierarchy(self, model: BaseModel, expr: str, operator: str, right: Any) -> str:
        return f"({expr} IN ({self._hierarchy_ids(model, operator, right)}))"


def _plain(value: Any) -> Any:
    """Tuples and sets from the wire behave like lists."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    return value
