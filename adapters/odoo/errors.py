"""Translate Odoo's transport and protocol errors into the core's taxonomy, once.

Classification uses structure only — XML-RPC fault codes, the JSON-RPC
exception class name, HTTP status codes, exception types — never message text.
"""

from __future__ import annotations

import socket
import ssl
import xmlrpc.client
from http.client import HTTPException
from typing import Any

import httpx

from connector.errors import AuthenticationFailed, FatalError, RetryableError, SourceError, exception_chain

from ..limits import AnswerRefused

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# 409 on JSON-2 is Odoo's LockError (a concurrent transaction holds the row).
# 500 on the XML-RPC/JSON-RPC transports (not JSON-2) is a server crash, not a business error.

_AUTH_NAMES = {"odoo.exceptions.AccessDenied"}


def last_line(text: str) -> str:
    """The last non-empty line of a traceback or message."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def from_fault(source: str, fault: xmlrpc.client.Fault) -> SourceError:
    """``/xmlrpc/2`` faults: 3 AccessDenied, 4 AccessError, 2 UserError & co, 1 anything else."""
    code = fault.faultCode
    if code == 3:
        return AuthenticationFailed(source, "access denied (wrong login, password or API key)")
    if code == 4:
        return FatalError(source, f"access error: {last_line(fault.faultString)}")
    if code == 2:
        return FatalError(source, f"Odoo refused the call: {last_line(fault.faultString)}")
    return FatalError(source, f"Odoo server error: {last_line(fault.faultString)}")


def from_jsonrpc_error(source: str, error: dict[str, Any]) -> SourceError:
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    name = data.get("name", "") if isinstance(data.get("name", ""), str) else ""
    message = data.get("message") or error.get("message") or "unknown error"
    message = message if isinstance(message, str) else "unknown error"
    if name in _AUTH_NAMES:
        return AuthenticationFailed(source, "access denied (wrong login, password or API key)")
    if name == "odoo.exceptions.AccessError":
        return FatalError(source, f"access error: {last_line(message)}")
    return FatalError(source, f"Odoo server error ({name or 'unknown'}): {last_line(message)}")


def from_json2_response(source: str, status: int, reason: str, body: Any) -> SourceError:
    """JSON-2 answers errors with an HTTP status and a JSON body naming the exception."""
    message = body.get("message", "") if isinstance(body, dict) else ""
    message = (last_line(message) if isinstance(message, str) else "") or reason
    if status == 401:
        return AuthenticationFailed(source, f"API key refused: {message}")
    if status == 403:
        return FatalError(source, f"access error: {message}")
    if status in (502, 503, 504, 429, 409):
        return RetryableError(source, f"HTTP {status}: {message}")
    return FatalError(source, f"HTTP {status}: {message}")


def from_http_status(source: str, status: int, reason: str) -> SourceError:
    if status in (401, 403):
        return FatalError(source, f"HTTP {status} {reason}: access refused by the server or a proxy")
    if status == 404:
        return FatalError(source, f"HTTP 404 {reason}: no Odoo API at this URL (check url and protocol)")
    if status in RETRYABLE_STATUS:
        return RetryableError(source, f"HTTP {status} {reason}")
    return FatalError(source, f"HTTP {status} {reason}")



def from_refused(source: str, exc: AnswerRefused, url: str) -> SourceError:
    """An answer too big, too slow, too deep, cut short or not what the protocol sends."""
    kind = RetryableError if exc.retryable else FatalError
    return kind(source, exc.describe(url))


def from_transport(source: str, exc: BaseException, url: str) -> SourceError:
    """Network-level failures: refused, reset, timeouts, TLS, HTTP status errors."""
    chain = exception_chain(exc)

    def has(kind: type | tuple[type, ...]) -> bool:
        return any(isinstance(e, kind) for e in chain)

    if isinstance(exc, xmlrpc.client.ProtocolError):
        return from_http_status(source, exc.errcode, exc.errmsg)
    if has(ssl.SSLCertVerificationError):
        return FatalError(source, f"TLS certificate of {url} is not trusted (set ca_file, or verify_tls = false)")
    if has(ssl.SSLError):
        return FatalError(source, f"TLS handshake with {url} failed")
    if has((TimeoutError, socket.timeout, httpx.TimeoutException)):
        return RetryableError(source, f"timed out talking to {url}")
    if has(ConnectionRefusedError):
        return RetryableError(source, f"cannot connect to {url}: connection refused")
    if has(socket.gaierror):
        return RetryableError(source, f"cannot resolve the host of {url}")
    if has((ConnectionError, HTTPException, httpx.TransportError, OSError)):
        return RetryableError(source, f"connection to {url} failed ({exc.__class__.__name__})")
    if isinstance(exc, (ValueError, xmlrpc.client.ResponseError)):
        return FatalError(source, f"unreadable answer from {url}: not an Odoo API response")
    raise exc
