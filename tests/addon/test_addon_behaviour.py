"""Behaviour of the credit_guard addons' Python code (17.0 and the 19.0 port), on the stand-in ORM.

Confirmation of held orders, the real-time check against a real HTTP server on 127.0.0.1
(hold / approve / 503 / timeout / nothing listening, fail open and closed), and the release.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import pytest

from .harness import ADMIN, CONTROLLER, CONTROLLER_GROUP, DAEMON, OTHER_SALESMAN, SALESMAN, SECURITY_DIRS


def user_error_types():
    from odoo.exceptions import AccessError, UserError

    return UserError, AccessError


REASON = "Payment of 7,000.00 USD received today."


def held(world, **vals):
    values = {
        "credit_hold": True,
        "credit_hold_reasons": "Exposure 132,000.00 USD exceeds the limit 125,000.00 USD by 7,000.00 USD.\n"
                               "2 invoices more than 30 days overdue (4,200.00 USD).",
        "credit_hold_codes": "over_limit,overdue",
        "credit_release_tier": "credit_manager",
        "credit_hold_since": datetime.now().replace(microsecond=0) - timedelta(hours=1),
        "credit_hold_key": "S00001:3",
    }
    values.update(vals)
    return world.order(**values)


# ------------------------------------------------------------------- fields


def test_fields_as_specified(world):
    so = world.registry.classes["sale.order"]._field_map()
    assert so["credit_hold"].type == "boolean"
    assert so["credit_hold"].tracking and so["credit_hold"].index and so["credit_hold"].copy is False
    assert so["credit_hold_reasons"].type == "text"
    assert so["credit_hold_codes"].type == "char"
    assert so["credit_hold_since"].type == "datetime"
    assert so["credit_release_tier"].type == "char"
    assert so["credit_hold_key"].type == "char" and so["credit_hold_key"].readonly
    assert so["credit_released_by"].type == "many2one" and so["credit_released_by"].comodel_name == "res.users"
    assert so["credit_released_by"].readonly and so["credit_released_at"].readonly
    assert so["credit_released_at"].type == "datetime"
    for name, field in so.items():
        if name.startswith("credit_"):
            assert field.copy is False, f"{name}: a duplicated order must not inherit the hold"

    partner = world.registry.classes["res.partner"]._field_map()
    assert partner["credit_risk_grade"].type == "integer"
    assert partner["credit_risk_flag"].type == "selection"
    assert [key for key, _label in partner["credit_risk_flag"].selection] == ["ok", "watch", "stop"]
    assert partner["credit_risk_flag"].default == "ok"
    for name in ("credit_exposure", "credit_effective_limit", "credit_headroom"):
        assert partner[name].type == "monetary"
        assert partner[name].currency_field == "currency_id"  # account's res.partner.currency_id
    assert partner["credit_evaluated_at"].type == "datetime"


def test_partner_defaults_to_ok_flag(world):
    partner = world.env(ADMIN, su=True)["res.partner"].create({"name": "Azure Interior"})
    assert partner.credit_risk_flag == "ok"
    # the daemon writes the credit file
    partner.write({"credit_risk_grade": 7, "credit_risk_flag": "watch", "credit_exposure": 132000.0,
                   "credit_effective_limit": 125000.0, "credit_headroom": -7000.0,
                   "credit_evaluated_at": datetime(2026, 11, 28, 10, 0)})
    assert (partner.credit_risk_grade, partner.credit_risk_flag, partner.credit_headroom) == (7, "watch", -7000.0)


# ------------------------------------------------------------ confirm / hold


def test_held_order_is_not_confirmed_and_the_error_names_reasons_and_tier(world):
    UserError, _ = user_error_types()
    order = held(world)
    with pytest.raises(UserError) as err:
        world.call(SALESMAN, "action_confirm", order)
    message = str(err.value)
    assert type(err.value) is UserError
    assert message.startswith(f"Sales order {order.name} is on credit hold: ")
    assert message == (
        f"Sales order {order.name} is on credit hold: Exposure 132,000.00 USD exceeds the limit 125,000.00 USD "
        "by 7,000.00 USD; 2 invoices more than 30 days overdue (4,200.00 USD). A user in the group "
        "Credit Controller (release tier: credit_manager) must release it first."
    )
    assert world.registry.confirm_calls == []
    assert world.read(order)["state"] == "draft"


def test_held_order_without_reasons_or_tier_still_explains(world):
    UserError, _ = user_error_types()
    order = world.order(credit_hold=True)
    with pytest.raises(UserError) as err:
        world.call(SALESMAN, "action_confirm", order)
    assert str(err.value) == (f"Sales order {order.name} is on credit hold: no reason given. "
                              "A user in the group Credit Controller must release it first.")
    # codes stand in for missing reasons
    order = world.order(credit_hold=True, credit_hold_codes="over_limit,overdue")
    with pytest.raises(UserError, match=r"on credit hold: over_limit, overdue\. A user"):
        world.call(SALESMAN, "action_confirm", order)


def test_one_held_order_blocks_the_batch(world):
    UserError, _ = user_error_types()
    free, blocked = world.order(), held(world)
    with pytest.raises(UserError, match=blocked.name):
        world.call(SALESMAN, "action_confirm", free | blocked)
    assert world.registry.confirm_calls == []
    assert world.read(free)["state"] == "draft"


def test_order_not_held_is_confirmed_by_super(world):
    order = world.order()
    assert world.call(SALESMAN, "action_confirm", order) is True
    assert world.registry.confirm_calls == [(order.id,)]
    assert world.read(order)["state"] == "sale"


def test_without_check_url_or_token_nothing_is_asked(world, daemon):
    world.set_params(check_url=daemon.url)  # no token
    order = world.order()
    world.call(SALESMAN, "action_confirm", order)
    assert daemon.requests == []
    assert world.read(order)["state"] == "sale"


# ----------------------------------------------------------- real-time check

HOLD_ANSWER = {
    "order": "S00001",
    "decision": "hold",
    "reasons": [
        {"code": "over_limit", "message": "Exposure 132,000.00 USD exceeds the limit 125,000.00 USD by 750.00 USD."},
        {"code": "overdue", "message": "Invoices more than 30 days overdue: 4,200.00 USD."},
    ],
    "release_tier": "credit_manager",
    "hold_key": "S00001:7",
}


def configure(world, url, **extra):
    world.set_params(check_url=url, check_token="s3cret-token", **extra)


def test_check_hold_puts_the_order_on_hold_and_refuses(world, daemon):
    UserError, _ = user_error_types()
    configure(world, daemon.url, source="odoo-prod")
    order = world.order()
    daemon.answer(order.name, body=dict(HOLD_ANSWER, order=order.name))
    before = datetime.now().replace(microsecond=0)
    with pytest.raises(UserError) as err:
        world.call(SALESMAN, "action_confirm", order)
    message = str(err.value)
    assert message == (
        f"Sales order {order.name} is on credit hold: Exposure 132,000.00 USD exceeds the limit 125,000.00 USD "
        "by 750.00 USD; Invoices more than 30 days overdue: 4,200.00 USD. A user in the group Credit Controller "
        "(release tier: credit_manager) must release it first."
    )
    assert world.registry.confirm_calls == []

    # what was sent
    (request,) = daemon.requests
    assert request["path"] == "/v1/check"
    assert request["payload"]["source"] == "odoo-prod" and request["payload"]["event"] == "confirm"
    assert request["payload"]["order"]["reference"] == order.name
    assert request["headers"]["Authorization"] == "Bearer s3cret-token"
    assert request["headers"]["Content-Type"] == "application/json"

    # the hold survives the rollback of the refused confirmation: it was committed on its own
    row = world.read(order)
    assert row["state"] == "draft"
    assert row["credit_hold"] is True
    assert row["credit_hold_codes"] == "over_limit,overdue"
    assert row["credit_hold_reasons"].splitlines() == [r["message"] for r in HOLD_ANSWER["reasons"]]
    assert row["credit_release_tier"] == "credit_manager"
    assert row["credit_hold_key"] == "S00001:7"
    assert before <= row["credit_hold_since"] <= datetime.now()
    assert world.registry.commits == 1

    # and the next attempt is refused without asking again
    with pytest.raises(UserError, match="is on credit hold"):
        world.call(SALESMAN, "action_confirm", order)
    assert len(daemon.requests) == 1


def test_check_hold_when_the_row_is_locked_falls_back_to_the_current_transaction(world, daemon, caplog):
    UserError, _ = user_error_types()
    configure(world, daemon.url)
    order = world.order()
    daemon.answer(order.name, body=HOLD_ANSWER)
    world.registry.locked_ids.add(order.id)
    with caplog.at_level(logging.WARNING), pytest.raises(UserError, match="is on credit hold"):
        world.call(SALESMAN, "action_confirm", order)
    assert "Could not commit the credit hold" in caplog.text
    # written in the refused transaction only: rolled back with it (the daemon records it anyway)
    assert world.read(order)["credit_hold"] is False


def test_check_accepts_plain_reasons_and_codes(world, daemon):
    UserError, _ = user_error_types()
    configure(world, daemon.url)
    order = world.order()
    daemon.answer(order.name, body={"decision": "hold", "reasons": "Customer on stop list", "codes": "grade",
                                    "tier": "cfo"})
    with pytest.raises(UserError, match=r"on credit hold: Customer on stop list\. .*\(release tier: cfo\)"):
        world.call(SALESMAN, "action_confirm", order)
    row = world.read(order)
    assert (row["credit_hold_codes"], row["credit_release_tier"]) == ("grade", "cfo")


def test_check_approve_confirms(world, daemon):
    configure(world, daemon.url)
    order = world.order()
    daemon.answer(order.name, body={"order": order.name, "decision": "approve", "reasons": []})
    assert world.call(SALESMAN, "action_confirm", order) is True
    assert world.read(order)["state"] == "sale"
    assert world.read(order)["credit_hold"] is False
    assert [r["payload"]["order"]["reference"] for r in daemon.requests] == [order.name]


def test_check_sends_the_order_as_it_is_now(world, daemon):
    """The daemon decides on these facts whether or not it has synced the order or the customer."""
    configure(world, daemon.url)
    root = world.env(ADMIN, su=True)
    company = root["res.partner"].create({"name": "Azure Interior", "ref": "C00042", "credit_limit": 10000.0})
    company.write({"commercial_partner_id": company.id})
    contact = root["res.partner"].create({"name": "Brandon Freeman", "parent_id": company.id,
                                          "commercial_partner_id": company.id})
    order = world.order(partner_id=contact.id, amount_total=6000.5, amount_invoiced=1000.25,
                        date_order=datetime(2026, 12, 2, 9, 30))
    assert world.call(SALESMAN, "action_confirm", order) is True
    (request,) = daemon.requests
    assert request["payload"] == {
        "source": "odoo",
        "event": "confirm",
        "order": {"erp_id": str(order.id), "reference": order.name, "state": "draft", "currency": "USD",
                  "amount_total": "6000.50", "amount_uninvoiced": "5000.25",
                  "company_id": str(world.registry.company_id), "date": "2026-12-02"},
        "customer": {"erp_id": str(contact.id), "name": "Azure Interior, Brandon Freeman",
                     "commercial_erp_id": str(company.id), "commercial_name": "Azure Interior",
                     "commercial_ref": "C00042", "credit_limit": "10000.00", "credit_limit_currency": "USD"},
    }


def test_the_facts_are_what_the_daemon_reads(world, daemon):
    """What the addon sends passes the daemon's own request check."""
    from creditguard.check_request import parse_check_request

    configure(world, daemon.url)
    order = world.order(amount_total=1234.5)
    world.call(SALESMAN, "action_confirm", order)
    facts = parse_check_request(daemon.requests[0]["payload"], {"odoo"})
    assert facts.confirm and facts.order.number == order.name and str(facts.order.amount_total) == "1234.50"
    assert facts.customer.commercial_ref == "C00010" and str(facts.customer.credit_limit) == "25000.00"


def test_check_only_asks_about_quotations(world, daemon):
    UserError, _ = user_error_types()
    configure(world, daemon.url)
    order = world.order(state="sale")
    with pytest.raises(UserError, match="not in a state requiring confirmation"):
        world.call(SALESMAN, "action_confirm", order)
    assert daemon.requests == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_daemon_5xx_fail_open_confirms_with_a_warning(world, daemon, caplog, status):
    configure(world, daemon.url)  # fail_mode unset: open
    order = world.order()
    daemon.answer(order.name, status=status, body={"error": "store unavailable"})
    with caplog.at_level(logging.WARNING):
        assert world.call(SALESMAN, "action_confirm", order) is True
    assert world.read(order)["state"] == "sale"
    assert f"CreditGuard check of sales order {order.name} failed (HTTP {status})" in caplog.text
    assert "fail_mode = open" in caplog.text
    assert "s3cret-token" not in caplog.text


def test_daemon_503_fail_closed_refuses(world, daemon):
    UserError, _ = user_error_types()
    configure(world, daemon.url, fail_mode="closed")
    order = world.order()
    daemon.answer(order.name, status=503, body={"error": "store unavailable"})
    with pytest.raises(UserError) as err:
        world.call(SALESMAN, "action_confirm", order)
    assert type(err.value) is UserError
    assert str(err.value).startswith(f"CreditGuard could not be reached to check sales order {order.name} (HTTP 503)")
    assert world.read(order)["state"] == "draft"
    assert world.read(order)["credit_hold"] is False


@pytest.mark.parametrize("fail_mode", ["open", "closed"])
def test_daemon_unreachable(world, closed_port, caplog, fail_mode):
    UserError, _ = user_error_types()
    configure(world, "http://127.0.0.1:%d/v1/check" % closed_port, fail_mode=fail_mode)
    order = world.order()
    if fail_mode == "open":
        with caplog.at_level(logging.WARNING):
            world.call(SALESMAN, "action_confirm", order)
        assert world.read(order)["state"] == "sale"
        assert "connection failed: ConnectionError" in caplog.text
    else:
        with pytest.raises(UserError, match=r"could not be reached .* \(connection failed\)"):
            world.call(SALESMAN, "action_confirm", order)
        assert world.read(order)["state"] == "draft"


@pytest.mark.parametrize("fail_mode", ["open", "closed"])
def test_daemon_timeout_uses_check_timeout(world, daemon, fail_mode):
    UserError, _ = user_error_types()
    configure(world, daemon.url, fail_mode=fail_mode, check_timeout="0.3")
    order = world.order()
    daemon.answer(order.name, body=HOLD_ANSWER, delay=2.0)
    started = time.monotonic()
    if fail_mode == "open":
        world.call(SALESMAN, "action_confirm", order)
        assert world.read(order)["state"] == "sale"
    else:
        with pytest.raises(UserError, match=r"\(no answer in time\)"):
            world.call(SALESMAN, "action_confirm", order)
        assert world.read(order)["state"] == "draft"
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    "status, body",
    [(200, "<html>proxy error</html>"), (200, {"decision": "maybe"}), (200, ["hold"]), (404, {"error": "unknown"}),
     (401, {"error": "bad token"})],
)
def test_unusable_answers_follow_the_fail_mode(world, daemon, status, body):
    UserError, _ = user_error_types()
    configure(world, daemon.url, fail_mode="closed")
    order = world.order()
    daemon.answer(order.name, status=status, body=body)
    with pytest.raises(UserError, match="could not be reached"):
        world.call(SALESMAN, "action_confirm", order)
    world.set_params(fail_mode="open")
    world.call(SALESMAN, "action_confirm", order)
    assert world.read(order)["state"] == "sale"


def test_unknown_fail_mode_fails_closed(world, daemon):
    UserError, _ = user_error_types()
    configure(world, daemon.url, fail_mode="shut")
    order = world.order()
    daemon.answer(order.name, status=503)
    with pytest.raises(UserError, match="could not be reached"):
        world.call(SALESMAN, "action_confirm", order)


def test_parameters_are_read_with_sudo(world, daemon):
    """A salesman cannot read ir.config_parameter: the addon reads the parameters as superuser."""
    configure(world, daemon.url)
    order = world.order()
    world.call(SALESMAN, "action_confirm", order)
    assert len(daemon.requests) == 1


@pytest.mark.parametrize(
    "value, expected",
    [(None, 3.0), ("", 3.0), ("5", 5.0), ("0.5", 0.5), ("abc", 3.0), ("0", 3.0), ("-1", 3.0), ("1000", 3.0)],
)
def test_timeout_parameter(world, value, expected):
    assert world.module.parse_timeout(value) == expected


# ------------------------------------------------------------------- release


def test_controller_releases(world):
    order = held(world, amount_total=1250.0)
    before = datetime.now().replace(microsecond=0)
    assert world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON) is True
    row = world.read(order)
    assert row["credit_hold"] is False
    assert row["credit_released_by"] == world.uids[CONTROLLER]
    assert before <= row["credit_released_at"] <= datetime.now()
    assert row["credit_released_amount"] == 1250.0
    (message,) = world.registry.messages
    assert message["res_id"] == order.id and message["subtype_xmlid"] == "mail.mt_note"
    assert message["body"] == (
        "Credit hold released by Carla Credit as Credit Manager: Payment of 7,000.00 USD received today. "
        "(reasons of the hold: Exposure 132,000.00 USD exceeds the limit 125,000.00 USD by 7,000.00 USD; "
        "2 invoices more than 30 days overdue (4,200.00 USD))."
    )
    assert row["credit_released_tier"] == "credit_manager" and row["credit_release_reason"] == REASON
    # the release is kept for the daemon and for the record
    assert row["credit_hold_reasons"] and row["credit_hold_key"] == "S00001:3"


@pytest.mark.parametrize("who", [SALESMAN])
def test_others_cannot_release(world, who):
    _, AccessError = user_error_types()
    order = held(world)
    with pytest.raises(AccessError, match="Only a user in the group Credit Controller"):
        world.call(who, "action_release_credit_hold", order)
    assert world.read(order)["credit_hold"] is True
    assert world.registry.messages == []


def test_others_cannot_clear_the_hold_by_writing(world):
    _, AccessError = user_error_types()
    order = held(world)
    with pytest.raises(AccessError):
        world.call(SALESMAN, "write", order, {"credit_hold": False})
    assert world.read(order)["credit_hold"] is True
    # setting a hold, or writing other fields, is open to all
    world.call(SALESMAN, "write", order, {"credit_hold": True, "credit_hold_codes": "overdue"})
    # the daemon's integration user (a Credit Controller) and the superuser may clear it
    world.call(DAEMON, "write", order, {"credit_hold": False})
    assert world.read(order)["credit_hold"] is False
    other = held(world)
    world.env(SALESMAN, su=True)["sale.order"].browse(other.id).write({"credit_hold": False})
    assert world.read(other)["credit_hold"] is False


def test_released_order_confirms_without_asking_again(world, daemon):
    configure(world, daemon.url)
    order = held(world)
    daemon.answer(order.name, body=HOLD_ANSWER)  # the daemon would still hold it
    world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON)
    assert world.call(SALESMAN, "action_confirm", order) is True
    assert daemon.requests == []
    assert world.read(order)["state"] == "sale"


def test_release_does_not_cover_a_larger_order(world, daemon):
    UserError, _ = user_error_types()
    configure(world, daemon.url)
    order = held(world, amount_total=1000.0)
    daemon.answer(order.name, body=HOLD_ANSWER)
    world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON)
    world.env(ADMIN, su=True)["sale.order"].browse(order.id).write({"amount_total": 1500.0})
    with pytest.raises(UserError, match="is on credit hold"):
        world.call(SALESMAN, "action_confirm", order)
    assert len(daemon.requests) == 1
    # a new hold after the release is not covered by the old release either
    row = world.read(order)
    assert row["credit_hold"] is True and row["credit_hold_since"] >= row["credit_released_at"]


def test_admin_is_a_controller(world):
    order = held(world)
    world.call(ADMIN, "action_release_credit_hold", order, reason=REASON)
    assert world.read(order)["credit_hold"] is False


# ------------------------------------------------- access rights (ACLs and record rules)


def captured_fault(world, key, who=SALESMAN):
    """The fault text the real server gave sam (faults.json), for the World's user."""
    import json
    import re

    text = json.loads((SECURITY_DIRS[world.addon_name] / "faults.json").read_text())[key]["faultString"]
    user = world.env(ADMIN, su=True)["res.users"].browse(world.uids[who])
    return re.sub(r"Sam Salesman \(id=\d+\)", f"{user.name} (id={user.id})", text)


def test_controller_opens_and_releases_another_salespersons_order(world):
    order = held(world, user_id=world.uids[OTHER_SALESMAN])
    (row,) = world.call(CONTROLLER, "read", order, ["name", "user_id", "credit_hold"])
    assert row["credit_hold"] is True and row["user_id"] == world.uids[OTHER_SALESMAN]
    assert world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON) is True
    row = world.read(order)
    assert row["credit_hold"] is False and row["credit_released_by"] == world.uids[CONTROLLER]
    # ... and every order of her company, whoever sells it
    mine, unassigned = world.order(), world.order(user_id=False)
    found = world.env(CONTROLLER)["sale.order"].search([])
    assert set(found.ids) == {order.id, mine.id, unassigned.id}


def test_controller_group_implies_all_documents(world):
    user = world.env(CONTROLLER)["res.users"].browse(world.uids[CONTROLLER])
    for group in (CONTROLLER_GROUP, "sales_team.group_sale_salesman_all_leads", "sales_team.group_sale_salesman",
                  "base.group_user"):
        assert user.has_group(group), group
    assert not user.has_group("sales_team.group_sale_manager")
    salesman = world.env(SALESMAN)["res.users"].browse(world.uids[SALESMAN])
    assert not salesman.has_group("sales_team.group_sale_salesman_all_leads")


def test_controller_implying_only_own_documents_fails_like_real_odoo(world):
    """The addon's former security (the controller implied "Own Documents Only"): Odoo's AccessError."""
    _, AccessError = user_error_types()
    world.registry.access.data.set_implied(CONTROLLER_GROUP, ["sales_team.group_sale_salesman"])
    order = held(world)
    with pytest.raises(AccessError) as err:
        world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON)
    assert str(err.value) == captured_fault(world, "sale.order.read_other_salesperson_order", CONTROLLER)
    assert world.read(order)["credit_hold"] is True


def test_salesperson_cannot_read_or_write_another_salespersons_order(world):
    _, AccessError = user_error_types()
    other = world.order(user_id=world.uids[OTHER_SALESMAN])
    with pytest.raises(AccessError) as err:
        world.call(SALESMAN, "read", other, ["name", "user_id", "amount_total"])
    assert str(err.value) == captured_fault(world, "sale.order.read_other_salesperson_order")
    assert "doesn't have 'read' access to:\n- Sales Order (sale.order)" in str(err.value)
    # a write fails on the read that precedes it (chatter tracking): the same 'read' text
    with pytest.raises(AccessError) as err:
        world.call(SALESMAN, "write", other, {"credit_hold_codes": "sam was here"})
    assert str(err.value) == captured_fault(world, "sale.order.write_other_salesperson_order")
    assert not world.read(other)["credit_hold_codes"]
    # nor confirm it
    with pytest.raises(AccessError):
        world.call(SALESMAN, "action_confirm", other)
    assert world.read(other)["state"] == "draft"


def test_nobody_but_a_sales_administrator_deletes_orders(world):
    """ACLs: a salesperson, "All Documents" and so a controller may not delete orders (no unlink)."""
    _, AccessError = user_error_types()
    order = world.order()
    for who in (SALESMAN, CONTROLLER):
        with pytest.raises(AccessError) as err:
            world.call(who, "unlink", order)
        assert str(err.value) == (
            "You are not allowed to delete 'Sales Order' (sale.order) records.\n\n"
            "This operation is allowed for the following groups:\n\t- Sales/Administrator\n\n"
            "Contact your administrator to request access if necessary."
        )
    assert world.call(ADMIN, "unlink", order) is True
    assert order.id not in world.registry.rows["sale.order"]


def test_salesperson_searches_only_own_and_unassigned_orders(world):
    mine, unassigned = world.order(), world.order(user_id=False)
    world.order(user_id=world.uids[OTHER_SALESMAN])
    world.order(user_id=world.uids[ADMIN])
    orders = world.env(SALESMAN)["sale.order"]
    assert set(orders.search([]).ids) == {mine.id, unassigned.id}
    assert orders.search_count([]) == 2
    assert orders.search([("user_id", "=", world.uids[OTHER_SALESMAN])]).ids == []
    assert world.env(OTHER_SALESMAN)["sale.order"].search_count([]) == 2  # his and the unassigned one
    assert world.env(ADMIN)["sale.order"].search_count([]) == 4


def test_salesperson_cannot_write_customers(world):
    _, AccessError = user_error_types()
    (row,) = world.call(SALESMAN, "read", world.customer, ["name"])
    assert row["name"] == "Deco Addict"
    with pytest.raises(AccessError) as err:
        world.call(SALESMAN, "write", world.customer, {"ref": "sam was here"})
    assert str(err.value) == captured_fault(world, "res.partner.write_customer_of_that_order")
    # nor can a controller (a salesperson's ACLs): the daemon writes the credit file
    with pytest.raises(AccessError, match="not allowed to modify 'Contact'"):
        world.call(CONTROLLER, "write", world.customer, {"ref": "carla was here"})


def test_orders_and_customers_of_another_company_are_invisible(world):
    _, AccessError = user_error_types()
    root = world.env(ADMIN, su=True)
    elsewhere = root["res.partner"].create({"name": "Chicago Only", "company_id": world.other_company.id})
    ours = root["res.partner"].create({"name": "Ours", "company_id": world.company.id})
    order = held(world, company_id=world.other_company.id, user_id=world.uids[CONTROLLER], partner_id=ours.id)
    home = world.order()
    # the controller works in the first company only: "All Documents" does not lift the company rules
    assert world.env(CONTROLLER)["sale.order"].search([]).ids == [home.id]
    with pytest.raises(AccessError, match=r"Sorry, Carla Credit \(id=\d+\) doesn't have 'read' access"):
        world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON)
    assert world.read(order)["credit_hold"] is True
    partners = world.env(CONTROLLER)["res.partner"]
    assert set(partners.search([]).ids) == {world.customer.id, ours.id}
    with pytest.raises(AccessError, match=r"doesn't have 'read' access to:\n- Contact \(res.partner\)"):
        world.call(CONTROLLER, "read", elsewhere, ["name"])
    # the admin works in both: he sees it, unless the call is limited to the first company
    assert world.env(ADMIN)["sale.order"].search_count([]) == 2
    limited = world.env(ADMIN)["sale.order"].with_context(allowed_company_ids=[world.company.id])
    assert limited.search([]).ids == [home.id]
    # sudo bypasses the rules, as in Odoo
    assert world.env(CONTROLLER, su=True)["sale.order"].search_count([]) == 2


def test_a_company_the_user_is_not_in_cannot_be_selected(world):
    _, AccessError = user_error_types()
    orders = world.env(CONTROLLER)["sale.order"].with_context(allowed_company_ids=[world.other_company.id])
    with pytest.raises(AccessError, match="unauthorized or invalid companies"):
        orders.search([])


def test_the_addons_own_rules_and_acls_are_loaded(tmp_path):
    """Groups, ir.rule records and ir.model.access.csv rows the addon may ship join the captured ones."""
    from .access import SecurityData

    security = tmp_path / "security"
    security.mkdir()
    (security / "extra.xml").write_text("""<odoo>
    <record id="group_x" model="res.groups">
        <field name="name">X</field>
        <field name="implied_ids" eval="[(4, ref('sales_team.group_sale_salesman'))]"/>
    </record>
    <record id="rule_x" model="ir.rule">
        <field name="model_id" ref="sale.model_sale_order_line"/>
        <field name="domain_force">[(1, '=', 1)]</field>
        <field name="groups" eval="[(4, ref('group_x'))]"/>
        <field name="perm_unlink" eval="False"/>
    </record>
</odoo>""")
    (security / "ir.model.access.csv").write_text(
        "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
        "access_x,x,sale.model_sale_order,group_x,1,1,0,0\n")
    data = SecurityData(SECURITY_DIRS["credit_guard"], tmp_path)
    assert {"credit_guard.group_x", "sales_team.group_sale_salesman", "base.group_user"} <= data.effective(
        ["credit_guard.group_x"])
    rule = data.rules["credit_guard.rule_x"]
    assert (rule["model"], rule["groups"], rule["perm_read"], rule["perm_unlink"]) == (
        "sale.order.line", ["credit_guard.group_x"], True, False)
    acl = data.acls["credit_guard.access_x"]
    assert (acl["model"], acl["group"], acl["perm_write"], acl["perm_create"]) == (
        "sale.order", "credit_guard.group_x", True, False)


def test_rule_domains_are_not_evaluated_as_python():
    from .access import safe_eval_domain

    assert safe_eval_domain("[('company_id', 'in', company_ids)]", {"company_ids": [1]}) == [("company_id", "in", [1])]
    for text in ("__import__('os').system('true')", "[(1, '=', open('x'))]", "user.__class__", "[x for x in ()]"):
        with pytest.raises(ValueError):
            safe_eval_domain(text, {"user": None})


# --------------------------------------------------------------- translation


def test_user_facing_messages_are_translated(world, closed_port):
    """With a catalog (as Odoo loads from i18n/<lang>.po), the errors and the chatter note come out translated."""
    from odoo import translate

    UserError, AccessError = user_error_types()
    translate.CATALOG.update({
        "Sales order %(order)s is on credit hold: %(reasons)s. A user in the group Credit Controller "
        "must release it first.":
            "La commande %(order)s est bloquée (crédit) : %(reasons)s.",
        "Sales order %(order)s is on credit hold: %(reasons)s. A user in the group Credit Controller "
        "(release tier: %(tier)s) must release it first.":
            "La commande %(order)s est bloquée (crédit) : %(reasons)s. Palier : %(tier)s.",
        "no reason given": "sans motif",
        "Only a user in the group Credit Controller can release a credit hold.": "Réservé au contrôle crédit.",
        "Credit hold released by %(user)s as %(tier)s: %(reason)s (reasons of the hold: %(reasons)s).":
            "Débloquée par %(user)s (%(tier)s, %(reason)s ; %(reasons)s).",
        "CreditGuard could not be reached to check sales order %(order)s (%(error)s). The credit policy does not "
        "allow confirming an order without its answer: try again in a moment, or ask your administrator.":
            "CreditGuard injoignable pour %(order)s (%(error)s).",
        "connection failed": "connexion impossible",
    })
    order = world.order(credit_hold=True)
    with pytest.raises(UserError, match=r"^La commande S\d+ est bloquée \(crédit\) : sans motif\.$"):
        world.call(SALESMAN, "action_confirm", order)
    tiered = world.order(credit_hold=True, credit_release_tier="cfo", credit_hold_reasons="Over the limit.")
    with pytest.raises(UserError, match=r"^La commande S\d+ est bloquée \(crédit\) : Over the limit\. Palier : cfo\.$"):
        world.call(SALESMAN, "action_confirm", tiered)
    with pytest.raises(AccessError, match="^Réservé au contrôle crédit.$"):
        world.call(SALESMAN, "action_release_credit_hold", order)
    world.call(CONTROLLER, "action_release_credit_hold", order, reason=REASON)
    assert world.registry.messages[-1]["body"] == f"Débloquée par Carla Credit (Credit Manager, {REASON} ; sans motif)."

    world.set_params(check_url="http://127.0.0.1:%d/x" % closed_port, check_token="t", fail_mode="closed")
    with pytest.raises(UserError, match=r"^CreditGuard injoignable pour S\d+ \(connexion impossible\)\.$"):
        world.call(SALESMAN, "action_confirm", world.order())
