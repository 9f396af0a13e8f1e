"""`creditguard sandbox odoo --state FILE`: data, ids and change times survive a restart, even `kill -9`.

The sandbox runs as a real process (the CLI); writes go over XML-RPC and JSON-RPC; the process is
killed with SIGKILL and started again on the same file.  The last test rehearses an ERP outage with
the real `creditguard enforce`: the writes wait in the outbox while the ERP is down and are applied
exactly once after it comes back.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
import xmlrpc.client
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.odoo.sandbox import OdooSandbox

from ..support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
DB = "demo"


class Odoo:
    """`python -m creditguard sandbox odoo --state FILE` on a port (a free one unless given)."""

    def __init__(self, state: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "creditguard", "sandbox", "odoo", "--port", str(self.port), "--state", str(state),
             *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            self.banner = self.lines.get(timeout=60)
        except queue.Empty:
            self.kill()
            raise AssertionError("the sandbox did not start") from None
        if "serving database" not in self.banner:
            self.kill()
            raise AssertionError(f"the sandbox did not start: {self.banner} {self.process.stderr.read()}")

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no checkpoint of the write-ahead log."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        self.process.stdout.close()
        self.process.stderr.close()

    def call(self, model: str, method: str, *args: Any, uid: int = 2, password: str = "admin", **kwargs: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        return proxy.execute_kw(DB, uid, password, model, method, list(args), kwargs)

    def json_call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw", "args": [DB, 2, "admin", model, method, list(args), kwargs]}}
        answer = httpx.post(f"{self.url}/jsonrpc", json=payload, timeout=30).json()
        assert "error" not in answer, answer
        return answer["result"]


def stored(state: Path, table: str, ids: list[int], columns: str = '"write_date"') -> dict[int, tuple]:
    """Column values exactly as the state file holds them (microseconds included)."""
    with closing(sqlite3.connect(state)) as conn:
        marks = ", ".join("?" * len(ids))
        rows = conn.execute(f'SELECT "id", {columns} FROM "{table}" WHERE "id" IN ({marks})', ids).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_changes_ids_and_change_times_survive_kill_9(tmp_path):
    state = tmp_path / "odoo.state"
    first = Odoo(state)
    try:
        assert state.exists() and f"state in {state}" in first.banner
        kept = first.call("res.partner", "create", {"name": "Kept Customer", "is_company": True})
        first.call("res.partner", "write", [kept], {"comment": "written before the crash", "credit_limit": 1234.5})
        by_json = first.json_call("res.partner", "create", {"name": "Created over JSON-RPC"})
        gone = first.call("res.partner", "create", {"name": "Deleted Customer"})
        first.call("res.partner", "unlink", [gone])
        [order] = first.call("sale.order", "search", [("state", "=", "draft")], limit=1)
        note = first.call("sale.order", "message_post", [order], body="Credit hold [state file test]",
                          message_type="comment", subtype_xmlid="mail.mt_note")
        portal_orders = first.call("sale.order", "search_count", [], uid=OdooSandbox.PORTAL_UID, password="portal")
        times = stored(state, "res_partner", [kept, by_json], '"write_date", "create_date"')
        order_time = stored(state, "sale_order", [order])[order]
        assert len(times[kept][0]) == 26  # microseconds, as Odoo stores them
    finally:
        first.kill()
    assert stored(state, "res_partner", [kept, by_json], '"write_date", "create_date"') == times

    second = Odoo(state)
    try:
        [row] = second.call("res.partner", "read", [kept], ["name", "comment", "credit_limit", "write_date"])
        assert (row["name"], row["comment"], row["credit_limit"]) == ("Kept Customer", "written before the crash",
                                                                       1234.5)
        assert row["write_date"] == times[kept][0][:19]
        assert second.call("res.partner", "search_count", [("id", "=", gone)]) == 0
        assert second.call("mail.message", "search_read", [("id", "=", note)], ["res_id", "model"]) == [
            {"id": note, "res_id": order, "model": "sale.order"}]
        assert second.call("sale.order", "search_count", [], uid=OdooSandbox.PORTAL_UID,
                           password="portal") == portal_orders  # users and record rules are the same
        assert stored(state, "res_partner", [kept, by_json], '"write_date", "create_date"') == times
        assert stored(state, "sale_order", [order])[order] == order_time
        # the id sequences go on: no id is used twice, not even the deleted record's
        new = second.call("res.partner", "create", {"name": "After the restart"})
        assert new > max(kept, by_json, gone)
        new_time = stored(state, "res_partner", [new])[new][0]
        assert new_time > max(t[0] for t in times.values())
        second.call("sale.order", "write", [order], {"client_order_ref": "after the restart"})
        assert stored(state, "sale_order", [order])[order][0] > order_time[0]
    finally:
        second.kill()


def test_every_answered_write_survives_a_kill_at_any_moment(tmp_path):
    state = tmp_path / "odoo.state"
    odoo = Odoo(state)
    answered: dict[int, str] = {}
    stop = threading.Event()

    def writer() -> None:
        proxy = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/object")
        n = 0
        while not stop.is_set():
            name = f"Crash test {n}"
            try:
                record = proxy.execute_kw(DB, 2, "admin", "res.partner", "create", [{"name": name}])
            except (OSError, xmlrpc.client.ProtocolError):  # the process is gone: this one may or may not be in
                return
            answered[record] = name
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(answered) < 25 and thread.is_alive():
            thread.join(0.01)
        odoo.process.kill()
    finally:
        stop.set()
        thread.join(30)
        odoo.kill()
    assert len(answered) >= 25
    again = Odoo(state)
    try:
        found = {r["id"]: r["name"] for r in again.call("res.partner", "search_read", [("name", "like", "Crash test")],
                                                         ["name"])}
        assert {i: found.get(i) for i in answered} == answered
        assert len(found) <= len(answered) + 1  # and the write in flight at the kill, if it committed
        assert again.call("res.partner", "create", {"name": "next"}) > max(found)
    finally:
        again.kill()


def test_a_kill_while_the_data_is_generated_leaves_no_half_written_file(tmp_path):
    state = tmp_path / "odoo.state"
    process = subprocess.Popen([sys.executable, "-m", "creditguard", "sandbox", "odoo", "--port", str(free_port()),
                                "--state", str(state), "--data", "large:3000"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list(tmp_path.iterdir()) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)  # until the process writes its first file (the temporary copy, or the file itself)
    process.kill()
    process.wait(30)
    if state.exists():  # killed after the file was complete: it must load
        odoo = Odoo(state)
        odoo.kill()
    odoo = Odoo(state, "--data", "demo")
    try:
        assert odoo.call("res.partner", "search_count", []) > 0
    finally:
        odoo.kill()


def test_a_state_file_of_another_odoo_version_is_refused(tmp_path):
    state = tmp_path / "odoo.state"
    OdooSandbox(version="17", data="empty", state=state).close()
    done = subprocess.run([sys.executable, "-m", "creditguard", "sandbox", "odoo", "--port", str(free_port()),
                           "--state", str(state), "--version", "19"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert f"state file {state} holds an Odoo 17 database" in done.stderr
    not_a_state = tmp_path / "notes.txt"
    not_a_state.write_text("hello")
    with pytest.raises(ValueError, match="not an Odoo sandbox state file"):
        OdooSandbox(state=not_a_state)


# ------------------------------------------------------------------ an ERP outage, rehearsed

CONFIG = """\
[store]
url = "sqlite:///{store}"

[outbox]
retry_delay_seconds = 1
max_retry_delay_seconds = 1

[policy]
path = "{policy}"

[[source]]
name = "odoo"
kind = "odoo"
url = "{url}"
database = "demo"
username = "admin"
password_env = "CG_ODOO_PASSWORD"
protocol = "xmlrpc"
retry_attempts = 1
"""


class CreditGuard:
    def __init__(self, tmp: Path, url: str) -> None:
        self.store_url = f"sqlite:///{tmp / 'creditguard.db'}"
        self.policy = tmp / "policy.toml"
        self.config = tmp / "config.toml"
        self.config.write_text(CONFIG.format(store=tmp / "creditguard.db", policy=self.policy, url=url))
        self.env = dict(os.environ, CG_ODOO_PASSWORD="admin")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "creditguard", "--config", str(self.config), *args], cwd=ROOT,
                              capture_output=True, text=True, env=self.env, timeout=180)

    def pending(self) -> list[Any]:
        from connector.store import Store

        store = Store.open(self.store_url)
        try:
            return list(store.outbox_entries(source="odoo", state="pending"))
        finally:
            store.close()

    def target(self) -> tuple[Any, Any]:
        from connector.store import Store

        from ..odoo.test_enforce import target

        store = Store.open(self.store_url)
        try:
            return target(store)
        finally:
            store.close()


def hold_messages(odoo: Odoo, order_id: int) -> int:
    return odoo.call("mail.message", "search_count", [("model", "=", "sale.order"), ("res_id", "=", order_id),
                                                      ("body", "ilike", "creditguard")])


def test_outage_rehearsal_writes_wait_in_the_outbox_and_are_applied_once(tmp_path):
    from ..odoo.test_enforce import POLICY

    state = tmp_path / "odoo.state"
    odoo = Odoo(state)
    port = odoo.port
    cg = CreditGuard(tmp_path, odoo.url)
    try:
        cg.policy.write_text(POLICY.format(ref="nobody", limit=1))
        synced = cg.run("sync", "--once")
        assert synced.returncode == 0, synced.stderr
        order, head = cg.target()
        cg.policy.write_text(POLICY.format(ref=head.ref, limit=1))
        oid = int(order.erp_id)
        assert hold_messages(odoo, oid) == 0
    finally:
        odoo.kill()  # the ERP goes down

    down = cg.run("enforce", "--json")
    assert down.returncode == 1, down.stderr
    assert "the writes wait in the outbox" in down.stderr
    result = json.loads(down.stdout)
    assert any(c["order"] == order.number and c["action"] == "place_hold" for c in result["sources"][0]["changes"])
    assert any(e.kind == "place_hold" and e.target_id == order.erp_id for e in cg.pending())

    odoo = Odoo(state, port=port)  # the ERP is back, with everything it had
    try:
        for _ in range(10):
            waiting = cg.pending()
            if not waiting:
                break
            due = min(e.next_attempt_at for e in waiting)
            due = due if due.tzinfo else due.replace(tzinfo=timezone.utc)
            time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()))  # the outbox's backoff
            drained = cg.run("enforce", "--json")
            assert drained.returncode == 0, drained.stderr
        assert cg.pending() == []
        assert hold_messages(odoo, oid) == 1
    finally:
        odoo.kill()  # down again, without a clean stop

    odoo = Odoo(state, port=port)
    try:
        assert hold_messages(odoo, oid) == 1
        again = cg.run("enforce", "--json")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["sources"][0]["changes"] == []
        assert cg.pending() == [] and hold_messages(odoo, oid) == 1
    finally:
        odoo.kill()
