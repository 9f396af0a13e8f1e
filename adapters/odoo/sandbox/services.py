"""Odoo's RPC services (``common``, ``object``, ``db``) and the JSON-2 call, independent of the wire."""

from __future__ import annotations

import inspect
import re
import time
from typing import Any

from . import faults
from .faults import AccessDenied, AccessError, MissingError, NotFound, UnprocessableEntity, UserError
from .orm import BaseModel
from .store import Database

PRIVATE = re.compile(r"^(_.*|init)$")
#: Public methods that exist in one version only.
ONLY_IN = {"has_access": "19", "check_access": "19", "formatted_read_group": "19"}


#: Model methods that only read: never delayed by ``commit_delay``.
READ_METHODS = frozenset({
    "search", "search_read", "search_count", "read", "fields_get", "name_search", "read_group",
    "formatted_read_group", "default_get", "check_access_rights", "check_access", "has_access", "exists",
    "check_object_reference",
})


class Services:
    def __init__(self, db: Database, commit_delay: float = 0.0) -> None:
        self.db = db
        self.commit_delay = commit_delay  # seconds a writing call takes between its start and its commit
        self.failures: dict[str, list[Exception]] = {}  # model -> errors its next calls raise (fault injection)

    def _injected(self, model: str) -> None:
        pending = self.failures.get(model)
        if pending:
            raise pending.pop(0)

    def _transaction(self, name: str, records: Any) -> Any:
        """The transaction a call runs in.  Under ``commit_delay`` a mass action (a writing call on
        several records: ``create`` of a list, a ``write`` or an action on several ids) starts now (its
        ``write_date``) but commits ``commit_delay`` seconds later, while other calls go on."""
        mass = isinstance(records, (list, tuple)) and len(records) > 1
        if not self.commit_delay or name in READ_METHODS or not mass:
            return self.db.transaction()
        with self.db.lock:
            started = self.db.start_time()
        time.sleep(self.commit_delay)
        return self.db.transaction(started_at=started)

    # -- version -------------------------------------------------------------
    def version_info(self) -> dict[str, Any]:
        major = int(self.db.version)
        return {"server_version": f"{major}.0", "server_version_info": [major, 0, 0, "final", 0, ""],
                "server_serie": f"{major}.0", "protocol_version": 1}

    def web_version(self) -> dict[str, Any]:
        info = self.version_info()
        return {"version": info["server_version"], "version_info": info["server_version_info"]}

    # -- dispatch --------------------------------------------------------------
    def dispatch(self, service: str, method: str, params: list[Any]) -> Any:
        """``odoo.http.dispatch_rpc``."""
        handlers = {"common": self._common, "object": self._object, "db": self._db}
        try:
            handler = handlers[service]
        except KeyError:
            raise KeyError(service) from None
        return handler(method, list(params))

    def _common(self, method: str, params: list[Any]) -> Any:
        if method == "version":
            return self.version_info()
        if method == "about":
            info = "See http://openerp.com"
            return [info, self.version_info()["server_version"]] if params and params[0] else info
        if method == "login":
            db, login, password = params[:3]
            return self.authenticate(db, login, password)
        if method == "authenticate":
            db, login, password = params[:3]
            return self.authenticate(db, login, password)
        raise NameError(f"Method not available {method}")

    def _db(self, method: str, params: list[Any]) -> Any:
        if method == "list":
            return [self.db.name]
        if method == "server_version":
            return self.version_info()["server_version"]
        if method == "db_exist":
            return params[0] == self.db.name
        raise KeyError(f"exp_{method}")

    def _object(self, method: str, params: list[Any]) -> Any:
        db, uid, password = params[0], int(params[1]), params[2]
        self.check(db, uid, password)
        if method == "execute":
            model, name, *args = params[3:]
            return self.call(uid, model, name, list(args), {})
        if method == "execute_kw":
            model, name, args = params[3:6]
            kwargs = params[6] if len(params) > 6 else {}
            return self.call(uid, model, name, list(args), dict(kwargs or {}))
        raise NameError(f"Method not available {method}")

    # -- authentication --------------------------------------------------------
    def check_database(self, db: str) -> None:
        if db != self.db.name:
            raise faults.unknown_database(db)

    def authenticate(self, db: str, login: str, password: str) -> int | bool:
        self.check_database(db)
        entry = self.db.passwords.get(login)
        if entry is None:
            return False
        uid, secret = entry
        if not self.db.user(uid)["active"]:
            return False
        if password == secret or self.db.api_keys.get(password) == uid:
            return uid
        return False

    def check(self, db: str, uid: int, password: str) -> None:
        """``security.check``: database, then user, then password or API key."""
        self.check_database(db)
        user = self.db.user(uid)
        if not user["exists"]:
            raise MissingError(f"Record does not exist or has been deleted.\n(Record: res.users({uid},), User: {uid})")
        entry = self.db.passwords.get(user["login"])
        valid = (entry is not None and entry == (uid, password)) or self.db.api_keys.get(password) == uid
        if not valid or not user["active"]:
            raise AccessDenied()

    def bearer_uid(self, key: str | None) -> int:
        if not key:
            raise faults.Unauthorized("User not authenticated, use an API Key with a Bearer Authorization header.")
        uid = self.db.api_keys.get(key)
        if uid is None or not self.db.user(uid)["active"]:
            raise faults.Unauthorized("Invalid apikey")
        return uid

    # -- model calls -------------------------------------------------------------
    def _method(self, model: str, name: str) -> Any:
        """``get_public_method`` with the version's messages."""
        version = self.db.version
        if version == "17" and PRIVATE.match(name):
            raise AccessError(f"Private methods (such as {name}) cannot be called remotely.")
        if model not in self.db.registry:
            raise UserError(f"Object {model} doesn't exist")
        if version == "19" and PRIVATE.match(name):
            raise AccessError(f"Private methods (such as '{model}.{name}') cannot be called remotely.")
        func = getattr(self.db.registry.model_class(model), name, None)
        if not callable(func) or isinstance(func, type) or ONLY_IN.get(name, version) != version:
            if version == "19":
                raise AttributeError(f"The method '{model}.{name}' does not exist")
            raise AttributeError(f"The method '{name}' does not exist on the model '{model}'")
        return func

    def call(self, uid: int, model: str, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``execute_kw``: one call in one transaction."""
        with self._transaction(name, args[0] if args else kwargs.get("vals_list")):
            self._injected(model)
            func = self._method(model, name)
            context = kwargs.pop("context", None) or {}
            env = self.db.env(uid, context)
            records = env[model]
            api = getattr(func, "_api", None)
            if api in ("model", "model_create"):
                result = func(records, *args, **kwargs)
                if api == "model_create":
                    first = args[0] if args else kwargs.get("vals_list")
                    if isinstance(first, dict):
                        result = result[0] if result else False
            else:
                ids, args = args[0], args[1:]
                result = func(records._browse(ids), *args, **kwargs)
            return _plain(result)

    def call_json2(self, uid: int, model: str, name: str, body: dict[str, Any]) -> Any:
        """``POST /json/2/<model>/<method>``: keyword arguments only."""
        with self._transaction(name, body.get("ids") or body.get("vals_list")):
            self._injected(model)
            if model not in self.db.registry:
                raise NotFound(f"the model {model!r} does not exist")
            try:
                func = self._method(model, name)
            except AttributeError as exc:
                raise NotFound(exc.args[0]) from exc
            kwargs = dict(body)
            ids = kwargs.pop("ids", ()) or ()
            context = kwargs.pop("context", None) or {}
            if getattr(func, "_api", None) in ("model", "model_create") and ids:
                raise UnprocessableEntity(f"cannot call {model}.{name} with ids")
            records = self.db.env(uid, context)[model]._browse(ids)
            try:
                inspect.signature(func).bind(records, **kwargs)
            except TypeError as exc:
                raise UnprocessableEntity(exc.args[0]) from exc
            return _plain(func(records, **kwargs))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.ids
    return value
