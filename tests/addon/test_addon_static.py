"""The addons' manifest, data files and views, checked against the views and fields captured from
real Odoo 17.0 and 19.0 servers (no Odoo needed)."""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from . import viewcheck
from .harness import ADDONS_DIR, ROOT

ADDONS = {"credit_guard": "17.0", "credit_guard_19": "19.0"}
DATA_SUFFIXES = (".xml", ".csv")
NOT_DATA_DIRS = ("i18n", "tests", "static")
# modules whose external ids the addon may use: its dependencies (sale_management, account) and theirs
DEPENDENCY_CLOSURE = {"base", "web", "mail", "product", "sales_team", "sale", "sale_management", "account",
                      "analytic", "payment", "portal", "uom", "utm", "digest"}


@pytest.fixture(params=sorted(ADDONS), scope="module")
def addon(request):
    name = request.param
    captured = viewcheck.CapturedViews(ADDONS[name])
    if not captured.available():
        pytest.skip(f"captured Odoo {ADDONS[name]} views not found in {captured.root}")
    return {"name": name, "dir": ADDONS_DIR / name, "version": ADDONS[name], "captured": captured}


def manifest(addon_dir: Path) -> dict:
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text())


def data_files(addon_dir: Path) -> list[Path]:
    return sorted(p for p in addon_dir.rglob("*") if p.suffix in DATA_SUFFIXES
                  and p.relative_to(addon_dir).parts[0] not in NOT_DATA_DIRS)


def all_views(addon) -> list[dict]:
    records = []
    for path in data_files(addon["dir"]):
        if path.suffix == ".xml":
            records.extend(viewcheck.view_records(path))
    return records


def views(addon) -> list[dict]:
    """The views that extend Odoo's (the addon's own primary views: test_addon_views.py)."""
    return [r for r in all_views(addon) if r.get("inherit_id")]


def specs(arch: ET.Element) -> list[ET.Element]:
    return [s for s in (list(arch) if arch.tag == "data" else [arch]) if isinstance(s.tag, str)]


def known_fields(addon, model: str) -> set[str]:
    real = set(addon["captured"].model_fields(model))
    assert real, f"no captured fields for {model}"
    return real | set(viewcheck.addon_fields(addon["dir"]).get(model, {}))


# ------------------------------------------------------------------ manifest


def test_manifest(addon):
    m = manifest(addon["dir"])
    assert m["name"] == "CreditGuard"
    assert m["version"] == f"{addon['version']}.1.0.0"
    assert m["license"] == "LGPL-3"
    assert m["depends"] == ["sale_management", "account"]
    assert m["installable"] is True
    assert m["category"] and m["summary"]
    assert m["data"][0].startswith("security/"), "groups must exist before the views that name them"


def test_manifest_lists_exactly_the_data_files(addon):
    m = manifest(addon["dir"])
    listed = m["data"]
    assert len(listed) == len(set(listed))
    for rel in listed:
        assert (addon["dir"] / rel).is_file(), f"{rel} is listed but missing"
    present = [str(p.relative_to(addon["dir"])) for p in data_files(addon["dir"])]
    assert sorted(present) == sorted(listed), "every data file is listed, and nothing else"


def test_new_models_have_access_rights(addon):
    # A new _name needs rows in security/ir.model.access.csv (Odoo refuses access to a model without any).
    rows = (addon["dir"] / "security" / "ir.model.access.csv").read_text()
    for path in (addon["dir"] / "models").glob("*.py"):
        tree = ast.parse(path.read_text())
        for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", None) == "_name":
                    xmlid = "model_" + stmt.value.value.replace(".", "_")
                    assert f",{xmlid}," in rows, f"{path.name}: new model {cls.name} needs security/ir.model.access.csv"


def test_python_files_compile(addon):
    for path in addon["dir"].rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


# ------------------------------------------------------------------ XML data


def test_xml_files_parse(addon):
    for path in data_files(addon["dir"]):
        if path.suffix == ".xml":
            assert ET.parse(path).getroot().tag == "odoo", path


def test_odoo17_plus_view_syntax(addon):
    """No attrs/states (removed in 17); 19 uses <list>, never <tree>."""
    for path in data_files(addon["dir"]):
        text = path.read_text()
        assert not re.search(r"\battrs\s*=", text), f"{path.name}: attrs= is gone since 17.0"
        assert not re.search(r"\bstates\s*=", text), f"{path.name}: states= is gone since 17.0"
        if addon["version"] == "19.0":
            assert "<tree" not in text and "//tree" not in text, f"{path.name}: Odoo 19 list views are <list>"


def test_security_group(addon):
    root = ET.parse(addon["dir"] / "security" / "credit_guard_security.xml").getroot()
    records = {r.get("id"): r for r in root.iter("record")}
    group = records["group_credit_controller"]
    assert group.get("model") == "res.groups"
    fields = {f.get("name"): f for f in group.findall("field")}
    assert fields["name"].text == "Credit Controller"
    # "User: All Documents" (which implies "Own Documents Only"): a controller reads every salesperson's orders
    assert fields["implied_ids"].get("eval") == "[(4, ref('sales_team.group_sale_salesman_all_leads'))]"
    if addon["version"] == "17.0":
        category = records[fields["category_id"].get("ref")]
        assert category.get("model") == "ir.module.category"
        parent = {f.get("name"): f for f in category.findall("field")}["parent_id"].get("ref")
        assert parent == "base.module_category_sales"
        user_groups_field = "groups_id"
    else:
        assert "category_id" not in fields, "Odoo 19 groups have a privilege, not a category"
        privilege = records[fields["privilege_id"].get("ref")]
        assert privilege.get("model") == "res.groups.privilege"
        category = {f.get("name"): f for f in privilege.findall("field")}["category_id"].get("ref")
        assert category == "base.module_category_sales"
        user_groups_field = "group_ids"
    admin = records["base.user_admin"]
    assert [f.get("name") for f in admin.findall("field")] == [user_groups_field]
    # the field names of res.users in that version
    assert user_groups_field in addon["captured"].model_fields("res.users")


# --------------------------------------------------------------------- views


def test_views_inherit_captured_views_of_the_right_model(addon):
    captured = addon["captured"]
    records = views(addon)
    assert {r["inherit_id"] for r in records} == {
        "sale.view_order_form", "sale.view_quotation_tree", "sale.view_order_tree",
        "sale.view_sales_order_filter", "base.view_partner_form"}
    for record in records:
        parent = record["inherit_id"]
        assert parent.split(".")[0] in DEPENDENCY_CLOSURE
        assert captured.exists(parent), f"{record['id']}: {parent} is not a view of Odoo {addon['version']}"
        assert record["model"] == captured.meta[parent]["model"], record["id"]
        assert record["arch"] is not None, f"{record['id']}: arch must have one root (or <data>)"
        assert record["id"] and record["name"]


def test_every_xpath_matches_the_parent_arch(addon):
    """Each xpath of each inherited view finds a node in the architecture it extends — the parent as
    stored, resolved through its primary ancestors — and in the fully inherited architecture
    (_combined.*, with the other installed modules' extensions)."""
    captured = addon["captured"]
    for record in views(addon):
        parent = record["inherit_id"]
        resolved = captured.resolved_arch(parent)
        meta = captured.meta[parent]
        combined = captured.combined_arch(meta["model"], meta["type"])
        for spec in specs(record["arch"]):
            assert spec.tag == "xpath", f"{record['id']}: use <xpath expr=...> (checked here), not <{spec.tag}>"
            expr = spec.get("expr")
            assert spec.get("position") in ("inside", "after", "before", "replace", "attributes")
            hits = viewcheck.find_all(resolved, expr)
            assert hits, f"{record['id']}: {expr} matches nothing in {parent} ({addon['version']})"
            if combined is not None:
                assert viewcheck.find_all(combined, expr), f"{record['id']}: {expr} matches nothing in the combined view"
        # and the whole spec applies
        viewcheck.apply_inheritance(resolved, record["arch"], source=record["id"])


def test_xpaths_designate_the_intended_nodes(addon):
    captured = addon["captured"]
    by_parent = {r["inherit_id"]: r for r in views(addon)}

    form = captured.resolved_arch("sale.view_order_form")
    (state,) = viewcheck.find_all(form, "//header/field[@name='state']")
    assert state.get("widget") == "statusbar"
    (box,) = viewcheck.find_all(form, "//sheet/div[@name='button_box']")
    assert box.get("class") == "oe_button_box"
    final = viewcheck.apply_inheritance(form, by_parent["sale.view_order_form"]["arch"])
    sheet = final.find(".//sheet")
    children = [c for c in sheet if isinstance(c.tag, str)]
    assert children[0].get("name") == "button_box" and children[1].get("class") == "alert alert-danger"
    header = final.find("header")
    buttons = [b.get("name") for b in header.iter("button")]
    assert "action_open_credit_release_wizard" in buttons
    assert [c.get("name") for c in header][-1] == "state", "the statusbar stays last in the header"
    pages = [p.get("name") for p in final.iter("page")]
    assert pages.index("credit_guard") == pages.index("other_information") + 1

    for xmlid in ("sale.view_quotation_tree", "sale.view_order_tree"):
        final = viewcheck.apply_inheritance(captured.resolved_arch(xmlid), by_parent[xmlid]["arch"])
        columns = [f.get("name") for f in final if f.tag == "field"]
        assert columns[columns.index("state") + 1: columns.index("state") + 3] == ["credit_hold", "credit_hold_codes"]
        assert final.tag == ("tree" if addon["version"] == "17.0" else "list")
        assert final.get("decoration-danger") == "credit_hold", "held rows are red"
        assert final.get("decoration-muted") == "state == 'cancel'", "Odoo's own decoration is kept"

    search = viewcheck.apply_inheritance(captured.resolved_arch("sale.view_sales_order_filter"),
                                         by_parent["sale.view_sales_order_filter"]["arch"])
    (hold_filter,) = [f for f in search.iter("filter") if f.get("name") == "credit_hold"]
    assert viewcheck.domain_fields(hold_filter.get("domain")) == {"credit_hold"}
    assert ast.literal_eval(hold_filter.get("domain")) == [("credit_hold", "=", True)]

    partner = viewcheck.apply_inheritance(captured.resolved_arch("base.view_partner_form"),
                                          by_parent["base.view_partner_form"]["arch"])
    notebook = partner.find(".//sheet/notebook")
    pages = [p.get("name") for p in notebook.findall("page")]
    assert pages[pages.index("credit_guard") + 1] == "internal_notes"


def test_inserted_names_do_not_collide(addon):
    """The page, group and filter names the addon adds are new in the combined views."""
    captured = addon["captured"]
    for record in views(addon):
        meta = captured.meta[record["inherit_id"]]
        combined = captured.combined_arch(meta["model"], meta["type"])
        existing = {(n.tag, n.get("name")) for n in combined.iter() if n.tag in ("page", "group", "filter")}
        for spec in specs(record["arch"]):
            for node in spec.iter():
                if node.tag in ("page", "group", "filter") and node.get("name"):
                    assert (node.tag, node.get("name")) not in existing, (record["id"], node.tag, node.get("name"))


def _content_nodes(record):
    for spec in specs(record["arch"]):
        for node in spec.iter():
            if node is not spec and isinstance(node.tag, str):
                yield node


def test_view_fields_exist(addon):
    """Every field the views show exists in the real model (captured fields_get) or in the addon."""
    for record in views(addon):
        fields = known_fields(addon, record["model"])
        for node in _content_nodes(record):
            if node.tag == "field":
                assert node.get("name") in fields, f"{record['id']}: unknown field {node.get('name')}"
            if node.tag == "label" and node.get("for"):
                assert node.get("for") in fields, f"{record['id']}: label for unknown field {node.get('for')}"
            if node.tag == "filter" and node.get("domain"):
                assert viewcheck.domain_fields(node.get("domain")) <= fields


def test_modifiers_read_fields_present_in_the_view(addon):
    """invisible/readonly/decoration expressions name real fields that the final view contains
    (Odoo 17 refuses a view whose modifiers use a field missing from it)."""
    captured = addon["captured"]
    for record in views(addon):
        fields = known_fields(addon, record["model"])
        parent = record["inherit_id"]
        final = viewcheck.apply_inheritance(captured.resolved_arch(parent), record["arch"])
        in_view = {f.get("name") for f in final.iter("field")}
        for node in _content_nodes(record):
            for attr, value in node.attrib.items():
                if attr in viewcheck.EXPRESSION_ATTRIBUTES or attr.startswith("decoration-"):
                    if value.strip() in ("0", "1"):
                        continue
                    for name in viewcheck.expression_names(value):
                        assert name in fields, f"{record['id']}: {attr}={value!r} reads unknown {name}"
                        assert name in in_view, f"{record['id']}: {attr}={value!r} needs field {name} in the view"


def test_groups_exist(addon):
    addon_groups = {f"credit_guard.{r.get('id')}" for r in
                    ET.parse(addon["dir"] / "security" / "credit_guard_security.xml").getroot().iter("record")
                    if r.get("model") == "res.groups"}
    seen = addon["captured"].all_text()
    for record in views(addon):
        for node in _content_nodes(record):
            for group in filter(None, (node.get("groups") or "").split(",")):
                group = group.strip().lstrip("!")
                assert viewcheck.XMLID.match(group), f"{record['id']}: groups need module.xmlid, got {group}"
                assert group in addon_groups or group in seen, f"{record['id']}: unknown group {group}"


def test_buttons_call_addon_methods(addon):
    methods = viewcheck.addon_methods(addon["dir"])
    buttons = 0
    for record in views(addon):
        for node in _content_nodes(record):
            if node.tag == "button" and node.get("type") == "object":
                buttons += 1
                assert node.get("name") in methods.get(record["model"], set())
                assert not node.get("name").startswith("_"), "private methods cannot be called from a button"
                assert node.get("groups") == "credit_guard.group_credit_controller"
                assert node.get("invisible") == "not credit_hold"
    assert buttons == 1


def test_banner_and_columns_as_specified(addon):
    records = {r["inherit_id"]: r for r in views(addon)}
    form_nodes = list(_content_nodes(records["sale.view_order_form"]))
    (banner,) = [n for n in form_nodes if n.get("role") == "alert"]
    assert banner.get("class").split()[:2] == ["alert", "alert-danger"]
    assert banner.get("invisible") == "not credit_hold"
    assert {f.get("name") for f in banner.iter("field")} == {"credit_hold_reasons", "credit_release_tier"}
    (page,) = [n for n in form_nodes if n.tag == "page"]
    assert {f.get("name") for f in page.iter("field")} >= {
        "credit_hold", "credit_hold_reasons", "credit_hold_codes", "credit_hold_since", "credit_release_tier",
        "credit_hold_key", "credit_released_by", "credit_released_at"}
    (badge,) = [n for n in form_nodes if "badge" in (n.get("class") or "").split()]
    assert badge.get("invisible") == "not credit_hold" and badge.text == "Credit hold"
    for xmlid in ("sale.view_quotation_tree", "sale.view_order_tree"):
        hidden, column = [n for n in _content_nodes(records[xmlid]) if n.tag == "field"]
        assert (hidden.get("name"), hidden.get("column_invisible")) == ("credit_hold", "True")
        assert (column.get("name"), column.get("optional"), column.get("widget")) == ("credit_hold_codes", "show", "badge")
        assert (column.get("string"), column.get("invisible"), column.get("decoration-danger")) == (
            "Credit Hold", "not credit_hold", "credit_hold")
    partner_nodes = list(_content_nodes(records["base.view_partner_form"]))
    (page,) = [n for n in partner_nodes if n.tag == "page"]
    assert {f.get("name") for f in page.iter("field")} >= {
        "credit_risk_grade", "credit_risk_flag", "credit_exposure", "credit_effective_limit", "credit_headroom",
        "credit_evaluated_at"}


# ----------------------------------------------------- models vs. the sandbox


SANDBOX_FIELDS = ROOT / "adapters" / "odoo" / "sandbox" / "fields" / "addons" / "credit_guard.json"
EXTRA_FIELDS: dict[str, set[str]] = {}  # fields of the addon the sandbox does not describe


@pytest.mark.skipif(not SANDBOX_FIELDS.is_file(), reason="no sandbox description of the addon")
def test_models_match_the_sandbox_description(addon):
    """The fields the Odoo sandbox (adapters/odoo/sandbox) gives the addon are the addon's fields."""
    described = json.loads(SANDBOX_FIELDS.read_text())
    declared = viewcheck.addon_fields(addon["dir"])
    for model, fields in described.items():
        assert set(declared[model]) - set(fields) == EXTRA_FIELDS.get(model, set()), model
        for name, spec in fields.items():
            mine = declared[model].get(name)
            assert mine is not None, f"{model}.{name} missing from the addon"
            assert mine["type"] == spec["type"], (model, name)
            assert mine.get("string") == spec["string"], (model, name)
            assert bool(mine.get("readonly")) == spec["readonly"], (model, name)
            if "relation" in spec:
                assert mine["_args"][0] == spec["relation"], (model, name)
            if "currency_field" in spec:
                assert mine.get("currency_field") == spec["currency_field"], (model, name)
            if "selection" in spec:
                assert [list(p) for p in mine["_args"][0]] == spec["selection"], (model, name)


def test_model_fields_do_not_clash_with_real_fields(addon):
    for model, fields in viewcheck.addon_fields(addon["dir"]).items():
        real = addon["captured"].model_fields(model)
        assert not set(fields) & set(real), f"{model}: {set(fields) & set(real)} already exist in Odoo"
        for name, info in fields.items():
            if info["type"] == "monetary":
                currency = info.get("currency_field")
                assert currency in real or currency in fields, (model, name, currency)
            if info["type"] == "many2one":
                assert info["_args"][0] in ("res.users", "res.groups")


# ------------------------------------------------------------ the 19.0 port


def test_port_19_differs_only_as_documented():
    a, b = ADDONS_DIR / "credit_guard", ADDONS_DIR / "credit_guard_19"
    # views, partner model, package files: identical (the xpaths were checked against both versions)
    for rel in ("views/res_partner_views.xml", "models/res_partner.py", "models/__init__.py", "__init__.py"):
        assert (a / rel).read_text() == (b / rel).read_text(), rel
    # list views: <tree>, //tree, view_mode tree → <list>, //list, list; an action's groups_id → group_ids
    for rel in ("views/sale_order_views.xml", "views/credit_hold_views.xml"):
        ported = re.sub(r"(<|</|//)tree\b", r"\1list", (a / rel).read_text())
        ported = ported.replace(">tree,form<", ">list,form<").replace('name="groups_id"', 'name="group_ids"')
        assert (b / rel).read_text() == ported, rel
    # sale.order: 17's module-level _() becomes 19's self.env._()
    src17, src19 = (a / "models/sale_order.py").read_text(), (b / "models/sale_order.py").read_text()
    ported = re.sub(r"(?<![\w.])_\(", "self.env._(", src17.replace("from odoo import _, fields, models",
                                                                    "from odoo import fields, models"))
    norm = lambda s: re.sub(r"\s+", " ", s.split('"""', 2)[2])  # noqa: E731 (after the module docstring)
    assert norm(src19) == norm(ported)
    assert "from odoo import _" not in src19 and "self.env._(" in src19
    # manifest: only the version (and a note) differ
    m17, m19 = manifest(a), manifest(b)
    assert {k for k in m17 if m17[k] != m19.get(k)} <= {"version", "description"}
    assert (m17["version"], m19["version"]) == ("17.0.1.0.0", "19.0.1.0.0")
