"""The invoice documents Odoo keeps: a posted invoice's PDF is an ``ir.attachment`` of its ``account.move`` once
printed or sent (``res_model`` ``account.move``, ``res_id`` the move, ``mimetype`` ``application/pdf``, the content
base64-encoded in ``datas``).  Read for the claim file (``creditguard claim --documents``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from connector.errors import CreditGuardError

PDF = "application/pdf"


class OdooDocuments:
    def __init__(self, client: Any) -> None:
        self.client = client

    def invoice_pdfs(self, move_ids: list[str], max_bytes: int) -> dict[str, bytes]:
        """The latest PDF attached to each of ``move_ids`` (as strings, the store's erp ids), those of at most
        ``max_bytes``; an invoice without one (never printed or sent, or too large) is left out.  Each document
        is read on its own, so that one the ERP fails to answer leaves the others."""
        ids = sorted({int(i) for i in move_ids if str(i).isdigit()})
        if not ids:
            return {}
        found = self.client.search_read(
            "ir.attachment", [("res_model", "=", "account.move"), ("res_id", "in", ids), ("mimetype", "=", PDF),
                              ("type", "=", "binary")],
            ["res_id", "name", "file_size"], order="id desc")
        latest: dict[int, int] = {}
        for row in found:
            if row["res_id"] not in latest and 0 < int(row.get("file_size") or 0) <= max_bytes:
                latest[row["res_id"]] = row["id"]
        pdfs: dict[str, bytes] = {}
        for move_id, attachment_id in latest.items():
            try:
                [row] = self.client.read("ir.attachment", [attachment_id], ["datas"]) or [{}]
                content = base64.b64decode(row.get("datas") or "", validate=True)
            except (CreditGuardError, binascii.Error, ValueError):
                continue
            if content.startswith(b"%PDF") and len(content) <= max_bytes:
                pdfs[str(move_id)] = content
        return pdfs
