"""Tiered release (17.0 and the 19.0 port, on the stand-in ORM): the tier records and their groups, the
release wizard (a reason is required), and the tier check of each order's hold."""

from __future__ import annotations

import pytest

from .harness import (ADMIN, CFO, CONTROLLER, CONTROLLER_GROUP, DAEMON, PLAIN_CONTROLLER, SALES_MANAGER_TIER,
                      SALESMAN, TIER_GROUPS)
from .test_addon_behaviour import held


def errors():
    from odoo.exceptions import AccessError, UserError

    return UserError, AccessError


def release(world, who, orders, reason="Customer paid the overdue invoices."):
    """What the release button does: open the wizard on the orders, give the reason, release."""
    action = world.call(who, "action_open_credit_release_wizard", orders)
    assert (action["res_model"], action["target"]) == ("credit.guard.release.wizard", "new")
    env = world.env(who)
    wizard = env["credit.guard.release.wizard"].create({"order_ids": action["context"]["default_order_ids"],
                                                       "reason": reason})
    return world.registry.call(env, wizard._name, "action_release", wizard.ids)


def test_the_example_policys_tiers_are_shipped_in_order(world):
    tiers = world.env(ADMIN, su=True)["credit.guard.tier"]._credit_guard_tiers()
    assert [t.code for t in tiers] == ["sales_manager", "credit_manager", "cfo"]
    assert [t.name for t in tiers] == ["Sales Manager", "Credit Manager", "CFO"]
    assert [t.group_id for t in tiers] == [world.group(TIER_GROUPS[code]) for code in ("sales_manager",
                                                                                       "credit_manager", "cfo")]


def test_a_higher_tiers_group_implies_the_lower_ones(world):
    data = world.registry.access.data
    assert data.implied(TIER_GROUPS["cfo"]) >= {TIER_GROUPS["credit_manager"], TIER_GROUPS["sales_manager"],
                                                 CONTROLLER_GROUP, "sales_team.group_sale_salesman_all_leads"}
    assert TIER_GROUPS["cfo"] not in data.implied(TIER_GROUPS["credit_manager"])
    for group in TIER_GROUPS.values():
        assert data.groups[group]["category"]["name"] == "Credit Control"


def test_tier_one_cannot_release_a_cfo_hold(world):
    _, AccessError = errors()
    order = held(world, credit_release_tier="cfo")
    with pytest.raises(AccessError) as err:
        release(world, SALES_MANAGER_TIER, order)
    assert str(err.value) == f"Releasing {order.name} needs the tier CFO; you are Sales Manager."
    with pytest.raises(AccessError, match=f"Releasing {order.name} needs the tier CFO; you are Credit Manager."):
        release(world, CONTROLLER, order)
    row = world.read(order)
    assert row["credit_hold"] is True and not row["credit_released_by"] and world.registry.messages == []
    # nor by writing the hold away, nor by lowering its tier
    for vals in ({"credit_hold": False}, {"credit_release_tier": "sales_manager"}):
        with pytest.raises(AccessError, match="needs the tier CFO"):
            world.call(SALES_MANAGER_TIER, "write", order, vals)
    assert world.read(order)["credit_release_tier"] == "cfo"


def test_a_controller_without_tier_releases_only_holds_without_tier(world):
    _, AccessError = errors()
    order = held(world, credit_release_tier="sales_manager")
    with pytest.raises(AccessError, match="needs the tier Sales Manager; you are a Credit Controller without a "
                                          "release tier"):
        release(world, PLAIN_CONTROLLER, order)
    free = held(world, credit_release_tier=False)
    release(world, PLAIN_CONTROLLER, free)
    row = world.read(free)
    assert row["credit_hold"] is False and row["credit_released_tier"] is False
    assert world.registry.messages[-1]["body"].startswith("Credit hold released by Paul Plain as Credit Controller: ")


def test_cfo_releases_a_sales_manager_hold_and_the_release_is_recorded(world):
    from datetime import datetime

    order = held(world, credit_release_tier="sales_manager", amount_total=1250.0)
    before = datetime.now().replace(microsecond=0)
    assert release(world, CFO, order, "  Guaranteed by the parent company.  ") == {"type": "ir.actions.act_window_close"}
    row = world.read(order)
    assert row["credit_hold"] is False
    assert row["credit_released_by"] == world.uids[CFO]
    assert before <= row["credit_released_at"] <= datetime.now()
    assert row["credit_released_tier"] == "cfo"
    assert row["credit_release_reason"] == "Guaranteed by the parent company."
    assert row["credit_released_amount"] == 1250.0
    (message,) = world.registry.messages
    assert message["res_id"] == order.id and message["subtype_xmlid"] == "mail.mt_note"
    assert message["body"] == (
        "Credit hold released by Frank Finance as CFO: Guaranteed by the parent company. (reasons of the hold: "
        "Exposure 132,000.00 USD exceeds the limit 125,000.00 USD by 7,000.00 USD; 2 invoices more than 30 days "
        "overdue (4,200.00 USD)).")


def test_a_reason_is_required(world):
    UserError, _ = errors()
    order = held(world, credit_release_tier="sales_manager")
    for reason in ("", "   ", False):
        with pytest.raises(UserError, match="^Give the reason for releasing the credit hold.$"):
            release(world, CFO, order, reason)
    with pytest.raises(UserError, match="Give the reason"):
        world.call(CFO, "action_release_credit_hold", order)
    assert world.read(order)["credit_hold"] is True
    fields = world.registry.classes["credit.guard.release.wizard"]._field_map()
    assert fields["reason"].type == "text" and fields["reason"].required


def test_mass_release_is_all_or_nothing(world):
    _, AccessError = errors()
    low, high = held(world, credit_release_tier="sales_manager"), held(world, credit_release_tier="cfo")
    with pytest.raises(AccessError, match=f"Releasing {high.name} needs the tier CFO"):
        release(world, CONTROLLER, low | high)
    assert world.read(low)["credit_hold"] is True and world.registry.messages == []
    release(world, CONTROLLER, low)
    assert world.read(low)["credit_hold"] is False


def test_unknown_tier_needs_the_highest_tier(world):
    _, AccessError = errors()
    order = held(world, credit_release_tier="board")
    with pytest.raises(AccessError) as err:
        release(world, CONTROLLER, order)
    assert str(err.value) == (f"Releasing {order.name} needs the tier CFO: its release tier board is not a known "
                              "tier, so only the highest tier may release it; you are Credit Manager.")
    release(world, CFO, order)
    assert world.read(order)["credit_hold"] is False


def test_administrators_add_tiers_for_other_policies_controllers_read_them(world):
    _, AccessError = errors()
    vals = {"code": "board", "name": "Board", "sequence": 40, "group_id": world.group("base.group_system").id}
    with pytest.raises(AccessError, match=r"not allowed to create 'Credit Release Tier' \(credit.guard.tier\)"):
        world.env(CONTROLLER)["credit.guard.tier"].create(vals)
    assert len(world.env(CONTROLLER)["credit.guard.tier"].search([])) == 3
    with pytest.raises(AccessError, match="not allowed to access 'Credit Release Tier'"):
        world.env(SALESMAN)["credit.guard.tier"].search([])
    world.env(ADMIN)["credit.guard.tier"].create(vals)
    # the admin (Settings) now holds the highest tier; the CFO's tier is no longer enough for a board hold
    order = held(world, credit_release_tier="board")
    with pytest.raises(AccessError, match="needs the tier Board; you are CFO"):
        release(world, CFO, order)
    release(world, ADMIN, order)
    assert world.read(order)["credit_released_tier"] == "board"


def test_the_daemon_and_the_superuser_clear_holds_of_every_tier(world):
    order = held(world, credit_release_tier="cfo")
    world.call(DAEMON, "write", order, {"credit_hold": False})
    assert world.read(order)["credit_hold"] is False
    other = held(world, credit_release_tier="board")
    world.env(SALESMAN, su=True)["sale.order"].browse(other.id).write({"credit_hold": False})
    assert world.read(other)["credit_hold"] is False


def test_salesperson_cannot_open_the_wizard(world):
    _, AccessError = errors()
    with pytest.raises(AccessError, match="Only a user in the group Credit Controller"):
        world.call(SALESMAN, "action_open_credit_release_wizard", held(world))
