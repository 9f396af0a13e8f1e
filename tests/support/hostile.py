"""A loopback HTTP server in front of a real sandbox that answers one chosen call with a hostile answer.

Every request is forwarded to the sandbox (``upstream``) unless ``rule(method, path, body)`` returns
an :class:`Action`; the action then writes raw bytes on the socket: a canned answer, a body cut short,
one byte every few seconds, or an endless body.  Raw sockets, so that anything a broken server or
proxy can send can be sent.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Action:
    status: int = 200
    content_type: str = "text/xml"
    body: bytes = b""
    declared_length: int | None = -1  # -1: len(body); None: no Content-Length (ends when the socket closes)
    drip_seconds: float = 0  # > 0: one byte of body every drip_seconds
    endless: bool = False  # after body, ``repeat`` sent until the client goes away (no Content-Length)
    repeat: bytes = b""
    total: int = 0  # > 0: an endless body stops after this many bytes (then the connection closes)

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} X", f"Content-Type: {self.content_type}", "Connection: close"]
        length = len(self.body) if self.declared_length == -1 else self.declared_length
        if length is not None and not self.endless:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(body: bytes, content_type: str = "text/xml", status: int = 200) -> Action:
    return Action(status=status, content_type=content_type, body=body)


def cut_short(body: bytes, content_type: str = "text/xml") -> Action:
    """Announces the whole body, sends half of it and closes the connection."""
    return Action(content_type=content_type, body=body[: len(body) // 2], declared_length=len(body))


def drip(body: bytes, seconds: float, content_type: str = "text/xml") -> Action:
    return Action(content_type=content_type, body=body, drip_seconds=seconds)


def endless(chunk: bytes, content_type: str = "text/xml", prefix: bytes = b"") -> Action:
    return Action(content_type=content_type, body=prefix, repeat=chunk, endless=True)


Rule = Callable[[str, str, bytes], Action | None]


class HostileServer:
    """``with HostileServer(upstream_url, rule) as server: server.url``; ``server.hits`` counts hostile answers."""

    def __init__(self, upstream: str | None, rule: Rule) -> None:
        self.upstream = upstream
        self.rule = rule
        self.hits = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    outer._handle(self.request)
                except OSError:
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._http = httpx.Client(timeout=30)

    def __enter__(self) -> "HostileServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def _handle(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        while True:
            request_line = reader.readline()
            if not request_line:
                return
            method, path, _ = request_line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = reader.read(int(headers.get("content-length", "0") or 0))
            action = self.rule(method, path, body)
            if action is not None:
                self.hits += 1
                self._act(sock, action)
                return
            upstream = self._http.request(method, f"{self.upstream}{path}", content=body, headers={
                k: v for k, v in headers.items() if k not in HOP_HEADERS and k != "host"})
            head = [f"HTTP/1.1 {upstream.status_code} {upstream.reason_phrase}"]
            head += [f"{k}: {v}" for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS]
            head += [f"Content-Length: {len(upstream.content)}"]
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + upstream.content)

    @staticmethod
    def _act(sock: socket.socket, action: Action) -> None:
        sock.sendall(action.head())
        if action.drip_seconds:
            for i in range(len(action.body)):
                sock.sendall(action.body[i:i + 1])
                time.sleep(action.drip_seconds)
        elif action.endless:
            sock.sendall(action.body)
            sent = len(action.body)
            while not action.total or sent < action.total:
                sock.sendall(action.repeat)
                sent += len(action.repeat)
        else:
            sock.sendall(action.body)
        sock.shutdown(socket.SHUT_RDWR)
