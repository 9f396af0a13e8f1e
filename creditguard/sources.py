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


def build_writer(config: Any) -> Any:
    """The adapter that writes back into this source's ERP (holds, flags, messages)."""
    if config.kind == "odoo":
        from adapters.odoo import OdooSource
        from adapters.odoo.writer import OdooWriter

        return OdooWriter(OdooSource.from_config(config).client, controller_user_id=config.credit_controller_user_id)
    raise ConfigError(f"source {config.name!r}: kind {config.kind!r} cannot be written to yet")
