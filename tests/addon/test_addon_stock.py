"""The credit_guard_stock bridges (17.0 and 19.0): a delivery of an order on credit hold cannot be validated.

Behaviour on the stand-in with stock (``stock_harness.py``, following the validation flow captured from
Odoo 17 and 19 with sale_stock), the manifests, and the form view checked through viewcheck against the
sale.order form captured with sale_stock installed.
"""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET

import pytest

from . import harness, stock_harness, viewcheck
from .harness import ADDONS_DIR, ADMIN, CONTROLLER, DAEMON, OTHER_SALESMAN, SALESMAN
from .stock_harness import BRIDGES, StockWorld
from .test_addon_behaviour import held
from .test_addon_static import ADDONS, known_fields, manifest

VERSIONS = {BRIDGES[name]: version for name, version in ADDONS.items()}


_LOADED = {}


@pytest.fixture
def bridges(standin):
    """The stock stand-in and both bridges, imported once (on top of the stand-in's ``odoo``)."""
    stock_harness.define_stock_models()
    if not _LOADED:
        _LOADED.update({name: harness.load_addon(name) for name in BRIDGES.values()})
    return _LOADED


@pytest.fixture(params=sorted(BRIDGES))
def world(request, standin, bridges):
    from odoo import translate

    translate.CATALOG.clear()
    translate.CALLS.clear()
    w = StockWorld(request.param)
    yield w
    translate.CATALOG.clear()


def errors():
    from odoo.exceptions import AccessError, UserError

    return UserError, AccessError


def confirmed_held(world, **vals):
    return held(world, state="sale", **vals)


def release(world, order):
    """The Credit Controller's release (with its reason), over RPC."""
    return world.call(CONTROLLER, "action_release_credit_hold", order, "Customer paid the overdue invoices")


def state(world, record):
    return world.read(record)["state"]


# ------------------------------------------------------------------ the block


@pytest.mark.parametrize("who", [SALESMAN, ADMIN, CONTROLLER, DAEMON])
def test_delivery_of_a_held_order_cannot_be_validated(world, who):
    UserError, _AccessError = errors()
    order = confirmed_held(world)
    delivery = world.picking(order)
    with pytest.raises(UserError) as refused:
        world.call(who, "button_validate", delivery)
    message = str(refused.value)
    assert message.splitlines()[0] == (
        "A delivery of a sales order on credit hold cannot be validated until the hold is released.")
    # the same words as the confirmation refusal: the order, its reasons, the release tier
    assert message.splitlines()[1:] == order.with_env(world.env(who))._credit_hold_error().splitlines()
    assert f"Sales order {order.name} is on credit hold: Exposure 132,000.00 USD exceeds" in message
    assert "(release tier: credit_manager)" in message
    assert state(world, delivery) == "assigned"
    assert all(world.read(m)["state"] == "assigned" for m in world.moves(delivery))
    assert world.read(order)["credit_hold"] is True


def test_no_superuser_bypass(world):
    UserError, _AccessError = errors()
    order = confirmed_held(world)
    delivery = world.picking(order)
    with pytest.raises(UserError):
        delivery.with_env(world.env(ADMIN, su=True)).button_validate()
    assert state(world, delivery) == "assigned"


def test_a_salesperson_who_cannot_read_the_order_gets_no_reasons(world):
    """sale_stock lets a salesperson validate any delivery of his companies (captured: sam validated
    Marc Demo's WH/OUT/00008); he is refused, without the reasons of an order he cannot read."""
    UserError, AccessError = errors()
    order = confirmed_held(world, user_id=world.uids[OTHER_SALESMAN])
    delivery = world.picking(order)
    with pytest.raises(AccessError):
        world.call(SALESMAN, "read", order)
    world.call(SALESMAN, "read", delivery)  # the delivery is his to see and validate
    with pytest.raises(UserError) as refused:
        world.call(SALESMAN, "button_validate", delivery)
    assert str(refused.value).splitlines()[1] == (
        f"Sales order {order.name} is on credit hold. A user in the group Credit Controller must release it first.")
    assert "Exposure" not in str(refused.value)
    assert state(world, delivery) == "assigned"


def test_the_delivery_validates_after_the_release(world):
    UserError, _AccessError = errors()
    order = confirmed_held(world)
    delivery = world.picking(order)
    with pytest.raises(UserError):
        world.validate(SALESMAN, delivery)
    assert release(world, order) is True
    steps = world.validate(SALESMAN, delivery)
    # as captured: first the one-time SMS question of stock_sms, its button validates
    assert steps[0]["res_model"] == "confirm.stock.sms" and steps[-1] is True
    assert steps[0]["context"] == {"button_validate_picking_ids": [delivery.id]}
    assert state(world, delivery) == "done"
    assert world.read(delivery)["date_done"]


def test_delivery_of_an_order_not_on_hold_validates(world):
    order = world.order(state="sale")
    delivery = world.picking(order)
    steps = world.validate(SALESMAN, delivery)
    assert steps[-1] is True and state(world, delivery) == "done"
    # the question is asked once per company: the next delivery validates at once
    other = world.picking(world.order(state="sale"))
    assert world.call(OTHER_SALESMAN, "button_validate", other) is True
    assert state(world, other) == "done"


def test_receipts_and_internal_transfers_are_not_affected(world):
    order = confirmed_held(world)
    receipt = world.picking(code="incoming")
    assert world.validate(SALESMAN, receipt)[-1] is True and state(world, receipt) == "done"
    # even one that names the held order (a return is a receipt)
    returned = world.picking(order, code="incoming")
    assert world.validate(SALESMAN, returned)[-1] is True and state(world, returned) == "done"
    internal = world.picking(order, code="internal")
    assert world.validate(ADMIN, internal)[-1] is True and state(world, internal) == "done"


def test_the_wizards_go_through_the_check(world):
    """A partly reserved delivery answers ``Create Backorder?``; if the order is put on hold before the
    button is pressed, ``process`` (which calls button_validate again) is refused too."""
    UserError, _AccessError = errors()
    order = world.order(state="sale")
    delivery = world.picking(order, demand=23.0, reserved=18.0)
    answer = world.call(SALESMAN, "button_validate", delivery)
    assert answer["res_model"] == "stock.backorder.confirmation" and answer["name"] == "Create Backorder?"
    assert answer["context"]["default_pick_ids"] == [[4, delivery.id]]
    world.env(DAEMON)["sale.order"].browse(order.id).write(
        {"credit_hold": True, "credit_hold_reasons": "Over the limit.", "credit_release_tier": "credit_manager"})
    wizard = world.registry.call(world.env(SALESMAN), "stock.backorder.confirmation", "create", [], {})
    with pytest.raises(UserError):
        world.call_with(SALESMAN, "process", wizard, answer["context"])
    assert state(world, delivery) == "assigned"
    release(world, order)
    steps = world.validate(SALESMAN, delivery)
    assert steps[-1] is True and state(world, delivery) == "done"
    (backorder,) = [p for p in world.env(ADMIN, su=True)["stock.picking"].search([("backorder_id", "=", delivery.id)])]
    assert [world.read(m)["product_uom_qty"] for m in world.moves(backorder)] == [5.0]


def test_captured_faults_still_come_first_when_not_held(world):
    """Nothing reserved: Odoo's own fault (the captured text of the version), not ours."""
    UserError, _AccessError = errors()
    delivery = world.picking(world.order(state="sale"), reserved=0.0)
    with pytest.raises(UserError) as refused:
        world.call(SALESMAN, "button_validate", delivery)
    flow = stock_harness.captured_flow(world.addon_name)
    assert str(refused.value) == flow["A02_stock.picking.button_validate"]["fault"]["faultString"]


def test_a_salesperson_may_validate_deliveries_by_the_captured_acls(world):
    """The block is not an access right: the captured ACLs let the salesperson write pickings."""
    access = world.registry.access
    assert access.modelled("stock.picking")
    access.check_acl(world.env(SALESMAN), "stock.picking", "write")
    rows = [acl for acl in access.data.acls.values() if acl["model"] == "stock.picking" and acl["perm_write"]]
    assert any(acl["group"] == "sales_team.group_sale_salesman" for acl in rows)


def test_the_refusal_is_translated(world):
    from odoo import translate

    order = confirmed_held(world)
    delivery = world.picking(order)
    UserError, _AccessError = errors()
    with pytest.raises(UserError):
        world.call(SALESMAN, "button_validate", delivery)
    assert "A delivery of a sales order on credit hold cannot be validated until the hold is released." in (
        translate.CALLS)


# ------------------------------------------------- the stand-in is the captured one


@pytest.mark.parametrize("addon_name", sorted(BRIDGES))
def test_standin_fields_are_the_captured_ones(addon_name, standin, bridges):
    world = StockWorld(addon_name)
    for model in ("stock.picking", "stock.move"):
        real = stock_harness.captured_fields(addon_name, model)
        for name, field in world.registry.classes[model]._field_map().items():
            assert name in real, f"{model}.{name}"
            assert field.type == real[name]["type"], f"{model}.{name}"
            if field.type == "many2one":
                assert field.comodel_name == real[name]["relation"], f"{model}.{name}"
            if field.type == "selection":
                assert [k for k, _ in field.selection] == [k for k, _ in real[name]["selection"]], f"{model}.{name}"


@pytest.mark.parametrize("addon_name", sorted(BRIDGES))
def test_standin_answers_are_shaped_as_captured(addon_name, standin, bridges):
    flow = stock_harness.captured_flow(addon_name)
    world = StockWorld(addon_name)
    sms = world.call(SALESMAN, "button_validate", world.picking(world.order(state="sale")))
    real_sms = flow["A04_stock.picking.button_validate"]["result"]
    assert {k: sms[k] for k in ("type", "res_model", "name", "target")} == {
        k: real_sms[k] for k in ("type", "res_model", "name", "target")}
    assert set(sms["context"]) == set(real_sms["context"])
    world.registry.rows["res.company"][world.company.id]["has_received_warning_stock_sms"] = True
    backorder = world.call(SALESMAN, "button_validate", world.picking(world.order(state="sale"), demand=2.0))
    real_bo = flow["B02_stock.picking.button_validate"]["result"]
    assert {k: backorder[k] for k in ("type", "res_model", "name", "target")} == {
        k: real_bo[k] for k in ("type", "res_model", "name", "target")}
    assert set(backorder["context"]) == set(real_bo["context"])


# ----------------------------------------------------------------- manifests


@pytest.fixture(params=sorted(VERSIONS))
def bridge(request):
    return {"name": request.param, "dir": ADDONS_DIR / request.param, "version": VERSIONS[request.param]}


def test_bridge_manifest(bridge):
    data = manifest(bridge["dir"])
    assert data["version"].startswith(bridge["version"] + ".")
    # installs as credit_guard_stock next to credit_guard (both ports install under the 17 names)
    assert data["depends"] == ["credit_guard", "sale_stock"]
    assert data["auto_install"] is True and data["installable"] is True and data["application"] is False
    assert data["license"] == "LGPL-3"
    listed = sorted(data["data"])
    on_disk = sorted(p.relative_to(bridge["dir"]).as_posix() for p in bridge["dir"].rglob("*")
                     if p.suffix in (".xml", ".csv") and p.parts[len(bridge["dir"].parts)] not in ("i18n", "tests"))
    assert listed == on_disk


def test_credit_guard_still_installs_without_stock():
    for name in ADDONS:
        data = manifest(ADDONS_DIR / name)
        assert not {"stock", "sale_stock"} & set(data["depends"])
        code = "\n".join(p.read_text() for p in (ADDONS_DIR / name).rglob("*.py"))
        assert "stock.picking" not in code


def test_bridge_python_differs_only_by_the_translation_api():
    code17 = (ADDONS_DIR / "credit_guard_stock" / "models" / "stock_picking.py").read_text()
    code19 = (ADDONS_DIR / "credit_guard_stock_19" / "models" / "stock_picking.py").read_text()
    assert code19 == code17.replace("from odoo import _, models", "from odoo import models").replace(
        "lines = [_(", "lines = [self.env._(").replace("lines.append(_(", "lines.append(self.env._(")
    for code in (code17, code19):
        ast.parse(code)
    assert (ADDONS_DIR / "credit_guard_stock" / "views" / "sale_order_views.xml").read_text() == (
        ADDONS_DIR / "credit_guard_stock_19" / "views" / "sale_order_views.xml").read_text()


# ---------------------------------------------------------------------- views


def _records(path):
    return viewcheck.view_records(path)


def test_banner_says_what_is_blocked(bridge):
    """Applied on the sale.order form captured with sale_stock, after credit_guard's own extension: the
    banner of a confirmed held order names the deliveries; a quotation's still says it cannot be
    confirmed; the result passes viewcheck."""
    base_name = {"credit_guard_stock": "credit_guard", "credit_guard_stock_19": "credit_guard_19"}[bridge["name"]]
    captured = viewcheck.CapturedViews(bridge["version"])
    with_stock = ET.parse(captured.root / "stock" / "views" / "_combined.sale.order.form.xml").getroot()
    assert with_stock.find(".//button[@name='action_view_delivery']") is not None
    (main,) = [r for r in _records(ADDONS_DIR / base_name / "views" / "sale_order_views.xml")
               if r["inherit_id"] == "sale.view_order_form"]
    (own,) = _records(bridge["dir"] / "views" / "sale_order_views.xml")
    assert own["model"] == "sale.order" and own["inherit_id"] == "credit_guard.view_order_form_credit_guard"
    final = viewcheck.apply_inheritance(with_stock, main["arch"], source=main["id"])
    final = viewcheck.apply_inheritance(final, own["arch"], source=own["id"])
    fields = known_fields({"name": base_name, "dir": ADDONS_DIR / base_name, "version": bridge["version"],
                           "captured": captured},
                          "sale.order")
    fields = set(fields) | set(json.loads((captured.root / "stock" / "sale.order.with_sale_stock.json").read_text()))
    problems = viewcheck.check_view(captured, "sale.order", final, fields, name=own["id"])
    assert problems == []
    (banner,) = [n for n in final.iter("div") if n.get("name") == "credit_guard_banner"]
    assert banner.get("role") == "alert" and banner.get("invisible") == "not credit_hold"
    texts = {re.sub(r"\s+", " ", "".join(n.itertext())).strip(): n.get("invisible") for n in banner.findall("div")}
    assert texts["Deliveries of this order cannot be validated until the hold is released."] == "state != 'sale'"
    assert texts["It cannot be confirmed until a user in the group Credit Controller releases it."] == (
        "state not in ('draft', 'sent')")
    assert viewcheck.alerts_without_role(final) == []


# ------------------------------------------------------------------ translations


def test_bridge_pot_is_up_to_date(bridge):
    """``python -m tests.addon.pot`` writes ``i18n/credit_guard_stock.pot`` (the name the bridge installs under)."""
    from . import pot

    path = pot.pot_path(bridge["dir"])
    assert path.name == "credit_guard_stock.pot"
    assert path.read_text() == pot.render(bridge["dir"])
    text = path.read_text()
    assert "Odoo Server %s" % bridge["version"] in text
    for msgid in ("Deliveries of this order cannot be validated until the hold is released.",
                  "code:addons/credit_guard_stock/models/stock_picking.py:0",
                  "model_terms:ir.ui.view,arch_db:credit_guard_stock.view_order_form_credit_guard_stock"):
        assert msgid.split()[0] in text
