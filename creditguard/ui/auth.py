"""Logging in to the dashboard: tokens, the session cookie, CSRF tokens, a brake on guessing.

* A person logs in with the API token (``[http] token_env``) or the dashboard's own read-only token
  (``[http] ui_token_env``); both are compared in constant time (:func:`hmac.compare_digest`), each of them
  every time, so the answer's timing does not say which one was close.
* The session is a cookie signed with itsdangerous (HMAC-SHA256, timestamped): it holds a random session id and
  which token opened it, never a token.  It expires after ``[http] ui_session_hours``; it is ``HttpOnly``,
  ``SameSite=Strict``, limited to ``/ui``, and ``Secure`` when the request came over TLS, or always with
  ``[http] ui_secure_cookies = true`` (TLS ends at a reverse proxy: waitress trusts no ``X-Forwarded-Proto``).
* The signing key is derived from the tokens (HMAC of a fixed label under the API token, the dashboard token
  mixed in): every process serving the API agrees on it without sharing a file, and changing either token ends
  every session.  Logging out revokes the session in this process at once (other processes of ``[http]
  workers`` > 1 keep accepting that cookie until it expires; the browser drops it in any case).
* Every POST form carries a CSRF token: the session's (an HMAC of its id) once logged in, and for the login form
  itself a random value also kept in a short-lived signed cookie (double submit).  A POST whose ``Origin``
  header names another site is refused as well.
* Repeated bad tokens from one address are slowed down: after ``MAX_FAILURES`` within ``FAILURE_WINDOW``
  seconds the login answers 429 until the window has passed.

Tokens are never logged, echoed into a page, or put into a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "creditguard_session"
LOGIN_COOKIE = "creditguard_login"
COOKIE_PATH = "/ui"
LOGIN_FORM_SECONDS = 3600  # a login form must be sent within the hour it was served
MAX_FAILURES = 10
FAILURE_WINDOW = 300.0
ROLES = ("api", "ui")  # which token opened the session: the API token, or the dashboard's own


@dataclass(frozen=True)
class Session:
    sid: str
    role: str
    issued: float


def signing_key(api_token: str, ui_token: str | None) -> bytes:
    material = b"creditguard.ui.session.v1\0" + (ui_token or "").encode("utf-8")
    return hmac.new(api_token.encode("utf-8"), material, hashlib.sha256).digest()


def token_role(given: str, api_token: str | None, ui_token: str | None) -> str | None:
    """Which token ``given`` is ("api" or "ui"), or None; both comparisons always run, in constant time."""
    raw = given.encode("utf-8")
    is_api = hmac.compare_digest(raw, (api_token or "").encode("utf-8")) and bool(api_token)
    is_ui = hmac.compare_digest(raw, (ui_token or "").encode("utf-8")) and bool(ui_token)
    return "api" if is_api else "ui" if is_ui else None


class Sessions:
    """Issues and checks the signed cookies; ``key`` gives the current signing key (tokens may be reloaded)."""

    def __init__(self, key: Callable[[], bytes], max_age: Callable[[], int],
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._max_age = max_age
        self._clock = clock
        self._revoked: dict[str, float] = {}  # session id → when its cookie expires anyway
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._key(), salt=salt, signer_kwargs={"digest_method": hashlib.sha256})

    @property
    def max_age(self) -> int:
        return self._max_age()

    # ------------------------------------------------------------------ sessions

    def issue(self, role: str) -> tuple[str, Session]:
        session = Session(secrets.token_urlsafe(24), role, self._clock())
        return self._serializer("session").dumps({"sid": session.sid, "role": role}), session

    def load(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 512:
            return None
        try:
            data, signed_at = self._serializer("session").loads(cookie, max_age=self.max_age, return_timestamp=True)
        except BadSignature:  # also SignatureExpired
            return None
        except Exception:  # a cookie that is not even well-formed
            return None
        if not isinstance(data, dict) or data.get("role") not in ROLES or not isinstance(data.get("sid"), str):
            return None
        with self._lock:
            if data["sid"] in self._revoked:
                return None
        return Session(data["sid"], data["role"], signed_at.timestamp())

    def revoke(self, session: Session) -> None:
        now = self._clock()
        with self._lock:
            self._revoked = {sid: until for sid, until in self._revoked.items() if until > now}
            self._revoked[session.sid] = session.issued + self.max_age + 60

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._key(), b"csrf\0" + session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_token(session).encode(), given.encode("utf-8"))

    # --------------------------------------------------------------- login form

    def login_nonce(self) -> tuple[str, str]:
        """A login form's CSRF value and the signed cookie that must come back with it."""
        nonce = secrets.token_urlsafe(24)
        return nonce, self._serializer("login").dumps(nonce)

    def login_nonce_ok(self, cookie: str | None, given: str | None) -> bool:
        if not cookie or not given or len(cookie) > 512:
            return False
        try:
            nonce = self._serializer("login").loads(cookie, max_age=LOGIN_FORM_SECONDS)
        except Exception:
            return False
        return isinstance(nonce, str) and hmac.compare_digest(nonce.encode(), given.encode("utf-8"))

    # ------------------------------------------------------------- brute force

    def throttled(self, client: str) -> bool:
        now = self._clock()
        with self._lock:
            recent = [t for t in self._failures.get(client, ()) if now - t < FAILURE_WINDOW]
            if recent:
                self._failures[client] = recent
            else:
                self._failures.pop(client, None)
            return len(recent) >= MAX_FAILURES

    def failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # many addresses: forget the oldest rather than grow without end
                self._failures.clear()
            self._failures.setdefault(client, []).append(self._clock())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a POST's ``Origin`` header (when the browser sent one) names this very host."""
    if not origin:
        return True
    if origin == "null" or not host:
        return False
    return origin.split("://", 1)[-1].rstrip("/").lower() == host.lower()
