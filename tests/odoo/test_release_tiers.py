"""Releases in Odoo with the approval tier and the reason the credit_guard addon records: synced, kept with the
hold, shown by `creditguard holds` and the API; a release below the hold's tier is not honoured (the hold is
placed again, saying why); an addon from before the tiered release still syncs."""

from __future__ import annotations

import json
import xmlrpc.client
from types import SimpleNamespace

import pytest
from werkzeug.test import Client

from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.versions import ADDON_ORDER_FIELDS
from connector.ports import Rejected, Stream
from connector.sync import SyncEngine
from creditguard.http_api import Api
from policy.loader import load_policy

from ..support.cli import odoo_cli
from .conftest import make_source
from .test_enforce import Loop, target

POLICY = """\
version = 1
name = "release tiers"
base_currency = "USD"

[limits.grades]
6 = 1

[customers."{ref}"]
grade = 6

[rules.over_limit]
tolerance_percent = 0
[rules.overdue]
enabled = false
[rules.no_limit]
enabled = false

[[approval_tiers]]
role = "sales_manager"
up_to = 1
[[approval_tiers]]
role = "credit_manager"
up_to = 2
[[approval_tiers]]
role = "cfo"
"""

CONFIG = """\
[store]
url = "{store}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CREDITGUARD_ODOO_PASSWORD"
protocol = "jsonrpc"
"""

TOO_LOW = "Released in the ERP by Mitchell Admin at tier {tier}; this hold needs cfo."


@pytest.fixture
def addon_sandbox(clock):
    with OdooSandbox(version="17", data="demo", clock=clock, addons=("credit_guard",)) as sb:
        yield sb


@pytest.fixture
def older_addon_sandbox(clock):
    with OdooSandbox(version="17", data="demo", clock=clock, addons=("credit_guard",),
                     credit_guard_tiers=False) as sb:
        yield sb


class JsonLoop(Loop):
    """The daemon's cycle, syncing over JSON-RPC: XML cannot carry every character a person may type."""

    def sync(self):
        source = make_source(self.sb, "jsonrpc", retry_attempts=1)
        try:
            SyncEngine(self.store).sync_source(source)
        finally:
            source.close()


def held(sb, store, tmp_path, clock):
    """Sync, hold the target order (its release tier: cfo), write the hold into Odoo; the loop, order, id."""
    loop = JsonLoop(sb, store, tmp_path, clock)
    loop.sync()
    order, head = target(store)
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(ref=head.ref))
    loop.policy = load_policy(path)
    report, drained = loop.enforce()
    assert [c.action for c in report.changes if c.order == order.number] == ["place_hold"]
    assert drained.dead == 0
    hold = store.hold("odoo", order.erp_id)
    assert (hold.state, hold.revision, hold.release_tier) == ("held", 1, "cfo")
    return loop, order, int(order.erp_id)


def release(sb, clock, oid, reason):
    """A Credit Controller releases the hold in Odoo, a minute later (the sandbox records the hold's tier)."""
    clock.tick(60)
    assert sb.call("sale.order", "action_release_credit_hold", [oid], reason=reason) is True


def actions(report, order):
    return [(c.action, c.detail) for c in report.changes if c.order == order.number]


def cli(config, *args):
    return odoo_cli(config, *args, columns=1000)


def test_release_with_tier_and_reason_is_honoured_and_shown(addon_sandbox, store, store_url, tmp_path, clock):
    sb = addon_sandbox
    loop, order, oid = held(sb, store, tmp_path, clock)
    reason = "[bold]Guaranteed[/bold] by the parent company :100:\x1b[2J " + "z" * 600
    release(sb, clock, oid, reason)
    loop.sync()
    synced = next(o for o in store.iter_orders("odoo") if o.erp_id == order.erp_id)
    kept = "[bold]Guaranteed[/bold] by the parent company :100: [2J " + "z" * 443 + "…"
    assert (synced.erp_released_by, synced.erp_released_tier, synced.erp_release_reason) == (
        "Mitchell Admin", "cfo", kept)
    report, _ = loop.enforce()
    assert actions(report, order) == [("honour_release", f"released in the ERP by Mitchell Admin at tier cfo: {kept}")]
    hold = store.hold("odoo", order.erp_id)
    assert (hold.state, hold.revision, hold.released_by, hold.released_tier, hold.release_reason) == (
        "released", 1, "erp:Mitchell Admin", "cfo", kept)
    [decision] = store.decisions(order=order.number, limit=1)
    assert decision["record"]["erp_release"] == {
        "by": "Mitchell Admin", "at": "2026-11-28T09:01:00+00:00", "tier": "cfo", "reason": kept, "hold_tier": "cfo",
        "hold_revision": 1, "honoured": True}
    loop.sync()
    report, _ = loop.enforce()
    assert actions(report, order) == []  # honoured once

    # the command line and the API show who released it, at which tier and why
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(store=store_url, url=sb.url))
    result = cli(config, "holds", "--order", order.number, "--json")
    assert result.returncode == 0, result.stderr
    [shown] = json.loads(result.stdout)["holds"]
    assert {k: shown[k] for k in ("order_number", "state", "release_tier", "released_by", "released_tier",
                                  "release_reason")} == {
        "order_number": order.number, "state": "released", "release_tier": "cfo", "released_by": "erp:Mitchell Admin",
        "released_tier": "cfo", "release_reason": kept}
    table = cli(config, "holds", "--state", "released")
    assert table.returncode == 0, table.stderr
    assert "Mitchell Admin (in the ERP)" in table.stdout and order.number in table.stdout
    assert "[bold]Guaranteed[/bold] by the parent company :100:" in table.stdout  # text, not markup or emoji
    assert "\x1b" not in table.stdout
    api = Client(Api(SimpleNamespace(store=store, config=SimpleNamespace(http=None), policy=None, breakers={}),
                     lambda: "token"))
    auth = {"Authorization": "Bearer token"}
    assert api.get("/v1/holds").status_code == 401
    answer = api.get("/v1/holds", query_string={"order": order.number}, headers=auth)
    assert answer.status_code == 200 and answer.get_json() == {"holds": [shown]}
    assert api.get("/v1/holds", query_string={"state": "open"}, headers=auth).status_code == 400


@pytest.mark.parametrize("tier, honoured", [("credit_manager", False), ("sales_manager", False), ("cfo", True),
                                            (False, True), ("board", True)])
def test_release_below_the_holds_tier_is_not_honoured(addon_sandbox, store, tmp_path, clock, tier, honoured):
    """The release fields written directly (sudo, or an addon that does not check tiers): a tier below the hold's
    places the hold again; the hold's tier or above, no tier (a controller without one), or a tier the policy does
    not know keep today's behaviour (honoured)."""
    sb = addon_sandbox
    loop, order, oid = held(sb, store, tmp_path, clock)
    clock.tick(60)
    sb.call("sale.order", "write", [oid], {
        "credit_hold": False, "credit_released_by": 2, "credit_released_at": "2026-11-28 09:01:00",
        "credit_released_tier": tier, "credit_release_reason": "Customer promised to pay on Monday"})
    loop.sync()
    report, drained = loop.enforce()
    hold = store.hold("odoo", order.erp_id)
    if honoured:
        assert [a for a, _ in actions(report, order)] == ["honour_release"]
        assert (hold.state, hold.released_tier) == ("released", tier or None)
        return
    message = TOO_LOW.format(tier=tier)
    assert actions(report, order) == [("refuse_release", message)]
    assert drained.dead == 0
    # a new revision, written like any other: the order is on hold again in Odoo, saying why
    assert (hold.state, hold.revision, hold.release_tier, hold.released_by) == ("held", 2, "cfo", None)
    assert [r["code"] for r in hold.reasons] == ["release_tier_too_low", "over_limit"]
    assert hold.reasons[0]["message"] == message
    [row] = sb.search_read("sale.order", [("id", "=", oid)], ["credit_hold", "credit_hold_reasons",
                                                             "credit_release_tier", "credit_hold_key"])
    assert row["credit_hold"] is True and row["credit_release_tier"] == "cfo"
    assert row["credit_hold_key"] == f"odoo:hold:{oid}:r2" and row["credit_hold_reasons"].startswith(message + "\n")
    [entry] = [e for e in store.outbox_entries(source="odoo", kind="place_hold") if e.target_id == order.erp_id
               and e.payload["revision"] == 2]
    assert entry.state == "applied" and entry.payload["codes"] == ["release_tier_too_low", "over_limit"]
    [decision] = store.decisions(order=order.number, limit=1)
    assert decision["record"]["erp_release"]["honoured"] is False
    assert decision["record"]["erp_release"]["tier"] == tier
    odoo = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object", allow_none=True)
    with pytest.raises(xmlrpc.client.Fault, match="on credit hold"):
        odoo.execute_kw("demo", 2, "admin", "sale.order", "action_confirm", [[oid]])
    # the next cycles change nothing (the old release is older than the new hold)
    for _ in range(2):
        loop.sync()
        report, drained = loop.enforce()
        assert actions(report, order) == [] and drained.applied == 0
    # released at the hold's tier: honoured
    release(sb, clock, oid, "Approved by the CFO")
    loop.sync()
    report, _ = loop.enforce()
    assert [a for a, _ in actions(report, order)] == ["honour_release"]
    hold = store.hold("odoo", order.erp_id)
    assert (hold.state, hold.revision, hold.released_tier, hold.release_reason) == ("released", 2, "cfo",
                                                                                      "Approved by the CFO")


def test_a_release_below_the_tier_of_a_hold_the_policy_no_longer_needs_is_honoured(addon_sandbox, store, tmp_path,
                                                                                      clock):
    sb = addon_sandbox
    loop, order, oid = held(sb, store, tmp_path, clock)
    sb.call("sale.order", "write", [oid], {
        "credit_hold": False, "credit_released_by": 2, "credit_released_at": "2026-11-28 09:01:00",
        "credit_released_tier": "sales_manager", "credit_release_reason": "Limit raised"})
    path = tmp_path / "policy.toml"
    path.write_text(path.read_text().replace("6 = 1", "6 = 1000000000"))
    loop.policy = load_policy(path)
    loop.sync()
    report, _ = loop.enforce()
    assert [a for a, _ in actions(report, order)] == ["honour_release"]


def test_an_addon_without_the_release_tier_fields_still_syncs(older_addon_sandbox, store, tmp_path, clock):
    sb = older_addon_sandbox
    fields = sb.call("sale.order", "fields_get", [], attributes=["type"])
    assert "credit_released_by" in fields and "credit_released_tier" not in fields
    assert "credit_release_reason" not in fields
    source = make_source(sb)
    try:
        source.open()
        assert source.addon and source.addon_order_fields == ADDON_ORDER_FIELDS[:3]
    finally:
        source.close()
    loop, order, oid = held(sb, store, tmp_path, clock)
    assert store.quarantine("odoo") == []
    release(sb, clock, oid, "Paid by wire")
    loop.sync()
    synced = next(o for o in store.iter_orders("odoo") if o.erp_id == order.erp_id)
    assert synced.erp_released_by == "Mitchell Admin" and synced.erp_released_at is not None
    assert (synced.erp_released_tier, synced.erp_release_reason) == (None, None)
    report, _ = loop.enforce()
    assert [a for a, _ in actions(report, order)] == ["honour_release"]
    hold = store.hold("odoo", order.erp_id)
    assert (hold.state, hold.released_by, hold.released_tier, hold.release_reason) == (
        "released", "erp:Mitchell Admin", None, None)


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_the_addon_fields_are_asked_for_on_every_protocol(clock, protocol):
    for tiers, expected in ((True, ADDON_ORDER_FIELDS), (False, ADDON_ORDER_FIELDS[:3])):
        with OdooSandbox(version="19", data="demo", clock=clock, addons=("credit_guard",),
                         credit_guard_tiers=tiers) as sb:
            source = make_source(sb, protocol, password=sb.api_key if protocol == "json2" else "admin")
            try:
                source.open()
                assert source.addon_order_fields == expected
                pages = list(source.read_all(Stream.ORDERS, 0, 500))  # the orders, read with those fields
                assert pages and not any(isinstance(e.item, Rejected) for p in pages for e in p.entries)
            finally:
                source.close()
