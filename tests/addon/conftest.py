"""Fixtures of the addon tests: the stand-in ``odoo`` package, a World per addon, a fake daemon."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from . import harness
from ..support.net import free_port

ADDONS = ["credit_guard", "credit_guard_19"]


@pytest.fixture(scope="session")
def standin():
    """``odoo`` = the stand-in, only while the addon tests run; both addons imported."""
    saved = {name: mod for name, mod in sys.modules.items() if name == "odoo" or name.startswith("odoo.")}
    for name in saved:
        del sys.modules[name]
    try:
        odoo = harness.install_standin()
        harness.define_base_models()
        addons = {name: harness.load_addon(name) for name in ADDONS}
        yield {"odoo": odoo, "addons": addons}
    finally:
        for name in [n for n in sys.modules if n == "odoo" or n.startswith("odoo.")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture(params=ADDONS)
def world(request, standin):
    from odoo import translate

    translate.CATALOG.clear()
    translate.CALLS.clear()
    w = harness.World(request.param)
    w.module = standin["addons"][request.param].models.sale_order
    yield w
    translate.CATALOG.clear()


class FakeDaemon:
    """CreditGuard's real-time check endpoint on 127.0.0.1: one scripted answer per order."""

    def __init__(self):
        self.answers = {}
        self.default = (200, {"decision": "approve", "reasons": []}, 0.0)
        self.requests = []
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = None
                daemon.requests.append({"path": self.path, "headers": dict(self.headers), "payload": payload})
                order = payload.get("order") if isinstance(payload, dict) else None
                if isinstance(order, dict):  # the facts form: the order's reference names the scripted answer
                    order = order.get("reference")
                status, body, delay = daemon.answers.get(order, daemon.default)
                if delay:
                    time.sleep(delay)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1/check" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, order, status=200, body=None, delay=0.0):
        self.answers[order] = (status, body if body is not None else {}, delay)


@pytest.fixture
def daemon():
    d = FakeDaemon()
    d.thread.start()
    yield d
    d.server.shutdown()
    d.server.server_close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    return free_port()
