"""ORM behaviour: read formats, fields_get, ordering and paging, writes, actions, server-side helpers."""

from __future__ import annotations

import xmlrpc.client

import pytest

from .conftest import START, Client


def test_record_formats(c17: Client) -> None:
    move = c17.execute("account.move", "search_read", [("move_type", "=", "out_refund"), ("state", "=", "posted")],
                       ["name", "partner_id", "commercial_partner_id", "invoice_date", "write_date", "amount_total",
                        "amount_residual", "amount_total_signed", "amount_residual_signed", "currency_id",
                        "company_currency_id", "reversed_entry_id", "invoice_origin", "payment_state"],
                       limit=1)[0]
    assert isinstance(move["partner_id"], list) and len(move["partner_id"]) == 2
    assert isinstance(move["partner_id"][0], int) and isinstance(move["partner_id"][1], str)
    assert len(move["invoice_date"]) == 10 and len(move["write_date"]) == 19
    assert move["amount_total"] > 0 and move["amount_total_signed"] < 0
    assert move["amount_residual"] >= 0 and move["amount_residual_signed"] <= 0
    assert move["invoice_origin"] is False
    assert move["company_currency_id"][1] in ("USD", "EUR")


def test_read_all_fields_and_empty_values(c17: Client) -> None:
    partner = c17.execute("res.partner", "read", [10], [])[0]
    fields = c17.execute("res.partner", "fields_get", [], attributes=["type"])
    assert set(partner) == set(fields)
    for name, attrs in fields.items():
        value = partner[name]
        if attrs["type"] in ("one2many", "many2many"):
            assert isinstance(value, list)
        elif attrs["type"] == "boolean":
            assert isinstance(value, bool)
        elif attrs["type"] in ("float", "monetary"):
            assert isinstance(value, float), name
    assert partner["display_name"] == partner["complete_name"] == "Acme Corporation"
    assert partner["commercial_partner_id"] == [10, "Acme Corporation"]


def test_contact_names(c17: Client) -> None:
    contact = c17.execute("res.partner", "search_read", [("parent_id", "=", 10)],
                          ["name", "complete_name", "display_name", "commercial_partner_id"], limit=1)[0]
    assert contact["complete_name"] == f"Acme Corporation, {contact['name']}" == contact["display_name"]
    assert contact["commercial_partner_id"] == [10, "Acme Corporation"]


def test_fields_get(c17: Client, c19: Client) -> None:
    state = c17.execute("sale.order", "fields_get", ["state"], attributes=["type", "selection", "store"])
    assert state == {"state": {"type": "selection", "store": True, "selection": [
        ["draft", "Quotation"], ["sent", "Quotation Sent"], ["sale", "Sales Order"], ["cancel", "Cancelled"]]}}
    assert c17.execute("sale.order", "fields_get", ["amount_to_invoice"], attributes=["store"]) == \
        {"amount_to_invoice": {"store": True}}
    assert c19.execute("sale.order", "fields_get", ["amount_to_invoice"], attributes=["store"]) == \
        {"amount_to_invoice": {"store": False}}
    assert "mobile" in c17.execute("res.partner", "fields_get", [], attributes=["type"])
    assert "mobile" not in c19.execute("res.partner", "fields_get", [], attributes=["type"])
    with pytest.raises(xmlrpc.client.Fault):
        c19.execute("res.partner", "read", [10], ["mobile"])


def test_default_orders(c17: Client) -> None:
    rates = c17.execute("res.currency.rate", "search_read", [("company_id", "=", 1)], ["name"])
    assert [r["name"] for r in rates] == sorted((r["name"] for r in rates), reverse=True)
    currencies = c17.execute("res.currency", "search_read", [], ["name"], context={"active_test": False})
    assert [c["name"] for c in currencies] == ["EUR", "GBP", "JPY", "USD", "CAD", "CHF"]
    orders = c17.execute("sale.order", "search_read", [], ["date_order"])
    assert [o["date_order"] for o in orders] == sorted((o["date_order"] for o in orders), reverse=True)
    partners = c17.execute("res.partner", "search_read", [], ["complete_name"])
    assert [p["complete_name"] for p in partners] == sorted(p["complete_name"] for p in partners)
    moves = c17.execute("account.move", "search_read", [], ["date", "name"])
    assert [(m["date"], m["name"]) for m in moves] == sorted(((m["date"], m["name"]) for m in moves), reverse=True)


def test_explicit_order_limit_offset(c17: Client) -> None:
    every = c17.execute("account.move", "search", [], order="amount_total desc, id")
    totals = {r["id"]: r["amount_total"] for r in c17.execute("account.move", "read", every, ["amount_total"])}
    assert [totals[i] for i in every] == sorted(totals.values(), reverse=True)
    assert c17.execute("account.move", "search", [], order="amount_total desc, id", limit=10, offset=5) == every[5:15]
    assert c17.execute("account.move", "search", [], order="amount_total desc, id", offset=len(every) - 3) == every[-3:]
    by_partner = c17.execute("account.move", "search_read", [], ["partner_id"], order="partner_id, id", limit=50)
    names = [c17.execute("res.partner", "read", [m["partner_id"][0]], ["complete_name"])[0]["complete_name"]
             for m in by_partner]
    assert names == sorted(names)
    with pytest.raises(xmlrpc.client.Fault) as info:
        c17.execute("account.move", "search", [], order="no_such_field")
    assert info.value.faultString.rstrip().splitlines()[-1] == \
        "ValueError: Invalid field 'no_such_field' on model 'account.move'"
    with pytest.raises(xmlrpc.client.Fault) as info:
        c17.execute("account.move", "search", [], order="id; drop table x")
    assert info.value.faultCode == 2 and info.value.faultString.startswith('Invalid "order" specified')


def test_write_sets_write_date_from_the_clock(fresh) -> None:
    _sb, client, clock = fresh("17")
    before = client.execute("res.partner", "read", [10], ["write_date", "write_uid"])[0]
    assert before["write_date"] < START.strftime("%Y-%m-%d %H:%M:%S")
    moment = clock.advance(hours=1, seconds=7)
    assert client.execute("res.partner", "write", [10], {"credit_limit": 12345.0}) is True
    after = client.execute("res.partner", "read", [10], ["write_date", "write_uid", "credit_limit"])[0]
    assert after["write_date"] == moment.strftime("%Y-%m-%d %H:%M:%S")
    assert after["write_uid"][0] == 2 and after["credit_limit"] == 12345.0
    changed = client.execute("res.partner", "search", [("write_date", ">", before["write_date"]),
                                                       ("id", "=", 10)])
    assert changed == [10]


def test_rename_company_recomputes_contacts(fresh) -> None:
    _sb, client, clock = fresh("17")
    clock.advance(minutes=5)
    client.execute("res.partner", "write", [10], {"name": "Acme Holding"})
    contacts = client.execute("res.partner", "search_read", [("parent_id", "=", 10)],
                              ["complete_name", "write_date"])
    assert contacts and all(c["complete_name"].startswith("Acme Holding, ") for c in contacts)
    assert all(c["write_date"] == clock.now.strftime("%Y-%m-%d %H:%M:%S") for c in contacts)


def test_create_returns_id_or_ids(fresh) -> None:
    _sb, client, _clock = fresh("17")
    new = client.execute("res.partner", "create", {"name": "New Customer", "is_company": True, "customer_rank": 1})
    assert isinstance(new, int)
    many = client.execute("res.partner", "create", [{"name": "A", "parent_id": new}, {"name": "B", "parent_id": new}])
    assert isinstance(many, list) and len(many) == 2
    rows = client.execute("res.partner", "read", many, ["complete_name", "commercial_partner_id", "type", "active"])
    assert [r["complete_name"] for r in rows] == ["New Customer, A", "New Customer, B"]
    assert all(r["commercial_partner_id"][0] == new and r["type"] == "contact" and r["active"] for r in rows)
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("res.partner", "create", {"name": "X", "bogus": 1})
    assert info.value.faultString.rstrip().endswith("ValueError: Invalid field 'bogus' on model 'res.partner'")


def test_invoice_lifecycle(fresh) -> None:
    _sb, client, clock = fresh("17")
    move = client.execute("account.move", "create", {
        "move_type": "out_invoice", "partner_id": 11, "invoice_date": "2026-11-20", "currency_id": 2,
        "invoice_line_ids": [(0, 0, {"name": "Consulting", "quantity": 2, "price_unit": 150.0})]})
    draft = client.execute("account.move", "read", [move], ["name", "state", "display_name", "amount_total",
                                                           "commercial_partner_id", "journal_id"])[0]
    assert draft["state"] == "draft" and draft["name"] == "/"
    assert draft["display_name"] == f"Draft Invoice (* {move})"
    assert draft["amount_total"] == 300.0 and draft["commercial_partner_id"][0] == 10
    assert draft["journal_id"][1] == "Customer Invoices"
    assert client.execute("account.move", "action_post", [move]) is False
    posted = client.execute("account.move", "read", [move], ["name", "state", "amount_residual", "payment_state",
                                                            "amount_total_signed"])[0]
    assert posted["state"] == "posted" and posted["name"].startswith("INV/2026/")
    assert posted["amount_residual"] == 300.0 and posted["payment_state"] == "not_paid"
    assert 0 < posted["amount_total_signed"] != 300.0  # EUR invoice of the USD company
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("account.move", "action_post", [move])
    assert info.value.faultString == f"The entry {posted['name']} (id {move}) must be in draft."
    with pytest.raises(xmlrpc.client.Fault) as info:  # button_cancel returns None
        client.execute("account.move", "button_cancel", [move])
    assert "cannot marshal None" in info.value.faultString
    assert client.execute("account.move", "read", [move], ["state"])[0]["state"] == "cancel"


def test_cancel_order_opens_wizard_unless_told(fresh) -> None:
    _sb, client, _clock = fresh("17")
    order = client.execute("sale.order", "search", [("state", "=", "sent")], limit=1)[0]
    wizard = client.execute("sale.order", "action_cancel", [order])
    assert wizard["res_model"] == "sale.order.cancel" and wizard["type"] == "ir.actions.act_window"
    assert client.execute("sale.order", "read", [order], ["state"])[0]["state"] == "sent"
    assert client.execute("sale.order", "action_cancel", [order], context={"disable_cancel_warning": True}) is True
    assert client.execute("sale.order", "read", [order], ["state"])[0]["state"] == "cancel"
    assert client.execute("sale.order", "action_draft", [order]) is True
    assert client.execute("sale.order", "read", [order], ["state"])[0]["state"] == "draft"


def test_register_payment(fresh) -> None:
    sb, client, clock = fresh("17")
    move = client.execute("account.move", "search_read", [("payment_state", "=", "not_paid"), ("state", "=", "posted"),
                                                          ("move_type", "=", "out_invoice"), ("currency_id", "=", 1)],
                          ["amount_total", "write_date"], limit=1)[0]
    clock.advance(minutes=1)
    sb.register_payment(move["id"], 10.0)
    after = client.execute("account.move", "read", [move["id"]], ["amount_residual", "amount_residual_signed",
                                                                 "payment_state", "write_date"])[0]
    assert after["payment_state"] == "partial"
    assert after["amount_residual"] == round(move["amount_total"] - 10.0, 2) == after["amount_residual_signed"]
    assert after["write_date"] == clock.now.strftime("%Y-%m-%d %H:%M:%S")
    sb.register_payment(move["id"], after["amount_residual"])
    paid = client.execute("account.move", "read", [move["id"]], ["amount_residual", "payment_state"])[0]
    assert paid == {"id": move["id"], "amount_residual": 0.0, "payment_state": "paid"}
    with pytest.raises(ValueError):
        sb.register_payment(move["id"], 1.0)


def test_set_raw_delete_and_sum(fresh) -> None:
    sb, client, _clock = fresh("17")
    move = client.execute("account.move", "search", [("state", "=", "posted")], limit=1)[0]
    sb.set_raw("account.move", move, currency_id=None)
    assert client.execute("account.move", "read", [move], ["currency_id"])[0]["currency_id"] is False
    sb.set_raw("res.currency", 4, name="XXX")
    yen = client.execute("account.move", "search_read", [("currency_id", "=", 4)], ["currency_id"], limit=1)
    assert yen[0]["currency_id"] == [4, "XXX"]
    with pytest.raises(ValueError):
        sb.set_raw("account.move", move, no_such_column=1)
    sb.delete("account.move", move)
    assert client.execute("account.move", "read", [move], ["name"]) == []
    assert sb.search_count("account.move", [("id", "=", move)]) == 0
    open_usd = [("state", "=", "posted"), ("currency_id", "=", 1)]
    rows = client.execute("account.move", "search_read", open_usd, ["amount_residual"])
    assert sb.sum("account.move", "amount_residual", open_usd) == pytest.approx(sum(r["amount_residual"] for r in rows))


def test_name_search(c17: Client) -> None:
    found = c17.execute("res.partner", "name_search", "acme")
    assert [10, "Acme Corporation"] in found


def test_version_specific_amounts(sb17, sb19) -> None:
    fields = ["state", "amount_total", "amount_invoiced", "amount_to_invoice", "invoice_status"]
    o17 = {o["id"]: o for o in sb17.search_read("sale.order", [], fields)}
    o19 = {o["id"]: o for o in sb19.search_read("sale.order", [], fields)}
    for order in o17.values():
        expected = 0.0 if order["invoice_status"] == "invoiced" else \
            round(order["amount_total"] - order["amount_invoiced"], 2)
        assert order["amount_to_invoice"] == pytest.approx(expected)
    assert any(o17[i]["amount_to_invoice"] != o19[i]["amount_to_invoice"] for i in o17)
    assert all(o17[i]["amount_invoiced"] == pytest.approx(o19[i]["amount_invoiced"]) for i in o17
               if o17[i]["invoice_status"] != "invoiced")


def test_read_group(c17: Client, c19: Client) -> None:
    groups = c17.execute("sale.order", "read_group", [], ["amount_total:sum"], ["state"], lazy=False)
    counts = {g["state"]: g["__count"] for g in groups}
    assert [g["state"] for g in groups] == ["cancel", "draft", "sale", "sent"]
    assert counts == {s: c17.execute("sale.order", "search_count", [("state", "=", s)]) for s in counts}
    assert groups[0]["__domain"] == [["state", "=", "cancel"]]
    lazy = c17.execute("account.move", "read_group", [("state", "=", "posted")], ["amount_residual_signed"],
                       ["company_id", "currency_id"])
    assert [g["company_id"] for g in lazy] == [[1, "YourCompany"], [2, "My EU Company"]]
    assert lazy[0]["__context"] == {"group_by": ["currency_id"]} and "company_id_count" in lazy[0]
    total = sum(g["amount_residual_signed"] for g in lazy if g["company_id"][0] == 1)
    assert total == pytest.approx(c17.sb.sum("account.move", "amount_residual_signed",
                                             [("state", "=", "posted"), ("company_id", "=", 1)]))
    formatted = c19.json2("sale.order", "formatted_read_group",
                          {"domain": [], "groupby": ["state"], "aggregates": ["__count", "amount_total:sum"]}).json()
    assert formatted[1]["state"] == "draft" and formatted[1]["__extra_domain"] == [["state", "=", "draft"]]
    assert set(formatted[1]) == {"state", "__count", "amount_total:sum", "__extra_domain"}
    with pytest.raises(xmlrpc.client.Fault):
        c17.execute("sale.order", "formatted_read_group", [], groupby=["state"])
