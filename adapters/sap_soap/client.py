"""Calls to SOAMANAGER-generated RFC web services of one SAP system, through zeep.

One ``requests.Session`` (HTTP Basic logon, TLS settings, cookies) carries every
call; each service is described by a local WSDL file (the system's own export
belongs in ``wsdl_dir``) and bound to the real endpoint
``<base_url>/sap/bc/srt/rfc/sap/<svc>/<client>/<svc>/<svc>``.  Every call is
counted, retried on transient errors only (tenacity) and its errors translated
once into the core's taxonomy (see :mod:`adapters.sap_soap.errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import requests.adapters
from lxml import etree
import urllib3
import zeep
import zeep.exceptions
import zeep.helpers
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay, wait_exponential_jitter

from connector.errors import (
    AmbiguousWrite,
    FatalError,
    RecordLocked,
    RetryableError,
    SourceError,
    exception_chain,
)
from connector.logs import get_logger

from .. import limits
from . import errors

log = get_logger("creditguard.sap")

MC = "urn:sap-com:document:sap:soap:functions:mc-style"
WSDL_DIR = Path(__file__).with_name("wsdl")

# service definition (SOAMANAGER) -> WSDL file in wsdl_dir
SERVICES: dict[str, str] = {
    "Z_BAPI_AR_ACC_GETOPENITEMS": "z_bapi_ar_acc_getopenitems.wsdl",
    "ZFI_CREDIT_DETAIL": "zfi_credit_detail.wsdl",
    "ZCG_CREDIT_LIST": "zcg_credit_list.wsdl",  # optional customer function (abap/zcg_credit_list.abap)
    "Z_BAPI_CUSTOMER_GETLIST": "z_bapi_customer_getlist.wsdl",
    "Z_BAPI_CUSTOMER_GETDETAIL2": "z_bapi_customer_getdetail2.wsdl",
    "Z_BAPI_SALESORDER_GETLIST": "z_bapi_salesorder_getlist.wsdl",
    "ZCG_SALESORDER_SET_DLV_BLOCK": "zcg_salesorder_set_dlv_block.wsdl",
    "Z_BAPI_SALESORDER_CHANGE": "z_bapi_salesorder_change.wsdl",  # stateful: change + commit in one session
    "Z_BAPI_EXCHRATE_GETCURRENTRATES": "z_bapi_exchrate_getcurrentrates.wsdl",
}

CHANGE_SERVICE = "Z_BAPI_SALESORDER_CHANGE"
WRAPPER_SERVICE = "ZCG_SALESORDER_SET_DLV_BLOCK"
LOCKED = {("V1", "042")}  # sales document is being processed by another user (enqueue lock)
LOCK_EXCEPTIONS = {"ForeignLock"}  # the wrapper's RFC exception for the same
SESSION_COOKIES = ("sap-contextid", "SAP_SESSIONID_")


def rows(table: Any) -> list[dict[str, Any]]:
    """A TABLES parameter (``TableOf…`` = sequence of ``item``) as a list of dicts."""
    if table is None:
        return []
    if isinstance(table, dict):
        table = table.get("item") or []
    return [dict(r) for r in table if r is not None]


class _HTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        limits.guard_socket(self.sock)


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        limits.guard_socket(self.sock)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose sockets wait no longer than what is left of the call's deadline
    (requests' own timeout applies to each socket operation, not to a call)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class _Transport(zeep.Transport):
    """zeep's transport with the answer streamed and capped, an HTML page refused, and the SOAP XML checked
    (well-formed, UTF-8, no DTD or entities, bounded depth) before zeep parses it."""

    def __init__(self, *, session: requests.Session, timeout: float, bounds: limits.Limits) -> None:
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self.limits = bounds

    def post(self, address: str, message: Any, headers: Any) -> requests.Response:
        connect = limits.bound(self.operation_timeout)  # before the request: nothing sent yet
        with limits.reading(address, (requests.exceptions.ReadTimeout,)):
            response = self.session.post(address, data=message, headers=headers,
                                         timeout=(connect, self.operation_timeout), stream=True)
            try:
                xml = "xml" in limits.media_type(response.headers)
                if response.status_code == 200:
                    limits.check_head(response.headers, self.limits, "a SOAP answer")
                body = bytes(limits.read_capped(self._chunks(response), self.limits))
            finally:
                response.close()
            if response.status_code in (200, 500) and (xml or response.status_code == 200):
                limits.check_xml(body, "a SOAP answer")
        response._content = body  # what zeep reads: response.content
        return response

    @staticmethod
    def _chunks(response: requests.Response) -> Any:
        try:
            yield from response.iter_content(64 * 1024)
        except requests.exceptions.ConnectionError as exc:
            if any(isinstance(e, (TimeoutError, urllib3.exceptions.ReadTimeoutError))
                   for e in exception_chain(exc)):
                raise requests.exceptions.ReadTimeout(str(exc)) from exc
            raise limits.AnswerRefused("connection dropped mid-answer", retryable=True) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise limits.AnswerRefused("connection dropped mid-answer", retryable=True) from None


class _TablesAreTables(zeep.Plugin):
    """Refuse an answer whose TABLES parameter (a ``TableOf…`` of ``item`` rows) holds text instead of rows:
    zeep would read it as no rows at all, and a snapshot read of no rows would sweep the stored records."""

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        tables = _table_parameters(operation)
        body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        for response in body if body is not None else ():
            for parameter in response:
                name = etree.QName(parameter).localname if isinstance(parameter.tag, str) else None
                if name in tables:
                    _check_table(name, parameter)
        return envelope, http_headers


def _check_table(name: str, table: Any) -> None:
    rows = [child for child in table if isinstance(child.tag, str)]
    if (table.text or "").strip() or any(etree.QName(row).localname != "item" for row in rows):
        raise limits.AnswerRefused(f"the table {name} holds text or other elements instead of rows")
    if any((row.text or "").strip() and not len(row) for row in rows):
        raise limits.AnswerRefused(f"a row of the table {name} holds text instead of fields")


def _table_parameters(operation: Any) -> frozenset[str]:
    """The output parameters of ``operation`` that are tables (a sequence of ``item``)."""
    try:
        elements = operation.output.body.type.elements
    except AttributeError:
        return frozenset()
    return frozenset(name for name, element in elements
                     if [n for n, _ in getattr(element.type, "elements", [])] == ["item"])


class SapClient:
    """Counted, retried and translated calls to one SAP client (Mandant)."""

    def __init__(
        self,
        *,
        source: str,
        base_url: str,
        client: str,
        username: str,
        secret: Callable[[], str],
        wsdl_dir: Path | str | None = None,
        timeout: float = 30.0,
        verify_tls: bool = True,
        ca_file: str | None = None,
        client_cert: str | tuple[str, str] | None = None,
        retry_attempts: int = 4,
        retry_wait_max: float = 15.0,
        max_answer_mb: float | None = None,
        call_deadline: float | None = None,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.username = username
        self.wsdl_dir = Path(wsdl_dir) if wsdl_dir else WSDL_DIR
        self.timeout = timeout
        self.limits = limits.Limits.of(max_answer_mb, call_deadline, timeout)
        self.calls = 0
        self._secret = secret
        self._session: requests.Session | None = None
        self._tls = (verify_tls, ca_file, client_cert)
        self._zeep: dict[str, Any] = {}
        self._last_status: int | None = None
        self._last_ctype = ""
        self._retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            # the deadline bounds a call with its retries: no retry starts that could not end within it
            stop=stop_after_attempt(max(1, retry_attempts)) | stop_before_delay(self.limits.deadline_seconds),
            wait=wait_exponential_jitter(multiplier=0.5, max=retry_wait_max, jitter=min(1.0, retry_wait_max)),
            reraise=True,
        )

    # --------------------------------------------------------------- plumbing

    def endpoint(self, service: str) -> str:
        s = service.lower()
        return f"{self.base_url}/sap/bc/srt/rfc/sap/{s}/{self.client}/{s}/{s}"

    def _http(self) -> requests.Session:
        if self._session is None:
            verify_tls, ca_file, client_cert = self._tls
            session = requests.Session()
            session.mount("http://", _DeadlineAdapter())
            session.mount("https://", _DeadlineAdapter())
            session.auth = (self.username, self._secret())
            session.verify = ca_file if (verify_tls and ca_file) else verify_tls
            if client_cert:
                session.cert = client_cert
            session.hooks["response"].append(self._record_response)
            self._session = session
        return self._session

    def _record_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_status = response.status_code
        self._last_ctype = response.headers.get("Content-Type", "")

    def _service(self, service: str) -> Any:
        if service not in self._zeep:
            if service not in SERVICES:
                raise FatalError(self.source, f"unknown SAP service {service!r}")
            path = self.wsdl_dir / SERVICES[service]
            if not path.is_file():
                raise FatalError(self.source, f"WSDL of {service} not found: {path}")
            transport = _Transport(session=self._http(), timeout=self.timeout, bounds=self.limits)
            # strict=False: a release with a field more or less is still read; the XML itself was checked
            zc = zeep.Client(str(path), transport=transport, plugins=[_TablesAreTables()],
                             settings=zeep.Settings(strict=False, xml_huge_tree=False, forbid_dtd=True,
                                                    forbid_entities=True))
            self._zeep[service] = zc.create_service(f"{{{MC}}}{service}", self.endpoint(service))
        return self._zeep[service]

    def _attempt(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        what = f"{service}.{operation}"
        proxy = getattr(self._service(service), operation)
        self.calls += 1
        self._last_status, self._last_ctype = None, ""
        try:
            with limits.deadline(self.limits.deadline_seconds):
                result = proxy(**params)
        except SourceError:
            raise
        except limits.AnswerRefused as exc:
            if self._last_status not in (None, 200, 500) and not isinstance(exc, limits.NoAnswerInTime):
                raise errors.from_http_status(self.source, self._last_status, what) from None
            kind = RetryableError if exc.retryable else FatalError
            raise kind(self.source, f"{what}: {exc.describe(self.endpoint(service))}") from None
        except zeep.exceptions.Fault as fault:
            raise errors.from_fault(self.source, fault, self._last_status, self._last_ctype, what) from None
        except zeep.exceptions.TransportError as exc:
            raise errors.from_http_status(self.source, exc.status_code, what) from None
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError):
            if self._last_status not in (None, 200):
                raise errors.from_http_status(self.source, self._last_status, what) from None
            raise FatalError(self.source, f"{what}: unreadable answer (not the SOAP response the WSDL describes)") \
                from None
        except zeep.exceptions.ValidationError as exc:
            raise FatalError(self.source, f"{what}: request does not fit the WSDL ({exc.message})") from None
        except (requests.exceptions.RequestException, OSError) as exc:
            raise errors.from_transport(self.source, exc, what, self.base_url) from None
        if self._last_status not in (None, 200):
            raise errors.from_http_status(self.source, self._last_status, what)
        answer = zeep.helpers.serialize_object(result, dict)
        if not isinstance(answer, dict):  # single output parameter
            answer = {"result": answer}
        return answer

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One operation; returns its output parameters as a dict (empty elements are ``None``)."""
        with limits.deadline(self.limits.deadline_seconds):
            return self._retrying(self._attempt, service, operation, params)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._zeep.clear()

    # ------------------------------------------------------------------ BAPIs

    def _log_messages(self, operation: str, lines: list[dict]) -> None:
        for line in lines:
            msg_id, number = errors.message_key(line)
            log.info("sap.return_message", source=self.source, operation=operation, type=line.get("Type"),
                     msg_id=msg_id, number=number, message=line.get("Message"))

    def customer_list(self, *, after: str | None = None, max_rows: int = 0) -> list[dict[str, Any]]:
        """``BAPI_CUSTOMER_GETLIST``: address rows in customer number order, after ``after`` (keyset)."""
        idrange = {"item": [{"Sign": "I", "Option": "GT", "Low": after, "High": ""}]} if after else \
            {"item": [{"Sign": "I", "Option": "CP", "Low": "*", "High": ""}]}
        answer = self.call("Z_BAPI_CUSTOMER_GETLIST", "CustomerGetlist", Idrange=idrange, Maxrows=max_rows,
                           Addressdata={}, Specialdata={}, Cpdonly="")
        self._log_messages("CustomerGetlist",
                           errors.check_return(self.source, "CustomerGetlist", answer.get("Return")))
        return sorted(rows(answer.get("Addressdata")), key=lambda r: r.get("Customer") or "")

    def customer_detail(self, customer: str, company_code: str = "") -> dict[str, Any]:
        """``BAPI_CUSTOMER_GETDETAIL2``; unknown customer → :class:`errors.CustomerError`."""
        answer = self.call("Z_BAPI_CUSTOMER_GETDETAIL2", "CustomerGetdetail2", Customerno=customer,
                           Companycode=company_code, Customerbankdetail={})
        self._log_messages("CustomerGetdetail2", errors.check_return(
            self.source, "CustomerGetdetail2", answer.get("Return"), model="KNA1", customer=customer))
        return answer

    def credit_detail(self, customer: str, company_code: str, credit_control_area: str = "") -> dict | None:
        """``ZFI_CREDIT_DETAIL`` (KNKK); None when the customer has no credit master in that area."""
        answer = self.call("ZFI_CREDIT_DETAIL", "ZfiCreditDetail", Bukrs=company_code, Kkber=credit_control_area,
                           Kunnr=customer)
        try:
            self._log_messages("ZfiCreditDetail", errors.check_return(
                self.source, "ZfiCreditDetail", answer.get("Return"), model="KNKK", customer=customer,
                customer_keys=errors.NO_CREDIT_DATA))
        except errors.CustomerError as exc:
            if exc.no_credit_data:
                return None
            raise
        return answer.get("Zsfi013") or None

    def credit_list(self, company_code: str, credit_control_area: str, first: str, last: str,
                    max_rows: int = 0) -> list[dict[str, Any]]:
        """``ZCG_CREDIT_LIST``: the credit masters (``Zsfi013`` rows, as ``ZFI_CREDIT_DETAIL`` returns them) of
        the customers ``first``..``last`` in one credit control area, in customer number order, at most
        ``max_rows`` (0: all); a customer without a credit master there is absent."""
        answer = self.call("ZCG_CREDIT_LIST", "ZcgCreditList", Bukrs=company_code, Kkber=credit_control_area,
                           Kunnr={"item": [{"Sign": "I", "Option": "BT", "Low": first, "High": last}]},
                           Maxrows=max_rows, Zsfi013={})
        self._log_messages("ZcgCreditList", errors.check_return(self.source, "ZcgCreditList", answer.get("Return")))
        return sorted(rows(answer.get("Zsfi013")), key=lambda r: r.get("Kunnr") or "")

    def open_items(self, customer: str, company_code: str, key_date: str) -> list[dict[str, Any]]:
        """``BAPI_AR_ACC_GETOPENITEMS`` at ``key_date`` (YYYY-MM-DD); customer errors → CustomerError."""
        answer = self.call("Z_BAPI_AR_ACC_GETOPENITEMS", "ArAccGetopenitems", Companycode=company_code,
                           Customer=customer, Keydate=key_date, Lineitems={})
        self._log_messages("ArAccGetopenitems", errors.check_return(
            self.source, "ArAccGetopenitems", answer.get("Return"), model="BSID", customer=customer))
        return rows(answer.get("Lineitems"))

    def sales_orders(self, customer: str, sales_organization: str) -> list[dict[str, Any]]:
        """``BAPI_SALESORDER_GETLIST``: one row per order item."""
        answer = self.call("Z_BAPI_SALESORDER_GETLIST", "SalesorderGetlist", CustomerNumber=customer,
                           SalesOrganization=sales_organization, SalesOrders={}, Extensionin={}, Extensionex={})
        self._log_messages("SalesorderGetlist", errors.check_return(
            self.source, "SalesorderGetlist", answer.get("Return"), model="VBAK", customer=customer))
        return rows(answer.get("SalesOrders"))

    def current_rates(self, key_date: str, rate_type: str = "M") -> list[dict[str, Any]]:
        """``BAPI_EXCHRATE_GETCURRENTRATES``: per currency pair of ``rate_type``, the TCURR row valid on
        ``key_date`` (YYYY-MM-DD) as ``BAPI1093_0`` rows; all pairs (empty ranges).  An unknown rate type
        comes back as RETURN E → :class:`errors.ReturnError`."""
        answer = self.call("Z_BAPI_EXCHRATE_GETCURRENTRATES", "ExchrateGetcurrentrates", Date=key_date,
                           RateType=rate_type, ExchRateList={}, Return={})
        self._log_messages("ExchrateGetcurrentrates", errors.check_return(
            self.source, "ExchrateGetcurrentrates", answer.get("Return")))
        return rows(answer.get("ExchRateList"))

    # ------------------------------------------------------------ write side

    def request_message(self, service: str, operation: str, **params: Any) -> Any:
        """The SOAP envelope (lxml element) this client would POST for ``operation`` — no network.

        Used by the golden-request tests; ``params`` are exactly what :meth:`call` / :meth:`send` get.
        """
        proxy = self._service(service)
        return proxy._client.create_message(proxy, operation, **params)

    def empty_structure(self, service: str, type_name: str) -> dict[str, Any]:
        """Every field of a WSDL structure set to ``''`` (SAP structures have no optional fields).

        Built from the WSDL in use, so a full system export (116 fields of ``Bapisdh1``) works like
        the sandbox's abridged one.
        """
        proxy = self._service(service)
        xsd_type = proxy._client.get_type(f"{{{MC}}}{type_name}")
        return {name: "" for name, _element in xsd_type.elements}

    def send(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One *writing* call: never retried here (the outbox retries after re-reading).

        * a timeout after the request went out → :class:`AmbiguousWrite` (it may have been applied);
        * the wrapper's ``ForeignLock`` RFC exception → :class:`RetryableError` (order being edited);
        * everything else as :meth:`call` translates it (connection refused, 503 → RetryableError).
        """
        what = f"{service}.{operation}"
        try:
            return self._attempt(service, operation, params)
        except RetryableError as exc:
            cause = exc.__context__
            if isinstance(cause, limits.NoAnswerInTime) or isinstance(cause, requests.exceptions.Timeout) and \
                    not isinstance(cause, requests.exceptions.ConnectTimeout):
                raise AmbiguousWrite(self.source, f"{what}: no answer in {self.timeout:g}s; the change may "
                                                  "have been applied (re-read before any resend)") from None
            raise
        except FatalError as exc:
            cause = exc.__context__
            if isinstance(cause, zeep.exceptions.Fault):
                rfc = errors.rfc_exception(cause.detail) or {}
                if rfc.get("Name") in LOCK_EXCEPTIONS or (rfc.get("Id"), rfc.get("Number")) in LOCKED:
                    detail = " ".join(p for p in (rfc.get("Id"), rfc.get("Number"), rfc.get("Text")) if p)
                    raise RecordLocked(self.source, f"{what}: order locked by another user ({detail}); "
                                                      "retry later") from None
            raise

    @staticmethod
    def _return_of(answer: dict[str, Any]) -> Any:
        """RETURN of an answer; zeep unwraps a single output parameter (``TransactionCommit``'s
        ``Bapiret2`` comes back as the structure itself, the wrapper's table as ``result``)."""
        if "Return" in answer:
            return answer["Return"]
        if "result" in answer:
            return answer["result"]
        return answer or None

    def _check_write(self, operation: str, answer: dict[str, Any]) -> list[dict]:
        """RETURN of a write: E/A → ReturnError, a lock (V1 042) → RetryableError; W/I/S logged."""
        ret = self._return_of(answer)
        for line in errors.failures(ret):
            if errors.message_key(line) in LOCKED:
                raise RecordLocked(self.source, f"{operation}: {' '.join(errors.message_key(line))} "
                                                  f"{(line.get('Message') or '').strip()} (retry later)")
        lines = errors.check_return(self.source, operation, ret)
        self._log_messages(operation, lines)
        return lines

    def has_session(self, service: str) -> bool:
        """Whether the HTTP session holds the ABAP session cookie (``sap-contextid``) for ``service``."""
        if self._session is None:
            return False
        path = requests.utils.urlparse(self.endpoint(service)).path
        return any(c.name == "sap-contextid" and path.startswith(c.path or "/") for c in self._session.cookies)

    def drop_session(self) -> None:
        """Forget the ABAP session cookies: the next stateful call opens a new session; the old one
        ends on its timeout and discards whatever was not committed."""
        if self._session is None:
            return
        for cookie in list(self._session.cookies):
            if cookie.name.startswith(SESSION_COOKIES):
                self._session.cookies.clear(cookie.domain, cookie.path, cookie.name)

    def change_args(self, order: str, block: str) -> dict[str, Any]:
        """Arguments of ``BAPI_SALESORDER_CHANGE`` that set (or, with ``''``, clear) the header delivery block."""
        header = self.empty_structure(CHANGE_SERVICE, "Bapisdh1") | {"DlvBlock": block}
        headerx = self.empty_structure(CHANGE_SERVICE, "Bapisdh1x") | {"Updateflag": "U", "DlvBlock": "X"}
        return {"Salesdocument": order, "OrderHeaderIn": header, "OrderHeaderInx": headerx, "Return": {}}

    def salesorder_change(self, order: str, block: str) -> list[dict]:
        """Stateful ``SalesorderChange`` (pending in the ABAP session until :meth:`transaction_commit`)."""
        answer = self.send(CHANGE_SERVICE, "SalesorderChange", **self.change_args(order, block))
        return self._check_write("SalesorderChange", answer)

    def transaction_commit(self) -> list[dict]:
        """``BAPI_TRANSACTION_COMMIT`` with ``WAIT = 'X'`` in the same HTTP (= ABAP) session as the change."""
        answer = self.send(CHANGE_SERVICE, "TransactionCommit", Wait="X")
        return self._check_write("TransactionCommit", answer)

    def transaction_rollback(self) -> list[dict]:
        answer = self.send(CHANGE_SERVICE, "TransactionRollback")
        return self._check_write("TransactionRollback", answer)

    def wrapper_args(self, order: str, block: str) -> dict[str, Any]:
        return {"Salesdocument": order, "DlvBlock": block, "Return": {}, "Testrun": ""}

    def set_delivery_block(self, order: str, block: str) -> list[dict]:
        """Wrapper ``ZCG_SALESORDER_SET_DLV_BLOCK``: change + commit (or rollback) in one call."""
        answer = self.send(WRAPPER_SERVICE, "ZcgSalesorderSetDlvBlock", **self.wrapper_args(order, block))
        return self._check_write("ZcgSalesorderSetDlvBlock", answer)


__all__ = ["SapClient", "SERVICES", "WSDL_DIR", "rows"]
