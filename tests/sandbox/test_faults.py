"""Error answers of /xmlrpc/2, legacy /xmlrpc and /jsonrpc, compared with a real Odoo 17 (faults.json)."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from .conftest import DB, Client

TB = "Traceback (most recent call last):"
COOKIES = ("If you really, really need access, perhaps you can win over your friendly administrator "
           "with a batch of freshly baked cookies.")
NO_DB = ('connection to server at "127.0.0.1", port 55432 failed: FATAL:  database "no_such_db" does not exist\n')


def fault_of(proxy: xmlrpc.client.ServerProxy, method: str, *args: Any) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        getattr(proxy, method)(*args)
    return info.value


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def jsonrpc_error(client: Client, service: str, method: str, *args: Any) -> dict[str, Any]:
    response = client.jsonrpc(service, method, *args)
    assert response.status_code == 200
    body = response.json()
    assert "result" not in body, body
    return body["error"]


# (case, service, method, args, xmlrpc/2 code, message or traceback last line, legacy faultCode, json name)
MESSAGE_CASES = [
    ("execute_kw_wrong_password", "object", "execute_kw",
     [DB, 2, "wrong", "res.partner", "search_count", [[]], {}],
     3, "Access Denied", "AccessDenied", "odoo.exceptions.AccessDenied"),
    ("execute_kw_unknown_uid", "object", "execute_kw",
     [DB, 9999, "admin", "res.partner", "search_count", [[]], {}],
     2, "Record does not exist or has been deleted.\n(Record: res.users(9999,), User: 9999)",
     "warning -- MissingError\n\nRecord does not exist or has been deleted.\n(Record: res.users(9999,), User: 9999)",
     "odoo.exceptions.MissingError"),
    ("unknown_model", "object", "execute_kw", [DB, 2, "admin", "no.such.model", "search", [[]], {}],
     2, "Object no.such.model doesn't exist", "warning -- UserError\n\nObject no.such.model doesn't exist",
     "odoo.exceptions.UserError"),
    ("write_missing_record", "object", "execute_kw",
     [DB, 2, "admin", "res.partner", "write", [[999999], {"comment": "x"}], {}],
     2, "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)",
     "warning -- MissingError\n\nRecord does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)",
     "odoo.exceptions.MissingError"),
    ("private_method", "object", "execute_kw", [DB, 2, "admin", "res.partner", "_compute_display_name", [[10]], {}],
     4, "Private methods (such as _compute_display_name) cannot be called remotely.",
     "warning -- AccessError\n\nPrivate methods (such as _compute_display_name) cannot be called remotely.",
     "odoo.exceptions.AccessError"),
    ("portal_write_sale_order", "object", "execute_kw", [DB, 7, "portal", "sale.order", "write", [[4], {"note": "x"}], {}],
     4, "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, Joel Willis (id=7) doesn't "
        f"have 'read' access to:\n- Sales Order (sale.order)\n\n{COOKIES}",
     "warning -- AccessError\n\nUh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, Joel "
     f"Willis (id=7) doesn't have 'read' access to:\n- Sales Order (sale.order)\n\n{COOKIES}",
     "odoo.exceptions.AccessError"),
    ("portal_read_foreign_sale_order", "object", "execute_kw", [DB, 7, "portal", "sale.order", "read", [[4], ["name"]], {}],
     4, "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, Joel Willis (id=7) doesn't "
        f"have 'read' access to:\n- Sales Order (sale.order)\n\n{COOKIES}",
     None, "odoo.exceptions.AccessError"),
    ("portal_write_res_partner_credit_limit", "object", "execute_kw",
     [DB, 7, "portal", "res.partner", "write", [[10], {"credit_limit": 1.0}], {}],
     4, "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, Joel Willis (id=7) doesn't "
        f"have 'read' access to:\n- Contact (res.partner)\n\n{COOKIES}",
     None, "odoo.exceptions.AccessError"),
    ("unlink_posted_invoice", "object", "execute_kw", [DB, 2, "admin", "account.move", "unlink", [[1]], {}],
     2, "You can't delete a posted journal item. Don\u2019t play games with your accounting records; reset the "
        "journal entry to draft before deleting it.", None, "odoo.exceptions.UserError"),
]

TRACEBACK_CASES = [
    ("login_unknown_database", "common", "login", ["no_such_db", "admin", "admin"],
     'psycopg2.OperationalError: connection to server at "127.0.0.1", port 55432 failed: FATAL:  database '
     '"no_such_db" does not exist', NO_DB, "psycopg2.OperationalError", NO_DB),
    ("execute_kw_unknown_database", "object", "execute_kw", ["no_such_db", 2, "admin", "res.partner", "search_count", [[]], {}],
     'psycopg2.OperationalError: connection to server at "127.0.0.1", port 55432 failed: FATAL:  database '
     '"no_such_db" does not exist', NO_DB, "psycopg2.OperationalError", NO_DB),
    ("unknown_field_in_domain", "object", "execute_kw",
     [DB, 2, "admin", "res.partner", "search", [[["no_such_field", "=", 1]]], {}],
     "ValueError: Invalid field res.partner.no_such_field in leaf ('no_such_field', '=', 1)",
     "Invalid field res.partner.no_such_field in leaf ('no_such_field', '=', 1)", "builtins.ValueError",
     "Invalid field res.partner.no_such_field in leaf ('no_such_field', '=', 1)"),
    ("unknown_field_in_read", "object", "execute_kw", [DB, 2, "admin", "res.partner", "read", [[10], ["name", "no_such_field"]], {}],
     "ValueError: Invalid field 'no_such_field' on model 'res.partner'",
     "Invalid field 'no_such_field' on model 'res.partner'", "builtins.ValueError",
     "Invalid field 'no_such_field' on model 'res.partner'"),
    ("invalid_selection_write_res_partner_type", "object", "execute_kw",
     [DB, 2, "admin", "res.partner", "write", [[10], {"type": "bogus"}], {}],
     "ValueError: Wrong value for res.partner.type: 'bogus'", "Wrong value for res.partner.type: 'bogus'",
     "builtins.ValueError", "Wrong value for res.partner.type: 'bogus'"),
    ("invalid_selection_write_sale_order_state", "object", "execute_kw",
     [DB, 2, "admin", "sale.order", "write", [[3], {"state": "bogus"}], {}],
     "ValueError: Wrong value for sale.order.state: 'bogus'", "Wrong value for sale.order.state: 'bogus'",
     "builtins.ValueError", "Wrong value for sale.order.state: 'bogus'"),
    ("method_does_not_exist", "object", "execute_kw", [DB, 2, "admin", "res.partner", "no_such_method", [[10]], {}],
     "AttributeError: The method 'no_such_method' does not exist on the model 'res.partner'",
     "The method 'no_such_method' does not exist on the model 'res.partner'", "builtins.AttributeError",
     "The method 'no_such_method' does not exist on the model 'res.partner'"),
]


@pytest.mark.parametrize("case", MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
def test_message_faults_on_all_endpoints(c17: Client, case: tuple) -> None:
    _name, service, method, args, code, message, legacy_code, json_name = case
    proxy = c17.object if service == "object" else c17.common
    fault = fault_of(proxy, method, *args)
    assert (fault.faultCode, fault.faultString) == (code, message)
    if legacy_code is not None:
        legacy = fault_of(c17.legacy_object if service == "object" else c17.legacy_common, method, *args)
        expected_string = message if legacy_code == "AccessDenied" else ""
        assert (legacy.faultCode, legacy.faultString) == (legacy_code, expected_string)
    error = jsonrpc_error(c17, service, method, *args)
    assert error["code"] == 200 and error["message"] == "Odoo Server Error"
    data = error["data"]
    assert (data["name"], data["message"], data["arguments"], data["context"]) == (json_name, message, [message], {})
    assert data["debug"].startswith(TB)
    assert last_line(data["debug"]).endswith(message.splitlines()[-1])


@pytest.mark.parametrize("case", TRACEBACK_CASES, ids=[c[0] for c in TRACEBACK_CASES])
def test_traceback_faults_on_all_endpoints(c17: Client, case: tuple) -> None:
    _name, service, method, args, tb_last, legacy_code, json_name, json_message = case
    proxy = c17.object if service == "object" else c17.common
    fault = fault_of(proxy, method, *args)
    assert fault.faultCode == 1
    assert fault.faultString.startswith(TB) and last_line(fault.faultString) == tb_last
    legacy = fault_of(c17.legacy_object if service == "object" else c17.legacy_common, method, *args)
    assert legacy.faultCode == legacy_code
    assert legacy.faultString.startswith(TB) and last_line(legacy.faultString) == tb_last
    data = jsonrpc_error(c17, service, method, *args)["data"]
    assert (data["name"], data["message"], data["arguments"]) == (json_name, json_message, [json_message])
    assert data["debug"].startswith(TB) and last_line(data["debug"]) == tb_last


@pytest.mark.parametrize("method,args", [("login", [DB, "admin", "wrong"]),
                                         ("authenticate", [DB, "admin", "wrong", {}])])
def test_wrong_password_is_false_not_a_fault(c17: Client, method: str, args: list) -> None:
    assert getattr(c17.common, method)(*args) is False
    assert getattr(c17.legacy_common, method)(*args) is False
    assert c17.jsonrpc("common", method, *args).json()["result"] is False


def test_read_missing_record_is_empty(c17: Client) -> None:
    args = [DB, 2, "admin", "res.partner", "read", [[999999], ["name"]], {}]
    assert c17.object.execute_kw(*args) == []
    assert c17.legacy_object.execute_kw(*args) == []
    assert c17.jsonrpc("object", "execute_kw", *args).json()["result"] == []


def test_portal_has_no_access_to_invoices(c17: Client) -> None:
    fault = fault_of(c17.object, "execute_kw", DB, 7, "portal", "account.move", "search_read", [[]],
                     {"fields": ["name"], "limit": 1})
    assert fault.faultCode == 4
    assert fault.faultString.startswith("You are not allowed to access 'Journal Entry' (account.move) records.")
    assert fault.faultString.endswith("Contact your administrator to request access if necessary.")


def test_portal_sees_only_its_own_partner(c17: Client) -> None:
    ids = c17.execute("res.partner", "search", [], uid=7, password="portal")
    assert ids == [5]
    assert c17.execute("sale.order", "search_count", [], uid=7, password="portal") == 0


def test_jsonrpc_error_code_is_0_on_19(c19: Client) -> None:
    error = jsonrpc_error(c19, "object", "execute_kw", DB, 2, "admin", "no.such.model", "search", [[]], {})
    assert error["code"] == 0
    assert error["data"]["message"] == "Object no.such.model doesn't exist"


@pytest.mark.parametrize("args,message,code", [
    (["res.partner", "search", [[["no_such_field", "=", 1]]]],
     "ValueError: Invalid field res.partner.no_such_field in condition ('no_such_field', '=', 1)", 1),
    (["res.partner", "_compute_display_name", [[10]]],
     "Private methods (such as 'res.partner._compute_display_name') cannot be called remotely.", 4),
    (["res.partner", "no_such_method", [[10]]], "AttributeError: The method 'res.partner.no_such_method' does not exist", 1),
    (["sale.order", "search", [[["amount_to_invoice", ">", 0]]]],
     "ValueError: Cannot convert sale.order.amount_to_invoice to SQL because it is not stored", 1),
])
def test_19_messages(c19: Client, args: list, message: str, code: int) -> None:
    fault = fault_of(c19.object, "execute_kw", DB, 2, "admin", *args, {})
    assert fault.faultCode == code
    assert (last_line(fault.faultString) if code == 1 else fault.faultString) == message


def test_api_key_works_as_password(c17: Client, c19: Client) -> None:
    for client in (c17, c19):
        key = client.sb.DEFAULT_API_KEY
        assert client.common.authenticate(DB, "admin", key, {}) == 2
        assert client.common.login(DB, "admin", key) == 2
        assert sorted(client.object.execute_kw(DB, 2, key, "res.company", "search", [[]], {})) == [1, 2]
