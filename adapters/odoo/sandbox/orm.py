"""Generic models: search, read, create, write, unlink over one SQLite table per model.

``BaseModel`` carries the public (remotely callable) methods of Odoo's
``BaseModel`` with their real signatures, so that wrong calls fail with the
same ``TypeError`` text.  Every name starting with ``_`` is private, as in Odoo.
Business models subclass it in ``partners.py``, ``accounting.py``, ``sales.py``
and ``base_models.py``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from . import access, grouping, ordering, reading, writing
from .convert import stored_datetime
from .domain import Compiler
from .faults import AccessError
from .schema import Field, table_name

if TYPE_CHECKING:
    from .store import Database

_CLASSES: dict[str, type[BaseModel]] = {}


def register(cls: type[BaseModel]) -> type[BaseModel]:
    """Class decorator: the Python behaviour of one Odoo model."""
    _CLASSES[cls._name] = cls
    return cls


def model_api(func: Callable) -> Callable:
    """``@api.model``: called without ids."""
    func._api = "model"  # type: ignore[attr-defined]
    return func


def model_create_api(func: Callable) -> Callable:
    """``@api.model_create_multi``: a dict gives one id, a list gives ids."""
    func._api = "model_create"  # type: ignore[attr-defined]
    return func


def model_class(name: str) -> type[BaseModel]:
    cls = _CLASSES.get(name)
    if cls is None:
        camel = "".join(part.capitalize() for part in name.split("."))
        cls = type(camel, (BaseModel,), {"_name": name})
        _CLASSES[name] = cls
    return cls


class Env:
    """Who calls, with which context, against which database."""

    def __init__(self, db: Database, uid: int, context: dict[str, Any] | None = None) -> None:
        self.db = db
        self.uid = uid
        self.context = dict(context or {})
        self.version = db.version
        self.registry = db.registry
        self._companies: list[int] | None = None
        self._user: dict[str, Any] | None = None

    def __getitem__(self, model: str) -> BaseModel:
        return self.registry.model_class(model)(self, ())

    def __call__(self, context: dict[str, Any] | None = None, **overrides: Any) -> Env:
        ctx = dict(self.context if context is None else context)
        ctx.update(overrides)
        return Env(self.db, self.uid, ctx)

    @property
    def cr(self) -> Any:
        return self.db.conn

    @property
    def user(self) -> dict[str, Any]:
        if self._user is None:
            self._user = self.db.user(self.uid)
        return self._user

    @property
    def company_ids(self) -> list[int]:
        """``env.companies``: the context's allowed companies, else all the user's companies."""
        if self._companies is None:
            allowed = self.context.get("allowed_company_ids")
            user_companies = self.user["company_ids"]
            if allowed:
                allowed = [int(c) for c in allowed]
                if not set(allowed) <= set(user_companies):
                    raise access.make_access_error_companies()
                self._companies = allowed
            else:
                self._companies = list(user_companies)
        return self._companies

    @property
    def company_id(self) -> int:
        allowed = self.context.get("allowed_company_ids")
        if allowed:
            return self.company_ids[0]
        return self.user["company_id"]

    def now(self) -> datetime:
        return self.db.now()

    def now_str(self) -> str:
        """``fields.Datetime.now()``: the clock, whole seconds."""
        return self.now().astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    def cr_now_str(self) -> str:
        """``cr.now()``, what ``create``/``write`` stamp: the transaction's start, with microseconds."""
        return stored_datetime(self.db.tx_started_at or self.now())

    def today_str(self) -> str:
        return self.now().astimezone(timezone.utc).strftime("%Y-%m-%d")


class BaseModel:
    """Odoo's ``BaseModel``: the ORM methods callable over RPC."""

    _name = ""
    _description = ""
    _order = "id"
    _rec_name_field = "name"
    _parent_name = "parent_id"
    _company_rule: str | None = None  # "strict": company_id in env companies; "shared": or no company
    _portal: str | None = None        # None: no access; "all": read all; "own": record rule
    _extra_columns: dict[str, str] = {}  # sandbox-only columns (never in fields_get)
    _extra_sql: tuple[str, ...] = ()
    _indexes: tuple[str | tuple[str, ...], ...] = ("company_id",)

    def __init__(self, env: Env, ids: Any = ()) -> None:
        self.env = env
        self.ids = [int(i) for i in ids]

    def __repr__(self) -> str:
        return f"{self._name}{tuple(self.ids)!r}"

    # ------------------------------------------------------------------
    # metadata
    # ------------------------------------------------------------------
    @property
    def _fields(self) -> dict[str, Field]:
        return self.env.registry.fields[self._name]

    @property
    def _table(self) -> str:
        return table_name(self._name)

    @property
    def _active_name(self) -> str | None:
        field = self._fields.get("active")
        return "active" if field is not None and field.has_column else None

    @property
    def _model_description(self) -> str:
        return self._description or self._name

    def _with_context(self, context: dict[str, Any] | None = None, **overrides: Any) -> BaseModel:
        return type(self)(self.env(context, **overrides), self.ids)

    def _browse(self, ids: Any) -> BaseModel:
        if ids is None or ids is False:
            ids = []
        elif isinstance(ids, (int, str)) and not isinstance(ids, bool):
            ids = [ids]
        return type(self)(self.env, list(dict.fromkeys(int(i) for i in ids)))

    def _sql(self, query: str, params: Any = ()) -> list[tuple]:
        return self.env.cr.execute(query, params).fetchall()

    # ------------------------------------------------------------------
    # SQL expressions of fields
    # ------------------------------------------------------------------
    def _computed_sql(self, fname: str, alias: str) -> str | None:
        """SQL for a computed field (subclasses); ``None`` when not computed in SQL."""
        if fname == "display_name":
            return self._display_name_sql(alias)
        return None

    def _display_name_sql(self, alias: str) -> str:
        fname = self._rec_name_field
        field = self._fields.get(fname)
        if field is not None and field.has_column:
            return f'COALESCE({alias}."{fname}", \'\')'
        return f"'{self._name},' || {alias}.\"id\""

    def _field_sql(self, fname: str, alias: str) -> str | None:
        """SQL expression usable in WHERE/ORDER BY, ``None`` if the sandbox has none."""
        if fname == "id":
            return f'{alias}."id"'
        custom = self._computed_sql(fname, alias)
        if custom is not None:
            return custom
        field = self._fields.get(fname)
        if field is not None and field.has_column:
            return f'{alias}."{fname}"'
        return None

    def _value_sql(self, fname: str, alias: str) -> str | None:
        """SQL expression to read a field (also follows ``related`` paths)."""
        expr = self._field_sql(fname, alias)
        if expr is None:
            related = self._fields[fname].related
            if related:
                expr = self._related_sql(related, alias)
        return expr

    def _related_sql(self, path: str, alias: str) -> str | None:
        first, _dot, rest = path.partition(".")
        field = self._fields.get(first)
        if field is None:
            return None
        expr = self._value_sql(first, alias)
        if expr is None or not rest:
            return expr
        if field.type != "many2one" or field.relation not in self.env.registry:
            return None
        comodel = self.env[field.relation]
        sub_alias = f"{alias}_{first}"[-60:]
        inner = comodel._related_sql(rest, sub_alias)
        if inner is None:
            return None
        return f'(SELECT {inner} FROM "{comodel._table}" {sub_alias} WHERE {sub_alias}."id" = {expr})'

    def _portal_rule_sql(self, alias: str) -> str:
        """Record rule of the portal user on a model it reads "own" records of."""
        return "0"

    def _search_sql(self, fname: str, operator: str, right: Any, alias: str, compiler: Compiler) -> str | None:
        """WHERE clause for a searchable non-stored field without SQL expression."""
        return None

    def _m2m_storage(self, fname: str) -> tuple[str, str, bool]:
        """Where a stored many2many keeps its links in ``x_sb_rel``: ``(model, field, flipped)``.

        ``flipped`` is true for the second field of a relation table (e.g. ``res.partner.category.partner_ids``
        shares the rows of ``res.partner.category_id``, with ``id1``/``id2`` swapped).
        """
        return self._name, fname, False

    def _m2m_table(self, fname: str) -> tuple[str, str, str]:
        """Odoo's relation table and columns of a many2many (for constraint names in error messages)."""
        field = self._fields[fname]
        comodel_table = table_name(field.relation or "")
        tables = sorted([self._table, comodel_table])
        return f"{tables[0]}_{tables[1]}_rel", f"{self._table}_id", f"{comodel_table}_id"

    def _x2many_pairs_sql(self, fname: str) -> str | None:
        """``SELECT id1, id2`` rows linking this model's records to the comodel's."""
        field = self._fields[fname]
        if field.type == "many2many" and field.store:
            owner, owner_field, flipped = self._m2m_storage(fname)
            columns = "id2 AS id1, id1 AS id2" if flipped else "id1, id2"
            return f"SELECT {columns} FROM x_sb_rel WHERE model = '{owner}' AND field = '{owner_field}'"
        if field.type == "one2many" and field.relation in self.env.registry:
            comodel = self.env[field.relation]
            inverse = field.relation_field
            if inverse and inverse in comodel._fields and comodel._fields[inverse].has_column:
                where = f'"{inverse}" IS NOT NULL'
                model_field = getattr(comodel, "_res_model_field", None)
                if comodel._fields[inverse].type == "many2one_reference" and model_field:
                    where += f' AND "{model_field}" = \'{self._name}\''  # message_ids, activity_ids
                return f'SELECT "{inverse}" AS id1, "id" AS id2 FROM "{comodel._table}" WHERE {where}'
        return None

    # ------------------------------------------------------------------
    # search
    # ------------------------------------------------------------------
    def _where(self, domain: Any, alias: str, compiler: Compiler, rules: bool = True) -> str:
        clauses = [compiler.where(self, domain if domain is not None else [], alias)]
        active = self._active_name
        if (active and self.env.context.get("active_test", True)
                and not any(isinstance(t, (list, tuple)) and t and t[0] == active for t in (domain or []))):
            clauses.insert(0, f'{alias}."{active}" = 1')
        if rules:
            rule = access.rule_sql(self, alias)
            if rule:
                clauses.append(rule)
        return " AND ".join(clauses)

    def _order_sql(self, order: str | None, alias: str) -> str:
        return ordering.order_sql(self, order, alias)

    def _search_ids(self, domain: Any, offset: int = 0, limit: int | None = None,
                    order: str | None = None) -> list[int]:
        access.check_model(self, "read")
        compiler = Compiler()
        alias = self._table
        where = self._where(domain, alias, compiler)
        query = f'SELECT {alias}."id" FROM "{self._table}" {alias} WHERE {where}'
        query += f" ORDER BY {self._order_sql(order, alias)}"
        params = list(compiler.params)
        if limit:
            query += " LIMIT ?"
            params.append(int(limit))
        elif offset:
            query += " LIMIT -1"
        if offset:
            query += " OFFSET ?"
            params.append(int(offset))
        return [row[0] for row in self._sql(query, params)]

    @model_api
    def search(self, domain, offset=0, limit=None, order=None):
        return self._search_ids(domain, offset, limit, order)

    @model_api
    def search_count(self, domain, limit=None):
        access.check_model(self, "read")
        compiler = Compiler()
        alias = self._table
        where = self._where(domain, alias, compiler)
        query = f'SELECT {alias}."id" FROM "{self._table}" {alias} WHERE {where}'
        params = list(compiler.params)
        if limit:
            query += " LIMIT ?"
            params.append(int(limit))
        return self._sql(f"SELECT COUNT(*) FROM ({query})", params)[0][0]

    @model_api
    def search_read(self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs):
        fnames = self._check_fnames(fields)
        ids = self._search_ids(domain or [], offset, limit, order)
        if not ids:
            return []
        return self._read_format(fnames, _ids=ids, **read_kwargs)

    def _read_format(self, fnames, load="_classic_read", *, _ids=None):
        rows = self._read_rows(_ids if _ids is not None else self.ids, fnames)
        if not load:  # many2one as a bare id
            m2o = [name for name in fnames if self._fields[name].type == "many2one"]
            for row in rows:
                for name in m2o:
                    row[name] = row[name][0] if row[name] else False
        return rows

    # ------------------------------------------------------------------
    # read
    # ------------------------------------------------------------------
    def _check_fnames(self, fields: Any) -> list[str]:
        if not fields:
            return [name for name in self._fields if name != "id"]
        if isinstance(fields, str):
            fields = [fields]
        for name in fields:
            if name not in self._fields:
                raise ValueError(f"Invalid field {name!r} on model {self._name!r}")
        return [name for name in dict.fromkeys(fields) if name != "id"]

    def read(self, fields=None, load="_classic_read"):
        fnames = self._check_fnames(fields)
        access.check_model(self, "read")
        ids = access.check_records(self, self.ids, "read")
        return self._read_format(fnames, load, _ids=ids)

    def _read_rows(self, ids: list[int], fnames: list[str]) -> list[dict[str, Any]]:
        return reading.read_rows(self, ids, fnames)

    def _display_names(self, model: str, ids: list[int]) -> dict[int, str]:
        return reading.display_names(self, model, ids)

    @model_api
    def fields_get(self, allfields=None, attributes=None):
        result = {}
        for name, field in self._fields.items():
            if allfields and name not in allfields:
                continue
            attrs = field.attrs
            if attributes:
                attrs = {key: attrs[key] for key in attributes if key in attrs}
            result[name] = dict(attrs)
        return result

    # ------------------------------------------------------------------
    # create / write / unlink
    # ------------------------------------------------------------------
    def _defaults(self, vals: dict[str, Any]) -> dict[str, Any]:
        """Default values for a new record (subclasses extend)."""
        defaults: dict[str, Any] = {}
        if self._active_name:
            defaults["active"] = True
        if "company_id" in self._fields and self._fields["company_id"].has_column and self._company_rule == "strict":
            defaults["company_id"] = self.env.company_id
        return defaults

    def _prepare_columns(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Hook: split ``vals`` into column values, x2many commands and related writes."""
        return writing.prepare_columns(self, vals)

    @model_create_api
    def create(self, vals_list):
        access.check_model(self, "create")
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        return [self._create_one(vals) for vals in vals_list]

    def _create_one(self, vals: dict[str, Any]) -> int:
        return writing.create_one(self, vals)

    def _prepare_create(self, columns: dict[str, Any], vals: dict[str, Any]) -> dict[str, Any]:
        """Hook: last changes to the columns of a new record."""
        return columns

    def write(self, vals):
        access.check_model(self, "write")
        if not isinstance(vals, dict):
            raise TypeError(f"{type(self).__name__}.write() argument 'vals' must be a dict")
        if not vals:
            return True
        columns, commands, related = self._prepare_columns(vals)
        self._ensure_exist()
        access.check_records(self, self.ids, "write")
        self._check_write(columns, vals)
        self._write_columns(columns)
        writing.write_commands(self, commands)
        writing.write_related(self, related)
        self._after_change(set(vals))
        return True

    def _check_write(self, columns: dict[str, Any], vals: dict[str, Any]) -> None:
        """Hook: business rules refusing a write."""

    def _write_columns(self, columns: dict[str, Any], touch: bool = True) -> None:
        writing.write_columns(self, columns, touch)

    def _after_change(self, fnames: set[str], created: bool = False) -> None:
        """Hook: recompute stored computed fields after create/write."""

    def _ensure_exist(self) -> None:
        writing.ensure_exist(self)

    def unlink(self):
        access.check_model(self, "unlink")
        ids = access.check_records(self, self.ids, "unlink")
        records = self._browse(ids)
        records._check_unlink()
        writing.check_references(records)
        records._delete()
        return True

    def _check_unlink(self) -> None:
        """Hook: business rules refusing a deletion."""

    def _delete(self) -> None:
        writing.delete(self)

    # ------------------------------------------------------------------
    # misc public methods
    # ------------------------------------------------------------------
    @model_api
    def name_search(self, name="", args=None, operator="ilike", limit=100, domain=None):
        domain = list(domain if domain is not None else (args or []))
        if name or operator not in ("ilike", "like", "=ilike", "=like"):
            domain = [(self._rec_name_field, operator, name)] + domain
        ids = self._search_ids(domain, limit=limit)
        names = self._display_names(self._name, ids)
        return [[i, names.get(i, "")] for i in ids]

    @model_api
    def check_access_rights(self, operation, raise_exception=True):
        try:
            access.check_model(self, operation)
        except AccessError:
            if raise_exception:
                raise
            return False
        return True

    def check_access(self, operation):
        access.check_model(self, operation)
        access.check_records(self, self.ids, operation)

    def has_access(self, operation):
        try:
            access.check_model(self, operation)
            access.check_records(self, self.ids, operation)
        except AccessError:
            return False
        return True

    def exists(self):
        if not self.ids:
            return []
        found = {row[0] for row in self._sql(
            f'SELECT "id" FROM "{self._table}" WHERE "id" IN (SELECT value FROM json_each(?))',
            [json.dumps(self.ids)])}
        return [i for i in self.ids if i in found]

    @model_api
    def default_get(self, fields_list):
        defaults = self._defaults({})
        return {name: value for name, value in defaults.items() if name in fields_list}

    @model_api
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        return grouping.read_group(self, domain, fields, groupby, offset, limit, orderby or None, lazy)

    @model_api
    def formatted_read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None,
                             order=None):
        return grouping.formatted_read_group(self, domain, groupby, aggregates, offset, limit, order)
