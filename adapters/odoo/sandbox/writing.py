"""``create``/``write``/``unlink`` mechanics: value checks, x2many commands, foreign keys, log fields."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .convert import to_column
from .faults import MissingError, ValidationError
from .schema import Field

if TYPE_CHECKING:
    from .orm import BaseModel

LOG_FIELDS = ("create_uid", "create_date", "write_uid", "write_date")


def prepare_columns(model: BaseModel, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split ``vals`` into column values, x2many commands and writes through ``related`` fields."""
    if not isinstance(vals, dict):
        raise TypeError(f"vals must be a dict, not {type(vals).__name__}")
    columns: dict[str, Any] = {}
    commands: dict[str, Any] = {}
    related: dict[str, Any] = {}
    for name, value in vals.items():
        field = model._fields.get(name)
        if field is None:
            raise ValueError(f"Invalid field {name!r} on model {model._name!r}")
        if name in LOG_FIELDS or name == "id":
            continue
        if field.type in ("one2many", "many2many"):
            commands[name] = value
        elif field.has_column:
            columns[name] = to_column(field, value, model._name)
            if field.type == "many2one" and columns[name] is not None:
                check_foreign_key(model, field, columns[name])
        elif field.related and "." in field.related:
            related[name] = value
    return columns, commands, related


def check_foreign_key(model: BaseModel, field: Field, value: int) -> None:
    if field.relation not in model.env.registry:
        return
    comodel = model.env[field.relation]
    if not model._sql(f'SELECT 1 FROM "{comodel._table}" WHERE "id" = ?', [value]):
        raise ValidationError(
            "The operation cannot be completed: another model requires the record being deleted. "
            "If possible, archive it instead.\n\n"
            f"Model: {model._model_description} ({model._name})\n"
            f"Constraint: {model._table}_{field.name}_fkey\n")


def check_required(model: BaseModel, columns: dict[str, Any]) -> None:
    for name, field in model._fields.items():
        if field.required and field.has_column and columns.get(name) is None and field.type != "boolean":
            raise ValidationError(
                "The operation cannot be completed:\n"
                "- Create/update: a mandatory field is not set.\n"
                "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
                f"Model: {model._model_description} ({model._name})\n"
                f"Field: {field.string} ({name})\n")


def create_one(model: BaseModel, vals: dict[str, Any]) -> int:
    if not isinstance(vals, dict):
        raise TypeError(f"vals must be a dict, not {type(vals).__name__}")
    merged = dict(model._defaults(vals))
    merged.update(vals)
    hidden = {k: merged.pop(k) for k in list(merged) if k in model._extra_columns and k not in vals}
    columns, commands, related = model._prepare_columns(merged)
    columns.update(hidden)
    columns = model._prepare_create(columns, merged)
    check_required(model, columns)
    now = model.env.cr_now_str()
    columns.update(create_date=now, write_date=now, create_uid=model.env.uid, write_uid=model.env.uid)
    names = list(columns)
    quoted = ", ".join(f'"{n}"' for n in names)
    record_id = model.env.cr.execute(f'INSERT INTO "{model._table}" ({quoted}) VALUES ({", ".join("?" * len(names))})',
                                     [columns[n] for n in names]).lastrowid
    record = model._browse([record_id])
    write_commands(record, commands)
    write_related(record, related)
    record._after_change(set(merged), created=True)
    return record_id


def write_columns(model: BaseModel, columns: dict[str, Any], touch: bool = True) -> None:
    """UPDATE the records; ``touch`` stamps ``write_date``/``write_uid`` like Odoo's ``_write``."""
    if not model.ids:
        return
    columns = dict(columns)
    if touch:
        columns.update(write_date=model.env.cr_now_str(), write_uid=model.env.uid)
    if not columns:
        return
    names = list(columns)
    assignments = ", ".join(f'"{n}" = ?' for n in names)
    model.env.cr.execute(
        f'UPDATE "{model._table}" SET {assignments} WHERE "id" IN (SELECT value FROM json_each(?))',
        [columns[n] for n in names] + [json.dumps(model.ids)])


def write_commands(model: BaseModel, commands: dict[str, Any]) -> None:
    for name, value in commands.items():
        field = model._fields[name]
        if field.type == "many2many":
            _write_m2m(model, field, value)
        else:
            _write_o2m(model, field, value)


def _write_m2m(model: BaseModel, field: Field, value: Any) -> None:
    """Odoo's x2many commands on a stored many2many: 0 create, 1 update, 2 delete, 3 unlink, 4 link, 5 clear, 6 set."""
    if not field.store:
        return
    owner, owner_field, flipped = model._m2m_storage(field.name)
    mine, theirs = ("id2", "id1") if flipped else ("id1", "id2")
    comodel = model.env[field.relation] if field.relation in model.env.registry else None
    for record_id in model.ids:
        current = [r[0] for r in model._sql(
            f"SELECT {theirs} FROM x_sb_rel WHERE model = ? AND field = ? AND {mine} = ? ORDER BY rowid",
            [owner, owner_field, record_id])]
        added: list[int] = []
        for command in commands_of(value):
            code = command[0]
            if code == 6:
                current = [int(i) for i in command[2] or []]
                added.extend(current)
            elif code == 5:
                current = []
            elif code == 4:
                added.append(int(command[1]))
                if int(command[1]) not in current:
                    current.append(int(command[1]))
            elif code in (3, 2):
                current = [i for i in current if i != int(command[1])]
                if code == 2 and comodel is not None:
                    comodel._browse([command[1]]).unlink()
            elif code == 1 and comodel is not None:
                comodel._browse([command[1]]).write(command[2] or {})
            elif code == 0 and comodel is not None:
                current.append(comodel._create_one(command[2]))
        if comodel is not None and added:
            check_m2m_targets(model, field, comodel, added)
        model.env.cr.execute(f"DELETE FROM x_sb_rel WHERE model = ? AND field = ? AND {mine} = ?",
                             [owner, owner_field, record_id])
        rows = [(owner, owner_field, record_id, i) if not flipped else (owner, owner_field, i, record_id)
                for i in dict.fromkeys(current)]
        model.env.cr.executemany("INSERT INTO x_sb_rel (model, field, id1, id2) VALUES (?, ?, ?, ?)", rows)


def check_m2m_targets(model: BaseModel, field: Field, comodel: BaseModel, ids: list[int]) -> None:
    """The foreign key of the relation table: linking a record that does not exist is refused."""
    found = {row[0] for row in model._sql(
        f'SELECT "id" FROM "{comodel._table}" WHERE "id" IN (SELECT value FROM json_each(?))',
        [json.dumps(sorted(set(ids)))])}
    if set(ids) - found:
        table, _column1, column2 = model._m2m_table(field.name)
        raise ValidationError(
            "The operation cannot be completed: another model requires the record being deleted. "
            "If possible, archive it instead.\n\n"
            "Model: Unknown (unknown)\n"
            f"Constraint: {table}_{column2}_fkey\n")


def _write_o2m(model: BaseModel, field: Field, value: Any) -> None:
    if field.relation not in model.env.registry or not field.relation_field:
        return
    comodel = model.env[field.relation]
    inverse = field.relation_field
    for record_id in model.ids:
        for command in commands_of(value):
            code = command[0]
            if code == 0:
                comodel._create_one({**command[2], inverse: record_id})
            elif code == 1:
                comodel._browse([command[1]]).write(command[2])
            elif code == 2:
                comodel._browse([command[1]]).unlink()
            elif code == 4:
                comodel._browse([command[1]])._write_columns({inverse: record_id})


def write_related(model: BaseModel, related: dict[str, Any]) -> None:
    """Writes on ``related`` fields go to the related record (one many2one hop)."""
    for name, value in related.items():
        path, _dot, target = model._fields[name].related.rpartition(".")
        link = model._fields.get(path)
        if "." in path or link is None or link.type != "many2one" or link.relation not in model.env.registry:
            continue
        for (target_id,) in model._sql(
                f'SELECT "{path}" FROM "{model._table}" WHERE "id" IN (SELECT value FROM json_each(?))',
                [json.dumps(model.ids)]):
            if target_id:
                model.env[link.relation]._browse([target_id]).write({target: value})


def ensure_exist(model: BaseModel) -> None:
    """Raise Odoo's ``MissingError`` when some of the records are gone."""
    if not model.ids:
        return
    found = {row[0] for row in model._sql(
        f'SELECT "id" FROM "{model._table}" WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(model.ids)])}
    missing = [i for i in model.ids if i not in found]
    if missing:
        raise MissingError("Record does not exist or has been deleted.\n"
                           f"(Record: {model._name}{tuple(missing)!r}, User: {model.env.uid})")


#: many2one fields declared ``ondelete='cascade'`` in Odoo: deleting their target deletes them (the model's
#: ``_delete`` does it), so they do not refuse the deletion
CASCADE = {("account.move.line", "move_id")}


def check_references(model: BaseModel) -> None:
    """Like PostgreSQL's foreign keys: refuse deleting records other records point to."""
    for other_name, fields in model.env.registry.fields.items():
        for field in fields.values():
            if (field.type != "many2one" or field.relation != model._name or not field.has_column
                    or field.name in ("create_uid", "write_uid") or other_name == model._name
                    or (other_name, field.name) in CASCADE):
                continue
            other = model.env[other_name]
            if other._sql(f'SELECT 1 FROM "{other._table}" WHERE "{field.name}" IN '
                          f'(SELECT value FROM json_each(?)) LIMIT 1', [json.dumps(model.ids)]):
                raise ValidationError(
                    "The operation cannot be completed: another model requires the record being deleted. "
                    "If possible, archive it instead.\n\n"
                    f"Model: {other._model_description} ({other_name})\n"
                    f"Constraint: {other._table}_{field.name}_fkey\n")


def delete(model: BaseModel) -> None:
    ids = json.dumps(model.ids)
    model.env.cr.execute(f'DELETE FROM "{model._table}" WHERE "id" IN (SELECT value FROM json_each(?))', [ids])
    model.env.cr.execute("DELETE FROM x_sb_rel WHERE model = ? AND id1 IN (SELECT value FROM json_each(?))",
                         [model._name, ids])


def commands_of(value: Any) -> list[tuple]:
    """x2many commands; a bare list of ids means "set", ``False`` means "clear"."""
    if value is False or value is None:
        return [(5,)]
    value = list(value)
    if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [(6, 0, value)]
    result = []
    for command in value:
        command = list(command) + [None] * (3 - len(command))
        if command[0] == 0 and not isinstance(command[2], dict):
            raise ValueError(f"Invalid command {command!r}")
        result.append(tuple(command))
    return result
