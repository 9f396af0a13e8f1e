"""Chatter and activities, and the technical models they need.

* ``mail.message`` (+ ``mail.message.subtype``): ``message_post`` on the documents;
* ``mail.activity`` (+ ``mail.activity.type``): create/write/unlink, ``action_feedback``/``action_done``
  (17: the activity is deleted unless its type has ``keep_done``; 19: it is archived as done),
  ``activity_schedule`` on the documents;
* ``ir.model`` and ``ir.model.data`` (external ids such as ``mail.mail_activity_data_todo``).

``MailThread`` carries the methods of ``mail.thread`` / ``mail.activity.mixin``; ``res.partner``,
``sale.order`` and ``account.move`` inherit it.  Fixed ids are listed below (see ``fixtures.py``).
"""

from __future__ import annotations

import mimetypes

import html
import json
import re
from typing import Any

from . import access, writing
from .faults import ValidationError
from .orm import BaseModel, model_api, register

try:  # the assignee's time zone decides "today" of an activity, as in Odoo
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None  # type: ignore[assignment,misc]

#: ``mail.message.subtype``: id, xmlid name (module ``mail``), name, internal, default, sequence
SUBTYPES = [(1, "mt_comment", "Discussions", False, True, 0),
            (2, "mt_note", "Note", True, False, 100),
            (3, "mt_activities", "Activities", True, False, 90)]
SUBTYPE_NOTE, SUBTYPE_ACTIVITIES = 2, 3

#: ``mail.activity.type``: id, xmlid, name on 17, name on 19, icon, category, decoration, delay days, sequence,
#: res_model
ACTIVITY_TYPES = [
    (1, "mail.mail_activity_data_email", "Email", "Email", "fa-envelope", "default", None, 0, 3, None),
    (2, "mail.mail_activity_data_call", "Call", "Call", "fa-phone", "phonecall", None, 2, 6, None),
    (3, "mail.mail_activity_data_meeting", "Meeting", "Meeting", "fa-users", "default", None, 0, 9, None),
    (4, "mail.mail_activity_data_todo", "To-Do", "To-Do", "fa-check", "default", None, 5, 12, None),
    (5, "mail.mail_activity_data_upload_document", "Upload Document", "Document", "fa-upload", "upload_file",
     None, 0, 25, None),
    (6, "mail.mail_activity_data_warning", "Exception", "Exception", "fa-warning", "default", "warning", 0, 99, None),
    (7, "sale.mail_act_sale_upsell", "Order Upsell", "Order Upsell", "fa-line-chart", "default", None, 0, 20,
     "sale.order"),
]
TODO_TYPE = 4

#: ``ir.model`` ids (the same on 17 and 19; res.partner is 90 as in the 19 capture) and the module owning the
#: ``model_*`` external id.  Other models of the registry get ids from 500 on, in name order.
IR_MODELS = {
    "ir.model": (1, "base"), "ir.model.data": (29, "base"), "ir.module.module": (45, "base"),
    "res.country": (72, "base"), "res.currency": (83, "base"), "res.currency.rate": (84, "base"),
    "res.company": (85, "base"), "res.partner.category": (88, "base"), "res.partner": (90, "base"),
    "res.users": (93, "base"), "mail.message.subtype": (132, "mail"), "mail.message": (133, "mail"),
    "mail.activity.type": (150, "mail"), "mail.activity": (151, "mail"), "account.account": (230, "account"),
    "account.journal": (236, "account"), "account.payment.term": (245, "account"),
    "account.move": (256, "account"), "account.move.line": (257, "account"), "sale.order": (341, "sale"),
    "sale.order.line": (342, "sale"),
}
FIRST_OTHER_MODEL_ID = 500
MODULE_OF_PREFIX = {"mail": "mail", "account": "account", "sale": "sale"}

BLOCK_TAGS = re.compile(r"^\s*<(p|div|ul|ol|table|h[1-6]|blockquote|pre|section|header|footer|hr|br)\b", re.I)
UNSAFE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
TAG = re.compile(r"<[a-zA-Z][^>]*>")
UNSAFE_ATTRS = re.compile(r"\s+on[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)


# ---------------------------------------------------------------------------
# HTML bodies
# ---------------------------------------------------------------------------

def sanitize_html(value: Any) -> Any:
    """What Odoo's ``html_sanitize`` does to the values we meet: loose text and inline tags go into a ``<p>``,
    scripts and event handlers are dropped."""
    if value is None or value is False:
        return value
    text = str(value)
    if not text.strip():
        return ""
    text = TAG.sub(lambda tag: UNSAFE_ATTRS.sub("", tag.group(0)), UNSAFE.sub("", text))
    if not BLOCK_TAGS.match(text):
        text = f"<p>{text}</p>"
    return text


def plaintext_body(text: Any) -> str:
    """``message_post`` with a plain string: escaped, then sanitized (wrapped in ``<p>``)."""
    if not text:
        return ""
    return f"<p>{html.escape(str(text), quote=False)}</p>"


class HtmlSanitizing:
    """Html fields of the model are sanitized on create and write."""

    def _prepare_columns(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        columns, commands, related = super()._prepare_columns(vals)  # type: ignore[misc]
        for name in list(columns):
            if self._fields[name].type == "html":  # type: ignore[attr-defined]
                columns[name] = sanitize_html(columns[name])
        return columns, commands, related


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def user_today(model: BaseModel, tz: str | None) -> str:
    """``fields.Date.context_today`` for a user time zone (UTC without one)."""
    now = model.env.now()
    if tz and ZoneInfo is not None:
        try:
            now = now.astimezone(ZoneInfo(tz))
        except Exception:  # unknown zone: Odoo falls back to UTC as well
            pass
    return now.strftime("%Y-%m-%d")


def users_tz(model: BaseModel) -> dict[int, str | None]:
    return dict(model._sql('SELECT u."id", p."tz" FROM "res_users" u LEFT JOIN "res_partner" p '
                           'ON p."id" = u."partner_id"'))


def xmlid_to_res_id(model: BaseModel, xmlid: str) -> tuple[str, int] | None:
    module, _dot, name = xmlid.partition(".")
    rows = model._sql('SELECT "model", "res_id" FROM "ir_model_data" WHERE "module" = ? AND "name" = ?',
                      [module, name])
    return (rows[0][0], rows[0][1]) if rows else None


def ir_model_id(model: BaseModel, name: str) -> int | None:
    rows = model._sql('SELECT "id" FROM "ir_model" WHERE "model" = ?', [name])
    return rows[0][0] if rows else None


def thread_models(model: BaseModel) -> list[str]:
    return [name for name, cls in model.env.registry.classes.items() if issubclass(cls, MailThread)]


def record_name_sql(model: BaseModel, model_expr: str, id_expr: str) -> str:
    """Display name of the document ``(model_expr, id_expr)`` of a message or an activity."""
    whens = []
    for name in thread_models(model):
        other = model.env[name]
        alias = f"rn_{other._table}"[:40]
        whens.append(f"WHEN '{name}' THEN (SELECT {other._display_name_sql(alias)} FROM \"{other._table}\" "
                     f"{alias} WHERE {alias}.\"id\" = {id_expr})")
    if not whens:
        return "NULL"
    return f"(CASE {model_expr} {' '.join(whens)} ELSE NULL END)"


def singleton_error(records: BaseModel) -> ValueError:
    return ValueError(f"Expected singleton: {records._name}{tuple(records.ids)!r}")


def user_partner(model: BaseModel) -> tuple[int | None, str | None, str | None]:
    """(partner id, name, email) of the calling user."""
    rows = model._sql('SELECT p."id", p."name", p."email" FROM "res_users" u JOIN "res_partner" p '
                      'ON p."id" = u."partner_id" WHERE u."id" = ?', [model.env.uid])
    return rows[0] if rows else (None, None, None)


# ---------------------------------------------------------------------------
# the documents: mail.thread + mail.activity.mixin
# ---------------------------------------------------------------------------

class MailThread:
    """``mail.thread`` and ``mail.activity.mixin`` of ``res.partner``, ``sale.order`` and ``account.move``."""

    # -- computed activity fields of the mixin -------------------------------
    def _first_activity_sql(self, column: str, alias: str) -> str:
        return (f'(SELECT a."{column}" FROM "mail_activity" a WHERE a."res_model" = \'{self._name}\' '  # type: ignore[attr-defined]
                f'AND a."res_id" = {alias}."id" AND a."active" = 1 ORDER BY a."date_deadline", a."id" LIMIT 1)')

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname in ("activity_date_deadline", "activity_user_id", "activity_type_id", "activity_summary"):
            column = {"activity_date_deadline": "date_deadline", "activity_user_id": "user_id",
                      "activity_type_id": "activity_type_id", "activity_summary": "summary"}[fname]
            return self._first_activity_sql(column, alias)
        if fname == "activity_state":
            state = self.env["mail.activity"]._state_sql("a")  # type: ignore[attr-defined]
            return (f"(SELECT CASE WHEN SUM(s = 'overdue') THEN 'overdue' WHEN SUM(s = 'today') THEN 'today' "
                    f"WHEN COUNT(*) THEN 'planned' END FROM (SELECT {state} AS s FROM \"mail_activity\" a "
                    f"WHERE a.\"res_model\" = '{self._name}' AND a.\"res_id\" = {alias}.\"id\" "  # type: ignore[attr-defined]
                    f"AND a.\"active\" = 1))")
        if fname in ("message_needaction", "message_has_error", "message_is_follower", "message_has_sms_error",
                     "has_message"):
            if fname == "has_message":
                return (f'EXISTS(SELECT 1 FROM "mail_message" m WHERE m."model" = \'{self._name}\' '  # type: ignore[attr-defined]
                        f'AND m."res_id" = {alias}."id")')
            return "0"
        return super()._computed_sql(fname, alias)  # type: ignore[misc]

    def _delete(self) -> None:
        """``mail.thread.unlink``: the messages and activities of the documents go with them."""
        ids = json.dumps(self.ids)  # type: ignore[attr-defined]
        for comodel, column in (("mail.message", "model"), ("mail.activity", "res_model")):
            records = self.env[comodel]  # type: ignore[attr-defined]
            linked = [row[0] for row in records._sql(
                f'SELECT "id" FROM "{records._table}" WHERE "{column}" = ? '
                f'AND "res_id" IN (SELECT value FROM json_each(?))', [self._name, ids])]  # type: ignore[attr-defined]
            if linked:
                records._browse(linked)._delete()
        super()._delete()  # type: ignore[misc]

    def _check_post_access(self) -> None:
        self._ensure_exist()  # type: ignore[attr-defined]
        access.check_model(self, "write")  # type: ignore[arg-type]
        access.check_records(self, self.ids, "write")  # type: ignore[arg-type,attr-defined]

    # -- chatter -------------------------------------------------------------
    def message_post(self, *, body="", subject=None, message_type="notification", email_from=None, author_id=None,
                     parent_id=False, subtype_xmlid=None, subtype_id=False, partner_ids=None, attachments=None,
                     attachment_ids=None, body_is_html=False, **kwargs):
        """Post a message on one document; 17 answers the message id, 19 a one-id list (no ``api.returns``)."""
        if len(self.ids) != 1:  # type: ignore[attr-defined]
            raise singleton_error(self)  # type: ignore[arg-type]
        forbidden = sorted(set(kwargs) & {"model", "res_id", "subtype"})
        if forbidden:
            raise ValueError(f"Those values are not supported as options when posting or notifying: "
                             f"{', '.join(forbidden)}")
        if message_type == "user_notification":
            raise ValueError("Use message_notify to send a notification to an user.")
        self._check_post_access()
        if not subtype_id:
            xmlid = subtype_xmlid or "mail.mt_note"
            if "." not in xmlid:
                xmlid = f"mail.{xmlid}"
            found = xmlid_to_res_id(self, xmlid)  # type: ignore[arg-type]
            if found is None:
                raise ValueError(f"External ID not found in the system: {xmlid}")
            subtype_id = found[1]
        if isinstance(body, str) and body and not body_is_html:
            body = plaintext_body(body)
        extra = {key: kwargs[key] for key in ("outgoing_email_to", "incoming_email_to", "incoming_email_cc",
                                             "email_add_signature", "reply_to", "mail_activity_type_id")
                 if kwargs.get(key) and key in self.env["mail.message"]._fields}  # type: ignore[attr-defined]
        attachment_ids = list(attachment_ids or []) + self._post_attachments(attachments)
        message_id = self._post(body=body or "", subject=subject, message_type=message_type,
                                email_from=email_from, author_id=author_id, parent_id=parent_id,
                                subtype_id=subtype_id, partner_ids=partner_ids, attachment_ids=attachment_ids,
                                **extra)
        if self.env.version == "17":  # type: ignore[attr-defined]
            return message_id  # @api.returns('mail.message', lambda value: value.id)
        return self.env["mail.message"]._browse([message_id])  # type: ignore[attr-defined]

    def _post_attachments(self, attachments: Any) -> list[int]:
        """``_process_attachments_for_post``: each ``(name, content[, info])`` becomes an ``ir.attachment`` of the
        document posted on (text content encoded in UTF-8 unless ``info`` names another encoding)."""
        created = []
        for attachment in attachments or ():
            if not isinstance(attachment, (list, tuple)) or len(attachment) not in (2, 3):
                raise ValueError("attachments: expected (name, content) or (name, content, info) pairs")
            name, content = attachment[0], attachment[1]
            info = attachment[2] if len(attachment) == 3 and isinstance(attachment[2], dict) else {}
            if isinstance(content, str):
                content = content.encode(info.get("encoding") or "utf-8")
            mimetype = mimetypes.guess_type(str(name))[0] or None
            created.append(self.env["ir.attachment"]._create_one({  # type: ignore[attr-defined]
                "name": str(name), "raw": content, "res_model": self._name, "res_id": self.ids[0],  # type: ignore[attr-defined]
                **({"mimetype": mimetype} if mimetype else {})}))
        return created

    def _post(self, *, body: str, message_type: str, subtype_id: int, author_id: Any = None,
              email_from: Any = None, subject: Any = None, parent_id: Any = False, partner_ids: Any = None,
              attachment_ids: Any = None, **extra: Any) -> int:
        """Create the ``mail.message`` of a post (no access checks)."""
        partner, name, email = user_partner(self)  # type: ignore[arg-type]
        if not author_id:
            author_id = partner
        if not email_from:
            email_from = f'"{name}" <{email}>' if email else False
        vals: dict[str, Any] = {
            "model": self._name, "res_id": self.ids[0], "body": body, "message_type": message_type,  # type: ignore[attr-defined]
            "subtype_id": subtype_id, "author_id": author_id, "email_from": email_from,
            "subject": subject or False, "parent_id": parent_id or False, **extra,
        }
        if partner_ids:
            vals["partner_ids"] = [(6, 0, [int(p) for p in partner_ids])]
        if attachment_ids:
            vals["attachment_ids"] = [(6, 0, [int(a) for a in attachment_ids])]
        return self.env["mail.message"]._create_one(vals)  # type: ignore[attr-defined]

    # -- activities -------------------------------------------------------------
    def _default_activity_type(self) -> int | None:
        """``mail.activity.mixin._default_activity_type``: To-Do, else a type of the model, else a generic one."""
        types = self.env["mail.activity.type"]  # type: ignore[attr-defined]
        rows = types._sql('SELECT "id" FROM "mail_activity_type" WHERE "id" = ? AND "active" = 1 '
                          'AND ("res_model" IS NULL OR "res_model" = ?)', [TODO_TYPE, self._name])  # type: ignore[attr-defined]
        if rows:
            return rows[0][0]
        for where in ('"res_model" = ?', '"res_model" IS NULL'):
            params = [self._name] if "?" in where else []  # type: ignore[attr-defined]
            rows = types._sql(f'SELECT "id" FROM "mail_activity_type" WHERE {where} AND "active" = 1 '
                              f'ORDER BY "sequence", "id" LIMIT 1', params)
            if rows:
                return rows[0][0]
        return None

    def activity_schedule(self, act_type_xmlid="", date_deadline=None, summary="", note="", **act_values):
        """Schedule an activity on each document; returns the new activities."""
        if self.env.context.get("mail_activity_automation_skip"):  # type: ignore[attr-defined]
            return False
        self._ensure_exist()  # type: ignore[attr-defined]
        if not date_deadline:
            date_deadline = user_today(self, users_tz(self).get(self.env.uid))  # type: ignore[arg-type,attr-defined]
        type_id = None
        if act_type_xmlid:
            found = xmlid_to_res_id(self, act_type_xmlid)  # type: ignore[arg-type]
            type_id = found[1] if found and found[0] == "mail.activity.type" else self._default_activity_type()
        else:
            type_id = act_values.get("activity_type_id") or self._default_activity_type()
        type_row = self._sql('SELECT "summary", "default_note", "default_user_id" FROM "mail_activity_type" '  # type: ignore[attr-defined]
                             'WHERE "id" = ?', [type_id]) if type_id else []
        type_summary, type_note, type_user = type_row[0] if type_row else (None, None, None)
        model_id = ir_model_id(self, self._name)  # type: ignore[arg-type,attr-defined]
        activities = self.env["mail.activity"]  # type: ignore[attr-defined]
        created = []
        for record_id in self.ids:  # type: ignore[attr-defined]
            vals = {"activity_type_id": type_id or False, "summary": summary or type_summary or False,
                    "automated": True, "note": note or type_note or False, "date_deadline": date_deadline,
                    "res_model_id": model_id, "res_id": record_id}
            vals.update(act_values)
            if not vals.get("user_id"):
                vals["user_id"] = type_user or self.env.uid  # type: ignore[attr-defined]
            created.append(vals)
        return activities._browse(activities.create(created))

    def _activities_of(self, act_type_xmlids: Any, user_id: Any = None, only_automated: bool = False) -> BaseModel:
        if isinstance(act_type_xmlids, str):
            act_type_xmlids = [act_type_xmlids]
        type_ids = [found[1] for found in (xmlid_to_res_id(self, x) for x in act_type_xmlids or []) if found]  # type: ignore[arg-type]
        domain: list = [("res_model", "=", self._name), ("res_id", "in", self.ids),  # type: ignore[attr-defined]
                        ("activity_type_id", "in", type_ids)]
        if user_id:
            domain.append(("user_id", "=", user_id))
        if only_automated:
            domain.append(("automated", "=", True))
        activities = self.env["mail.activity"]  # type: ignore[attr-defined]
        return activities._browse(activities._search_ids(domain))

    def activity_feedback(self, act_type_xmlids, user_id=None, feedback=None, attachment_ids=None):
        activities = self._activities_of(act_type_xmlids, user_id)
        if activities.ids:
            activities.action_feedback(feedback=feedback, attachment_ids=attachment_ids)  # type: ignore[attr-defined]
        return True

    def activity_unlink(self, act_type_xmlids, user_id=None, only_automated=True):
        activities = self._activities_of(act_type_xmlids, user_id, only_automated)
        if activities.ids:
            activities.unlink()
        return True


# ---------------------------------------------------------------------------
# mail.message, mail.message.subtype
# ---------------------------------------------------------------------------

@register
class MailMessage(HtmlSanitizing, BaseModel):
    _name = "mail.message"
    _description = "Message"
    _order = "id desc"
    _rec_name_field = "record_name"
    _res_model_field = "model"
    _portal = "own"
    _indexes = (("model", "res_id"), "author_id")

    def _portal_rule_sql(self, alias: str) -> str:
        partner = int(self.env.user["partner_id"] or 0)
        return f'{alias}."author_id" = {partner}'

    def _display_name_sql(self, alias: str) -> str:
        record_name = self._value_sql("record_name", alias)
        if self.env.version == "19":
            return f"COALESCE(NULLIF({alias}.\"subject\", ''), {record_name}, '')"
        return f"COALESCE({record_name}, '')"

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "record_name" and not self._fields[fname].store:
            return record_name_sql(self, f'{alias}."model"', f'{alias}."res_id"')
        if fname in ("needaction", "starred", "has_error", "has_sms_error", "snailmail_error"):
            return "0"
        if fname == "is_current_user_or_guest_author":
            partner = int(self.env.user["partner_id"] or 0)
            return f'({alias}."author_id" = {partner})'
        return super()._computed_sql(fname, alias)

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        partner, _name, _email = user_partner(self)
        defaults.update(message_type="email", date=self.env.now_str(), author_id=partner, body="")
        if "is_internal" in self._fields:
            defaults["is_internal"] = False
        return defaults

    def _prepare_create(self, columns: dict[str, Any], vals: dict[str, Any]) -> dict[str, Any]:
        model, res_id = columns.get("model"), columns.get("res_id")
        if model and res_id and model in self.env.registry:
            document = self.env[model]
            if self._fields["record_name"].store and not columns.get("record_name"):
                columns["record_name"] = self._display_names(model, [res_id]).get(res_id) or None
            if "record_company_id" in self._fields and not columns.get("record_company_id"):
                field = document._fields.get("company_id")
                if field is not None and field.has_column:
                    row = document._sql(f'SELECT "company_id" FROM "{document._table}" WHERE "id" = ?', [res_id])
                    columns["record_company_id"] = row[0][0] if row else None
        if not columns.get("message_id"):
            stamp = int(self.env.now().timestamp())
            columns["message_id"] = f"<{stamp}.{res_id or 0}-openerp-{res_id or 0}-{model or 'mail'}@sandbox>"
        return columns


@register
class MailMessageSubtype(BaseModel):
    _name = "mail.message.subtype"
    _description = "Message subtypes"
    _order = "sequence, id"
    _portal = "all"
    _indexes = ()


# ---------------------------------------------------------------------------
# mail.activity, mail.activity.type
# ---------------------------------------------------------------------------

@register
class MailActivityType(HtmlSanitizing, BaseModel):
    _name = "mail.activity.type"
    _description = "Activity Type"
    _order = "sequence, id"
    _portal = "all"
    _indexes = ()

    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        defaults.update(sequence=10, delay_count=0, delay_unit="days", delay_from="previous_activity",
                        category="default", chaining_type="suggest")
        if "keep_done" in self._fields:
            defaults["keep_done"] = False
        return defaults

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "initial_res_model":
            return f'{alias}."res_model"'
        if fname == "delay_label":
            return (f"(CAST({alias}.\"delay_count\" AS TEXT) || ' ' || COALESCE({alias}.\"delay_unit\", 'days'))")
        return super()._computed_sql(fname, alias)


@register
class MailActivity(HtmlSanitizing, BaseModel):
    _name = "mail.activity"
    _description = "Activity"
    _order = "date_deadline ASC, id ASC"
    _rec_name_field = "summary"
    _res_model_field = "res_model"
    _portal = None
    _indexes = (("res_model", "res_id"), "user_id", "date_deadline")

    def _display_name_sql(self, alias: str) -> str:
        return (f"COALESCE(NULLIF({alias}.\"summary\", ''), (SELECT t.\"name\" FROM \"mail_activity_type\" t "
                f"WHERE t.\"id\" = {alias}.\"activity_type_id\"), '')")

    def _state_sql(self, alias: str) -> str:
        """``_compute_state``: done when archived, else the deadline against today in the assignee's time zone."""
        utc = user_today(self, None)
        whens = " ".join(f"WHEN {int(uid)} THEN '{user_today(self, tz)}'" for uid, tz in users_tz(self).items()
                         if tz and user_today(self, tz) != utc)
        today = f"(CASE {alias}.\"user_id\" {whens} ELSE '{utc}' END)" if whens else f"'{utc}'"
        return (f"(CASE WHEN COALESCE({alias}.\"active\", 1) = 0 THEN 'done' "
                f"WHEN {alias}.\"date_deadline\" IS NULL THEN NULL "
                f"WHEN {alias}.\"date_deadline\" < {today} THEN 'overdue' "
                f"WHEN {alias}.\"date_deadline\" = {today} THEN 'today' ELSE 'planned' END)")

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "state":
            return self._state_sql(alias)
        if fname == "can_write":
            return "1"
        if fname == "has_recommended_activities":
            return "0"
        return super()._computed_sql(fname, alias)

    # -- create / write -----------------------------------------------------
    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        defaults = super()._defaults(vals)
        defaults.update(user_id=self.env.uid, date_deadline=user_today(self, users_tz(self).get(self.env.uid)),
                        automated=False)
        return defaults

    def _prepare_columns(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        # ``res_model`` is a read-only related field (res_model_id.model): a value given for it is not kept
        vals = {k: v for k, v in vals.items() if k not in ("res_model", "res_name", "state", "user_tz")}
        columns, commands, related = super()._prepare_columns(vals)
        return columns, commands, related

    def _prepare_create(self, columns: dict[str, Any], vals: dict[str, Any]) -> dict[str, Any]:
        self._fill_document(columns)
        return columns

    def _fill_document(self, columns: dict[str, Any]) -> None:
        """The stored computed fields ``res_model``, ``res_name`` (and 19's ``user_tz``)."""
        model_id = columns.get("res_model_id")
        rows = self._sql('SELECT "model" FROM "ir_model" WHERE "id" = ?', [model_id]) if model_id else []
        columns["res_model"] = rows[0][0] if rows else None
        model, res_id = columns["res_model"], columns.get("res_id")
        if model and res_id and model in self.env.registry:
            columns["res_name"] = self._display_names(model, [res_id]).get(res_id) or None
        else:
            columns["res_name"] = None
        if "user_tz" in self._fields:
            columns["user_tz"] = users_tz(self).get(columns.get("user_id") or 0)

    def _check_write(self, columns: dict[str, Any], vals: dict[str, Any]) -> None:
        if {"res_model_id", "res_id", "user_id"} & set(columns):
            rows = self._sql('SELECT "id", "res_model_id", "res_id", "user_id" FROM "mail_activity" '
                             'WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])
            for activity_id, model_id, res_id, user_id in rows:
                current = {"res_model_id": model_id, "res_id": res_id, "user_id": user_id}
                current.update({k: v for k, v in columns.items() if k in current})
                self._fill_document(current)
                self._browse([activity_id])._write_columns(
                    {k: current[k] for k in ("res_model", "res_name", "user_tz") if k in current}, touch=False)

    def _after_change(self, fnames: set[str], created: bool = False) -> None:
        """The SQL constraints of ``mail.activity`` and the document access checks, after the INSERT/UPDATE."""
        if not (created or {"res_model_id", "res_id", "user_id"} & fnames):
            return
        rows = self._sql('SELECT "id", "res_model_id", "res_model", "res_id", "user_id", "date_deadline" '
                         'FROM "mail_activity" WHERE "id" IN (SELECT value FROM json_each(?))', [json.dumps(self.ids)])
        for _id, model_id, res_model, res_id, user_id, deadline in rows:
            if self.env.version == "17":
                writing.check_required(self, {"res_model_id": model_id, "user_id": user_id,
                                              "date_deadline": deadline})
                if not res_id:
                    raise ValidationError("The operation cannot be completed: Activities have to be linked to "
                                          "records with a not null res_id.")
            else:
                if bool(res_model) != bool(res_id):
                    raise ValidationError("The operation cannot be completed: Activities have to be linked to "
                                          "records with a not null res_id.")
                if not res_model and not user_id:
                    raise ValidationError("The operation cannot be completed: Activities must be assigned if "
                                          "not attached to a document.")
            if res_model and res_id and res_model in self.env.registry:
                document = self.env[res_model]._browse([res_id])
                document._ensure_exist()
                access.check_records(document, [res_id], "write")

    # -- done ---------------------------------------------------------------------
    def _activity_rows(self) -> list[dict[str, Any]]:
        self._ensure_exist()
        access.check_model(self, "write")
        return self._read_rows(self.ids, ["res_model", "res_id", "activity_type_id", "summary", "note", "user_id",
                                          "active"])

    def _done_body(self, activity: dict[str, Any], feedback: Any) -> str:
        """The ``mail.message_activity_done`` template (simplified)."""
        type_id = activity["activity_type_id"][0] if activity["activity_type_id"] else None
        type_row = self._sql('SELECT "name", "icon" FROM "mail_activity_type" WHERE "id" = ?', [type_id]) \
            if type_id else []
        type_name, icon = type_row[0] if type_row else ("", "")
        parts = [f'<p><span class="fa {html.escape(icon or "fa-tasks")} fa-fw"></span>'
                 f'<span>{html.escape(type_name or "")}</span> done']
        assignee = activity["user_id"]
        if assignee and assignee[0] != self.env.uid:
            parts.append(f" (originally assigned to <span>{html.escape(assignee[1])}</span>)")
        if activity["summary"]:
            parts.append(f"<span>: </span><span>{html.escape(activity['summary'])}</span>")
        parts.append("</p>")
        if activity["note"]:
            parts.append(f'<div class="o_mail_note_title"><strong>Original note:</strong></div>'
                         f"<div>{activity['note']}</div>")
        if feedback:
            lines = "<br>".join(html.escape(line) for line in str(feedback).split("\n"))
            parts.append(f'<div class="fw-bold">Feedback:</div>{lines}')
        return f"<div>{''.join(parts)}</div>"

    def _action_done(self, feedback: Any = False, attachment_ids: Any = None) -> list[int]:
        activities = self._activity_rows()
        messages = []
        for activity in activities:
            model, res_id = activity["res_model"], activity["res_id"]
            if model and res_id and model in self.env.registry:
                document = self.env[model]._browse([res_id])
                if isinstance(document, MailThread):
                    messages.append(document._post(
                        body=self._done_body(activity, feedback), message_type="notification",
                        subtype_id=SUBTYPE_ACTIVITIES, attachment_ids=attachment_ids,
                        mail_activity_type_id=activity["activity_type_id"][0] if activity["activity_type_id"]
                        else False))
        ids = [a["id"] for a in activities]
        today = user_today(self, users_tz(self).get(self.env.uid))
        if self.env.version == "19":
            self._browse(ids)._write_columns({"active": False, "date_done": today, "feedback": feedback or None})
        else:
            keep = [row[0] for row in self._sql(
                'SELECT a."id" FROM "mail_activity" a JOIN "mail_activity_type" t ON t."id" = a."activity_type_id" '
                'WHERE t."keep_done" = 1 AND a."id" IN (SELECT value FROM json_each(?))', [json.dumps(ids)])]
            if keep:
                self._browse(keep)._write_columns({"active": False, "date_done": today})
            gone = [i for i in ids if i not in keep]
            if gone:
                self._browse(gone)._delete()
        return messages

    def action_feedback(self, feedback=False, attachment_ids=None):
        """Mark as done with a feedback; returns the id of the first message posted (or False)."""
        messages = self._action_done(feedback=feedback, attachment_ids=attachment_ids)
        return messages[0] if messages else False

    def action_done(self):
        messages = self._action_done()
        return messages[0] if messages else False


# ---------------------------------------------------------------------------
# ir.model, ir.model.data
# ---------------------------------------------------------------------------

@register
class IrModel(BaseModel):
    _name = "ir.model"
    _description = "Models"
    _order = "model"
    _portal = None
    _indexes = ("model",)

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "modules":
            return (f'(SELECT d."module" FROM "ir_model_data" d WHERE d."model" = \'ir.model\' '
                    f'AND d."res_id" = {alias}."id" LIMIT 1)')
        return super()._computed_sql(fname, alias)


@register
class IrModelData(BaseModel):
    _name = "ir.model.data"
    _description = "Model Data"
    _order = "module, model, name"
    _rec_name_field = "complete_name"
    _portal = None
    _indexes = (("module", "name"), ("model", "res_id"))

    def _display_name_sql(self, alias: str) -> str:
        return f"(COALESCE({alias}.\"module\", '') || '.' || COALESCE({alias}.\"name\", ''))"

    def _computed_sql(self, fname: str, alias: str) -> str | None:
        if fname == "complete_name":
            return self._display_name_sql(alias)
        if fname == "reference":
            return f"({alias}.\"model\" || ',' || {alias}.\"res_id\")"
        return super()._computed_sql(fname, alias)

    @model_api
    def check_object_reference(self, module, xml_id, raise_on_access_error=False):
        """``(model, res_id)`` of an external id; ``ValueError`` when it does not exist."""
        found = xmlid_to_res_id(self, f"{module}.{xml_id}")
        if found is None:
            raise ValueError(f"External ID not found in the system: {module}.{xml_id}")
        return list(found)


def activity_type_rows(version: str) -> list[dict[str, Any]]:
    rows = []
    for type_id, _xmlid, name17, name19, icon, category, decoration, delay, sequence, res_model in ACTIVITY_TYPES:
        row = {"id": type_id, "name": name17 if version == "17" else name19, "icon": icon, "category": category,
               "decoration_type": decoration, "delay_count": delay, "delay_unit": "days",
               "delay_from": "previous_activity", "sequence": sequence, "res_model": res_model, "active": 1,
               "chaining_type": "suggest"}
        if version == "17":
            row["keep_done"] = 0
        rows.append(row)
    return rows


def model_rows(models: list[str], descriptions: dict[str, str], threads: set[str]) -> list[dict[str, Any]]:
    """``ir.model`` rows: the fixed ids above, then 500... for the other models."""
    rows, next_id = [], FIRST_OTHER_MODEL_ID
    for name in sorted(models):
        fixed = IR_MODELS.get(name)
        if fixed:
            model_id, module = fixed
        else:
            model_id, next_id = next_id, next_id + 1
            module = MODULE_OF_PREFIX.get(name.split(".", 1)[0], "base")
        rows.append({"id": model_id, "model": name, "name": descriptions.get(name) or name, "order": "id",
                     "state": "base", "transient": 0, "is_mail_thread": int(name in threads),
                     "is_mail_activity": int(name in threads), "is_mail_blacklist": int(name == "res.partner"),
                     "module": module})
    return rows
