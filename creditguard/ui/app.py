"""The web dashboard: server-rendered pages under ``/ui`` on the API's listener (see :mod:`creditguard.http_api`).

    GET  /ui/login, POST /ui/login     log in with the API token or the dashboard token (creditguard/ui/auth.py)
    POST /ui/logout
    GET  /ui/                          overview: exposure against limits, overdue, holds, deadlines, trend
    GET  /ui/ageing[?company=SRC:ID[&group=ID]]   ageing by bucket per company, drill-down to group and document
    GET  /ui/groups[?q=&source=&flag=&over=1&overdue=1&sort=&dir=desc]   the credit groups table
    GET  /ui/holds[?state=held|released&source=]
    GET  /ui/deadlines[?all=1]
    GET  /ui/cases[?state=&source=]    collection cases: state, promise, dispute, dunning steps
    GET  /ui/decisions[?q=&result=&trigger=]
    GET  /ui/whatif, POST /ui/whatif   a policy file uploaded or pasted: orders whose decision would change

Nothing but the login page is served without a session: a page asked for without one redirects to the login
page, anything else is a 401.  Pages carry no script at all (the Content-Security-Policy allows none): filters
and sorting are plain GET forms and links.  Read-only: no page writes to the store or the ERP.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Callable
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from connector.errors import ConfigError, CreditGuardError
from connector.logs import get_logger

from . import queries
from .auth import COOKIE_PATH, LOGIN_COOKIE, SESSION_COOKIE, Session, Sessions, same_origin, signing_key, token_role
from .templating import render

log = get_logger("creditguard.ui")

PREFIX = "/ui"
MAX_FORM_BYTES = 1_048_576  # a policy upload is a few KiB; waitress lets up to [http] max_body_bytes + 1 MiB in
NAV = (("overview", "Overview"), ("ageing", "Ageing"), ("groups", "Credit groups"), ("holds", "Holds"),
       ("deadlines", "Insurer deadlines"), ("cases", "Cases"), ("decisions", "Decisions"), ("whatif", "Policy what-if"))
PAGES = {endpoint for endpoint, _ in NAV}
ROUTES = Map([
    Rule(f"{PREFIX}/", endpoint="overview", methods=["GET"]),
    Rule(f"{PREFIX}/login", endpoint="login", methods=["GET", "POST"]),
    Rule(f"{PREFIX}/logout", endpoint="logout", methods=["POST"]),
    Rule(f"{PREFIX}/ageing", endpoint="ageing", methods=["GET"]),
    Rule(f"{PREFIX}/groups", endpoint="groups", methods=["GET"]),
    Rule(f"{PREFIX}/holds", endpoint="holds", methods=["GET"]),
    Rule(f"{PREFIX}/deadlines", endpoint="deadlines", methods=["GET"]),
    Rule(f"{PREFIX}/cases", endpoint="cases", methods=["GET"]),
    Rule(f"{PREFIX}/decisions", endpoint="decisions", methods=["GET"]),
    Rule(f"{PREFIX}/whatif", endpoint="whatif", methods=["GET", "POST"]),
], strict_slashes=True)
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
GROUPS_SHOWN = 1000
CHART_GROUPS = 15


def serves(path: str) -> bool:
    """Whether a request path belongs to the dashboard."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def _redirect(location: str, status: int = 303) -> Response:
    return Response("", status=status, headers={"Location": location})


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a dashboard page of this site only."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value \
            and "//" not in value and len(value) < 2000 and not value.startswith(f"{PREFIX}/log"):
        return value
    return f"{PREFIX}/"


class Dashboard:
    """The dashboard's WSGI application.  ``daemon``: what the API serves from (``store``, ``config``, ``policy``,
    optionally ``rate_tables``); ``api_token``: the API token as :class:`creditguard.http_api.Api` reads it."""

    def __init__(self, daemon: Any, api_token: Callable[[], str]) -> None:
        self.daemon = daemon
        self.api_token = api_token
        self.sessions = Sessions(self._key, self._session_seconds)

    # ------------------------------------------------------------ configuration

    def _http(self) -> Any:
        from connector.config import HttpConfig

        return getattr(self.daemon.config, "http", None) or HttpConfig()

    def _tokens(self) -> tuple[str | None, str | None]:
        try:
            api = self.api_token()
        except ConfigError:
            api = None
        try:
            ui = self._http().ui_token()
        except ConfigError:
            ui = None
        return api or None, ui or None

    def _key(self) -> bytes:
        api, ui = self._tokens()
        if not api and not ui:
            raise ConfigError("[http]: no API token and no dashboard token: nobody can log in to the dashboard")
        return signing_key(api or "", ui)

    def _session_seconds(self) -> int:
        return int(self._http().ui_session_hours) * 3600

    # ------------------------------------------------------------------- WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_FORM_BYTES
        try:
            response = self.dispatch(request)
        except RequestEntityTooLarge:
            response = self._error(request, None, 413, "Too large", "The form sent was larger than "
                                   f"{MAX_FORM_BYTES // 1024} KiB.")
        except HTTPException as exc:
            response = self._error(request, None, exc.code or 400, exc.name or "Error", exc.description or "")
        except Exception as exc:  # never a traceback nor the exception's text to the browser
            error_id = uuid.uuid4().hex[:16]
            log.exception("http.internal_error", error_id=error_id, method=request.method, path=request.path,
                          error=exc.__class__.__name__)
            response = self._error(request, None, 500, "Internal error", "The page could not be made.",
                                   error_id=error_id)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")  # "no-referrer" would make Origin "null"
        headers.setdefault("Cache-Control", "no-store")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except RequestRedirect as redirect:  # /ui → /ui/
            return _redirect(redirect.new_url, 308)
        except NotFound:
            endpoint, args = None, {}
        except MethodNotAllowed:
            endpoint, args = "method_not_allowed", {}
        if endpoint == "login":
            return self.on_login(request)
        session = self.sessions.load(request.cookies.get(SESSION_COOKIE)) if self._has_key() else None
        if session is None:
            if endpoint in PAGES and request.method in ("GET", "HEAD"):
                target = request.full_path.rstrip("?") if request.query_string else request.path
                return _redirect(f"{PREFIX}/login?{urlencode({'next': target})}")
            return self._error(request, None, 401, "Log in first", "This needs a dashboard session: log in.")
        if endpoint is None:
            return self._error(request, session, 404, "Not found", f"There is no page {request.path}.")
        if endpoint == "method_not_allowed":
            return self._error(request, session, 405, "Method not allowed",
                               f"{request.method} is not allowed on {request.path}.")
        if request.method == "POST" and not self._post_allowed(request, session):
            log.warning("ui.csrf_refused", path=request.path, client=request.remote_addr)
            return self._error(request, session, 403, "Refused", "The form was not sent from this dashboard's own "
                               "page (or it has expired): reload the page and send it again.")
        try:
            return getattr(self, f"on_{endpoint}")(request, session, **args)
        except CreditGuardError as exc:  # a figure that cannot be computed (a missing rate...): say which
            return self._error(request, session, 503, "Cannot show this page", str(exc))

    def _has_key(self) -> bool:
        api, ui = self._tokens()
        return bool(api or ui)

    def _post_allowed(self, request: Request, session: Session) -> bool:
        return same_origin(request.headers.get("Origin"), request.host) and \
            self.sessions.csrf_ok(session, request.form.get("csrf"))

    # --------------------------------------------------------------- rendering

    def _page(self, request: Request, session: Session, template: str, title: str, page: str,
              **context: Any) -> Response:
        status = context.pop("status", 200)
        return _html(render(template, base=PREFIX, nav=NAV, page=page, title=title, role=session.role,
                            csrf=self.sessions.csrf_token(session), **context), status)

    def _error(self, request: Request, session: Session | None, status: int, title: str, message: str,
               error_id: str | None = None) -> Response:
        csrf = self.sessions.csrf_token(session) if session is not None else ""
        body = render("error.html", base=PREFIX, nav=NAV, page="", title=title, message=message, error_id=error_id,
                      csrf=csrf, role=session.role if session else "")
        return _html(body, status)

    def _policy(self) -> Any:
        return self.daemon.policy

    def _as_of(self):
        return queries.now_in(self.daemon.config).date()

    def _no_policy(self, request: Request, session: Session) -> Response:
        return self._error(request, session, 503, "No policy", "No [policy] is configured: exposure, limits and "
                           "decisions need the active credit policy.")

    # ------------------------------------------------------------------- login

    def on_login(self, request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            if self._has_key() and self.sessions.load(request.cookies.get(SESSION_COOKIE)) is not None:
                return _redirect(_safe_next(request.args.get("next")))
            message = "You are logged out." if request.args.get("logged_out") else None
            return self._login_form(request, message=message)
        client = request.remote_addr or "-"
        if not self._has_key():
            return self._login_form(request, 503, "No token is configured: nobody can log in.", failed=True)
        if not same_origin(request.headers.get("Origin"), request.host) or not self.sessions.login_nonce_ok(
                request.cookies.get(LOGIN_COOKIE), request.form.get("csrf")):
            log.warning("ui.csrf_refused", path=request.path, client=client)
            return self._login_form(request, 403, "The login form had expired or did not come from this page: "
                                    "log in again.", failed=True)
        if self.sessions.throttled(client):
            log.warning("ui.login_throttled", client=client)
            return self._login_form(request, 429, "Too many wrong tokens: wait a few minutes.", failed=True)
        api, ui = self._tokens()
        role = token_role(request.form.get("token", ""), api, ui)
        if role is None:
            self.sessions.failed(client)
            log.warning("ui.login_failed", client=client)
            return self._login_form(request, 401, "That token is not valid.", failed=True)
        self.sessions.succeeded(client)
        cookie, _session = self.sessions.issue(role)
        log.info("ui.login", client=client, token=role)
        response = _redirect(_safe_next(request.form.get("next")))
        self._set_cookie(request, response, SESSION_COOKIE, cookie, self.sessions.max_age)
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        return response

    def _login_form(self, request: Request, status: int = 200, message: str | None = None,
                    failed: bool = False) -> Response:
        try:
            nonce, cookie = self.sessions.login_nonce()
        except ConfigError:
            nonce, cookie = "", None
        body = render("login.html", base=PREFIX, nav=NAV, page="login", title="Log in", message=message,
                      failed=failed, nonce=nonce, next=_safe_next(request.values.get("next")), csrf="", role="")
        response = _html(body, status)
        if cookie:
            self._set_cookie(request, response, LOGIN_COOKIE, cookie, 3600)
        return response

    def _set_cookie(self, request: Request, response: Response, name: str, value: str, max_age: int) -> None:
        """An HttpOnly, SameSite=Strict cookie for /ui; Secure over TLS: a request that came over https, or
        ``[http] ui_secure_cookies`` (TLS ends at a reverse proxy, and the listener trusts no forwarded header)."""
        response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="Strict",
                            secure=request.scheme == "https" or bool(self._http().ui_secure_cookies))

    def on_logout(self, request: Request, session: Session) -> Response:
        self.sessions.revoke(session)
        log.info("ui.logout", client=request.remote_addr or "-", token=session.role)
        response = _redirect(f"{PREFIX}/login?logged_out=1")
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="Strict")
        return response

    # ------------------------------------------------------------------- pages

    def on_overview(self, request: Request, session: Session) -> Response:
        from .report import overview_context

        policy = self._policy()
        if policy is None:
            return self._no_policy(request, session)
        context = overview_context(self.daemon.store, policy, self.daemon.config, self._as_of(),
                                   getattr(self.daemon, "rate_tables", None), with_ageing=False)
        return self._page(request, session, "overview.html", "Overview", "overview", policy=policy, links=True,
                          **context)

    def on_ageing(self, request: Request, session: Session) -> Response:
        from .ageing_source import ageing_by_company, ageing_by_group, ageing_documents
        from .charts import ageing_chart

        policy = self._policy()
        if policy is None:
            return self._no_policy(request, session)
        store, as_of = self.daemon.store, self._as_of()
        company = request.args.get("company", "")
        group = request.args.get("group", "")
        companies = ageing_by_company(store, policy, as_of)
        if not company:
            chart = ageing_chart(companies.labels, [(r.label, r.base) for r in companies.rows if r.base is not None],
                                 policy.base_currency) if companies.rows else None
            return self._page(request, session, "ageing.html", "Ageing", "ageing", level="companies",
                              report=companies, chart=chart, links=True)
        row = next((r for r in companies.rows if r.key == company), None)
        if row is None:
            return self._error(request, session, 404, "Not found", "No company with open receivables is named so.")
        if not group:
            report = ageing_by_group(store, policy, as_of, row.source, row.company_id)
            top = report.rows[:CHART_GROUPS]
            chart = ageing_chart(report.labels, [(r.label, r.amounts) for r in top], row.currency,
                                 title=f"Receivables of {row.label} by ageing bucket", horizontal=True) if top else None
            return self._page(request, session, "ageing.html", f"Ageing · {row.label}", "ageing", level="groups",
                              report=report, chart=chart, chart_rows=len(top), company_label=row.label,
                              currency=row.currency, links=True)
        documents = ageing_documents(store, policy, as_of, row.source, row.company_id, group)
        head = store.get_customer(row.source, group)
        label = f"{head.name} ({head.ref})" if head and head.ref else head.name if head else group
        return self._page(request, session, "ageing.html", f"Ageing · {label}", "ageing", level="documents",
                          documents=documents, total=sum((d.item.amount_open_company for d in documents), start=0),
                          company_key=row.key, company_label=row.label, group_label=label, currency=row.currency,
                          as_of=as_of)

    def on_groups(self, request: Request, session: Session) -> Response:
        policy = self._policy()
        if policy is None:
            return self._no_policy(request, session)
        as_of = self._as_of()
        rows = queries.credit_groups(self.daemon.store, policy, as_of, getattr(self.daemon, "rate_tables", None))
        group_filter = queries.GroupFilter.from_args(request.args)
        shown = group_filter.apply(rows)
        return self._page(request, session, "groups.html", "Credit groups", "groups", filter=group_filter,
                          shown=shown, total=len(rows), limit=GROUPS_SHOWN, currency=policy.base_currency,
                          as_of=as_of, sources=sorted({r.source for r in rows}),
                          overdue_days=policy.rules.overdue.days)

    def on_holds(self, request: Request, session: Session) -> Response:
        state = request.args.get("state") or "held"
        if state not in ("held", "released"):
            state = "held"
        source = request.args.get("source") or None
        policy = self._policy()
        found = queries.holds(self.daemon.store, self._as_of(), state, source)
        return self._page(request, session, "holds.html", "Credit holds", "holds", holds=found, state=state,
                          source=source or "", sources=queries.source_names(self.daemon.config),
                          currency=policy.base_currency if policy else "")

    def on_deadlines(self, request: Request, session: Session) -> Response:
        from connector.deadlines import DeadlineKind

        from ..deadline_commands import LABELS

        policy = self._policy()
        if policy is None:
            return self._no_policy(request, session)
        as_of = self._as_of()
        include_pending = request.args.get("all") in ("1", "true")
        found = queries.deadlines(self.daemon.store, policy, queries.source_names(self.daemon.config), as_of,
                                  include_pending)
        kinds = [(DeadlineKind.NOTIFY, "Notify by"), (DeadlineKind.COVER_STOPS, "Cover stops"),
                 (DeadlineKind.COLLECTION, "Collection by")]
        return self._page(request, session, "deadlines.html", "Insurer deadlines", "deadlines", found=found,
                          kinds=kinds, labels=LABELS, as_of=as_of, include_pending=include_pending,
                          no_insurers=not policy.insurers)

    def on_cases(self, request: Request, session: Session) -> Response:
        from connector.cases import STATES, case_json

        state = request.args.get("state") or ""
        if state not in STATES and state != "all":
            state = ""
        source = request.args.get("source") or None
        store = self.daemon.store
        found = store.list_cases(source=source, state=state if state in STATES else None,
                                 active_only=state == "")
        cases = [case_json(c, store.case_events(case_id=c.id)[-3:], store.dunning_steps(case_id=c.id))
                 for c in found]
        return self._page(request, session, "cases.html", "Collection cases", "cases", cases=cases, state=state,
                          states=STATES, source=source or "", sources=queries.source_names(self.daemon.config))

    def on_decisions(self, request: Request, session: Session) -> Response:
        search = queries.DecisionSearch.from_args(request.args)
        rows, more = queries.decisions(self.daemon.store, search)
        return self._page(request, session, "decisions.html", "Decision log", "decisions", search=search,
                          rows=rows, more=more)

    def on_whatif(self, request: Request, session: Session) -> Response:
        from policy.loader import PolicyError

        current = self._policy()
        context: dict[str, Any] = {"current": current, "text": self._active_policy_text(), "errors": None,
                                   "result": None, "candidate": None}
        if request.method == "POST":
            context["text"] = request.form.get("policy_text", "")
        if request.method == "POST" and current is not None:
            upload = request.files.get("policy_file")
            content, name = b"", None
            if upload is not None and upload.filename:
                content, name = upload.read(queries.MAX_POLICY_BYTES + 1), upload.filename
            elif context["text"].strip():  # (the text stays in the form, to edit again)
                content = context["text"].encode("utf-8")
            if not content:
                context["errors"] = ["Give a policy file or paste its text."]
            else:
                try:
                    candidate = queries.load_candidate(content, name)
                except PolicyError as exc:
                    context["errors"] = list(exc.errors)  # the page itself is fine: 200
                else:
                    context["candidate"] = candidate
                    context["result"] = queries.simulate(self.daemon.store, current, candidate, self._as_of())
                    log.info("ui.policy_simulated", candidate=candidate.content_hash[:12],
                             changed=len(context["result"]["orders"]))
        return self._page(request, session, "whatif.html", "Policy what-if", "whatif", **context)

    def _active_policy_text(self) -> str:
        """The active policy file's text, to start from (empty when it cannot be read as text)."""
        policy_config = getattr(self.daemon.config, "policy", None)
        if policy_config is None:
            return ""
        try:
            raw = policy_config.path.read_bytes()[:queries.MAX_POLICY_BYTES]
            return raw.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return ""


def generated_at() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
