"""Build ERP adapters from ``[[source]]`` entries, by kind."""

from __future__ import annotations

from typing import Any

from connector.errors import ConfigError
from connector.ports import ERPSource


def build_source(config: Any, store: Any = None) -> ERPSource:
    """The adapter that reads this source; ``store``: the store it syncs into (SAP reads the items it stored
    before, to learn the clearing date of those no longer open)."""
    if config.kind == "odoo":
        from adapters.odoo import OdooSource

        return OdooSource.from_config(config)
    if config.kind == "sap_soap":
        return build_sap_source(config, store)
    raise ConfigError(f"source {config.name!r}: kind {config.kind!r} is not supported yet")


def build_sap_source(config: Any, store: Any = None) -> ERPSource:
    from adapters.sap_soap.client import SapClient
    from adapters.sap_soap.source import SapSoapSource, store_items

    secret = config.secret if (config.password_env or config.password_file) else (lambda: "")
    cert = (str(config.client_cert), str(config.client_key)) if config.client_cert and config.client_key \
        else (str(config.client_cert) if config.client_cert else None)
    client = SapClient(
        source=config.name, base_url=str(config.url), client=config.client, username=config.username,
        secret=secret, wsdl_dir=config.wsdl_dir, timeout=float(config.timeout), verify_tls=config.verify_tls,
        ca_file=str(config.ca_file) if config.ca_file else None, client_cert=cert,
        retry_attempts=config.retry_attempts, max_answer_mb=config.max_answer_mb,
        call_deadline=config.call_deadline_seconds,
    )
    return SapSoapSource(config.name, client, list(config.company_codes), config.sales_organizations(),
                         config.credit_control_area, config.timezone or "UTC",
                         company_currencies=config.company_currencies, rate_type=config.rate_type,
                         rates_history_days=config.rates_history_days,
                         reconcile_hours=float(config.reconcile_hours),
                         credit_list=config.credit_list_service,
                         stored_items=store_items(store, config.name) if store is not None else None)


def build_writer(config: Any, store: Any = None) -> Any:
    """The adapter that writes back into this source's ERP (holds, flags, messages)."""
    if config.kind == "sap_soap":
        from adapters.sap_soap.writer import SapWriter, store_locator

        source = build_sap_source(config)
        return SapWriter(source.client, delivery_block=config.delivery_block, mode=config.change_mode,
                         locate=store_locator(store, config.name, config.sales_organizations()),
                         letters_dir=getattr(config, "letters_dir", None))
    if config.kind == "odoo":
        from adapters.odoo import OdooSource
        from adapters.odoo.writer import OdooWriter

        return OdooWriter(OdooSource.from_config(config).client, controller_user_id=config.credit_controller_user_id)
    raise ConfigError(f"source {config.name!r}: kind {config.kind!r} cannot be written to yet")
