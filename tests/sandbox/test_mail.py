"""Chatter, activities, partner tags and external ids, over real sockets (api_probe.json and DIFF.md §5)."""

from __future__ import annotations

import json
import xmlrpc.client
from pathlib import Path
from typing import Any

import pytest

from .conftest import DB, START, Client

FIELDS = Path(__file__).resolve().parents[2] / "adapters" / "odoo" / "sandbox" / "fields"
TODAY = START.date().isoformat()
PARTNER, ORDER = 10, 4
NOT_NULL_RES_ID = "The operation cannot be completed: Activities have to be linked to records with a not null res_id."


def fault(call, *args: Any, **kwargs: Any) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call(*args, **kwargs)
    return info.value


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def json2_error(response, status: int, name: str, message: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["name"], body["message"], body["arguments"]) == (name, message, [message])


# ---------------------------------------------------------------- message_post


def test_message_post_17_returns_the_message_id(fresh) -> None:
    """17: ``message_post`` carries ``@api.returns('mail.message', lambda value: value.id)``: a bare id."""
    sb, client, clock = fresh("17")
    before = client.execute("res.partner", "read", [PARTNER], ["write_date"])[0]["write_date"]
    clock.advance(minutes=5)
    message_id = client.execute("res.partner", "message_post", [PARTNER], body="Credit check: <b>on hold</b>",
                                message_type="comment", subtype_xmlid="mail.mt_note")
    assert isinstance(message_id, int)
    [message] = client.execute("mail.message", "read", [message_id],
                               ["author_id", "body", "message_type", "model", "res_id", "subtype_id", "record_name",
                                "date", "email_from"])
    assert message == {
        "id": message_id, "author_id": [3, "YourCompany, Mitchell Admin"],
        "body": "<p>Credit check: &lt;b&gt;on hold&lt;/b&gt;</p>", "message_type": "comment",
        "model": "res.partner", "res_id": PARTNER, "subtype_id": [2, "Note"], "record_name": "Acme Corporation",
        "date": "2026-11-28 12:05:00", "email_from": '"Mitchell Admin" <admin@yourcompany.example.com>'}
    # posting is not a write of the document; the message is in its chatter (newest first)
    after = client.execute("res.partner", "read", [PARTNER], ["write_date", "message_ids"])[0]
    assert after["write_date"] == before and after["message_ids"][0] == message_id
    # JSON-RPC answers the same bare id
    response = client.jsonrpc("object", "execute_kw", DB, 2, "admin", "sale.order", "message_post", [ORDER],
                              {"body": "via jsonrpc", "message_type": "comment", "subtype_xmlid": "mail.mt_note"})
    assert response.json()["result"] == message_id + 1
    # record_name is stored on 17: searchable
    assert client.execute("mail.message", "search", [("record_name", "=", "Acme Corporation")]) == [message_id]


def test_message_post_19_json2_and_xmlrpc_like_the_probe(fresh) -> None:
    sb, client, _clock = fresh("19")
    response = client.json2("res.partner", "message_post", {
        "ids": [PARTNER], "body": "Credit check: <b>on hold</b>", "message_type": "comment",
        "subtype_xmlid": "mail.mt_note"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json; charset=utf-8"
    [note] = response.json()
    read = client.json2("mail.message", "read", {"ids": [note], "fields": [
        "author_id", "body", "message_type", "model", "res_id", "subtype_id"]})
    assert read.json() == [{"author_id": [3, "YourCompany, Mitchell Admin"],
                            "body": "<p>Credit check: &lt;b&gt;on hold&lt;/b&gt;</p>", "id": note,
                            "message_type": "comment", "model": "res.partner", "res_id": PARTNER,
                            "subtype_id": [2, "Note"]}]
    html = client.json2("res.partner", "message_post", {
        "ids": [PARTNER], "body": "<p>Credit check: <b>on hold</b></p>", "body_is_html": True,
        "message_type": "comment", "subtype_xmlid": "mail.mt_note"}).json()
    assert html == [note + 1]
    assert client.json2("mail.message", "read", {"ids": html, "fields": ["body"]}).json() == [
        {"body": "<p>Credit check: <b>on hold</b></p>", "id": note + 1}]
    via_xmlrpc = client.execute("res.partner", "message_post", [PARTNER], body="via xmlrpc", message_type="comment",
                                subtype_xmlid="mail.mt_note")
    assert via_xmlrpc == [note + 2]
    # 19: record_name is computed, not stored, not searchable
    assert client.execute("mail.message", "read", via_xmlrpc, ["record_name"])[0]["record_name"] == "Acme Corporation"
    assert client.execute("mail.message", "fields_get", ["record_name"], attributes=["store", "searchable"]) == {
        "record_name": {"store": False, "searchable": False}}
    error = fault(client.execute, "mail.message", "search", [("record_name", "=", "Acme Corporation")])
    assert error.faultCode == 1 and last_line(error.faultString) == (
        "ValueError: Cannot convert mail.message.record_name to SQL because it is not stored")


@pytest.mark.parametrize(("body", "is_html", "stored"), [
    ("a < b & c > d", False, "<p>a &lt; b &amp; c &gt; d</p>"),
    ('say "hi" <script>x()</script>', False, '<p>say "hi" &lt;script&gt;x()&lt;/script&gt;</p>'),
    ("<b>bold</b> text", True, "<p><b>bold</b> text</p>"),
    ("<div>ok<script>x()</script></div>", True, "<div>ok</div>"),
    ('<p onclick="x()">ok onclick=1</p>', True, "<p>ok onclick=1</p>"),
    ("plain onclick=1\nsecond line", False, "<p>plain onclick=1\nsecond line</p>"),
    ("", False, ""),
])
def test_body_escaping(c17: Client, body: str, is_html: bool, stored: str) -> None:
    """Plain strings are escaped and wrapped in ``<p>``; ``body_is_html`` keeps (sanitized) HTML."""
    sb = c17.sb
    message_id = sb.call("res.partner", "message_post", [11], body=body, body_is_html=is_html,
                         message_type="comment", subtype_xmlid="mail.mt_note")
    assert sb.search_read("mail.message", [("id", "=", message_id)], ["body"])[0]["body"] == stored
    sb.delete("mail.message", message_id)


def test_message_post_on_orders_and_invoices_and_finding_it_again(fresh) -> None:
    sb, client, _clock = fresh("17")
    invoice = client.execute("account.move", "search", [("move_type", "=", "out_invoice"), ("state", "=", "posted")],
                             limit=1)[0]
    marker = "[creditguard hold:S00004:r1]"
    order_note = client.execute("sale.order", "message_post", [ORDER], body=f"<p>Credit hold</p><p>{marker}</p>",
                                body_is_html=True, message_type="comment", subtype_xmlid="mail.mt_note",
                                partner_ids=[3])
    invoice_note = client.execute("account.move", "message_post", [invoice], body="Reminder sent")
    assert client.execute("mail.message", "search_count", [("model", "=", "sale.order"), ("res_id", "=", ORDER),
                                                           ("body", "ilike", marker)]) == 1
    rows = client.execute("mail.message", "read", [order_note, invoice_note],
                          ["model", "partner_ids", "subtype_id", "message_type", "record_company_id"])
    assert rows[0]["model"] == "sale.order" and rows[0]["partner_ids"] == [3]
    # defaults of message_post: a "notification" with the Note subtype
    assert rows[1]["model"] == "account.move" and rows[1]["message_type"] == "notification"
    assert rows[1]["subtype_id"] == [2, "Note"] and rows[1]["record_company_id"]
    assert client.execute("sale.order", "read", [ORDER], ["message_ids"])[0]["message_ids"] == [order_note]
    # unlinking a document takes its chatter with it
    draft = client.execute("sale.order", "create", {"partner_id": PARTNER})
    client.execute("sale.order", "message_post", [draft], body="to be deleted")
    client.execute("sale.order", "unlink", [draft])
    assert client.execute("mail.message", "search_count", [("model", "=", "sale.order"), ("res_id", "=", draft)]) == 0


def test_message_post_errors(c17: Client, c19: Client) -> None:
    error = fault(c17.execute, "res.partner", "message_post", [10, 11], body="x")
    assert error.faultCode == 1 and last_line(error.faultString) == "ValueError: Expected singleton: res.partner(10, 11)"
    error = fault(c17.execute, "res.partner", "message_post", [999999], body="x")
    assert (error.faultCode, error.faultString) == (
        2, "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)")
    error = fault(c17.execute, "res.partner", "message_post", [10], body="x", subtype_xmlid="mail.mt_nope")
    assert last_line(error.faultString) == "ValueError: External ID not found in the system: mail.mt_nope"
    error = fault(c17.execute, "account.move", "message_post", [1], body="x", uid=7, password="portal")
    assert error.faultCode == 4
    json2_error(c19.json2("res.partner", "message_post", {"ids": [999999], "body": "x"}), 404,
                "odoo.exceptions.MissingError",
                "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)")


@pytest.mark.parametrize("version", ["17", "19"])
def test_mail_fields_get_are_the_captured_ones(c17: Client, c19: Client, version: str) -> None:
    client = c17 if version == "17" else c19
    for model in ("mail.message", "mail.activity", "mail.activity.type", "res.partner.category", "ir.model.data"):
        captured = json.loads((FIELDS / version / f"{model}.json").read_text(encoding="utf-8"))
        assert client.execute(model, "fields_get", []) == captured, model


# ---------------------------------------------------------------- activities


def activity_vals(**overrides: Any) -> dict[str, Any]:
    vals = {"activity_type_id": 4, "date_deadline": "2030-01-31", "note": "<p>Exposure above limit</p>",
            "res_id": PARTNER, "res_model_id": 90, "summary": "Review credit", "user_id": 2}
    vals.update(overrides)
    return vals


def test_activity_feedback_17_deletes_the_activity(fresh) -> None:
    sb, client, clock = fresh("17")
    [activity] = client.execute("mail.activity", "create", [activity_vals()])
    row = client.execute("mail.activity", "read", [activity], ["state", "res_model", "res_name", "active",
                                                               "activity_type_id", "display_name"])[0]
    assert row == {"id": activity, "state": "planned", "res_model": "res.partner", "res_name": "Acme Corporation",
                   "active": True, "activity_type_id": [4, "To-Do"], "display_name": "Review credit"}
    assert client.execute("res.partner", "read", [PARTNER], ["activity_ids"])[0]["activity_ids"] == [activity]
    clock.advance(hours=1)
    message_id = client.execute("mail.activity", "action_feedback", [activity], feedback="Customer paid")
    assert isinstance(message_id, int)
    assert client.execute("mail.activity", "search", [("id", "=", activity)], context={"active_test": False}) == []
    [message] = client.execute("mail.message", "read", [message_id], ["model", "res_id", "message_type", "subtype_id",
                                                                      "mail_activity_type_id", "body", "date"])
    assert (message["model"], message["res_id"], message["message_type"]) == ("res.partner", PARTNER, "notification")
    assert message["subtype_id"] == [3, "Activities"] and message["mail_activity_type_id"] == [4, "To-Do"]
    assert "To-Do</span> done" in message["body"] and "Review credit" in message["body"]
    assert "Customer paid" in message["body"] and message["date"] == "2026-11-28 13:00:00"
    # a type with keep_done: the activity is archived instead
    keep = client.execute("mail.activity.type", "create", {"name": "Credit review", "keep_done": True})
    [kept] = client.execute("mail.activity", "create", [activity_vals(activity_type_id=keep)])
    assert isinstance(client.execute("mail.activity", "action_done", [kept]), int)
    assert client.execute("mail.activity", "search_read", [("id", "=", kept)], ["active", "state", "date_done"],
                          context={"active_test": False}) == [
        {"id": kept, "active": False, "state": "done", "date_done": TODAY}]


def test_activity_feedback_19_archives_the_activity(fresh) -> None:
    sb, client, clock = fresh("19")
    created = client.json2("mail.activity", "create", {"vals_list": [activity_vals()]})
    assert created.status_code == 200
    [activity] = created.json()
    read = client.json2("mail.activity", "read", {"ids": [activity], "fields": [
        "active", "activity_type_id", "date_deadline", "res_id", "res_model", "state", "summary", "user_id"]})
    assert read.json() == [{"active": True, "activity_type_id": [4, "To-Do"], "date_deadline": "2030-01-31",
                            "id": activity, "res_id": PARTNER, "res_model": "res.partner", "state": "planned",
                            "summary": "Review credit", "user_id": [2, "Mitchell Admin"]}]
    clock.advance(minutes=10)
    feedback = client.json2("mail.activity", "action_feedback", {"ids": [activity], "feedback": "done"})
    assert feedback.status_code == 200 and isinstance(feedback.json(), int)
    after = client.json2("mail.activity", "read", {"ids": [activity], "fields": [
        "active", "date_done", "feedback", "state", "write_date"]})
    assert after.json() == [{"active": False, "date_done": TODAY, "feedback": "done", "id": activity,
                             "state": "done", "write_date": "2026-11-28 12:10:00"}]
    assert client.json2("mail.activity", "search", {"domain": [["id", "=", activity]]}).json() == []
    assert client.json2("mail.activity", "search", {"domain": [["id", "=", activity]],
                                                    "context": {"active_test": False}}).json() == [activity]
    assert client.execute("res.partner", "read", [PARTNER], ["activity_ids"])[0]["activity_ids"] == []
    assert client.execute("mail.activity.type", "fields_get", ["keep_done"]) == {}


def test_activity_state_follows_the_deadline_and_the_assignee_time_zone(fresh) -> None:
    # 23:30 UTC on the 28th is already the 29th in Brussels (the admin's time zone)
    sb, client, _clock = fresh("17", start=START.replace(hour=23, minute=30))
    sb.set_raw("res.partner", 5, tz=None)  # the portal user (7) has no time zone: UTC
    ids = client.execute("mail.activity", "create", [
        activity_vals(date_deadline="2026-11-28", summary="yesterday"),
        activity_vals(date_deadline="2026-11-29", summary="today"),
        activity_vals(date_deadline="2026-11-30", summary="tomorrow"),
        activity_vals(date_deadline="2026-11-28", summary="portal user, no time zone", user_id=7)])
    states = {r["summary"]: r["state"] for r in client.execute("mail.activity", "read", ids, ["summary", "state"])}
    assert states == {"yesterday": "overdue", "today": "today", "tomorrow": "planned",
                      "portal user, no time zone": "today"}
    row = client.execute("res.partner", "read", [PARTNER], ["activity_state", "activity_date_deadline",
                                                            "activity_ids"])[0]
    assert row["activity_state"] == "overdue" and row["activity_date_deadline"] == "2026-11-28"
    assert row["activity_ids"] == [ids[0], ids[3], ids[1], ids[2]]  # by deadline, then id
    assert client.execute("res.partner", "search", [("activity_state", "=", "overdue")]) == [PARTNER]


def test_activity_schedule(fresh) -> None:
    sb, client, _clock = fresh("19")
    scheduled = client.json2("sale.order", "activity_schedule", {
        "ids": [ORDER], "act_type_xmlid": "mail.mail_activity_data_todo", "date_deadline": "2030-01-31",
        "note": "Please review", "summary": "Order on credit hold", "user_id": 2})
    assert scheduled.status_code == 200
    [activity] = scheduled.json()
    row = client.execute("mail.activity", "read", [activity], [
        "res_model", "res_id", "res_model_id", "activity_type_id", "note", "summary", "automated", "user_id",
        "date_deadline"])[0]
    assert row == {"id": activity, "res_model": "sale.order", "res_id": ORDER, "res_model_id": [341, "Sales Order"],
                   "activity_type_id": [4, "To-Do"], "note": "<p>Please review</p>",
                   "summary": "Order on credit hold", "automated": True, "user_id": [2, "Mitchell Admin"],
                   "date_deadline": "2030-01-31"}
    assert client.execute("mail.activity", "search", [("res_model", "=", "sale.order"), ("res_id", "=", ORDER),
                                                      ("note", "ilike", "please review")]) == [activity]
    # 17 over XML-RPC, on an invoice, defaults: To-Do, today, the calling user
    sb17, client17, _clock = fresh("17")
    [on_invoice] = client17.execute("account.move", "activity_schedule", [1], summary="Chase payment")
    row = client17.execute("mail.activity", "read", [on_invoice], ["res_model", "activity_type_id", "date_deadline",
                                                                   "user_id", "state"])[0]
    assert row == {"id": on_invoice, "res_model": "account.move", "activity_type_id": [4, "To-Do"],
                   "date_deadline": TODAY, "user_id": [2, "Mitchell Admin"], "state": "today"}
    error = fault(client17.execute, "sale.order", "activity_schedule", [999999], summary="x")
    assert error.faultCode == 2 and "sale.order(999999,)" in error.faultString


def test_activity_required_fields(fresh) -> None:
    _sb, c17, _clock = fresh("17")
    error = fault(c17.execute, "mail.activity", "create", [{"res_id": PARTNER, "summary": "no model"}])
    assert (error.faultCode, error.faultString) == (2, (
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
        "Model: Activity (mail.activity)\nField: Document Model (res_model_id)\n"))
    error = fault(c17.execute, "mail.activity", "create", [{"res_model_id": 90, "summary": "no record"}])
    assert (error.faultCode, error.faultString) == (2, NOT_NULL_RES_ID)
    assert c17.execute("mail.activity", "search_count", [], context={"active_test": False}) == 0
    assert c17.execute("mail.activity", "fields_get", ["res_model_id", "user_id"], attributes=["required"]) == {
        "res_model_id": {"required": True}, "user_id": {"required": True}}

    _sb, c19, _clock = fresh("19")
    json2_error(c19.json2("mail.activity", "create", {"vals_list": [{
        "activity_type_id": 4, "date_deadline": "2030-01-31", "res_id": 9, "res_model": "res.partner",
        "summary": "By res_model"}]}), 422, "odoo.exceptions.ValidationError", NOT_NULL_RES_ID)
    json2_error(c19.json2("mail.activity", "create", {"vals_list": [{"summary": "nobody", "user_id": False}]}),
                422, "odoo.exceptions.ValidationError",
                "The operation cannot be completed: Activities must be assigned if not attached to a document.")
    # 19 allows an activity without document when it is assigned
    [free] = c19.json2("mail.activity", "create", {"vals_list": [{"summary": "free-standing"}]}).json()
    assert c19.execute("mail.activity", "read", [free], ["res_model", "res_id", "user_id"])[0] == {
        "id": free, "res_model": False, "res_id": 0, "user_id": [2, "Mitchell Admin"]}
    assert c19.execute("mail.activity", "fields_get", ["res_model_id", "user_id"], attributes=["required"]) == {
        "res_model_id": {"required": False}, "user_id": {"required": False}}
    json2_error(c19.json2("mail.activity", "create", {"vals_list": [activity_vals(res_id=999999)]}), 404,
                "odoo.exceptions.MissingError",
                "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)")


def test_activity_write_search_unlink_and_portal(fresh) -> None:
    _sb, client, clock = fresh("17")
    [activity] = client.execute("mail.activity", "create", [activity_vals()])
    clock.advance(minutes=3)
    assert client.execute("mail.activity", "write", [activity], {"date_deadline": "2026-11-27",
                                                                 "summary": "Overdue review"}) is True
    row = client.execute("mail.activity", "search_read", [("res_model", "=", "res.partner"),
                                                          ("summary", "ilike", "overdue")],
                         ["state", "write_date", "date_deadline"])
    assert row == [{"id": activity, "state": "overdue", "write_date": "2026-11-28 12:03:00",
                    "date_deadline": "2026-11-27"}]
    assert client.execute("mail.activity", "write", [activity], {"res_id": 11}) is True
    assert client.execute("mail.activity", "read", [activity], ["res_name"])[0]["res_name"] == "Acme Corporation, Paul Snyder"
    error = fault(client.execute, "mail.activity", "search", [], uid=7, password="portal")
    assert error.faultCode == 4 and "'Activity' (mail.activity)" in error.faultString
    assert client.execute("mail.activity", "unlink", [activity]) is True
    assert client.execute("mail.activity", "search_count", [], context={"active_test": False}) == 0


def test_ir_model_and_external_ids(c17: Client, c19: Client) -> None:
    for client in (c17, c19):
        models = client.execute("ir.model", "search_read", [("model", "in", ["res.partner", "sale.order",
                                                                             "account.move"])], ["model", "name"])
        assert {m["model"]: (m["id"], m["name"]) for m in models} == {
            "res.partner": (90, "Contact"), "sale.order": (341, "Sales Order"), "account.move": (256, "Journal Entry")}
        todo = client.execute("ir.model.data", "search_read", [("module", "=", "mail"),
                                                               ("name", "=", "mail_activity_data_todo")],
                              ["model", "res_id", "complete_name"])
        assert [(t["model"], t["res_id"], t["complete_name"]) for t in todo] == [
            ("mail.activity.type", 4, "mail.mail_activity_data_todo")]
        assert client.execute("ir.model.data", "check_object_reference", "mail", "mt_note") == [
            "mail.message.subtype", 2]
        xmlid = client.execute("ir.model.data", "search_read", [("model", "=", "ir.model"), ("res_id", "=", 90)],
                               ["module", "name"])
        assert [(x["module"], x["name"]) for x in xmlid] == [("base", "model_res_partner")]
    names = {t["id"]: t["name"] for t in c17.execute("mail.activity.type", "search_read", [], ["name"])}
    assert names[4] == "To-Do" and names[5] == "Upload Document"
    assert c19.execute("mail.activity.type", "read", [5], ["name"])[0]["name"] == "Document"


# ---------------------------------------------------------------- tags


def test_partner_tags_with_commands(fresh) -> None:
    _sb, client, clock = fresh("17")

    def tags(partner: int = PARTNER) -> list[int]:
        return client.execute("res.partner", "read", [partner], ["category_id"])[0]["category_id"]

    parent = client.execute("res.partner.category", "create", {"name": "Credit"})
    hold = client.execute("res.partner.category", "create", {"name": "Hold", "parent_id": parent, "color": 1})
    watch = client.execute("res.partner.category", "create", {"name": "Watch", "parent_id": parent})
    assert client.execute("res.partner.category", "read", [hold], ["display_name", "parent_id", "active", "color"]) == [
        {"id": hold, "display_name": "Credit / Hold", "parent_id": [parent, "Credit"], "active": True, "color": 1}]
    assert client.execute("res.partner.category", "search", [("parent_id", "=", parent)]) == [hold, watch]
    start = tags()
    stamps = []
    for commands, expected in (([[4, hold]], sorted(start + [hold])), ([[4, watch], [3, hold]], None),
                               ([[6, 0, [hold, watch]]], [hold, watch]), ([[5]], []), ([hold], [hold])):
        clock.advance(seconds=1)
        assert client.execute("res.partner", "write", [PARTNER], {"category_id": commands}) is True
        stamps.append(client.execute("res.partner", "read", [PARTNER], ["write_date"])[0]["write_date"])
        if expected is not None:
            assert sorted(tags()) == sorted(expected), commands
    assert watch not in tags()
    assert stamps == [f"2026-11-28 12:00:0{i}" for i in range(1, 6)]
    # read order is the tags' order (name); search by tag; the other side of the relation
    client.execute("res.partner", "write", [PARTNER], {"category_id": [[6, 0, [watch, hold]]]})
    assert tags() == [hold, watch]
    assert client.execute("res.partner", "search", [("category_id", "in", [watch])]) == [PARTNER]
    assert client.execute("res.partner.category", "read", [watch], ["partner_ids"])[0]["partner_ids"] == [PARTNER]
    client.execute("res.partner.category", "write", [watch], {"partner_ids": [[4, 11]]})
    assert watch in tags(11)
    # the relation's foreign key; recursion
    error = fault(client.execute, "res.partner", "write", [PARTNER], {"category_id": [[4, 999]]})
    assert (error.faultCode, error.faultString) == (2, (
        "The operation cannot be completed: another model requires the record being deleted. If possible, archive "
        "it instead.\n\nModel: Unknown (unknown)\nConstraint: res_partner_res_partner_category_rel_category_id_fkey\n"))
    error = fault(client.execute, "res.partner.category", "write", [parent], {"parent_id": hold})
    assert (error.faultCode, error.faultString) == (2, "You can not create recursive tags.")
    # deleting the parent deletes its children (ondelete cascade) and their links
    assert client.execute("res.partner.category", "unlink", [parent]) is True
    assert tags() == [] and watch not in tags(11)
    assert client.execute("res.partner.category", "search", [("id", "in", [parent, hold, watch])],
                          context={"active_test": False}) == []


def test_tags_over_json2_like_the_probe(fresh) -> None:
    _sb, client, _clock = fresh("19")
    tag = client.json2("res.partner.category", "create", {"vals_list": [{"name": "Credit hold (probe)"}]}).json()
    assert tag == [8]
    assert client.json2("res.partner", "write", {"ids": [PARTNER], "vals": {"category_id": [[4, 8]]}}).json() is True
    read = client.json2("res.partner", "read", {"ids": [PARTNER], "fields": ["category_id"]}).json()
    names = {t["id"]: t["name"] for t in client.execute("res.partner.category", "search_read", [], ["name"])}
    assert 8 in read[0]["category_id"]
    assert read[0]["category_id"] == sorted(read[0]["category_id"], key=lambda i: names[i])


def test_chatter_survives_stop_and_start(fresh) -> None:
    sb, client, _clock = fresh("17")
    first = client.execute("res.partner", "message_post", [PARTNER], body="before the outage")
    sb.stop()
    with pytest.raises(OSError):
        xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object").execute_kw(
            DB, 2, "admin", "res.partner", "message_post", [PARTNER], {"body": "during"})
    sb.start()
    client = Client(sb)
    second = client.execute("res.partner", "message_post", [PARTNER], body="after the outage")
    assert second == first + 1
    assert client.execute("mail.message", "search_count", [("model", "=", "res.partner"), ("res_id", "=", PARTNER)]) == 2
