"""A SAP system on another release answers with one field more or one fewer than our WSDL:
the adapter still reads it (zeep strict=False), over real HTTP."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from adapters.sap_soap.client import SapClient
from adapters.sap_soap.mapping import MappingContext, is_special_gl, map_open_item


def sandbox_answer(sb) -> str:
    """A real open-items answer of the sandbox for customer 0000100001."""
    body = (
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>'
        '<ns0:ArAccGetopenitems xmlns:ns0="urn:sap-com:document:sap:soap:functions:mc-style">'
        "<Companycode>1000</Companycode><Customer>0000100001</Customer><Keydate>2024-06-30</Keydate>"
        "<Lineitems/></ns0:ArAccGetopenitems></soap-env:Body></soap-env:Envelope>"
    )
    url = sb.url + "/sap/bc/srt/rfc/sap/z_bapi_ar_acc_getopenitems/100/z_bapi_ar_acc_getopenitems/" \
                   "z_bapi_ar_acc_getopenitems"
    response = requests.post(url, data=body, auth=("admin", "admin"), timeout=10,
                             headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 200
    return response.text


class Canned(BaseHTTPRequestHandler):
    answer = b""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args):
        pass


def test_one_field_more_and_one_fewer(sb):
    text = sandbox_answer(sb)
    # a newer release appends a field to every item; an older one lacks BillDoc
    changed = re.sub(r"</item>", "<NewS4Field>X</NewS4Field></item>", text)
    changed = re.sub(r"<BillDoc>[^<]*</BillDoc>|<BillDoc/>", "", changed)
    assert changed != text
    Canned.answer = changed.encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = SapClient(source="sap", base_url=f"http://127.0.0.1:{server.server_address[1]}", client="100",
                           username="admin", secret=lambda: "admin", retry_attempts=1)
        rows = client.open_items("0000100001", "1000", "2024-06-30")
        client.close()
    finally:
        server.shutdown()
    assert len(rows) == text.count("<item>") > 0
    invoices = [map_open_item(MappingContext("sap"), row) for row in rows if not is_special_gl(row)]
    assert invoices and all(i.amount_open > 0 and i.company_currency == "EUR" for i in invoices)
