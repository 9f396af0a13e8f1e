"""Translation-readiness: user-facing strings go through _(), and i18n/credit_guard.pot lists them all."""

from __future__ import annotations

import ast

import pytest
from babel.messages.pofile import read_po

from . import pot
from .harness import ADDONS_DIR

ADDONS = ["credit_guard", "credit_guard_19"]


@pytest.mark.parametrize("name", ADDONS)
def test_pot_is_up_to_date(name):
    addon_dir = ADDONS_DIR / name
    assert pot.pot_path(addon_dir).read_text() == pot.render(addon_dir), \
        "regenerate with: .venv/bin/python -m tests.addon.pot"


@pytest.mark.parametrize("name", ADDONS)
def test_pot_parses_and_holds_the_strings_users_see(name):
    addon_dir = ADDONS_DIR / name
    with pot.pot_path(addon_dir).open("rb") as f:
        catalog = read_po(f)
    msgids = {m.id for m in catalog if m.id}
    assert msgids == set(pot.terms(addon_dir))
    for expected in (
        "Sales order %(order)s is on credit hold: %(reasons)s. A user in the group Credit Controller "
        "(release tier: %(tier)s) must release it first.",
        "Only a user in the group Credit Controller can release a credit hold.",
        "Credit hold released by %(user)s as %(tier)s: %(reason)s (reasons of the hold: %(reasons)s).",
        "Release credit hold",
        "This order is on credit hold",
        "Credit Controller",
        "Credit Hold",
        "Credit hold",
        "Stop",
        "Credit holds",
        "Release credit holds",
        "Held more than 7 days",
        "No sales order is on credit hold",
    ):
        assert expected in msgids, expected
    # the queue's action and menus, with Odoo's references
    references = {line[3:] for line in pot.pot_path(addon_dir).read_text().splitlines() if line.startswith("#: ")}
    assert {
        "model:ir.actions.act_window,name:credit_guard.action_credit_holds",
        "model_terms:ir.actions.act_window,help:credit_guard.action_credit_holds",
        "model:ir.ui.menu,name:credit_guard.menu_sale_credit",
        "model:ir.ui.menu,name:credit_guard.menu_credit_holds",
        "model_terms:ir.ui.view,arch_db:credit_guard.view_credit_hold_tree",
        "model_terms:ir.ui.view,arch_db:credit_guard.view_credit_hold_search",
    } <= references
    code = [m for m in catalog if m.id and any(loc.startswith("code:") for loc, _ in m.locations)]
    assert code and all("python-format" in m.flags for m in code if "%(" in m.id)


def _calls(addon_dir, names):
    for path in (addon_dir / "models").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called in names:
                    yield path.name, node


@pytest.mark.parametrize("name", ADDONS)
def test_user_facing_strings_are_translated(name):
    addon_dir = ADDONS_DIR / name
    raised = list(_calls(addon_dir, {"UserError", "AccessError"}))
    assert len(raised) >= 4
    for file, call in raised:
        message = call.args[0] if call.args else None
        translated = isinstance(message, ast.Call) and (
            pot.is_translation_call(message)
            # the helper that builds the hold message from translated sentences
            or (isinstance(message.func, ast.Attribute) and message.func.attr == "_credit_hold_error"))
        assert translated, f"{file}:{call.lineno}: the message must go through _()"
    (post,) = list(_calls(addon_dir, {"message_post"}))
    body = next(kw.value for kw in post[1].keywords if kw.arg == "body")
    assert isinstance(body, ast.Call) and pot.is_translation_call(body)
    # 17 uses odoo._, 19 self.env._
    styles = {("self.env._" if isinstance(c.func, ast.Attribute) else "_")
              for _f, c in _calls(addon_dir, {"_"})}
    assert styles == ({"_"} if name == "credit_guard" else {"self.env._"})
