"""JSON-2 glue (Odoo 19): ``POST /json/2/<model>/<method>``, bearer API key, HTTP status codes."""

from __future__ import annotations

import json
import logging
from typing import Any, Mapping

from .faults import (AccessDenied, AccessError, BadRequest, HTTPError, MissingError, NotFound, UserError,
                     arguments_of, message_of, qualified_name, traceback_text)
from .services import Services

log = logging.getLogger("adapters.odoo.sandbox")

CONTENT_TYPE = "application/json; charset=utf-8"


def status_of(exc: BaseException) -> int:
    if isinstance(exc, HTTPError):
        return exc.code
    if isinstance(exc, (AccessError, AccessDenied)):
        return 403
    if isinstance(exc, MissingError):
        return 404
    if isinstance(exc, UserError):
        return 422
    return 500


def error_body(exc: BaseException, method: str = "") -> dict[str, Any]:
    return {"name": qualified_name(exc), "message": message_of(exc), "arguments": arguments_of(exc),
            "context": {}, "debug": traceback_text(exc, "json2", "call", method)}


def bearer(headers: Mapping[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not value:
        return None
    scheme, _sep, key = value.strip().partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def handle(services: Services, path: str, method: str, headers: Mapping[str, str],
           body: bytes) -> tuple[int, bytes]:
    """Answer one JSON-2 request: ``(status, JSON body)``."""
    try:
        parts = path.split("/")  # "", "json", "2", model, method
        if method != "POST" or len(parts) != 5 or not parts[3] or not parts[4]:
            raise NotFound("Did you mean POST /json/2/<model>/<method>?")
        uid = services.bearer_uid(bearer(headers))
        database = next((v for k, v in headers.items() if k.lower() == "x-odoo-database"), None)
        if database and database != services.db.name:
            raise NotFound(f"database {database!r} not found")
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise BadRequest(f"Invalid JSON data: {exc}") from exc
        if not isinstance(payload, dict):
            raise BadRequest("Invalid JSON data: the body must be an object")
        result = services.call_json2(uid, parts[3], parts[4], payload)
        return 200, json.dumps(result, ensure_ascii=False).encode("utf-8")
    except Exception as exc:  # every error is an HTTP status with Odoo's JSON body
        log.debug("call failed", exc_info=True)
        method_name = path.split("/")[4] if path.count("/") == 4 else ""
        return status_of(exc), json.dumps(error_body(exc, method_name), ensure_ascii=False).encode("utf-8")
