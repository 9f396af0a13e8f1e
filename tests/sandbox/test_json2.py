"""JSON-2 (Odoo 19): status codes and bodies as in api_probe.json; absent on 17."""

from __future__ import annotations

import pytest

from .conftest import Client

TB = "Traceback (most recent call last):"
JSON = "application/json; charset=utf-8"


def error(response, status: int, name: str, message: str, arguments: list | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert (body["name"], body["message"], body["context"]) == (name, message, {})
    assert body["arguments"] == (arguments if arguments is not None else [message])
    assert body["debug"].startswith(TB)


def test_search_read(c19: Client) -> None:
    response = c19.json2("res.partner", "search_read", {
        "domain": [["customer_rank", ">", 0]], "fields": ["name", "credit_limit", "property_payment_term_id"],
        "limit": 3, "order": "id", "context": {"lang": "en_US"}})
    assert response.status_code == 200 and response.headers["content-type"] == JSON
    rows = response.json()
    assert [sorted(r) for r in rows] == [["credit_limit", "id", "name", "property_payment_term_id"]] * 3
    assert rows[0]["id"] < rows[1]["id"] < rows[2]["id"]


def test_header_variants(c19: Client) -> None:
    key = c19.sb.DEFAULT_API_KEY
    for headers in ({"Authorization": f"Bearer {key}"}, {"authorization": f"bearer {key}"},
                    {"AUTHORIZATION": f"bearer {key}", "X-Odoo-Database": "demo"}):
        response = c19.json2("res.partner", "search_read", {"domain": [], "fields": ["name"], "limit": 1},
                             headers=headers)
        assert response.status_code == 200 and len(response.json()) == 1


def test_bad_and_missing_key(c19: Client) -> None:
    error(c19.json2("res.partner", "search_read", headers={"Authorization": "bearer wrong"}), 401,
          "werkzeug.exceptions.Unauthorized", "Invalid apikey", ["Invalid apikey", 401])
    message = "User not authenticated, use an API Key with a Bearer Authorization header."
    error(c19.json2("res.partner", "search_read", headers={}), 401, "werkzeug.exceptions.Unauthorized",
          message, [message, 401])
    password = c19.json2("res.partner", "search_read", headers={"Authorization": "bearer admin"})
    assert password.status_code == 401


def test_not_found(c19: Client) -> None:
    message = "the model 'no.such.model' does not exist"
    error(c19.json2("no.such.model", "search"), 404, "werkzeug.exceptions.NotFound", message, [message, 404])
    message = "The method 'res.partner.no_such_method' does not exist"
    error(c19.json2("res.partner", "no_such_method", {"ids": [10]}), 404, "werkzeug.exceptions.NotFound",
          message, [message, 404])


def test_domain_error_is_500(c19: Client) -> None:
    error(c19.json2("res.partner", "search", {"domain": [["no_such_field", "=", 1]]}), 500, "builtins.ValueError",
          "Invalid field res.partner.no_such_field in condition ('no_such_field', '=', 1)")
    error(c19.json2("sale.order", "search", {"domain": [["amount_to_invoice", ">", 0]]}), 500,
          "builtins.ValueError", "Cannot convert sale.order.amount_to_invoice to SQL because it is not stored")


def test_body_keys_are_keyword_arguments(c19: Client) -> None:
    error(c19.json2("res.partner", "search_read", {"args": [[]]}), 500, "builtins.TypeError",
          "BaseModel._read_format() got an unexpected keyword argument 'args'")
    message = "cannot call res.partner.search with ids"
    error(c19.json2("res.partner", "search", {"domain": [], "ids": [1]}), 422,
          "werkzeug.exceptions.UnprocessableEntity", message, [message, 422])
    message = "missing a required argument: 'domain'"
    error(c19.json2("res.partner", "search", {}), 422, "werkzeug.exceptions.UnprocessableEntity", message,
          [message, 422])


def test_private_method_is_403(c19: Client) -> None:
    error(c19.json2("res.partner", "_compute_display_name", {"ids": [1]}), 403, "odoo.exceptions.AccessError",
          "Private methods (such as 'res.partner._compute_display_name') cannot be called remotely.")


def test_user_error_is_422(c19: Client) -> None:
    posted = c19.json2("account.move", "search_read", {"domain": [["state", "=", "posted"]], "fields": ["name"],
                                                        "limit": 1, "order": "id"}).json()[0]
    error(c19.json2("account.move", "action_post", {"ids": [posted["id"]]}), 422, "odoo.exceptions.UserError",
          f"The entry {posted['name']} (id {posted['id']}) must be in draft.")


def test_read_and_write_missing(c19: Client) -> None:
    response = c19.json2("res.partner", "read", {"ids": [999999], "fields": ["name"]})
    assert response.status_code == 200 and response.json() == []
    error(c19.json2("res.partner", "write", {"ids": [999999], "vals": {"comment": "x"}}), 404,
          "odoo.exceptions.MissingError",
          "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)")


def test_create_write_and_null(fresh) -> None:
    _sb, client, _clock = fresh("19")
    created = client.json2("res.partner.category", "create", {"vals_list": [{"name": "Credit hold (probe)"}]})
    assert created.status_code == 200 and created.json() == [8]
    single = client.json2("res.partner.category", "create", {"vals_list": {"name": "Single"}})
    assert single.json() == [9]
    assert client.json2("res.partner", "write", {"ids": [10], "vals": {"category_id": [[4, 8]]}}).json() is True
    assert 8 in client.json2("res.partner", "read", {"ids": [10], "fields": ["category_id"]}).json()[0]["category_id"]
    order = client.json2("sale.order", "search", {"domain": [["state", "=", "sale"], ["locked", "=", False]],
                                                   "limit": 1}).json()[0]
    locked = client.json2("sale.order", "action_lock", {"ids": [order]})
    assert locked.status_code == 200 and locked.json() is None
    read = client.json2("sale.order", "read", {"ids": [order], "fields": ["state", "locked"]}).json()
    assert read == [{"id": order, "state": "sale", "locked": True}]
    error(client.json2("sale.order", "action_cancel", {"ids": [order]}), 422, "odoo.exceptions.UserError",
          "You cannot cancel a locked order. Please unlock it first.")


def test_context_is_honoured(c19: Client) -> None:
    everything = c19.json2("account.move", "search_count", {"domain": []}).json()
    eu_only = c19.json2("account.move", "search_count", {"domain": [], "context": {"allowed_company_ids": [2]}}).json()
    assert 0 < eu_only < everything


@pytest.mark.parametrize("path", ["/json/2/res.partner/search_read", "/json/2"])
def test_json2_absent_on_17(c17: Client, path: str) -> None:
    response = c17.http.post(path, json={}, headers={"Authorization": f"bearer {c17.sb.DEFAULT_API_KEY}"})
    assert response.status_code == 404
