"""The daemon's configuration: one TOML file, validated with pydantic.

:func:`load_config` reads the file with :mod:`tomllib` (floats as ``Decimal``),
validates it with the frozen models below and, on any problem, raises a
:class:`~connector.errors.ConfigError` whose message lists *every* problem at
once, one per line::

    /etc/creditguard/config.toml:12:1: source.0.protocol: must be 'xmlrpc', ... (got 'xmlrcp'); did you mean 'xmlrpc'?
    /etc/creditguard/config.toml:14:1: source.0.timout: unknown key 'timout'; did you mean 'timeout'?

Secrets are never part of the configuration object.  A source names where its
password (or API key) lives — ``password_env`` or ``password_file`` — and
:meth:`SourceConfig.secret` reads it when it is needed; the same goes for the
store's optional database password (:meth:`StoreConfig.secret`,
:meth:`StoreConfig.url_with_password`).

:func:`read_toml` and :func:`validation_messages` are the reusable parts: any
other TOML file validated by a pydantic model (policy files) reports its
errors the same way.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictStr,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from connector.errors import ConfigError
from connector.tomlpos import START, KeyPath, Position, TomlPositions, format_error, scan_limits

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "Config",
    "LogFormat",
    "LogLevel",
    "LoggingConfig",
    "RpcProtocol",
    "SourceConfig",
    "SourceKind",
    "StoreConfig",
    "SyncConfig",
    "default_config_path",
    "load_config",
    "read_toml",
    "validation_messages",
]

DEFAULT_CONFIG_PATH = Path("/etc/creditguard/config.toml")
CONFIG_ENV = "CREDITGUARD_CONFIG"

SourceKind = Literal["odoo", "sap_soap"]
"""ERP kinds. Add a name here (``Literal["odoo", "sap"]``) to add a kind."""

RpcProtocol = Literal["xmlrpc", "xmlrpcs", "jsonrpc", "jsonrpcs", "json2"]
LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["auto", "json", "console"]

_TLS_PROTOCOLS = frozenset({"xmlrpcs", "jsonrpcs"})
_PLAIN_PROTOCOLS = frozenset({"xmlrpc", "jsonrpc"})

_ERROR_TYPE = "creditguard"


def default_config_path() -> Path:
    """``$CREDITGUARD_CONFIG`` if set (and not empty), else ``/etc/creditguard/config.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


# ---------------------------------------------------------------------------
# Validation helpers


def _error(message: str) -> PydanticCustomError:
    # The message travels in the context so that braces in it are not taken
    # for template fields, and so that errors can be rebuilt (see _rebuild).
    return PydanticCustomError(_ERROR_TYPE, "{message}", {"message": message})


def _fail(message: str) -> NoReturn:
    raise _error(message)


def _issue(loc: KeyPath, message: str, value: object = None) -> InitErrorDetails:
    return InitErrorDetails(type=_error(message), loc=loc, input=value)


def _rebuild(errors: Iterable[dict[str, Any]]) -> list[InitErrorDetails]:
    rebuilt: list[InitErrorDetails] = []
    for err in errors:
        if err["type"] == _ERROR_TYPE:
            rebuilt.append(_issue(err["loc"], err["ctx"]["message"], err.get("input")))
            continue
        detail = InitErrorDetails(type=err["type"], loc=err["loc"], input=err.get("input"))
        if "ctx" in err:
            detail["ctx"] = err["ctx"]
        rebuilt.append(detail)
    return rebuilt


def _with_checks(
    title: str, data: object, handler: Any, checks: list[InitErrorDetails]
) -> Any:
    """Run field validation and cross-field ``checks`` and report both together.

    Cross-field checks run on the raw input, so they are reported even when
    some fields of the same table are themselves invalid.
    """
    try:
        model = handler(data)
    except ValidationError as exc:
        if not checks:
            raise
        raise ValidationError.from_exception_data(
            title, [*_rebuild(exc.errors()), *checks], hide_input=True
        ) from None
    if checks:
        raise ValidationError.from_exception_data(title, checks, hide_input=True)
    return model


def _file_path(value: object, info: ValidationInfo) -> Path:
    """A path given as a TOML string; relative ones are relative to the config file."""
    if not isinstance(value, (str, Path)):
        _fail(f"expected a file path string (got {toml_type(value)})")
    if str(value) == "":
        _fail("must not be empty")
    path = Path(value)
    base = (info.context or {}).get("base_dir")
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return path


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        _fail(
            "must be the name of an environment variable (letters, digits and _), "
            "not the secret itself"
        )
    return value


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        _fail(f"expected a number of seconds (got {toml_type(value)})")
    return float(value)


NonEmptyStr = Annotated[str, StringConstraints(strict=True, min_length=1)]
EnvName = NonEmptyStr  # checked by _env_name in the models' validators
FilePath = Annotated[Path, BeforeValidator(_file_path)]
Seconds = Annotated[float, BeforeValidator(_number), Field(gt=0, allow_inf_nan=False)]
PositiveStrictInt = Annotated[StrictInt, Field(gt=0)]


def _read_secret(owner: str, what: str, env: str | None, file: Path | None) -> str:
    """Read a secret now; errors name where it should be, never what it is."""
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"{owner}: the {what} environment variable {env} is not set")
        if value == "":
            raise ConfigError(f"{owner}: the {what} environment variable {env} is empty")
        return value
    if file is None:
        raise ConfigError(f"{owner}: no {what} configured (set password_env or password_file)")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{owner}: cannot read the {what} file {file}: {exc.strerror or exc.__class__.__name__}"
        ) from None
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{owner}: the {what} file {file} is not valid UTF-8") from None
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    if value == "":
        raise ConfigError(f"{owner}: the {what} file {file} is empty")
    return value


def _password_checks(data: object, *, required: bool) -> list[InitErrorDetails]:
    if not isinstance(data, dict):
        return []
    has_env = data.get("password_env") is not None
    has_file = data.get("password_file") is not None
    if has_env and has_file:
        return [
            _issue(
                ("password_file",),
                "set only one of password_env and password_file, not both",
            )
        ]
    if required and not (has_env or has_file):
        return [
            _issue(
                ("password_env",),
                "missing: set password_env (name of an environment variable) "
                "or password_file (path of a file) holding the password",
            )
        ]
    return []


# ---------------------------------------------------------------------------
# Models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class StoreConfig(_Model):
    """``[store]``: where CreditGuard keeps its state."""

    url: NonEmptyStr
    """SQLAlchemy URL, without a password: ``sqlite:////var/lib/…`` or ``postgresql+psycopg://user@host/db``."""
    password_env: EnvName | None = None
    password_file: FilePath | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            _fail(
                "not a SQLAlchemy database URL (expected e.g. sqlite:////path/to/file.db "
                "or postgresql+psycopg://user@host/dbname)"
            )
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            _fail(f"unsupported database {backend!r}: use sqlite or postgresql+psycopg")
        if backend == "postgresql" and url.get_driver_name() not in ("psycopg", ""):
            _fail("use postgresql+psycopg:// (psycopg 3) for PostgreSQL")
        if url.password is not None:
            _fail(
                "the URL must not contain a password; put it in an environment "
                "variable or a file and name it with password_env or password_file"
            )
        return value

    @field_validator("password_env")
    @classmethod
    def _check_env(cls, value: str | None) -> str | None:
        return None if value is None else _env_name(value)

    @model_validator(mode="wrap")
    @classmethod
    def _cross_checks(cls, data: Any, handler: Any) -> Any:
        return _with_checks(cls.__name__, data, handler, _password_checks(data, required=False))

    @property
    def has_password(self) -> bool:
        return self.password_env is not None or self.password_file is not None

    def secret(self) -> str | None:
        """The database password, read now; ``None`` if none is configured."""
        if not self.has_password:
            return None
        return _read_secret("store", "database password", self.password_env, self.password_file)

    def url_with_password(self) -> URL:
        """The URL to connect with, the password (if any) inserted now.

        Returns a :class:`sqlalchemy.engine.URL`, whose ``str()`` and
        ``repr()`` mask the password; pass it to ``create_engine`` as it is.
        """
        url = make_url(self.url)
        password = self.secret()
        return url if password is None else url.set(password=password)

    def display_url(self) -> str:
        """The URL for logs and messages, the password shown as ``***``."""
        url = make_url(self.url)
        if self.has_password:
            url = url.set(password="***")
        return url.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql`` (SQLAlchemy's backend name)."""
        return make_url(self.url).get_backend_name()


class SyncConfig(_Model):
    """``[sync]``: how records are read from the ERPs."""

    batch_size: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1000
    overlap_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 5
    # no ERP transaction runs longer: what it stamped is looked for once more when this has passed
    late_commit_seconds: Annotated[StrictInt, Field(ge=0, le=86_400)] = 900
    interval_seconds: Annotated[StrictInt, Field(ge=10, le=86_400)] = 300
    alerts_cron: NonEmptyStr | None = None
    # the daemon's full reads (mark and sweep: records deleted in the ERP leave the store); "off": never
    full_sync_cron: NonEmptyStr = "30 2 * * *"
    stop_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=3600)] = 60
    breaker_failures: Annotated[StrictInt, Field(ge=1, le=100)] = 3
    breaker_cooldown_seconds: Annotated[StrictInt, Field(ge=1, le=86_400)] = 300
    timezone: NonEmptyStr = "UTC"

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError):
            message = "unknown IANA time zone (expected e.g. 'Europe/Paris' or 'UTC')"
            close = difflib.get_close_matches(value, _time_zones(), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            _fail(message)
        return value

    @field_validator("alerts_cron", "full_sync_cron")
    @classmethod
    def _check_cron(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or (value == "off" and info.field_name == "full_sync_cron"):
            return value
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            _fail(f"not a crontab expression (minute hour day month weekday): {exc}")
        return value

    @property
    def tzinfo(self) -> ZoneInfo:
        """The company's time zone, for calendar dates."""
        return ZoneInfo(self.timezone)

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.overlap_seconds)


@lru_cache(maxsize=1)
def _time_zones() -> list[str]:
    return sorted(available_timezones())


class LoggingConfig(_Model):
    """``[logging]``."""

    level: LogLevel = "info"
    format: LogFormat = "auto"


class SourceConfig(_Model):
    """One ``[[source]]``: an ERP to read from."""

    name: NonEmptyStr
    kind: SourceKind
    url: NonEmptyStr
    database: NonEmptyStr | None = None  # odoo
    username: NonEmptyStr
    password_env: EnvName | None = None
    password_file: FilePath | None = None
    protocol: RpcProtocol | None = None  # odoo
    # sap_soap
    client: StrictStr | None = None
    company_codes: tuple[StrictStr, ...] | None = None
    company_currencies: dict[StrictStr, StrictStr] | None = None
    sales_organization: StrictStr | None = None
    credit_control_area: StrictStr | None = None
    delivery_block: StrictStr = "01"
    rate_type: StrictStr = "M"  # TCURR exchange rate type of the currency-rates stream
    rates_history_days: Annotated[StrictInt, Field(ge=1)] = 400  # rate history read on a first / full sync
    # re-read every customer at least this often, even when its credit-master totals did not move
    reconcile_hours: Annotated[StrictInt | StrictFloat, Field(gt=0, le=24 * 31)] = 24
    # credit masters a page of customers per call through the customer function ZCG_CREDIT_LIST
    credit_list_service: StrictBool = False
    change_mode: Literal["stateful", "wrapper"] = "stateful"
    letters_dir: NonEmptyStr | None = None  # dunning letters are written here as HTML files (one per step)
    wsdl_dir: FilePath | None = None
    client_cert: FilePath | None = None
    client_key: FilePath | None = None
    timezone: NonEmptyStr | None = None
    timeout: Seconds = 30.0
    # the longest one call may take, connect to last byte, retries included (default: timeout)
    call_deadline_seconds: Seconds | None = None
    # an answer larger than this is refused, never read whole (a 1,000-record page is a few MB)
    max_answer_mb: Annotated[StrictInt, Field(ge=1, le=4096)] = 64
    verify_tls: StrictBool = True
    ca_file: FilePath | None = None
    companies: tuple[PositiveStrictInt, ...] | None = None
    retry_attempts: Annotated[StrictInt, Field(ge=1, le=20)] = 4
    batch_size: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    enabled: StrictBool = True
    credit_controller_user_id: PositiveStrictInt | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_-]+", value):
            _fail("source names use only lowercase letters, digits, '_' and '-'")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _erp_url(value)

    @field_validator("client")
    @classmethod
    def _check_client(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{3}", value):
            _fail("a SAP client is three digits, e.g. \"100\"")
        return value

    @field_validator("company_codes", "sales_organization", "credit_control_area")
    @classmethod
    def _check_org_codes(cls, value):
        for code in (value if isinstance(value, tuple) else (value,)):
            if code is not None and not re.fullmatch(r"[A-Z0-9]{4}", code):
                _fail("SAP organisational keys are four capitals or digits, e.g. \"1000\"")
        if isinstance(value, tuple) and not value:
            _fail("list at least one company code")
        return value

    @field_validator("company_currencies")
    @classmethod
    def _check_company_currencies(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        from .money import UnknownCurrency, currency_precision

        for code, currency in (value or {}).items():
            if not re.fullmatch(r"[A-Z0-9]{4}", code):
                _fail(f"{code!r}: SAP company codes are four capitals or digits")
            try:
                currency_precision(currency)
            except UnknownCurrency:
                _fail(f"{code}: unknown currency {currency!r} (ISO 4217, e.g. \"EUR\")")
        return value

    @field_validator("rate_type")
    @classmethod
    def _check_rate_type(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{1,4}", value):
            _fail("an exchange rate type is one to four capitals or digits, e.g. \"M\"")
        return value

    @field_validator("delivery_block")
    @classmethod
    def _check_block(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{2}", value):
            _fail("a delivery block is two capitals or digits, e.g. \"01\"")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_source_timezone(cls, value: str | None) -> str | None:
        return None if value is None else SyncConfig._check_timezone(value)

    @field_validator("password_env")
    @classmethod
    def _check_env(cls, value: str | None) -> str | None:
        return None if value is None else _env_name(value)

    @field_validator("companies")
    @classmethod
    def _check_companies(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not value:
            _fail("list at least one company id, or leave companies out to read all companies")
        duplicates = sorted({c for c in value if value.count(c) > 1})
        if duplicates:
            _fail(f"company ids listed twice: {', '.join(map(str, duplicates))}")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _cross_checks(cls, data: Any, handler: Any) -> Any:
        checks = _password_checks(data, required=not (isinstance(data, dict) and data.get("client_cert")))
        if isinstance(data, dict):
            checks += _protocol_checks(data.get("protocol"), data.get("url"))
            checks += _kind_checks(data)
        return _with_checks(cls.__name__, data, handler, checks)

    # -- derived -------------------------------------------------------------

    @property
    def scheme(self) -> str:
        """``http`` or ``https``."""
        return self.url.split(":", 1)[0]

    @property
    def uses_tls(self) -> bool:
        return self.scheme == "https"

    @property
    def tzinfo(self):
        """The ERP system's time zone (sap_soap), for its calendar dates."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone or "UTC")

    @property
    def secret_name(self) -> str:
        """What :meth:`secret` returns: ``API key`` for json2, else ``password``."""
        return "API key" if self.protocol == "json2" else "password"

    def effective_batch_size(self, sync: SyncConfig) -> int:
        """This source's ``batch_size``, or ``[sync].batch_size`` if it has none."""
        return self.batch_size if self.batch_size is not None else sync.batch_size

    def sales_organizations(self) -> dict[str, str]:
        """sap_soap: ``{sales organization: company code}`` the sales orders are read for.

        A configured ``sales_organization`` counts for the first company code; without one, each
        company code's sales organization is taken to carry the same key (``1000`` → ``1000``),
        as in SAP's reference organisational structure.
        """
        codes = list(self.company_codes or ())
        if self.sales_organization:
            return {self.sales_organization: codes[0]} if codes else {}
        return {code: code for code in codes}

    def secret(self) -> str:
        """The password (API key for ``json2``), read now from the env var or file.

        Raises :class:`ConfigError` naming the source and the variable or
        file — never the value — if it is missing, empty or unreadable.
        """
        return _read_secret(
            f"source {self.name!r}", self.secret_name, self.password_env, self.password_file
        )


_KIND_KEYS = {
    "odoo": ("database", "protocol"),
    "sap_soap": ("client", "company_codes"),
}
_KIND_ONLY = {
    "odoo": ("database", "protocol", "companies", "credit_controller_user_id"),
    "sap_soap": ("client", "company_codes", "company_currencies", "sales_organization", "credit_control_area",
                 "delivery_block", "rate_type", "rates_history_days", "reconcile_hours",
                 "credit_list_service", "change_mode", "wsdl_dir", "client_cert", "client_key", "timezone",
                 "letters_dir"),
}


def _kind_checks(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Keys each kind of source needs, and keys that belong to the other kind."""
    kind = data.get("kind")
    if kind not in _KIND_KEYS:
        return []
    issues = [_issue((key,), f"missing required key {key!r}") for key in _KIND_KEYS[kind] if key not in data]
    for other, keys in _KIND_ONLY.items():
        if other != kind:
            issues += [_issue((key,), f"{key!r} is for kind = {other!r} sources, not {kind!r}")
                       for key in keys if key in data and key not in _KIND_ONLY[kind]]
    return issues


def _erp_url(value: str) -> str:
    if value != value.strip() or any(c.isspace() for c in value):
        _fail("the URL must not contain spaces")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        _fail("not a valid URL (expected http://host[:port] or https://host[:port])")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not value.lower().startswith(f"{scheme}://"):
        _fail("the URL must start with http:// or https://")
    if "@" in parts.netloc:
        _fail(
            "the URL must not contain credentials; set username and "
            "password_env or password_file instead"
        )
    if not parts.hostname:
        _fail("the URL has no host name")
    if parts.path not in ("", "/"):
        _fail(f"the URL must not have a path (found {parts.path!r}); give scheme://host[:port] only")
    if parts.query or parts.fragment:
        _fail("the URL must not have a query string or fragment")
    return f"{scheme}://{parts.netloc}"


def _protocol_checks(protocol: object, url: object) -> list[InitErrorDetails]:
    if not isinstance(protocol, str) or not isinstance(url, str):
        return []
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if protocol in _TLS_PROTOCOLS and scheme == "http":
        return [
            _issue(
                ("protocol",),
                f"protocol {protocol!r} needs an https:// url; use protocol "
                f"{protocol[:-1]!r} for http:// or change the url to https://",
            )
        ]
    if protocol in _PLAIN_PROTOCOLS and scheme == "https":
        return [
            _issue(
                ("protocol",),
                f"protocol {protocol!r} is plain HTTP but the url is https://; "
                f"use protocol {protocol + 's'!r}",
            )
        ]
    return []


class OutboxConfig(_Model):
    """``[outbox]``: how writes back into the ERPs are retried."""

    max_attempts: Annotated[StrictInt, Field(ge=1, le=100)] = 8
    retry_delay_seconds: Annotated[StrictInt, Field(ge=1, le=86_400)] = 30
    max_retry_delay_seconds: Annotated[StrictInt, Field(ge=1, le=604_800)] = 3600


class HttpConfig(_Model):
    """``[http]``: the HTTP API (health, readiness, metrics, credit checks)."""

    listen: NonEmptyStr = "127.0.0.1:8765"
    token_env: EnvName = "CREDITGUARD_API_TOKEN"
    max_body_bytes: Annotated[StrictInt, Field(ge=1024, le=10_485_760)] = 65_536
    # processes serving the API (the daemon and workers - 1 more, sharing the port): one per core for throughput
    workers: Annotated[StrictInt, Field(ge=1, le=32)] = 1
    threads: Annotated[StrictInt, Field(ge=1, le=64)] = 4  # requests each process serves at once
    # open connections each process keeps (idle and slow ones included); more wait in the listen backlog
    connection_limit: Annotated[StrictInt, Field(ge=10, le=100_000)] = 4096
    # a connection idle this long between requests is closed
    idle_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=3600)] = 30
    # a request whose headers and body have not all arrived this long after it began is dropped (slow clients)
    request_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=3600)] = 30
    # the web dashboard (/ui): a separate token that opens only the dashboard (read-only), besides the API token;
    # unset: only the API token logs in
    ui_token_env: EnvName | None = None
    # how long a dashboard login lasts before the token must be given again
    ui_session_hours: Annotated[StrictInt, Field(ge=1, le=168)] = 8
    # the dashboard is reached over https through a reverse proxy that terminates TLS: its cookies get the
    # Secure flag (the listener itself speaks plain HTTP, and trusts no X-Forwarded-* header)
    ui_secure_cookies: StrictBool = False

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            _fail("expected HOST:PORT, e.g. 127.0.0.1:8765")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    def token(self) -> str:
        return _read_secret("[http]", "API token", self.token_env, None)

    def ui_token(self) -> str | None:
        """The dashboard's own token, or None when ``ui_token_env`` is not set."""
        return _read_secret("[http]", "dashboard token", self.ui_token_env, None) if self.ui_token_env else None

    @field_validator("ui_token_env")
    @classmethod
    def _check_ui_token_env(cls, value: str | None) -> str | None:
        return None if value is None else _env_name(value)


class ChecksConfig(_Model):
    """``[checks]``: real-time credit checks (``POST /v1/check``, ``creditguard check``)."""

    # an approval at confirmation reserves exposure until the sync brings the order in, or this long
    reservation_hours: Annotated[StrictInt, Field(ge=1, le=720)] = 24

    @property
    def reservation_ttl(self) -> timedelta:
        return timedelta(hours=self.reservation_hours)


class SnapshotsConfig(_Model):
    """``[snapshots]``: the daily snapshots of exposure and ageing per credit group (trends on the dashboard)."""

    # snapshot days kept; older ones are removed each time a day is taken
    keep_days: Annotated[StrictInt, Field(ge=1, le=36_500)] = 400


class FiguresConfig(_Model):
    """``[figures]``: payment figures per credit group (DSO, days late)."""

    # DSO by the countback method over at most this many months of credit sales
    dso_months: Annotated[StrictInt, Field(ge=1, le=24)] = 3
    # average days late and share paid late over the instalments settled in the last this many months
    payment_months: Annotated[StrictInt, Field(ge=1, le=36)] = 12


class PolicyConfig(_Model):
    """``[policy]``: the active credit policy file."""

    path: FilePath


class Config(_Model):
    """The whole configuration file."""

    store: StoreConfig
    sync: SyncConfig = Field(default_factory=SyncConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    policy: PolicyConfig | None = None
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    snapshots: SnapshotsConfig = Field(default_factory=SnapshotsConfig)
    figures: FiguresConfig = Field(default_factory=FiguresConfig)
    http: HttpConfig | None = None
    sources: tuple[SourceConfig, ...] = Field(alias="source")

    _path: Path | None = PrivateAttr(default=None)
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _cross_checks(cls, data: Any, handler: Any) -> Any:
        checks: list[InitErrorDetails] = []
        sources = data.get("source") if isinstance(data, dict) else None
        if isinstance(sources, (list, tuple)) and not sources:
            checks.append(_issue(("source",), "at least one [[source]] table is required"))
        if isinstance(sources, (list, tuple)):
            first: dict[str, int] = {}
            for index, source in enumerate(sources):
                name = source.get("name") if isinstance(source, dict) else None
                if not isinstance(name, str):
                    continue
                if name in first:
                    checks.append(
                        _issue(
                            ("source", index, "name"),
                            f"duplicate source name {name!r} (already used by source.{first[name]})",
                        )
                    )
                else:
                    first[name] = index
        return _with_checks(cls.__name__, data, handler, checks)

    @property
    def path(self) -> Path | None:
        """The file this configuration was loaded from (``None`` if built in code)."""
        return self._path

    @property
    def warnings(self) -> tuple[str, ...]:
        """Non-fatal problems (``FILE:LINE:COLUMN: key.path: message``), to log at start-up."""
        return self._warnings

    @property
    def enabled_sources(self) -> tuple[SourceConfig, ...]:
        return tuple(s for s in self.sources if s.enabled)

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; :class:`ConfigError` listing the known names if none."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(repr(s.name) for s in self.sources)
        raise ConfigError(f"unknown source {name!r}; configured sources: {known}")


# ---------------------------------------------------------------------------
# Reading and reporting


_TOML_ERROR = re.compile(r"^(?P<message>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$", re.S)


def read_toml(path: str | os.PathLike[str]) -> tuple[dict[str, Any], TomlPositions]:
    """Parse a TOML file (floats as ``Decimal``) and locate its keys.

    Every failure is a :class:`ConfigError` naming the file, and for a syntax
    error its line and column: ``FILE:LINE:COLUMN: invalid TOML: message``.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc.__class__.__name__}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        pos = _end_position(before)
        raise ConfigError(f"{file}:{pos}: not valid UTF-8") from None
    beyond = scan_limits(text)
    if beyond is not None:
        raise ConfigError(f"{file}:{beyond[0]}: invalid TOML: {beyond[1]}")
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_ERROR.match(message)
        if match:
            pos = Position(int(match["line"]), int(match["column"]))
            message = match["message"]
        else:
            pos = _end_position(text)
            message = message.replace(" (at end of document)", "") + " (at end of file)"
        raise ConfigError(f"{file}:{pos}: invalid TOML: {message}") from None
    except (RecursionError, ValueError):
        # scan_limits should have refused what tomllib cannot parse; if it has not (a deep
        # stack already), point at the deepest nesting or the longest integer it sees.
        raise ConfigError(f"{file}:{_limit_position(text)}: invalid TOML: too deeply nested or "
                          "an integer too large to read") from None
    positions = TomlPositions(text)
    out_of_range = sorted((positions.find(path) or START, format_error(file, positions.find(path), path, _INTEGER_RANGE))
                          for path in _huge_integers(data))
    if out_of_range:
        raise ConfigError("\n".join(line for _, line in out_of_range))
    return data, positions


_INT64 = range(-(2**63), 2**63)
_INTEGER_RANGE = f"integer out of range: TOML integers are 64-bit, from {_INT64.start} to {_INT64.stop - 1}"


def _huge_integers(data: dict[str, Any]) -> list[KeyPath]:
    """The paths of integers that do not fit in 64 bits (the TOML range), in no particular order."""
    found: list[KeyPath] = []
    pending: list[tuple[KeyPath, Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            pending.extend(((*path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
            found.append(path)
    return found


def _limit_position(text: str) -> Position:
    for nesting in (64, 32, 16):
        beyond = scan_limits(text, max_nesting=nesting, max_digits=19)
        if beyond is not None:
            return beyond[0]
    return START


def _end_position(text: str) -> Position:
    lines = text.split("\n")
    return Position(len(lines), len(lines[-1]) + 1)


def validation_messages(
    file: object,
    error: ValidationError,
    positions: TomlPositions,
    model: type[BaseModel],
) -> list[str]:
    """One ``FILE:LINE:COLUMN: key.path: message`` line per error, in file order.

    ``model`` is the root model that was validated; it is used for hints
    (the keys allowed where an unknown one was found).
    """
    found: list[tuple[Position, int, str]] = []
    for number, err in enumerate(error.errors(include_url=False)):
        loc = tuple(err["loc"])
        position = positions.find(loc) or START
        message = _describe(err, loc, model)
        found.append((position, number, format_error(file, position, loc, message)))
    found.sort()
    return [line for _, _, line in found]


def _describe(err: dict[str, Any], loc: KeyPath, model: type[BaseModel]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == _ERROR_TYPE:
        return str(ctx["message"])
    if kind == "extra_forbidden":
        allowed = _keys_of(_model_at(model, loc[:-1]))
        message = f"unknown key {loc[-1]!r}"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            return f"{message}; did you mean {close[0]!r}?"
        if allowed:
            return f"{message}; allowed keys: {', '.join(allowed)}"
        return message
    if kind == "missing":
        target = _model_at(model, loc)
        if loc and loc[-1] == "source" and len(loc) == 1:
            return "missing: at least one [[source]] table is required"
        if target is not None and isinstance(loc[-1], str):
            return f"missing required table [{'.'.join(map(str, loc))}]"
        return f"missing required key {loc[-1]!r}" if loc else "missing"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected)
        message = f"must be {expected}"
        # The value itself is not repeated: it is on the line the message
        # points at, and a misplaced secret must never reach a log.
        if isinstance(value, str):
            close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.5)
            if close and close[0] != value:
                message += f"; did you mean {close[0]!r}?"
        else:
            message += f" (got {toml_type(value)})"
        return message
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if loc == ("source",) or (len(loc) == 2 and loc[0] == "source"):
            return f"expected a table (write sources as [[source]]), got {toml_type(value)}"
        return f"expected a table, got {toml_type(value)}"
    if kind in ("tuple_type", "list_type", "iterable_type"):
        if loc == ("source",):
            return f"expected an array of tables: write each source as [[source]], not [source] (got {toml_type(value)})"
        return f"expected an array, got {toml_type(value)}"
    expected_type = _EXPECTED_TYPE.get(kind)
    if expected_type:
        return f"expected {expected_type}, got {toml_type(value)}"
    number = _safe_number(value)
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}{number}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}{number}"
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']}{number}"
    if kind == "less_than":
        return f"must be less than {ctx['lt']}{number}"
    if kind in ("string_too_short",) and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    message = str(err.get("msg", kind))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


_EXPECTED_TYPE = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
}


def _safe_number(value: object) -> str:
    """`` (got N)`` for a number in a range error (numbers are never secrets)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return f" (got {value})"
    return ""


def toml_type(value: object) -> str:
    """The TOML name of a parsed value's type (never the value itself)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (float, Decimal)):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model validating the table at ``loc`` (by TOML key), if any."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = next(
            (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
        )
        if field is None:
            return None
        current = _submodel(field.annotation)
    return current


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _config_warnings(config: Config, file: object, positions: TomlPositions) -> list[str]:
    found: list[tuple[Position, str]] = []

    def warn(loc: KeyPath, message: str) -> None:
        position = positions.find(loc) or START
        found.append((position, format_error(file, position, loc, message)))

    url = make_url(config.store.url)
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
        and not os.path.isabs(database)
    ):
        warn(
            ("store", "url"),
            f"the SQLite path {database!r} is relative to the working directory; "
            f"write sqlite:////{database} (four slashes) for an absolute path",
        )
    for index, source in enumerate(config.sources):
        if not source.verify_tls and source.uses_tls:
            warn(
                ("source", index, "verify_tls"),
                f"TLS certificate verification is disabled for source {source.name!r}",
            )
        if not source.uses_tls and not _is_loopback(source.url):
            warn(
                ("source", index, "url"),
                f"source {source.name!r} sends its {source.secret_name} unencrypted "
                "over http:// to a remote host; use https",
            )
    found.sort()
    return [line for _, line in found]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the configuration file at ``path``.

    Raises :class:`ConfigError` listing every problem, one
    ``FILE:LINE:COLUMN: key.path: message`` line each.  Secrets are not read.
    """
    file = Path(path)
    data, positions = read_toml(file)
    try:
        config = Config.model_validate(data, context={"base_dir": file.absolute().parent})
    except ValidationError as exc:
        raise ConfigError("\n".join(validation_messages(file, exc, positions, Config))) from None
    config._path = file
    config._warnings = tuple(_config_warnings(config, file, positions))
    return config
