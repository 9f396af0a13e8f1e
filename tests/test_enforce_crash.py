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
