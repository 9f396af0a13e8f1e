"""``creditguard enforce`` killed (SIGKILL) after store commits, after ERP write calls and between an entry's
writes and its "applied" mark, on SQLite and PostgreSQL: every effect is in the ERP exactly once.

The campaign (``tests/support/crash_campaign.py``) kills at fixed points that cover the first hold, release and
revision of each round, plus a few random ones; ``bench/crash.py`` runs it at every point."""

from __future__ import annotations

from adapters.odoo.sandbox import OdooSandbox

from .support.crash_campaign import run_campaign


def test_enforce_killed_at_many_points_leaves_each_effect_exactly_once(store_url, tmp_path):
    with OdooSandbox(version="17", data="demo") as sb:
        effects = run_campaign(sb, store_url, tmp_path, random_kills=3, seed=12)
    assert effects.kills >= 12, effects
    assert {"place_hold", "release_hold", "create_alert", "close_alert", "set_risk_flag"} <= set(effects.counted)
    assert effects.lost == [] and effects.duplicated == [], effects


def test_with_the_addon_holds_and_flags_are_the_orders_and_partners_fields_exactly_once(tmp_path):
    """The same campaign with the credit_guard addon: a hold is the order's fields (its key included), a flag
    the partner's; the notes, alerts and their closing as in advisory mode (SQLite store)."""
    with OdooSandbox(version="17", data="demo", addons=("credit_guard",)) as sb:
        effects = run_campaign(sb, f"sqlite:///{tmp_path}/cg.db", tmp_path, random_kills=2, seed=7)
    assert effects.kills >= 12, effects
    assert effects.lost == [] and effects.duplicated == [], effects
