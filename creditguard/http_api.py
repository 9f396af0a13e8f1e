"""The daemon's HTTP API (werkzeug application, served by waitress).

    GET  /healthz               alive (no token)
    GET  /readyz                store reachable, every source synced within its allowed lag (no token)
    GET  /metrics               Prometheus metrics
    POST /v1/check              the order's facts as the ERP has it now (creditguard/check_request.py), or
                                {"order": "S00042", "source": "odoo"} (a synced order) or
                                {"customer": "C00042", "amount": "1250.00", "currency": "USD"}
    GET  /v1/customers/<ref>    exposure, limit, headroom, flags and payment figures (DSO) of a credit group
    GET  /v1/cases[/<group>]    collection cases; POST /v1/cases/<group>/<action> works one
                                (creditguard/case_api.py)
    GET  /v1/holds              holds on orders (``?source=&state=held|released&order=S00042``), as
                                ``creditguard holds --json``: reasons, release tier, who released it, at which
                                tier and why

    /ui/...                     the web dashboard (creditguard/ui/app.py): a login page, then HTML pages

Everything but the two health probes and the dashboard needs ``Authorization: Bearer <token>``; the dashboard
takes that token (or ``[http] ui_token_env``'s) on its login page into a session cookie.
Errors are JSON ``{"error": {"code", "message"}}``; bad input is a 4xx naming the field, never a
traceback.  Bodies are strict: UTF-8 JSON of at most ``[http] max_body_bytes``, nested at most
``MAX_DEPTH`` deep, no NaN or Infinity; amounts as :func:`check_request.parse_amount` reads them.  A 500
is a real internal failure only: logged once (``http.internal_error`` with an ``error_id``) and answered
``{"error": {"code": "internal_error", "message": "internal error", "error_id": "..."}}``.
The Odoo addon's real-time check calls ``/v1/check``.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connector.checks import CheckError, CreditChecker
from connector.config import HttpConfig
from connector.errors import CreditGuardError
from connector.exposure import rate_tables
from connector.logs import get_logger
from connector.money import UnknownCurrency, currency_precision
from connector.rates import MissingRate

from .check_request import RequestError, is_facts_request, parse_amount, parse_check_request

log = get_logger("creditguard.http")
_NO_HTTP_SECTION = HttpConfig()  # the defaults, where the configuration has no [http] (the demo)

ROUTES = Map([
    Rule("/healthz", endpoint="healthz", methods=["GET"]),
    Rule("/readyz", endpoint="readyz", methods=["GET"]),
    Rule("/metrics", endpoint="metrics", methods=["GET"]),
    Rule("/v1/check", endpoint="check", methods=["POST"]),
    Rule("/v1/customers/<path:ref>", endpoint="customer", methods=["GET"]),
    Rule("/v1/deadlines", endpoint="deadlines", methods=["GET"]),
    Rule("/v1/holds", endpoint="holds", methods=["GET"]),
    Rule("/v1/cases", endpoint="cases", methods=["GET"]),
    Rule("/v1/cases/<ref>", endpoint="case", methods=["GET"]),
    Rule("/v1/cases/<ref>/<action>", endpoint="case_action", methods=["POST"]),
])
PUBLIC = {"healthz", "readyz"}
MAX_DEPTH = 32  # arrays and objects in a body nested deeper than this are refused (a check needs 2)
INT_DIGITS = 40  # longer integer literals are read as Decimal: judged by the field (str() of a huge int is refused)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status=status, mimetype="application/json")


def _document(document: dict[str, Any]) -> Response:
    """A check's answer: its JSON document (text, numbers and lists only) serialised by orjson, on the hot path."""
    return Response(orjson.dumps(document), status=200, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


class StoreCollector:
    """Prometheus metrics read from the store at scrape time."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon

    def collect(self):
        store, config, policy = self.daemon.store, self.daemon.config, self.daemon.policy
        records = GaugeMetricFamily("creditguard_records", "Records in the store", labels=["source", "stream"])
        lag = GaugeMetricFamily("creditguard_sync_lag_seconds", "Seconds since the last successful sync",
                                labels=["source", "stream"])
        duration = GaugeMetricFamily("creditguard_sync_duration_seconds", "Duration of the last sync",
                                     labels=["source", "stream"])
        outbox = GaugeMetricFamily("creditguard_outbox_entries", "Outbox entries by state", labels=["state"])
        holds = GaugeMetricFamily("creditguard_holds", "Holds by state", labels=["state"])
        from connector.ports import Stream

        now = datetime.now(UTC)
        for source in config.enabled_sources:
            for stream in Stream:
                records.add_metric([source.name, stream.value], store.count(stream, source.name))
            for run in _last_ok_runs(store, source.name).values():
                lag.add_metric([source.name, run.stream], (now - run.finished_at).total_seconds())
                duration.add_metric([source.name, run.stream], (run.finished_at - run.started_at).total_seconds())
        for state in ("pending", "applied", "dead"):
            outbox.add_metric([state], len(store.outbox_entries(state=state, limit=None)))
        for state in ("held", "released"):
            holds.add_metric([state], len(store.holds(state=state)))
        circuit = GaugeMetricFamily("creditguard_circuit_open", "1 while the source's ERP counts as down",
                                    labels=["source"])
        for source in config.enabled_sources:
            breaker = self.daemon.breakers.get(source.name)
            circuit.add_metric([source.name], 1 if breaker is not None and breaker.open else 0)
        errors = CounterMetricFamily("creditguard_errors", "Errors of the daemon's jobs by source and kind",
                                     labels=["source", "kind"])
        for (source_name, kind), count in sorted(getattr(self.daemon, "error_counts", {}).items()):
            errors.add_metric([source_name, kind], count)
        yield from (records, lag, duration, outbox, holds, circuit, errors, self._deadlines(now))
        info = InfoMetricFamily("creditguard_policy", "The active credit policy")
        if policy is not None:
            info.add_metric([], {"name": policy.name, "version": str(policy.version), "hash": policy.content_hash})
        yield info


    def _deadlines(self, now: datetime) -> GaugeMetricFamily:
        """Insurer deadlines due soon or missed: what must not be left unseen (cover is lost)."""
        from connector.deadlines import list_deadlines

        gauge = GaugeMetricFamily("creditguard_insurer_deadlines", "Insurer deadlines due soon or missed",
                                  labels=["source", "kind", "status"])
        config, policy = self.daemon.config, self.daemon.policy
        if policy is None or not policy.insurers:
            return gauge
        as_of = now.astimezone(config.sync.tzinfo).date()
        for source in config.enabled_sources:
            counts: dict[tuple[str, str], int] = {}
            for entry in list_deadlines(self.daemon.store, policy, source.name, as_of):
                for deadline in entry.deadlines:
                    if deadline.alerting:
                        key = (deadline.kind.value, deadline.status.value)
                        counts[key] = counts.get(key, 0) + 1
            for (kind, status), count in sorted(counts.items()):
                gauge.add_metric([source.name, kind, status], count)
        return gauge


def _last_ok_runs(store: Any, source: str) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for run in store.last_runs(source, limit=200):
        if run.status == "ok" and run.finished_at is not None and run.stream not in latest:
            latest[run.stream] = run
    return latest


UI_PREFIX = "/ui"  # the dashboard's paths (creditguard.ui.app.PREFIX; a test keeps the two equal)


class Api:
    def __init__(self, daemon: Any, token: Callable[[], str]) -> None:
        self.daemon = daemon
        self.token = token
        self.registry = CollectorRegistry()
        self.registry.register(StoreCollector(daemon))
        self.rate_tables = getattr(daemon, "rate_tables", None) or rate_tables(daemon.store)
        self._ui: Any = None  # the web dashboard under /ui (docs/dashboard.md), built at its first request
        self._outbox: tuple[Any, Any] | None = None  # (config, outbox): see outbox()

    def outbox(self) -> Any:
        """The outbox confirmations queue their holds in, built once per configuration (it holds only its
        settings and a random source for retry delays, which threads may share)."""
        config = self.daemon.config
        kept = self._outbox
        if kept is None or kept[0] is not config:
            from .enforce_commands import make_outbox

            kept = self._outbox = (config, make_outbox(config, self.daemon.store))
        return kept[1]

    @property
    def ui(self) -> Any:
        if self._ui is None:  # its templates and charts are loaded only by a process that serves a page
            from .ui.app import Dashboard

            self._ui = Dashboard(self.daemon, self.token)
        return self._ui

    def __call__(self, environ, start_response):
        return self.wsgi(environ, start_response)

    def wsgi(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == UI_PREFIX or path.startswith(UI_PREFIX + "/"):
            return self.ui(environ, start_response)
        request = Request(environ)
        request.max_content_length = (self.daemon.config.http or _NO_HTTP_SECTION).max_body_bytes
        try:
            response = self.dispatch(request)
        except ApiError as exc:
            response = _error(exc.status, exc.code, exc.message)
        except HTTPException as exc:
            response = _error(exc.code or 400, (exc.name or "error").lower().replace(" ", "_"),
                              exc.description or exc.name)
        except Exception as exc:  # never a traceback nor the exception's text to the caller
            error_id = uuid.uuid4().hex[:16]
            log.exception("http.internal_error", error_id=error_id, method=request.method, path=request.path,
                          error=exc.__class__.__name__)
            response = _json({"error": {"code": "internal_error", "message": "internal error",
                                        "error_id": error_id}}, 500)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            raise ApiError(404, "not_found", f"no such endpoint: {request.path}") from None
        except MethodNotAllowed:
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}") from None
        if endpoint not in PUBLIC:
            self.authorize(request)
        return getattr(self, f"on_{endpoint}")(request, **args)

    def authorize(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)")
        if not hmac.compare_digest(given.strip().encode(), self.token().encode()):
            raise ApiError(401, "unauthorized", "invalid token")

    # --------------------------------------------------------------- endpoints

    def on_healthz(self, request: Request) -> Response:
        return _json({"status": "alive"})

    def on_readyz(self, request: Request) -> Response:
        problems = []
        store, config = self.daemon.store, self.daemon.config
        try:
            store.schema_status()
        except Exception as exc:  # the store is down: not ready
            problems.append(f"store unreachable: {exc.__class__.__name__}")
        else:
            allowed = timedelta(seconds=3 * config.sync.interval_seconds)
            now = datetime.now(UTC)
            for source in config.enabled_sources:
                breaker = self.daemon.breakers.get(source.name)
                if breaker is not None and breaker.open:
                    problems.append(f"{source.name}: ERP unreachable, circuit open since "
                                    f"{breaker.opened_at.isoformat(timespec='seconds')} ({breaker.last_error})")
                    continue
                runs = _last_ok_runs(store, source.name)
                if not runs:
                    problems.append(f"{source.name}: not synced yet")
                    continue
                oldest = min(r.finished_at for r in runs.values())
                if now - oldest > allowed:
                    problems.append(f"{source.name}: last successful sync {int((now - oldest).total_seconds())} s "
                                    f"ago (allowed {int(allowed.total_seconds())} s)")
        if problems:
            return _json({"status": "not ready", "reasons": problems}, 503)
        return _json({"status": "ready"})

    def on_metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), mimetype="text/plain; version=0.0.4")

    def on_check(self, request: Request) -> Response:
        body = self._body(request)
        policy = self.daemon.policy
        if policy is None:
            raise ApiError(503, "no_policy", "no [policy] configured")
        checker = CreditChecker(self.daemon.store, policy, datetime.now(self.daemon.config.sync.tzinfo).date(),
                                rate_tables=self.rate_tables)
        if is_facts_request(body):
            return _document(checker.document(self._check_facts(checker, body)))
        source = _optional_text(body, "source")
        try:
            if "order" in body:
                outcome = checker.check(_text(body, "order"), source, trigger="api")
            elif "customer" in body:
                currency = _text(body, "currency") if "currency" in body else policy.base_currency
                try:
                    currency_precision(currency)
                except UnknownCurrency:
                    raise ApiError(400, "bad_request", f"currency: unknown currency {currency!r}") from None
                amount = _amount(body, currency)
                outcome = checker.check_prospective(_text(body, "customer"), amount, currency, source)
            else:
                raise ApiError(400, "bad_request", 'give "order" (an ERP order reference) or "customer" and '
                                                   '"amount"')
        except CheckError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except CreditGuardError as exc:
            raise ApiError(422, "cannot_decide", str(exc)) from None
        return _document(checker.document(outcome))

    def _check_facts(self, checker: CreditChecker, body: dict[str, Any]):
        """The new form: the order's facts as the ERP has them now (see creditguard/check_request.py)."""
        config = self.daemon.config
        try:
            facts = parse_check_request(body, {s.name for s in config.enabled_sources})
            return checker.check_live(facts.order, facts.customer, confirm=facts.confirm,
                                      outbox=self.outbox(),
                                      reservation_ttl=config.checks.reservation_ttl)
        except RequestError as exc:
            raise ApiError(exc.status, "bad_request" if exc.status == 400 else "unprocessable", str(exc)) from None
        except MissingRate as exc:
            raise ApiError(422, "cannot_decide", f"order.currency: {exc}") from None
        except CreditGuardError as exc:  # facts that contradict the store
            raise ApiError(422, "cannot_decide", str(exc)) from None

    def on_customer(self, request: Request, ref: str) -> Response:
        from .credit_commands import exposure_rows, with_figures

        policy = self.daemon.policy
        if policy is None:
            raise ApiError(503, "no_policy", "no [policy] configured")
        checker = CreditChecker(self.daemon.store, policy, datetime.now(self.daemon.config.sync.tzinfo).date(),
                                rate_tables=self.rate_tables)
        try:
            rows = list(exposure_rows(self.daemon.store, checker, ref, request.args.get("source")))
        except CheckError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        try:
            row = with_figures(self.daemon.store, policy, rows[:1], checker.as_of,
                               self.daemon.config.figures.dso_months, single=True,
                               payment_months=self.daemon.config.figures.payment_months)[0]
        except MissingRate as exc:
            raise ApiError(422, "cannot_decide", str(exc)) from None
        hold_count = sum(1 for h in self.daemon.store.holds(row["source"], "held"))
        return _json(row | {"as_of": checker.as_of.isoformat(), "currency": policy.base_currency,
                            "open_holds_in_source": hold_count})

    def on_deadlines(self, request: Request) -> Response:
        """Insurer deadlines due soon or missed (``?all=1``: also pending), as ``creditguard deadlines --json``."""
        from connector.deadlines import deadlines_json, deadlines_of

        policy, config = self.daemon.policy, self.daemon.config
        if policy is None:
            raise ApiError(503, "no_policy", "no [policy] configured")
        wanted = request.args.get("source")
        names = [s.name for s in config.enabled_sources if wanted in (None, s.name)]
        if wanted is not None and not names:
            raise ApiError(404, "not_found", f"no enabled source {wanted!r}")
        as_of = datetime.now(config.sync.tzinfo).date()
        include_pending = request.args.get("all") in ("1", "true")
        found = deadlines_of(self.daemon.store, policy, names, as_of, include_pending=include_pending)
        return _json({"as_of": as_of.isoformat(), "deadlines": [deadlines_json(d) for d in found]})

    def on_holds(self, request: Request) -> Response:
        """Holds on orders, as ``creditguard holds --json``."""
        from .render import jsonable

        state = request.args.get("state") or None
        if state not in (None, "held", "released"):
            raise ApiError(400, "bad_request", "state: expected held or released")
        records = self.daemon.store.holds(request.args.get("source") or None, state,
                                          request.args.get("order") or None)
        return _json({"holds": jsonable(records)})

    def on_cases(self, request: Request) -> Response:
        """Collection cases, as ``creditguard cases --json`` (creditguard/case_api.py)."""
        from .case_api import list_cases

        return _json(list_cases(self.daemon, request.args))

    def on_case(self, request: Request, ref: str) -> Response:
        from .case_api import case_detail

        return _json(case_detail(self.daemon, ref, request.args))

    def on_case_action(self, request: Request, ref: str, action: str) -> Response:
        from .case_api import case_action

        return _json(case_action(self.daemon, ref, action, self._body(request)))

    def _body(self, request: Request) -> dict[str, Any]:
        if request.mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "send JSON (Content-Type: application/json)")
        data = read_json(request.get_data(cache=False))
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        return data


def read_json(raw: bytes) -> Any:
    """A request body as JSON, strictly: UTF-8, no NaN/Infinity, nested at most MAX_DEPTH deep; numbers with
    a fraction or an exponent as Decimal, integers of more than INT_DIGITS digits too (every value is judged by
    the field it is in).  Anything else is a 400 that says what is wrong."""
    try:
        text = raw.decode("utf-8") if raw else "null"
    except UnicodeDecodeError:
        raise ApiError(400, "bad_json", "body is not UTF-8 JSON") from None
    try:
        data = json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_no_constant)
    except _NotJson as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc.msg} at line {exc.lineno} "
                                        f"column {exc.colno}") from None
    except RecursionError:
        raise ApiError(400, "bad_json", f"the body is nested more than {MAX_DEPTH} deep") from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise ApiError(400, "bad_json", f"the body is nested more than {MAX_DEPTH} deep")
    return data


class _NotJson(ValueError):
    pass


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond even Decimal's range: as good as infinite (no amount is)
        return Decimal("-Infinity" if text.startswith("-") else "Infinity")


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= INT_DIGITS else Decimal(text)


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` deep (iteratively: no recursion to blow up)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ApiError(400, "bad_request", f"{key}: expected a non-empty string")
    return value.strip()


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    return _text(body, key) if body.get(key) is not None else None


def _amount(body: dict[str, Any], currency: str) -> Decimal:
    try:
        return parse_amount(body.get("amount"), "amount", currency_precision(currency), currency=currency,
                            semantic_status=400)
    except RequestError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None


RESERVED_FILES = 256  # open files kept for everything but the API's connections (store, ERPs, logs)


def serve(api: Api, host: str, port: int, *, workers: int = 1, threads: int = 4):
    """A waitress server in a background thread; returns it (``.close()`` to stop).  With ``workers`` > 1 the
    port is shared with the other processes serving the API (see :mod:`creditguard.api_workers`).

    Slow and idle clients cannot take the API down: waitress reads requests in one event loop (poll(), not
    select(), which fails past file descriptor 1023) and hands only complete ones to the threads; it keeps up
    to ``[http] connection_limit`` connections (the open-files limit is raised to fit), closes connections
    idle longer than ``idle_timeout_seconds`` and drops requests still incomplete after
    ``request_timeout_seconds``."""
    import threading

    from waitress.server import BaseWSGIServer, create_server

    http = api.daemon.config.http or _NO_HTTP_SECTION
    options: dict[str, Any] = dict(
        threads=threads, ident="creditguard", asyncore_use_poll=True, backlog=1024,
        connection_limit=open_files_for(http.connection_limit),
        channel_timeout=http.idle_timeout_seconds,
        cleanup_interval=max(1, min(http.idle_timeout_seconds, http.request_timeout_seconds) // 3),
        # werkzeug answers a body over max_body_bytes with a JSON 413; waitress only stops what is far beyond
        max_request_body_size=http.max_body_bytes + 1_048_576)
    socket_map: dict[int, Any] = {}
    if workers > 1:
        from .api_workers import listening_socket

        server = create_server(api, map=socket_map, sockets=[listening_socket(host, port)], **options)
    else:
        server = create_server(api, map=socket_map, host=host, port=port, **options)
    for listener in list(socket_map.values()):
        if isinstance(listener, BaseWSGIServer):
            _drop_slow_requests(listener, http.request_timeout_seconds)
    report_queued_requests(threads)
    thread = threading.Thread(target=server.run, name="http-api", daemon=True)
    thread.start()
    return ApiServer(server, socket_map, thread)


QUEUE_REPORT_SECONDS = 60.0


class QueuedRequests:
    """waitress warns "Task queue depth is N" on stderr for every request that finds no idle thread: under load a
    line per request, in no format our logs share (thousands a minute at a thousand checks a second), and the
    warning's own cost.  Kept instead: how many requests waited and the deepest queue, reported as one structured
    warning (``http.requests_queued``: the requests that waited since the last report, ``seconds`` ago) as soon as
    requests start waiting, then at most once per :data:`QUEUE_REPORT_SECONDS`.  A :mod:`logging` filter on
    waitress's queue logger."""

    def __init__(self, threads: int, clock: Callable[[], float] = time.monotonic) -> None:
        import threading

        self.threads, self.clock = threads, clock
        self._lock = threading.Lock()
        self._waited = self._deepest = 0
        self._reported: float | None = None  # when the last report was made

    def filter(self, record: logging.LogRecord) -> bool:
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 0
        now = self.clock()
        with self._lock:
            self._waited += 1
            self._deepest = max(self._deepest, depth if isinstance(depth, int) else 0)
            if self._reported is not None and now - self._reported < QUEUE_REPORT_SECONDS:
                return False
            waited, deepest, since = self._waited, self._deepest, self._reported or now
            self._waited = self._deepest = 0
            self._reported = now
        log.warning("http.requests_queued", requests=waited, deepest_queue=deepest, threads=self.threads,
                    seconds=round(now - since, 1),
                    detail="requests waited for a free thread: more [http] workers or threads, or more cores")
        return False


def report_queued_requests(threads: int) -> None:
    """Put :class:`QueuedRequests` on waitress's queue logger (once per process: the last server's thread count)."""
    queue_log = logging.getLogger("waitress.queue")
    for kept in queue_log.filters:
        if isinstance(kept, QueuedRequests):
            kept.threads = threads
            return
    queue_log.addFilter(QueuedRequests(threads))


class ApiServer:
    """The running API: ``close()`` stops it gracefully — no new connection, the requests being answered
    finish (a few seconds at most), then every connection is closed and the loop thread ends.  (waitress's
    own ``close()`` of one listener closes the socket under a request still being answered.)"""

    def __init__(self, server: Any, socket_map: dict[int, Any], thread: Any) -> None:
        self.server, self._map, self._thread = server, socket_map, thread

    @property
    def effective_port(self) -> int:
        return self.server.effective_port

    def close(self, timeout: float = 5.0) -> None:
        from waitress import wasyncore

        for listener in list(self._map.values()):
            if isinstance(getattr(listener, "accepting", None), bool):
                listener.accepting = False  # no new connection (the loop stops polling the listener)
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        wasyncore.close_all(self._map)
        self._thread.join(timeout)


def open_files_for(connections: int) -> int:
    """Raise this process's open-files soft limit (towards the hard one) to fit ``connections`` and what else the
    daemon opens; the number of connections that fit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError) as exc:
            log.warning("http.open_files_limit_not_raised", soft=soft, hard=hard, error=str(exc))
    if soft != resource.RLIM_INFINITY and soft < wanted:
        fitting = max(10, soft - RESERVED_FILES)
        log.warning("http.connection_limit_lowered", connection_limit=connections, open_files_limit=soft,
                    now=fitting)
        return fitting
    return connections


def _drop_slow_requests(listener: Any, seconds: int) -> None:
    """Make the listener's periodic clean-up also close connections whose request has been arriving for more
    than ``seconds`` (headers or body dribbled a byte at a time: waitress's own timeout counts idleness only).
    The first clean-up that sees a request incomplete notes the time; its age is measured from then, so a
    request is dropped between ``seconds`` and ``seconds`` + the clean-up interval after it began."""
    maintenance = listener.maintenance

    def drop_slow_requests(now: float) -> None:
        maintenance(now)
        for channel in list(listener.active_channels.values()):
            request = channel.request
            if request is None or channel.requests:
                continue
            began = getattr(request, "creditguard_seen_at", None)
            if began is None:
                request.creditguard_seen_at = now
            elif now - began > seconds:
                channel.will_close = True

    listener.maintenance = drop_slow_requests
