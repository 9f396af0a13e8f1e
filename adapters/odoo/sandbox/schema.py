"""Field definitions per Odoo version, from the ``fields_get`` captures shipped in ``fields/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FIELDS_DIR = Path(__file__).parent / "fields"
ADDONS_DIR = FIELDS_DIR / "addons"
VERSIONS = ("17", "19")

SQL_TYPES = {
    "char": "TEXT", "text": "TEXT", "html": "TEXT", "selection": "TEXT", "date": "TEXT",
    "datetime": "TEXT", "reference": "TEXT",
    "integer": "INTEGER", "many2one": "INTEGER", "many2one_reference": "INTEGER", "boolean": "INTEGER",
    "float": "REAL", "monetary": "REAL",
}

#: What ``read`` answers for a field without a value.
EMPTY = {"boolean": False, "integer": 0, "float": 0.0, "monetary": 0.0,
         "one2many": [], "many2many": [], "many2one_reference": 0}


@dataclass(frozen=True, slots=True)
class Field:
    model: str
    name: str
    type: str
    attrs: dict[str, Any]

    @property
    def store(self) -> bool:
        return bool(self.attrs.get("store"))

    @property
    def searchable(self) -> bool:
        return bool(self.attrs.get("searchable"))

    @property
    def sortable(self) -> bool:
        return bool(self.attrs.get("sortable"))

    @property
    def required(self) -> bool:
        return bool(self.attrs.get("required"))

    @property
    def relation(self) -> str | None:
        return self.attrs.get("relation")

    @property
    def relation_field(self) -> str | None:
        return self.attrs.get("relation_field")

    @property
    def related(self) -> str | None:
        return self.attrs.get("related")

    @property
    def string(self) -> str:
        return self.attrs.get("string", self.name)

    @property
    def selection_keys(self) -> list[str] | None:
        sel = self.attrs.get("selection")
        return None if sel is None else [key for key, _label in sel]

    @property
    def relational(self) -> bool:
        return self.type in ("many2one", "one2many", "many2many")

    @property
    def has_column(self) -> bool:
        """Whether the sandbox keeps the value in a column of the model's table."""
        if self.name == "id" or self.type not in SQL_TYPES:
            return False
        return self.store or bool(self.attrs.get("company_dependent"))

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    def empty(self) -> Any:
        value = EMPTY.get(self.type, False)
        return list(value) if isinstance(value, list) else value


@lru_cache(maxsize=None)
def load(version: str) -> dict[str, dict[str, Field]]:
    """``{model: {field: Field}}`` for one version (17 or 19)."""
    if version not in VERSIONS:
        raise ValueError(f"unsupported Odoo version {version!r}; expected one of {VERSIONS}")
    models: dict[str, dict[str, Field]] = {}
    for folder in (FIELDS_DIR / "extra", FIELDS_DIR / version):
        for path in sorted(folder.glob("*.json")):
            model = path.stem
            raw = json.loads(path.read_text(encoding="utf-8"))
            models[model] = {
                name: Field(model, name, attrs["type"], attrs) for name, attrs in raw.items()
            }
    return models


@lru_cache(maxsize=None)
def load_stock(version: str) -> dict[str, dict[str, Field]]:
    """``{model: {field: Field}}`` of the stock models ``sale_stock`` brings (``fields/<version>/stock/``)."""
    models: dict[str, dict[str, Field]] = {}
    for path in sorted((FIELDS_DIR / version / "stock").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        models[path.stem] = {name: Field(path.stem, name, attrs["type"], attrs) for name, attrs in raw.items()}
    return models


def addon_names() -> list[str]:
    """The addons the sandbox can install (``fields/addons/<name>.json``)."""
    return sorted(path.stem for path in ADDONS_DIR.glob("*.json"))


@lru_cache(maxsize=None)
def load_addon(name: str) -> dict[str, dict[str, Field]]:
    """``{model: {field: Field}}`` added by one addon (the same on 17 and 19)."""
    path = ADDONS_DIR / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"unknown addon {name!r}: expected one of {', '.join(addon_names())}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {model: {fname: Field(model, fname, attrs["type"], attrs) for fname, attrs in fields.items()}
            for model, fields in raw.items()}


def table_name(model: str) -> str:
    return model.replace(".", "_")
