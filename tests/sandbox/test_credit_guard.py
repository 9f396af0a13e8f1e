"""The credit_guard addon mode: ``OdooSandbox(addons=("credit_guard",))``."""

from __future__ import annotations

import xmlrpc.client

import pytest

from adapters.odoo.sandbox import OdooSandbox

from .conftest import DB, Client

ORDER_FIELDS = {"credit_hold": "boolean", "credit_hold_reasons": "text", "credit_hold_codes": "char",
                "credit_hold_since": "datetime", "credit_release_tier": "char", "credit_hold_key": "char",
                "credit_released_by": "many2one", "credit_released_at": "datetime",
                "credit_released_amount": "monetary", "credit_released_tier": "char", "credit_release_reason": "text"}
PARTNER_FIELDS = {"credit_risk_grade": "integer", "credit_risk_flag": "selection", "credit_exposure": "monetary",
                  "credit_effective_limit": "monetary", "credit_headroom": "monetary",
                  "credit_evaluated_at": "datetime"}
HOLD = {"credit_hold": True, "credit_hold_reasons": "Exposure 12,500.00 USD above the limit of 10,000.00 USD\n"
                                                   "2 invoices more than 60 days overdue",
        "credit_hold_codes": "over_limit,overdue", "credit_release_tier": "credit_manager",
        "credit_hold_since": "2026-11-28 11:00:00", "credit_hold_key": "hold:S00012:r3"}


def fault(call, *args, **kwargs) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call(*args, **kwargs)
    return info.value


def held_message(name: str) -> str:
    return (f"Sales order {name} is on credit hold: Exposure 12,500.00 USD above the limit of 10,000.00 USD; "
            "2 invoices more than 60 days overdue. A user in the group Credit Controller (release tier: "
            "credit_manager) must release it first.")


@pytest.mark.parametrize("version", ["17", "19"])
def test_module_and_fields(fresh, version: str) -> None:
    _sb, client, _clock = fresh(version, addons=("credit_guard",))
    module = client.execute("ir.module.module", "search_read", [("name", "=", "credit_guard")],
                            ["state", "latest_version", "installed_version"])
    assert [(m["state"], m["latest_version"], m["installed_version"]) for m in module] == [
        ("installed", f"{version}.0.1.0.0", f"{version}.0.1.0.0")]
    order_fields = client.execute("sale.order", "fields_get", list(ORDER_FIELDS), attributes=["type", "store"])
    assert {name: attrs["type"] for name, attrs in order_fields.items()} == ORDER_FIELDS
    assert all(attrs["store"] for attrs in order_fields.values())
    assert client.execute("sale.order", "fields_get", ["credit_released_by"],
                          attributes=["relation"])["credit_released_by"]["relation"] == "res.users"
    partner_fields = client.execute("res.partner", "fields_get", list(PARTNER_FIELDS), attributes=["type"])
    assert {name: attrs["type"] for name, attrs in partner_fields.items()} == PARTNER_FIELDS
    assert client.execute("res.partner", "fields_get", ["credit_risk_flag"], attributes=["selection"]) == {
        "credit_risk_flag": {"selection": [["ok", "OK"], ["watch", "Watch"], ["stop", "Stop"]]}}


def test_held_order_is_refused_on_every_protocol_until_released(fresh) -> None:
    sb, client, clock = fresh("19", addons=("credit_guard",))
    order = client.execute("sale.order", "search", [("state", "=", "draft")], limit=1, order="id")[0]
    name = client.execute("sale.order", "read", [order], ["name"])[0]["name"]
    assert client.execute("sale.order", "read", [order], ["credit_hold"])[0]["credit_hold"] is False
    clock.advance(minutes=1)
    assert client.execute("sale.order", "write", [order], HOLD) is True
    row = client.execute("sale.order", "read", [order], list(ORDER_FIELDS) + ["write_date"])[0]
    assert {k: row[k] for k in HOLD} == HOLD and row["write_date"] == "2026-11-28 12:01:00"
    assert row["credit_released_by"] is False and row["credit_released_at"] is False
    assert client.execute("sale.order", "search", [("credit_hold", "=", True)]) == [order]
    assert client.execute("sale.order", "search_count", [("credit_hold_codes", "ilike", "overdue")]) == 1

    error = fault(client.execute, "sale.order", "action_confirm", [order])
    assert (error.faultCode, error.faultString) == (2, held_message(name))
    legacy = fault(client.legacy_object.execute_kw, DB, 2, "admin", "sale.order", "action_confirm", [[order]], {})
    assert legacy.faultCode == f"warning -- UserError\n\n{held_message(name)}"
    answer = client.jsonrpc("object", "execute_kw", DB, 2, "admin", "sale.order", "action_confirm", [[order]]).json()
    assert answer["error"]["code"] == 0 and answer["error"]["data"]["name"] == "odoo.exceptions.UserError"
    assert answer["error"]["data"]["message"] == held_message(name)
    response = client.json2("sale.order", "action_confirm", {"ids": [order]})
    assert response.status_code == 422
    assert (response.json()["name"], response.json()["message"]) == ("odoo.exceptions.UserError", held_message(name))
    assert client.execute("sale.order", "read", [order], ["state"])[0]["state"] == "draft"

    # the portal user may not release; a credit controller (admin) may
    error = fault(client.execute, "sale.order", "action_release_credit_hold", [order], uid=7, password="portal")
    assert (error.faultCode, error.faultString) == (
        4, "Only a user in the group Credit Controller can release a credit hold.")
    clock.advance(minutes=4)
    released = client.json2("sale.order", "action_release_credit_hold", {"ids": [order]})
    assert released.status_code == 200 and released.json() is True
    row = client.execute("sale.order", "read", [order], ["credit_hold", "credit_released_by", "credit_released_at",
                                                         "credit_hold_key", "write_date"])[0]
    assert row == {"id": order, "credit_hold": False, "credit_released_by": [2, "Mitchell Admin"],
                   "credit_released_at": "2026-11-28 12:05:00", "credit_hold_key": "hold:S00012:r3",
                   "write_date": "2026-11-28 12:05:00"}
    # the chatter: a tracking message for each change of credit_hold, the release note in between
    chatter = client.execute("mail.message", "search_read", [("model", "=", "sale.order"), ("res_id", "=", order)],
                             ["body", "message_type", "subtype_id", "author_id"], order="id")
    assert [(m["body"], m["message_type"], m["subtype_id"][1]) for m in chatter] == [
        ("", "notification", "Note"),
        ("<p>Credit hold released by Mitchell Admin (reasons of the hold: Exposure 12,500.00 USD above the limit of "
         "10,000.00 USD; 2 invoices more than 60 days overdue).</p>", "notification", "Note"),
        ("", "notification", "Note")]
    assert client.execute("sale.order", "action_confirm", [order]) is True
    assert client.execute("sale.order", "read", [order], ["state"])[0]["state"] == "sale"


def test_held_order_on_17_and_partner_risk_fields(fresh) -> None:
    _sb, client, clock = fresh("17", addons=("credit_guard",))
    order = client.execute("sale.order", "create", {"partner_id": 10, "credit_hold": True,
                                                    "credit_hold_reasons": "Customer on stop",
                                                    "credit_release_tier": "cfo"})
    name = client.execute("sale.order", "read", [order], ["name"])[0]["name"]
    other = client.execute("sale.order", "create", {"partner_id": 11, "credit_hold": True,
                                                    "credit_hold_codes": "over_limit,grade"})
    other_name = client.execute("sale.order", "read", [other], ["name"])[0]["name"]
    error = fault(client.execute, "sale.order", "action_confirm", [order, other])
    assert (error.faultCode, error.faultString) == (2, (
        f"Sales order {name} is on credit hold: Customer on stop. A user in the group Credit Controller "
        "(release tier: cfo) must release it first.\n"
        f"Sales order {other_name} is on credit hold: over_limit, grade. A user in the group Credit Controller "
        "must release it first."))
    assert client.execute("sale.order", "action_release_credit_hold", [order]) is True
    assert client.execute("sale.order", "action_confirm", [order]) is True

    # the risk flag defaults to "ok", also on the partners that existed when the addon was installed
    assert client.execute("res.partner", "search_count", [("credit_risk_flag", "!=", "ok")],
                          context={"active_test": False}) == 0
    new_partner = client.execute("res.partner", "create", {"name": "New customer"})
    assert client.execute("res.partner", "read", [new_partner], ["credit_risk_flag"])[0]["credit_risk_flag"] == "ok"
    clock.advance(seconds=30)
    values = {"credit_risk_flag": "stop", "credit_risk_grade": 5, "credit_exposure": 12500.0,
              "credit_effective_limit": 10000.0, "credit_headroom": -2500.0,
              "credit_evaluated_at": "2026-11-28 12:00:00"}
    assert client.execute("res.partner", "write", [10], values) is True
    row = client.execute("res.partner", "read", [10], list(values) + ["write_date"])[0]
    assert {k: row[k] for k in values} == values and row["write_date"] == "2026-11-28 12:00:30"
    assert client.execute("res.partner", "search", [("credit_risk_flag", "=", "stop")]) == [10]
    tracked = client.execute("mail.message", "search_read", [("model", "=", "res.partner"), ("res_id", "=", 10)],
                             ["body", "message_type"])
    assert tracked == [{"id": tracked[0]["id"], "body": "", "message_type": "notification"}]
    # writing credit_hold = False on a held order is for Credit Controllers only
    client.execute("sale.order", "write", [order], {"credit_hold": True})
    error = fault(client.execute, "sale.order", "write", [order], {"credit_hold": False}, uid=7, password="portal")
    assert error.faultCode == 4
    error = fault(client.execute, "res.partner", "write", [10], {"credit_risk_flag": "red"})
    assert error.faultCode == 1 and "Wrong value for res.partner.credit_risk_flag: 'red'" in error.faultString


@pytest.mark.parametrize("version", ["17", "19"])
def test_release_records_the_tier_and_the_reason(fresh, version: str) -> None:
    """The release records the tier (the sandbox's controller holds every tier: the hold's) and the reason; the
    addon as it was before its tiered release has neither field and releases all the same."""
    for tiers in (True, False):
        _sb, client, clock = fresh(version, addons=("credit_guard",), credit_guard_tiers=tiers)
        order = client.execute("sale.order", "search", [("state", "=", "draft")], limit=1, order="id")[0]
        client.execute("sale.order", "write", [order], HOLD)
        clock.advance(minutes=1)
        assert client.execute("sale.order", "action_release_credit_hold", [order],
                              reason="  Paid by wire today.  ") is True
        released = ["credit_hold", "credit_released_by", "credit_released_at"]
        if tiers:
            row = client.execute("sale.order", "read", [order], released + ["credit_released_tier",
                                                                            "credit_release_reason"])[0]
            assert (row["credit_released_tier"], row["credit_release_reason"]) == ("credit_manager",
                                                                                   "Paid by wire today.")
            continue
        fields = client.execute("sale.order", "fields_get", [], attributes=["type"])
        assert "credit_released_at" in fields and "credit_released_tier" not in fields
        assert "credit_release_reason" not in fields
        row = client.execute("sale.order", "read", [order], released)[0]
        assert row["credit_hold"] is False and row["credit_released_by"] == [2, "Mitchell Admin"]
        error = fault(client.execute, "sale.order", "read", [order], ["credit_released_tier"])
        assert error.faultString.rstrip().endswith(
            "ValueError: Invalid field 'credit_released_tier' on model 'sale.order'")


def test_older_addon_and_state_file_do_not_go_together(tmp_path) -> None:
    with pytest.raises(ValueError, match="credit_guard_tiers=False does not go with a state file"):
        OdooSandbox(addons=("credit_guard",), credit_guard_tiers=False, state=tmp_path / "state.db")


@pytest.mark.parametrize("version", ["17", "19"])
def test_without_the_addon_the_fields_do_not_exist(c17: Client, c19: Client, version: str) -> None:
    client = c17 if version == "17" else c19
    assert client.execute("ir.module.module", "search", [("name", "=", "credit_guard")]) == []
    assert "credit_hold" not in client.execute("sale.order", "fields_get", [], attributes=["type"])
    assert "credit_risk_flag" not in client.execute("res.partner", "fields_get", [], attributes=["type"])
    error = fault(client.execute, "sale.order", "read", [4], ["credit_hold"])
    assert error.faultCode == 1 and error.faultString.rstrip().endswith(
        "ValueError: Invalid field 'credit_hold' on model 'sale.order'")
    leaf = "condition" if version == "19" else "leaf"
    error = fault(client.execute, "sale.order", "search", [("credit_hold", "=", True)])
    assert error.faultString.rstrip().endswith(
        f"ValueError: Invalid field sale.order.credit_hold in {leaf} ('credit_hold', '=', True)")
    error = fault(client.execute, "res.partner", "write", [10], {"credit_risk_flag": "ok"})
    assert error.faultString.rstrip().endswith("ValueError: Invalid field 'credit_risk_flag' on model 'res.partner'")
    error = fault(client.execute, "sale.order", "action_release_credit_hold", [4])
    assert error.faultCode == 1 and "action_release_credit_hold" in error.faultString.rstrip().splitlines()[-1]


def test_unknown_addon_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown addon 'credit_gaurd': expected one of credit_guard"):
        OdooSandbox(addons=("credit_gaurd",))
