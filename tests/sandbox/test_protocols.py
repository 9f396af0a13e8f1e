"""Endpoints, versions, authentication and the None-returning methods."""

from __future__ import annotations

import xmlrpc.client

import pytest

from .conftest import DB, Client

VERSION_17 = {"protocol_version": 1, "server_serie": "17.0", "server_version": "17.0",
              "server_version_info": [17, 0, 0, "final", 0, ""]}
VERSION_19 = {"protocol_version": 1, "server_serie": "19.0", "server_version": "19.0",
              "server_version_info": [19, 0, 0, "final", 0, ""]}


def test_version_17(c17: Client) -> None:
    assert c17.common.version() == VERSION_17
    assert c17.legacy_common.version() == VERSION_17
    assert c17.jsonrpc("common", "version").json()["result"] == VERSION_17
    assert c17.http.get("/json/version").status_code == 404


def test_version_19(c19: Client) -> None:
    assert c19.common.version() == VERSION_19
    assert c19.jsonrpc("common", "version").json()["result"] == VERSION_19
    for path in ("/web/version", "/json/version"):
        response = c19.http.get(path)
        assert response.status_code == 200
        assert response.json() == {"version": "19.0", "version_info": [19, 0, 0, "final", 0, ""]}


def test_login_and_authenticate(c17: Client) -> None:
    assert c17.common.login(DB, "admin", "admin") == 2
    assert c17.common.authenticate(DB, "admin", "admin", {}) == 2
    assert c17.common.authenticate(DB, "portal", "portal", {}) == 7
    assert c17.common.authenticate(DB, "nobody", "admin", {}) is False
    assert c17.jsonrpc("common", "authenticate", DB, "admin", "admin", {}).json()["result"] == 2


def test_execute_positional(c17: Client) -> None:
    count = c17.object.execute(DB, 2, "admin", "res.currency", "search_count", [])
    assert count == 4
    assert c17.jsonrpc("object", "execute", DB, 2, "admin", "res.currency", "search_count", []).json()["result"] == 4


def test_lock_returns_none_after_committing(fresh) -> None:
    sb, client, _clock = fresh("17")
    order = client.execute("sale.order", "search", [("state", "=", "sale"), ("locked", "=", False)], limit=1)[0]
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("sale.order", "action_lock", [order])
    assert info.value.faultCode == 1
    assert info.value.faultString.rstrip().splitlines()[-1] == \
        "TypeError: cannot marshal None unless allow_none is enabled"
    assert client.execute("sale.order", "read", [order], ["state", "locked"]) == \
        [{"id": order, "locked": True, "state": "sale"}]
    # legacy endpoint: string fault code, lock still committed
    client.execute("sale.order", "write", [order], {"locked": False})
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.legacy_object.execute_kw(DB, 2, "admin", "sale.order", "action_lock", [[order]], {})
    assert info.value.faultCode == "cannot marshal None unless allow_none is enabled"
    assert client.execute("sale.order", "read", [order], ["locked"])[0]["locked"] is True
    # JSON-RPC answers null
    unlock = client.jsonrpc("object", "execute_kw", DB, 2, "admin", "sale.order", "action_unlock", [[order]], {})
    assert unlock.status_code == 200 and unlock.json()["result"] is None
    assert client.execute("sale.order", "read", [order], ["locked"])[0]["locked"] is False


def test_cancel_locked_order_is_refused(fresh) -> None:
    _sb, client, _clock = fresh("17")
    order = client.execute("sale.order", "search", [("state", "=", "sale"), ("locked", "=", True)], limit=1)[0]
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("sale.order", "action_cancel", [order])
    assert (info.value.faultCode, info.value.faultString) == \
        (2, "You cannot cancel a locked order. Please unlock it first.")


def test_confirm_twice(fresh) -> None:
    _sb, client, _clock = fresh("17")
    order = client.execute("sale.order", "search_read", [("state", "=", "draft")], ["name"], limit=1)[0]
    assert client.execute("sale.order", "action_confirm", [order["id"]]) is True
    with pytest.raises(xmlrpc.client.Fault) as info:
        client.execute("sale.order", "action_confirm", [order["id"]])
    assert (info.value.faultCode, info.value.faultString) == \
        (2, f"The following orders are not in a state requiring confirmation: {order['name']}")
    legacy = client.jsonrpc("object", "execute_kw", DB, 2, "admin", "sale.order", "action_confirm", [[order["id"]]], {})
    assert legacy.json()["error"]["data"]["name"] == "odoo.exceptions.UserError"


def test_calls_are_counted(fresh) -> None:
    sb, client, _clock = fresh("19")
    sb.reset_calls()
    client.common.version()
    client.jsonrpc("common", "version")
    client.json2("res.partner", "search_count", {"domain": []})
    client.http.get("/json/version")
    assert sb.calls == 4
    sb.reset_calls()
    assert sb.calls == 0


def test_unknown_paths_are_404(c17: Client, c19: Client) -> None:
    assert c17.http.post("/json/2/res.partner/search", json={}).status_code == 404
    assert c17.http.get("/nothing").status_code == 404
    response = c19.http.get("/json/2/res.partner/search")
    assert response.status_code == 404
    assert response.json()["message"] == "Did you mean POST /json/2/<model>/<method>?"


def test_context_get_and_modules(c17: Client) -> None:
    assert c17.execute("res.users", "context_get") == {"lang": "en_US", "tz": "Europe/Brussels", "uid": 2}
    modules = c17.execute("ir.module.module", "search_read", [("state", "=", "installed")], ["name"])
    assert {"base", "sale", "sale_management", "account"} <= {m["name"] for m in modules}


def test_check_access_rights(c17: Client) -> None:
    assert c17.execute("account.move", "check_access_rights", "read") is True
    assert c17.execute("account.move", "check_access_rights", "read", False, uid=7, password="portal") is False


def test_stop_drops_connections_and_restart_keeps_the_port(fresh) -> None:
    sb, client, _clock = fresh("17")
    assert client.http.get("/web/version").status_code == 200  # a kept-alive connection
    port = sb.port
    sb.stop()
    with pytest.raises(Exception):
        client.http.get("/web/version")
    with pytest.raises(ConnectionRefusedError):
        xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/common").version()
    sb.start()
    assert sb.port == port
    assert xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/common").version()["server_version"] == "17.0"


def test_concurrent_clients(c17: Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(n: int) -> int:
        proxy = xmlrpc.client.ServerProxy(f"{c17.sb.url}/xmlrpc/2/object")
        return len(proxy.execute_kw(DB, 2, "admin", "account.move", "search_read", [[]],
                                    {"fields": ["name", "partner_id"], "limit": 50, "offset": n}))

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(16))) == [50] * 16
