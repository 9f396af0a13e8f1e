"""Odoo's access model for the stand-in ORM: ACLs (``ir.model.access``) and record rules (``ir.rule``).

The rows are the real ones, captured from Odoo 17.0 and 19.0 servers (``captured/odoo17/security``,
``captured/odoo19/security``, see their README.md), plus the groups, rules and ACLs the addon ships
(its ``security/*.xml`` and ``security/ir.model.access.csv``).  They are combined as Odoo does:

* ACL: an operation is allowed when any of the user's groups (or a row without group) grants it;
  models without any captured ACL row (res.users, res.company, ...) are not checked;
* record rules of the operation: every global rule must match (AND), and when the user has group
  rules, at least one of them must match (OR); rules of other groups are ignored;
* ``user`` is the current user and ``company_ids`` the context's ``allowed_company_ids`` or, when it
  has none, all the user's companies;
* ``search`` filters silently, ``read``/``write``/``unlink`` of a record outside the rules raise
  ``AccessError`` with Odoo's message (RPC is never in debug mode: the short form);
* the superuser (``sudo()``) bypasses both.

Effective groups are a user's groups plus everything they imply, transitively.  Domains are
evaluated on the stand-in's rows; ``domain_force`` is parsed with ``ast`` and only literals,
lists/tuples, the names ``user``, ``company_ids``, ``company_id`` and attribute access on ``user``
are accepted (no ``eval``).
"""

from __future__ import annotations

import ast
import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

OPERATIONS = ("read", "write", "create", "unlink")
ACL_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}
ADDON_MODULE = "credit_guard"  # both addon directories install as this module


class SecurityData:
    """The groups, ACLs and rules of one server version plus an addon's own."""

    def __init__(self, captured_dir: Path, addon_dir: Path | None = None):
        captured_dir = Path(captured_dir)
        self.groups = json.loads((captured_dir / "res.groups.json").read_text())
        self.rules = {
            xmlid: rule for xmlid, rule in json.loads((captured_dir / "ir.rule.json").read_text()).items()
            if rule["active"]
        }
        self.acls = {
            xmlid: acl for xmlid, acl in json.loads((captured_dir / "ir.model.access.json").read_text()).items()
            if acl["active"]
        }
        if addon_dir is not None:
            self._load_addon(Path(addon_dir))
        self._closure = {}

    # -------------------------------------------------------------- the addon's data

    def _load_addon(self, addon_dir: Path):
        security = addon_dir / "security"
        for path in sorted(security.glob("*.xml")):
            root = ET.parse(path).getroot()
            names = {}
            for record in root.iter("record"):
                fields = {f.get("name"): f for f in record.findall("field")}
                xmlid = _full_id(record.get("id"))
                names[xmlid] = fields["name"].text if "name" in fields else None
                if record.get("model") == "res.groups":
                    self._add_group(xmlid, fields, names)
                elif record.get("model") == "ir.rule":
                    self._add_rule(xmlid, fields)
        acl_csv = security / "ir.model.access.csv"
        if acl_csv.is_file():
            known = {row["model"] for row in (*self.acls.values(), *self.rules.values())}
            with acl_csv.open(newline="") as handle:
                for row in csv.DictReader(handle):
                    self.acls[_full_id(row["id"])] = {
                        "active": True,
                        "model": _model_from_ref(row["model_id:id"], known),
                        "group": _full_id(row["group_id:id"]) if row.get("group_id:id") else False,
                        **{f"perm_{op}": row[f"perm_{op}"].strip() in ("1", "True", "true") for op in OPERATIONS},
                    }

    def _add_group(self, xmlid, fields, names):
        implied = []
        if "implied_ids" in fields:
            implied = [_full_id(ref) for ref in re.findall(r"ref\('([^']+)'\)", fields["implied_ids"].get("eval", ""))]
        parent = fields.get("privilege_id", fields.get("category_id"))
        parent_name = names.get(_full_id(parent.get("ref"))) if parent is not None else None
        name = fields["name"].text
        self.groups[xmlid] = {
            "name": name,
            "full_name": f"{parent_name} / {name}" if parent_name else name,
            "category": {"name": parent_name} if parent_name else False,
            "implied_ids": implied,
        }

    def _add_rule(self, xmlid, fields):
        def flag(name):
            field = fields.get(name)
            return True if field is None else field.get("eval", field.text or "").strip() in ("1", "True")

        groups = []
        if "groups" in fields:
            groups = [_full_id(ref) for ref in re.findall(r"ref\('([^']+)'\)", fields["groups"].get("eval", ""))]
        self.rules[xmlid] = {
            "active": True,
            "model": _model_from_ref(fields["model_id"].get("ref"),
                                     {row["model"] for row in (*self.acls.values(), *self.rules.values())}),
            "domain_force": (fields["domain_force"].text or "[]").strip() if "domain_force" in fields else "[]",
            "groups": groups,
            **{f"perm_{op}": flag(f"perm_{op}") for op in OPERATIONS},
        }

    # ------------------------------------------------------------------- groups

    def implied(self, group: str) -> frozenset:
        """The group and every group it implies, transitively."""
        if group not in self._closure:
            self._closure[group] = frozenset({group})  # cycle guard
            info = self.groups.get(group) or {}
            found = {group}
            for other in info.get("implied_ids", []) + info.get("trans_implied_ids", []) + info.get(
                    "all_implied_ids", []):
                if other != group:
                    found |= self.implied(other)
            self._closure[group] = frozenset(found)
        return self._closure[group]

    def set_implied(self, group: str, implied: list):
        """Change what a group implies (directly), as an upgrade of its XML would."""
        self.groups.setdefault(group, {"name": group})["implied_ids"] = list(implied)
        for key in ("trans_implied_ids", "all_implied_ids"):
            self.groups[group].pop(key, None)
        self._closure.clear()

    def effective(self, groups) -> frozenset:
        result = set()
        for group in groups or ():
            result |= self.implied(group)
        return frozenset(result)

    def label(self, group: str) -> str:
        """How an ACL error names a group: ``Sales/Administrator`` (category, in 19 the privilege)."""
        info = self.groups.get(group) or {}
        parent = info.get("privilege") or info.get("category")
        name = info.get("name") or group
        return f"{parent['name']}/{name}" if parent else name


def _full_id(ref: str) -> str:
    return ref if "." in ref else f"{ADDON_MODULE}.{ref}"


def _model_from_ref(ref: str, known=()) -> str:
    """``sale.model_sale_order_line`` -> ``sale.order.line``: a known model whose name gives that xml id,
    else every ``_`` read as a dot."""
    name = ref.split(".", 1)[-1].removeprefix("model_")
    for model in known:
        if model.replace(".", "_") == name:
            return model
    return name.replace("_", ".")


# ---------------------------------------------------------------------- domains


class RecordValue:
    """``user`` (or a record reached from it) in a rule's domain: attribute access on stored rows."""

    def __init__(self, registry, model, record_id):
        self._registry, self._model, self.id = registry, model, record_id

    def attribute(self, name):
        if name == "id":
            return self.id
        fields = self._registry.classes[self._model]._field_map()
        if name not in fields:
            raise ValueError(f"rule domain: {self._model} has no field {name!r}")
        raw = self._registry.rows[self._model].get(self.id, {}).get(name, fields[name].empty)
        if fields[name].type == "many2one":
            return RecordValue(self._registry, fields[name].attrs["comodel_name"], raw or False)
        return raw


def safe_eval_domain(text: str, names: dict):
    """Evaluate a rule's ``domain_force``: literals, lists, tuples, the given names and ``user.x.y``."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            values = [walk(elt) for elt in node.elts]
            return values if isinstance(node, ast.List) else tuple(values)
        if isinstance(node, ast.Name):
            if node.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.id]
            if node.id not in names:
                raise ValueError(f"rule domain: name {node.id!r} is not allowed")
            return names[node.id]
        if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
            target = walk(node.value)
            if not isinstance(target, RecordValue):
                raise ValueError(f"rule domain: attribute {node.attr!r} of a non-record")
            return target.attribute(node.attr)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        raise ValueError(f"rule domain: {type(node).__name__} is not allowed in {text!r}")

    return walk(ast.parse(text.strip(), mode="eval"))


def _ids(value):
    if isinstance(value, RecordValue):
        return [value.id] if value.id else []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v.id if isinstance(v, RecordValue) else v for v in value]
    return [value] if value else []


class DomainMatcher:
    """Odoo domains (prefix ``|``, ``&``, ``!``; leaves with =, !=, in, not in, <, >, <=, >=, like,
    ilike, child_of, parent_of, dotted many2one paths) evaluated on the stand-in's rows."""

    def __init__(self, registry):
        self.registry = registry

    def matches(self, model, record_id, domain) -> bool:
        items = list(domain)
        if not items:
            return True
        stack = []
        for item in reversed(items):
            if item == "|":
                a, b = stack.pop(), stack.pop()
                stack.append(a or b)
            elif item == "&":
                a, b = stack.pop(), stack.pop()
                stack.append(a and b)
            elif item == "!":
                stack.append(not stack.pop())
            else:
                stack.append(self._leaf(model, record_id, item))
        return all(stack)  # implicit '&' between the top-level terms

    def _value(self, model, record_id, path):
        """(model, value) of the field path: many2one ids are followed through the rows."""
        names = path.split(".")
        for position, name in enumerate(names):
            if name == "id":
                value = record_id
            else:
                fields = self.registry.classes[model]._field_map()
                if name not in fields:
                    raise ValueError(f"domain: {model} has no field {name!r}")
                field = fields[name]
                value = self.registry.rows[model].get(record_id, {}).get(name, field.empty)
                if field.type == "many2one":
                    model = field.attrs["comodel_name"]
            if position < len(names) - 1:
                record_id = value
                if not record_id:
                    return model, False
        return model, value

    def _hierarchy(self, model, ids, up):
        """ids and their descendants (child_of) or ancestors (parent_of) through ``parent_id``."""
        found = set(ids)
        rows = self.registry.rows[model]
        changed = True
        while changed:
            changed = False
            for record_id, row in rows.items():
                parent = row.get("parent_id") or False
                if up and record_id in found and parent and parent not in found:
                    found.add(parent)
                    changed = True
                elif not up and parent in found and record_id not in found:
                    found.add(record_id)
                    changed = True
        return found

    def _leaf(self, model, record_id, leaf):
        left, operator, right = leaf
        if not isinstance(left, str):  # (1, '=', 1) and (0, '=', 1)
            value, target_model = left, None
        else:
            target_model, value = self._value(model, record_id, left)
        right = right.id if isinstance(right, RecordValue) else right
        if operator == "=":
            return value == right or (value in (False, None, 0, "") and right is False)
        if operator == "!=":
            return not self._leaf(model, record_id, (left, "=", right))
        if operator == "in":
            return value in _ids(right) or (not value and False in (right or ()))
        if operator == "not in":
            return not self._leaf(model, record_id, (left, "in", right))
        if operator in ("<", ">", "<=", ">="):
            if value in (False, None):
                return False
            return {"<": value < right, ">": value > right, "<=": value <= right, ">=": value >= right}[operator]
        if operator in ("like", "ilike", "=like", "=ilike"):
            text, pattern = str(value or ""), str(right)
            if operator.endswith("ilike"):
                text, pattern = text.lower(), pattern.lower()
            return pattern in text if not operator.startswith("=") else text == pattern
        if operator in ("child_of", "parent_of"):
            if target_model is None or not value:
                return False
            if left == "id" or left.endswith(".id"):
                target_model = model
            return value in self._hierarchy(target_model, _ids(right), up=operator == "parent_of")
        raise ValueError(f"domain: operator {operator!r} is not supported")


# ------------------------------------------------------------------- the checks


def rule_error(user_name, uid, operation, description, model):
    from odoo.exceptions import AccessError

    return AccessError(
        "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
        f"Sorry, {user_name} (id={uid}) doesn't have '{operation}' access to:\n"
        f"- {description} ({model})\n\n"
        "If you really, really need access, perhaps you can win over your friendly administrator "
        "with a batch of freshly baked cookies."
    )


class AccessModel:
    """What ``ir.model.access`` and ``ir.rule`` decide, for the stand-in's registry."""

    def __init__(self, registry, data: SecurityData):
        self.registry = registry
        self.data = data
        self.matcher = DomainMatcher(registry)

    def user_groups(self, uid) -> frozenset:
        row = self.registry.rows["res.users"].get(uid, {})
        return self.data.effective(row.get("group_xmlids") or ())

    # ---------------------------------------------------------------------- ACL

    def check_acl(self, env, model, operation):
        if env.su:
            return
        rows = [acl for acl in self.data.acls.values() if acl["model"] == model]
        if not rows:
            return  # a model whose ACLs are not modelled
        groups = self.user_groups(env.uid)
        if any(acl[f"perm_{operation}"] and (not acl["group"] or acl["group"] in groups) for acl in rows):
            return
        from odoo.exceptions import AccessError

        description = self.registry.classes[model]._description or model
        granting = sorted({self.data.label(acl["group"]) for acl in rows if acl[f"perm_{operation}"] and acl["group"]})
        if granting:
            group_info = "This operation is allowed for the following groups:\n" + "\n".join(
                f"\t- {label}" for label in granting)
        else:
            group_info = "No group currently allows this operation."
        raise AccessError(
            f"You are not allowed to {ACL_VERBS[operation]} '{description}' ({model}) records.\n\n"
            f"{group_info}\n\nContact your administrator to request access if necessary."
        )

    # -------------------------------------------------------------------- rules

    def _domains(self, env, model, operation):
        """(global domains, group domains or None when no group rule applies)."""
        groups = self.user_groups(env.uid)
        names = {
            "user": RecordValue(self.registry, "res.users", env.uid),
            "company_ids": list(env.companies.ids),
            "company_id": env.company.id,
        }
        global_domains, group_domains = [], []
        for rule in self.data.rules.values():
            if rule["model"] != model or not rule[f"perm_{operation}"]:
                continue
            if not rule["groups"]:
                global_domains.append(safe_eval_domain(rule["domain_force"], names))
            elif groups & set(rule["groups"]):
                group_domains.append(safe_eval_domain(rule["domain_force"], names))
        return global_domains, (group_domains or None)

    def allowed_ids(self, env, model, operation, ids):
        """The ids among ``ids`` that the rules of the operation let through."""
        if env.su:
            return list(ids)
        global_domains, group_domains = self._domains(env, model, operation)
        allowed = []
        for record_id in ids:
            if not all(self.matcher.matches(model, record_id, d) for d in global_domains):
                continue
            if group_domains is not None and not any(
                    self.matcher.matches(model, record_id, d) for d in group_domains):
                continue
            allowed.append(record_id)
        return allowed

    def check_rules(self, env, model, operation, ids):
        if env.su or not ids:
            return
        existing = [i for i in ids if i in self.registry.rows[model]]
        allowed = set(self.allowed_ids(env, model, operation, existing))
        if any(record_id not in allowed for record_id in existing):
            user = self.registry.rows["res.users"].get(env.uid, {})
            description = self.registry.classes[model]._description or model
            raise rule_error(user.get("name"), env.uid, operation, description, model)

    def modelled(self, model) -> bool:
        """Whether any ACL or rule is known for the model (the others are not checked)."""
        return any(row["model"] == model for row in (*self.data.acls.values(), *self.data.rules.values()))

    def check(self, env, model, operation, ids):
        if env.su or not self.modelled(model):
            return
        self.check_acl(env, model, operation)
        self.check_rules(env, model, operation, ids)
