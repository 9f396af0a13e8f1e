"""Small models of ``base``: countries, modules, partner tags."""

from __future__ import annotations

import json
from typing import Any

from . import access
from .faults import ValidationError
from .orm import BaseModel, model_api, register


@register
class ResCountry(BaseModel):
    _name = "res.country"
    _description = "Country"
    _order = "name"
    _portal = "all"
    _indexes = ("code",)


@register
class IrConfigParameter(BaseModel):
    """System parameters (``ir.config_parameter``): administrators only, as in Odoo."""

    _name = "ir.config_parameter"
    _description = "System Parameter"
    _order = "key"
    _rec_name_field = "key"
    _indexes = ("key",)

    @model_api
    def get_param(self, key, default=False):
        access.check_model(self, "read")
        return self._value(key, default)

    @model_api
    def set_param(self, key, value):
        """Set (or, with a false value, delete) a parameter; answers its previous value."""
        access.check_model(self, "write")
        old = self._value(key, False)
        if value is False or value is None:
            self._sql('DELETE FROM "ir_config_parameter" WHERE "key" = ?', [key])
        elif old is False:
            self._create_one({"key": key, "value": str(value)})
        else:
            self._sql('UPDATE "ir_config_parameter" SET "value" = ? WHERE "key" = ?', [str(value), key])
        return old

    def _value(self, key: str, default: Any = False) -> Any:
        row = self._sql('SELECT "value" FROM "ir_config_parameter" WHERE "key" = ?', [key])
        return row[0][0] if row else default


@register
class IrModuleModule(BaseModel):
    _name = "ir.module.module"
    _description = "Module"
    _order = "application desc, sequence, name"
    _rec_name_field = "shortdesc"
    _indexes = ("name",)

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "installed_version":
            return f'{alias}."latest_version"'
        return super()._computed_sql(fname, alias)


@register
class ResPartnerCategory(BaseModel):
    """Partner tags: a tree (``parent_id``, ``parent_path``); partners link them through ``res.partner.category_id``."""

    _name = "res.partner.category"
    _description = "Partner Tags"
    _order = "name"
    _portal = "all"
    _indexes = ("parent_id",)

    def _display_name_sql(self, alias: str) -> str:
        """``Parent / Child`` along ``parent_path``."""
        return (f'COALESCE((SELECT group_concat(x_pc."name", \' / \') FROM (SELECT c."name" FROM '
                f'json_each(\'[\' || RTRIM(REPLACE({alias}."parent_path", \'/\', \',\'), \',\') || \']\') j '
                f'JOIN "res_partner_category" c ON c."id" = j.value ORDER BY j.key) x_pc), {alias}."name", \'\')')

    def _m2m_storage(self, fname: str) -> tuple[str, str, bool]:
        if fname == "partner_ids":  # the other side of res.partner.category_id
            return "res.partner", "category_id", True
        return super()._m2m_storage(fname)

    def _m2m_table(self, fname: str) -> tuple[str, str, str]:
        if fname == "partner_ids":
            return "res_partner_res_partner_category_rel", "category_id", "partner_id"
        return super()._m2m_table(fname)

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        count = self._sql('SELECT COUNT(*) FROM "res_partner_category"')[0][0]
        defaults["color"] = count % 11 + 1  # Odoo picks a random color in 1..11
        return defaults

    def _after_change(self, fnames: set[str], created: bool = False) -> None:
        if created or "parent_id" in fnames:
            self._update_parent_path()

    def _update_parent_path(self) -> None:
        """``_parent_store``: ``parent_path`` of these tags and their descendants; refuses cycles."""
        todo = list(self.ids)
        seen: set[int] = set()
        while todo:
            tag_id = todo.pop(0)
            if tag_id in seen:
                continue
            seen.add(tag_id)
            chain, current = [], tag_id
            while current:
                if current in chain:
                    raise ValidationError("You can not create recursive tags.")
                chain.append(current)
                row = self._sql('SELECT "parent_id" FROM "res_partner_category" WHERE "id" = ?', [current])
                current = row[0][0] if row else None
            path = "".join(f"{i}/" for i in reversed(chain))
            self.env.cr.execute('UPDATE "res_partner_category" SET "parent_path" = ? WHERE "id" = ?', [path, tag_id])
            todo.extend(r[0] for r in self._sql('SELECT "id" FROM "res_partner_category" WHERE "parent_id" = ?',
                                                [tag_id]))

    def _delete(self) -> None:
        """``parent_id`` is ``ondelete='cascade'``; the links to partners go as well."""
        ids, todo = set(self.ids), list(self.ids)
        while todo:
            children = [r[0] for r in self._sql(
                'SELECT "id" FROM "res_partner_category" WHERE "parent_id" IN (SELECT value FROM json_each(?))',
                [json.dumps(todo)])]
            todo = [c for c in children if c not in ids]
            ids.update(todo)
        every = json.dumps(sorted(ids))
        self.env.cr.execute("DELETE FROM x_sb_rel WHERE model = 'res.partner' AND field = 'category_id' "
                            "AND id2 IN (SELECT value FROM json_each(?))", [every])
        type(self)(self.env, sorted(ids))._delete_rows()

    def _delete_rows(self) -> None:
        super()._delete()
