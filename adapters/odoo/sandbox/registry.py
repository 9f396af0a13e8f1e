"""The models of one Odoo version (and of the installed addons): their fields and their Python classes."""

from __future__ import annotations

from . import schema
from .orm import BaseModel, model_class


class Registry:
    def __init__(self, version: str, addons: tuple[str, ...] = (), credit_guard_tiers: bool = True) -> None:
        # importing the business models registers their classes
        from . import accounting, attachments, base_models, credit_guard, mail, partners, sales, stock  # noqa: F401

        self.version = version
        self.addons = tuple(addons)
        self.fields = dict(schema.load(version))  # per registry: addons add fields to some models
        if stock.ADDON in self.addons:  # deliveries: stock.picking and its types
            self.fields.update(schema.load_stock(version))
        self.classes = {name: model_class(name) for name in self.fields}
        for addon in self.addons:
            for model, extra in schema.load_addon(addon).items():
                self.fields[model] = {**self.fields[model], **extra}
            if addon == credit_guard.ADDON and not credit_guard_tiers:  # the addon before its tiered release
                for model, names in credit_guard.TIER_FIELDS.items():
                    self.fields[model] = {k: v for k, v in self.fields[model].items() if k not in names}
            for model, mixin in credit_guard.MIXINS.get(addon, {}).items():
                if model not in self.classes:  # a bridge to an addon that is not installed
                    continue
                base = self.classes[model]
                self.classes[model] = type(base.__name__, (mixin, base), {"_name": model})

    def __contains__(self, model: object) -> bool:
        return model in self.classes

    def model_class(self, model: str) -> type[BaseModel]:
        return self.classes[model]
