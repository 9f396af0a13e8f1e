"""The exact SOAP 1.1 requests the SAP client sends, compared byte for byte with tests/sap/golden/*.xml.

The arguments come from the client's own methods (``call`` / ``send`` are intercepted, nothing goes
over the network); the envelope is built by zeep (``SapClient.request_message`` →
``zeep.Client.create_message``) and serialised canonically: indented, then C14N.

When a zeep upgrade (or a deliberate change of the arguments) changes a request, look at the diff,
then regenerate the files with::

    .venv/bin/python -m tests.sap.test_golden_requests --regenerate
    # or: SAP_GOLDEN_REGENERATE=1 .venv/bin/pytest tests/sap/test_golden_requests.py
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.sap_soap.client import SapClient

GOLDEN = Path(__file__).with_name("golden")
REGENERATE_ENV = "SAP_GOLDEN_REGENERATE"
HOW = f"regenerate with `.venv/bin/python -m tests.sap.test_golden_requests --regenerate` (or {REGENERATE_ENV}=1)"


def _client() -> SapClient:
    return SapClient(source="sap", base_url="https://sap.example.com:44300", client="100", username="CGUSER",
                     secret=lambda: "not-used")


def _captured(client: SapClient, invoke) -> tuple[str, str, dict[str, Any]]:
    """Run one client method with ``call``/``send`` intercepted; the (service, operation, params) it sends."""
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def record(service: str, operation: str, **params: Any) -> dict[str, Any]:
        seen.append((service, operation, params))
        return {}

    client.call = record  # type: ignore[method-assign]
    client.send = record  # type: ignore[method-assign]
    try:
        invoke(client)
    finally:
        del client.call, client.send
    [one] = seen
    return one


# operation (file name) -> the client method call with fixed inputs
CASES = {
    "ArAccGetopenitems": lambda c: c.open_items("0000100001", "1000", "2024-06-30"),
    "CustomerGetlist": lambda c: c.customer_list(after="0000100001", max_rows=50),
    "CustomerGetdetail2": lambda c: c.customer_detail("0000100001", "1000"),
    "ZfiCreditDetail": lambda c: c.credit_detail("0000100001", "1000", "1000"),
    "ZcgCreditList": lambda c: c.credit_list("1000", "", "0000100001", "0000100100", 100),
    "SalesorderGetlist": lambda c: c.sales_orders("0000100001", "1000"),
    "SalesorderChange": lambda c: c.salesorder_change("0000012001", "01"),
    "TransactionCommit": lambda c: c.transaction_commit(),
    "TransactionRollback": lambda c: c.transaction_rollback(),
    "ZcgSalesorderSetDlvBlock": lambda c: c.set_delivery_block("0000012001", "01"),
    "ExchrateGetcurrentrates": lambda c: c.current_rates("2024-06-30", "M"),
}


def render(client: SapClient, operation: str) -> bytes:
    service, op, params = _captured(client, CASES[operation])
    assert op == operation
    envelope = copy.deepcopy(client.request_message(service, op, **params))
    etree.indent(envelope, space="  ")
    return etree.tostring(envelope, method="c14n") + b"\n"


def regenerate() -> list[Path]:
    GOLDEN.mkdir(exist_ok=True)
    client = _client()
    written = []
    try:
        for operation in CASES:
            path = GOLDEN / f"{operation}.xml"
            path.write_bytes(render(client, operation))
            written.append(path)
    finally:
        client.close()
    return written


@pytest.fixture(scope="module")
def golden_client():
    if os.environ.get(REGENERATE_ENV):
        regenerate()
    client = _client()
    yield client
    client.close()


@pytest.mark.parametrize("operation", sorted(CASES))
def test_request_matches_golden_file(golden_client, operation):
    path = GOLDEN / f"{operation}.xml"
    assert path.is_file(), f"golden request {path} missing: {HOW}"
    built = render(golden_client, operation)
    expected = path.read_bytes()
    assert built == expected, (
        f"the {operation} request differs from {path} (zeep's serialisation or the client's arguments "
        f"changed). Check the difference below; if it is intended, {HOW}.\n--- golden\n"
        f"{expected.decode()}\n+++ built\n{built.decode()}")


def test_change_request_carries_complete_structures(golden_client):
    """zeep needs every field of Bapisdh1/Bapisdh1x; only DlvBlock (+ its X-flag and UpdateFlag) filled."""
    _, _, params = _captured(golden_client, CASES["SalesorderChange"])
    assert params["Salesdocument"] == "0000012001"
    assert {k: v for k, v in params["OrderHeaderIn"].items() if v} == {"DlvBlock": "01"}
    assert {k: v for k, v in params["OrderHeaderInx"].items() if v} == {"Updateflag": "U", "DlvBlock": "X"}
    assert set(params["OrderHeaderIn"]) == set(params["OrderHeaderInx"]) - {"Updateflag"}


if __name__ == "__main__":
    if "--regenerate" not in sys.argv[1:]:
        sys.exit(f"usage: python -m tests.sap.test_golden_requests --regenerate  (writes {GOLDEN}/*.xml)")
    for p in regenerate():
        print(f"wrote {p}")
