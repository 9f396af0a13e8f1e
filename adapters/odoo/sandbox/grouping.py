"""``read_group`` (17, 19) and ``formatted_read_group`` (19): GROUP BY stored fields."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from . import access
from .domain import Compiler
from .reading import display_names

if TYPE_CHECKING:
    from .orm import BaseModel

AGGREGATES = {"sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX", "count": "COUNT",
              "count_distinct": "COUNT(DISTINCT", "bool_and": "MIN", "bool_or": "MAX"}
NUMERIC = ("integer", "float", "monetary")
GRANULARITY = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def _group_spec(model: BaseModel, spec: str) -> tuple[str, str, str | None]:
    """``"date:month"`` → (spec, field, granularity)."""
    fname, _sep, granularity = spec.partition(":")
    field = model._fields.get(fname)
    if field is None:
        raise ValueError(f"Invalid field {fname!r} on model {model._name!r}")
    if not field.store or field.type in ("one2many", "many2many", "binary", "text", "html"):
        raise ValueError(f"Field {model._name}.{fname} is not a stored field, only stored fields "
                         f"(regular or many2many) are valid for the 'groupby' parameter")
    if field.type in ("date", "datetime"):
        granularity = granularity or "month"
        if granularity not in GRANULARITY:
            raise ValueError(f"Granularity set on a field of type {field.type!r} must be one of {sorted(GRANULARITY)}")
    else:
        granularity = None
    return spec, fname, granularity


def _aggregate_sql(model: BaseModel, spec: str, alias: str) -> tuple[str, str] | None:
    """``"amount_total:sum"``, ``"total:sum(amount_total)"`` or ``"amount_total"`` → (read_group key, SQL)."""
    if spec == "__count":
        return "__count", "COUNT(*)"
    if "(" in spec and ":" in spec:
        key, rest = spec.split(":", 1)
        function, _paren, fname = rest.rstrip(")").partition("(")
    elif ":" in spec:
        fname, function = spec.split(":", 1)
        key = fname
    else:
        key = fname = spec
        function = ""
    field = model._fields.get(fname)
    if field is None:
        raise ValueError(f"Invalid field {fname!r} on model {model._name!r}")
    if not function:
        if field.type not in NUMERIC:
            return None
        function = "sum"
    if function not in AGGREGATES:
        raise ValueError(f"Invalid aggregation function {function!r}.")
    expr = model._field_sql(fname, alias) if field.store else None
    if expr is None:
        raise ValueError(f"Cannot convert {model._name}.{fname} to SQL because it is not stored")
    sql = AGGREGATES[function]
    sql = f"{sql} {expr})" if sql.endswith("DISTINCT") else f"{sql}({expr})"
    if function in ("sum", "avg") and field.type in ("float", "monetary"):
        sql = f"ROUND({sql}, 8)"  # PostgreSQL sums NUMERIC columns exactly
    return key, sql


def _groups(model: BaseModel, domain: list, specs: list[tuple[str, str, str | None]],
            aggregates: list[tuple[str, str]], offset: int, limit: int | None,
            order: str | None) -> list[tuple[list[Any], list[Any]]]:
    access.check_model(model, "read")
    compiler = Compiler()
    alias = model._table
    where = model._where(domain or [], alias, compiler)
    keys = []
    for _spec, fname, granularity in specs:
        expr = model._field_sql(fname, alias)
        keys.append(f"strftime('{GRANULARITY[granularity]}', {expr})" if granularity else expr)
    select = keys + [sql for _key, sql in aggregates]
    query = f'SELECT {", ".join(select) or "1"} FROM "{model._table}" {alias} WHERE {where}'
    if keys:
        query += f" GROUP BY {', '.join(keys)}"
        query += " ORDER BY " + (order or ", ".join(f"{k} ASC NULLS LAST" for k in keys))
    params = list(compiler.params)
    if limit:
        query += " LIMIT ?"
        params.append(int(limit))
    elif offset:
        query += " LIMIT -1"
    if offset:
        query += " OFFSET ?"
        params.append(int(offset))
    return [(list(row[:len(keys)]), list(row[len(keys):])) for row in model._sql(query, params)]


def _label(granularity: str, key: str) -> str:
    if granularity == "month":
        return date.fromisoformat(f"{key}-01").strftime("%B %Y")
    if granularity == "day":
        return date.fromisoformat(key).strftime("%d %b %Y")
    return key


def _values(model: BaseModel, specs: list[tuple[str, str, str | None]],
            rows: list[tuple[list[Any], list[Any]]]) -> list[list[Any]]:
    """Group keys as Odoo answers them: many2one ``[id, name]``, dates ``[start, label]``."""
    names: dict[int, dict[int, str]] = {}
    for position, (_spec, fname, _granularity) in enumerate(specs):
        field = model._fields[fname]
        if field.type == "many2one":
            ids = sorted({keys[position] for keys, _aggs in rows if keys[position]})
            names[position] = display_names(model, field.relation or "", ids)
    result = []
    for keys, _aggs in rows:
        values = []
        for position, (_spec, fname, granularity) in enumerate(specs):
            value = keys[position]
            field = model._fields[fname]
            if value is None:
                values.append(False)
            elif field.type == "many2one":
                values.append([value, names[position].get(value, "")])
            elif granularity:
                start = value if granularity == "day" else f"{value}-01" if granularity == "month" else f"{value}-01-01"
                values.append([start, _label(granularity, value)])
            elif field.type == "boolean":
                values.append(bool(value))
            else:
                values.append(value)
        result.append(values)
    return result


def _leaf_value(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def read_group(model: BaseModel, domain: list, fields: list[str], groupby: Any, offset: int = 0,
               limit: int | None = None, orderby: str | None = None, lazy: bool = True) -> list[dict[str, Any]]:
    groupby = [groupby] if isinstance(groupby, str) else list(groupby or [])
    used = groupby[:1] if lazy else groupby
    specs = [_group_spec(model, g) for g in used]
    alias = model._table
    aggregates = []
    for spec in fields or []:
        if spec in [s[1] for s in specs]:
            continue
        aggregate = _aggregate_sql(model, spec, alias)
        if aggregate is not None:
            aggregates.append(aggregate)
    count_key = f"{used[0].split(':')[0]}_count" if lazy and used else "__count"
    aggregates.append((count_key, "COUNT(*)"))
    rows = _groups(model, domain, specs, aggregates, offset, limit, None)
    result = []
    for (keys, aggs), values in zip(rows, _values(model, specs, rows)):
        group: dict[str, Any] = {}
        for (spec, fname, granularity), value in zip(specs, values):
            group[spec] = value[1] if granularity and value else value
        for (key, _sql), value in zip(aggregates, aggs):
            group[key] = value if value is not None else 0
        leaves = [(fname, "=", _leaf_value(value)) for (_s, fname, granularity), value in zip(specs, values)
                  if not granularity]
        group["__domain"] = leaves + list(domain or [])
        if lazy and len(groupby) > 1:
            group["__context"] = {"group_by": groupby[1:]}
        result.append(group)
    return result


def formatted_read_group(model: BaseModel, domain: list, groupby: Any = (), aggregates: Any = (),
                         offset: int = 0, limit: int | None = None, order: str | None = None) -> list[dict[str, Any]]:
    specs = [_group_spec(model, g) for g in groupby]
    alias = model._table
    sql_aggregates = []
    for spec in aggregates:
        aggregate = _aggregate_sql(model, spec, alias)
        if aggregate is not None:
            sql_aggregates.append((spec, aggregate[1]))
    rows = _groups(model, domain, specs, sql_aggregates, offset, limit, None)
    result = []
    for (keys, aggs), values in zip(rows, _values(model, specs, rows)):
        group: dict[str, Any] = {}
        for (spec, _fname, _granularity), value in zip(specs, values):
            group[spec] = value
        for (key, _sql), value in zip(sql_aggregates, aggs):
            group[key] = value if value is not None else 0
        group["__extra_domain"] = [[fname, "=", _leaf_value(value)]
                                   for (_s, fname, granularity), value in zip(specs, values) if not granularity]
        result.append(group)
    return result
