"""Translate SAP SOAP transport, fault and BAPI RETURN errors into the core's taxonomy, once.

Classification is by structure only — HTTP status, content type, SOAP fault
code, the RFC exception element in the fault detail, BAPI RETURN type and
message id/number — never by message text.  Messages carry SAP's own text
for the operator but never credentials.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import requests

from connector.errors import (
    AuthenticationFailed,
    BadRecord,
    FatalError,
    RetryableError,
    SourceError,
    exception_chain,
)

RETRYABLE_STATUS = {408, 429, 502, 503, 504}
FAILURE_TYPES = {"E", "A"}

# (message class, number) of RETURN lines that concern one customer rather than the whole call
UNKNOWN_CUSTOMER = {("FN", "502"), ("V1", "003")}  # customer does not exist
NOT_IN_COMPANY_CODE = {("FN", "503")}  # customer exists, not created in this company code
NO_CREDIT_DATA = {("ZFI", "001")}  # ZFI_CREDIT_DETAIL: no KNKK row for customer / credit control area


class ReturnError(FatalError):
    """A BAPI RETURN line of type E or A: SAP refused the call."""

    def __init__(self, source: str, operation: str, msg_id: str, number: str, message: str) -> None:
        super().__init__(source, f"{operation} failed: {msg_id} {number} {message}".rstrip())
        self.operation = operation
        self.msg_id = msg_id
        self.number = number
        self.message = message


class CustomerError(BadRecord):
    """A RETURN error that concerns one customer (unknown, not in the company code).

    A :class:`BadRecord`, not a :class:`SourceError`: the caller skips or
    quarantines that customer and goes on with the others.
    """

    def __init__(self, model: str, customer: str, msg_id: str, number: str, message: str) -> None:
        super().__init__(model, customer, f"{msg_id} {number} {message}".rstrip())
        self.customer = customer
        self.msg_id = msg_id
        self.number = number
        self.message = message

    @property
    def not_in_company_code(self) -> bool:
        return (self.msg_id, self.number) in NOT_IN_COMPANY_CODE

    @property
    def no_credit_data(self) -> bool:
        return (self.msg_id, self.number) in NO_CREDIT_DATA


def return_lines(ret: Any) -> list[dict]:
    """RETURN as a list of dicts: a structure (BAPIRETURN/BAPIRET1), a table, or None."""
    if ret is None:
        return []
    if isinstance(ret, dict) and "item" in ret and len(ret) == 1:
        ret = ret["item"] or []
    if isinstance(ret, dict):
        return [ret]
    return [r for r in ret if r]


def message_key(line: dict) -> tuple[str, str]:
    """(message class, number): ``Id``/``Number`` (BAPIRET1/2) or ``Code`` = class + 3 digits (BAPIRETURN)."""
    msg_id = (line.get("Id") or "").strip()
    number = (line.get("Number") or "").strip()
    if not msg_id and not number:
        code = (line.get("Code") or "").strip()
        msg_id, number = (code[:-3], code[-3:]) if len(code) > 3 else (code, "")
    return msg_id, number


def failures(ret: Any) -> list[dict]:
    return [line for line in return_lines(ret) if (line.get("Type") or "").strip() in FAILURE_TYPES]


def check_return(
    source: str, operation: str, ret: Any, *, model: str = "", customer: str | None = None,
    customer_keys: Iterable[tuple[str, str]] = (),
) -> list[dict]:
    """Raise on the first E/A line; return the other (S/W/I) lines for logging.

    Lines whose (class, number) is in ``customer_keys`` (or names an unknown
    customer) raise :class:`CustomerError` for ``customer`` instead of a
    :class:`ReturnError`.
    """
    lines = return_lines(ret)
    keys = set(customer_keys) | UNKNOWN_CUSTOMER | NOT_IN_COMPANY_CODE
    for line in failures(lines):
        msg_id, number = message_key(line)
        message = (line.get("Message") or "").strip()
        if customer is not None and (msg_id, number) in keys:
            raise CustomerError(model or operation, customer, msg_id, number, message)
        raise ReturnError(source, operation, msg_id, number, message)
    return [line for line in lines if (line.get("Type") or "").strip()]


def from_http_status(source: str, status: int, what: str) -> SourceError:
    if status == 401:
        return AuthenticationFailed(source, f"HTTP 401 on {what}: logon refused (wrong user or password)")
    if status == 403:
        return FatalError(source, f"HTTP 403 on {what}: access forbidden (authorization of the user)")
    if status == 404:
        return FatalError(source, f"HTTP 404 on {what}: no such service (check base_url, client and the "
                                  "service activation in SOAMANAGER/SICF)")
    if status in RETRYABLE_STATUS or status >= 500:
        return RetryableError(source, f"HTTP {status} on {what}: server not available")
    return FatalError(source, f"HTTP {status} on {what}")


def rfc_exception(detail: Any) -> dict | None:
    """The ``<Operation>.Exception`` element of a fault detail as {Name, Text, Id, Number}, or None."""
    if detail is None:
        return None
    for element in detail:
        tag = getattr(element, "tag", None)
        if not isinstance(tag, str) or not tag.endswith(".Exception"):
            continue

        def text(parent, name: str) -> str:
            for child in parent:
                if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == name:
                    return (child.text or "").strip()
            return ""

        message = next((c for c in element if isinstance(c.tag, str) and c.tag.rsplit("}", 1)[-1] == "Message"),
                       None)
        return {
            "Name": text(element, "Name"),
            "Text": text(element, "Text"),
            "Id": text(message, "ID") if message is not None else "",
            "Number": text(message, "Number") if message is not None else "",
        }
    return None


def from_fault(source: str, fault: Any, status: int | None, content_type: str, what: str) -> SourceError:
    """A ``zeep.exceptions.Fault``; with ``strict=False`` zeep turns HTML error pages into faults too."""
    is_xml = "xml" in (content_type or "")
    if status is not None and status != 500 and status != 200:
        return from_http_status(source, status, what)
    if not is_xml or fault.code is None:
        # not a SOAP fault: an HTML page of the ICM / web dispatcher
        return from_http_status(source, status or 500, what)
    exc = rfc_exception(fault.detail)
    if exc is not None:
        name = exc["Name"] or (fault.message or "")
        extra = " ".join(p for p in (exc["Id"], exc["Number"], exc["Text"]) if p)
        return FatalError(source, f"{what} raised RFC exception {name}" + (f" ({extra})" if extra else ""))
    code = str(fault.code).rsplit(":", 1)[-1]
    return FatalError(source, f"{what}: SOAP fault {code}: {(fault.message or '').strip()}")



def from_transport(source: str, exc: BaseException, what: str, url: str) -> SourceError:
    """Network-level failures: timeouts, refused/reset connections, TLS."""
    chain = exception_chain(exc)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return FatalError(source, f"TLS certificate of {url} is not trusted (set ca_file, or verify_tls = false)")
    if isinstance(exc, requests.exceptions.SSLError):
        return FatalError(source, f"TLS handshake with {url} failed")
    if isinstance(exc, requests.exceptions.Timeout) or any(isinstance(e, TimeoutError) for e in chain):
        return RetryableError(source, f"{what}: timed out talking to {url}")
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError)):
        return RetryableError(source, f"{what}: cannot connect to {url} ({exc.__class__.__name__})")
    if isinstance(exc, (requests.exceptions.RequestException, OSError)):
        return RetryableError(source, f"{what}: connection to {url} failed ({exc.__class__.__name__})")
    return FatalError(source, f"{what}: unexpected {exc.__class__.__name__} talking to {url}")
