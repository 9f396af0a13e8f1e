"""Runs the credit_guard addons' Python code on the stand-in ``odoo`` package (tests/addon/standin).

* ``install_standin()`` puts the stand-in in ``sys.modules['odoo']`` (the caller removes it);
* ``define_base_models()`` declares what ``base``, ``mail`` and ``sale`` provide to the addon
  (``sale.order.action_confirm`` confirms and counts the calls, ``message_post`` records the
  messages, ``ir.config_parameter`` holds the system parameters, ...);
* ``load_addon()`` imports an addon directory as ``odoo.addons.<name>``;
* ``World`` is a database with two companies, users, a customer and orders, and ``World.call``
  runs a method the way an RPC call does: in a transaction that an exception rolls back, except
  for what the code committed on a cursor of its own (``env.registry.cursor()``);
* the registry applies Odoo's access model (``access.py``): the real ACLs, record rules and groups
  of the Odoo version the addon targets, plus the addon's own security data.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDONS_DIR = ROOT / "adapters" / "odoo" / "addon"
STANDIN_DIR = Path(__file__).resolve().parent / "standin" / "odoo"
BASE_MODULE = "odoo.addons.standin_base"

ADMIN, SALESMAN, CONTROLLER, DAEMON = "admin", "salesman", "controller", "daemon"
OTHER_SALESMAN = "other_salesman"
PLAIN_CONTROLLER, SALES_MANAGER_TIER, CFO = "plain_controller", "sales_manager_tier", "cfo"
SALESMAN_GROUPS = {"base.group_user", "sales_team.group_sale_salesman"}
CONTROLLER_GROUP = "credit_guard.group_credit_controller"
# the release tiers' groups (security XML) and their tier records (data/credit_guard_tier_data.xml)
TIER_GROUPS = {tier: f"credit_guard.group_credit_tier_{tier}" for tier in ("sales_manager", "credit_manager", "cfo")}
TIER_DATA = "data/credit_guard_tier_data.xml"
# the captured security data (ACLs, rules, groups) of the Odoo version each addon targets
SECURITY_DIRS = {
    "credit_guard": ROOT / "tests" / "addon" / "captured" / "odoo17" / "security",
    "credit_guard_19": ROOT / "tests" / "addon" / "captured" / "odoo19" / "security",
}


def install_standin():
    """Import the stand-in package as ``odoo`` (registered in sys.modules)."""
    spec = importlib.util.spec_from_file_location(
        "odoo", STANDIN_DIR / "__init__.py", submodule_search_locations=[str(STANDIN_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["odoo"] = module
    spec.loader.exec_module(module)
    return module


def load_addon(name: str):
    """Import ``adapters/odoo/addon/<name>`` as ``odoo.addons.<name>`` (once: its models are declared once)."""
    path = ADDONS_DIR / name
    full_name = f"odoo.addons.{name}"
    if full_name in sys.modules:
        return sys.modules[full_name]
    spec = importlib.util.spec_from_file_location(
        full_name, path / "__init__.py", submodule_search_locations=[str(path)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[full_name] = module
    spec.loader.exec_module(module)
    return module


class LockNotAvailable(Exception):
    """What psycopg2 raises for ``FOR UPDATE NOWAIT`` on a locked row."""


class SideCursor:
    """``env.registry.cursor()``: a transaction of its own, committed when the block ends."""

    def __init__(self, registry):
        self.registry = registry
        self.pending = []
        self.statements = []
        self._result = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.registry.side_commits.extend(self.pending)
            self.registry.commits += 1
        else:
            for model, record_id, old, _new in reversed(self.pending):
                self.registry.rows[model][record_id].update(old)
        return False

    def execute(self, query, params=()):
        self.statements.append((query, tuple(params)))
        if "FOR UPDATE NOWAIT" in query:
            (record_id,) = params
            if record_id in self.registry.locked_ids:
                raise LockNotAvailable("could not obtain lock on row in relation \"sale_order\"")
            self._result = (record_id,) if record_id in self.registry.committed_ids("sale.order") else None

    def fetchone(self):
        return self._result


class MainCursor:
    """The cursor of the current request."""


class Registry:
    def __init__(self, classes, access_data=None):
        from .access import AccessModel

        self.classes = classes
        self.access = AccessModel(self, access_data) if access_data is not None else None
        self.rows = defaultdict(dict)
        self.params = {}
        self.messages = []
        self.confirm_calls = []
        self.side_commits = []
        self.commits = 0
        self.locked_ids = set()
        self.uncommitted = set()
        self.company_id = None
        self.group_ids = {}  # res.groups: xml id -> record id
        self.xmlids = {}  # env.ref: xml id -> (model, record id)
        self.main_cursor = MainCursor()
        self._last_id = 0

    def next_id(self):
        self._last_id += 1
        return self._last_id

    def cursor(self):
        return SideCursor(self)

    def committed_ids(self, model):
        return set(self.rows[model]) - self.uncommitted

    def log_write(self, cr, model, record_id, old, new):
        if isinstance(cr, SideCursor):
            cr.pending.append((model, record_id, old, new))

    def call(self, env, model, method, ids, *args, **kwargs):
        """Call ``env[model].browse(ids).method(...)`` in a transaction, like an RPC call."""
        snapshot = copy.deepcopy(self.rows)
        self.side_commits = []
        try:
            return getattr(env[model].browse(ids), method)(*args, **kwargs)
        except Exception:
            self.rows.clear()
            self.rows.update(snapshot)
            for model_name, record_id, _old, new in self.side_commits:
                self.rows[model_name][record_id].update(new)
            raise


_BASE_DEFINED = False


def define_base_models():
    """Declare the stand-ins of the models of base, mail and sale (once per process)."""
    global _BASE_DEFINED
    if _BASE_DEFINED:
        return
    _BASE_DEFINED = True
    from odoo import fields, models
    from odoo.exceptions import AccessError, UserError

    class ResCurrency(models.Model):
        __module__ = BASE_MODULE
        _name = "res.currency"

        name = fields.Char()
        rounding = fields.Float(default=0.01)
        decimal_places = fields.Integer(default=2)

        def round(self, amount):
            return round(round(amount / self.rounding) * self.rounding, 6)

        def compare_amounts(self, amount1, amount2):
            delta = self.round(amount1 - amount2)
            return 0 if self.is_zero(delta) else (1 if delta > 0 else -1)

        def is_zero(self, amount):
            return abs(self.round(amount)) < self.rounding / 2

    class ResCompany(models.Model):
        __module__ = BASE_MODULE
        _name = "res.company"

        name = fields.Char()
        currency_id = fields.Many2one("res.currency")
        parent_id = fields.Many2one("res.company")

    class ResGroups(models.Model):
        __module__ = BASE_MODULE
        _name = "res.groups"
        _description = "Access Groups"

        name = fields.Char()
        xmlid = fields.Char()  # the group's external id (stand-in only)

    class ResUsers(models.Model):
        __module__ = BASE_MODULE
        _name = "res.users"
        _description = "User"

        name = fields.Char()
        login = fields.Char()
        group_xmlids = fields.Field()  # the groups given to the user (groups_id / 19: group_ids)
        company_id = fields.Many2one("res.company")
        company_ids = fields.Field()  # ids of the companies the user may work in

        def has_group(self, group_ext_id):
            """Whether the user has the group, directly or through an implied group (as Odoo)."""
            self.ensure_one()
            access = self.env.registry.access
            groups = access.user_groups(self.id) if access is not None else (self.group_xmlids or ())
            return group_ext_id in groups

        @property
        def groups_id(self):
            """17.0: the user's groups, with the implied ones (Odoo adds them to the user); 19.0: all_group_ids."""
            self.ensure_one()
            registry = self.env.registry
            groups = registry.access.user_groups(self.id) if registry.access is not None else (self.group_xmlids or ())
            return self.env["res.groups"].browse(tuple(sorted(registry.group_ids[g] for g in groups
                                                              if g in registry.group_ids)))

        all_group_ids = groups_id

    class ResPartner(models.Model):
        __module__ = BASE_MODULE
        _name = "res.partner"
        _description = "Contact"
        _mail_thread = True

        name = fields.Char()
        company_id = fields.Many2one("res.company")
        partner_share = fields.Boolean(default=True)  # False for the partners of internal users
        ref = fields.Char()
        parent_id = fields.Many2one("res.partner")
        commercial_partner_id = fields.Many2one("res.partner")
        credit_limit = fields.Float()  # account: company-dependent

        @property
        def display_name(self):
            parent = self.parent_id
            return f"{parent.name}, {self.name}" if parent else self.name

    class IrConfigParameter(models.Model):
        __module__ = BASE_MODULE
        _name = "ir.config_parameter"

        def get_param(self, key, default=False):
            if not (self.env.su or self.env.user.has_group("base.group_system")):
                raise AccessError("You are not allowed to access 'System Parameter' (ir.config_parameter) records.")
            return self.env.registry.params.get(key, default)

        def set_param(self, key, value):
            self.env.registry.params[key] = value
            return True

    class SaleOrder(models.Model):
        __module__ = BASE_MODULE
        _name = "sale.order"
        _description = "Sales Order"
        _mail_thread = True

        name = fields.Char()
        user_id = fields.Many2one("res.users", default=lambda self: self.env.uid)  # the salesperson
        state = fields.Selection(
            [("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order"), ("cancel", "Cancelled")],
            default="draft",
        )
        partner_id = fields.Many2one("res.partner")
        company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
        currency_id = fields.Many2one("res.currency")
        date_order = fields.Datetime(default=lambda self: fields.Datetime.now())
        amount_total = fields.Monetary(currency_field="currency_id")
        amount_invoiced = fields.Monetary(currency_field="currency_id")

        def action_confirm(self):
            for order in self:
                if order.state not in ("draft", "sent"):
                    raise UserError("Some orders are not in a state requiring confirmation.")
            self.env.registry.confirm_calls.append(tuple(self.ids))
            self.write({"state": "sale"})
            return True

        def message_post(self, body="", subtype_xmlid=None, **kwargs):
            self.ensure_one()
            self.env.registry.messages.append(
                {"model": self._name, "res_id": self.id, "body": body, "subtype_xmlid": subtype_xmlid,
                 "author_uid": self.env.uid}
            )
            return len(self.env.registry.messages)


class World:
    """A database: two companies (USD), five users, a customer, and helpers to make orders.

    The users' groups are the ones given on the user form (``groups_id``); what they imply
    comes from the captured groups and the addon's security XML.  Everybody works in
    ``company``; only the admin also in ``other_company``.  Orders belong to Sam Sales
    unless told otherwise (``user_id``), as in the addon's own tests.
    """

    def __init__(self, addon_name: str):
        from odoo.api import Environment
        from odoo.models import build_classes

        from .access import SecurityData

        self.addon_name = addon_name
        self.registry = Registry(build_classes(self.module_prefixes(addon_name)),
                                 SecurityData(SECURITY_DIRS[addon_name], ADDONS_DIR / addon_name))
        root = Environment(self.registry, None, su=True)
        usd = root["res.currency"].create({"name": "USD"})
        company = root["res.company"].create({"name": "YourCompany", "currency_id": usd.id})
        self.registry.company_id = company.id
        self.company = company
        self.other_company = root["res.company"].create({"name": "Other Company", "currency_id": usd.id})
        self.usd = usd
        groups = root["res.groups"]
        for xmlid, info in sorted(self.registry.access.data.groups.items()):
            self.registry.group_ids[xmlid] = groups.create({"name": info.get("name") or xmlid, "xmlid": xmlid}).id
        self.tiers = self._load_tiers(root)
        users = root["res.users"]

        def user(name, login, groups, companies=(company.id,)):
            return users.create({"name": name, "login": login, "group_xmlids": frozenset(groups),
                                 "company_id": company.id, "company_ids": list(companies)}).id

        self.uids = {
            # the real admin: Settings and Sales / Administrator (+ the Credit Controller, from the addon)
            # the real admin: Settings and Sales / Administrator (+ the Credit Controller at the tier CFO, from the addon)
            ADMIN: user("Mitchell Admin", "admin",
                        {"base.group_system", "sales_team.group_sale_manager", CONTROLLER_GROUP, TIER_GROUPS["cfo"]},
                        (company.id, self.other_company.id)),
            SALESMAN: user("Sam Sales", "sam", SALESMAN_GROUPS),
            OTHER_SALESMAN: user("Marc Demo", "marc", SALESMAN_GROUPS),
            # as the addon's test creates her: the tier Credit Manager (which implies the Credit Controller)
            CONTROLLER: user("Carla Credit", "carla", {TIER_GROUPS["credit_manager"]}),
            PLAIN_CONTROLLER: user("Paul Plain", "paul", {CONTROLLER_GROUP}),
            SALES_MANAGER_TIER: user("Sonia Manager", "sonia", {TIER_GROUPS["sales_manager"]}),
            CFO: user("Frank Finance", "frank", {TIER_GROUPS["cfo"]}),
            # the daemon's integration user clears holds of every tier: the highest one
            DAEMON: user("CreditGuard", "creditguard", SALESMAN_GROUPS | {CONTROLLER_GROUP, TIER_GROUPS["cfo"]}),
        }
        self.customer = root["res.partner"].create({"name": "Deco Addict", "ref": "C00010", "credit_limit": 25000.0})
        self.customer.write({"commercial_partner_id": self.customer.id})
        self._seq = 0

    def module_prefixes(self, addon_name: str) -> list:
        """The modules whose models the registry builds (a subclass adds more: stock_harness.py)."""
        return [BASE_MODULE, f"odoo.addons.{addon_name}."]

    def _load_tiers(self, root):
        """The tier records the addon ships (its data file): ``{xml id: record}``."""
        import xml.etree.ElementTree as ET

        from .access import _full_id

        tiers = {}
        for record in ET.parse(ADDONS_DIR / self.addon_name / TIER_DATA).getroot().iter("record"):
            if record.get("model") != "credit.guard.tier":
                continue
            vals = {}
            for field in record.findall("field"):
                name = field.get("name")
                if field.get("ref"):
                    vals[name] = self.registry.group_ids[_full_id(field.get("ref"))]
                elif field.get("eval"):
                    vals[name] = int(field.get("eval"))
                else:
                    vals[name] = field.text
            tiers[_full_id(record.get("id"))] = root["credit.guard.tier"].create(vals)
        return tiers

    def group(self, xmlid):
        """The res.groups record of a group's xml id."""
        return self.env(ADMIN, su=True)["res.groups"].browse(self.registry.group_ids[xmlid])

    def env(self, who=SALESMAN, su=False):
        from odoo.api import Environment

        return Environment(self.registry, self.uids[who], su=su)

    def order(self, **vals):
        self._seq += 1
        values = {"name": "S%05d" % self._seq, "partner_id": self.customer.id, "currency_id": self.usd.id,
                  "amount_total": 1000.0, "user_id": self.uids[SALESMAN]}
        values.update(vals)
        return self.env(ADMIN, su=True)["sale.order"].create(values)

    def read(self, record):
        return self.registry.rows[record._name][record.id]

    def call(self, who, method, records, *args, **kwargs):
        return self.registry.call(self.env(who), records._name, method, records.ids, *args, **kwargs)

    def set_params(self, **params):
        self.registry.params.update({f"credit_guard.{key}": value for key, value in params.items()})
