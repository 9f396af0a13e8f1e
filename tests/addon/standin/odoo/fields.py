"""odoo.fields: field declarations that read and write the stand-in's in-memory rows, and ``Command``."""

import datetime as _dt
import enum


class Command(enum.IntEnum):
    """The x2many commands (``odoo.Command``, defined in odoo/fields.py as in Odoo)."""

    CREATE = 0
    UPDATE = 1
    DELETE = 2
    UNLINK = 3
    LINK = 4
    CLEAR = 5
    SET = 6

    @classmethod
    def create(cls, values):
        return (cls.CREATE, 0, values)

    @classmethod
    def update(cls, record_id, values):
        return (cls.UPDATE, record_id, values)

    @classmethod
    def delete(cls, record_id):
        return (cls.DELETE, record_id, 0)

    @classmethod
    def unlink(cls, record_id):
        return (cls.UNLINK, record_id, 0)

    @classmethod
    def link(cls, record_id):
        return (cls.LINK, record_id, 0)

    @classmethod
    def clear(cls):
        return (cls.CLEAR, 0, 0)

    @classmethod
    def set(cls, ids):
        return (cls.SET, 0, ids)


class Field:
    type = None
    empty = False
    positional = ("string",)

    def __init__(self, *args, **kwargs):
        self.attrs = dict(kwargs)
        for key, value in zip(self.positional, args):
            self.attrs[key] = value
        self.name = None
        self.model_name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __getattr__(self, key):
        # field.string, field.readonly, field.tracking, ... as declared
        attrs = self.__dict__.get("attrs", {})
        if key in attrs:
            return attrs[key]
        if key in ("readonly", "required", "index", "tracking", "store_false"):
            return False
        if key in ("copy", "store"):
            return True
        raise AttributeError(key)

    def __get__(self, record, owner):
        if record is None:
            return self
        if not record._ids:
            return self.from_raw(record, self.empty)
        record.ensure_one()
        record._check_access("read")
        row = record._row()
        return self.from_raw(record, row.get(self.name, self.empty))

    def default_value(self, record):
        default = self.attrs.get("default", self.empty)
        if callable(default):
            default = default(record)
        return self.to_raw(default)

    def to_raw(self, value):
        return value

    def from_raw(self, record, raw):
        return raw


class Boolean(Field):
    type = "boolean"

    def to_raw(self, value):
        return bool(value)


class Char(Field):
    type = "char"


class Text(Field):
    type = "text"


class Html(Field):
    type = "html"


class Integer(Field):
    type = "integer"
    empty = 0

    def to_raw(self, value):
        return int(value or 0)


class Float(Field):
    type = "float"
    empty = 0.0

    def to_raw(self, value):
        return float(value or 0.0)


class Monetary(Float):
    type = "monetary"


class Date(Field):
    type = "date"

    @staticmethod
    def to_string(value):
        return value.strftime("%Y-%m-%d") if value else False


class Datetime(Field):
    type = "datetime"

    @staticmethod
    def now():
        return _dt.datetime.now().replace(microsecond=0)


class Selection(Field):
    type = "selection"
    positional = ("selection", "string")

    def to_raw(self, value):
        keys = [key for key, _label in self.attrs.get("selection", [])]
        if value and value not in keys:
            raise ValueError(f"Wrong value for {self.name}: {value!r}")
        return value


class Many2one(Field):
    type = "many2one"
    positional = ("comodel_name", "string")

    def to_raw(self, value):
        if not value:
            return False
        return getattr(value, "id", value)

    def from_raw(self, record, raw):
        return record.env[self.attrs["comodel_name"]].browse(raw or ())


class One2many(Field):
    """Not stored: the records of the comodel whose ``inverse_name`` is this record (read with the
    caller's rights, as Odoo).  ``Command.create``/``link`` values are applied by ``create``/``write``."""

    type = "one2many"
    positional = ("comodel_name", "inverse_name", "string")
    empty = ()

    def __get__(self, record, owner):
        if record is None:
            return self
        comodel = record.env[self.attrs["comodel_name"]]
        if not record._ids:
            return comodel
        record.ensure_one()
        return comodel.search([(self.attrs["inverse_name"], "=", record.id)])

    def apply_commands(self, record, commands):
        comodel = record.env[self.attrs["comodel_name"]]
        inverse = self.attrs["inverse_name"]
        for command in commands or ():
            if command[0] == Command.CREATE:
                comodel.create(dict(command[2], **{inverse: record.id}))
            elif command[0] == Command.LINK:
                comodel.browse(command[1]).write({inverse: record.id})
            else:
                raise NotImplementedError(f"the stand-in applies Command.create and Command.link, not {command!r}")


class Many2many(Field):
    type = "many2many"
    positional = ("comodel_name", "relation", "column1", "column2", "string")
    empty = ()

    def to_raw(self, value):
        """Ids from a recordset, a list of ids or the commands ``(6, 0, ids)`` / ``(4, id)``."""
        if not value:
            return ()
        if hasattr(value, "ids"):
            return tuple(value.ids)
        ids = []
        for item in value:
            if isinstance(item, (list, tuple)) and item and item[0] == 6:
                ids = list(item[2])
            elif isinstance(item, (list, tuple)) and item and item[0] == 4:
                ids.append(item[1])
            else:
                ids.append(item)
        return tuple(ids)

    def from_raw(self, record, raw):
        return record.env[self.attrs["comodel_name"]].browse(tuple(raw or ()))
