"""The models of one Odoo version: their fields and their Python classes."""

from __future__ import annotations

from . import schema
from .orm import BaseModel, model_class


class Registry:
    def __init__(self, version: str) -> None:
        # importing the business models registers their classes
        from . import accounting, base_models, partners, sales  # noqa: F401

        self.version = version
        self.fields = schema.load(version)
        self.classes = {name: model_class(name) for name in self.fields}

    def __contains__(self, model: object) -> bool:
        return model in self.classes

    def model_class(self, model: str) -> type[BaseModel]:
        return self.classes[model]
