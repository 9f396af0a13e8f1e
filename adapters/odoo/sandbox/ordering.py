"""``order`` specifications to SQL ``ORDER BY`` (PostgreSQL's NULL placement, many2one by comodel order)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .faults import UserError

if TYPE_CHECKING:
    from .orm import BaseModel

ORDER_RE = re.compile(
    r'^(\s*([a-z0-9:_]+|"[a-z0-9:_]+")(\.id)?(\s+(desc|asc))?(\s+nulls\s+(first|last))?\s*(,|$))+(?<!,)$', re.I)


def order_sql(model: BaseModel, order: str | None, alias: str) -> str:
    order = order or model._order
    if not ORDER_RE.match(order):
        raise UserError(
            f'Invalid "order" specified ({order}). A valid "order" specification is a comma-separated '
            "list of valid field names (optionally followed by asc/desc for the direction)")
    terms = []
    for part in order.split(","):
        words = part.strip().split()
        direction = "DESC" if len(words) > 1 and words[1].lower() == "desc" else "ASC"
        nulls = words[-1].upper() if len(words) > 2 and words[-2].lower() == "nulls" else None
        terms.extend(order_terms(model, words[0].strip('"'), direction, nulls, alias, depth=0))
    plain_id = f'{alias}."id"'
    return ", ".join(f"{expr} {direction}" + ("" if expr == plain_id else f" NULLS {nulls}")
                     for expr, direction, nulls in terms) or plain_id


def order_terms(model: BaseModel, name: str, direction: str, nulls: str | None, alias: str,
                depth: int) -> list[tuple[str, str, str]]:
    """``(expression, ASC|DESC, FIRST|LAST)`` terms for one field of an order specification."""
    plain_id = name.endswith(".id")
    fname = name[:-3] if plain_id else name
    field = model._fields.get(fname)
    if field is None:
        raise ValueError(f"Invalid field {fname!r} on model {model._name!r}")
    expr = model._field_sql(fname, alias) if field.store or fname == "id" else None
    if expr is None and field.sortable:
        expr = model._value_sql(fname, alias)
    if expr is None:
        if model.env.version == "19":
            raise ValueError(f"Cannot convert {model._name}.{fname} to SQL because it is not stored")
        return []  # Odoo 17 ignores non-stored fields in ``order``
    nulls = nulls or ("LAST" if direction == "ASC" else "FIRST")
    if field.type == "many2one" and not plain_id and depth == 0 and field.relation in model.env.registry:
        comodel = model.env[field.relation]
        co_alias = f"{alias}_{fname}o"[-60:]
        terms = []
        for part in comodel._order.split(","):
            words = part.strip().split()
            co_dir = "DESC" if len(words) > 1 and words[1].lower() == "desc" else "ASC"
            if direction == "DESC":
                co_dir = "ASC" if co_dir == "DESC" else "DESC"
            for inner, inner_dir, inner_nulls in order_terms(comodel, words[0], co_dir, None, co_alias, 1):
                terms.append((f'(SELECT {inner} FROM "{comodel._table}" {co_alias} '
                              f'WHERE {co_alias}."id" = {expr})', inner_dir, inner_nulls))
        return terms
    return [(expr, direction, nulls)]
