"""``ir.attachment``: files attached to records (an invoice's PDF once printed or sent).

Odoo keeps the content in its filestore and answers it base64-encoded in ``datas``; the sandbox keeps it in a
sandbox-only column.  ``file_size``, ``checksum`` and (when not given) ``mimetype`` are computed on create, as
Odoo does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from .faults import ValidationError
from .orm import BaseModel, register


@register
class IrAttachment(BaseModel):
    _name = "ir.attachment"
    _description = "Attachment"
    _order = "id desc"
    _extra_columns = {"x_sb_datas": "TEXT"}  # the base64 content (Odoo: the filestore)
    _indexes = (("res_model", "res_id"),)

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "datas":
            return f'{alias}."x_sb_datas"'
        return super()._computed_sql(fname, alias)

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        return {**super()._defaults(vals), "type": "binary", "company_id": self.env.company_id}

    def _prepare_columns(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        vals = dict(vals)
        data, raw = vals.pop("datas", None), vals.pop("raw", None)
        if raw:
            data = base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode()
        columns, commands, related = super()._prepare_columns(vals)
        if data:
            try:
                content = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise ValidationError("datas: not base64-encoded content") from None
            columns["x_sb_datas"] = data.decode() if isinstance(data, bytes) else data
            columns["file_size"] = len(content)
            columns["checksum"] = hashlib.sha1(content).hexdigest()
            if not columns.get("mimetype"):
                columns["mimetype"] = "application/pdf" if content.startswith(b"%PDF") else "application/octet-stream"
        return columns, commands, related
