"""Checks an addon's inherited views against the views captured from real Odoo servers.

The captured data (``tests/addon/captured/odoo17`` and ``…/odoo19``, or the folders named by
``CREDITGUARD_ODOO17_DATA`` / ``CREDITGUARD_ODOO19_DATA``) holds, per view external id, the stored
``arch_db`` (``<module>.<id>.xml``), ``index.json`` / ``all_views_sale_order_res_partner.json``
(model, type, parent, mode) and ``_combined.*``: the architecture the web client receives.

A primary view that inherits another (``sale.view_quotation_tree`` from ``sale.sale_order_tree``)
is stored as an inheritance spec; ``resolved_arch`` applies it to its parent, as Odoo does, so that
an addon's xpaths can be evaluated against the view it really extends.  XPaths are evaluated with
ElementTree's XPath subset (``//tag``, ``//tag[@attr='v']``, ``a/b``, positions).
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _data_dir(env_var: str, folder: str) -> Path:
    """The captured data: the folder named by $env_var (a newer capture), else the one the tests ship."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    return REPO / "tests" / "addon" / "captured" / folder


DATA_DIRS = {
    "17.0": _data_dir("CREDITGUARD_ODOO17_DATA", "odoo17"),
    "19.0": _data_dir("CREDITGUARD_ODOO19_DATA", "odoo19"),
}
COMBINED = {
    ("sale.order", "form"): "_combined.sale.order.form.xml",
    ("sale.order", "tree"): "_combined.sale.order.tree.xml",
    ("sale.order", "list"): "_combined.sale.order.list.xml",
    ("sale.order", "search"): "_combined.sale.order.search.xml",
    ("res.partner", "form"): "_combined.res.partner.form.xml",
}


class ViewError(AssertionError):
    pass


class CapturedViews:
    """The captured views of one Odoo version."""

    def __init__(self, version: str):
        self.version = version
        self.root = DATA_DIRS[version]
        self.views_dir = self.root / "views"
        index = json.loads((self.views_dir / "index.json").read_text())
        every = json.loads((self.views_dir / "all_views_sale_order_res_partner.json").read_text())
        self.meta: dict[str, dict] = {}
        for xmlid, info in every.items():
            self.meta[xmlid] = {"model": info["model"], "type": info["type"], "mode": info["mode"],
                                "inherit": info["inherit"] or None}
        for xmlid, info in index.items():
            if isinstance(info, dict) and xmlid not in self.meta:
                self.meta[xmlid] = {"model": info["model"], "type": info["type"], "mode": info["mode"],
                                    "inherit": None}
        self.missing = {xmlid for xmlid, info in index.items() if info == "missing"}

    def available(self) -> bool:
        return self.views_dir.is_dir()

    def exists(self, xmlid: str) -> bool:
        return xmlid in self.meta and (self.views_dir / f"{xmlid}.xml").is_file()

    def stored_arch(self, xmlid: str) -> ET.Element:
        return ET.fromstring((self.views_dir / f"{xmlid}.xml").read_text())

    def resolved_arch(self, xmlid: str) -> ET.Element:
        """The view's architecture as Odoo builds it from its primary ancestors (before extensions)."""
        return copy.deepcopy(self._resolved(xmlid))

    @lru_cache(maxsize=None)
    def _resolved(self, xmlid: str) -> ET.Element:
        meta = self.meta[xmlid]
        arch = self.stored_arch(xmlid)
        parent = meta["inherit"]
        if not parent:
            return arch
        if not self.exists(parent):
            raise ViewError(f"{xmlid}: its parent {parent} is not captured")
        return apply_inheritance(self.resolved_arch(parent), arch, source=xmlid)

    def combined_arch(self, model: str, view_type: str) -> ET.Element | None:
        name = COMBINED.get((model, view_type))
        if not name or not (self.views_dir / name).is_file():
            return None
        return ET.fromstring((self.views_dir / name).read_text())

    @lru_cache(maxsize=None)
    def model_fields(self, model: str) -> dict:
        path = self.root / "fields" / f"{model}.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    @lru_cache(maxsize=None)
    def all_text(self) -> str:
        """Every captured file's text (to look up group external ids the data mentions)."""
        parts = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".xml"):
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)


# ---------------------------------------------------------------------- xpath


def find_all(arch: ET.Element, expr: str) -> list[ET.Element]:
    """Nodes of ``arch`` (root included) matched by an absolute ``//...`` XPath."""
    if not expr.startswith("//"):
        raise ViewError(f"only '//...' expressions are checked here, got {expr!r}")
    wrapper = ET.Element("__document__")
    wrapper.append(arch)
    try:
        return wrapper.findall("." + expr)
    except SyntaxError as exc:
        raise ViewError(f"xpath {expr!r} is outside ElementTree's XPath subset: {exc}") from None
    finally:
        wrapper.remove(arch)


def locate(arch: ET.Element, spec: ET.Element) -> ET.Element | None:
    """The node an inheritance spec element designates (first match, as Odoo)."""
    if spec.tag == "xpath":
        found = find_all(arch, spec.get("expr"))
        return found[0] if found else None
    if spec.tag == "field":
        found = find_all(arch, "//field[@name='%s']" % spec.get("name"))
        return found[0] if found else None
    wanted = {k: v for k, v in spec.attrib.items() if k not in ("position", "version")}
    for node in arch.iter(spec.tag):
        if all(node.get(k) == v for k, v in wanted.items()):
            return node
    return None


def apply_inheritance(arch: ET.Element, spec_root: ET.Element, source: str = "") -> ET.Element:
    """Apply an inheritance spec (``<data>`` of specs, or a single spec) to ``arch``."""
    specs = list(spec_root) if spec_root.tag == "data" else [spec_root]
    for spec in specs:
        if not isinstance(spec.tag, str):
            continue
        node = locate(arch, spec)
        if node is None:
            raise ViewError(f"{source}: {ET.tostring(spec, encoding='unicode')[:120]} matches nothing")
        position = spec.get("position", "inside")
        parents = {child: parent for parent in arch.iter() for child in parent}
        parent = parents.get(node)
        new = [copy.deepcopy(child) for child in spec if isinstance(child.tag, str)]
        if position == "attributes":
            for attribute in spec.findall("attribute"):
                value = (attribute.text or "").strip()
                if value:
                    node.set(attribute.get("name"), value)
                else:
                    node.attrib.pop(attribute.get("name"), None)
        elif position == "inside":
            node.extend(new)
        elif position in ("after", "before", "replace"):
            if parent is None:
                if position == "replace" and len(new) == 1:
                    arch = new[0]
                    continue
                raise ViewError(f"{source}: cannot put nodes {position} the root")
            index = list(parent).index(node) + (1 if position == "after" else 0)
            if position == "replace":
                parent.remove(node)
            for offset, child in enumerate(new):
                parent.insert(index + offset, child)
        else:
            raise ViewError(f"{source}: unknown position {position!r}")
    return arch


# ------------------------------------------------------------ addon analysis


def addon_fields(addon_dir: Path) -> dict[str, dict[str, dict]]:
    """``{model: {field: {"type": "boolean", **keyword literals}}}`` declared by the addon's models."""
    result: dict[str, dict[str, dict]] = {}
    for path in sorted((addon_dir / "models").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
            model = None
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    if stmt.targets[0].id in ("_inherit", "_name") and isinstance(stmt.value, ast.Constant):
                        model = model or stmt.value.value
            if not model:
                continue
            for stmt in cls.body:
                if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                        and isinstance(stmt.value.func, ast.Attribute)
                        and isinstance(stmt.value.func.value, ast.Name) and stmt.value.func.value.id == "fields"):
                    info = {"type": stmt.value.func.attr.lower()}
                    for kw in stmt.value.keywords:
                        try:
                            info[kw.arg] = ast.literal_eval(kw.value)
                        except ValueError:
                            info[kw.arg] = ast.unparse(kw.value)
                    if stmt.value.args:
                        try:
                            info["_args"] = [ast.literal_eval(a) for a in stmt.value.args]
                        except ValueError:
                            info["_args"] = [ast.unparse(a) for a in stmt.value.args]
                    result.setdefault(model, {})[stmt.targets[0].id] = info
    return result


def addon_methods(addon_dir: Path) -> dict[str, set[str]]:
    methods: dict[str, set[str]] = {}
    for path in sorted((addon_dir / "models").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
            model = next((s.value.value for s in cls.body if isinstance(s, ast.Assign)
                          and isinstance(s.targets[0], ast.Name) and s.targets[0].id in ("_inherit", "_name")
                          and isinstance(s.value, ast.Constant)), None)
            if model:
                methods.setdefault(model, set()).update(
                    n.name for n in cls.body if isinstance(n, ast.FunctionDef))
    return methods


EXPRESSION_ATTRIBUTES = ("invisible", "readonly", "required", "column_invisible")
EXPRESSION_NAMES_OK = {"True", "False", "None", "context", "uid", "parent", "context_today", "datetime",
                       "relativedelta", "time", "today", "now", "id"}


def expression_names(expr: str) -> set[str]:
    """The field names a view modifier expression (``not credit_hold and x``) reads."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ViewError(f"modifier {expr!r} is not a Python expression: {exc}") from None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in EXPRESSION_NAMES_OK:
            names.add(node.id)
    return names


def domain_fields(domain: str) -> set[str]:
    """The fields a domain's leaves name; values may be expressions the web client evaluates
    (``(context_today() - relativedelta(days=7)).strftime('%Y-%m-%d')``, ``uid``)."""
    try:
        tree = ast.parse(domain.strip(), mode="eval")
    except SyntaxError as exc:
        raise ViewError(f"domain {domain!r} is not a Python expression: {exc}") from None
    if not isinstance(tree.body, (ast.List, ast.Tuple)):
        raise ViewError(f"domain {domain!r} is not a list")
    names = set()
    for leaf in tree.body.elts:
        if isinstance(leaf, (ast.List, ast.Tuple)):
            if len(leaf.elts) != 3 or not (isinstance(leaf.elts[0], ast.Constant) and isinstance(leaf.elts[0].value, str)):
                raise ViewError(f"domain {domain!r}: a leaf is (field, operator, value)")
            names.add(leaf.elts[0].value.split(".")[0])
        elif not (isinstance(leaf, ast.Constant) and leaf.value in ("&", "|", "!")):
            raise ViewError(f"domain {domain!r}: {ast.unparse(leaf)} is neither a leaf nor an operator")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in EXPRESSION_NAMES_OK | {"uid"}:
            raise ViewError(f"domain {domain!r} reads {node.id}, which the web client does not know")
    return names


def context_group_by(context: str) -> list[str]:
    """The fields of a filter's ``{'group_by': ...}`` context (``field`` or ``field:month``)."""
    value = ast.literal_eval(context)
    group_by = value.get("group_by") or []
    if isinstance(group_by, str):
        group_by = [group_by]
    return [g.split(":")[0] for g in group_by]


def view_records(xml_path: Path) -> list[dict]:
    """The ``ir.ui.view`` records of a data file: id, model, inherit_id, arch root."""
    root = ET.parse(xml_path).getroot()
    records = []
    for record in root.iter("record"):
        if record.get("model") != "ir.ui.view":
            continue
        info = {"id": record.get("id"), "file": xml_path.name}
        for field in record.findall("field"):
            name = field.get("name")
            if name == "inherit_id":
                info["inherit_id"] = field.get("ref")
            elif name == "arch":
                children = [c for c in field if isinstance(c.tag, str)]
                if len(children) == 1:
                    info["arch"] = children[0]
                else:  # several roots: Odoo wraps them in <data> (convert.py, _fix_multiple_roots)
                    info["arch"] = ET.Element("data")
                    info["arch"].extend(children)
            else:
                info[name] = (field.text or "").strip()
        records.append(info)
    return records


XMLID = re.compile(r"^[a-z0-9_]+\.[A-Za-z0-9_]+$")


# ------------------------------------------------------------- accessibility

ALERT_ROLES = ("alert", "alertdialog", "status")
CLASS_ATTRIBUTES = ("class", "t-att-class", "t-attf-class")


def alerts_without_role(arch: ET.Element) -> list[ET.Element]:
    """Nodes Odoo's view validation (``odoo/tools/view_validation.py``, ``valid_alerts``) warns about
    at install: a class ``alert-*`` (``alert-danger``, ``alert-heading``, ...) without the role alert,
    alertdialog or status, unless it is an ``alert-link``.  Odoo logs "An alert (class alert-*) must
    have an alert, alertdialog or status role ..." for the view; the same rule is applied here to the
    combined architecture, and also to a bare ``alert`` class, which is an alert box all the same."""
    found = []
    for node in arch.iter():
        if not isinstance(node.tag, str):
            continue
        classes = " ".join(node.get(attr, "") for attr in CLASS_ATTRIBUTES)
        tokens = classes.split()
        if "alert-link" in classes:
            continue
        if any(t == "alert" or t.startswith("alert-") for t in tokens) and node.get("role") not in ALERT_ROLES:
            found.append(node)
    return found


# ------------------------------------------------------------ whole views

LIST_TAG = {"17.0": "tree", "19.0": "list"}
VIEW_TAGS = {"form", "search", "tree", "list", "kanban", "pivot", "graph", "calendar", "activity"}


def check_view(captured: CapturedViews, model: str, arch: ET.Element, extra_fields: set[str] = frozenset(),
               methods: set[str] = frozenset(), name: str = "view") -> list[str]:
    """What Odoo would refuse (or warn about) in a complete view architecture of ``model``: the
    root of a list view (``<tree>`` in 17, ``<list>`` in 19), unknown fields (also in labels, filter
    domains and group-bys), modifiers and decorations reading fields that are not in the view,
    object buttons calling unknown or private methods, alerts without a role.  The views embedded in
    a relational field (``<field name="order_line"><tree>...``) belong to another model and are
    skipped.  Odoo 17 refuses a modifier that reads a field missing from the view; 19 adds such
    fields itself, so that rule is 17's only."""
    problems = []
    version = captured.version
    if arch.tag not in VIEW_TAGS:
        problems.append(f"{name}: <{arch.tag}> is not a view")
    if arch.tag in ("tree", "list") and arch.tag != LIST_TAG[version]:
        problems.append(f"{name}: Odoo {version} list views are <{LIST_TAG[version]}>, not <{arch.tag}>")
    fields = set(captured.model_fields(model)) | set(extra_fields)
    if not captured.model_fields(model):
        problems.append(f"{name}: no captured fields for {model}")
    nodes = list(_own_nodes(arch))
    in_view = {f.get("name") for f in nodes if f.tag == "field"} | {"id"}
    for node in nodes:
        if node.tag == "field" and node.get("name") not in fields:
            problems.append(f"{name}: unknown field {model}.{node.get('name')}")
        if node.tag == "label" and node.get("for") and node.get("for") not in fields:
            problems.append(f"{name}: label for unknown field {node.get('for')}")
        if node.tag == "filter":
            if node.get("domain"):
                try:
                    unknown = domain_fields(node.get("domain")) - fields
                except ViewError as exc:
                    problems.append(f"{name}: filter {node.get('name')}: {exc}")
                    unknown = set()
                if unknown:
                    problems.append(f"{name}: filter {node.get('name')} reads unknown {sorted(unknown)}")
            if node.get("context") and "group_by" in node.get("context"):
                unknown = set(context_group_by(node.get("context"))) - fields
                if unknown:
                    problems.append(f"{name}: filter {node.get('name')} groups by unknown {sorted(unknown)}")
        if node.tag == "button" and node.get("type") == "object":
            method = node.get("name") or ""
            if method.startswith("_"):
                problems.append(f"{name}: button calls the private method {method}")
            elif methods and method not in methods:
                problems.append(f"{name}: button calls unknown method {model}.{method}")
        if arch.tag == "search":
            continue
        for attr, value in node.attrib.items():
            if attr in EXPRESSION_ATTRIBUTES or attr.startswith("decoration-"):
                if value.strip() in ("0", "1", "True", "False", "true", "false"):
                    continue
                try:
                    names = expression_names(value)
                except ViewError as exc:
                    problems.append(f"{name}: {exc}")
                    continue
                for field in sorted(names - fields):
                    problems.append(f"{name}: {attr}={value!r} reads unknown {field}")
                for field in sorted((names & fields) - in_view if version == "17.0" else set()):
                    problems.append(f"{name}: {attr}={value!r} needs field {field} in the view")
    for node in alerts_without_role(arch):
        problems.append(f"{name}: <{node.tag} class={node.get('class')!r}> is an alert without role "
                        f"alert, alertdialog or status (Odoo warns at install)")
    return problems


def _own_nodes(arch: ET.Element):
    """The nodes of a view, without the views embedded in its relational fields."""
    yield arch
    for child in arch:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "field":
            yield child
        else:
            yield from _own_nodes(child)


# ------------------------------------------------------ actions and menus


def action_records(xml_path: Path) -> list[dict]:
    """The window actions of a data file: id, and each field as text, ref or eval."""
    records = []
    for record in ET.parse(xml_path).getroot().iter("record"):
        if record.get("model") != "ir.actions.act_window":
            continue
        info = {"id": record.get("id"), "file": xml_path.name, "fields": {}}
        for field in record.findall("field"):
            info["fields"][field.get("name")] = {
                "text": "".join(field.itertext()).strip(), "ref": field.get("ref"), "eval": field.get("eval"),
                "node": field}
        records.append(info)
    return records


def menu_records(xml_path: Path) -> list[dict]:
    """The ``<menuitem>`` elements of a data file, nested ones with their parent filled in."""
    menus = []

    def walk(node, parent):
        for child in node:
            if child.tag == "menuitem":
                info = dict(child.attrib)
                info.setdefault("parent", parent)
                info["file"] = xml_path.name
                menus.append(info)
                walk(child, child.get("id"))
            elif isinstance(child.tag, str):
                walk(child, parent)

    walk(ET.parse(xml_path).getroot(), None)
    return menus
