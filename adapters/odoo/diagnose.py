"""``creditguard doctor`` for an Odoo source: connectivity, credentials, rights, addon."""

from __future__ import annotations

from dataclasses import dataclass

from connector.errors import AuthenticationFailed, ConfigError, FatalError, RetryableError, SourceError

from .source import STREAMS, OdooSource
from .versions import ADDON_ORDER_FIELDS


@dataclass(frozen=True, slots=True)
class Finding:
    status: str  # ok | warn | fail
    message: str
    hint: str = ""


def diagnose(config) -> list[Finding]:
    findings: list[Finding] = []
    try:
        config.secret()
    except ConfigError as exc:
        hint = (f"export {config.password_env}=… in the service's environment" if config.password_env
                else f"create {config.password_file} (readable by the service user only)")
        return [Finding("fail", str(exc), hint)]
    source = OdooSource.from_config(config)
    try:
        try:
            info = source.open()
        except AuthenticationFailed as exc:
            return [Finding("fail", str(exc), "check username and password_env / password_file (an API key works "
                            "as the password; json2 needs an API key)")]
        except RetryableError as exc:
            return [Finding("fail", str(exc), f"is Odoo running and reachable at {config.url}? check url, "
                            "firewall and protocol")]
        except FatalError as exc:
            return [Finding("fail", str(exc), "check url, database name and protocol")]
        findings.append(Finding("ok", f"connected to Odoo {info.server_version} over {config.protocol}, "
                                      f"database {config.database!r}, user {config.username!r}"))
        if source.version is not None and not source.version.supported:
            findings.append(Finding("warn", f"Odoo {info.server_version} is not a tested version",
                                    "supported: 16, 17, 18, 19"))
        findings.append(Finding("ok", "companies: " + ", ".join(f"{c.name} ({c.currency})" for c in info.companies)))
        for stream, spec in STREAMS.items():
            try:
                count = source.count(stream)
            except SourceError as exc:
                findings.append(Finding("fail", f"cannot read {spec.model}: {exc.detail}",
                                        f"give the user read access to {spec.model} (e.g. groups Sales / "
                                        "Invoicing: Billing)"))
            else:
                findings.append(Finding("ok", f"can read {spec.model} ({count} {stream.value})"))
        try:  # the settlement dates of paid instalments (days late, share paid late)
            source.client.search_count("account.partial.reconcile", [], context={"active_test": False})
        except SourceError as exc:
            findings.append(Finding("warn", f"cannot read account.partial.reconcile: {exc.detail}; payment dates, "
                                            "days late and share paid late are not synced",
                                    "give the user read access to reconciliations (e.g. group Invoicing: Billing)"))
        else:
            findings.append(Finding("ok", "can read account.partial.reconcile (payment dates of paid instalments)"))
        if source.addon:
            findings.append(Finding("ok", "credit_guard addon installed: holds block confirmation in Odoo"))
            missing = [name for name in ADDON_ORDER_FIELDS if name not in source.addon_order_fields]
            if missing:
                findings.append(Finding("warn", "the credit_guard addon installed is older than the tiered release: "
                                                f"sale.order has no {', '.join(missing)}, so releases in Odoo are "
                                                "honoured without checking their approval tier",
                                        "update the credit_guard module in Odoo (Apps › CreditGuard › Upgrade)"))
        else:
            findings.append(Finding("warn", "credit_guard addon not installed: holds are advisory (chatter note, "
                                            "activity, customer tag) and orders can still be confirmed",
                                    "install adapters/odoo/addon/credit_guard (credit_guard_19 for Odoo 19) "
                                    "and put the integration user in Credit Control / Credit Controller"))
    finally:
        source.close()
    return findings
