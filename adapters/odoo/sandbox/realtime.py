"""The ``credit_guard`` addon's real-time check before confirmation, as ``sale.order._credit_guard_check`` does it.

The facts posted are the addon's ``_credit_guard_facts`` (the order as it is now, its customer and commercial
entity with its credit limit); the answer is read, and the fail mode applied, as the addon does, so that the
demo and the tests exercise the daemon's real-time path through the sandbox.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from .faults import UserError

if TYPE_CHECKING:
    from .orm import BaseModel

DEFAULT_TIMEOUT = 3.0
MAX_TIMEOUT = 60.0
DECISIONS = ("approve", "hold")
PROBLEMS = {"timeout": "no answer in time", "unreachable": "connection failed", "invalid": "invalid answer"}


def _param(model: BaseModel, key: str) -> str:
    rows = model._sql('SELECT "value" FROM "ir_config_parameter" WHERE "key" = ?', [key])
    return (rows[0][0] or "").strip() if rows else ""


def config(model: BaseModel) -> dict[str, Any] | None:
    """The check's settings (the addon reads them as superuser), or None when it is not configured."""
    url, token = _param(model, "credit_guard.check_url"), _param(model, "credit_guard.check_token")
    if not url or not token:
        return None
    try:
        timeout = float(_param(model, "credit_guard.check_timeout"))
        timeout = timeout if 0 < timeout <= MAX_TIMEOUT else DEFAULT_TIMEOUT
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    mode = (_param(model, "credit_guard.fail_mode") or "open").lower()
    return {"url": url, "token": token, "timeout": timeout, "fail_mode": "open" if mode == "open" else "closed",
            "source": _param(model, "credit_guard.source") or "odoo"}


def check_before_confirm(orders: BaseModel) -> list[tuple[str, dict[str, Any]]]:
    """Ask the daemon about each quotation about to be confirmed; ``[(order name, hold values)]`` of those it held
    (their hold committed on its own).  No usable answer: confirm (fail open) or UserError (fail closed)."""
    settings = config(orders)
    if settings is None:
        return []
    holds = []
    for order_id in orders.ids:
        [row] = orders._read_rows([order_id], ["name", "state", "amount_total", "credit_released_at",
                                                "credit_hold_since", "credit_released_amount"])
        if row["state"] not in ("draft", "sent") or _release_covers(row):
            continue
        answer, problem = _ask(settings, facts(orders, order_id, settings["source"]))
        if problem is not None:
            if settings["fail_mode"] == "closed":
                raise UserError(f"CreditGuard could not be reached to check sales order {row['name']} "
                                f"({PROBLEMS.get(problem[0], problem[1])}). The credit policy does not allow "
                                "confirming an order without its answer: try again in a moment, or ask your "
                                "administrator.")
            continue
        if answer["decision"] == "hold":
            holds.append((row["name"], _put_on_hold(orders, order_id, answer)))
    return holds


def _release_covers(row: dict[str, Any]) -> bool:
    released = row["credit_released_at"]
    if not released or (row["credit_hold_since"] and row["credit_hold_since"] > released):
        return False
    return row["amount_total"] <= (row["credit_released_amount"] or 0.0) + 1e-9


def facts(orders: BaseModel, order_id: int, source: str) -> dict[str, Any]:
    """``sale.order._credit_guard_facts``."""
    env = orders.env
    [order] = orders._read_rows([order_id], ["name", "state", "partner_id", "company_id", "currency_id",
                                             "amount_total", "amount_invoiced", "date_order"])
    [partner] = env["res.partner"]._read_rows([order["partner_id"][0]],
                                              ["name", "display_name", "commercial_partner_id"])
    commercial_id = (partner["commercial_partner_id"] or [order["partner_id"][0]])[0]
    [commercial] = env["res.partner"]._read_rows([commercial_id], ["name", "display_name", "ref", "credit_limit"])
    [currency] = env["res.currency"]._read_rows([order["currency_id"][0]], ["name", "decimal_places"])
    places = currency["decimal_places"]
    customer = {"erp_id": str(partner["id"]), "name": partner["display_name"] or partner["name"] or "",
                "commercial_erp_id": str(commercial_id),
                "commercial_name": commercial["display_name"] or commercial["name"] or ""}
    if commercial["ref"]:
        customer["commercial_ref"] = commercial["ref"]
    if commercial["credit_limit"] and order["company_id"]:
        [company] = env["res.company"]._read_rows([order["company_id"][0]], ["currency_id"])
        [company_currency] = env["res.currency"]._read_rows([company["currency_id"][0]], ["name", "decimal_places"])
        customer["credit_limit"] = "%.*f" % (company_currency["decimal_places"], commercial["credit_limit"])
        customer["credit_limit_currency"] = company_currency["name"]
    data = {"erp_id": str(order_id), "reference": order["name"], "state": order["state"],
            "currency": currency["name"], "amount_total": "%.*f" % (places, order["amount_total"]),
            "amount_uninvoiced": "%.*f" % (places, max(order["amount_total"] - order["amount_invoiced"], 0.0))}
    if order["company_id"]:
        data["company_id"] = str(order["company_id"][0])
    if order["date_order"]:
        data["date"] = order["date_order"][:10]
    return {"source": source, "event": "confirm", "order": data, "customer": customer}


def _ask(settings: dict[str, Any], payload: dict[str, Any]) -> tuple[dict | None, tuple[str, str] | None]:
    request = urllib.request.Request(settings["url"], data=json.dumps(payload).encode(), method="POST", headers={
        "Authorization": f"Bearer {settings['token']}", "Content-Type": "application/json",
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings["timeout"]) as response:  # noqa: S310 - loopback
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    except (TimeoutError, socket.timeout):
        return None, ("timeout", f"no answer within {settings['timeout']} s")
    except (urllib.error.URLError, OSError) as exc:
        return None, ("unreachable", f"connection failed: {type(exc).__name__}")
    if status >= 500:
        return None, ("unavailable", f"HTTP {status}")
    if not 200 <= status < 300:
        return None, ("refused", f"HTTP {status}")
    try:
        answer = json.loads(body)
    except ValueError:
        return None, ("invalid", "the answer is not JSON")
    if not isinstance(answer, dict) or answer.get("decision") not in DECISIONS:
        return None, ("invalid", "the answer has no decision 'approve' or 'hold'")
    return answer, None


def _put_on_hold(orders: BaseModel, order_id: int, answer: dict[str, Any]) -> dict[str, Any]:
    """The hold the daemon decided, committed on a cursor of its own (the refusal rolls the call back)."""
    reasons = answer.get("reasons") or []
    if isinstance(reasons, (str, dict)):
        reasons = [reasons]
    messages = [str(r.get("message") or r.get("code") or "") if isinstance(r, dict) else str(r) for r in reasons]
    codes = [str(r.get("code")) for r in reasons if isinstance(r, dict) and r.get("code")]
    vals = {"credit_hold": True, "credit_hold_reasons": "\n".join(m for m in messages if m) or False,
            "credit_hold_codes": ",".join(codes) or False,
            "credit_release_tier": answer.get("release_tier") or answer.get("tier") or False,
            "credit_hold_since": orders.env.now_str()}
    if answer.get("hold_key") or answer.get("key"):
        vals["credit_hold_key"] = str(answer.get("hold_key") or answer.get("key"))
    order = orders._browse([order_id])
    orders.env.db.own_cursor(lambda: order.write(vals))
    return vals
