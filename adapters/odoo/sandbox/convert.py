"""Values between the wire, the ORM and SQLite, with Odoo's conversion rules."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .schema import Field

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def to_date_str(value: Any) -> str:
    """Odoo's ``fields.Date.to_date`` then ``to_string``."""
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if hasattr(value, "value") and type(value).__name__ == "DateTime":  # xmlrpc.client.DateTime
        return to_date_str(datetime.strptime(value.value, "%Y%m%dT%H:%M:%S"))
    text = str(value)
    return datetime.strptime(text[:10], DATE_FORMAT).strftime(DATE_FORMAT)


def to_datetime_str(value: Any) -> str:
    """Odoo's ``fields.Datetime.to_datetime`` then ``to_string`` (naive UTC)."""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).strftime(DATETIME_FORMAT)
    if hasattr(value, "value") and type(value).__name__ == "DateTime":
        return datetime.strptime(value.value, "%Y%m%dT%H:%M:%S").strftime(DATETIME_FORMAT)
    text = str(value)
    fmt = DATETIME_FORMAT[: len(text) - 2] if len(text) < 19 else DATETIME_FORMAT
    return datetime.strptime(text[:19], fmt).strftime(DATETIME_FORMAT)


def stored_datetime(moment: datetime) -> str:
    """A timestamp as PostgreSQL keeps it in a ``timestamp`` column: microseconds when there are any."""
    text = moment.strftime(DATETIME_FORMAT)
    return f"{text}.{moment.microsecond:06d}" if moment.microsecond else text


def read_datetime(value: str) -> str:
    """A stored timestamp as ``read`` answers it: ``Datetime.to_string`` drops the microseconds."""
    return value[:19]


def domain_datetime(value: str) -> str:
    """A datetime string of a domain as PostgreSQL compares it with the column: ``'… 15:33:58'`` is
    15:33:58.000000 (so ``=`` misses every record stamped later in that second), a fraction is kept."""
    text = value.strip().replace("T", " ")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value  # compared as text, like the real server's cast error would have stopped it
    return stored_datetime(moment.replace(tzinfo=None))


def round_money(value: float, digits: int) -> float:
    """Half-up rounding to ``digits`` decimals, as ``float_round`` does."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def to_column(field: Field, value: Any, model: str) -> Any:
    """A value given to ``create``/``write`` as it is stored (raises like Odoo)."""
    ftype = field.type
    if ftype == "boolean":
        return 1 if value else 0
    if value is None or value is False:
        if ftype in ("integer", "float", "monetary"):
            return 0 if ftype == "integer" else 0.0
        return None
    if ftype == "selection":
        keys = field.selection_keys or []
        if value not in keys:
            raise ValueError(f"Wrong value for {model}.{field.name}: {value!r}")
        return value
    if ftype in ("many2one", "many2one_reference"):
        if isinstance(value, (list, tuple)) and value:
            value = value[0]
        return int(value) or None
    if ftype == "integer":
        return int(value)
    if ftype in ("float", "monetary"):
        return float(value)
    if ftype == "date":
        return to_date_str(value)
    if ftype == "datetime":
        return to_datetime_str(value)
    if ftype in ("char", "text", "html", "reference"):
        return value if isinstance(value, str) else str(value)
    return value


def to_read(field: Field, value: Any) -> Any:
    """A stored value as ``read`` answers it (many2one handled by the caller)."""
    ftype = field.type
    if ftype == "boolean":
        return bool(value)
    if value is None:
        return field.empty()
    if ftype == "integer" or ftype == "many2one_reference":
        return int(value)
    if ftype in ("float", "monetary"):
        return float(value)
    if ftype == "datetime":
        return read_datetime(value)
    return value


def to_domain_value(value: Any) -> Any:
    """Dates and datetimes that arrive in a domain, as SQLite compares them."""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if hasattr(value, "value") and type(value).__name__ == "DateTime":
        return to_datetime_str(value)
    return value
