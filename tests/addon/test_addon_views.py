"""The credit holds queue (Sales > Credit > Credit holds) and the hold's marks in Odoo's own lists and
form, for both addons, checked through viewcheck against the views and fields captured from real
Odoo 17.0 and 19.0 servers; and the alert accessibility rule Odoo applies at install."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET

import pytest

from . import viewcheck
from .harness import ADDONS_DIR
from .test_addon_static import ADDONS, all_views, known_fields, manifest, views

QUEUE_FILE = "views/credit_hold_views.xml"
CONTROLLER = "credit_guard.group_credit_controller"
# Menus of `sale` the queue hangs under (addons/sale/views/sale_menus.xml, the same in 17.0 and 19.0;
# menus are not part of the captured data).
SALE_MENUS = {"sale.sale_menu_root"}
# The approval tiers of the shipped credit policy (policy/examples/default.toml, [[approval_tiers]]).
POLICY_TIERS = ("sales_manager", "credit_manager", "cfo")


@pytest.fixture(params=sorted(ADDONS), scope="module")
def addon(request):
    name = request.param
    captured = viewcheck.CapturedViews(ADDONS[name])
    if not captured.available():
        pytest.skip(f"captured Odoo {ADDONS[name]} views not found in {captured.root}")
    return {"name": name, "dir": ADDONS_DIR / name, "version": ADDONS[name], "captured": captured}


def primary_views(addon, model="sale.order") -> dict[str, dict]:
    return {r["id"]: r for r in all_views(addon) if not r.get("inherit_id") and r["model"] == model}


def queue_action(addon) -> dict:
    (action,) = viewcheck.action_records(addon["dir"] / QUEUE_FILE)
    return action


def queue_menus(addon) -> dict[str, dict]:
    return {m["id"]: m for m in viewcheck.menu_records(addon["dir"] / QUEUE_FILE)}


def methods(addon) -> set[str]:
    return viewcheck.addon_methods(addon["dir"])["sale.order"]


def addon_fields(addon) -> set[str]:
    return set(viewcheck.addon_fields(addon["dir"])["sale.order"])


# ------------------------------------------------------------------ the queue


def test_queue_file_is_loaded_after_the_group(addon):
    data = manifest(addon["dir"])["data"]
    assert QUEUE_FILE in data
    assert data.index(QUEUE_FILE) > data.index("security/credit_guard_security.xml")


def test_queue_views_are_valid_for_the_version(addon):
    """The addon's own list and search views pass the checks Odoo would make (root tag of the version,
    real or addon fields, filter domains and group-bys, modifiers, buttons, alerts)."""
    records = primary_views(addon)
    assert set(records) == {"view_credit_hold_tree", "view_credit_hold_search"}
    for record in records.values():
        assert record["model"] == "sale.order"
        assert int(record["priority"]) > 16, "the standard sales order views stay the defaults"
        problems = viewcheck.check_view(addon["captured"], "sale.order", record["arch"], addon_fields(addon),
                                        methods(addon), name=record["id"])
        assert problems == []
    list_tag = viewcheck.LIST_TAG[addon["version"]]
    assert records["view_credit_hold_tree"]["arch"].tag == list_tag
    assert records["view_credit_hold_search"]["arch"].tag == "search"


def test_queue_list_columns(addon):
    arch = primary_views(addon)["view_credit_hold_tree"]["arch"]
    assert arch.get("create") == "false" and arch.get("delete") == "false"
    assert arch.get("default_order") == "credit_hold_since asc", "the oldest holds first"
    columns = {f.get("name"): f for f in arch.findall("field")}
    shown = [f.get("name") for f in arch.findall("field") if f.get("column_invisible") != "True"]
    assert shown[:7] == ["name", "partner_id", "amount_total", "credit_hold_codes", "credit_hold_reasons",
                         "credit_release_tier", "credit_hold_since"]
    assert "user_id" in shown, "every salesperson's orders, with the salesperson"
    # money with its currency: a monetary column, and the currency field in the view
    real = addon["captured"].model_fields("sale.order")
    assert real["amount_total"]["type"] == "monetary"
    assert columns["amount_total"].get("widget") == "monetary"
    assert columns["currency_id"].get("column_invisible") == "True"
    assert real["currency_id"]["relation"] == "res.currency"
    assert columns["credit_hold_codes"].get("widget") == "badge"
    assert columns["credit_hold_reasons"].get("optional") == "hide"


def test_queue_mass_release_calls_the_release_method(addon):
    """A list header button acts on the selected orders; action_release_credit_hold checks the caller
    itself (AccessError for anybody but a Credit Controller), the button's group only hides it."""
    arch = primary_views(addon)["view_credit_hold_tree"]["arch"]
    header = arch.find("header")
    assert header is not None and list(arch).index(header) == 0
    (button,) = header.findall("button")
    assert (button.get("name"), button.get("type")) == ("action_open_credit_release_wizard", "object")
    assert button.get("name") in methods(addon)
    assert button.get("groups") == CONTROLLER


def test_release_wizard_view(addon):
    """The wizard the release buttons open: the reason (required by the model) and the release button."""
    (record,) = primary_views(addon, "credit.guard.release.wizard").values()
    arch = record["arch"]
    assert arch.tag == "form"
    fields = viewcheck.addon_fields(addon["dir"])["credit.guard.release.wizard"]
    assert fields["reason"]["type"] == "text" and fields["reason"]["required"] is True
    assert {f.get("name") for f in arch.iter("field")} == {"order_ids", "reason"}
    wizard_methods = viewcheck.addon_methods(addon["dir"])["credit.guard.release.wizard"]
    (release,) = [b for b in arch.iter("button") if b.get("type") == "object"]
    assert release.get("name") == "action_release" and release.get("name") in wizard_methods
    assert [b.get("special") for b in arch.iter("button") if b.get("special")] == ["cancel"]
    assert not [n for n in arch.iter() if n.get("role") is None and "alert" in (n.get("class") or "")]
    # the tier list (Sales > Credit > Release tiers) names only fields of the tier model
    (tiers,) = primary_views(addon, "credit.guard.tier").values()
    assert tiers["arch"].tag == viewcheck.LIST_TAG[addon["version"]]
    tier_fields = viewcheck.addon_fields(addon["dir"])["credit.guard.tier"]
    assert {f.get("name") for f in tiers["arch"].iter("field")} <= set(tier_fields)
    assert tier_fields["group_id"]["_args"] == ["res.groups"]


def test_queue_search_filters(addon):
    arch = primary_views(addon)["view_credit_hold_search"]["arch"]
    filters = {f.get("name"): f for f in arch.iter("filter")}
    fields = addon_fields(addon)
    # one filter per release tier of the policy, and one for holds without a tier
    assert viewcheck.addon_fields(addon["dir"])["sale.order"]["credit_release_tier"]["type"] == "char"
    for tier in POLICY_TIERS:
        assert ast.literal_eval(filters[f"tier_{tier}"].get("domain")) == [("credit_release_tier", "=", tier)]
    assert ast.literal_eval(filters["tier_none"].get("domain")) == [("credit_release_tier", "=", False)]
    # by age, as Odoo's own date filters: evaluated by the web client with context_today/relativedelta
    for days, name in ((1, "held_1_day"), (7, "held_7_days"), (30, "held_30_days")):
        domain = filters[name].get("domain")
        assert viewcheck.domain_fields(domain) == {"credit_hold_since"}
        tree = ast.parse(domain, mode="eval").body
        (leaf,) = tree.elts
        assert leaf.elts[1].value == "<", "held for more than N days: held since before today - N"
        assert f"relativedelta(days={days})" in ast.unparse(leaf.elts[2])
        assert "context_today()" in ast.unparse(leaf.elts[2])
    assert "credit_hold_since" in fields
    # tier filters are OR-ed together, age filters too, and the two groups AND-ed (separators)
    children = [c for c in arch if c.tag in ("filter", "separator")]
    kinds = ["|" if c.tag == "separator" else c.get("name").split("_")[0] for c in children]
    assert kinds.index("|") > max(i for i, k in enumerate(kinds) if k == "tier")
    assert min(i for i, k in enumerate(kinds) if k == "held") > kinds.index("|")
    # group-bys: customer (the action's default) and tier
    (group,) = arch.findall("group")
    group_by = {f.get("name"): viewcheck.context_group_by(f.get("context")) for f in group.findall("filter")}
    assert group_by["group_customer"] == ["partner_id"]
    assert group_by["group_tier"] == ["credit_release_tier"]


def test_queue_action(addon):
    action = queue_action(addon)
    fields = action["fields"]
    assert action["id"] == "action_credit_holds"
    assert fields["res_model"]["text"] == "sale.order"
    assert ast.literal_eval(fields["domain"]["text"]) == [("credit_hold", "=", True)]
    list_mode = viewcheck.LIST_TAG[addon["version"]]
    assert fields["view_mode"]["text"] == f"{list_mode},form"
    assert fields["view_id"]["ref"] == "view_credit_hold_tree"
    assert fields["search_view_id"]["ref"] == "view_credit_hold_search"
    context = ast.literal_eval(fields["context"]["text"])
    search = primary_views(addon)["view_credit_hold_search"]["arch"]
    defaults = {k.removeprefix("search_default_") for k in context if k.startswith("search_default_")}
    assert defaults == {"group_customer"}, "grouped by customer by default"
    assert defaults <= {f.get("name") for f in search.iter("filter")}
    # only Credit Controllers may open it; the field is groups_id in 17, group_ids in 19
    group_field = "groups_id" if addon["version"] == "17.0" else "group_ids"
    assert set(fields) & {"groups_id", "group_ids"} == {group_field}
    assert fields[group_field]["eval"] == "[(4, ref('group_credit_controller'))]"
    assert fields["help"]["node"].get("type") == "html"


def test_queue_menu(addon):
    menus = queue_menus(addon)
    assert set(menus) == {"menu_sale_credit", "menu_credit_holds"}
    credit, holds = menus["menu_sale_credit"], menus["menu_credit_holds"]
    assert credit["parent"] in SALE_MENUS and credit["name"] == "Credit" and "action" not in credit
    assert holds["parent"] == "menu_sale_credit" and holds["name"] == "Credit holds"
    assert holds["action"] == queue_action(addon)["id"]
    for menu in menus.values():
        assert menu["groups"] == CONTROLLER
    groups = {f"credit_guard.{r.get('id')}" for r in
              ET.parse(addon["dir"] / "security" / "credit_guard_security.xml").getroot().iter("record")
              if r.get("model") == "res.groups"}
    assert CONTROLLER in groups


def test_queue_external_ids_are_local_or_known(addon):
    """Every ref in the queue's file names one of its own records, the group, or a known sale menu."""
    root = ET.parse(addon["dir"] / QUEUE_FILE).getroot()
    own = {r.get("id") for r in root.iter("record")} | {m.get("id") for m in root.iter("menuitem")}
    refs = [f.get("ref") for f in root.iter("field") if f.get("ref")]
    refs += [m.get(a) for m in root.iter("menuitem") for a in ("parent", "action") if m.get(a)]
    for ref in refs:
        assert ref in own or ref in SALE_MENUS, ref


# --------------------------------------------------- marks in Odoo's views


def test_inherited_views_still_valid_for_the_version(addon):
    """Odoo's views with the addon's extensions applied pass the same checks: held rows decorated in
    the quotations and orders lists, the badge and the banner in the form."""
    captured = addon["captured"]
    for record in views(addon):
        parent = record["inherit_id"]
        final = viewcheck.apply_inheritance(captured.resolved_arch(parent), record["arch"], source=record["id"])
        # (Odoo's own buttons call Odoo's methods: the addon's are checked in test_addon_static.py)
        problems = viewcheck.check_view(captured, record["model"], final, known_fields(addon, record["model"]),
                                        name=record["id"])
        assert problems == []
    by_parent = {r["inherit_id"]: r for r in views(addon)}
    for xmlid in ("sale.view_quotation_tree", "sale.view_order_tree"):
        final = viewcheck.apply_inheritance(captured.resolved_arch(xmlid), by_parent[xmlid]["arch"])
        assert final.get("decoration-danger") == "credit_hold"
        assert "credit_hold" in {f.get("name") for f in final.iter("field")}, "the decoration reads it"
        # and on top of the other installed modules' extensions
        meta = captured.meta[xmlid]
        combined = captured.combined_arch(meta["model"], meta["type"])
        viewcheck.apply_inheritance(combined, by_parent[xmlid]["arch"], source=xmlid)


def test_real_odoo_views_pass_the_checks(addon):
    """The checks are calibrated on Odoo itself: every captured view of sale.order and res.partner,
    and the combined architectures, pass (no false alarm)."""
    captured = addon["captured"]
    checked = 0
    for xmlid, meta in sorted(captured.meta.items()):
        if meta["model"] not in ("sale.order", "res.partner") or not captured.exists(xmlid):
            continue
        arch = captured.resolved_arch(xmlid)
        if arch.tag in viewcheck.VIEW_TAGS:
            assert viewcheck.check_view(captured, meta["model"], arch, name=xmlid) == []
            checked += 1
    for (model, view_type) in viewcheck.COMBINED:
        arch = captured.combined_arch(model, view_type)
        if arch is not None:
            assert viewcheck.check_view(captured, model, arch, name=f"{model} {view_type}") == []
            checked += 1
    assert checked >= 10


# ------------------------------------------------------------ alert roles


@pytest.mark.parametrize("markup, flagged", [
    ('<div class="alert alert-danger" role="alert">x</div>', False),
    ('<div class="alert alert-info" role="status">x</div>', False),
    ('<div class="alert alert-danger">x</div>', True),
    ('<div class="alert">x</div>', True),
    ('<h4 class="alert-heading">x</h4>', True),  # Odoo's rule matches any alert-* class
    ('<a class="alert-link" href="#x">x</a>', False),
    ('<div t-attf-class="alert alert-{{kind}}">x</div>', True),
    ('<div class="o_alert_like text-danger">x</div>', False),
])
def test_alert_rule(markup, flagged):
    arch = ET.fromstring(f"<form><sheet>{markup}</sheet></form>")
    assert bool(viewcheck.alerts_without_role(arch)) is flagged


def test_every_alert_of_the_addon_has_a_role(addon):
    """No alert-* node without role in any view of the addon (Odoo logs a warning at install)."""
    for record in all_views(addon):
        assert viewcheck.alerts_without_role(record["arch"]) == [], record["id"]
    alerts = [n for r in all_views(addon) for n in r["arch"].iter()
              if "alert" in (n.get("class") or "").split()]
    assert alerts and all(n.tag == "div" and n.get("role") == "alert" for n in alerts)
