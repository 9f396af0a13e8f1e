"""Access control: model ACLs for the portal user, multi-company and portal record rules.

The admin (uid 2) may access every model; its records are limited by the
multi-company rules (``allowed_company_ids``).  The portal user (uid 7) may
read a few models, only its own documents on others, and nothing on the rest.
Messages are Odoo's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .faults import AccessError

if TYPE_CHECKING:
    from .orm import BaseModel

COOKIES = ("If you really, really need access, perhaps you can win over your friendly administrator "
           "with a batch of freshly baked cookies.")

#: Groups named in the ACL error of a model the portal user may not use.
ACL_GROUPS = {
    "account.move": ["Invoicing/Billing", "Invoicing/Billing Administrator", "Sales/User: Own Documents Only",
                     "Technical/Show Accounting Features - Readonly", "User types/Internal User"],
    "account.account": ["Extra Rights/Contact Creation", "Invoicing/Billing", "Invoicing/Billing Administrator",
                        "Sales/User: Own Documents Only", "Technical/Show Accounting Features - Readonly",
                        "User types/Internal User"],
}
WRITE_GROUPS = ["Administration/Settings"]
OPERATION_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}


def is_portal(model: BaseModel) -> bool:
    return bool(model.env.user.get("share"))


def check_model(model: BaseModel, operation: str) -> None:
    """``check_access_rights``: the portal user's ACLs."""
    if not is_portal(model):
        return
    mode = model._portal
    if mode == "own" or (mode == "all" and operation == "read"):
        return
    groups = ACL_GROUPS.get(model._name, ["User types/Internal User"]) if mode is None else WRITE_GROUPS
    verb = OPERATION_VERBS.get(operation, operation)
    lines = "\n".join(f"\t- {g}" for g in groups)
    raise AccessError(
        f"You are not allowed to {verb} '{model._model_description}' ({model._name}) records.\n\n"
        f"This operation is allowed for the following groups:\n{lines}\n\n"
        "Contact your administrator to request access if necessary.")


def rule_sql(model: BaseModel, alias: str) -> str:
    """Record rules as a WHERE clause (literals only: ids are integers)."""
    clauses = []
    if model._company_rule and "company_id" in model._fields and model._fields["company_id"].has_column:
        companies = ", ".join(str(int(c)) for c in model.env.company_ids)
        in_companies = f'{alias}."company_id" IN ({companies})'
        if model._company_rule == "shared":
            clauses.append(f'({alias}."company_id" IS NULL OR {in_companies})')
        else:
            clauses.append(in_companies)
    if is_portal(model) and model._portal == "own":
        clauses.append(model._portal_rule_sql(alias))
    return " AND ".join(clauses)


def check_records(model: BaseModel, ids: list[int], operation: str) -> list[int]:
    """The existing ids among ``ids``; raises ``AccessError`` for existing but forbidden ones."""
    if not ids:
        return []
    table = model._table
    rows = model._sql(f'SELECT "id" FROM "{table}" WHERE "id" IN (SELECT value FROM json_each(?))',
                      [json.dumps(ids)])
    existing = {row[0] for row in rows}
    rule = rule_sql(model, table)
    if rule and existing:
        allowed = {row[0] for row in model._sql(
            f'SELECT "id" FROM "{table}" WHERE "id" IN (SELECT value FROM json_each(?)) AND {rule}',
            [json.dumps(sorted(existing))])}
        forbidden = [i for i in ids if i in existing and i not in allowed]
        if forbidden:
            raise make_access_error(model, forbidden, "read" if is_portal(model) else operation)
    return [i for i in ids if i in existing]


def make_access_error(model: BaseModel, forbidden: list[int], operation: str) -> AccessError:
    user = model.env.user
    head = ("Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
            f"Sorry, {user['name']} (id={user['id']}) doesn't have '{operation}' access to:")
    if is_portal(model):
        return AccessError(f"{head}\n- {model._model_description} ({model._name})\n\n{COOKIES}")
    names = model._display_names(model._name, forbidden[:6])
    company_names = {}
    if "company_id" in model._fields:
        rows = model._sql(
            f'SELECT m."id", c."name" FROM "{model._table}" m LEFT JOIN "res_company" c ON c."id" = m."company_id" '
            f'WHERE m."id" IN (SELECT value FROM json_each(?))', [json.dumps(forbidden[:6])])
        company_names = dict(rows)
    records = "\n".join(
        f"- {model._model_description}, {names.get(i, '')} ({model._name}: {i}, company={company_names.get(i)})"
        for i in forbidden[:6])
    return AccessError(
        f"{head}\n{records}\n\nBlame the following rules:\n- {model._model_description} multi-company\n\n"
        "Note: this might be a multi-company issue. Switching company may help - in Odoo, not in real life!\n\n"
        f"{COOKIES}")


def make_access_error_companies() -> AccessError:
    return AccessError("Access to unauthorized or invalid companies.")
