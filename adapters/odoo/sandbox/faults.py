"""Odoo's exceptions and how each protocol puts them on the wire.

The classes mirror ``odoo.exceptions`` (plus the few foreign ones Odoo lets
through: psycopg2's ``OperationalError`` and werkzeug's HTTP errors).  Python
built-ins (``ValueError``, ``TypeError``, ``AttributeError``...) are raised as
themselves, exactly as Odoo does.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """``odoo.exceptions.UserError``: a business rule refused the call."""

    qualname = "odoo.exceptions.UserError"
    legacy_tag = "UserError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(UserError):
    qualname = "odoo.exceptions.ValidationError"
    legacy_tag = "UserError"


class MissingError(UserError):
    qualname = "odoo.exceptions.MissingError"
    legacy_tag = "MissingError"


class AccessError(UserError):
    qualname = "odoo.exceptions.AccessError"
    legacy_tag = "AccessError"


class AccessDenied(UserError):
    qualname = "odoo.exceptions.AccessDenied"
    legacy_tag = "AccessDenied"

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class OperationalError(Exception):
    """``psycopg2.OperationalError`` (an unknown database)."""

    qualname = "psycopg2.OperationalError"


class HTTPError(Exception):
    """A werkzeug HTTP exception (JSON-2 only)."""

    code = 500
    title = "Internal Server Error"
    qualname = "werkzeug.exceptions.InternalServerError"

    def __init__(self, description: str) -> None:
        super().__init__(description, self.code)
        self.description = description

    def __str__(self) -> str:
        return f"{self.code} {self.title}: {self.description}"


class Unauthorized(HTTPError):
    code, title, qualname = 401, "Unauthorized", "werkzeug.exceptions.Unauthorized"


class NotFound(HTTPError):
    code, title, qualname = 404, "Not Found", "werkzeug.exceptions.NotFound"


class BadRequest(HTTPError):
    code, title, qualname = 400, "Bad Request", "werkzeug.exceptions.BadRequest"


class UnprocessableEntity(HTTPError):
    code, title, qualname = 422, "Unprocessable Entity", "werkzeug.exceptions.UnprocessableEntity"


def unknown_database(db: str) -> OperationalError:
    return OperationalError(
        f'connection to server at "127.0.0.1", port 55432 failed: '
        f'FATAL:  database "{db}" does not exist\n'
    )


def qualified_name(exc: BaseException) -> str:
    """Exception class as Odoo names it (``builtins.ValueError``...)."""
    name = getattr(type(exc), "qualname", None)
    if name:
        return name
    module = type(exc).__module__
    return f"{module}.{type(exc).__name__}"


def message_of(exc: BaseException) -> str:
    if isinstance(exc, HTTPError):
        return exc.description
    return str(exc)


def arguments_of(exc: BaseException) -> list[Any]:
    if isinstance(exc, HTTPError):
        return [exc.description, exc.code]
    if isinstance(exc, UserError):
        return [exc.message]
    return [a if isinstance(a, (str, int, float, bool)) or a is None else str(a) for a in exc.args]


# --------------------------------------------------------------------------
# Tracebacks: Odoo sends its server-side traceback; we send a plausible one.
# --------------------------------------------------------------------------

_ODOO = "/usr/lib/python3/dist-packages/odoo"

_ENTRY = {
    "xmlrpc": [
        (f"{_ODOO}/addons/base/controllers/rpc.py", 162, "xmlrpc_2", "response = self._xmlrpc(service)"),
        (f"{_ODOO}/addons/base/controllers/rpc.py", 139, "_xmlrpc", "result = dispatch_rpc(service, method, params)"),
    ],
    "xmlrpc_legacy": [
        (f"{_ODOO}/addons/base/controllers/rpc.py", 150, "xmlrpc_1", "response = self._xmlrpc(service)"),
        (f"{_ODOO}/addons/base/controllers/rpc.py", 139, "_xmlrpc", "result = dispatch_rpc(service, method, params)"),
    ],
    "jsonrpc": [
        (f"{_ODOO}/http.py", 1785, "_serve_db", "return service_model.retrying(self._serve_ir_http, self.env)"),
        (f"{_ODOO}/http.py", 2063, "dispatch", "result = self.request.registry['ir.http']._dispatch(endpoint)"),
        (f"{_ODOO}/addons/base/controllers/rpc.py", 169, "jsonrpc", "return dispatch_rpc(service, method, args)"),
    ],
    "json2": [
        (f"{_ODOO}/http.py", 2321, "_serve_db", "return service_model.retrying(serve_func, env=self.env)"),
        (f"{_ODOO}/service/model.py", 186, "retrying", "result = func()"),
        (f"{_ODOO}/http.py", 2355, "_serve_ir_http", "response = self.dispatcher.dispatch(rule.endpoint, args)"),
        (f"{_ODOO}/addons/rpc/controllers/json2.py", 71, "web_json_2_rpc", "result = func(records, **kwargs)"),
    ],
}

_STAGE = {
    "db": [
        (f"{_ODOO}/modules/registry.py", 90, "__new__", "return cls.registries[db_name]"),
        (f"{_ODOO}/sql_db.py", 663, "db_connect", "return Connection(pool, db, info)"),
        (f"{_ODOO}/sql_db.py", 566, "borrow", "result = psycopg2.connect("),
        ("/usr/lib/python3/dist-packages/psycopg2/__init__.py", 122, "connect",
         "conn = _connect(dsn, connection_factory=connection_factory, **kwasync)"),
    ],
    "auth": [
        (f"{_ODOO}/http.py", 368, "dispatch_rpc", "return dispatch(method, params)"),
        (f"{_ODOO}/service/model.py", 28, "dispatch", "security.check(db, uid, passwd)"),
        (f"{_ODOO}/service/security.py", 15, "check", "return res_users.check(db, uid, passwd)"),
        (f"{_ODOO}/addons/base/models/res_users.py", 911, "check", "self._check_uid_passwd(uid, passwd)"),
    ],
    "call": [
        (f"{_ODOO}/http.py", 368, "dispatch_rpc", "return dispatch(method, params)"),
        (f"{_ODOO}/service/model.py", 38, "dispatch", "res = execute_kw(db, uid, *params[3:])"),
        (f"{_ODOO}/service/model.py", 59, "execute_kw", "return execute(db, uid, obj, method, *args, **kw or {})"),
        (f"{_ODOO}/service/model.py", 65, "execute", "res = execute_cr(cr, uid, obj, method, *args, **kw)"),
        (f"{_ODOO}/service/model.py", 50, "execute_cr", "result = retrying(partial(odoo.api.call_kw, recs, method, args, kw), env)"),
        (f"{_ODOO}/service/model.py", 134, "retrying", "result = func()"),
        (f"{_ODOO}/api.py", 468, "call_kw", "result = _call_kw_multi(method, model, args, kwargs)"),
        (f"{_ODOO}/api.py", 453, "_call_kw_multi", "result = method(recs, *args, **kwargs)"),
    ],
    "marshal": [
        ("/usr/lib/python3.12/xmlrpc/client.py", 1121, "dumps", "data = m.dumps(params)"),
        ("/usr/lib/python3.12/xmlrpc/client.py", 532, "dumps", "dump(v, write)"),
        ("/usr/lib/python3.12/xmlrpc/client.py", 554, "__dump", "f(self, value, write)"),
        ("/usr/lib/python3.12/xmlrpc/client.py", 558, "dump_nil", 'raise TypeError("cannot marshal None unless allow_none is enabled")'),
    ],
    "orm": [
        (f"{_ODOO}/models.py", 1523, "search", "return self.search_fetch(domain, [], offset=offset, limit=limit, order=order)"),
        (f"{_ODOO}/models.py", 1551, "search_fetch", "query = self._search(domain, offset=offset, limit=limit, order=order or self._order)"),
        (f"{_ODOO}/models.py", 5318, "_search", "query = self._where_calc(domain)"),
        (f"{_ODOO}/osv/expression.py", 1008, "parse", "self.__leaf_to_sql(leaf, model, alias)"),
    ],
}


def traceback_text(exc: BaseException, protocol: str, stage: str = "call", method: str = "") -> str:
    """A ``traceback.format_exception``-like text ending with Odoo's last line."""
    lines = ["Traceback (most recent call last):"]
    frames = list(_ENTRY.get(protocol, _ENTRY["jsonrpc"]))
    if protocol != "json2":
        frames += _STAGE.get(stage, _STAGE["call"])
    if stage == "call" and not isinstance(exc, (UserError, HTTPError)):
        text = str(exc)
        if " in leaf " in text or " in condition " in text or "domain" in text:
            frames += _STAGE["orm"]
        elif method:
            frames.append((f"{_ODOO}/models.py", 3410, method, f"return self._{method}(*args, **kwargs)"
                           if not method.startswith("_") else "raise"))
    for path, line, func, code in frames:
        lines.append(f'  File "{path}", line {line}, in {func}')
        lines.append(f"    {code}")
    if isinstance(exc, HTTPError):
        last = f"{exc.qualname}: {exc}"
    else:
        name = qualified_name(exc)
        if name.startswith("builtins."):
            name = name[len("builtins."):]
        text = str(exc)
        last = f"{name}: {text}" if text else name
    return "\n".join(lines) + "\n" + last.rstrip("\n") + "\n"
