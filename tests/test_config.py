"""Tests for connector.config: loading, validation messages and secrets."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import URL

from connector.config import (
    Config,
    LoggingConfig,
    SourceConfig,
    StoreConfig,
    SyncConfig,
    default_config_path,
    load_config,
    read_toml,
)
from connector.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
SECRET = "Sup3r-S3cret-Value-7781"

MINIMAL = """\
[store]
url = "sqlite:///var/lib/creditguard/creditguard.db"   # or postgresql+psycopg://user@host/db

[[source]]
name = "odoo"
kind = "odoo"
url = "http://127.0.0.1:8069"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"   # or password_file = "/run/credentials/..."
protocol = "xmlrpc"                          # xmlrpc | xmlrpcs | jsonrpc | jsonrpcs | json2
"""

SOURCE = """\
[[source]]
name = "odoo"
kind = "odoo"
url = "http://127.0.0.1:8069"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "xmlrpc"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value).splitlines()


def only_error(path: Path) -> str:
    lines = errors_of(path)
    assert len(lines) == 1, lines
    return lines[0]


# ---------------------------------------------------------------------------
# Loading


def test_minimal_file_loads_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    config = load_config(path)
    assert config.path == path
    assert config.store == StoreConfig(url="sqlite:///var/lib/creditguard/creditguard.db")
    assert config.sync == SyncConfig(batch_size=1000, overlap_seconds=5, timezone="UTC")
    assert config.logging == LoggingConfig(level="info", format="auto")
    assert isinstance(config.sources, tuple) and len(config.sources) == 1
    source = config.source("odoo")
    assert source.kind == "odoo"
    assert source.url == "http://127.0.0.1:8069"
    assert (source.database, source.username) == ("demo", "admin")
    assert source.password_env == "CREDITGUARD_ODOO_PASSWORD"
    assert source.password_file is None
    assert source.protocol == "xmlrpc"
    assert source.timeout == 30
    assert source.verify_tls is True
    assert source.ca_file is None
    assert source.companies is None
    assert source.retry_attempts == 4
    assert source.batch_size is None
    assert source.enabled is True
    assert source.effective_batch_size(config.sync) == 1000
    assert config.enabled_sources == config.sources


def test_minimal_file_warns_about_the_relative_sqlite_path(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert len(config.warnings) == 1
    assert re.match(r".*config\.toml:2:1: store\.url: the SQLite path .* is relative", config.warnings[0])


def test_example_file_loads_without_warnings() -> None:
    config = load_config(EXAMPLE)
    assert config.warnings == ()
    assert config.source("odoo").protocol == "xmlrpc"
    assert config.store.url == "sqlite:////var/lib/creditguard/creditguard.db"


def schema_keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for sub in (Config, StoreConfig, SyncConfig, LoggingConfig, SourceConfig):
            if sub in _types_in(field.annotation):
                keys |= schema_keys(sub)
    return keys


def _types_in(annotation: object) -> set[object]:
    import typing

    found = {annotation}
    for arg in typing.get_args(annotation):
        found |= _types_in(arg)
    return found


def test_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    keys = schema_keys(Config)
    assert {"store", "sync", "logging", "source", "url", "password_env", "password_file",
            "batch_size", "overlap_seconds", "timezone", "level", "format", "name", "kind",
            "database", "username", "protocol", "timeout", "verify_tls", "ca_file",
            "companies", "retry_attempts", "enabled"} <= keys
    for key in sorted(keys):
        as_key = re.compile(rf"^[ \t]*#?[ \t]*{re.escape(key)}[ \t]*=", re.M)
        as_table = re.compile(rf"^\[\[?{re.escape(key)}\]\]?", re.M)
        assert as_key.search(text) or as_table.search(text), f"{key} is not documented"


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_config(path)


def test_full_source_options(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    path = write(
        tmp_path,
        """\
        [store]
        url = "postgresql+psycopg://creditguard@db.example.com/creditguard"
        password_env = "DB_PASSWORD"

        [sync]
        batch_size = 500
        overlap_seconds = 0
        timezone = "Europe/Paris"

        [logging]
        level = "debug"
        format = "json"

        [[source]]
        name = "main-odoo_1"
        kind = "odoo"
        url = "https://ERP.example.com:8443/"
        database = "prod"
        username = "sync"
        password_file = "secrets/odoo"
        protocol = "json2"
        timeout = 2.5
        verify_tls = false
        ca_file = "/etc/ssl/certs/my-ca.pem"
        companies = [1, 2]
        retry_attempts = 20
        batch_size = 200
        enabled = false
        """,
    )
    config = load_config(path)
    source = config.sources[0]
    assert source.url == "https://ERP.example.com:8443"
    assert source.password_file == tmp_path / "secrets" / "odoo"  # relative to the file
    assert source.timeout == 2.5
    assert source.companies == (1, 2)
    assert source.ca_file == Path("/etc/ssl/certs/my-ca.pem")
    assert source.effective_batch_size(config.sync) == 200
    assert config.enabled_sources == ()
    assert str(config.sync.tzinfo) == "Europe/Paris"
    assert config.sync.overlap.total_seconds() == 0
    assert config.store.backend == "postgresql"
    assert [w.split(": ", 2)[1] for w in config.warnings] == ["source.0.verify_tls"]
    assert re.search(r":23:1: source\.0\.verify_tls: TLS certificate verification is disabled", config.warnings[0])


@pytest.mark.parametrize(
    ("protocol", "url"),
    [
        ("xmlrpc", "http://localhost:8069"),
        ("jsonrpc", "http://[::1]:8069"),
        ("xmlrpcs", "https://erp.example.com"),
        ("jsonrpcs", "https://erp.example.com"),
        ("json2", "https://erp.example.com"),
        ("json2", "http://127.0.0.1"),
    ],
)
def test_protocol_and_scheme_that_agree(tmp_path: Path, protocol: str, url: str) -> None:
    text = MINIMAL.replace('protocol = "xmlrpc"', f'protocol = "{protocol}"').replace(
        "http://127.0.0.1:8069", url
    )
    assert load_config(write(tmp_path, text)).sources[0].protocol == protocol


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ValidationError):
        config.sources[0].timeout = 5  # type: ignore[misc]


def test_unknown_source_name_lists_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match=r"unknown source 'sap'; configured sources: 'odoo'"):
        config.source("sap")


def test_default_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITGUARD_CONFIG", raising=False)
    assert default_config_path() == Path("/etc/creditguard/config.toml")
    monkeypatch.setenv("CREDITGUARD_CONFIG", "/tmp/other.toml")
    assert default_config_path() == Path("/tmp/other.toml")
    monkeypatch.setenv("CREDITGUARD_CONFIG", "")
    assert default_config_path() == Path("/etc/creditguard/config.toml")


# ---------------------------------------------------------------------------
# Errors: FILE:LINE:COLUMN: key.path: message


ERROR_CASES = [
    pytest.param(
        MINIMAL + "protocl = 1\n",
        12, "source.0.protocl", r"unknown key 'protocl'; did you mean 'protocol'\?",
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        MINIMAL.replace("[store]\n", "[store]\ncolour = 'red'\n"),
        2, "store.colour", r"unknown key 'colour'; allowed keys: url, password_env, password_file",
        id="unknown-key-allowed-keys",
    ),
    pytest.param(
        MINIMAL + "[sourcez]\n",
        12, "sourcez", r"unknown key 'sourcez'; did you mean 'source'\?",
        id="unknown-table",
    ),
    pytest.param(
        MINIMAL + "timeout = \"30\"\n",
        12, "source.0.timeout", r"expected a number of seconds \(got a string\)",
        id="wrong-type-number",
    ),
    pytest.param(
        MINIMAL + "verify_tls = \"no\"\n",
        12, "source.0.verify_tls", r"expected a boolean \(true or false\), got a string",
        id="wrong-type-bool",
    ),
    pytest.param(
        MINIMAL + "retry_attempts = 2.0\n",
        12, "source.0.retry_attempts", r"expected an integer, got a float",
        id="wrong-type-int",
    ),
    pytest.param(
        MINIMAL.replace('protocol = "xmlrpc"', 'protocol = "xmlrcp"'),
        11, "source.0.protocol",
        r"must be 'xmlrpc', 'xmlrpcs', 'jsonrpc', 'jsonrpcs' or 'json2'; did you mean 'xmlrpc'\?",
        id="bad-enum-with-hint",
    ),
    pytest.param(
        MINIMAL + "[logging]\nlevel = \"WARN\"\n",
        13, "logging.level", r"must be 'debug', 'info', 'warning' or 'error'; did you mean 'warning'\?",
        id="bad-enum-case",
    ),
    pytest.param(
        MINIMAL.replace('database = "demo"\n', ""),
        4, "source.0.database", r"missing required key 'database'",
        id="missing-key-points-at-its-table",
    ),
    pytest.param(
        MINIMAL.replace('password_env = "CREDITGUARD_ODOO_PASSWORD"', "#"),
        4, "source.0.password_env", r"missing: set password_env .* or password_file",
        id="missing-password",
    ),
    pytest.param(
        MINIMAL.replace("protocol = ", 'password_file = "/x"\nprotocol = '),
        11, "source.0.password_file", r"set only one of password_env and password_file, not both",
        id="both-passwords",
    ),
    pytest.param(
        MINIMAL + "\n" + SOURCE,
        14, "source.1.name", r"duplicate source name 'odoo' \(already used by source.0\)",
        id="duplicate-source-names",
    ),
    pytest.param(
        MINIMAL.replace('protocol = "xmlrpc"', 'protocol = "xmlrpcs"'),
        11, "source.0.protocol", r"protocol 'xmlrpcs' needs an https:// url",
        id="http-with-xmlrpcs",
    ),
    pytest.param(
        MINIMAL.replace("http://127.0.0.1:8069", "https://erp.example.com"),
        11, "source.0.protocol", r"protocol 'xmlrpc' is plain HTTP but the url is https://; use protocol 'xmlrpcs'",
        id="https-with-xmlrpc",
    ),
    pytest.param(
        MINIMAL.replace("http://127.0.0.1:8069", "http://127.0.0.1:8069/odoo"),
        7, "source.0.url", r"the URL must not have a path",
        id="url-with-path",
    ),
    pytest.param(
        MINIMAL.replace("http://127.0.0.1:8069", "ftp://127.0.0.1"),
        7, "source.0.url", r"the URL must start with http:// or https://",
        id="url-scheme",
    ),
    pytest.param(
        MINIMAL.replace('name = "odoo"', 'name = "Odoo Prod"'),
        5, "source.0.name", r"source names use only lowercase letters, digits",
        id="bad-source-name",
    ),
    pytest.param(
        MINIMAL + "[sync]\ntimezone = \"Europe/Pariss\"\n",
        13, "sync.timezone", r"unknown IANA time zone .*; did you mean 'Europe/Paris'\?",
        id="bad-timezone",
    ),
    pytest.param(
        MINIMAL + "[sync]\nbatch_size = 20000\n",
        13, "sync.batch_size", r"must be at most 10000 \(got 20000\)",
        id="batch-size-too-large",
    ),
    pytest.param(
        MINIMAL + "batch_size = 0\n",
        12, "source.0.batch_size", r"must be at least 1 \(got 0\)",
        id="source-batch-size-too-small",
    ),
    pytest.param(
        MINIMAL + "timeout = 0\n",
        12, "source.0.timeout", r"must be greater than 0",
        id="timeout-zero",
    ),
    pytest.param(
        MINIMAL + "companies = [1, 0]\n",
        12, "source.0.companies.1", r"must be greater than 0",
        id="company-id",
    ),
    pytest.param(
        MINIMAL + "companies = []\n",
        12, "source.0.companies", r"list at least one company id",
        id="companies-empty",
    ),
    pytest.param(
        MINIMAL.replace('kind = "odoo"', 'kind = "sap"'),
        6, "source.0.kind", r"must be 'odoo'",
        id="unknown-kind",
    ),
    pytest.param(
        MINIMAL.replace('password_env = "CREDITGUARD_ODOO_PASSWORD"', 'password_env = "my password!"'),
        10, "source.0.password_env", r"must be the name of an environment variable",
        id="password-env-not-a-name",
    ),
    pytest.param(
        MINIMAL.replace('url = "sqlite:///var', 'url = "nonsense:/var'),
        2, "store.url", r"not a SQLAlchemy database URL",
        id="bad-store-url",
    ),
    pytest.param(
        MINIMAL.replace('url = "sqlite:///var', 'url = "mysql://db/var'),
        2, "store.url", r"unsupported database 'mysql': use sqlite or postgresql\+psycopg",
        id="unsupported-store-backend",
    ),
    pytest.param(
        MINIMAL.replace('url = "sqlite:///var', 'url = "postgresql+psycopg2://db/var'),
        2, "store.url", r"use postgresql\+psycopg:// \(psycopg 3\)",
        id="unsupported-store-driver",
    ),
    pytest.param(
        MINIMAL.replace("[[source]]", "[source]"),
        4, "source", r"expected an array of tables: write each source as \[\[source\]\]",
        id="source-not-array",
    ),
    pytest.param(
        MINIMAL.split("[[source]]")[0],
        1, "source", r"missing: at least one \[\[source\]\] table is required",
        id="no-source",
    ),
    pytest.param(
        "source = []\n" + MINIMAL.split("[[source]]")[0],
        1, "source", r"at least one \[\[source\]\] table is required",
        id="empty-source-array",
    ),
    pytest.param(
        MINIMAL.replace("[store]\nurl = ", "[store]\nurl_ = "),
        2, "store.url_", r"unknown key 'url_'; did you mean 'url'\?",
        id="misspelt-required-key",
    ),
    pytest.param(
        "[[source]]\n" + MINIMAL.split("[[source]]")[1],
        1, "store", r"missing required table \[store\]",
        id="missing-table",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), ERROR_CASES)
def test_error_names_file_line_column_key(
    tmp_path: Path, text: str, line: int, key: str, message: str
) -> None:
    path = write(tmp_path, text)
    errors = errors_of(path)
    wanted = re.compile(rf"{re.escape(str(path))}:{line}:\d+: {re.escape(key)}: {message}")
    assert any(wanted.match(e) for e in errors), errors


def test_column_of_an_inline_value(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "companies = [1,   -3]\n")
    assert only_error(path) == f"{path}:12:19: source.0.companies.1: must be greater than 0 (got -3)"


def test_every_error_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = """\
    [store]
    url = "sqlite:////tmp/x.db"
    colour = 1

    [sync]
    batch_size = 0
    timezone = "Mars/Olympus"

    [logging]
    level = "loud"

    [[source]]
    name = "odoo"
    kind = "odoo"
    url = "http://127.0.0.1:8069"
    database = "demo"
    password_env = "CREDITGUARD_ODOO_PASSWORD"
    protocol = "jsonrpcs"
    timout = 3

    [[source]]
    name = "odoo"
    kind = "odoo"
    url = "http://127.0.0.1:8069"
    database = "demo"
    username = "admin"
    password_env = "X"
    protocol = "xmlrpc"
    """
    path = write(tmp_path, text)
    errors = errors_of(path)
    found = [(int(e.split(":")[1]), e.split(": ")[1]) for e in errors]
    assert found == [
        (3, "store.colour"),
        (6, "sync.batch_size"),
        (7, "sync.timezone"),
        (10, "logging.level"),
        (12, "source.0.username"),  # missing: at the [[source]] header
        (18, "source.0.protocol"),
        (19, "source.0.timout"),
        (22, "source.1.name"),
    ]
    assert all(e.startswith(f"{path}:") for e in errors)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('[store]\nurl = "x"\n[store]\n', "3:7", "Cannot declare ('store',) twice"),
        ('[store]\nurl = "x\n', "2:9", "Illegal character '\\n'"),
        ("[store]\nurl = \n", "2:7", "Invalid value"),
        ('[store]\nurl = "x" y\n', "2:11", "Expected newline or end of document after a statement"),
    ],
)
def test_syntax_errors(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    assert only_error(path) == f"{path}:{where}: invalid TOML: {message}"


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[store]\nurl = "\xff"\n')
    assert only_error(path) == f"{path}:2:8: not valid UTF-8"


def test_read_toml_gives_data_and_positions(tmp_path: Path) -> None:
    data, positions = read_toml(write(tmp_path, "[a]\nx = 1.5\n"))
    assert str(data["a"]["x"]) == "1.5" and type(data["a"]["x"]).__name__ == "Decimal"
    assert positions.find(("a", "x", "y")) == (2, 1)


# ---------------------------------------------------------------------------
# Secrets


def test_secret_from_env_is_read_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITGUARD_ODOO_PASSWORD", raising=False)
    config = load_config(write(tmp_path, MINIMAL))  # loading does not need the secret
    source = config.source("odoo")
    with pytest.raises(ConfigError) as info:
        source.secret()
    assert str(info.value) == (
        "source 'odoo': the password environment variable CREDITGUARD_ODOO_PASSWORD is not set"
    )
    monkeypatch.setenv("CREDITGUARD_ODOO_PASSWORD", "")
    with pytest.raises(ConfigError, match="CREDITGUARD_ODOO_PASSWORD is empty"):
        source.secret()
    monkeypatch.setenv("CREDITGUARD_ODOO_PASSWORD", SECRET)
    assert source.secret() == SECRET
    assert SECRET not in repr(config) and SECRET not in str(config)
    assert SECRET not in repr(source) and SECRET not in str(source)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (SECRET + "\n", SECRET),
        (SECRET + "\r\n", SECRET),
        (SECRET, SECRET),
        (SECRET + "\n\n", SECRET + "\n"),  # only one trailing newline is removed
        (" " + SECRET + " \n", " " + SECRET + " "),
    ],
)
def test_secret_from_file(tmp_path: Path, content: str, expected: str) -> None:
    secret_file = tmp_path / "odoo-password"
    secret_file.write_bytes(content.encode())
    text = MINIMAL.replace(
        'password_env = "CREDITGUARD_ODOO_PASSWORD"', f'password_file = "{secret_file}"'
    )
    config = load_config(write(tmp_path, text))
    assert config.source("odoo").secret() == expected
    assert SECRET not in repr(config)


def test_secret_file_errors_name_the_file_not_the_value(tmp_path: Path) -> None:
    secret_file = tmp_path / "odoo-password"
    text = MINIMAL.replace(
        'password_env = "CREDITGUARD_ODOO_PASSWORD"', 'password_file = "odoo-password"'
    ).replace('protocol = "xmlrpc"', 'protocol = "json2"')
    source = load_config(write(tmp_path, text)).source("odoo")
    with pytest.raises(ConfigError) as info:
        source.secret()
    assert str(info.value) == (
        f"source 'odoo': cannot read the API key file {secret_file}: No such file or directory"
    )
    secret_file.write_text("\n")
    with pytest.raises(ConfigError, match=f"source 'odoo': the API key file {re.escape(str(secret_file))} is empty"):
        source.secret()
    secret_file.write_bytes(SECRET.encode() + b"\xff\n")
    with pytest.raises(ConfigError) as info:
        source.secret()
    assert "is not valid UTF-8" in str(info.value)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_store_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MINIMAL.replace(
        'url = "sqlite:///var/lib/creditguard/creditguard.db"',
        'url = "postgresql+psycopg://creditguard@db.example.com:5433/cg"\npassword_env = "CG_DB_PASSWORD"',
    )
    monkeypatch.delenv("CG_DB_PASSWORD", raising=False)
    config = load_config(write(tmp_path, text))
    assert config.store.display_url() == "postgresql+psycopg://creditguard:***@db.example.com:5433/cg"
    with pytest.raises(ConfigError, match="^store: the database password environment variable CG_DB_PASSWORD is not set$"):
        config.store.url_with_password()
    monkeypatch.setenv("CG_DB_PASSWORD", SECRET + "/@:?")
    url = config.store.url_with_password()
    assert isinstance(url, URL)
    assert url.password == SECRET + "/@:?"
    assert (url.host, url.port, url.database, url.username) == ("db.example.com", 5433, "cg", "creditguard")
    assert SECRET not in str(url) and SECRET not in repr(url)
    assert SECRET not in repr(config) and SECRET not in config.store.display_url()


def test_store_without_password(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.store.secret() is None
    assert config.store.url_with_password() == URL.create(
        "sqlite", database="var/lib/creditguard/creditguard.db"
    )
    assert config.store.display_url() == "sqlite:///var/lib/creditguard/creditguard.db"


@pytest.mark.parametrize(
    "text",
    [
        MINIMAL.replace("sqlite:///var/lib/creditguard/creditguard.db", f"postgresql://u:{SECRET}@h/db"),
        MINIMAL.replace("http://127.0.0.1:8069", f"http://admin:{SECRET}@127.0.0.1:8069"),
        MINIMAL.replace("http://127.0.0.1:8069", f"http://127.0.0.1:8069?password={SECRET}"),
        MINIMAL + f'password = "{SECRET}"\n',
        MINIMAL + f"timeout = \"{SECRET}\"\n",
        MINIMAL.replace('protocol = "xmlrpc"', f'protocol = "{SECRET}"').replace("[[source]]", "[[source]]\nnope = 1"),
        MINIMAL.replace('password_env = "CREDITGUARD_ODOO_PASSWORD"', f'password_env = "{SECRET}!"'),
    ],
    ids=["store-url", "source-url-userinfo", "source-url-query", "unknown-key", "wrong-type", "enum", "env-name"],
)
def test_secrets_never_appear_in_errors(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert SECRET not in message
    # the chained validation error (kept as context) hides inputs as well
    assert SECRET not in str(info.value.__context__)


def test_store_url_password_is_refused_without_echo(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("sqlite:///var/lib/creditguard/creditguard.db", f"postgresql://u:{SECRET}@h/db"))
    error = only_error(path)
    assert error.startswith(f"{path}:2:1: store.url: the URL must not contain a password")
    assert SECRET not in error


def test_source_url_credentials_are_refused_without_echo(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("http://127.0.0.1:8069", f"http://admin:{SECRET}@127.0.0.1:8069"))
    error = only_error(path)
    assert error.startswith(f"{path}:7:1: source.0.url: the URL must not contain credentials")
    assert SECRET not in error


def test_models_can_be_built_in_code() -> None:
    config = Config.model_validate(
        {
            "store": {"url": "sqlite://"},
            "source": [
                {
                    "name": "a",
                    "kind": "odoo",
                    "url": "https://erp.example.com",
                    "database": "d",
                    "username": "u",
                    "password_env": "P",
                    "protocol": "jsonrpcs",
                }
            ],
        }
    )
    assert config.path is None and config.warnings == ()
    with pytest.raises(ValidationError) as info:
        SourceConfig.model_validate(
            {"name": "a", "kind": "odoo", "url": "https://x", "database": "d", "username": "u", "protocol": "jsonrpc"}
        )
    assert {e["loc"] for e in info.value.errors()} == {("password_env",), ("protocol",)}


SAP_SOURCE = """\
[store]
url = "sqlite:///x.db"

[[source]]
name = "sap"
kind = "sap_soap"
url = "https://sap.example.com:44300"
username = "CGUSER"
password_env = "CREDITGUARD_SAP_PASSWORD"
client = "100"
company_codes = ["1000", "3000"]
sales_organization = "1000"
"""


def test_sap_source_loads_with_its_own_keys(tmp_path):
    path = tmp_path / "sap.toml"
    path.write_text(SAP_SOURCE + 'timezone = "Europe/Berlin"\nchange_mode = "wrapper"\n'
                    'company_currencies = { "1000" = "EUR", "3000" = "JPY" }\n')
    source = load_config(path).source("sap")
    assert source.company_currencies == {"1000": "EUR", "3000": "JPY"}
    assert source.kind == "sap_soap" and source.company_codes == ("1000", "3000")
    assert source.delivery_block == "01" and source.change_mode == "wrapper" and str(source.tzinfo) == "Europe/Berlin"
    assert source.protocol is None and source.database is None


def test_sap_currency_rate_keys(tmp_path):
    path = tmp_path / "sap.toml"
    path.write_text(SAP_SOURCE)
    source = load_config(path).source("sap")
    assert (source.rate_type, source.rates_history_days) == ("M", 400)
    path.write_text(SAP_SOURCE + 'rate_type = "B"\nrates_history_days = 30\n')
    source = load_config(path).source("sap")
    assert (source.rate_type, source.rates_history_days) == ("B", 30)
    path.write_text(SAP_SOURCE + 'rate_type = "average"\nrates_history_days = 0\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "source.0.rate_type: an exchange rate type is one to four capitals or digits" in text
    assert "source.0.rates_history_days" in text


def test_sap_source_errors_name_the_keys(tmp_path):
    path = tmp_path / "sap.toml"
    path.write_text(SAP_SOURCE.replace('client = "100"\n', 'protocol = "xmlrpc"\n')
                    .replace('"3000"', '"30"'))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    assert f"{path}:4:1: source.0.client: missing required key 'client'" in lines
    assert f"{path}:10:1: source.0.protocol: 'protocol' is for kind = 'odoo' sources, not 'sap_soap'" in lines
    assert any("source.0.company_codes" in line and "four capitals or digits" in line for line in lines)


def test_sap_rate_keys_are_not_for_odoo_sources(tmp_path):
    with pytest.raises(ValidationError) as info:
        SourceConfig.model_validate({"name": "a", "kind": "odoo", "url": "https://x", "database": "d",
                                     "username": "u", "password_env": "P", "protocol": "jsonrpcs",
                                     "rate_type": "M", "rates_history_days": 10})
    messages = {e["loc"]: e["msg"] for e in info.value.errors()}
    assert set(messages) == {("rate_type",), ("rates_history_days",)}
    assert "is for kind = 'sap_soap' sources" in messages[("rate_type",)]


def test_alerts_cron_is_a_crontab_expression(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(SAP_SOURCE.replace("[[source]]", '[sync]\nalerts_cron = "0 7 * * 1-5"\n\n[[source]]'))
    assert load_config(path).sync.alerts_cron == "0 7 * * 1-5"
    path.write_text(SAP_SOURCE.replace("[[source]]", '[sync]\nalerts_cron = "every morning"\n\n[[source]]'))
    with pytest.raises(ConfigError, match=r"c.toml:5:1: sync.alerts_cron: not a crontab expression"):
        load_config(path)


def test_sap_reconcile_hours(tmp_path):
    path = tmp_path / "sap.toml"
    path.write_text(SAP_SOURCE)
    assert load_config(path).source("sap").reconcile_hours == 24
    path.write_text(SAP_SOURCE + "reconcile_hours = 1.5\n")
    assert load_config(path).source("sap").reconcile_hours == 1.5
    path.write_text(SAP_SOURCE + "reconcile_hours = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "source.0.reconcile_hours" in str(err.value) and f"{path}:" in str(err.value)


def test_sap_credit_list_service(tmp_path):
    from creditguard.sources import build_source

    path = tmp_path / "sap.toml"
    path.write_text(SAP_SOURCE)
    assert load_config(path).source("sap").credit_list_service is False
    assert build_source(load_config(path).source("sap")).credit_list is False
    path.write_text(SAP_SOURCE + "credit_list_service = true\n")
    assert load_config(path).source("sap").credit_list_service is True
    assert build_source(load_config(path).source("sap")).credit_list is True
    path.write_text(SAP_SOURCE + 'credit_list_service = "yes"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:13:1: source.0.credit_list_service" in str(err.value)
    with pytest.raises(ValidationError) as info:
        SourceConfig.model_validate({"name": "a", "kind": "odoo", "url": "https://x", "database": "d",
                                     "username": "u", "password_env": "P", "protocol": "jsonrpcs",
                                     "credit_list_service": True})
    [error] = info.value.errors()
    assert error["loc"] == ("credit_list_service",) and "is for kind = 'sap_soap' sources" in error["msg"]
