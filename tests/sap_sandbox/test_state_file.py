"""`creditguard sandbox sap --state FILE`: the data survives a restart, even after `kill -9`.

The sandbox runs as a real process; delivery blocks are changed over SOAP (the one-call wrapper, and
BAPI_SALESORDER_CHANGE + BAPI_TRANSACTION_COMMIT in one stateful session), the process is killed
with SIGKILL and started again on the same file.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

zeep = pytest.importorskip("zeep")
requests = pytest.importorskip("requests")

from zeep.transports import Transport  # noqa: E402

from adapters.sap_soap.sandbox import SERVICES, WSDL_DIR, SapSandbox  # noqa: E402
from adapters.sap_soap.sandbox import state as statefile  # noqa: E402
from adapters.sap_soap.sandbox.schema import MC  # noqa: E402

from .test_sandbox_cli import Sandbox  # noqa: E402


def service(sandbox: Sandbox, name: str, session: requests.Session | None = None):
    http = session or requests.Session()
    http.auth = ("admin", "admin")
    transport = Transport(session=http, timeout=10, operation_timeout=10)
    client = zeep.Client(str(WSDL_DIR / SERVICES[name]), transport=transport)
    binding = client.wsdl.services[name].ports[name].binding.name
    address = f"{sandbox.url}/sap/bc/srt/rfc/sap/{name.lower()}/100/{name.lower()}/{name.lower()}"
    return client, client.create_service(binding, address)


def rows(table):
    if isinstance(table, list):
        return table
    return list(table.item) if table is not None and table.item else []


def blocks(sandbox: Sandbox, customer: str = "0000100001") -> dict[str, str | None]:
    _, svc = service(sandbox, "Z_BAPI_SALESORDER_GETLIST")
    res = svc.SalesorderGetlist(CustomerNumber=customer, SalesOrganization="1000", SalesOrders={})
    return {r.SdDoc: r.DlvBlock for r in rows(res.SalesOrders)}


def set_block(sandbox: Sandbox, order: str, block: str) -> None:
    _, svc = service(sandbox, "ZCG_SALESORDER_SET_DLV_BLOCK")
    ret = rows(svc.ZcgSalesorderSetDlvBlock(Salesdocument=order, DlvBlock=block, Return={}))
    assert all(r.Type == "S" for r in ret), ret


def change_and_commit(sandbox: Sandbox, order: str, block: str) -> None:
    client, svc = service(sandbox, "Z_BAPI_SALESORDER_CHANGE", requests.Session())
    header = client.get_type(f"{{{MC}}}Bapisdh1")
    flags = client.get_type(f"{{{MC}}}Bapisdh1x")
    ret = svc.SalesorderChange(
        Salesdocument=order, OrderHeaderIn={n: block if n == "DlvBlock" else "" for n, _ in header.elements},
        OrderHeaderInx={n: {"Updateflag": "U", "DlvBlock": "X"}.get(n, "") for n, _ in flags.elements}, Return={})
    assert rows(ret.Return)[0].Type == "S"
    assert svc.TransactionCommit(Wait="X").Type is None


def test_blocks_survive_kill_9_and_a_second_restart(tmp_path):
    path = tmp_path / "sap.state"
    first = Sandbox("--state", str(path))
    try:
        assert path.exists()
        assert blocks(first) == {"0000012001": None, "0000012002": "01", "0000012003": None}
        set_block(first, "0000012001", "01")         # the one-call wrapper
        change_and_commit(first, "0000012003", "02")  # BAPI + commit in one session
        set_block(first, "0000012002", "")           # our block removed
    finally:
        first.process.kill()  # SIGKILL: no clean shutdown
        first.close()
    second = Sandbox("--state", str(path))
    try:
        assert blocks(second) == {"0000012001": "01", "0000012002": None, "0000012003": "02"}
        set_block(second, "0000012001", "")
    finally:
        second.process.kill()
        second.close()
    third = Sandbox("--state", str(path), "--data", "large:40")  # --data is ignored: the file has the data
    try:
        assert blocks(third) == {"0000012001": None, "0000012002": None, "0000012003": "02"}
        _, svc = service(third, "Z_BAPI_AR_ACC_GETOPENITEMS")
        res = svc.ArAccGetopenitems(Companycode="1000", Customer="0000100004", Keydate=dt.date.today(),
                                    Lineitems={})
        assert rows(res.Lineitems) == []  # large:N would have given this customer open items
    finally:
        third.close()


def test_every_answered_commit_survives_a_kill_at_any_moment(tmp_path):
    """Writes go on while the process is killed: every write that was answered is in the file."""
    path = tmp_path / "sap.state"
    sandbox = Sandbox("--state", str(path))
    orders, codes = ["0000012001", "0000012002", "0000012003"], ["01", "02", ""]
    answered: list[tuple[str, str]] = []
    stop = threading.Event()

    def write(n: int) -> tuple[str, str]:
        return orders[n % 3], codes[(n // 3) % 3]

    def writer():
        while not stop.is_set():
            order, code = write(len(answered))
            try:
                set_block(sandbox, order, code)
            except Exception:  # noqa: BLE001 - the process is gone: this write may or may not have committed
                return
            answered.append((order, code))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(answered) < 15 and thread.is_alive():
            thread.join(0.01)
        sandbox.process.kill()
    finally:
        stop.set()
        thread.join(20)
        sandbox.close()
    assert len(answered) >= 15
    restarted = Sandbox("--state", str(path))
    try:
        found = blocks(restarted)
        in_flight = write(len(answered))  # sent, maybe committed, never answered
        for order, code in dict(answered).items():  # the last answered block of each order
            allowed = {code or None} | ({in_flight[1] or None} if in_flight[0] == order else set())
            assert found[order] in allowed, (order, found, answered[-3:], in_flight)
    finally:
        restarted.close()


def test_helpers_and_rates_are_kept_with_exact_amounts_and_dates(tmp_path):
    """The Python API: ``SapSandbox(state=...)``; posted and cleared items, rates, document numbers."""
    path = tmp_path / "sap.state"
    today = dt.date(2024, 6, 30)
    sb = SapSandbox(clock=lambda: today, state=path)
    item = sb.set_open_item("100004", "1234.50", days_ago=3)
    jpy = sb.set_open_item("100026", "1250000", company_code="3000")
    cleared = sb.clear_item(jpy["DocNo"], clear_date=dt.date(2024, 6, 29))
    sb.set_rate("USD", "EUR", "1.07150", indirect=True)
    before = statefile.dumps(sb.data)
    sb.close()
    later = dt.date(2024, 7, 2)
    again = SapSandbox(clock=lambda: later, state=path)
    try:
        [kept] = again.open_items("100004")
        assert kept == item and kept["LcAmount"] == Decimal("1234.50") and str(kept["AmtDoccur"]) == "1234.50"
        assert kept["PstngDate"] == dt.date(2024, 6, 27)
        assert again.data.cleared[(jpy["CompCode"], jpy["FiscYear"], jpy["DocNo"], "001")] == cleared
        [usd] = [r for r in again.data.rates_on("M", later) if (r.from_curr, r.to_curr) == ("USD", "EUR")]
        assert usd.rate == Decimal("-1.07150") and usd.valid_from == today
        again.data.today = today
        assert statefile.dumps(again.data) == before
        assert again.set_open_item("100004", "1.00")["DocNo"] > item["DocNo"]  # the number range goes on
    finally:
        again.close()


def test_a_file_that_is_no_state_file_is_refused(tmp_path):
    path = tmp_path / "sap.state"
    path.write_text("not a database")
    with pytest.raises(ValueError, match="not a SAP sandbox state file"):
        SapSandbox(state=path)
