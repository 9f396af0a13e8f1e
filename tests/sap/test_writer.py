"""The SAP writer (delivery block holds) against the SAP sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import pytest

from adapters.sap_soap.client import CHANGE_SERVICE, WRAPPER_SERVICE
from adapters.sap_soap.writer import SapWriter, store_locator
from connector.errors import AmbiguousWrite, AuthenticationFailed, FatalError, RetryableError
from connector.outbox import Outbox
from connector.store import Store

from .conftest import make_client

CUSTOMER, ORG = "0000100001", "1000"
ORDERS = {no: (CUSTOMER, ORG) for no in ("0000012001", "0000012002", "0000012003")}


def entry(kind, order="0000012001", key=None):
    held = kind == "place_hold"
    return SimpleNamespace(kind=kind, target_id=order, key=key or f"sap:hold:{order}:{kind}",
                           payload={"held": held, "order": order.lstrip("0"), "reasons": [], "codes": [],
                                    "release_tier": None})


def writer(client, **kw):
    return SapWriter(client, locate=ORDERS.get, **kw)


def ops(sb, since=0):
    return [(c.service, c.operation) for c in sb.calls[since:]]


# ------------------------------------------------------------------- stateful


def test_stateful_place_hold_commits_in_the_same_session(sb, client):
    w = writer(client)
    before_commit = []
    commit = client.transaction_commit

    def spy():
        before_commit.append(sb.order("12001").dlv_block)
        return commit()

    client.transaction_commit = spy
    assert sb.order("12001").dlv_block == ""
    start = len(sb.calls)
    assert w.apply(entry("place_hold")) == "delivery block 01 set"
    assert before_commit == [""]  # the change was pending in the ABAP session, not yet in the order
    assert sb.order("12001").dlv_block == "01"
    calls = sb.calls[start:]
    assert ops(sb, start) == [("Z_BAPI_SALESORDER_GETLIST", "SalesorderGetlist"),
                              (CHANGE_SERVICE, "SalesorderChange"), (CHANGE_SERVICE, "TransactionCommit"),
                              ("Z_BAPI_SALESORDER_GETLIST", "SalesorderGetlist")]
    change, commit_call = calls[1], calls[2]
    assert change.session and change.session == commit_call.session
    assert commit_call.params.get("Wait") == "X"
    assert change.params["Salesdocument"] == "0000012001"
    assert change.params["OrderHeaderInx"]["Updateflag"] == "U"
    assert change.params["OrderHeaderInx"]["DlvBlock"] == "X"
    assert change.params["OrderHeaderIn"]["DlvBlock"] == "01"

    start = len(sb.calls)
    assert w.apply(entry("place_hold")) == "already applied"
    assert ops(sb, start) == [("Z_BAPI_SALESORDER_GETLIST", "SalesorderGetlist")]


def test_stateful_failed_commit_leaves_the_order_unchanged_and_rolls_back(sb, client):
    sb.fail_commit()
    start = len(sb.calls)
    with pytest.raises(FatalError, match="BAPI 150"):
        writer(client).apply(entry("place_hold"))
    assert sb.order("12001").dlv_block == ""
    assert (CHANGE_SERVICE, "TransactionRollback") in ops(sb, start)
    # the next attempt re-reads and applies
    assert writer(client).apply(entry("place_hold")) == "delivery block 01 set"
    assert sb.order("12001").dlv_block == "01"


def test_stateful_release_clears_only_our_block(sb, client):
    w = writer(client)
    sb.set_delivery_block("12001", "01")
    assert w.apply(entry("release_hold")) == "delivery block 01 removed"
    assert sb.order("12001").dlv_block == ""
    assert w.apply(entry("release_hold")) == "already released"


def test_foreign_block_is_left_alone(sb, client):
    sb.set_delivery_block("12003", "ZA")
    w = writer(client)
    start = len(sb.calls)
    assert w.apply(entry("place_hold", "0000012003")) == "order already blocked by ZA"
    assert w.apply(entry("release_hold", "0000012003")) == "blocked by someone else (ZA), left as is"
    assert sb.order("12003").dlv_block == "ZA"
    assert all(op == "SalesorderGetlist" for _, op in ops(sb, start))


def test_locked_order_is_retryable(sb, client):
    sb.lock_order("12001")
    with pytest.raises(RetryableError, match="V1 042"):
        writer(client).apply(entry("place_hold"))
    assert sb.order("12001").dlv_block == ""
    sb.unlock_order("12001")
    assert writer(client).apply(entry("place_hold")) == "delivery block 01 set"


def test_locked_order_is_retryable_in_wrapper_mode(sb, client):
    sb.lock_order("12001")
    with pytest.raises(RetryableError, match="locked"):
        writer(client, mode="wrapper").apply(entry("place_hold"))
    assert sb.order("12001").dlv_block == ""


def test_unknown_block_code_is_fatal(sb, client):
    with pytest.raises(FatalError, match="00 058"):
        writer(client, delivery_block="Q9").apply(entry("place_hold"))
    assert sb.order("12001").dlv_block == ""


def test_timeout_on_change_is_ambiguous_and_never_committed_later(sb):
    client = make_client(sb, timeout=0.3)
    try:
        w = writer(client)
        sb.delay_next(0.6, service=CHANGE_SERVICE)
        with pytest.raises(AmbiguousWrite, match="may have been applied"):
            w.apply(entry("place_hold", "0000012003"))
        assert not client.has_session(CHANGE_SERVICE)  # that ABAP session is abandoned
        time.sleep(0.8)  # the late change lands, pending in the abandoned session
        assert [c.operation for c in sb.calls if c.service == CHANGE_SERVICE] == ["SalesorderChange"]
        # another order's commit (new session) must not commit the stray change of 12003
        assert w.apply(entry("place_hold", "0000012001")) == "delivery block 01 set"
        assert sb.order("12003").dlv_block == ""
        sessions = [c.session for c in sb.calls if c.service == CHANGE_SERVICE]
        assert len(set(sessions)) == 2 and sessions[1] == sessions[2]
        # the retry of the ambiguous entry re-reads and applies
        assert w.apply(entry("place_hold", "0000012003")) == "delivery block 01 set"
        assert sb.order("12003").dlv_block == "01"
    finally:
        client.close()


def test_authentication_failure(sb):
    client = make_client(sb, password="wrong")
    try:
        with pytest.raises(AuthenticationFailed):
            writer(client).apply(entry("place_hold"))
    finally:
        client.close()
    assert sb.order("12001").dlv_block == ""


def test_unsupported_kinds_are_skipped(sb, client):
    w = writer(client)
    start = len(sb.calls)
    for kind in ("set_risk_flag", "create_alert", "close_alert"):
        assert w.apply(entry(kind)) == "not supported by the SAP adapter (skipped)"
    assert sb.calls[start:] == []
    with pytest.raises(FatalError, match="unknown outbox entry kind"):
        w.apply(entry("explode"))


def test_unknown_order_location_is_fatal(sb, client):
    with pytest.raises(FatalError, match="customer and sales organization unknown"):
        SapWriter(client).apply(entry("place_hold"))


# -------------------------------------------------------------------- wrapper


def test_wrapper_place_and_release(sb, client):
    w = writer(client, mode="wrapper")
    start = len(sb.calls)
    assert w.apply(entry("place_hold")) == "delivery block 01 set"
    assert sb.order("12001").dlv_block == "01"
    assert (WRAPPER_SERVICE, "ZcgSalesorderSetDlvBlock") in ops(sb, start)
    assert not any(s == CHANGE_SERVICE for s, _ in ops(sb, start))
    assert w.apply(entry("place_hold")) == "already applied"
    assert w.apply(entry("release_hold")) == "delivery block 01 removed"
    assert sb.order("12001").dlv_block == ""


def test_wrapper_failed_commit_raises(sb, client):
    sb.fail_commit()
    with pytest.raises(FatalError, match="BAPI 150"):
        writer(client, mode="wrapper").apply(entry("place_hold"))
    assert sb.order("12001").dlv_block == ""


def test_wrapper_timeout_is_ambiguous_then_already_applied(sb):
    client = make_client(sb, timeout=0.3)
    try:
        w = writer(client, mode="wrapper")
        sb.delay_next(0.6, service=WRAPPER_SERVICE)
        with pytest.raises(AmbiguousWrite):
            w.apply(entry("place_hold"))
        deadline = dt.datetime.now() + dt.timedelta(seconds=3)
        while sb.order("12001").dlv_block != "01" and dt.datetime.now() < deadline:
            time.sleep(0.05)  # the wrapper finishes (and commits) after the client gave up
        assert w.apply(entry("place_hold")) == "already applied"
    finally:
        client.close()


# --------------------------------------------------------------------- outbox


def test_outbox_drain_applies_once(sb, client, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'cg.db'}")
    try:
        outbox = Outbox(store)
        for kind, key in (("place_hold", "sap:hold:0000012001:r1"), ("set_risk_flag", "sap:risk:0000100001:1")):
            e = entry(kind, key=key)
            assert outbox.enqueue(source="sap", kind=kind, target_model="sale.order", target_id=e.target_id,
                                  key=key, payload=e.payload)
        w = writer(client)
        report = outbox.drain(w, "sap")
        assert (report.applied, report.retried, report.dead) == (2, 0, 0)
        assert sb.order("12001").dlv_block == "01"
        changes = [c for c in sb.calls if c.operation == "SalesorderChange"]
        assert len(changes) == 1
        again = outbox.drain(w, "sap")
        assert again.applied == 0
        assert len([c for c in sb.calls if c.operation == "SalesorderChange"]) == 1
        results = {x.kind: x.result for x in store.outbox_entries(source="sap")}
        assert results == {"place_hold": "delivery block 01 set",
                           "set_risk_flag": "not supported by the SAP adapter (skipped)"}
    finally:
        store.close()


def test_store_locator():
    order = SimpleNamespace(erp_id="0000012001", customer_id=CUSTOMER, company_id="3000")
    store = SimpleNamespace(find_orders=lambda number, source: [order] if number == "12001" else [])
    assert store_locator(store, "sap", "1000")("0000012001") == (CUSTOMER, "1000")
    assert store_locator(store, "sap", {"1000": "1000", "3000": "3000"})("0000012001") == (CUSTOMER, "3000")
    assert store_locator(store, "sap", "1000")("0000012009") is None
