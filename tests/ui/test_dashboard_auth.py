"""Logging in to the dashboard over real sockets: nothing readable without a session, the cookies' flags,
CSRF refusals, logout, the read-only dashboard token, and no token in any log line or cookie."""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace

import httpx
import pytest

from creditguard.ui import auth
from creditguard.ui.auth import Sessions, same_origin, signing_key, token_role

from .conftest import API_TOKEN, UI_TOKEN, csrf_of, login

PAGES = ["/ui/", "/ui/ageing", "/ui/groups", "/ui/holds", "/ui/deadlines", "/ui/decisions", "/ui/whatif"]


def set_cookie_headers(answer: httpx.Response, name: str) -> list[str]:
    return [v for v in answer.headers.get_list("set-cookie") if v.startswith(f"{name}=")]


def flags(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_the_login_page_without_a_session(anonymous, path):
    answer = anonymous.get(path + "?q=Acme" if path.endswith("groups") else path)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/ui/login?next=")
    assert "Acme" not in answer.text and "<table" not in answer.text
    if path.endswith("groups"):
        assert location == "/ui/login?next=%2Fui%2Fgroups%3Fq%3DAcme"  # back to the same filter afterwards


@pytest.mark.parametrize("method, path", [("GET", "/ui/nothing-here"), ("GET", "/ui/static/dashboard.css"),
                                          ("POST", "/ui/logout"), ("POST", "/ui/whatif"), ("POST", "/ui/"),
                                          ("DELETE", "/ui/groups")])
def test_anything_else_is_refused_with_401(anonymous, method, path):
    answer = anonymous.request(method, path, data={"policy_text": "x"} if method == "POST" else None)
    assert answer.status_code == 401
    assert "Log in" in answer.text and "csrf" not in answer.text


def test_ui_without_a_slash_goes_to_the_overview(anonymous):
    answer = anonymous.get("/ui")
    assert answer.status_code == 308 and answer.headers["location"].endswith("/ui/")


def test_the_login_page_and_its_cookie(anonymous):
    answer = anonymous.get("/ui/login")
    assert answer.status_code == 200
    assert '<label for="token">' in answer.text and 'type="password"' in answer.text
    [cookie] = set_cookie_headers(answer, auth.LOGIN_COOKIE)
    assert {"httponly", "samesite", "path", "max-age"} <= flags(cookie) and "secure" not in flags(cookie)
    assert "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert anonymous.head("/ui/login").status_code == 200
    headers = answer.headers
    assert "default-src 'none'" in headers["content-security-policy"] and "script" not in \
        headers["content-security-policy"].replace("default-src 'none'", "")
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_a_bad_token_is_refused(anonymous):
    form = anonymous.get("/ui/login")
    answer = anonymous.post("/ui/login", data={"csrf": csrf_of(form.text), "token": API_TOKEN + "x"})
    assert answer.status_code == 401
    assert "That token is not valid." in answer.text
    assert API_TOKEN not in answer.text  # the field is not filled in again
    assert not set_cookie_headers(answer, auth.SESSION_COOKIE)
    assert anonymous.get("/ui/").status_code == 303


def test_login_sets_a_signed_expiring_http_only_strict_cookie(anonymous):
    answer = login(anonymous)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
    [cookie] = set_cookie_headers(answer, auth.SESSION_COOKIE)
    assert {"httponly", "samesite", "path", "max-age", "expires"} <= flags(cookie)
    assert "SameSite=Strict" in cookie and "Path=/ui" in cookie and "Max-Age=28800" in cookie  # 8 hours
    assert "secure" not in flags(cookie)  # plain HTTP on loopback
    value = anonymous.cookies[auth.SESSION_COOKIE]
    payload = json.loads(base64.urlsafe_b64decode(value.split(".")[0] + "=="))
    assert set(payload) == {"sid", "role"} and payload["role"] == "api"  # no token in the cookie
    assert API_TOKEN not in value and UI_TOKEN not in value
    page = anonymous.get("/ui/")
    assert page.status_code == 200 and "<h1>Overview</h1>" in page.text


def test_the_cookies_are_secure_behind_a_tls_proxy(dashboard, monkeypatch):
    monkeypatch.setattr(dashboard.daemon, "config", dashboard.config.model_copy(
        update={"http": dashboard.config.http.model_copy(update={"ui_secure_cookies": True})}))
    with httpx.Client(base_url=dashboard.url) as c:
        form = c.get("/ui/login")
        assert "secure" in flags(set_cookie_headers(form, auth.LOGIN_COOKIE)[0])
        # (httpx keeps Secure cookies for https only: send the login cookie back by hand)
        c.cookies.set(auth.LOGIN_COOKIE, form.cookies[auth.LOGIN_COOKIE])
        answer = c.post("/ui/login", data={"csrf": csrf_of(form.text), "token": API_TOKEN})
        assert answer.status_code == 303
        assert "secure" in flags(set_cookie_headers(answer, auth.SESSION_COOKIE)[0])


def test_a_forged_or_tampered_cookie_is_no_session(dashboard):
    with httpx.Client(base_url=dashboard.url) as c:
        login(c)
        good = c.cookies[auth.SESSION_COOKIE]
    forged = Sessions(lambda: b"not the server's key", lambda: 3600).issue("api")[0]
    tampered = good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1]  # one signature character changed
    assert tampered != good
    for value in (forged, tampered, "garbage", "x" * 600):
        with httpx.Client(base_url=dashboard.url, cookies={auth.SESSION_COOKIE: value}) as c:
            assert c.get("/ui/groups").status_code == 303


def test_the_login_form_needs_its_csrf_value(anonymous):
    form = anonymous.get("/ui/login")
    nonce = csrf_of(form.text)
    missing = anonymous.post("/ui/login", data={"token": API_TOKEN})
    assert missing.status_code == 403 and not set_cookie_headers(missing, auth.SESSION_COOKIE)
    forged = nonce[:-1] + ("y" if nonce.endswith("x") else "x")  # differs from the real nonce in its last character
    wrong = anonymous.post("/ui/login", data={"csrf": forged, "token": API_TOKEN})
    assert wrong.status_code == 403
    other_site = anonymous.post("/ui/login", data={"csrf": nonce, "token": API_TOKEN},
                                headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403 and not set_cookie_headers(other_site, auth.SESSION_COOKIE)
    with httpx.Client(base_url=str(anonymous.base_url)) as fresh:  # a nonce without its cookie
        assert fresh.post("/ui/login", data={"csrf": nonce, "token": API_TOKEN}).status_code == 403


def test_posts_need_the_session_csrf_token(client, dashboard):
    page = client.get("/ui/whatif")
    token = csrf_of(page.text)
    forged = token[:-1] + ("1" if token[-1] == "0" else "0")  # differs from the real token in its last digit
    decisions_before = len(dashboard.store.decisions(limit=100_000))
    for data, headers in (({"policy_text": "version = 1"}, {}),
                          ({"policy_text": "version = 1", "csrf": forged}, {}),
                          ({"policy_text": "version = 1", "csrf": token}, {"Origin": "http://evil.example"})):
        answer = client.post("/ui/whatif", data=data, headers=headers)
        assert answer.status_code == 403, data
        assert "was not sent from this dashboard" in answer.text
    assert client.post("/ui/logout", data={}).status_code == 403
    assert client.get("/ui/").status_code == 200  # still logged in
    assert len(dashboard.store.decisions(limit=100_000)) == decisions_before


def test_logout_ends_the_session(client):
    cookie = client.cookies[auth.SESSION_COOKIE]
    token = csrf_of(client.get("/ui/").text)
    answer = client.post("/ui/logout", data={"csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login?logged_out=1"
    [cleared] = set_cookie_headers(answer, auth.SESSION_COOKIE)
    assert "Max-Age=0" in cleared or "expires=Thu, 01 Jan 1970" in cleared.lower().replace("expires", "expires")
    assert "You are logged out." in client.get("/ui/login?logged_out=1").text
    with httpx.Client(base_url=str(client.base_url), cookies={auth.SESSION_COOKIE: cookie}) as replay:
        assert replay.get("/ui/").status_code == 303  # the old cookie is revoked, not only forgotten


def test_the_dashboard_token_opens_the_dashboard_but_not_the_api(anonymous):
    assert login(anonymous, UI_TOKEN).status_code == 303
    page = anonymous.get("/ui/holds")
    assert page.status_code == 200 and "dashboard token" in page.text
    assert anonymous.get("/v1/holds", headers={"Authorization": f"Bearer {UI_TOKEN}"}).status_code == 401
    assert anonymous.get("/v1/holds", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200


def test_the_api_is_not_opened_by_the_session_cookie(client):
    assert client.get("/v1/holds").status_code == 401
    assert client.get("/metrics").status_code == 401


def test_tokens_never_reach_the_log(dashboard):
    import io

    from connector.logs import configure_logging

    stream = io.StringIO()
    configure_logging("debug", "json", stream)  # everything the dashboard logs, debug included
    try:
        with httpx.Client(base_url=dashboard.url) as c:
            form = c.get("/ui/login")
            c.post("/ui/login", data={"csrf": csrf_of(form.text), "token": "wrong-" + API_TOKEN})
            login(c, UI_TOKEN)
            c.post("/ui/logout", data={"csrf": csrf_of(c.get("/ui/").text)})
    finally:
        configure_logging("warning", "json")
    logged = stream.getvalue()
    assert "ui.login_failed" in logged and "ui.login" in logged and "ui.logout" in logged
    assert API_TOKEN not in logged and UI_TOKEN not in logged


# ------------------------------------------------------------------------------ the parts, without sockets


def test_token_role_compares_both_tokens():
    assert token_role("a-token", "a-token", "b-token") == "api"
    assert token_role("b-token", "a-token", "b-token") == "ui"
    assert token_role("c-token", "a-token", "b-token") is None
    assert token_role("", "a-token", None) is None and token_role("", "", "") is None
    assert token_role("b-token", "a-token", None) is None


def test_the_signing_key_changes_with_either_token():
    key = signing_key("api", "ui")
    assert key != signing_key("api2", "ui") and key != signing_key("api", "ui2") and key != signing_key("api", None)


def test_sessions_expire(monkeypatch):
    sessions = Sessions(lambda: b"k" * 32, lambda: 3600)
    cookie, _ = sessions.issue("ui")
    assert sessions.load(cookie).role == "ui"
    later = time.time() + 3601
    monkeypatch.setattr("itsdangerous.timed.time", SimpleNamespace(time=lambda: later))
    assert sessions.load(cookie) is None


def test_repeated_bad_tokens_are_slowed_down():
    now = [1000.0]
    sessions = Sessions(lambda: b"k" * 32, lambda: 3600, clock=lambda: now[0])
    for _ in range(auth.MAX_FAILURES):
        assert not sessions.throttled("10.0.0.1")
        sessions.failed("10.0.0.1")
    assert sessions.throttled("10.0.0.1") and not sessions.throttled("10.0.0.2")
    now[0] += auth.FAILURE_WINDOW + 1
    assert not sessions.throttled("10.0.0.1")


@pytest.mark.parametrize("origin, host, ok", [
    (None, "127.0.0.1:8765", True), ("http://127.0.0.1:8765", "127.0.0.1:8765", True),
    ("https://creditguard.example.com", "creditguard.example.com", True),
    ("http://127.0.0.1:9999", "127.0.0.1:8765", False), ("null", "127.0.0.1:8765", False),
    ("https://evil.example", "creditguard.example.com", False),
])
def test_same_origin(origin, host, ok):
    assert same_origin(origin, host) is ok


def test_hostile_input_gets_a_clear_answer(client):
    token = csrf_of(client.get("/ui/whatif").text)
    too_big = client.post("/ui/whatif", data={"csrf": token, "policy_text": "x" * 1_100_000})
    assert too_big.status_code == 413 and "larger than" in too_big.text
    broken = client.post("/ui/whatif", content=b"--zz\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nab",
                         headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert broken.status_code in (400, 403)
    for params in ({"sort": "../../etc", "dir": "sideways", "flag": "<b>"}, {"q": "\u202e" + "a" * 5000},
                   {"q": "%' OR 1=1 --"}):
        answer = client.get("/ui/groups", params=params)
        assert answer.status_code == 200 and "<b>" not in answer.text
    assert client.get("/ui/decisions", params={"q": "%' OR 1=1 --", "trigger": "x; drop"}).status_code == 200
    assert client.get("/ui/groups", headers={"Cookie": "creditguard_session=" + "a" * 4000}).status_code == 303


def test_the_api_routes_the_dashboard_prefix_to_the_dashboard():
    from creditguard.http_api import UI_PREFIX
    from creditguard.ui.app import PREFIX, serves

    assert UI_PREFIX == PREFIX and serves(UI_PREFIX) and serves(UI_PREFIX + "/ageing") and not serves("/uix")
