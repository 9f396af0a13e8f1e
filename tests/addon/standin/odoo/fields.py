"""odoo.fields: field declarations that read and write the stand-in's in-memory rows."""

import datetime as _dt


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
    type = "one2many"
    positional = ("comodel_name", "inverse_name", "string")


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
