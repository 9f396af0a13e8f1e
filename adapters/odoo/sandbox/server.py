"""HTTP server: routes requests to the XML-RPC, JSON-RPC and JSON-2 glue."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from ...serving import QuietHangups
from . import json2, jsonrpc, xmlrpc
from .services import Services

log = logging.getLogger("adapters.odoo.sandbox")

NOT_FOUND_HTML = (b'<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n'
                  b'<p>The requested URL was not found on the server. If you entered the URL manually please '
                  b'check your spelling and try again.</p>\n')
MAX_BODY = 64 * 1024 * 1024


class SandboxHTTPServer(QuietHangups, ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], services: Services, on_call: Callable[[], None]) -> None:
        self.services = services
        self.on_call = on_call
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)


    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # type: ignore[no-untyped-def]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop kept-alive client connections, as a stopped Odoo would."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall per answer
    server: SandboxHTTPServer
    server_version = "Werkzeug/3.0.1"
    sys_version = "Python/3.12.3"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        log.debug("%s - %s", self.address_string(), format % args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self._body()
        path = self._path()
        services = self.server.services
        parts = path.split("/")
        if len(parts) == 3 and parts[1] == "xmlrpc":
            self.server.on_call()
            self._send(200, xmlrpc.handle(services, parts[2], body, legacy=True), "text/xml; charset=utf-8")
        elif len(parts) == 4 and parts[1] == "xmlrpc" and parts[2] == "2":
            self.server.on_call()
            self._send(200, xmlrpc.handle(services, parts[3], body, legacy=False), "text/xml; charset=utf-8")
        elif path == "/jsonrpc":
            self.server.on_call()
            self._send(200, jsonrpc.handle(services, body), "application/json")
        else:
            self._other(path, body)

    def do_GET(self) -> None:  # noqa: N802
        self._other(self._path(), b"")

    def do_PUT(self) -> None:  # noqa: N802
        self._other(self._path(), self._body())

    def do_DELETE(self) -> None:  # noqa: N802
        self._other(self._path(), self._body())

    def do_PATCH(self) -> None:  # noqa: N802
        self._other(self._path(), self._body())

    def _other(self, path: str, body: bytes) -> None:
        services = self.server.services
        v19 = services.db.version == "19"
        if path == "/web/version" or (path == "/json/version" and v19):
            self.server.on_call()
            payload = json.dumps(services.web_version()).encode()
            self._send(200, payload, "application/json; charset=utf-8")
        elif v19 and (path == "/json/2" or path.startswith("/json/2/")):
            self.server.on_call()
            status, payload = json2.handle(services, path, self.command, dict(self.headers.items()), body)
            self._send(status, payload, json2.CONTENT_TYPE)
        else:
            self._send(404, NOT_FOUND_HTML, "text/html; charset=utf-8")


class ServerThread:
    """Runs a :class:`SandboxHTTPServer` in a daemon thread."""

    def __init__(self, server: SandboxHTTPServer) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="odoo-sandbox", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self.thread.join()
