"""Small models of ``base``: countries, modules, partner tags."""

from __future__ import annotations

from .orm import BaseModel, register


@register
class ResCountry(BaseModel):
    _name = "res.country"
    _description = "Country"
    _order = "name"
    _portal = "all"
    _indexes = ("code",)


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
    _name = "res.partner.category"
    _description = "Partner Tags"
    _order = "name"
    _portal = "all"
    _indexes = ()

    def _display_name_sql(self, alias: str) -> str:
        return (f'COALESCE((SELECT p."name" || \' / \' FROM "res_partner_category" p '
                f'WHERE p."id" = {alias}."parent_id"), \'\') || COALESCE({alias}."name", \'\')')
