"""Bad configuration and policy files, console markup in data, and exit codes (issue 12, "Hardening").

Every unusable file ends in one positioned line ``FILE:LINE:COLUMN: message`` and exit code 2, never a
traceback; text from files and ERPs is printed verbatim (no rich markup, no emoji codes); ``enforce``
exits 1 with the true reason when the ERP is down or refuses the login.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xmlrpc.client
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.odoo.sandbox import OdooSandbox
from connector.config import load_config
from connector.errors import ConfigError
from creditguard.cli import main
from policy.loader import PolicyError, load_policy

from .support.cli import run_cli
from .support.net import free_port

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policy" / "examples" / "default.toml"

# name: (content, where the error is "LINE:COLUMN", what the message says)
BAD_FILES = {
    "deep arrays": (b"# nested\nx = " + b"[" * 10_000 + b"\n", "2:105", "nested more than 100 deep"),
    "deep inline tables": (b"x = " + b"{a = " * 10_000 + b"\n", "1:505", "nested more than 100 deep"),
    "deep arrays of tables": (b"x = [" + b"{a = [" * 5_000 + b"\n", "1:" + str(5 + 6 * 49 + 6), "nested more than"),
    "huge integer": (b"version = 1\n\nx = " + b"9" * 5_000 + b"\n", "3:5", "integer of more than 4300 digits"),
    "huge negative integer in an array": (b"x = [\n  1,\n  -" + b"1_2" * 3_000 + b",\n]\n", "3:3",
                                          "integer of more than 4300 digits"),
    "huge hexadecimal integer": (b"version = 1\nx = 0x" + b"f" * 5_000 + b"\n", "2:1", "integer out of range"),
    "integer beyond 64 bits": (b"[a]\nb = [1, 9223372036854775808]\n", "2:9", "integer out of range"),
    "NUL byte": (b'version = 1\nname = "ab\x00c"\n', "2:11", "Illegal character"),
    "binary content": (bytes(range(256)), "2:118", "not valid UTF-8"),
    "Latin-1 text": ('version = 1\nname = "Müller"\n'.encode("latin-1"), "2:10", "not valid UTF-8"),
    "UTF-16 text": ("version = 1\n".encode("utf-16"), "1:1", "not valid UTF-8"),
}
CASES = pytest.mark.parametrize("content, where, message", BAD_FILES.values(), ids=BAD_FILES.keys())

GOOD_CONFIG = """\
[store]
url = "sqlite:///{db}"

[policy]
path = "{policy}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "xmlrpc"
retry_attempts = 1
enabled = {enabled}
"""


def write_config(tmp_path: Path, policy: Path = DEFAULT_POLICY, url: str = "http://127.0.0.1:9",
                 enabled: bool = False) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(GOOD_CONFIG.format(db=tmp_path / "cg.db", policy=policy, url=url, enabled=str(enabled).lower()))
    return path


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args), env={"CREDITGUARD_ODOO_PASSWORD": "admin", "COLUMNS": "80"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output + result.stderr
    return result


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------------------
# Bad files


@CASES
def test_bad_configuration_file(tmp_path, content, where, message):
    config = tmp_path / "config.toml"
    config.write_bytes(content)
    for command in (["doctor"], ["sync", "--once"], ["customers"]):
        result = invoke("--config", str(config), *command)
        assert result.exit_code == 2, (command, result.output, result.stderr)
        if command == ["doctor"]:
            assert f"{config}:{where}: " in result.output and message in result.output
            [line] = [line for line in result.output.splitlines() if f"{config}:" in line]
            assert line.strip().startswith(f"✗ {config}:{where}: ")
        else:
            line = one_error_line(result.stderr)
            assert line.startswith(f"creditguard: error: {config}:{where}: ") and message in line


@CASES
def test_bad_policy_file(tmp_path, content, where, message):
    policy = tmp_path / "policy.toml"
    policy.write_bytes(content)
    result = invoke("policy", "validate", str(policy))
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert line.startswith(f"{policy}:{where}: ") and message in line

    config = write_config(tmp_path, policy)
    result = invoke("--config", str(config), "doctor")
    assert result.exit_code == 2, result.output
    assert f"✗ {policy}:{where}: " in result.output and message in result.output

    result = invoke("--config", str(config), "exposure")  # any command that needs the active policy
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(f"creditguard: error: {policy}:{where}: ")


def test_bad_files_fail_as_a_real_process(tmp_path):
    """The whole way through: a fresh interpreter's stack, stderr, and the exit code."""
    config = tmp_path / "config.toml"
    config.write_bytes(BAD_FILES["deep arrays"][0])
    for args in (["--config", str(config), "sync", "--once"], ["policy", "validate", str(config)]):
        result = subprocess.run([sys.executable, "-m", "creditguard", *args], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"{config}:2:105: invalid TOML: arrays and inline tables nested more than 100 deep" in result.stderr


def test_amounts_and_days_out_of_range_are_policy_errors(tmp_path):
    policy = tmp_path / "policy.toml"
    text = DEFAULT_POLICY.read_text()
    policy.write_text(text.replace("discretionary = 5000", "discretionary = 1e999999999", 1)
                      .replace("warn_days = 10", "warn_days = 9223372036854775807", 1))
    result = invoke("policy", "validate", str(policy))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("limits.discretionary: must be less than 1,000,000,000,000,000" in line for line in lines)
    assert any(".warn_days: " in line for line in lines)


def test_limits_leave_ordinary_files_alone(tmp_path):
    """Strings, comments and keys that look deep or long are not values."""
    config = write_config(tmp_path)
    with config.open("a") as out:
        out.write('# ' + "[" * 200 + "\n")
        out.write('name_pattern = "' + "[" * 200 + '"\n')
        out.write("notes = '''\n" + "{" * 200 + "\n'''\n")
    result = invoke("--config", str(config), "doctor")
    assert "nested" not in result.output and "source.0.name_pattern: unknown key" in result.output


# ---------------------------------------------------------------------------
# Random text and bytes: only the product's own errors


TOML_PIECES = st.sampled_from([
    "[", "]", "{", "}", "[[", "]]", "=", ",", ".", "\n", " ", "#", '"', "'", '"""', "'''", "\\", "\x00", "\r",
    "version", "name", "store", "url", "source", "limits", "grades", "1", "-", "+", "0x", "0o", "0b", "e", "_",
    "9" * 30, "9" * 4400, "inf", "nan", "true", "2026-01-15", "07:32:00", "T", "Z", "\ud7ff", "é", "[" * 150,
    "{a=" * 150, '"x"', "'y'", "= 1\n", "[store]\n", "[[source]]\n", "version = 1\n", 'url = "sqlite://"\n',
])
TOMLISH = st.lists(TOML_PIECES, max_size=40).map("".join)


def _load_both(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw)
    try:
        load_config(path)
    except ConfigError:
        pass
    try:
        load_policy(path)
    except PolicyError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TOMLISH)
def test_random_toml_like_text_gives_only_configuration_errors(tmp_path, text):
    _load_both(tmp_path, text.encode("utf-8", errors="surrogatepass"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=400), prefix=st.sampled_from([b"", b"version = 1\n", b"[store]\nurl = "]))
def test_random_bytes_give_only_configuration_errors(tmp_path, raw, prefix):
    _load_both(tmp_path, prefix + raw)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.integers(1, 300), column=st.integers(1, 30))
def test_the_position_of_an_invalid_byte(tmp_path, line, column):
    raw = b"\n" * (line - 1) + b"x" * (column - 1) + b"\xff\n"
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw)
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(error.value) == f"{path}:{line}:{column}: not valid UTF-8"


# ---------------------------------------------------------------------------
# Console markup: text from files and ERPs is data


def test_a_position_on_line_100_is_not_an_emoji(tmp_path):
    config = tmp_path / "line100.toml"
    config.write_text(write_config(tmp_path).read_text() + "#\n" * (100 - 17) + '"[bold]x[/]" = 1\n')
    assert config.read_text().splitlines()[99].startswith('"[bold]x[/]"')
    result = subprocess.run([sys.executable, "-m", "creditguard", "--config", str(config), "doctor"],
                            capture_output=True, text=True, timeout=60, env=dict(os.environ, COLUMNS="80"))
    assert result.returncode == 2
    assert f"{config}:100:1: source.0.[bold]x[/]: unknown key '[bold]x[/]'" in result.stdout
    assert "💯" not in result.stdout


@pytest.fixture(scope="module")
def sandbox():
    with OdooSandbox(version="17", data="demo") as sb:
        yield sb


def rpc(sandbox, model: str, method: str, *args, **kwargs):
    common = xmlrpc.client.ServerProxy(f"{sandbox.url}/xmlrpc/2/common")
    uid = common.authenticate("demo", "admin", "admin", {})
    return xmlrpc.client.ServerProxy(f"{sandbox.url}/xmlrpc/2/object").execute_kw("demo", uid, "admin", model,
                                                                                  method, list(args), kwargs)


def run(config: Path, *args: str, password: str = "admin") -> subprocess.CompletedProcess:
    return run_cli(config, *args, env={"CREDITGUARD_ODOO_PASSWORD": password}, columns=250)


def test_names_from_the_erp_are_printed_verbatim(sandbox, tmp_path):
    [partner] = rpc(sandbox, "res.partner", "search", [["customer_rank", ">", 0]], limit=1)
    [order] = rpc(sandbox, "sale.order", "search", [], limit=1)
    rpc(sandbox, "res.partner", "write", [partner], {"name": "[bold]Bold[/] :100: Ltd"})
    rpc(sandbox, "sale.order", "write", [order], {"name": "[red]S1[/]:100:"})
    config = write_config(tmp_path, url=sandbox.url, enabled=True)
    assert run(config, "sync", "--once").returncode == 0
    customers = run(config, "customers")
    assert customers.returncode == 0 and "[bold]Bold[/] :100: Ltd" in customers.stdout
    orders = run(config, "orders")
    assert orders.returncode == 0 and "[red]S1[/]:100:" in orders.stdout
    assert "💯" not in customers.stdout + orders.stdout


# ---------------------------------------------------------------------------
# enforce: an ERP that cannot be reached, or refuses the login, is exit code 1 with the true reason


def test_enforce_exits_1_when_the_login_is_refused(sandbox, tmp_path):
    config = write_config(tmp_path, url=sandbox.url, enabled=True)
    assert run(config, "sync", "--once").returncode == 0
    result = run(config, "enforce", password="s3cret-pw")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("creditguard: error: odoo: login refused for user 'admin'"), last
    assert "not reachable" not in result.stdout + result.stderr and "s3cret-pw" not in result.stdout + result.stderr
    assert run(config, "enforce").returncode == 0  # the writes waited in the outbox; now they pass
    sync = run(config, "sync", "--once", password="s3cret-pw")
    assert sync.returncode == 1 and "login refused" in sync.stderr.strip().splitlines()[-1]


def test_help_states_the_exit_codes():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Exit codes: 0 success; 1 an ERP or store error" in " ".join(result.output.split())
    assert "2 bad input: a configuration or policy file" in " ".join(result.output.split())


def test_enforce_exits_1_when_the_erp_is_down(sandbox, tmp_path):
    config = write_config(tmp_path, url=sandbox.url, enabled=True)
    assert run(config, "sync", "--once").returncode == 0
    down = f"http://127.0.0.1:{free_port()}"
    config.write_text(config.read_text().replace(sandbox.url, down))
    for args in (["enforce"], ["enforce", "--json"]):
        result = run(config, *args)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"creditguard: error: odoo: cannot connect to {down}"), last
    sync = run(config, "sync", "--once")
    assert sync.returncode == 1 and f"cannot connect to {down}" in sync.stderr.strip().splitlines()[-1]


def test_enforce_with_nothing_to_write_still_says_the_login_is_refused(sandbox, tmp_path):
    config = write_config(tmp_path, url=sandbox.url, enabled=True)
    assert run(config, "sync", "--once").returncode == 0
    assert run(config, "enforce").returncode == 0
    assert run(config, "enforce").returncode == 0  # nothing waits in the outbox any more
    result = run(config, "enforce", password="s3cret-pw")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "login refused for user 'admin'" in result.stderr.strip().splitlines()[-1]
