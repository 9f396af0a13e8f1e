"""``read``: records as dicts, many2one as ``[id, display_name]``, x2many as id lists."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .convert import to_read

if TYPE_CHECKING:
    from .orm import BaseModel


def read_rows(model: BaseModel, ids: list[int], fnames: list[str]) -> list[dict[str, Any]]:
    """The existing records among ``ids``, in that order, with the fields ``fnames`` (and ``id``)."""
    if not ids:
        return []
    fields = model._fields
    alias = "x_rec"
    select, selected = [f'{alias}."id"'], []
    x2many, empty = [], []
    for name in fnames:
        field = fields[name]
        if field.type in ("one2many", "many2many"):
            x2many.append(name)
            continue
        expr = model._value_sql(name, alias)
        if expr is None:
            empty.append(name)
        else:
            select.append(expr)
            selected.append(name)
    query = (f'SELECT {", ".join(select)} FROM "{model._table}" {alias} '
             f'WHERE {alias}."id" IN (SELECT value FROM json_each(?))')
    rows = {row[0]: row for row in model._sql(query, [json.dumps(ids)])}
    present = [i for i in ids if i in rows]
    m2o_ids: dict[str, set[int]] = {}
    for pos, name in enumerate(selected, start=1):
        field = fields[name]
        if field.type == "many2one":
            m2o_ids.setdefault(field.relation or "", set()).update(
                rows[i][pos] for i in present if rows[i][pos] is not None)
    names = {target: display_names(model, target, sorted(id_set)) for target, id_set in m2o_ids.items()}
    links = {name: x2many_values(model, name, present) for name in x2many}
    plan = []
    for pos, name in enumerate(selected, start=1):
        field = fields[name]
        plan.append((name, pos, names[field.relation or ""], None) if field.type == "many2one"
                    else (name, pos, None, field))
    empties = [(name, fields[name].empty()) for name in empty]
    result = []
    for i in present:
        row = rows[i]
        record: dict[str, Any] = {"id": i}
        for name, pos, m2o_names, field in plan:
            value = row[pos]
            if field is None:
                record[name] = [value, m2o_names.get(value, "")] if value else False
            elif value is None or field.type in ("boolean", "datetime"):
                record[name] = to_read(field, value)
            else:
                record[name] = value
        for name in x2many:
            record[name] = links[name].get(i, [])
        for name, value in empties:
            record[name] = list(value) if isinstance(value, list) else value
        result.append(record)
    return result


def display_names(model: BaseModel, target: str, ids: list[int]) -> dict[int, str]:
    """``display_name`` of records of ``target`` (read as superuser, like Odoo's many2one values)."""
    if not ids or target not in model.env.registry:
        return {}
    comodel = model.env[target]
    expr = comodel._display_name_sql("x_dn")
    query = (f'SELECT x_dn."id", {expr} FROM "{comodel._table}" x_dn '
             f'WHERE x_dn."id" IN (SELECT value FROM json_each(?))')
    return {row[0]: row[1] if row[1] is not None else "" for row in model._sql(query, [json.dumps(ids)])}


def x2many_values(model: BaseModel, fname: str, ids: list[int]) -> dict[int, list[int]]:
    pairs = model._x2many_pairs_sql(fname)
    if pairs is None:
        return {}
    field = model._fields[fname]
    join, order = "", "p.id2"
    if field.relation in model.env.registry:
        comodel = model.env[field.relation]
        join = f'JOIN "{comodel._table}" c ON c."id" = p.id2'
        if comodel._active_name and model.env.context.get("active_test", True):
            join += f' AND c."{comodel._active_name}" = 1'
        order = comodel._order_sql(None, "c")
    query = (f"SELECT p.id1, p.id2 FROM ({pairs}) p {join} "
             f"WHERE p.id1 IN (SELECT value FROM json_each(?)) ORDER BY {order}")
    result: dict[int, list[int]] = {}
    for id1, id2 in model._sql(query, [json.dumps(ids)]):
        result.setdefault(id1, []).append(id2)
    return result
