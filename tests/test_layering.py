"""The core never imports an ERP client library: adapters translate at the edge."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"odoolib", "zeep", "xmlrpc", "httpx", "requests", "adapters"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_and_policy_import_no_erp_client():
    offenders = {}
    for package in ("connector", "policy"):
        for path in (ROOT / package).rglob("*.py"):
            bad = imported_modules(path) & FORBIDDEN
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}
