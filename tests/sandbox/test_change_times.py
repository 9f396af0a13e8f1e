"""Change times as a real Odoo keeps them (../shared/odoo17/README.md, "Change times"): ``write_date``
stored with microseconds, one value per transaction (its start), read back in whole seconds, compared
in domains on the stored value; bulk transactions, and transactions that commit late."""

from __future__ import annotations

import threading
import time
import xmlrpc.client
from collections import Counter
from datetime import datetime, timedelta

import pytest

from adapters.odoo.sandbox import OdooSandbox

from .conftest import DB, START


def second_after(stamp: str) -> str:
    return (datetime.fromisoformat(stamp) + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")


def stored(sb: OdooSandbox, table: str, ids: list[int]) -> dict[int, str]:
    marks = ",".join("?" * len(ids))
    return dict(sb.db.conn.execute(f'SELECT "id", "write_date" FROM "{table}" WHERE "id" IN ({marks})', ids))


def test_one_create_of_many_records_is_one_change_time(fresh) -> None:
    sb, client, clock = fresh("17", "empty", start=START.replace(microsecond=250_000))
    ids = client.execute("res.partner", "create", [{"name": f"Imported {i}"} for i in range(1000)])
    read = client.execute("res.partner", "read", ids, ["write_date", "create_date"])
    assert {r["write_date"] for r in read} == {"2026-11-28 12:00:00"}  # whole seconds over RPC
    assert {r["create_date"] for r in read} == {"2026-11-28 12:00:00"}
    [value] = set(stored(sb, "res_partner", ids).values())
    assert value.startswith("2026-11-28 12:00:00.25")
    # a second transaction in the same second: the same value over RPC, its own value in the database
    client.execute("res.partner", "write", ids[:1], {"ref": "X"})
    assert client.execute("res.partner", "read", ids[:1], ["write_date"])[0]["write_date"] == "2026-11-28 12:00:00"
    assert stored(sb, "res_partner", ids[:1])[ids[0]] > value


def test_equality_on_the_second_read_back_matches_nothing(fresh) -> None:
    sb, client, _clock = fresh("17", "empty", start=START.replace(microsecond=731_002))
    ids = client.execute("res.partner", "create", [{"name": f"P{i}"} for i in range(13)])
    second = client.execute("res.partner", "read", ids[:1], ["write_date"])[0]["write_date"]
    assert client.execute("res.partner", "search_count", [("write_date", "=", second)]) == 0
    in_second = [("write_date", ">=", second), ("write_date", "<", second_after(second))]
    assert client.execute("res.partner", "search_count", in_second) == 13
    # '>' on the whole second is true for every record stamped later within it
    assert set(client.execute("res.partner", "search", [("write_date", ">", second)])) >= set(ids)
    # a fraction in the domain is compared with the stored value
    value = stored(sb, "res_partner", ids[:1])[ids[0]]
    assert value.startswith(f"{second}.731")
    assert client.execute("res.partner", "search_count", [("write_date", "=", value)]) == 13


def test_a_transaction_on_the_whole_second_still_matches_equality(fresh) -> None:
    _sb, client, clock = fresh("17", "empty")
    clock.advance(seconds=1)  # the clock stands on 12:00:01.000000
    [pid] = client.execute("res.partner", "create", [{"name": "On the second"}])
    assert client.execute("res.partner", "search", [("write_date", "=", "2026-11-28 12:00:01")]) == [pid]


def test_action_on_many_records_is_one_transaction(fresh) -> None:
    sb, client, clock = fresh("17", "demo")
    drafts = client.execute("sale.order", "search", [("state", "=", "draft")])
    assert len(drafts) > 5
    clock.advance(seconds=30, microseconds=123)
    client.execute("sale.order", "action_cancel", drafts)
    assert len(set(stored(sb, "sale_order", drafts).values())) == 1


def test_large_data_is_built_in_bulk_transactions() -> None:
    with OdooSandbox(version="17", data="large:12000") as sb:
        rows = sb.db.conn.execute('SELECT "write_date" FROM "account_move"').fetchall()
        groups = Counter(row[0] for row in rows).most_common()
        assert groups[0][1] == 5000  # the mass action on open invoices
        created = Counter(r[0] for r in sb.db.conn.execute('SELECT "create_date" FROM "account_move"'))
        assert {1000, 2500} <= set(created.values())  # created 1,000 per create, one batch of 2,500
        assert max(size for _, size in groups[1:]) > 200  # posted per batch, still open
        assert sum(size for _, size in groups if size == 1) > 500  # payments, one transaction each
        partners = Counter(r[0] for r in sb.db.conn.execute('SELECT "write_date" FROM "res_partner"'))
        assert partners.most_common(1)[0][1] > 200  # customers imported in one create
        # RPC answers whole seconds, so several transactions can share a second
        read = sb.search_read("account.move", [], ["write_date"])
        assert all(len(r["write_date"]) == 19 for r in read)


def test_late_transaction_commits_with_its_start_time(fresh) -> None:
    sb, client, clock = fresh("17", "demo")
    started = clock.advance(seconds=10)
    with sb.late_transaction() as tx:
        tx.call("res.partner", "write", [12], {"ref": "LATE"})
        clock.advance(seconds=40)
        client.execute("res.partner", "write", [13], {"ref": "EARLY"})  # commits first
        assert client.execute("res.partner", "read", [12], ["ref"])[0]["ref"] != "LATE"  # not visible yet
    late, early = client.execute("res.partner", "read", [12, 13], ["ref", "write_date"])
    assert late["ref"] == "LATE" and late["write_date"] == started.strftime("%Y-%m-%d %H:%M:%S")
    assert early["write_date"] == clock.now.strftime("%Y-%m-%d %H:%M:%S") > late["write_date"]


def test_late_transaction_rolls_back_on_error(fresh) -> None:
    sb, client, _clock = fresh("17", "demo")
    with pytest.raises(RuntimeError):
        with sb.late_transaction() as tx:
            tx.call("res.partner", "write", [12], {"ref": "NEVER"})
            raise RuntimeError("the mass action failed")
    assert client.execute("res.partner", "read", [12], ["ref"])[0]["ref"] != "NEVER"
    with pytest.raises(ValueError):  # a failing call undoes the calls before it
        with sb.late_transaction() as tx:
            tx.call("res.partner", "write", [12], {"ref": "NEVER"})
            tx.call("res.partner", "write", [12], {"no_such_field": 1})
    assert client.execute("res.partner", "read", [12], ["ref"])[0]["ref"] != "NEVER"


def test_commit_delay_mode_commits_writes_late_over_the_network() -> None:
    with OdooSandbox(version="17", data="demo", commit_delay=0.3) as sb:
        proxy = xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object")
        before = sb.db._last_start
        slow = threading.Thread(target=lambda: xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object").execute_kw(
            DB, 2, "admin", "res.partner", "write", [[12, 14], {"ref": "SLOW"}]))  # a mass action
        slow.start()
        deadline = time.monotonic() + 5
        while sb.db._last_start == before and time.monotonic() < deadline:  # the slow write has started
            time.sleep(0.01)
        proxy.execute_kw(DB, 2, "admin", "res.partner", "write", [[13], {"ref": "FAST"}])  # one record
        assert proxy.execute_kw(DB, 2, "admin", "res.partner", "read", [[12], ["ref"]])[0]["ref"] != "SLOW"
        slow.join(timeout=10)
        rows = stored(sb, "res_partner", [12, 13])
        assert rows[12] < rows[13]  # committed last, stamped first
        assert proxy.execute_kw(DB, 2, "admin", "res.partner", "read", [[12], ["ref"]])[0]["ref"] == "SLOW"
