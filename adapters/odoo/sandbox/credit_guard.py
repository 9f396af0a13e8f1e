"""The ``credit_guard`` Odoo addon (``adapters/odoo/addon/credit_guard``), as installed with
``OdooSandbox(addons=("credit_guard",))``.

Its fields are in ``fields/addons/credit_guard.json`` (``sale.order``: the hold written by the daemon and
its release; ``res.partner``: the risk file).  Behaviour, as in the addon's ``models/``:

* ``sale.order.action_confirm`` refuses held orders (``UserError``, one line per held order, naming the
  reasons and the release tier);
* ``sale.order.action_release_credit_hold(reason=...)`` clears the hold, records who released it, when, at
  which tier (the hold's: the sandbox's controller holds every tier) and why, and posts a note; only a Credit Controller may do it (the admin is one, the portal user is not), and only a
  Credit Controller may write ``credit_hold = False`` on a held order;
* ``credit_hold`` and ``credit_risk_flag`` are tracked: a change posts a tracking message (empty body);
* ``credit_risk_flag`` defaults to ``ok`` (also for the partners that existed at installation).

* the real-time check before confirmation: with the system parameters ``credit_guard.check_url`` and
  ``credit_guard.check_token`` set, each quotation about to be confirmed and not covered by a release is
  posted to the daemon with the addon's facts (``_credit_guard_facts``); ``approve`` confirms, ``hold``
  writes the hold (committed on its own: it survives the refusal) and refuses; no usable answer follows
  ``credit_guard.fail_mode`` (``open``: confirm, ``closed``: refuse);
* a release records ``credit_released_amount``: it covers the order while its total does not grow.
"""

from __future__ import annotations

import json
from typing import Any

from . import access, realtime
from .faults import AccessError, UserError
from .mail import SUBTYPE_NOTE

ADDON = "credit_guard"
#: The fields the addon's tiered release added: ``OdooSandbox(..., credit_guard_tiers=False)`` installs the addon
#: as it was before (a daemon must not ask an older installation for them: Odoo's "Invalid field" fault).
TIER_FIELDS = {"sale.order": ("credit_released_tier", "credit_release_reason")}
VERSION_SUFFIX = "1.0.0"  # latest_version: "<serie>.1.0.0", e.g. "17.0.1.0.0" (the manifest's version)
NOT_A_CONTROLLER = "Only a user in the group Credit Controller can release a credit hold."


def reasons_inline(reasons: str | None) -> str:
    """The reasons (one per line) on one line: ``"first; second"``, without final periods."""
    lines = (line.strip().rstrip(".").strip() for line in (reasons or "").splitlines())
    return "; ".join(line for line in lines if line)


def hold_message(name: str, reasons: str | None, codes: str | None, tier: str | None) -> str:
    """``sale.order._credit_hold_error`` for one order."""
    text = reasons_inline(reasons) or (codes or "").replace(",", ", ") or "no reason given"
    if tier:
        return (f"Sales order {name} is on credit hold: {text}. A user in the group Credit Controller "
                f"(release tier: {tier}) must release it first.")
    return f"Sales order {name} is on credit hold: {text}. A user in the group Credit Controller must release it first."


def is_controller(model: Any) -> bool:
    """Members of ``credit_guard.group_credit_controller``: the admin (and the superuser), not the portal user."""
    return not access.is_portal(model)


class Tracking:
    """``tracking=True`` on one field: a change posts a tracking message on the record."""

    _tracked = ""

    def write(self, vals):
        tracked = self._tracked
        before = {}
        if tracked in (vals or {}) and self.ids:  # type: ignore[attr-defined]
            before = dict(self._sql(f'SELECT "id", "{tracked}" FROM "{self._table}" '  # type: ignore[attr-defined]
                                    'WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)]))  # type: ignore[attr-defined]
        result = super().write(vals)  # type: ignore[misc]
        if before:
            self._track(tracked, before)
        return result

    def _track(self, fname: str, before: dict[int, Any]) -> None:
        after = dict(self._sql(f'SELECT "id", "{fname}" FROM "{self._table}" '  # type: ignore[attr-defined]
                               'WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(sorted(before))]))
        for record_id in sorted(before):
            old, new = before[record_id], after.get(record_id)
            if self._fields[fname].type == "boolean":  # type: ignore[attr-defined]
                old, new = bool(old), bool(new)
            if old != new:
                self._browse([record_id])._post(body="", message_type="notification", subtype_id=SUBTYPE_NOTE)  # type: ignore[attr-defined]


class CreditGuardSaleOrder(Tracking):
    """``sale.order`` of the addon (mixed in before the sandbox's ``SaleOrder``)."""

    _tracked = "credit_hold"

    def _holds(self) -> list[tuple]:
        self._ensure_exist()  # type: ignore[attr-defined]
        access.check_records(self, self.ids, "write")  # type: ignore[arg-type,attr-defined]
        rows = self._sql(  # type: ignore[attr-defined]
            'SELECT "id", "name", "credit_hold", "credit_hold_reasons", "credit_hold_codes", "credit_release_tier" '
            'FROM "sale_order" WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])  # type: ignore[attr-defined]
        position = {order_id: i for i, order_id in enumerate(self.ids)}  # type: ignore[attr-defined]
        return sorted(rows, key=lambda row: position[row[0]])

    def action_confirm(self):
        held = [row for row in self._holds() if row[2]]
        if held:
            raise UserError("\n".join(hold_message(name, reasons, codes, tier)
                                      for _id, name, _held, reasons, codes, tier in held))
        new_holds = realtime.check_before_confirm(self)
        if new_holds:
            raise UserError("\n".join(hold_message(name, vals.get("credit_hold_reasons"), vals.get("credit_hold_codes"),
                                                   vals.get("credit_release_tier")) for name, vals in new_holds))
        return super().action_confirm()  # type: ignore[misc]

    def action_release_credit_hold(self, reason=None):
        """Release the holds: ``credit_hold`` false, released by the caller, now, with the reason given and the
        hold's tier (the sandbox's controller holds every tier); a note in the chatter."""
        if not is_controller(self):
            raise AccessError(NOT_A_CONTROLLER)
        user = self.env.user["name"]  # type: ignore[attr-defined]
        for order_id, _name, held, reasons, codes, tier in self._holds():
            if not held:
                continue
            order = self._browse([order_id])  # type: ignore[attr-defined]
            total = self._sql('SELECT "amount_total" FROM "sale_order" WHERE "id" = ?', [order_id])[0][0]  # type: ignore[attr-defined]
            vals = {"credit_hold": False, "credit_released_by": self.env.uid,  # type: ignore[attr-defined]
                    "credit_released_at": self.env.now_str(), "credit_released_amount": total,  # type: ignore[attr-defined]
                    "credit_released_tier": tier or False, "credit_release_reason": (reason or "").strip() or False}
            super(Tracking, order).write({k: v for k, v in vals.items() if k in self._fields})  # type: ignore[attr-defined]
            text = reasons_inline(reasons) or (codes or "").replace(",", ", ") or "no reason given"
            order.message_post(body=f"Credit hold released by {user} (reasons of the hold: {text}).",
                               subtype_xmlid="mail.mt_note")
            order._track("credit_hold", {order_id: True})  # tracking messages come last (at flush)
        return True

    def write(self, vals):
        if isinstance(vals, dict) and "credit_hold" in vals and not vals["credit_hold"] and not is_controller(self):
            held = self._sql('SELECT 1 FROM "sale_order" WHERE "credit_hold" = 1 '  # type: ignore[attr-defined]
                             'AND "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])  # type: ignore[attr-defined]
            if held:
                raise AccessError(NOT_A_CONTROLLER)
        return super().write(vals)


DELIVERY_HELD = "A delivery of a sales order on credit hold cannot be validated until the hold is released."


class CreditGuardStockPicking:
    """``stock.picking`` of the bridge ``credit_guard_stock`` (with ``sale_stock``): ``button_validate`` refuses
    an outgoing delivery whose sales order is on credit hold, before Odoo's own checks."""

    def button_validate(self):
        rows = self._pickings()  # type: ignore[attr-defined]
        order_ids: list[int] = []
        for _id, state, sale_id, code in rows:
            if code == "outgoing" and state not in ("done", "cancel") and sale_id and sale_id not in order_ids:
                order_ids.append(sale_id)
        held = self._sql(  # type: ignore[attr-defined]
            'SELECT "id", "name", "credit_hold_reasons", "credit_hold_codes", "credit_release_tier" FROM "sale_order" '
            'WHERE "credit_hold" = 1 AND "id" IN (SELECT value FROM json_each(?))', [json.dumps(order_ids)])
        if held:
            held = sorted(held, key=lambda row: order_ids.index(row[0]))
            raise UserError("\n".join([DELIVERY_HELD] + [hold_message(name, reasons, codes, tier)
                                                           for _id, name, reasons, codes, tier in held]))
        return super().button_validate()  # type: ignore[misc]


class CreditGuardPartner(Tracking):
    _tracked = "credit_risk_flag"

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)  # type: ignore[misc]
        defaults["credit_risk_flag"] = "ok"
        return defaults


#: Python behaviour of each addon, by model.
MIXINS: dict[str, dict[str, type]] = {ADDON: {"sale.order": CreditGuardSaleOrder, "res.partner": CreditGuardPartner,
                                              "stock.picking": CreditGuardStockPicking}}


def module_row(version: str) -> dict[str, Any]:
    """The ``ir.module.module`` record of the installed addon (from its manifest)."""
    return {"name": ADDON, "shortdesc": "CreditGuard", "state": "installed", "application": 0, "sequence": 100,
            "latest_version": f"{version}.0.{VERSION_SUFFIX}", "author": "CreditGuard", "license": "LGPL-3",
            "summary": "Credit holds on sales orders and risk grades on customers, kept by the CreditGuard daemon"}


def install(conn: Any) -> None:
    """Column defaults Odoo writes on the existing records when the module is installed."""
    conn.execute("UPDATE \"res_partner\" SET \"credit_risk_flag\" = 'ok' WHERE \"credit_risk_flag\" IS NULL")
