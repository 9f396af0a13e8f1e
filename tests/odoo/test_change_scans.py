"""Sync against change times as a real Odoo keeps them, over real sockets: thousands of records sharing
one write_date (one transaction), seconds read back whole, transactions that commit late.

The engine and the sandbox share one clock, so that "how long ago" means the same on both sides.
"""

from __future__ import annotations

import xmlrpc.client

import pytest

from connector.ports import Stream
from connector.sync import SyncEngine

from .conftest import make_source

GROUP = 5000


def rpc(sb):
    return xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object", allow_none=True)


def call(sb, model, method, *args, **kwargs):
    return rpc(sb).execute_kw("demo", 2, "admin", model, method, list(args), kwargs)


def sync(store, source, clock, *, batch_size=1000, full=False, streams=None):
    engine = SyncEngine(store, batch_size=batch_size, overlap_seconds=5, late_commit_seconds=900, clock=clock)
    if streams:
        source.open()
        return {s.value: engine.sync_stream(source, s, full=full) for s in streams}
    report = engine.sync_source(source, full=full)
    assert not report.errors, report.errors
    return {s.stream: s for s in report.streams}


def partner_ids(store):
    return {c.erp_id for c in store.iter_customers("odoo")}


@pytest.fixture
def imported(sandbox, clock):
    """5,000 customers imported in one create: one transaction, one write_date for all."""
    clock.tick(30)
    ids = call(sandbox, "res.partner", "create", [{"name": f"Imported {n}", "is_company": True, "customer_rank": 1}
                                                  for n in range(GROUP)])
    assert len({r["write_date"] for r in call(sandbox, "res.partner", "read", ids, ["write_date"])}) == 1
    clock.tick(60)
    return ids


def test_a_group_larger_than_a_page_is_read_once(sandbox, store, clock, imported):
    source = make_source(sandbox, "jsonrpc")
    total = call(sandbox, "res.partner", "search_count", [], context={"active_test": False})
    stats = sync(store, source, clock, streams=[Stream.CUSTOMERS])["customers"]
    assert stats.read == stats.written == total and stats.reread == 0
    assert stats.calls == total // 1000 + 2  # the newest change time, then one call per page
    assert {str(i) for i in imported} <= partner_ids(store)

    again = sync(store, source, clock, streams=[Stream.CUSTOMERS])["customers"]
    assert (again.read, again.reread, again.written) == (0, 0, 0)
    assert again.scanned == GROUP  # the group shares the newest change time: listed, not fetched
    assert again.calls <= 2


def test_a_mass_action_after_the_cursor_is_read_once_across_pages(sandbox, store, clock, imported):
    source = make_source(sandbox, "xmlrpc")
    sync(store, source, clock, streams=[Stream.CUSTOMERS])
    clock.tick(120)
    call(sandbox, "res.partner", "write", imported, {"ref": "MASS"})  # one transaction, 5,000 records
    clock.tick(60)
    stats = sync(store, source, clock, streams=[Stream.CUSTOMERS])["customers"]
    assert stats.read == stats.written == GROUP and stats.reread == 0
    assert {c.ref for c in store.iter_customers("odoo") if c.erp_id in {str(i) for i in imported}} == {"MASS"}
    assert sync(store, source, clock, streams=[Stream.CUSTOMERS])["customers"].read == 0


def test_every_stream_second_sync_reads_nothing_in_two_calls(sandbox, store, clock, imported):
    source = make_source(sandbox, "jsonrpc")
    sync(store, source, clock)
    clock.tick(60)
    for stream, stats in sync(store, source, clock).items():
        assert (stats.read, stats.reread, stats.written) == (0, 0, 0), stream
        assert stats.calls <= 2, (stream, stats.calls)


def test_a_record_rewritten_in_the_same_second_after_the_read_is_not_missed(sandbox, store, clock):
    """A version read within the overlap of its second's start may be followed by another transaction of
    that second (read back identically): it is fetched once more."""
    source = make_source(sandbox)
    clock.tick(60)
    invoice = call(sandbox, "account.move", "search", [("move_type", "=", "out_invoice"),
                                                       ("state", "=", "posted")], limit=1)[0]
    call(sandbox, "account.move", "write", [invoice], {"invoice_date_due": "2027-03-01"})
    sync(store, source, clock)  # the same instant: the second is not over
    call(sandbox, "account.move", "write", [invoice], {"invoice_date_due": "2027-04-01"})  # same second
    stats = sync(store, source, clock)["invoices"]
    assert stats.read == 1
    assert store.get_invoice("odoo", str(invoice)).due_date.isoformat() == "2027-04-01"
    clock.tick(10)
    settled = sync(store, source, clock)["invoices"]
    assert settled.read == 0 and settled.reread == 1  # read once more, now that its second is over
    clock.tick(10)
    assert sync(store, source, clock)["invoices"].reread == 0  # and then never again


def test_a_late_commit_inside_the_overlap_window(sandbox, store, clock):
    source = make_source(sandbox)
    ids = call(sandbox, "account.move", "search", [("move_type", "=", "out_invoice"), ("state", "=", "posted")],
               limit=2000, order="id")
    clock.tick(60)
    with sandbox.late_transaction() as tx:  # a mass action: starts now, commits after the next sync
        tx.call("account.move", "write", ids[:300], {"invoice_date_due": "2027-05-31"})
        clock.tick(3)
        call(sandbox, "account.move", "write", [ids[-1]], {"invoice_date_due": "2027-06-30"})
        clock.tick(7)
        sync(store, source, clock)  # reads the newest change, 3 s after the open transaction's start
    clock.tick(30)
    stats = sync(store, source, clock)["invoices"]
    assert stats.read == stats.written == 300 and stats.reread == 0
    due = {i.erp_id: str(i.due_date) for i in store.iter_invoices("odoo")}
    assert {due[str(i)] for i in ids[:300]} == {"2027-05-31"}


def test_a_late_commit_outside_the_overlap_window_is_read_once_it_settles(sandbox, store, clock):
    source = make_source(sandbox)
    ids = call(sandbox, "account.move", "search", [("move_type", "=", "out_invoice"), ("state", "=", "posted")],
               limit=200, order="id")
    clock.tick(60)
    with sandbox.late_transaction() as tx:  # runs 10 minutes; others write and we read meanwhile
        tx.call("account.move", "write", ids[:150], {"invoice_date_due": "2027-07-31"})
        clock.tick(600)
        call(sandbox, "account.move", "write", [ids[-1]], {"invoice_date_due": "2027-08-31"})
        clock.tick(1)
        sync(store, source, clock)
    clock.tick(60)
    early = sync(store, source, clock)["invoices"]
    assert early.read == 0  # stamped 10 minutes before the newest change read: not yet looked for
    clock.tick(900)  # late_commit_seconds after it started, its stretch of time has settled
    stats = sync(store, source, clock)["invoices"]
    assert stats.read == stats.written == 150 and stats.reread == 0
    due = {i.erp_id: str(i.due_date) for i in store.iter_invoices("odoo")}
    assert {due[str(i)] for i in ids[:150]} == {"2027-07-31"}
    clock.tick(60)
    quiet = sync(store, source, clock)["invoices"]
    assert (quiet.read, quiet.reread) == (0, 0) and quiet.calls <= 2


def test_a_late_commit_during_the_first_read(sandbox, store, clock):
    """A whole read pages on the id: records a late transaction commits behind the page already read are
    found by the next incremental read (their write_date is at or after the read's newest change)."""
    source = make_source(sandbox)
    ids = call(sandbox, "account.move", "search", [("move_type", "=", "out_invoice"), ("state", "=", "posted")],
               limit=100, order="id")
    clock.tick(60)
    with sandbox.late_transaction() as tx:
        tx.call("account.move", "write", ids[:50], {"invoice_date_due": "2027-09-30"})
        sync(store, source, clock, batch_size=50)
    clock.tick(30)
    stats = sync(store, source, clock, batch_size=50)["invoices"]
    assert stats.read == 50 and stats.reread == 0
