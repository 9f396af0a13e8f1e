"""SAP SOAP sandbox: RFC-based web services of an ECC / S/4HANA system on loopback.

Speaks what SOAMANAGER-generated services speak: document/literal SOAP 1.1 and
1.2 on ``/sap/bc/srt/rfc/sap/<service>/<client>/<service>/<binding>``, HTTP
Basic logon, ``?wsdl`` on the endpoint, BAPI RETURN semantics, RFC exceptions
as SOAP faults, stateful sessions by cookie for BAPI + commit.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import http.server
import pathlib
import re
import secrets
import socketserver
import threading
import time
import urllib.parse
from decimal import Decimal

from lxml import etree

from ...serving import QuietHangups
from . import data as demo
from . import state as statefile
from .schema import MC, ProcessingError, Schema

WSDL_DIR = pathlib.Path(__file__).with_name("wsdl")
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"

# service definition -> WSDL file (real SAP exports first, then the reference WSDLs)
SERVICES: dict[str, str] = {
    "Z_BAPI_AR_ACC_GETOPENITEMS": "z_bapi_ar_acc_getopenitems.wsdl",
    "ZFI_CREDIT_DETAIL": "zfi_credit_detail.wsdl",
    "ZFI_SEARCH_CUSTOMER_WS": "zfi_search_customer_ws.wsdl",
    "Z_BAPI_CUSTOMER_GETLIST": "z_bapi_customer_getlist.wsdl",
    "Z_BAPI_CUSTOMER_GETDETAIL2": "z_bapi_customer_getdetail2.wsdl",
    "Z_BAPI_SALESORDER_GETLIST": "z_bapi_salesorder_getlist.wsdl",
    "Z_BAPI_SALESORDER_CHANGE": "z_bapi_salesorder_change.wsdl",
    "Z_BAPI_TRANSACTION_COMMIT": "z_bapi_transaction_commit.wsdl",
    "ZCG_SALESORDER_SET_DLV_BLOCK": "zcg_salesorder_set_dlv_block.wsdl",
    "Z_BAPI_EXCHRATE_GETCURRENTRATES": "z_bapi_exchrate_getcurrentrates.wsdl",
    "ZCG_CREDIT_LIST": "zcg_credit_list.wsdl",
}
# RETURN of BAPI_EXCHRATE_GETCURRENTRATES for a rate type missing in TCURV: the sandbox's own message
# (no public catalogue entry of SAP's text was found); the adapter relies on the type E only
UNKNOWN_RATE_TYPE = ("ZSBX", "010")
# RETURN of ZCG_CREDIT_LIST when no credit control area is given or assigned (abap/zcg_credit_list.abap)
NO_CREDIT_AREA = ("ZCG", "001")
DELIVERY_BLOCK_CODES = {"01", "02", "03", "08", "ZA", "ZC"}  # TVLS of the sandbox system

_SCHEMAS: dict[str, Schema] = {}


def schema(service: str) -> Schema:
    if service not in _SCHEMAS:
        _SCHEMAS[service] = Schema(WSDL_DIR / SERVICES[service])
    return _SCHEMAS[service]


#: SAP language keys (T002-SPRAS) and their ISO 639-1 codes (T002-LAISO), for GETDETAIL2's ``LanguIso``
LANGUAGE_ISO = {"E": "EN", "D": "DE", "F": "FR", "J": "JA", "S": "ES", "I": "IT", "N": "NL"}

class RfcException(Exception):
    """A classic function-module exception (RAISE): SOAP fault ``soap-env:Client``."""

    def __init__(self, name: str, text: str = "", msg_id: str = "", number: str = ""):
        super().__init__(name)
        self.name, self.text, self.msg_id, self.number = name, text, msg_id, number


class ServerFault(Exception):
    """SOAP fault ``soap-env:Server`` with empty detail (processing error, missing S_SERVICE)."""


@dataclasses.dataclass
class Call:
    service: str
    operation: str | None
    params: dict
    session: str | None
    status: int
    soap_version: str
    user: str | None


@dataclasses.dataclass
class Session:
    id: str
    pending: dict[str, str] = dataclasses.field(default_factory=dict)  # vbeln -> new delivery block
    created: float = dataclasses.field(default_factory=time.monotonic)


def _ret2(type_: str, id_: str, number: str, message: str, *v: str, parameter: str = "", row: int = 0,
          field: str = "") -> dict:
    r = {"Type": type_, "Id": id_, "Number": number, "Message": message, "Parameter": parameter, "Row": row,
         "Field": field, "System": "SBXCLNT100"}
    for i, val in enumerate(v[:4], start=1):
        r[f"MessageV{i}"] = val
    return r


def _ret(type_: str, id_: str, number: str, message: str, *v: str) -> dict:
    """BAPIRETURN (Code = message class + number)."""
    r = {"Type": type_, "Code": f"{id_}{number}", "Message": message}
    for i, val in enumerate(v[:4], start=1):
        r[f"MessageV{i}"] = val
    return r


def _with_return(result: dict, operation: str, type_: str, id_: str, number: str, message: str) -> dict:
    """``result`` answered with one RETURN line of the operation's RETURN structure (see return_next)."""
    build, as_table = _READ_RETURNS[operation]
    line = build(type_, id_, number, message)
    out = dict(result)
    if type_ in ("E", "A"):  # a failed BAPI returns no data
        out = {k: ([] if isinstance(v, list) else ({} if isinstance(v, dict) else v)) for k, v in out.items()}
    out["Return"] = [line] if as_table else line
    return out


def _ret1(type_: str, id_: str, number: str, message: str, *v: str) -> dict:
    r = {"Type": type_, "Id": id_, "Number": number, "Message": message}
    for i, val in enumerate(v[:4], start=1):
        r[f"MessageV{i}"] = val
    return r


def _range_match(value: str, r: dict) -> bool:
    """One line of a SELECT-OPTIONS range (``Sign``/``Option``/``Low``/``High``); empty option = EQ."""
    opt, low, high = r.get("Option") or "EQ", r.get("Low") or "", r.get("High") or ""
    if opt == "EQ":
        return value == low
    if opt == "NE":
        return value != low
    if opt == "BT":
        return low <= value <= (high or low)
    if opt == "CP":
        return re.fullmatch(re.escape(low).replace(r"\*", ".*").replace(r"\+", "."), value) is not None
    if opt in ("GE", "GT", "LE", "LT"):
        return {"GE": value >= low, "GT": value > low, "LE": value <= low, "LT": value < low}[opt]
    return False


def _in_ranges(value: str, ranges: list[dict]) -> bool:
    """Whether ``value`` is selected by a range table: any ``I`` line (or none), and no ``E`` line."""
    incl = [r for r in ranges if (r.get("Sign") or "I") == "I"]
    excl = [r for r in ranges if r.get("Sign") == "E"]
    return (not incl or any(_range_match(value, r) for r in incl)) and not any(_range_match(value, r) for r in excl)


def _fmt_amount_text(amount: Decimal, currency: str) -> str:
    """ZFI_CREDIT_DETAIL returns amounts as CHAR25, formatted like WRITE … CURRENCY (1,234,567.89)."""
    places = demo.CURRENCY_DECIMALS.get(currency, 2)
    return f"{amount:,.{places}f}"


class SapSandbox:
    """A SAP system's SOAP services on loopback. See README.md in this package."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, data="demo", clock=None, client: str = "100",
                 username: str = "admin", password: str = "admin", sid: str = "SBX",
                 curr_internal: bool = False, state: str | pathlib.Path | None = None):
        """``state``: a state file the data is loaded from when it exists (``data`` is then not built),
        else written with the built data; every committed change is on disk before its call is answered
        (see :mod:`.state`).  :meth:`close` closes it."""
        self.host, self._port = host, port
        self.client, self.username, self.password, self.sid = client, username, password, sid
        self.curr_internal = curr_internal  # CURR fields of JPY orders in SAP internal format (1/100)
        self._clock = clock
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.sessions: dict[str, Session] = {}
        self._stop = threading.Event()
        self._faults: list[dict] = []      # fail_next
        self._delays: list[dict] = []      # delay_next
        self._commit_failures = 0
        self._raise: list[dict] = []       # raise_next
        self._returns: list[dict] = []     # return_next
        self._denied: set[str] = set()     # services without S_SERVICE authorization
        self.locks: dict[str, str] = {}    # vbeln -> user holding the enqueue lock
        self.delivery_block_codes = set(DELIVERY_BLOCK_CODES)
        self._state: statefile.StateFile | None = None
        if state is not None:
            self._state, self.data = statefile.open_or_create(state, lambda: self._build(data))
            self.data.today = self.today()
        else:
            self.data = self._build(data)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes = {self.path(s): s for s in SERVICES}

    def _build(self, data) -> demo.Data:
        if isinstance(data, demo.Data):
            return data
        if data == "demo":
            return demo.build_demo(self.today())
        if isinstance(data, str) and data.startswith("large:"):
            return demo.build_demo(self.today(), large=int(data.split(":", 1)[1]))
        raise ValueError(f"unknown data set {data!r}")

    def _commit(self, change: dict) -> None:
        """A committed change: kept in the state file (if any, on disk when this returns), then applied."""
        with self.lock:
            if self._state is not None:
                self._state.record(change)
            statefile.apply(self.data, change)

    # ------------------------------------------------------------------ lifecycle
    def today(self) -> dt.date:
        if self._clock is None:
            return dt.date.today()
        v = self._clock() if callable(self._clock) else self._clock
        return v.date() if isinstance(v, dt.datetime) else v

    def _bind(self):
        if self._httpd is None:
            self._httpd = _Server((self.host, self._port), _Handler)
            self._httpd.sandbox = self

    def start(self) -> SapSandbox:
        self._bind()
        self._stop.clear()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sap-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._bind()
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def close(self) -> None:
        """Stop serving and close the state file (if any)."""
        self.stop()
        with self.lock:
            if self._state is not None:
                self._state.close()
                self._state = None

    def __enter__(self) -> SapSandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def port(self) -> int:
        self._bind()
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ addresses
    def path(self, service: str) -> str:
        s = service.lower()
        return f"/sap/bc/srt/rfc/sap/{s}/{self.client}/{s}/{s}"

    def endpoint(self, service: str) -> str:
        return self.url + self.path(service)

    def wsdl_url(self, service: str) -> str:
        return f"{self.endpoint(service)}?sap-client={self.client}&wsdl"

    def wsdl_bytes(self, service: str) -> bytes:
        raw = schema(service).raw
        addr = self.endpoint(service).encode()
        return re.sub(rb'(<(?:soap|wsoap12):address\s+location=")[^"]*(")', rb"\g<1>" + addr + rb"\g<2>", raw)

    # ------------------------------------------------------------------ test helpers
    def fail_next(self, status: int = 503, count: int = 1, service: str | None = None, body: str | None = None):
        """The next ``count`` requests (to ``service`` if given) answer HTTP ``status`` without SOAP body."""
        with self.lock:
            self._faults.append({"status": status, "count": count, "service": service, "body": body})

    def delay_next(self, seconds: float, count: int = 1, service: str | None = None):
        """The next ``count`` SOAP requests wait ``seconds`` first; they are still executed afterwards."""
        with self.lock:
            self._delays.append({"seconds": seconds, "count": count, "service": service})

    def fail_commit(self, count: int = 1):
        """The next ``count`` commits (TransactionCommit, wrapper) fail: RETURN E, changes rolled back."""
        with self.lock:
            self._commit_failures += count

    def raise_next(self, name: str, text: str = "", msg_id: str = "", number: str = "", service: str | None = None):
        """The next call of an operation that declares RFC exceptions raises exception ``name``."""
        with self.lock:
            self._raise.append({"name": name, "text": text, "msg_id": msg_id, "number": number, "service": service,
                                "count": 1})

    def return_next(self, operation: str, type_: str = "E", msg_id: str = "", number: str = "", message: str = "",
                    count: int = 1):
        """The next ``count`` calls of a read ``operation`` answer HTTP 200 with this RETURN line (a business
        error of the BAPI) and, for type E or A, no data — as a BAPI that failed does."""
        if operation not in _READ_RETURNS:
            raise ValueError(f"return_next supports {', '.join(sorted(_READ_RETURNS))}, not {operation}")
        with self.lock:
            self._returns.append({"service": None, "operation": operation, "count": count,
                                  "line": (type_, msg_id, number, message)})

    def deny_service(self, service: str, denied: bool = True):
        """User lacks S_SERVICE for the service: HTTP 500 Server fault 'Authorization missing for service'."""
        with self.lock:
            (self._denied.add if denied else self._denied.discard)(service.upper())

    def lock_order(self, order_no: str, user: str = "JSMITH"):
        with self.lock:
            self.locks[demo.alpha(order_no)] = user

    def unlock_order(self, order_no: str):
        with self.lock:
            self.locks.pop(demo.alpha(order_no), None)

    def set_open_item(self, customer: str, amount, company_code: str = "1000", **kw) -> dict:
        """Post an open item (see :func:`data.make_item` for keywords); returns it (Bapi30072 names)."""
        fields = kw.pop("fields", None) or {}
        with self.lock:
            item = demo.make_item(self.data, bukrs=company_code, kunnr=demo.alpha(customer), amount=amount, **kw)
            item.update(fields)
            self._commit({"op": "item", "key": demo.item_key(item), "item": item,
                          "counters": dict(self.data._doc_counter)})
            return dict(item)

    def clear_item(self, doc_no: str, company_code: str | None = None, fisc_year: str | None = None,
                   item_num: str = "001", clear_date: dt.date | None = None) -> dict:
        """Clear (pay) an open item: it leaves the open list; reads at an earlier key date still show it."""
        doc_no = demo.alpha(doc_no)
        with self.lock:
            for key, item in list(self.data.items.items()):
                if item["DocNo"] == doc_no and item["ItemNum"] == item_num and \
                        (company_code is None or item["CompCode"] == company_code) and \
                        (fisc_year is None or item["FiscYear"] == fisc_year):
                    cleared = dict(item, ClearDate=clear_date or self.today(), ClrDocNo=self.data.next_doc("15"))
                    self._commit({"op": "clear", "key": key, "item": cleared,
                                  "counters": dict(self.data._doc_counter)})
                    return dict(cleared)
        raise KeyError(f"no open item {doc_no}/{item_num}")

    def open_items(self, customer: str, company_code: str = "1000") -> list[dict]:
        c = demo.alpha(customer)
        with self.lock:
            return [dict(i) for i in self.data.items.values() if i["Customer"] == c and i["CompCode"] == company_code]

    def set_delivery_block(self, order_no: str, code: str):
        vbeln = demo.alpha(order_no)
        with self.lock:
            if vbeln not in self.data.orders:
                raise KeyError(vbeln)
            self._commit({"op": "blocks", "orders": {vbeln: code}})

    def order(self, order_no: str) -> demo.SalesOrder:
        with self.lock:
            return copy.deepcopy(self.data.orders[demo.alpha(order_no)])

    def orders_of(self, customer: str) -> list[demo.SalesOrder]:
        c = demo.alpha(customer)
        with self.lock:
            return [copy.deepcopy(o) for o in self.data.orders.values() if o.sold_to == c]

    def set_rate(self, from_curr: str, to_curr: str, rate, valid_from: dt.date | None = None, rate_type: str = "M",
                 from_factor=1, to_factor=1, indirect: bool = False) -> demo.Rate:
        """Add or replace a TCURR row (valid from ``valid_from``, default today).

        ``rate`` is the quoted figure: direct — ``from_factor`` units of ``from_curr`` cost ``rate`` ×
        ``to_factor`` units of ``to_curr``; ``indirect=True`` — ``to_factor`` units of ``to_curr`` cost
        ``rate`` × ``from_factor`` units of ``from_curr`` (stored negative, as TCURR-UKURS does).
        """
        value = Decimal(str(rate))
        row = demo.Rate(rate_type, from_curr, to_curr, valid_from or self.today(), -value if indirect else value,
                        Decimal(str(from_factor)), Decimal(str(to_factor)))
        self._commit({"op": "rate", "rate": row})
        return row

    def end_sessions(self):
        """End all ABAP sessions (timeout / logoff): uncommitted changes are rolled back."""
        with self.lock:
            self.sessions.clear()

    # ------------------------------------------------------------------ dispatch
    def _take(self, queue: list[dict], service: str | None) -> dict | None:
        with self.lock:
            for entry in queue:
                if entry["service"] is None or entry["service"].upper() == (service or ""):
                    entry["count"] -= 1
                    if entry["count"] <= 0:
                        queue.remove(entry)
                    return entry
        return None

    def _wait(self, seconds: float):
        self._stop.wait(seconds)

    def dispatch(self, service: str, operation: str, params: dict, session: Session | None) -> dict:
        if service in self._denied:
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
            raise ServerFault(
                f'Authorization missing for service "{MC} {service}", operation "{operation}"; more details in '
                f"the web service error log on provider side (UTC timestamp {stamp}; Transaction ID "
                f"{secrets.token_hex(16).upper()})")
        if operation in schema(service).exceptions:
            exc = self._take(self._raise, service)
            if exc:
                raise RfcException(exc["name"], exc["text"], exc["msg_id"], exc["number"])
        handler = getattr(self, f"_op_{operation}")
        with self.lock:
            result = handler(params, session)
            injected = next((r for r in self._returns if r["operation"] == operation), None)
            if injected is not None:
                injected["count"] -= 1
                if injected["count"] <= 0:
                    self._returns.remove(injected)
                result = _with_return(result, operation, *injected["line"])
            return result

    # ------------------------------------------------------------------ operations: FI-AR
    def _op_ArAccGetopenitems(self, p: dict, session) -> dict:
        bukrs, kunnr = p.get("Companycode", ""), p.get("Customer", "")
        keydate = dt.date.fromisoformat(p["Keydate"]) if p.get("Keydate", "") not in ("", "0000-00-00") \
            else self.today()
        if bukrs not in demo.COMPANY_CODES:
            return {"Lineitems": [], "Return": _ret("E", "F5", "165", f"Company code {bukrs} does not exist",
                                                    bukrs)}
        cust = self.data.customers.get(kunnr)
        if cust is None:
            return {"Lineitems": [], "Return": _ret("E", "FN", "502", f"Customer {kunnr} does not exist", kunnr)}
        if bukrs not in cust.company_codes:
            return {"Lineitems": [], "Return": _ret(
                "E", "FN", "503", f"Customer {kunnr} has not been created in company code {bukrs}", kunnr, bukrs)}
        rows = [i for i in self.data.items.values()
                if i["CompCode"] == bukrs and i["Customer"] == kunnr and i["PstngDate"] <= keydate]
        rows += [i for i in self.data.cleared.values()
                 if i["CompCode"] == bukrs and i["Customer"] == kunnr and i["PstngDate"] <= keydate < i["ClearDate"]]
        rows.sort(key=lambda i: (i["FiscYear"], i["DocNo"], i["ItemNum"]))
        out = []
        for i in rows:
            r = dict(i)  # a BSAD line open at the key date keeps its clearing date / document
            r.update({"Name": cust.name, "City": cust.city, "Country": cust.country, "PostlCode": cust.postl_code,
                      "Street": cust.street, "Langu": cust.langu})
            out.append(r)
        return {"Lineitems": out, "Return": {}}

    @staticmethod
    def _credit_area(p: dict) -> str:
        """KKBER of a credit-master read: as given, else the one assigned to company code BUKRS (T001-KKBER)."""
        return p.get("Kkber", "") or demo.COMPANY_CODES.get(p.get("Bukrs", ""), {}).get("kkber", "")

    def _credit_row(self, kunnr: str, kkber: str) -> dict | None:
        """ZSFI013 of one customer in one credit control area, None without credit master (KNKK row).

        The one source of both ZFI_CREDIT_DETAIL and ZCG_CREDIT_LIST: the two can never disagree.
        Receivables: the open items of the area's company codes; open sales values: its orders.
        """
        cm = self.data.credit.get((kunnr, kkber))
        cust = self.data.customers.get(kunnr)
        if cm is None or cust is None:
            return None
        bukrs = [b for b, c in demo.COMPANY_CODES.items() if c["kkber"] == kkber]
        skfor = Decimal(0)
        for i in self.data.items.values():
            if i["Customer"] == kunnr and i["CompCode"] in bukrs and not i["SpGlInd"]:
                skfor += i["LcAmount"] if i["DbCrInd"] == "S" else -i["LcAmount"]
        orders = sum((o.net_value for o in self.data.orders.values()
                      if o.sold_to == kunnr and o.sales_org in bukrs), Decimal(0))
        oblig = skfor + orders
        pct = (oblig / cm.limit * 100) if cm.limit else Decimal(0)
        return {
            "Kunnr": kunnr, "Name1": cust.name[:30], "Kkber": kkber, "Currency": cm.currency,
            "Klimk": _fmt_amount_text(cm.limit, cm.currency), "Skfor": _fmt_amount_text(skfor, cm.currency),
            "Ssobl": _fmt_amount_text(Decimal(0), cm.currency), "Klprz": f"{pct:.2f}",
            "OpenDelivery": _fmt_amount_text(orders, cm.currency), "Oblig": _fmt_amount_text(oblig, cm.currency),
            "Absbt": _fmt_amount_text(Decimal(0), cm.currency), "Ctlpc": cm.risk_category,
            "Crblb": "X" if cm.blocked else "", "Sbgrp": cm.rep_group, "Grupp": cm.credit_group,
            "Sbdat": None, "Dtrev": cm.last_review, "Nxtrv": cm.next_review, "Zterm": "ZB30",
            "Dbekr": _fmt_amount_text(Decimal(0), cm.currency),
        }

    def _op_ZfiCreditDetail(self, p: dict, session) -> dict:
        kunnr, kkber = p.get("Kunnr", ""), self._credit_area(p)
        row = self._credit_row(kunnr, kkber)
        if row is None:
            return {"Return": _ret1("E", "ZFI", "001",
                                    f"No credit data for customer {kunnr} in credit control area {kkber}",
                                    kunnr, kkber), "Zsfi013": {}}
        return {"Return": {}, "Zsfi013": row}

    def _op_ZcgCreditList(self, p: dict, session) -> dict:
        """The credit masters of the customers in range ``Kunnr`` in one area, by customer, at most ``Maxrows``."""
        ranges, kkber = p.get("Kunnr") or [], self._credit_area(p)
        if not kkber:
            bukrs = p.get("Bukrs", "")
            return {"Kunnr": ranges, "Zsfi013": [], "Return": _ret1(
                "E", *NO_CREDIT_AREA, f"No credit control area given or assigned to company code {bukrs}", bukrs)}
        maxrows = int(p.get("Maxrows") or 0)
        found = (self._credit_row(kunnr, area) for kunnr, area in sorted(self.data.credit)
                 if area == kkber and _in_ranges(kunnr, ranges))
        rows = [row for row in found if row is not None]
        return {"Kunnr": ranges, "Zsfi013": rows[:maxrows] if maxrows else rows, "Return": {}}

    # ------------------------------------------------------------------ operations: exchange rates
    def _op_ExchrateGetcurrentrates(self, p: dict, session) -> dict:
        """Per currency pair of the rate type, the TCURR row valid on ``Date``, filtered by the ranges.

        ``DateType`` and ``ShowProtocol`` are accepted and ignored (no log of missing combinations).
        """
        rate_type = p.get("RateType") or "M"  # the BAPI's default
        ranges = {"FromCurrRange": p.get("FromCurrRange") or [], "ToCurrncyRange": p.get("ToCurrncyRange") or []}
        if rate_type not in demo.RATE_TYPES:
            msg_id, number = UNKNOWN_RATE_TYPE
            return {"ExchRateList": [], "Return": [_ret1("E", msg_id, number,
                                                         f"Exchange rate type {rate_type} is not defined",
                                                         rate_type)], **ranges}
        key = p.get("Date") or ""
        if key in ("", "0000-00-00"):
            return {"ExchRateList": [], "Return": [], **ranges}  # initial date: nothing is valid yet
        rows = [self._rate_row(r) for r in self.data.rates_on(rate_type, dt.date.fromisoformat(key))
                if _in_ranges(r.from_curr, ranges["FromCurrRange"]) and _in_ranges(r.to_curr, ranges["ToCurrncyRange"])]
        return {"ExchRateList": rows, "Return": [], **ranges}

    @staticmethod
    def _rate_row(r: demo.Rate) -> dict:
        """A TCURR row as BAPI1093_0: the sign of UKURS tells which of ExchRate / ExchRateV is filled."""
        direct, indirect = (r.rate, Decimal(0)) if r.rate > 0 else (Decimal(0), -r.rate)
        return {"RateType": r.rate_type, "FromCurr": r.from_curr, "ToCurrncy": r.to_curr, "ValidFrom": r.valid_from,
                "ExchRate": direct, "FromFactor": r.from_factor, "ToFactor": r.to_factor,
                "ExchRateV": indirect, "FromFactorV": r.from_factor, "ToFactorV": r.to_factor}

    # ------------------------------------------------------------------ operations: customers
    def _op_ZfiSearchCustomer(self, p: dict, session) -> dict:
        value = (p.get("IValue") or "").strip()
        rx = re.compile(re.escape(value.upper()).replace(r"\*", ".*")) if value else None
        rows = []
        for c in self.data.customers.values():
            if rx is None or c.kunnr == demo.alpha(value) or rx.search(c.name.upper()):
                rows.append({"Kunnr": c.kunnr, "Name1": c.name, "Ort01": c.city, "Stras": c.street,
                             "Pstlz": c.postl_code, "Telf1": c.tel, "Xblocked": "X" if c.deli_blk else "",
                             "Vtweg": "10", "Spart": "00", "Ktokd": "KUNA", "Mcod1": c.name.upper()[:25]})
        if not rows:
            return {"RCode": "E", "RMessage": "No customer found", "TData": []}
        return {"RCode": "S", "RMessage": f"{len(rows)} customers found", "TData": rows}

    def _addressdata(self, c: demo.Customer) -> dict:
        return {"Customer": c.kunnr, "Sort1": c.name.split()[0].upper()[:20], "Name": c.name, "Country": c.country,
                "Countryiso": c.country, "City": c.city, "PostlCod1": c.postl_code, "Region": c.region,
                "Street": c.street, "Tel1Numbr": c.tel}

    def _op_CustomerGetlist(self, p: dict, session) -> dict:
        ranges = p.get("Idrange") or []
        maxrows = int(p.get("Maxrows") or 0)
        found = [self.data.customers[kunnr] for kunnr in sorted(self.data.customers) if _in_ranges(kunnr, ranges)]
        if maxrows:
            found = found[:maxrows]
        return {"Addressdata": [self._addressdata(c) for c in found],
                "Specialdata": [{"Customer": c.kunnr} for c in found],
                "Idrange": ranges, "Return": {}}

    def _op_CustomerGetdetail2(self, p: dict, session) -> dict:
        kunnr, bukrs = p.get("Customerno", ""), p.get("Companycode", "")
        c = self.data.customers.get(kunnr)
        if c is None:
            return {"Return": _ret1("E", "FN", "502", f"Customer {kunnr} does not exist", kunnr),
                    "Customeraddress": {}, "Customergeneraldetail": {}, "Customercompanydetail": {},
                    "Customerbankdetail": []}
        company = {}
        ret = {}
        if bukrs:
            if bukrs in c.company_codes:
                cc = c.company_codes[bukrs]
                company = {"Customer": kunnr, "CompCode": bukrs, "Clerk": cc["clerk"], "Pmnttrms": cc["pmnttrms"]}
            else:
                ret = _ret1("E", "FN", "503", f"Customer {kunnr} has not been created in company code {bukrs}",
                            kunnr, bukrs)
        currency = demo.COMPANY_CODES[next(iter(c.company_codes))]["currency"]
        return {
            "Return": ret,
            "Customeraddress": {"Customer": kunnr, "Name": c.name, "City": c.city, "PostlCode": c.postl_code,
                                "Region": c.region, "Street": c.street, "Telephone": c.tel, "Country": c.country,
                                "Countryiso": c.country, "Langu": c.langu, "LanguIso": LANGUAGE_ISO.get(c.langu, ""),
                                "SortFld": c.name.split()[0].upper()},
            "Customergeneraldetail": {"Customer": kunnr, "OrdrBlkG": c.ordr_blk, "DeliBlkG": c.deli_blk,
                                      "CreatDate": c.created, "EnteredBy": "MIGRATION", "AccntGrp": "KUNA",
                                      "VatRegNo": c.vat, "Currency": currency},
            "Customercompanydetail": company,
            "Customerbankdetail": [],
        }

    # ------------------------------------------------------------------ operations: sales
    def _curr(self, value: Decimal, currency: str) -> Decimal:
        if self.curr_internal and demo.CURRENCY_DECIMALS.get(currency, 2) == 0:
            return value / 100
        return value

    def _op_SalesorderGetlist(self, p: dict, session) -> dict:
        kunnr, vkorg = p.get("CustomerNumber", ""), p.get("SalesOrganization", "")
        if kunnr not in self.data.customers:
            return {"Return": _ret("E", "V1", "003", f"Customer {kunnr} does not exist", kunnr), "SalesOrders": []}
        d_from = p.get("DocumentDate") or ""
        d_to = p.get("DocumentDateTo") or ""
        rows = []
        for so in sorted(self.data.orders.values(), key=lambda o: o.vbeln):
            if so.sold_to != kunnr or so.sales_org != vkorg:
                continue
            if d_from not in ("", "0000-00-00") and so.doc_date < dt.date.fromisoformat(d_from):
                continue
            if d_to not in ("", "0000-00-00") and so.doc_date > dt.date.fromisoformat(d_to):
                continue
            name = self.data.customers[kunnr].name
            for it in so.items:
                rows.append({
                    "SdDoc": so.vbeln, "ItmNumber": it["ItmNumber"], "Material": it["Material"],
                    "ShortText": it["ShortText"], "DocType": so.doc_type, "DocDate": so.doc_date,
                    "ReqQty": it["ReqQty"], "ReqDate": so.doc_date + dt.timedelta(days=14), "PurchNo": so.purch_no,
                    "ValidFrom": None, "ValidTo": None, "BillBlock": so.bill_block, "DlvBlock": so.dlv_block,
                    "SoldTo": kunnr, "Name": name, "ExchgRate": Decimal(1), "BaseUom": it["BaseUom"],
                    "NetPrice": self._curr(it["NetPrice"], so.currency), "CondPUnt": Decimal(1),
                    "CondUnit": it["BaseUom"], "NetValHd": self._curr(so.net_value, so.currency),
                    "NetValue": self._curr(it["NetValue"], so.currency), "Division": "00",
                    "DocStatus": {"A": "Open", "B": "Being processed", "C": "Completed"}[so.status],
                    "SalesOrg": so.sales_org, "SalesUnit": it["SalesUnit"], "ShipPoint": so.sales_org,
                    "DistrChan": "10", "Currency": so.currency, "Plant": so.sales_org, "CurrIso": so.currency,
                    "PurchNoC": so.purch_no, "CreationDate": so.doc_date, "CreationTime": dt.time(9, 30),
                    "StatusDoc": so.status, "MaterialLong": it["Material"],
                })
        return {"Return": {}, "SalesOrders": rows}

    def _check_change(self, vbeln: str, block: str, take_block: bool, updateflag: str) -> list[dict]:
        """Errors of BAPI_SALESORDER_CHANGE for a header delivery-block change ([] = OK)."""
        not_changed = _ret2("E", "V4", "219", f"Sales document {vbeln} was not changed", vbeln)
        if vbeln not in self.data.orders:
            return [_ret2("E", "V1", "302", f"SD document {vbeln} is not in the database or has been archived",
                          vbeln), not_changed]
        if vbeln in self.locks:
            user = self.locks[vbeln]
            return [_ret2("E", "V1", "042", f"Sales document {vbeln} is currently being processed (by user {user})",
                          vbeln, user), not_changed]
        if updateflag != "U":
            return [_ret2("E", "V1", "049", f"Update flag '{updateflag}' is not allowed for the header",
                          updateflag, parameter="ORDER_HEADER_INX"), not_changed]
        if take_block and block and block not in self.delivery_block_codes:
            return [_ret2("E", "00", "058", f"Entry {block} does not exist in TVLS (check entry)", block, "TVLS",
                          parameter="ORDER_HEADER_IN", field="DLV_BLOCK"), not_changed]
        return []

    def _changed(self, vbeln: str) -> list[dict]:
        return [_ret2("S", "V4", "233", "ORDER_HEADER_IN has been processed successfully", "VBAKKOM",
                      parameter="ORDER_HEADER_IN"),
                _ret2("S", "V1", "311", f"Standard Order {vbeln.lstrip('0')} has been saved", "Standard Order",
                      vbeln.lstrip("0"))]

    def _commit_fails(self) -> bool:
        if self._commit_failures > 0:
            self._commit_failures -= 1
            return True
        return False

    @staticmethod
    def _commit_error() -> dict:
        return _ret2("E", "BAPI", "150", "Update terminated; the changes were not saved (COMMIT WORK)",
                     parameter="")

    def _op_SalesorderChange(self, p: dict, session: Session) -> dict:
        vbeln = p.get("Salesdocument", "")
        hin, hinx = p.get("OrderHeaderIn") or {}, p.get("OrderHeaderInx") or {}
        block, take = hin.get("DlvBlock", ""), hinx.get("DlvBlock", "") == "X"
        errors = self._check_change(vbeln, block, take, hinx.get("Updateflag", ""))
        if errors:
            return {"Return": errors}
        if take and p.get("Simulation") != "X":
            session.pending[vbeln] = block
        return {"Return": self._changed(vbeln)}

    def _op_TransactionCommit(self, p: dict, session: Session | None) -> dict:
        if session is None or not session.pending:
            return {"Return": {}}  # nothing registered in this ABAP session: commits nothing, reports nothing
        if self._commit_fails():
            session.pending.clear()
            return {"Return": self._commit_error()}
        self._commit({"op": "blocks", "orders": dict(session.pending)})
        session.pending.clear()
        return {"Return": {}}

    def _op_TransactionRollback(self, p: dict, session: Session | None) -> dict:
        if session is not None:
            session.pending.clear()
        return {"Return": {}}

    def _op_ZcgSalesorderSetDlvBlock(self, p: dict, session) -> dict:
        vbeln, block = p.get("Salesdocument", ""), p.get("DlvBlock", "")
        if vbeln in self.locks:
            user = self.locks[vbeln]
            raise RfcException("ForeignLock", f"Sales document {vbeln} is currently being processed by {user}",
                               "V1", "042")
        errors = self._check_change(vbeln, block, True, "U")
        if errors:
            return {"Return": errors}
        lines = self._changed(vbeln)
        if p.get("Testrun") == "X":
            return {"Return": lines}
        if self._commit_fails():
            return {"Return": lines + [self._commit_error()]}
        self._commit({"op": "blocks", "orders": {vbeln: block}})
        return {"Return": lines}


# ---------------------------------------------------------------------- HTTP

class _Server(QuietHangups, socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SapSandbox



_HTML_401 = """<html><head><title>Logon Error Message</title><meta http-equiv="Content-Type" \
content="text/html; charset=utf-8"></head><body><table><tr><td><h1>Logon failed</h1></td></tr><tr><td>\
<p class="emphasizedFont">What has happened?</p><p>Call of URL {url} terminated due to a logon error.</p>\
<p>Note</p><ul><li>User ID or password incorrect</li><li>Error code: ICF-LE-http-c:{client}-l:E-T:0-C:6-U:11-\
P:2-L:1-X:-x:</li></ul><p>HTTP 401 - Unauthorized</p><p>Your SAP Internet Communication Framework Team</p>\
</td></tr></table></body></html>"""

_HTML_404 = """<html><head><title>Service cannot be reached</title></head><body><h1>Service cannot be reached\
</h1><p>What has happened?</p><p>URL {url} call was terminated because the corresponding service is not \
available.</p><p>Note</p><ul><li>The termination occurred in system {sid} with error code 404 and for the \
reason Not found.</li></ul><p>Your SAP Internet Communication Framework Team</p></body></html>"""

_HTML_ERR = """<html><head><title>{status} {reason}</title></head><body><h2>{status} {reason}</h2><p>\
No server is available to handle this request, or the application server is currently in maintenance.</p>\
<hr><p>SAP Web Dispatcher</p></body></html>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SAP NetWeaver Application Server 7.54 / AS ABAP 754"
    sys_version = ""
    server: _Server

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        import socket
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --------------------------------------------------------------- plumbing
    def _send(self, status: int, body: bytes, ctype: str, headers: list[tuple[str, str]] = ()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("sap-server", "true")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, status: int, html: str, headers=()):
        self._send(status, html.encode(), "text/html; charset=utf-8", headers)

    def _route(self):
        sb = self.server.sandbox
        parsed = urllib.parse.urlsplit(self.path)
        return sb._routes.get(parsed.path.rstrip("/")), parsed

    def _auth(self) -> str | None:
        sb = self.server.sandbox
        h = self.headers.get("Authorization", "")
        if h.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(h[6:]).decode("utf-8").partition(":")
            except Exception:  # noqa: BLE001 - garbage header = failed logon
                return None
            if user.upper() == sb.username.upper() and pw == sb.password:
                return user.upper()
        return None

    def _deny(self, parsed):
        sb = self.server.sandbox
        self._html(401, _HTML_401.format(url=parsed.path, client=sb.client), [
            ("WWW-Authenticate", f'Basic realm="SAP NetWeaver Application Server [{sb.sid}/{sb.client}]"')])

    def _injected_failure(self, service) -> bool:
        sb = self.server.sandbox
        f = sb._take(sb._faults, service)
        if f is None:
            return False
        reason = http.HTTPStatus(f["status"]).phrase if f["status"] in http.HTTPStatus._value2member_map_ else "Error"
        self._html(f["status"], f["body"] or _HTML_ERR.format(status=f["status"], reason=reason))
        return True

    # --------------------------------------------------------------- GET: WSDL
    def do_GET(self):
        service, parsed = self._route()
        sb = self.server.sandbox
        if service is None:
            return self._html(404, _HTML_404.format(url=parsed.path, sid=sb.sid))
        if self._auth() is None:
            return self._deny(parsed)
        if self._injected_failure(service):
            return
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if "wsdl" not in {k.lower() for k in query}:
            return self._html(405, "<html><body>Method GET not allowed for SOAP endpoint; add ?wsdl</body></html>")
        self._send(200, sb.wsdl_bytes(service), "text/xml; charset=utf-8")

    do_HEAD = do_GET

    # --------------------------------------------------------------- POST: SOAP
    def do_POST(self):
        sb = self.server.sandbox
        service, parsed = self._route()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if service is None:
            return self._html(404, _HTML_404.format(url=parsed.path, sid=sb.sid))
        user = self._auth()
        if user is None:
            return self._deny(parsed)
        if self._injected_failure(service):
            return
        delay = sb._take(sb._delays, service)
        if delay:
            sb._wait(delay["seconds"])
        soap_ns = SOAP12 if "application/soap+xml" in (self.headers.get("Content-Type") or "") else SOAP11
        operation, params, session, headers = None, {}, None, []
        try:
            try:
                env = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
            except etree.XMLSyntaxError as exc:
                raise ProcessingError(f"XML: {exc}") from exc
            soap_ns = etree.QName(env).namespace if etree.QName(env).namespace in (SOAP11, SOAP12) else soap_ns
            body = env.find(f"{{{soap_ns}}}Body")
            req = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
            sch = schema(service)
            if req is None or etree.QName(req).namespace != MC or etree.QName(req).localname not in sch.operations:
                raise ProcessingError("unknown operation")
            operation = etree.QName(req).localname
            params = sch.parse(req)
            if sch.session_enabled:
                session, headers = self._session(service)
            result = sb.dispatch(service, operation, params, session)
            out = self._envelope(soap_ns)
            sch.build(out[1], f"{operation}Response", result)
            status = 200
        except RfcException as exc:
            out = self._fault(soap_ns, "Client", exc.name)
            detail = out[1][0].find("detail" if soap_ns == SOAP11 else f"{{{SOAP12}}}Detail")
            values = {"Name": exc.name, "Text": exc.text or None}
            if exc.msg_id:
                values["Message"] = {"ID": exc.msg_id, "Number": exc.number}
            schema(service).build_detail(detail, f"{operation}.Exception", values)
            status = 500
        except Exception as exc:  # noqa: BLE001 - ProcessingError, ServerFault, or a "short dump"
            if isinstance(exc, ServerFault):
                text = str(exc)
            else:
                stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
                text = ("Web service processing error; more details in the web service error log on provider side "
                        f"(UTC timestamp {stamp}; Transaction ID {secrets.token_hex(16).upper()})")
            out = self._fault(soap_ns, "Server", text)
            status = 500
        with sb.lock:
            sb.calls.append(Call(service, operation, params, session.id if session else None, status,
                                 "1.2" if soap_ns == SOAP12 else "1.1", user))
        ctype = "application/soap+xml; charset=utf-8" if soap_ns == SOAP12 else "text/xml; charset=utf-8"
        self._send(status, etree.tostring(out, xml_declaration=False, encoding="utf-8"), ctype, headers)

    def _session(self, service: str) -> tuple[Session, list[tuple[str, str]]]:
        sb = self.server.sandbox
        cookies = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                cookies[k] = v
        ctx = urllib.parse.unquote(cookies.get("sap-contextid", ""))
        with sb.lock:
            if ctx in sb.sessions:
                return sb.sessions[ctx], []
            sid = f"SID:ANON:sapsandbox_{sb.sid}_00:{secrets.token_urlsafe(24)}-NEW"
            sess = Session(sid)
            sb.sessions[sid] = sess
        headers = [
            ("Set-Cookie", f"sap-contextid={urllib.parse.quote(sid, safe='')}; path={sb.path(service)}"),
            ("Set-Cookie", f"SAP_SESSIONID_{sb.sid}_{sb.client}={secrets.token_urlsafe(32)}; path=/; HttpOnly"),
        ]
        return sess, headers

    @staticmethod
    def _envelope(soap_ns: str):
        prefix = "soap-env" if soap_ns == SOAP11 else "env"
        env = etree.Element(f"{{{soap_ns}}}Envelope", nsmap={prefix: soap_ns})
        etree.SubElement(env, f"{{{soap_ns}}}Header")
        etree.SubElement(env, f"{{{soap_ns}}}Body")
        return env

    def _fault(self, soap_ns: str, kind: str, text: str):
        env = self._envelope(soap_ns)
        body = env[1]
        xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
        if soap_ns == SOAP11:
            fault = etree.SubElement(body, f"{{{SOAP11}}}Fault")
            etree.SubElement(fault, "faultcode").text = f"soap-env:{kind}"
            fs = etree.SubElement(fault, "faultstring")
            fs.set(xml_lang, "en")
            fs.text = text
            etree.SubElement(fault, "detail")
        else:
            fault = etree.SubElement(body, f"{{{SOAP12}}}Fault")
            code = etree.SubElement(fault, f"{{{SOAP12}}}Code")
            etree.SubElement(code, f"{{{SOAP12}}}Value").text = "env:Sender" if kind == "Client" else "env:Receiver"
            reason = etree.SubElement(fault, f"{{{SOAP12}}}Reason")
            t = etree.SubElement(reason, f"{{{SOAP12}}}Text")
            t.set(xml_lang, "en")
            t.text = text
            etree.SubElement(fault, f"{{{SOAP12}}}Detail")
        return env


# RETURN structure of each read operation (as its WSDL types it): builder, is a table
_READ_RETURNS = {
    "ArAccGetopenitems": (_ret, False),          # BAPIRETURN
    "SalesorderGetlist": (_ret, False),          # BAPIRETURN
    "CustomerGetlist": (_ret1, False),           # BAPIRETURN1
    "CustomerGetdetail2": (_ret1, False),        # BAPIRETURN1
    "ZfiCreditDetail": (_ret1, False),           # BAPIRETURN1
    "ZcgCreditList": (_ret1, False),             # BAPIRETURN1
    "ExchrateGetcurrentrates": (_ret1, True),    # TABLE OF BAPIRET1
}
