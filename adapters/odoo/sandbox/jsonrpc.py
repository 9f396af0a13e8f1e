"""JSON-RPC glue: ``POST /jsonrpc`` with ``{"method": "call", "params": {service, method, args}}``."""

from __future__ import annotations

import json
import logging
from typing import Any

from .faults import BadRequest, arguments_of, message_of, qualified_name, traceback_text
from .services import Services

log = logging.getLogger("adapters.odoo.sandbox")


def error_object(exc: BaseException, version: str, stage: str = "call", method: str = "") -> dict[str, Any]:
    """Odoo's ``JsonRPCDispatcher.handle_error``: HTTP 200, ``error.code`` 200 (17) or 0 (19)."""
    return {
        "code": 0 if version == "19" else 200,
        "message": "Odoo Server Error",
        "data": {
            "name": qualified_name(exc),
            "debug": traceback_text(exc, "jsonrpc", stage, method),
            "message": message_of(exc),
            "arguments": arguments_of(exc),
            "context": {},
        },
    }


def handle(services: Services, body: bytes) -> bytes:
    request_id, model_method = None, ""
    try:
        request = json.loads(body or b"{}")
        if not isinstance(request, dict):
            raise BadRequest("Invalid JSON-RPC request")
        request_id = request.get("id")
        params = request.get("params") or {}
        service, method = params.get("service"), params.get("method")
        args = params.get("args") or []
        if service == "object" and len(args) > 4 and isinstance(args[4], str):
            model_method = args[4]
        result = services.dispatch(service, method, list(args))
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "result": result}
    except Exception as exc:  # every error is an "error" member, as in Odoo
        log.debug("call failed", exc_info=True)
        stage = "db" if type(exc).__name__ == "OperationalError" else "call"
        answer = {"jsonrpc": "2.0", "id": request_id, "error": error_object(exc, services.db.version, stage, model_method)}
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")
