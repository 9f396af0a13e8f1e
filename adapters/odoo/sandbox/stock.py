"""Deliveries (``stock.picking``), as installed with ``OdooSandbox(addons=("sale_stock",))``.

The fields are the ``fields_get`` captured from Odoo with ``sale_stock`` installed
(``fields/<version>/stock/``).  The sandbox keeps one outgoing picking per confirmed demo order
(one-step delivery, ``WH/OUT/000nn``, ``origin`` and ``sale_id`` the order), fully reserved: state
``assigned`` ("Ready").  Moves, quants and locations are not kept.

``button_validate`` follows the capture for a fully reserved delivery once the company's SMS question
of ``stock_sms`` has been answered: it answers ``True`` and the picking is ``done`` with ``date_done``.
A picking with nothing reserved (``confirmed``) is refused with the real "no quantities" fault; the
backorder and SMS wizards are not emulated.
"""

from __future__ import annotations

import json
from typing import Any

from . import access
from .faults import UserError
from .fixtures import Fixtures, insert
from .mail import MailThread
from .orm import BaseModel, register

ADDON = "sale_stock"
NO_QUANTITIES = "You cannot validate a transfer if no quantities are reserved. To force the transfer, encode quantities."


@register
class StockPickingType(BaseModel):
    _name = "stock.picking.type"
    _description = "Picking Type"
    _order = "sequence, id"
    _company_rule = "strict"


@register
class StockPicking(MailThread, BaseModel):
    _name = "stock.picking"
    _description = "Transfer"
    _order = "priority desc, scheduled_date asc, id desc"
    _company_rule = "strict"
    _indexes = ("sale_id", "state", "name")

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "picking_type_code":  # related picking_type_id.code, not stored
            return f'(SELECT t."code" FROM "stock_picking_type" t WHERE t."id" = {alias}."picking_type_id")'
        return super()._computed_sql(fname, alias)

    def _pickings(self) -> list[tuple]:
        self._ensure_exist()
        access.check_records(self, self.ids, "write")
        rows = self._sql(
            'SELECT p."id", p."state", p."sale_id", t."code" FROM "stock_picking" p '
            'LEFT JOIN "stock_picking_type" t ON t."id" = p."picking_type_id" '
            'WHERE p."id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])
        position = {picking_id: i for i, picking_id in enumerate(self.ids)}
        return sorted(rows, key=lambda row: position[row[0]])

    def button_validate(self):
        pickings = [row for row in self._pickings() if row[1] not in ("done", "cancel")]
        if any(state in ("draft", "waiting", "confirmed") for _id, state, _sale, _code in pickings):
            raise UserError(NO_QUANTITIES)
        now = self.env.now_str()
        for picking_id, _state, _sale, _code in pickings:
            self._browse([picking_id])._write_columns({"state": "done", "date_done": now})
        return True


def install(fx: Fixtures) -> None:
    """Picking types of each company's warehouse and a ready delivery for each confirmed order."""
    conn = fx.conn
    companies = [row[0] for row in conn.execute('SELECT "id" FROM "res_company" ORDER BY "id"')]
    types: list[tuple[Any, ...]] = []
    outgoing: dict[int, int] = {}
    for company in companies:
        for code, name, sequence_code in (("incoming", "Receipts", "IN"), ("outgoing", "Delivery Orders", "OUT")):
            type_id = len(types) + 1
            types.append((type_id, name, code, sequence_code, company, "at_confirm", "ask", 1, len(types) + 1,
                          *fx.log()))
            if code == "outgoing":
                outgoing[company] = type_id
    insert(conn, "stock_picking_type", ["id", "name", "code", "sequence_code", "company_id", "reservation_method",
                                        "create_backorder", "active", "sequence", *fx.LOG], types)
    orders = conn.execute('SELECT "id", "name", "partner_shipping_id", "partner_id", "company_id", "date_order" '
                          "FROM \"sale_order\" WHERE \"state\" = 'sale' ORDER BY \"id\"").fetchall()
    dated = ["date"] if fx.version == "17" else []  # 19 has no stored ``date`` on pickings
    insert(conn, "stock_picking", ["id", "name", "origin", "sale_id", "partner_id", "company_id", "picking_type_id",
                                   "state", "move_type", "priority", "scheduled_date", *dated, *fx.LOG],
           [(i, f"WH/OUT/{i:05d}", name, order_id, shipping or partner, company, outgoing.get(company), "assigned",
             "direct", "0", date_order, *([date_order] * len(dated)), *fx.log())
            for i, (order_id, name, shipping, partner, company, date_order) in enumerate(orders, start=1)])
