"""Deliveries with the ``sale_stock`` addon, and the credit_guard_stock bridge refusing held orders."""

from __future__ import annotations

import xmlrpc.client

import pytest

from .conftest import Client

HOLD = {"credit_hold": True, "credit_hold_reasons": "Exposure 12,500.00 USD above the limit of 10,000.00 USD\n"
                                                   "2 invoices more than 60 days overdue",
        "credit_hold_codes": "over_limit,overdue", "credit_release_tier": "credit_manager"}


def refused(name: str) -> str:
    return ("A delivery of a sales order on credit hold cannot be validated until the hold is released.\n"
            f"Sales order {name} is on credit hold: Exposure 12,500.00 USD above the limit of 10,000.00 USD; "
            "2 invoices more than 60 days overdue. A user in the group Credit Controller (release tier: "
            "credit_manager) must release it first.")


def delivery(client: Client, order_id: int) -> dict:
    pickings = client.execute("stock.picking", "search_read", [("sale_id", "=", order_id)],
                              ["name", "state", "picking_type_code", "origin", "date_done"])
    assert len(pickings) == 1
    return pickings[0]


def confirmed_orders(client: Client) -> list[dict]:
    return client.execute("sale.order", "search_read", [("state", "=", "sale")], ["name"], order="id", limit=2)


@pytest.mark.parametrize("version", ["17", "19"])
def test_held_delivery_is_refused_until_released(fresh, version: str) -> None:
    _sb, client, clock = fresh(version, addons=("credit_guard", "sale_stock"))
    held, free = confirmed_orders(client)
    client.execute("sale.order", "write", [held["id"]], HOLD)
    picking = delivery(client, held["id"])
    assert (picking["state"], picking["picking_type_code"], picking["origin"]) == ("assigned", "outgoing",
                                                                                 held["name"])
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("stock.picking", "button_validate", [picking["id"]])
    assert info.value.faultCode == 2
    assert info.value.faultString == refused(held["name"])
    assert delivery(client, held["id"])["state"] == "assigned"

    clock.advance(minutes=1)
    assert client.execute("sale.order", "action_release_credit_hold", [held["id"]]) is True
    assert client.execute("stock.picking", "button_validate", [picking["id"]]) is True
    after = delivery(client, held["id"])
    assert after["state"] == "done" and after["date_done"]

    other = delivery(client, free["id"])
    assert client.execute("stock.picking", "button_validate", [other["id"]]) is True
    assert delivery(client, free["id"])["state"] == "done"


def test_delivery_validates_without_credit_guard(fresh) -> None:
    _sb, client, _clock = fresh("17", addons=("sale_stock",))
    order = confirmed_orders(client)[0]
    picking = delivery(client, order["id"])
    assert client.execute("stock.picking", "button_validate", [picking["id"]]) is True
    assert delivery(client, order["id"])["state"] == "done"


@pytest.mark.parametrize("addons", [(), ("credit_guard",)])
def test_no_stock_picking_without_the_stock_addon(fresh, addons) -> None:
    _sb, client, _clock = fresh("17", addons=addons)
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("stock.picking", "search", [])
    with pytest.raises(xmlrpc.client.Fault) as expected:
        client.execute("x.no.such.model", "search", [])
    assert info.value.faultCode == expected.value.faultCode
    assert info.value.faultString == expected.value.faultString.replace("x.no.such.model", "stock.picking")


def test_stock_modules_installed(fresh) -> None:
    _sb, client, _clock = fresh("19", addons=("sale_stock",))
    modules = client.execute("ir.module.module", "search_read", [("name", "in", ["stock", "sale_stock"])],
                             ["name", "state"], order="name")
    assert [(m["name"], m["state"]) for m in modules] == [("sale_stock", "installed"), ("stock", "installed")]
