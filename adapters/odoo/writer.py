"""Writes back into Odoo: holds on orders, risk flags on customers, chatter, activities.

Implements :class:`connector.ports.ERPWriter`.  Every write first looks for its
own effect — the hold key stored on the order (addon), a chatter message or an
activity carrying the entry's key, a tag already on the partner — so an entry
applied twice (after a lost answer, a crash, a restart) changes nothing.

With the ``credit_guard`` addon installed, holds are real: the order carries
the hold and cannot be confirmed.  Without it, only standard Odoo is used — a
chatter message and an activity for the credit controller on the order, a tag
on the customer — and holds are advisory.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

from connector import crashpoints
from connector.errors import FatalError
from connector.logs import get_logger

from .client import OdooClient

log = get_logger("creditguard.odoo")

FLAG_TAGS = {"ok": "Credit: OK", "watch": "Credit: watch", "stop": "Credit: stop"}
TODO = "mail.mail_activity_data_todo"


def marker(key: str) -> str:
    return f"[creditguard {key}]"


def hidden(text: str) -> str:
    """``text`` in a note or activity where users do not see it (Bootstrap's ``d-none``: Odoo's sanitizer keeps
    classes) and the adapter's search still finds it: the idempotency key is for CreditGuard, not for people."""
    return f'<span class="d-none">{html.escape(text)}</span>'



def attachment_name(payload: dict[str, Any]) -> str:
    """``<level name> <as of>.html``: a file name without path separators or control characters."""
    stem = f"{payload.get('level_name') or 'letter'} {payload.get('as_of') or ''}".strip()
    return "".join(ch if ch.isalnum() or ch in " -_." else "_" for ch in stem)[:120] + ".html"

class OdooWriter:
    def __init__(self, client: OdooClient, *, controller_user_id: int | None = None) -> None:
        self.client = crashpoints.after_calls(client, ("write", "create", "call_method"))
        self.controller_user_id = controller_user_id
        self._addon: bool | None = None
        self._tags: dict[str, int] = {}
        self._lang: str | None = None  # the credit controller's language, for amounts in notes

    # ---------------------------------------------------------------- detection

    def probe(self) -> None:
        """One authenticated call, with nothing to write: raises the core's error when Odoo does not answer
        or refuses the login (``creditguard enforce`` exits 1 then, whether or not writes were waiting)."""
        if self._addon is None:
            self._detect_addon()

    @property
    def addon(self) -> bool:
        """Whether the credit_guard addon is installed (asked once per writer)."""
        if self._addon is None:
            self._detect_addon()
        return bool(self._addon)

    def _detect_addon(self) -> None:
        self._addon = self.client.module_installed("credit_guard")
        if not self._addon:
            log.warning("odoo.advisory_holds", source=self.client.source,
                        detail="credit_guard addon not installed: holds are advisory (chatter, activity, tag)")

    # -------------------------------------------------------------------- apply

    def apply(self, entry: Any) -> str:
        if entry.kind in ("place_hold", "release_hold"):
            return self._hold(entry)
        if entry.kind == "set_risk_flag":
            return self._flag(entry)
        if entry.kind == "create_alert":
            return self._alert(entry)
        if entry.kind == "close_alert":
            return self._close_alert(entry)
        if entry.kind == "send_dunning":
            return self._dunning(entry)
        raise FatalError(self.client.source, f"unknown outbox entry kind {entry.kind!r}")

    def _hold(self, entry: Any) -> str:
        order_id = int(entry.target_id)
        p = entry.payload
        done = []
        if self.addon:
            [current] = self.client.read("sale.order", [order_id], ["credit_hold_key"]) or [{}]
            if current.get("credit_hold_key") != entry.key:
                self.client.write("sale.order", [order_id], {
                    "credit_hold": p["held"],
                    "credit_hold_reasons": "\n".join(r["message"] for r in p["reasons"]) or False,
                    "credit_hold_codes": ",".join(p["codes"]) or False,
                    "credit_release_tier": p["release_tier"] or False,
                    "credit_hold_since": p["since"][:19].replace("T", " ") if p["held"] else False,
                    "credit_hold_key": entry.key,
                })
                done.append("hold fields written")
        if self._post_once("sale.order", order_id, entry.key, self._hold_message(p)):
            done.append("message posted")
        if not self.addon:
            done.append(self._hold_activity(order_id, entry.key, p))
        return ", ".join(d for d in done if d) or "already applied"

    def _hold_message(self, p: dict[str, Any]) -> str:
        if p["held"]:
            lines = "".join(f"<li>{html.escape(r['message'])}</li>" for r in p["reasons"])
            tier = html.escape(p["release_tier"] or "a credit controller")
            mode = "" if self.addon else " (advisory: confirm only after the credit controller agrees)"
            exposure = html.escape(self._money(p["exposure"], p["currency"]))
            return (f"<p><b>Credit hold</b>{mode}: exposure {exposure}.</p>"
                    f"<ul>{lines}</ul><p>Release needs: {tier}.</p>")
        return "<p><b>Credit hold lifted</b>: the order is within the credit policy again.</p>"

    def _money(self, amount: str, currency: str) -> str:
        """``10,350,000.00 USD`` as the credit controller reads it: ``$10,350,000.00`` in English,
        ``10.350.000,00 $`` in German... (the controller's language in Odoo; English without one)."""
        from babel.core import UnknownLocaleError
        from babel.numbers import format_currency

        if self._lang is None:
            self._lang = "en_US"
            if self.controller_user_id:
                [user] = self.client.read("res.users", [self.controller_user_id], ["lang"]) or [{}]
                self._lang = user.get("lang") or "en_US"
        try:
            return format_currency(Decimal(amount), currency, locale=self._lang)
        except (UnknownLocaleError, ValueError):
            return format_currency(Decimal(amount), currency, locale="en_US")

    def _post_once(self, model: str, res_id: int, key: str, body: str) -> bool:
        tag = marker(key)
        # notes only: marking an activity done posts a notification quoting its note, and so its marker
        if self._marked("mail.message", [("model", "=", model), ("res_id", "=", res_id),
                                         ("message_type", "=", "comment")], "body", tag):
            return False
        self.client.call_method(model, "message_post", [res_id], body=f"{body}{hidden(tag)}",
                                message_type="comment", subtype_xmlid="mail.mt_note", body_is_html=True)
        return True

    def _marked(self, model: str, domain: list, field: str, text: str,
                pattern: re.Pattern[str] | None = None) -> list[dict[str, Any]]:
        """The records of ``domain`` whose ``field`` carries ``text`` — exactly: Odoo's ``ilike`` narrows the
        search (``_`` and ``%`` are wildcards to it, and case does not count), the exact test is made here,
        by ``pattern`` if given, else by ``text`` itself."""
        found = self.client.search_read(model, [*domain, (field, "ilike", text)], ["id", field])
        if pattern is None:
            pattern = re.compile(re.escape(text))
        return [r for r in found if pattern.search(html.unescape(r.get(field) or ""))]

    def _hold_activity(self, order_id: int, key: str, p: dict[str, Any]) -> str:
        """Advisory mode: one open To-Do for the credit controller while the order is held — the one of the
        hold's current revision — marked done when the hold is released or revised."""
        hold = key.rsplit(":r", 1)[0]  # source:hold:order, the same for every revision of the order's hold
        any_revision = f"[creditguard {hold}:r"  # marker(key) without the revision number and the bracket
        open_activities = self._marked("mail.activity", [("res_model", "=", "sale.order"), ("res_id", "=", order_id)],
                                       "note", any_revision, re.compile(re.escape(any_revision) + r"\d+\]"))
        current = [a for a in open_activities if marker(key) in html.unescape(a.get("note") or "")]
        done = []
        if p["held"] and not current:
            kwargs: dict[str, Any] = {
                "act_type_xmlid": TODO,
                "summary": f"Credit hold: {p['order']}",
                "note": f"<p>{html.escape('; '.join(r['message'] for r in p['reasons']))}</p>"
                        f"{hidden(marker(key))}",
            }
            if self.controller_user_id:
                kwargs["user_id"] = self.controller_user_id
            self.client.call_method("sale.order", "activity_schedule", [order_id], **kwargs)
            done.append("activity scheduled")
        stale = [a["id"] for a in open_activities if a not in current]
        if stale:
            self.client.call_method("mail.activity", "action_feedback", stale,
                                    feedback="Credit hold lifted by CreditGuard" if not p["held"] else
                                    "Credit hold revised by CreditGuard: see the newer To-Do")
            done.append("activity done")
        return ", ".join(done)

    # ------------------------------------------------------------------- alerts

    def _alert(self, entry: Any) -> str:
        """An alert on the invoice (ageing, insurer deadline): an activity and/or a chatter note, each once."""
        move_id = int(entry.target_id)
        p = entry.payload
        tag = marker(entry.key)
        done = []
        if p["action"] in ("activity", "both"):
            if not self._marked("mail.activity", [("res_model", "=", "account.move"), ("res_id", "=", move_id)],
                                "note", tag):
                kwargs: dict[str, Any] = {
                    "act_type_xmlid": p["activity_type"],
                    "summary": p["summary"][:200],
                    "note": f"<p>{html.escape(p['summary'])} (due {p['due_date']}).</p>"
                            f"{hidden(tag)}",
                    "date_deadline": p["deadline"],
                }
                if p.get("user_id"):
                    kwargs["user_id"] = p["user_id"]
                self.client.call_method("account.move", "activity_schedule", [move_id], **kwargs)
                done.append("activity scheduled")
        if p["action"] in ("message", "both"):
            title = html.escape(p.get("title", "Ageing alert"))  # insurer deadlines carry their own title
            body = f"<p><b>{title}</b>: {html.escape(p['summary'])} (due {p['due_date']}).</p>"
            if self._post_once("account.move", move_id, entry.key, body):
                done.append("message posted")
        return ", ".join(done) or "already applied"

    def _close_alert(self, entry: Any) -> str:
        """The invoice is paid: mark the alert's activity done (a done activity is never re-opened)."""
        move_id = int(entry.target_id)
        found = self._marked("mail.activity", [("res_model", "=", "account.move"), ("res_id", "=", move_id)], "note",
                             marker(entry.payload["alert_key"]))
        if not found:
            return "already closed"
        self.client.call_method("mail.activity", "action_feedback", [a["id"] for a in found],
                                feedback="Invoice paid: closed by CreditGuard")
        return f"{len(found)} activity done"

    # ------------------------------------------------------------------ dunning

    def _dunning(self, entry: Any) -> str:
        """A dunning step in the customer's chatter, once: an e-mail is posted as a comment to the partner (Odoo
        sends it to the customer), a letter as a note carrying the letter; the key, hidden in the body, is what a
        retry looks for first."""
        partner_id = int(entry.target_id)
        p = entry.payload
        tag = marker(entry.key)
        if self._marked("mail.message", [("model", "=", "res.partner"), ("res_id", "=", partner_id),
                                         ("message_type", "=", "comment")], "body", tag):
            return "already applied"
        email = p["channel"] == "email"
        kwargs: dict[str, Any] = {"body": f"{p['body']}{hidden(tag)}", "subject": p["subject"][:200],
                                  "message_type": "comment", "body_is_html": True,
                                  "subtype_xmlid": "mail.mt_comment" if email else "mail.mt_note"}
        if email:
            kwargs["partner_ids"] = [partner_id]
        # the letter itself, as a document of the customer's (Odoo files it with the partner's attachments)
        kwargs["attachments"] = [[attachment_name(p), p["body"]]]
        self.client.call_method("res.partner", "message_post", [partner_id], **kwargs)
        return f"{p['level_name']} posted ({p['channel']})"

    # -------------------------------------------------------------------- flags

    def _flag(self, entry: Any) -> str:
        partner_id = int(entry.target_id)
        p = entry.payload
        if self.addon:
            limit = Decimal(p["limit"]) if p["limit"] is not None else None
            values = {
                "credit_risk_flag": p["flag"],
                "credit_risk_grade": p["grade"] or 0,
                "credit_exposure": float(p["exposure"]),  # Odoo's Monetary fields travel as floats
                "credit_effective_limit": float(limit) if limit is not None else 0.0,
                "credit_headroom": float(limit - Decimal(p["exposure"])) if limit is not None else 0.0,
                "credit_evaluated_at": p["evaluated_at"][:19].replace("T", " "),
            }
            [current] = self.client.read("res.partner", [partner_id], list(values)) or [{}]
            if all(current.get(field) == value for field, value in values.items()):
                return "already applied"  # this entry's evaluation, written before (its time included)
            self.client.write("res.partner", [partner_id], values)
            return f"risk flag {p['flag']} written"
        tags = self._flag_tags()
        [current] = self.client.read("res.partner", [partner_id], ["category_id"]) or [{}]
        have = set(current.get("category_id") or [])
        wanted = tags[p["flag"]]
        commands = [[3, tags[f]] for f in tags if f != p["flag"] and tags[f] in have]
        if wanted not in have:
            commands.append([4, wanted])
        if not commands:
            return "already applied"
        self.client.write("res.partner", [partner_id], {"category_id": commands})
        return f"tag {FLAG_TAGS[p['flag']]!r} set"

    def _flag_tags(self) -> dict[str, int]:
        if not self._tags:
            found = self.client.search_read("res.partner.category", [("name", "in", list(FLAG_TAGS.values()))],
                                            ["id", "name"])
            by_name = {r["name"]: r["id"] for r in found}
            for flag, name in FLAG_TAGS.items():
                if name not in by_name:
                    by_name[name] = self.client.create("res.partner.category", {"name": name})
                self._tags[flag] = by_name[name]
        return self._tags
