"""A connection to one Odoo database through odoo-client-lib.

odoo-client-lib supplies the protocol objects (connectors, ``Connection``,
models); this module replaces its transports where the library has gaps the
product cannot accept: no timeout on XML-RPC, no TLS settings, the legacy
``/xmlrpc`` endpoint with string fault codes, JSON-2 errors turned into bare
``ValueError`` text.  Every call is counted, retried on transient errors only
(tenacity) and its errors translated once into the core's taxonomy.
"""

from __future__ import annotations

import itertools
import json
import ssl
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from odoolib.json2 import Json2Connection, Json2Connector, JsonModel
from odoolib.rpc import Connection, JsonRPCConnector, Model, XmlRPCConnector
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from connector.errors import AuthenticationFailed, FatalError, RetryableError, SourceError

from . import errors

PROTOCOLS = ("xmlrpc", "xmlrpcs", "jsonrpc", "jsonrpcs", "json2")


class _Transport(xmlrpc.client.SafeTransport):
    """XML-RPC transport with a timeout and an explicit TLS context."""

    def __init__(self, timeout: float, context: ssl.SSLContext | None, https: bool) -> None:
        super().__init__(context=context)
        self._timeout = timeout
        self._https = https

    def make_connection(self, host):  # type: ignore[override]
        if self._https:
            connection = super().make_connection(host)
        else:
            connection = xmlrpc.client.Transport.make_connection(self, host)
        connection.timeout = self._timeout
        return connection


class _XmlRpcConnector(XmlRPCConnector):
    """``/xmlrpc/2`` (integer fault codes), with timeout and TLS settings."""

    def __init__(self, base_url: str, timeout: float, context: ssl.SSLContext | None) -> None:
        self.url = f"{base_url}/xmlrpc/2"
        https = base_url.startswith("https:")
        self._proxies = {
            service: xmlrpc.client.ServerProxy(
                f"{self.url}/{service}", transport=_Transport(timeout, context, https), allow_none=True
            )
            for service in ("common", "object")
        }

    def send(self, service_name, method, *args):
        return getattr(self._proxies[service_name], method)(*args)


def _post(http: httpx.Client, url: str, **kwargs: Any) -> tuple[httpx.Response, Any]:
    """POST, and a 200 answer's body as JSON.  The body is read past httpx's cache: an httpx response sits in
    a reference cycle until the garbage collector runs, and a first sync would keep megabytes of pages on
    it.  Other answers are read whole (their ``response.json()`` tells what went wrong)."""
    with http.stream("POST", url, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            return response, None
        return response, _json(b"".join(response.iter_bytes()))


def _json(content: bytes) -> Any:
    """JSON parsed with orjson (a first sync parses hundreds of megabytes of it); numbers orjson does not
    take (integers beyond 64 bits) go through the standard parser."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


class JsonRpcError(Exception):
    def __init__(self, error: Any) -> None:
        error = error if isinstance(error, dict) else {"message": str(error)[:200]}
        super().__init__(error.get("message", "JSON-RPC error"))
        self.error = error


class _JsonRpcConnector(JsonRPCConnector):
    """``/jsonrpc`` over one keep-alive httpx client."""

    def __init__(self, base_url: str, http: httpx.Client) -> None:
        self.url = f"{base_url}/jsonrpc"
        self._http = http
        self._ids = itertools.count(1)

    def send(self, service_name, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service_name, "method": method, "args": args},
            "id": next(self._ids),
        }
        response, body = _post(self._http, self.url, json=payload)
        response.raise_for_status()
        if not isinstance(body, dict):
            raise ValueError("not a JSON-RPC answer")
        if body.get("error"):
            raise JsonRpcError(body["error"])
        return body.get("result", False)


class Json2Error(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _Json2Model(JsonModel):
    """JSON-2 model calls with keyword arguments only (no introspection round trip)."""

    def __getattr__(self, method):
        connection: "_Json2Connection" = self.connection

        def proxy(**kwargs):
            response, body = _post(connection.http, self._url(method), headers=connection.bearer_header, json=kwargs)
            if response.status_code != 200:
                raise Json2Error(response)
            return body

        return proxy


class _Json2Connection(Json2Connection):
    def __init__(self, connector: Json2Connector, database: str, api_key: str, http: httpx.Client) -> None:
        super().__init__(connector, database, api_key)
        self.http = http

    def get_model(self, model_name):
        return _Json2Model(self, model_name)


def _ssl_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class OdooClient:
    """Authenticated calls to one Odoo database, counted, retried and translated."""

    def __init__(
        self,
        *,
        source: str,
        url: str,
        database: str,
        username: str,
        secret: Callable[[], str],
        protocol: str = "xmlrpc",
        timeout: float = 30.0,
        verify_tls: bool = True,
        ca_file: str | None = None,
        retry_attempts: int = 4,
        retry_wait_max: float = 15.0,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise FatalError(source, f"unknown protocol {protocol!r} (one of {', '.join(PROTOCOLS)})")
        parts = urlsplit(url)
        self.source = source
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.database = database
        self.username = username
        self.protocol = protocol
        self._secret = secret
        self._timeout = timeout
        self._context = _ssl_context(verify_tls, ca_file) if parts.scheme == "https" else None
        self._http = httpx.Client(timeout=timeout, verify=self._context or True)
        self._retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(max(1, retry_attempts)),
            wait=wait_exponential_jitter(multiplier=0.5, max=retry_wait_max, jitter=min(1.0, retry_wait_max)),
            reraise=True,
        )
        self._connection: Connection | _Json2Connection | None = None
        self.calls = 0
        self.uid: int | None = None

    # --------------------------------------------------------------- plumbing

    def _attempt(self, fn: Callable[[], Any]) -> Any:
        self.calls += 1
        try:
            return fn()
        except SourceError:
            raise
        except xmlrpc.client.Fault as fault:
            raise errors.from_fault(self.source, fault) from None
        except JsonRpcError as exc:
            raise errors.from_jsonrpc_error(self.source, exc.error) from None
        except Json2Error as exc:
            raise errors.from_json2_response(self.source, exc.response) from None
        except httpx.HTTPStatusError as exc:
            raise errors.from_http_status(
                self.source, exc.response.status_code, exc.response.reason_phrase
            ) from None
        except Exception as exc:  # transport errors of xmlrpc.client, http.client, httpx, ssl
            raise errors.from_transport(self.source, exc, self.base_url) from None

    def _call(self, fn: Callable[[], Any]) -> Any:
        return self._retrying(self._attempt, fn)

    # ------------------------------------------------------------------ public

    def server_version(self) -> dict[str, Any]:
        """``common.version()`` (``GET /json/version`` on JSON-2), no authentication needed."""
        if self.protocol == "json2":

            def fetch():
                response = self._http.get(f"{self.base_url}/json/version")
                response.raise_for_status()
                body = response.json()
                return {"server_version": body["version"], "server_version_info": body["version_info"]}

            return self._call(fetch)
        return self._call(lambda: self._rpc_connection().get_service("common").version())

    def _rpc_connection(self) -> Connection:
        if self._connection is None:
            if self.protocol in ("xmlrpc", "xmlrpcs"):
                connector = _XmlRpcConnector(self.base_url, self._timeout, self._context)
            else:
                connector = _JsonRpcConnector(self.base_url, self._http)
            self._connection = Connection(connector, self.database, self.username, None)
        assert isinstance(self._connection, Connection)
        return self._connection

    def login(self) -> None:
        """Authenticate (XML-RPC / JSON-RPC) or prepare the API-key header (JSON-2)."""
        secret = self._secret()
        if self.protocol == "json2":
            connector = Json2Connector.__new__(Json2Connector)
            connector.url = f"{self.base_url}/json/2/"
            connector.callback_fire = False
            self._connection = _Json2Connection(connector, self.database, secret, self._http)
            return
        connection = self._rpc_connection()
        uid = self._call(
            lambda: connection.get_service("common").authenticate(self.database, self.username, secret, {})
        )
        if not uid:
            raise AuthenticationFailed(
                self.source,
                f"login refused for user {self.username!r} on database {self.database!r} "
                "(wrong user or password)",
            )
        connection.set_login_info(self.database, self.username, secret, uid)
        self.uid = uid

    def execute(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``model.method(*args, **kwargs)`` on the server.

        JSON-2 has keyword arguments only: positional arguments are given names
        by the caller (see :meth:`search_read`).
        """
        if self._connection is None:
            self.login()
        connection = self._connection
        if isinstance(connection, _Json2Connection):
            if args:
                raise TypeError("JSON-2 calls take keyword arguments only")
            proxy = connection.get_model(model).__getattr__(method)
            return self._call(lambda: proxy(**kwargs))
        # Model.__getattr__ is odoo-client-lib's execute_kw proxy; its own search_read
        # would make two calls (search + read), so the proxy is asked for by name.
        proxy = Model.__getattr__(connection.get_model(model), method)
        return self._call(lambda: proxy(*args, **kwargs))

    def call_method(self, model: str, method: str, ids: list[int], **kwargs: Any) -> Any:
        """A record method (``message_post``, ``action_feedback``…) on ``ids``, on every protocol."""
        if self.protocol == "json2":
            return self.execute(model, method, ids=ids, **kwargs)
        return self.execute(model, method, ids, **kwargs)

    def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        if self.protocol == "json2":
            return self.execute(model, "read", ids=ids, fields=fields)
        return self.execute(model, "read", ids, fields)

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> bool:
        if self.protocol == "json2":
            return self.execute(model, "write", ids=ids, vals=values)
        return self.execute(model, "write", ids, values)

    def create(self, model: str, values: dict[str, Any]) -> int:
        if self.protocol == "json2":
            created = self.execute(model, "create", vals_list=[values])
        else:
            created = self.execute(model, "create", [values])
        return created[0] if isinstance(created, list) else created

    def search_read(
        self,
        model: str,
        domain: list,
        fields: list[str],
        *,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"domain": domain, "fields": fields}
        if limit:
            kwargs["limit"] = limit
        if order:
            kwargs["order"] = order
        if context:
            kwargs["context"] = context
        return self.execute(model, "search_read", **kwargs)

    def module_installed(self, name: str) -> bool:
        """Whether the Odoo module ``name`` (e.g. ``credit_guard``) is installed."""
        return bool(self.search_read("ir.module.module", [("name", "=", name), ("state", "=", "installed")],
                                     ["name"]))

    def search_count(self, model: str, domain: list, *, context: dict[str, Any] | None = None) -> int:
        kwargs: dict[str, Any] = {"domain": domain}
        if context:
            kwargs["context"] = context
        return self.execute(model, "search_count", **kwargs)

    def close(self) -> None:
        self._http.close()


__all__ = ["OdooClient", "PROTOCOLS"]
