"""odoo.models: recordsets over an in-memory store, and Odoo-style class inheritance.

Classes declared with ``_name`` are models; classes declared with ``_inherit``
(and no ``_name``) extend them.  ``Registry`` builds, for a given set of
modules, one final class per model whose MRO puts the extensions before the
model they extend, so ``super()`` reaches the extended method as in Odoo.
"""

from .fields import Field

DEFINITIONS = []


class BaseModel:
    _name = None
    _inherit = None
    _description = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("_standin_final"):
            DEFINITIONS.append(cls)

    def __init__(self, env, ids=()):
        self.env = env
        self._ids = tuple(ids)

    # -- recordset basics
    @classmethod
    def _field_map(cls):
        found = {}
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if isinstance(value, Field):
                    found[key] = value
        return found

    @property
    def _fields(self):
        return type(self)._field_map()

    @property
    def ids(self):
        return list(self._ids)

    @property
    def id(self):
        return self._ids[0] if len(self._ids) == 1 else False

    def __iter__(self):
        for record_id in self._ids:
            yield type(self)(self.env, (record_id,))

    def __len__(self):
        return len(self._ids)

    def __bool__(self):
        return bool(self._ids)

    def __eq__(self, other):
        return isinstance(other, BaseModel) and other._name == self._name and set(other._ids) == set(self._ids)

    def __hash__(self):
        return hash((self._name, self._ids))

    def __or__(self, other):
        return self.browse(self._ids + tuple(i for i in other._ids if i not in self._ids))

    def __sub__(self, other):
        return self.browse(tuple(i for i in self._ids if i not in other._ids))

    def __and__(self, other):
        return self.browse(tuple(i for i in self._ids if i in other._ids))

    def __contains__(self, item):
        if isinstance(item, BaseModel) and item._name == self._name:
            return len(item._ids) == 1 and item._ids[0] in self._ids
        raise TypeError(f"unsupported operand types in: {item!r} in {self!r}")

    def __getitem__(self, key):
        """``record["field"]`` reads a field; ``records[0]`` / ``records[1:]`` index the set."""
        if isinstance(key, str):
            return getattr(self, key)
        if isinstance(key, slice):
            return self.browse(self._ids[key])
        return self.browse((self._ids[key],))

    def __repr__(self):
        return f"{self._name}{self._ids}"

    def browse(self, ids=()):
        if isinstance(ids, int):
            ids = (ids,)
        return type(self)(self.env, tuple(ids or ()))

    def ensure_one(self):
        if len(self._ids) != 1:
            raise ValueError(f"Expected singleton: {self!r}")
        return self

    def exists(self):
        rows = self.env.registry.rows[self._name]
        return self.browse(tuple(i for i in self._ids if i in rows))

    def filtered(self, func):
        if isinstance(func, str):
            name = func
            func = lambda record: getattr(record, name)  # noqa: E731
        return self.browse(tuple(rec.id for rec in self if func(rec)))

    def mapped(self, name):
        """The values of a field: a list, or the union of the records for a relational field (as Odoo)."""
        field = self._fields.get(name)
        values = [getattr(record, name) for record in self]
        if field is not None and field.type in ("many2one", "one2many", "many2many"):
            result = self.env[field.attrs["comodel_name"]]
            for value in values:
                result = result | value
            return result
        return values

    def sudo(self, flag=True):
        return self.with_env(self.env(su=flag))

    def with_env(self, env):
        return type(self)(env, self._ids)

    def with_context(self, *args, **kwargs):
        context = dict(args[0]) if args else dict(self.env.context)
        context.update(kwargs)
        return self.with_env(self.env(context=context))

    def with_company(self, company):
        """Company-dependent values are not modelled: the same record, the company first in the context."""
        company_id = getattr(company, "id", company)
        if not company_id:
            return self
        allowed = [cid for cid in self.env.context.get("allowed_company_ids", []) if cid != company_id]
        return self.with_context(allowed_company_ids=[company_id] + allowed)

    def with_user(self, user):
        return self.with_env(self.env(user=user, su=False))

    def invalidate_recordset(self, fnames=None):
        return None

    # -- access (ir.model.access and ir.rule, when the registry models them: tests/addon/access.py)
    _mail_thread = False  # writes read the record first (chatter tracking), as mail.thread does

    def _check_access(self, operation):
        access = getattr(self.env.registry, "access", None)
        if access is not None and not self.env.su:
            access.check(self.env, self._name, operation, self._ids)

    def search(self, domain=(), limit=None, order=None):
        """The records matching ``domain`` that the read rules let through (silently, as Odoo)."""
        registry = self.env.registry
        access = registry.access  # the domain evaluator lives with the access model
        checked = not self.env.su and access.modelled(self._name)
        if checked:
            access.check_acl(self.env, self._name, "read")
        ids = [i for i in sorted(registry.rows[self._name]) if access.matcher.matches(self._name, i, domain)]
        if checked:
            ids = access.allowed_ids(self.env, self._name, "read", ids)
        return self.browse(tuple(ids[:limit] if limit else ids))

    def search_count(self, domain=()):
        return len(self.search(domain))

    def unlink(self):
        self._check_access("unlink")
        for record_id in self._ids:
            self.env.registry.rows[self._name].pop(record_id, None)
        return True

    # -- data
    def _row(self):
        try:
            return self.env.registry.rows[self._name][self.id]
        except KeyError:
            raise ValueError(f"Record does not exist or has been deleted: {self!r}") from None

    def create(self, vals_list):
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        registry = self.env.registry
        access = getattr(registry, "access", None)
        if access is not None and not self.env.su and access.modelled(self._name):
            access.check_acl(self.env, self._name, "create")
        new_ids = []
        for vals in vals_list:
            record_id = registry.next_id()
            row = {}
            registry.rows[self._name][record_id] = row
            record = self.browse(record_id)
            for name, field in self._fields.items():
                row[name] = field.default_value(record)
            x2many = {}
            for name, value in vals.items():
                field = self._fields.get(name)
                if field is not None and field.type == "one2many":
                    x2many[field] = value
                    continue
                row[name] = field.to_raw(value) if field is not None else value
            for field, commands in x2many.items():
                field.apply_commands(record, commands)
            new_ids.append(record_id)
        records = self.browse(tuple(new_ids))
        if access is not None and not self.env.su and access.modelled(self._name):
            access.check_rules(self.env, self._name, "create", records._ids)
        return records

    def write(self, vals):
        registry = self.env.registry
        if self._mail_thread:
            self._check_access("read")
        self._check_access("write")
        for record in self:
            row = record._row()
            old = {name: row.get(name) for name in vals}
            for name, value in vals.items():
                if name not in self._fields:
                    raise ValueError(f"Invalid field {name!r} on model {self._name!r}")
                row[name] = self._fields[name].to_raw(value)
            registry.log_write(self.env.cr, self._name, record.id, old, {k: row[k] for k in vals})
        return True

    def get_views(self, views, options=None):
        """The architectures the web client receives for ``[(view_id or False, type), ...]`` (``ir.ui.view``
        of the test database puts them together: tests/addon/database.py)."""
        return self.env["ir.ui.view"]._standin_get_views(self._name, views)

    def read(self, fields=None):
        self._check_access("read")
        return [dict(record._row(), id=record.id) for record in self]


class Constraint:
    """Odoo 19's ``models.Constraint`` (17: ``_sql_constraints``): declared, not enforced here."""

    def __init__(self, definition, message=None):
        self.definition, self.message = definition, message


class Model(BaseModel):
    """Odoo's ``models.Model``."""


class AbstractModel(BaseModel):
    """Odoo's ``models.AbstractModel``."""


class TransientModel(BaseModel):
    """Odoo's ``models.TransientModel``."""


def build_classes(module_prefixes):
    """One final class per model from the definitions of the given modules.

    A definition belongs to the set when its ``__module__`` starts with one of
    ``module_prefixes``.  Extensions come first in the MRO, the latest first.
    """
    chosen = [cls for cls in DEFINITIONS if cls.__module__.startswith(tuple(module_prefixes))]
    bases, extensions = {}, {}
    for cls in chosen:
        name = cls.__dict__.get("_name")
        inherit = cls.__dict__.get("_inherit")
        if name and (not inherit or inherit == name):
            bases[name] = cls
        elif inherit and not name:
            for parent in [inherit] if isinstance(inherit, str) else inherit:
                extensions.setdefault(parent, []).append(cls)
        else:
            raise TypeError(f"{cls!r}: the stand-in supports _name or _inherit, not both")
    classes = {}
    for name, base in bases.items():
        mro = tuple(reversed(extensions.get(name, []))) + (base,)
        classes[name] = type(name.replace(".", "_"), mro, {"_name": name, "_standin_final": True})
    unknown = set(extensions) - set(bases)
    if unknown:
        raise TypeError(f"extensions of models that nothing defines: {sorted(unknown)}")
    return classes
