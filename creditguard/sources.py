"""Build ERP adapters from ``[[source]]`` entries, by kind."""

from __future__ import annotations

from typing import Any

from connector.errors import ConfigError
from connector.ports import ERPSource


def build_source(config: Any) -> ERPSource:
    if config.kind == "odoo":
        from adapters.odoo import OdooSource

        return OdooSource.from_config(config)
    raise ConfigError(f"source {config.name!r}: kind {config.kind!r} is not supported yet")
