"""``account.move.line``: the receivable items of the sandbox behave like Odoo's (instalments per payment term
line, residuals that follow payments, payments on account, the partner's ``credit``, write_date per transaction)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

FIELDS = ["move_id", "partner_id", "date_maturity", "debit", "credit", "balance", "amount_currency", "amount_residual",
          "amount_residual_currency", "reconciled", "parent_state", "display_type", "account_type", "move_type",
          "write_date", "name"]
RECEIVABLE = [("account_type", "=", "asset_receivable")]


def lines(client, move: int) -> list[dict]:
    return client.execute("account.move.line", "search_read", RECEIVABLE + [("move_id", "=", move)], FIELDS,
                          order="date_maturity asc, id asc")


def test_instalments_follow_the_term_and_payments_settle_the_earliest_first(fresh):
    sb, client, clock = fresh("17", data="empty")
    partner = client.execute("res.partner", "create", {"name": "Buyer", "is_company": True})
    contact = client.execute("res.partner", "create", {"name": "Ann", "parent_id": partner})
    day = date(2026, 10, 19)
    move = client.execute("account.move", "create", {
        "move_type": "out_invoice", "partner_id": contact, "invoice_date": day.isoformat(),
        "invoice_payment_term_id": 8, "invoice_line_ids": [(0, 0, {"name": "Goods", "price_unit": 1000.0})]})
    draft = lines(client, move)
    assert [(line["parent_state"], line["amount_residual"]) for line in draft] == [("draft", 300.0), ("draft", 700.0)]
    clock.advance(seconds=1)
    client.execute("account.move", "action_post", [move])
    posted = lines(client, move)
    assert [(line["date_maturity"], line["balance"], line["amount_residual"], line["reconciled"]) for line in posted] == [
        (day.isoformat(), 300.0, 300.0, False), ((day + timedelta(days=60)).isoformat(), 700.0, 700.0, False)]
    assert {line["partner_id"][0] for line in posted} == {partner}  # the commercial partner
    assert {(line["display_type"], line["move_type"], line["parent_state"]) for line in posted} == {
        ("payment_term", "out_invoice", "posted")}
    [invoice] = client.execute("account.move", "read", [move], ["invoice_date_due", "write_date"])
    assert invoice["invoice_date_due"] == (day + timedelta(days=60)).isoformat()  # the last instalment's
    assert {line["write_date"] for line in posted} == {invoice["write_date"]}  # one transaction

    clock.advance(seconds=5)
    sb.register_payment(move, 350.0)
    paid = lines(client, move)
    assert [(line["amount_residual"], line["reconciled"]) for line in paid] == [(0.0, True), (650.0, False)]
    # both items changed in the payment's transaction
    assert paid[0]["write_date"] == paid[1]["write_date"] > posted[0]["write_date"]
    clock.advance(seconds=5)
    sb.register_payment(move, 50.0)
    again = lines(client, move)
    assert [line["amount_residual"] for line in again] == [0.0, 600.0]
    assert again[0]["write_date"] == paid[0]["write_date"]  # the settled instalment was not written again
    assert again[1]["write_date"] > paid[1]["write_date"]
    [row] = client.execute("res.partner", "read", [partner], ["credit"])
    assert row["credit"] == 600.0


@pytest.mark.parametrize("version", ["17", "19"])
def test_payment_on_account_is_an_open_receivable_credit(fresh, version):
    sb, client, _clock = fresh(version, data="empty")
    partner = client.execute("res.partner", "create", {"name": "Payer", "is_company": True})
    move = client.execute("account.move", "create", {
        "move_type": "out_invoice", "partner_id": partner, "invoice_date": "2026-11-20",
        "invoice_line_ids": [(0, 0, {"name": "Goods", "price_unit": 2208.0})]})
    client.execute("account.move", "action_post", [move])
    payment = sb.register_payment_on_account(partner, 1000.0)
    [entry] = client.execute("account.move", "read", [payment], ["name", "move_type", "state"])
    assert entry["move_type"] == "entry" and entry["state"] == "posted" and entry["name"].startswith("PBNK1/2026/")
    [credit_line] = lines(client, payment)
    assert (credit_line["credit"], credit_line["amount_residual"], credit_line["reconciled"]) == (1000.0, -1000.0,
                                                                                                  False)
    [row] = client.execute("res.partner", "read", [partner], ["credit"])
    assert row["credit"] == 1208.0
    assert client.execute("account.move.line", "search_count",
                          RECEIVABLE + [("partner_id", "=", partner), ("reconciled", "=", False)]) == 2
    # the partner's credit is per company
    [row] = client.execute("res.partner", "read", [partner], ["credit"], context={"allowed_company_ids": [2]})
    assert row["credit"] == 0.0


def test_cancelling_and_deleting_follow(fresh):
    sb, client, _clock = fresh("17", data="empty")
    partner = client.execute("res.partner", "create", {"name": "Gone", "is_company": True})
    move = client.execute("account.move", "create", {
        "move_type": "out_refund", "partner_id": partner, "invoice_date": "2026-11-20",
        "invoice_line_ids": [(0, 0, {"name": "Return", "price_unit": 100.0})]})
    client.execute("account.move", "action_post", [move])
    [line] = lines(client, move)
    assert (line["balance"], line["amount_residual"], line["move_type"]) == (-100.0, -100.0, "out_refund")
    sb.call("account.move", "button_cancel", [move])
    assert [line["parent_state"] for line in lines(client, move)] == ["cancel"]
    client.execute("account.move", "unlink", [move])
    assert lines(client, move) == []
