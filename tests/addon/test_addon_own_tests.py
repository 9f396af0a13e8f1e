"""The addons' own test modules (``adapters/odoo/addon/*/tests/test_*.py``), the tests a real Odoo runs
with ``odoo-bin -i credit_guard --test-enable --test-tags /credit_guard``, run here on the stand-in
(``odoo.tests`` and the test database: tests/addon/database.py): record rules and ACLs of the real
Odoo version apply, each test in a transaction rolled back after it.  One pytest test per test method.
"""

from __future__ import annotations

import ast
import importlib
import unittest

import pytest

from . import database, harness

TEST_BASES = {"TransactionCase"}


def own_tests():
    """``(addon, module, class, method)`` of every test method of the addons' test modules."""
    found = []
    for addon in sorted(database.ADDON_SETS):
        tests_dir = harness.ADDONS_DIR / addon / "tests"
        for path in sorted(tests_dir.glob("test_*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in tree.body:
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", None) for b in node.bases}
                if not bases & TEST_BASES:
                    continue
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                        found.append((addon, path.stem, node.name, item.name))
    return found


CASES = own_tests()


@pytest.fixture(scope="session")
def odoo_tests(standin):
    """The stand-in with both stock bridges loaded and its test databases installed."""
    for name in ("credit_guard_stock", "credit_guard_stock_19"):
        harness.load_addon(name)
    database.install()
    return standin


def test_every_addon_has_its_own_tests():
    addons = {case[0] for case in CASES}
    assert addons == set(database.ADDON_SETS), f"addons without tests/test_*.py: {set(database.ADDON_SETS) - addons}"


@pytest.mark.parametrize("addon,module,class_name,method", CASES, ids=["/".join(case) for case in CASES])
def test_addon_own_test(odoo_tests, addon, module, class_name, method):
    test_module = importlib.import_module(f"odoo.addons.{addon}.tests.{module}")
    case = getattr(test_module, class_name)(method)
    assert {"post_install"} <= getattr(case, "test_tags", set()), "tagged post_install, as the addon's tests run"
    result = unittest.TestResult()
    unittest.TestSuite([case]).run(result)
    problems = [text for _test, text in result.errors + result.failures]
    assert not problems, "\n".join(problems)
    assert result.testsRun == 1 and not result.skipped and not result.unexpectedSuccesses
