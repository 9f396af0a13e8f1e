"""XML-RPC glue: ``/xmlrpc/2/<service>`` (integer fault codes) and legacy ``/xmlrpc/<service>``."""

from __future__ import annotations

import logging
import xmlrpc.client
from typing import Any

from .faults import AccessDenied, AccessError, MissingError, UserError, traceback_text
from .services import Services

log = logging.getLogger("adapters.odoo.sandbox")


def _stage(exc: BaseException, service: str, method: str) -> str:
    if type(exc).__name__ == "OperationalError":
        return "db"
    if service == "object" and isinstance(exc, (AccessDenied, MissingError)) and "res.users(" in str(exc):
        return "auth"
    return "call"


def fault_int(exc: BaseException, stage: str, method: str = "") -> xmlrpc.client.Fault:
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault(4, str(exc))
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault(3, str(exc))
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault(2, str(exc))
    return xmlrpc.client.Fault(1, traceback_text(exc, "xmlrpc", stage, method))


def fault_legacy(exc: BaseException, stage: str, method: str = "") -> xmlrpc.client.Fault:
    if isinstance(exc, MissingError):
        return xmlrpc.client.Fault(f"warning -- MissingError\n\n{exc}", "")
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault(f"warning -- AccessError\n\n{exc}", "")
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault("AccessDenied", str(exc))
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault(f"warning -- UserError\n\n{exc}", "")
    return xmlrpc.client.Fault(str(exc), traceback_text(exc, "xmlrpc_legacy", stage, method))


def dumps(value: tuple[Any, ...] | xmlrpc.client.Fault) -> bytes:
    body = xmlrpc.client.Marshaller("utf-8", allow_none=False).dumps(value)
    return f'<?xml version="1.0"?>\n<methodResponse>\n{body}</methodResponse>\n'.encode("utf-8")


def handle(services: Services, service: str, body: bytes, legacy: bool) -> bytes:
    """Answer one XML-RPC request (faults are HTTP 200, as in Odoo)."""
    fault = fault_legacy if legacy else fault_int
    method, model_method = "", ""
    try:
        params, method = xmlrpc.client.loads(body, use_datetime=True)
        if service == "object" and len(params) > 4 and isinstance(params[4], str):
            model_method = params[4]
        result = services.dispatch(service, method or "", list(params))
    except Exception as exc:  # every error becomes a fault, as Odoo does
        log.debug("call failed", exc_info=True)
        return dumps(fault(exc, _stage(exc, service, method or ""), model_method))
    try:
        return dumps((result,))
    except Exception as exc:  # e.g. "cannot marshal None": the call itself was committed
        return dumps(fault(exc, "marshal"))
