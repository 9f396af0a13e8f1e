"""The test database of the addons' own test modules (``adapters/odoo/addon/*/tests/``) on the stand-in.

``odoo.tests.TransactionCase`` (stand-in) asks ``registry_for(module)`` for the registry of a test
module: the addon it belongs to is installed with its dependencies as far as its tests need them:

* the models of ``harness.define_base_models`` plus products, order lines and ``mail.message``, the
  window actions, menus and views (``define_database_models``); with a ``credit_guard_stock`` bridge
  also the stock stand-in (``stock_harness``) and what ``sale_stock`` adds to the order (confirming
  creates the delivery, ``picking_ids``);
* the captured ACLs, record rules and groups of the Odoo version, plus the addon's (``access.py``);
* the base data: the currency USD, the company "YourCompany", OdooBot (the superuser, ``cls.env``),
  the admin user and the groups, each with its external id (``env.ref``);
* the addon's data files in manifest order: its tier records, views, window actions and menus, and
  the groups its security file gives ``base.user_admin``;
* ``get_views`` answers what the web client receives: the captured architecture of stock Odoo for
  the default view (``captured/odoo17|odoo19/views/_combined.*``, the stock capture's form when
  ``sale_stock`` is installed) or the addon's own view, with the addon's extension views applied and
  the nodes whose ``groups`` the user lacks removed.  The captured architectures are as admin sees
  them (their own ``groups`` are already resolved): only the addon's nodes are filtered per user.

The registries are built once per addon and process; ``TransactionCase`` rolls every test back
through ``Registry.snapshot``/``restore``.
"""

from __future__ import annotations

import ast
import copy
import json
import xml.etree.ElementTree as ET

from . import harness, stock_harness, viewcheck
from .access import SecurityData

DB_MODULE = "odoo.addons.standin_testdb.common"
VERSION_MODULES = {"17.0": "odoo.addons.standin_testdb.v17", "19.0": "odoo.addons.standin_testdb.v19"}
STOCK_DB_MODULE = "odoo.addons.standin_testdb.sale_stock"

# test module's addon -> (the addon, its stock bridge or None)
ADDON_SETS = {
    "credit_guard": ("credit_guard", None),
    "credit_guard_19": ("credit_guard_19", None),
    "credit_guard_stock": ("credit_guard", "credit_guard_stock"),
    "credit_guard_stock_19": ("credit_guard_19", "credit_guard_stock_19"),
}
VERSIONS = {"credit_guard": "17.0", "credit_guard_19": "19.0"}
# the many2many to res.groups on users, actions and menus: 17.0 groups_id, 19.0 group_ids
GROUP_FIELDS = {"17.0": "groups_id", "19.0": "group_ids"}
LIST_TYPES = {"17.0": "tree", "19.0": "list"}
# the module the XML ids without a dot belong to (the 19 directories install under the 17 names)
MODULE_NAMES = {"credit_guard": "credit_guard", "credit_guard_19": "credit_guard",
                "credit_guard_stock": "credit_guard_stock", "credit_guard_stock_19": "credit_guard_stock"}
STOCK_VIEWS = {"17.0": stock_harness.CAPTURED / "odoo17" / "stock" / "views",
               "19.0": stock_harness.CAPTURED / "odoo19" / "stock" / "views"}
# menus of the dependencies that the addons' menus hang under (sale's root has no groups)
DEPENDENCY_MENUS = {"sale.sale_menu_root": {"name": "Sales", "sequence": 30}}

_REGISTRIES: dict = {}
_DEFINED = False


class TestRegistry(harness.Registry):
    """A registry whose rows created after ``freeze()`` are not committed (a test runs in one transaction:
    another cursor does not see them) and whose state can be saved and rolled back."""

    def __init__(self, classes, access_data, version):
        super().__init__(classes, access_data)
        self.version = version
        self.user_groups_field = GROUP_FIELDS[version]
        self.xmlids = {}
        self.superuser_id = None
        self.sequences = {}
        self._frozen = False

    def next_id(self):
        record_id = super().next_id()
        if self._frozen:
            self.uncommitted.add(record_id)
        return record_id

    def freeze(self):
        self._frozen = True

    def next_name(self, prefix, width=5):
        self.sequences[prefix] = self.sequences.get(prefix, 0) + 1
        return "%s%0*d" % (prefix, width, self.sequences[prefix])

    def snapshot(self):
        return copy.deepcopy({"rows": self.rows, "params": self.params, "messages": self.messages,
                              "confirm_calls": self.confirm_calls, "uncommitted": self.uncommitted,
                              "sequences": self.sequences})

    def restore(self, state):
        state = copy.deepcopy(state)
        self.rows.clear()
        self.rows.update(state["rows"])
        for name in ("params", "sequences"):
            getattr(self, name).clear()
            getattr(self, name).update(state[name])
        self.messages[:] = state["messages"]
        self.confirm_calls[:] = state["confirm_calls"]
        self.uncommitted.clear()
        self.uncommitted.update(state["uncommitted"])

    def group_xmlid(self, group_id):
        return self.group_xmlids_by_id[group_id]

    @property
    def group_xmlids_by_id(self):
        return {record_id: xmlid for xmlid, record_id in self.group_ids.items()}


def registry_for(module_name: str) -> TestRegistry:
    """The registry for the test module ``odoo.addons.<addon>.tests.<name>`` (built once per addon)."""
    parts = module_name.split(".")
    if len(parts) < 3 or parts[:2] != ["odoo", "addons"] or parts[2] not in ADDON_SETS:
        raise RuntimeError(f"{module_name}: not a test module of a CreditGuard addon")
    addon = parts[2]
    if addon not in _REGISTRIES:
        _REGISTRIES[addon] = build(addon)
    return _REGISTRIES[addon]


def install():
    """Let the stand-in's ``odoo.tests`` find its databases (the stand-in must be in ``sys.modules``)."""
    import odoo.tests.common

    harness.define_base_models()
    stock_harness.define_stock_models()
    define_database_models()
    odoo.tests.common.REGISTRY_FACTORY = registry_for


# ------------------------------------------------------------------------- building


def build(addon: str) -> TestRegistry:
    from odoo.api import Environment
    from odoo.models import build_classes

    base_addon, bridge = ADDON_SETS[addon]
    version = VERSIONS[base_addon]
    prefixes = [harness.BASE_MODULE, f"odoo.addons.{base_addon}.", DB_MODULE, VERSION_MODULES[version]]
    if bridge:
        prefixes += [stock_harness.STOCK_MODULE, f"odoo.addons.{bridge}.", STOCK_DB_MODULE]
    registry = TestRegistry(build_classes(prefixes),
                            SecurityData(harness.SECURITY_DIRS[base_addon], harness.ADDONS_DIR / base_addon),
                            version)
    registry.addons = [name for name in (base_addon, bridge) if name]
    if bridge:
        flow = stock_harness.captured_flow(base_addon)
        registry.stock_texts = {"no_quantities": flow["A02_stock.picking.button_validate"]["fault"]["faultString"]}
    root = Environment(registry, None, su=True)
    _base_data(registry, root)
    for name in registry.addons:
        DataLoader(registry, root, name).load()
    registry.freeze()
    return registry


def _base_data(registry, root):
    usd = root["res.currency"].create({"name": "USD"})
    company = root["res.company"].create({"name": "YourCompany", "currency_id": usd.id})
    registry.company_id = company.id
    registry.xmlids.update({"base.USD": ("res.currency", usd.id), "base.main_company": ("res.company", company.id)})
    for xmlid, info in sorted(registry.access.data.groups.items()):
        record = root["res.groups"].create({"name": info.get("name") or xmlid, "xmlid": xmlid})
        registry.group_ids[xmlid] = record.id
        registry.xmlids[xmlid] = ("res.groups", record.id)

    def user(xmlid, name, login, groups):
        record = root["res.users"].create({"name": name, "login": login, "group_xmlids": frozenset(groups),
                                           "company_id": company.id, "company_ids": [company.id]})
        registry.xmlids[xmlid] = ("res.users", record.id)
        return record

    registry.superuser_id = user("base.user_root", "OdooBot", "__system__", {"base.group_user", "base.group_system"}).id
    user("base.user_admin", "Mitchell Admin", "admin", {"base.group_user", "base.group_system",
                                                        "sales_team.group_sale_manager"})
    captured = viewcheck.CapturedViews(registry.version)
    every = json.loads((captured.views_dir / "all_views_sale_order_res_partner.json").read_text())
    for xmlid, meta in sorted(captured.meta.items()):
        vals = {"name": xmlid, "model": meta["model"], "type": meta["type"], "mode": meta["mode"], "xmlid": xmlid,
                "priority": every.get(xmlid, {}).get("priority", 16),
                "arch": ET.tostring(captured.stored_arch(xmlid), encoding="unicode") if captured.exists(xmlid) else ""}
        registry.xmlids[xmlid] = ("ir.ui.view", root["ir.ui.view"].create(vals).id)
    for xmlid, meta in sorted(captured.meta.items()):  # parents once every view exists
        if meta["inherit"] and meta["inherit"] in registry.xmlids:
            root.ref(xmlid).write({"inherit_id": registry.xmlids[meta["inherit"]][1]})
    for xmlid, values in DEPENDENCY_MENUS.items():
        registry.xmlids[xmlid] = ("ir.ui.menu", root["ir.ui.menu"].create(dict(values)).id)


class DataLoader:
    """Loads an addon's XML data files (manifest order) into the registry: records, ``<menuitem>`` and
    the admin user's groups.  Groups, rules and ACLs come from ``access.py``; a field the version's model
    does not have is an error, as when Odoo loads the file."""

    SKIPPED_MODELS = {"res.groups", "ir.rule", "res.groups.privilege", "ir.module.category"}

    def __init__(self, registry, root, addon):
        self.registry, self.root, self.addon = registry, root, addon
        self.module = MODULE_NAMES[addon]
        self.dir = harness.ADDONS_DIR / addon

    def load(self):
        manifest = ast.literal_eval((self.dir / "__manifest__.py").read_text())
        for name in manifest.get("data", []):
            if name.endswith(".xml"):
                self._load_file(name)

    def xmlid(self, ref):
        return ref if "." in ref else f"{self.module}.{ref}"

    def ref(self, ref):
        found = self.registry.xmlids.get(self.xmlid(ref))
        if found is None:
            raise ValueError(f"{self.addon}: External ID not found in the system: {self.xmlid(ref)}")
        return found[1]

    def _load_file(self, name):
        for node in ET.parse(self.dir / name).getroot().iter():
            if node.tag == "record":
                self._record(name, node)
            elif node.tag == "menuitem":
                self._menu(node)

    def _record(self, filename, node):
        model, xmlid = node.get("model"), self.xmlid(node.get("id"))
        if model in self.SKIPPED_MODELS:
            return
        if model == "res.users":
            self._user_groups(xmlid, node)
            return
        if model not in self.registry.classes:
            raise ValueError(f"{self.addon}/{filename}: {xmlid}: model {model} is not in the test database")
        fields = self.registry.classes[model]._field_map()
        vals = {}
        for field in node.findall("field"):
            fname = field.get("name")
            if fname not in fields:
                raise ValueError(f"{self.addon}/{filename}: {xmlid}: Invalid field {fname!r} on model {model!r}")
            vals[fname] = self._value(field, fields[fname])
        if model == "ir.ui.view":
            vals.setdefault("mode", "extension" if vals.get("inherit_id") else "primary")
            vals["xmlid"] = xmlid
            if vals.get("inherit_id"):  # an extension has its parent's model and type
                parent = self.root["ir.ui.view"].browse(vals["inherit_id"])
                vals.setdefault("model", parent.model)
                vals.setdefault("type", parent.type)
            vals.setdefault("type", ET.fromstring(vals["arch"]).tag)  # as Odoo: the root's tag
        record = self.root[model].create(vals)
        self.registry.xmlids[xmlid] = (model, record.id)

    def _value(self, field, declared):
        if field.get("ref"):
            return self.ref(field.get("ref"))
        if field.get("eval") is not None:
            return self._eval(field.get("eval"))
        if field.get("type") == "xml" or field.get("name") == "arch":
            children = [c for c in field if isinstance(c.tag, str)]
            root = children[0] if len(children) == 1 else ET.Element("data")
            if len(children) != 1:
                root.extend(children)
            return ET.tostring(root, encoding="unicode")
        if field.get("type") == "html":
            return "".join(ET.tostring(c, encoding="unicode") for c in field) or (field.text or "")
        if declared.type == "integer":
            return int(field.text)
        return (field.text or "").strip()

    def _eval(self, text):
        """The ``eval`` of a data file: literals, lists/tuples, ``ref('x')`` and ``Command.link/set(...)``."""

        def walk(node):
            if isinstance(node, ast.Expression):
                return walk(node.body)
            if isinstance(node, ast.Constant):
                return node.value
            if isinstance(node, (ast.List, ast.Tuple)):
                values = [walk(elt) for elt in node.elts]
                return values if isinstance(node, ast.List) else tuple(values)
            if isinstance(node, ast.Name) and node.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.id]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ref":
                return self.ref(walk(node.args[0]))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "Command":
                from odoo import Command

                return getattr(Command, node.func.attr)(*[walk(arg) for arg in node.args])
            raise ValueError(f"{self.addon}: eval {text!r}: {type(node).__name__} is not supported")

        return walk(ast.parse(text.strip(), mode="eval"))

    def _user_groups(self, xmlid, node):
        """``<record id="base.user_admin" model="res.users">`` adding groups to a user."""
        user = self.root.ref(xmlid)
        group_field = self.registry.user_groups_field
        for field in node.findall("field"):
            if field.get("name") != group_field:
                raise ValueError(f"{self.addon}: {xmlid}: field {field.get('name')!r} of res.users is not "
                                 f"{group_field!r} in Odoo {self.registry.version}")
            added = {self.registry.group_xmlid(command[1]) for command in self._eval(field.get("eval"))
                     if command[0] == 4}
            user.write({"group_xmlids": frozenset(user.group_xmlids or ()) | added})

    def _menu(self, node):
        vals = {"name": node.get("name"), "sequence": int(node.get("sequence") or 10)}
        if node.get("parent"):
            vals["parent_id"] = self.ref(node.get("parent"))
        if node.get("action"):
            vals["action"] = self.ref(node.get("action"))
        if node.get("groups"):
            vals[self.registry.user_groups_field] = [self.ref(g.strip()) for g in node.get("groups").split(",")]
        menu = self.root["ir.ui.menu"].create(vals)
        self.registry.xmlids[self.xmlid(node.get("id"))] = ("ir.ui.menu", menu.id)


# --------------------------------------------------------------------------- models


def define_database_models():
    """Products, order lines, messages, actions, menus, views; the 17/19 group fields; sale_stock (once)."""
    global _DEFINED
    if _DEFINED:
        return
    _DEFINED = True
    _define_common()
    _define_versions()
    _define_sale_stock()


def _define_common():
    from odoo import fields, models
    from odoo.fields import Command

    class ProductProduct(models.Model):
        __module__ = DB_MODULE
        _name = "product.product"
        _description = "Product Variant"

        name = fields.Char()
        list_price = fields.Float(default=1.0)

    class SaleOrderLine(models.Model):
        __module__ = DB_MODULE
        _name = "sale.order.line"
        _description = "Sales Order Line"

        order_id = fields.Many2one("sale.order")
        product_id = fields.Many2one("product.product")
        product_uom_qty = fields.Float(default=1.0)
        price_unit = fields.Float()
        price_subtotal = fields.Monetary()

        def create(self, vals_list):
            vals_list = [vals_list] if isinstance(vals_list, dict) else vals_list
            prepared = []
            for vals in vals_list:
                vals = dict(vals)
                if "price_unit" not in vals and vals.get("product_id"):
                    vals["price_unit"] = self.env["product.product"].sudo().browse(vals["product_id"]).list_price
                vals["price_subtotal"] = vals.get("price_unit", 0.0) * vals.get("product_uom_qty", 1.0)
                prepared.append(vals)
            return super().create(prepared)

    class MailMessage(models.Model):
        __module__ = DB_MODULE
        _name = "mail.message"
        _description = "Message"

        model = fields.Char()
        res_id = fields.Integer()
        body = fields.Html()
        message_type = fields.Char(default="comment")
        subtype_xmlid = fields.Char()
        author_id = fields.Many2one("res.users")

    class SaleOrder(models.Model):
        __module__ = DB_MODULE
        _inherit = "sale.order"

        order_line = fields.One2many("sale.order.line", "order_id")

        @property
        def message_ids(self):
            self.ensure_one()
            return self.env["mail.message"].sudo().search([("model", "=", self._name), ("res_id", "=", self.id)])

        def create(self, vals_list):
            vals_list = [vals_list] if isinstance(vals_list, dict) else vals_list
            registry = self.env.registry
            prepared = []
            for vals in vals_list:
                vals = dict(vals)
                vals.setdefault("name", registry.next_name("S"))
                if not vals.get("currency_id"):
                    company = self.env["res.company"].sudo().browse(vals.get("company_id") or self.env.company.id)
                    vals["currency_id"] = company.currency_id.id
                prepared.append(vals)
            orders = super().create(prepared)
            for order, vals in zip(orders.sudo(), prepared):
                if "order_line" in vals and "amount_total" not in vals:
                    registry.rows["sale.order"][order.id]["amount_total"] = sum(order.order_line.mapped("price_subtotal"))
            return orders

        def copy(self, default=None):
            self.ensure_one()
            fields_ = self._fields
            vals = {name: value for name, value in self.sudo().read()[0].items()
                    if name in fields_ and name not in ("id", "name", "state")
                    and fields_[name].type != "one2many" and fields_[name].copy}
            vals["order_line"] = [Command.create({"product_id": line.product_id.id, "product_uom_qty": line.product_uom_qty,
                                                  "price_unit": line.price_unit})
                                  for line in self.sudo().order_line]
            vals.update(default or {})
            return self.create(vals)

        def message_post(self, body="", subtype_xmlid=None, message_type="comment", **kwargs):
            result = super().message_post(body=body, subtype_xmlid=subtype_xmlid, **kwargs)
            self.env["mail.message"].sudo().create({"model": self._name, "res_id": self.id, "body": body,
                                                    "subtype_xmlid": subtype_xmlid, "message_type": message_type,
                                                    "author_id": self.env.uid})
            return result

    class ResUsers(models.Model):
        __module__ = DB_MODULE
        _inherit = "res.users"

        def create(self, vals_list):
            vals_list = [vals_list] if isinstance(vals_list, dict) else vals_list
            registry = self.env.registry
            prepared = []
            for vals in vals_list:
                vals = dict(vals)
                for name in ("groups_id", "group_ids"):
                    if name not in vals:
                        continue
                    if name != registry.user_groups_field:
                        raise ValueError(f"Invalid field {name!r} on model 'res.users' (Odoo {registry.version})")
                    commands = vals.pop(name)
                    group_ids = set()
                    for command in commands:
                        if command[0] == Command.SET:
                            group_ids = set(command[2])
                        elif command[0] == Command.LINK:
                            group_ids.add(command[1])
                    vals["group_xmlids"] = frozenset(registry.group_xmlid(gid) for gid in group_ids)
                company = vals.setdefault("company_id", self.env.company.id)
                company_ids = vals.get("company_ids") or [Command.link(company)]
                vals["company_ids"] = sorted({c[1] if isinstance(c, (list, tuple)) else c for c in company_ids})
                prepared.append(vals)
            return super().create(prepared)

    class ResGroups(models.Model):
        __module__ = DB_MODULE
        _inherit = "res.groups"

        @property
        def implied_ids(self):
            """The groups this group implies directly (from the captured groups and the addon's XML)."""
            self.ensure_one()
            registry = self.env.registry
            implied = registry.access.data.groups.get(self.xmlid, {}).get("implied_ids", [])
            return self.browse(tuple(registry.group_ids[g] for g in implied if g in registry.group_ids))

    class IrUiView(models.Model):
        __module__ = DB_MODULE
        _name = "ir.ui.view"
        _description = "View"

        name = fields.Char()
        model = fields.Char()
        type = fields.Char()
        arch = fields.Text()
        inherit_id = fields.Many2one("ir.ui.view")
        mode = fields.Char(default="primary")
        priority = fields.Integer(default=16)
        xmlid = fields.Char()  # stand-in only: the external id

        def _standin_get_views(self, model, views):
            from odoo.exceptions import UserError

            registry = self.env.registry
            result = {}
            for view_id, view_type in views:
                if view_type in ("tree", "list") and view_type != LIST_TYPES[registry.version]:
                    raise UserError(f"Invalid view type: '{view_type}'.")  # 17 has no 'list', 19 no 'tree'
                arch = ViewBuilder(self.sudo(), model, view_type).arch(view_id)
                _filter_groups(arch, self.env.user)
                result[view_type] = {"arch": ET.tostring(arch, encoding="unicode"), "id": view_id, "model": model}
            return {"views": result, "models": {model: {}}}

    class IrActionsActWindow(models.Model):
        __module__ = DB_MODULE
        _name = "ir.actions.act_window"
        _description = "Action Window"

        name = fields.Char()
        res_model = fields.Char()
        view_mode = fields.Char(default="tree,form")
        view_id = fields.Many2one("ir.ui.view")
        search_view_id = fields.Many2one("ir.ui.view")
        domain = fields.Char()
        context = fields.Char(default="{}")
        target = fields.Char(default="current")
        help = fields.Html()

    class IrUiMenu(models.Model):
        __module__ = DB_MODULE
        _name = "ir.ui.menu"
        _description = "Menu"

        name = fields.Char()
        sequence = fields.Integer(default=10)
        parent_id = fields.Many2one("ir.ui.menu")
        action = fields.Many2one("ir.actions.act_window")  # Odoo: a Reference; only window actions here

        def _visible_menu_ids(self, debug=False):
            """Odoo's algorithm: the menus of the user's groups; a menu with an action only when the user may
            read the action's model; a folder only above a visible menu with an action."""
            from odoo.exceptions import AccessError

            registry = self.env.registry
            access = registry.access
            user_group_ids = {registry.group_ids[g] for g in access.user_groups(self.env.uid) if g in registry.group_ids}
            group_field = registry.user_groups_field
            menus = [m for m in self.sudo().search([])
                     if not (m[group_field] and user_group_ids.isdisjoint(m[group_field].ids))]
            action_menus = [m for m in menus if m.action]
            folder_ids = {m.id for m in menus if not m.action}
            visible = set()
            for menu in action_menus:
                try:
                    access.check_acl(self.env(su=False), menu.action.res_model, "read")
                except AccessError:
                    continue
                visible.add(menu.id)
                parent = menu.parent_id
                while parent and parent.id in folder_ids and parent.id not in visible:
                    visible.add(parent.id)
                    parent = parent.parent_id
            return visible


def _define_versions():
    from odoo import fields, models

    for version, module in VERSION_MODULES.items():
        group_field = GROUP_FIELDS[version]
        product_types = ([("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")]
                         if version == "17.0" else [("consu", "Goods"), ("service", "Service"), ("combo", "Combo")])
        attrs = {"__module__": module, "_inherit": "ir.actions.act_window", group_field: fields.Many2many("res.groups")}
        type(f"Actions{version[:2]}", (models.Model,), attrs)
        attrs = {"__module__": module, "_inherit": "ir.ui.menu", group_field: fields.Many2many("res.groups")}
        type(f"Menus{version[:2]}", (models.Model,), attrs)
        attrs = {"__module__": module, "_inherit": "product.product",
                 "type": fields.Selection(product_types, default="consu")}
        if version == "19.0":
            attrs["is_storable"] = fields.Boolean()
        type(f"Product{version[:2]}", (models.Model,), attrs)


def _define_sale_stock():
    from odoo import fields, models

    class SaleOrder(models.Model):
        """sale_stock: confirming an order creates its delivery (one picking, one move per goods line),
        reserved at once for consumables (storable products have nothing on hand in the test database)."""

        __module__ = STOCK_DB_MODULE
        _inherit = "sale.order"

        picking_ids = fields.One2many("stock.picking", "sale_id")

        def action_confirm(self):
            result = super().action_confirm()
            for order in self.sudo():
                order._standin_create_delivery()
            return result

        def _standin_create_delivery(self):
            lines = [line for line in self.order_line if line.product_id.type != "service"]
            if not lines:
                return
            registry = self.env.registry
            picking = self.env["stock.picking"].create({
                "name": registry.next_name("WH/OUT/"), "origin": self.name, "partner_id": self.partner_id.id,
                "company_id": self.company_id.id, "picking_type_code": "outgoing", "sale_id": self.id,
                "state": "confirmed"})
            for line in lines:
                product = line.product_id
                storable = product.type == "product" or ("is_storable" in product._fields and product.is_storable)
                reserved = 0.0 if storable else line.product_uom_qty
                self.env["stock.move"].create({
                    "picking_id": picking.id, "company_id": self.company_id.id, "product_id": product.id,
                    "sale_line_id": line.id, "product_uom_qty": line.product_uom_qty, "quantity": reserved,
                    "state": "assigned" if reserved else "confirmed"})
            if any(move.quantity for move in picking.move_ids):
                picking.write({"state": "assigned"})

    class StockPicking(models.Model):
        __module__ = STOCK_DB_MODULE
        _inherit = "stock.picking"

        move_ids = fields.One2many("stock.move", "picking_id")

    class StockMove(models.Model):
        __module__ = STOCK_DB_MODULE
        _inherit = "stock.move"

        product_id = fields.Many2one("product.product")
        sale_line_id = fields.Many2one("sale.order.line")


# ---------------------------------------------------------------------------- views


class ViewBuilder:
    """The architecture ``get_views`` answers for one (view, type) of a model."""

    def __init__(self, views, model, view_type):
        self.views, self.model, self.view_type = views, model, view_type
        self.registry = views.env.registry
        self.captured = viewcheck.CapturedViews(self.registry.version)

    def arch(self, view_id):
        if view_id:
            view = self.views.browse(view_id)
            if not view.exists() or view.model != self.model or view.type != self.view_type:
                raise ValueError(f"view {view_id} is not a {self.view_type} view of {self.model}")
            return self._extended(ET.fromstring(view.arch), {view.xmlid})
        xmlid = self._default_xmlid()
        arch = self._combined() if xmlid in self.captured.meta else ET.fromstring(self.views.env.ref(xmlid).arch)
        return self._extended(arch, self._ancestors(xmlid))

    def _default_xmlid(self):
        """The primary view of the type with the lowest priority, then id (captured and the addons' own)."""
        candidates = [(view.priority, view.id, view.xmlid) for view in self.views.search([])
                      if view.model == self.model and view.type == self.view_type and view.mode == "primary"]
        if not candidates:
            raise ValueError(f"no {self.view_type} view of {self.model}")
        return min(candidates)[2]

    def _combined(self):
        name = f"_combined.{self.model}.{self.view_type}.xml"
        if "credit_guard_stock" in {MODULE_NAMES[a] for a in self.registry.addons}:
            stock = STOCK_VIEWS[self.registry.version] / name
            if stock.is_file():
                return ET.fromstring(stock.read_text())
        arch = self.captured.combined_arch(self.model, self.view_type)
        if arch is None:
            raise ValueError(f"the {self.view_type} view of {self.model} is not captured")
        return arch

    def _ancestors(self, xmlid):
        found = {xmlid}
        while xmlid in self.captured.meta and self.captured.meta[xmlid]["inherit"]:
            xmlid = self.captured.meta[xmlid]["inherit"]
            found.add(xmlid)
        return found

    def _extended(self, arch, targets):
        """Apply the addons' extension views of ``targets`` (and of those applied), by priority and id."""
        targets = set(targets)
        own = {f"{MODULE_NAMES[addon]}." for addon in self.registry.addons}
        # the captured architectures already hold the extensions of stock Odoo: only the addons' are applied
        extensions = sorted((v for v in self.views.search([]) if v.mode == "extension" and v.xmlid.startswith(tuple(own))),
                            key=lambda v: (v.priority, v.id))
        applied = set()
        changed = True
        while changed:
            changed = False
            for view in extensions:
                if view.id not in applied and view.inherit_id and view.inherit_id.xmlid in targets:
                    arch = viewcheck.apply_inheritance(arch, ET.fromstring(view.arch), source=view.xmlid)
                    applied.add(view.id)
                    targets.add(view.xmlid)
                    changed = True
        return arch


def _filter_groups(arch, user):
    """Remove the nodes whose ``groups`` the user lacks (``!group`` excludes), drop the attribute (as Odoo)."""
    parents = {child: parent for parent in arch.iter() for child in parent}
    for node in list(arch.iter()):
        groups = node.attrib.pop("groups", None)
        if groups and not _has_groups(user, groups) and node in parents:
            parents[node].remove(node)


def _has_groups(user, groups):
    positive = []
    for name in (g.strip() for g in groups.split(",")):
        if name.startswith("!"):
            if user.has_group(name[1:]):
                return False
        else:
            positive.append(user.has_group(name))
    return any(positive) if positive else True

