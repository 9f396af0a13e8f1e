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
import ssl
import xmlrpc.client
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from odoolib.json2 import Json2Connection, Json2Connector, JsonModel
from odoolib.rpc import Connection, JsonRPCConnector, Model, XmlRPCConnector
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay, wait_exponential_jitter

from connector.errors import AuthenticationFailed, FatalError, RetryableError, SourceError

from .. import limits
from . import errors

PROTOCOLS = ("xmlrpc", "xmlrpcs", "jsonrpc", "jsonrpcs", "json2")


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits no longer than what is left of the call's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, limits.bound(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, limits.bound(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, limits.bound(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, limits.bound(timeout), local_address,
                                                       socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, limits.bound(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _http_client(timeout: float, context: ssl.SSLContext | None) -> httpx.Client:
    """One keep-alive httpx client for every protocol, its connections bound by the call's deadline
    (httpx's own timeouts apply to each socket operation, not to a call)."""
    ssl_context = context or httpx.create_ssl_context()
    transport = httpx.HTTPTransport(verify=ssl_context)
    # httpx takes no network backend: its pool is rebuilt with the same settings (httpx pinned, tested)
    transport._pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=100,
                                              max_keepalive_connections=20, keepalive_expiry=5.0,
                                              network_backend=_DeadlineBackend())
    return httpx.Client(timeout=timeout, transport=transport)


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body of ``response``; a connection lost while it arrives is an answer cut short."""
    try:
        yield from response.iter_bytes()
    except httpx.TimeoutException:
        raise
    except httpx.TransportError:
        raise limits.AnswerRefused("connection dropped mid-answer", retryable=True) from None


class _Transport:
    """XML-RPC over the client's httpx connections: the answer streamed into a defused expat parser (no
    DTD, no entities, bounded depth), capped in size and bounded by the call's deadline."""

    def __init__(self, http: httpx.Client, base_url: str, bounds: limits.Limits) -> None:
        self._http = http
        self._base_url = base_url
        self._limits = bounds

    def request(self, host: str, handler: str, request_body: bytes, verbose: bool = False) -> tuple:
        url = f"{self._base_url}{handler}"
        with limits.reading(url, (httpx.TimeoutException,)):
            with self._http.stream("POST", url, content=request_body,
                                   headers={"Content-Type": "text/xml"}) as response:
                if response.status_code != 200:
                    raise xmlrpc.client.ProtocolError(url, response.status_code, response.reason_phrase, {})
                limits.check_head(response.headers, self._limits, "XML-RPC")
                target = xmlrpc.client.Unmarshaller()
                feed = limits.XmlFeed(target, "XML-RPC")
                for chunk in limits.capped(_chunks(response), self._limits):
                    feed.feed(chunk)
                feed.close()
            try:
                return target.close()
            except xmlrpc.client.ResponseError:
                raise limits.AnswerRefused("not XML-RPC (no methodResponse)") from None

    def close(self) -> None:
        pass


class _XmlRpcConnector(XmlRPCConnector):
    """``/xmlrpc/2`` (integer fault codes), over the client's bounded httpx connections."""

    def __init__(self, base_url: str, http: httpx.Client, bounds: limits.Limits) -> None:
        self.url = f"{base_url}/xmlrpc/2"
        transport = _Transport(http, base_url, bounds)
        self._proxies = {
            service: xmlrpc.client.ServerProxy(f"{self.url}/{service}", transport=transport, allow_none=True)
            for service in ("common", "object")
        }

    def send(self, service_name, method, *args):
        return getattr(self._proxies[service_name], method)(*args)


class HttpStatus(Exception):
    def __init__(self, status: int, reason: str, body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reason = reason
        self.body = body


def _request_json(http: httpx.Client, method: str, url: str, bounds: limits.Limits, expected: str,
                  **kwargs: Any) -> Any:
    """A 200 answer's body as JSON, streamed (never more than the cap, never past the deadline), parsed with
    orjson, nesting bounded.  The body is read past httpx's cache: an httpx response sits in a reference cycle
    until the garbage collector runs, and a first sync would keep megabytes of pages on it.  Another status
    raises :class:`HttpStatus` with its body (JSON or None)."""
    with limits.reading(url, (httpx.TimeoutException,)):
        with http.stream(method, url, **kwargs) as response:
            if response.status_code != 200:
                raise HttpStatus(response.status_code, response.reason_phrase, _error_body(response, bounds))
            limits.check_head(response.headers, bounds, expected)
            content = limits.read_capped(_chunks(response), bounds)
        return limits.parse_json(content, expected)


def _error_body(response: httpx.Response, bounds: limits.Limits) -> Any:
    """The JSON of an error answer, if it is small and readable JSON; else None."""
    try:
        return limits.parse_json(limits.read_capped(_chunks(response), bounds), "JSON")
    except limits.AnswerRefused:
        return None


class JsonRpcError(Exception):
    def __init__(self, error: Any) -> None:
        error = error if isinstance(error, dict) else {"message": str(error)[:200]}
        super().__init__(error.get("message", "JSON-RPC error"))
        self.error = error


class _JsonRpcConnector(JsonRPCConnector):
    """``/jsonrpc`` over one keep-alive httpx client."""

    def __init__(self, base_url: str, http: httpx.Client, bounds: limits.Limits) -> None:
        self.url = f"{base_url}/jsonrpc"
        self._http = http
        self._limits = bounds
        self._ids = itertools.count(1)

    def send(self, service_name, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service_name, "method": method, "args": args},
            "id": next(self._ids),
        }
        body = _request_json(self._http, "POST", self.url, self._limits, "JSON-RPC", json=payload)
        if not isinstance(body, dict) or not ("result" in body or "error" in body):
            raise limits.AnswerRefused(f"not JSON-RPC ({_kind(body)} without result or error)").at(self.url)
        if body.get("error"):
            raise JsonRpcError(body["error"])
        return body.get("result", False)


class _Json2Model(JsonModel):
    """JSON-2 model calls with keyword arguments only (no introspection round trip)."""

    def __getattr__(self, method):
        connection: "_Json2Connection" = self.connection

        def proxy(**kwargs):
            return _request_json(connection.http, "POST", self._url(method), connection.limits, "a JSON-2 answer",
                                 headers=connection.bearer_header, json=kwargs)

        return proxy


class _Json2Connection(Json2Connection):
    def __init__(self, connector: Json2Connector, database: str, api_key: str, http: httpx.Client,
                 bounds: limits.Limits) -> None:
        super().__init__(connector, database, api_key)
        self.http = http
        self.limits = bounds

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
        max_answer_mb: float | None = None,
        call_deadline: float | None = None,
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
        self.limits = limits.Limits.of(max_answer_mb, call_deadline, timeout)
        self._http = _http_client(timeout, self._context)
        # the deadline bounds a call with its retries: no retry starts that could not end within it
        self._retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(max(1, retry_attempts)) | stop_before_delay(self.limits.deadline_seconds),
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
        except limits.AnswerRefused as exc:
            raise errors.from_refused(self.source, exc, self.base_url) from None
        except xmlrpc.client.Fault as fault:
            raise errors.from_fault(self.source, fault) from None
        except JsonRpcError as exc:
            raise errors.from_jsonrpc_error(self.source, exc.error) from None
        except HttpStatus as exc:
            if self.protocol == "json2":
                raise errors.from_json2_response(self.source, exc.status, exc.reason, exc.body) from None
            raise errors.from_http_status(self.source, exc.status, exc.reason) from None
        except Exception as exc:  # transport errors of xmlrpc.client, http.client, httpx, ssl
            raise errors.from_transport(self.source, exc, self.base_url) from None

    def _call(self, fn: Callable[[], Any]) -> Any:
        with limits.deadline(self.limits.deadline_seconds):
            return self._retrying(self._attempt, fn)

    def _wrong_shape(self, what: str, answer: Any, expected: str) -> FatalError:
        return FatalError(self.source, f"{what} answered {_kind(answer)} where {expected} was expected "
                                       f"(from {self.base_url})")

    def _records(self, model: str, method: str, answer: Any) -> list[dict[str, Any]]:
        """A list of records, each a dict with an integer id; else the whole answer is refused."""
        if not isinstance(answer, list):
            raise self._wrong_shape(f"{model}.{method}", answer, "a list of records")
        for raw in answer:
            if not isinstance(raw, dict):
                raise self._wrong_shape(f"{model}.{method}", raw, "a record (a JSON object / XML-RPC struct)")
            if type(raw.get("id")) is not int:
                raise FatalError(self.source, f"{model}.{method} answered a record without an integer id "
                                              f"(id: {_kind(raw.get('id'))}, from {self.base_url})")
        return answer

    # ------------------------------------------------------------------ public

    def server_version(self) -> dict[str, Any]:
        """``common.version()`` (``GET /json/version`` on JSON-2), no authentication needed."""
        if self.protocol == "json2":

            url = f"{self.base_url}/json/version"

            def fetch():
                body = _request_json(self._http, "GET", url, self.limits, "the Odoo version")
                if not isinstance(body, dict) or "version" not in body or "version_info" not in body:
                    raise self._wrong_shape("GET /json/version", body, "an object with version and version_info")
                return {"server_version": body["version"], "server_version_info": body["version_info"]}

            info = self._call(fetch)
        else:
            info = self._call(lambda: self._rpc_connection().get_service("common").version())
        if not isinstance(info, dict):
            raise self._wrong_shape("common.version", info, "a dict")
        return info

    def _rpc_connection(self) -> Connection:
        if self._connection is None:
            if self.protocol in ("xmlrpc", "xmlrpcs"):
                connector = _XmlRpcConnector(self.base_url, self._http, self.limits)
            else:
                connector = _JsonRpcConnector(self.base_url, self._http, self.limits)
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
            self._connection = _Json2Connection(connector, self.database, secret, self._http, self.limits)
            return
        connection = self._rpc_connection()
        uid = self._call(
            lambda: connection.get_service("common").authenticate(self.database, self.username, secret, {})
        )
        if uid is not False and uid is not None and type(uid) is not int:
            raise self._wrong_shape("common.authenticate", uid, "a user id or false")
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
            return self._records(model, "read", self.execute(model, "read", ids=ids, fields=fields))
        return self._records(model, "read", self.execute(model, "read", ids, fields))

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
        return self._records(model, "search_read", self.execute(model, "search_read", **kwargs))

    def module_installed(self, name: str) -> bool:
        """Whether the Odoo module ``name`` (e.g. ``credit_guard``) is installed."""
        return bool(self.search_read("ir.module.module", [("name", "=", name), ("state", "=", "installed")],
                                     ["name"]))

    def fields_present(self, model: str, names: Sequence[str]) -> set[str]:
        """Which of the fields ``names`` the model has on this server (``fields_get``): the fields an addon adds
        depend on the version of it that is installed, and reading a field a model lacks is a fault."""
        answer = self.execute(model, "fields_get", allfields=list(names), attributes=["type"])
        if not isinstance(answer, dict):
            raise self._wrong_shape(f"{model}.fields_get", answer, "a dict")
        return {name for name in names if name in answer}

    def search_count(self, model: str, domain: list, *, context: dict[str, Any] | None = None) -> int:
        kwargs: dict[str, Any] = {"domain": domain}
        if context:
            kwargs["context"] = context
        count = self.execute(model, "search_count", **kwargs)
        if type(count) is not int:
            raise self._wrong_shape(f"{model}.search_count", count, "a number")
        return count

    def close(self) -> None:
        self._http.close()


def _kind(value: Any) -> str:
    """What a value is, for an error message (never the value: it may be huge, or private)."""
    if isinstance(value, bool) or value is None:
        return repr(value).lower() if value is not None else "null"
    names = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "a dict",
             tuple: "a list"}
    return names.get(type(value), f"a {type(value).__name__}")


__all__ = ["OdooClient", "PROTOCOLS"]
