"""What an ERP answer may be: bounded in size, in time, in nesting, and free of XML entity tricks.

Both adapters read their answers through these helpers, so that a hostile or broken server (an XML
bomb, an HTML page with status 200, invalid UTF-8, a connection dropped mid-answer, JSON nested ten
thousand deep, a 200 MB answer, one byte every five seconds) ends the call with one
:class:`AnswerRefused` that the adapter turns into a core error naming the source and the URL:

* **size** — an answer is streamed and given up as soon as it passes ``max_answer_bytes`` (the
  ``Content-Length`` is checked first); it is never read whole before it is judged;
* **time** — :func:`deadline` bounds a whole call (connect, send, receive, retries): every socket
  operation inside waits at most what is left of it (:func:`bound` for httpx's network backend,
  :func:`guard_socket` for the sockets of urllib3 / requests), so a server that drips one byte at a
  time cannot stretch a call past it;
* **XML** — no DTD, no entity declarations, no external entities; at most :data:`MAX_DEPTH` levels;
* **JSON** — valid UTF-8, at most :data:`MAX_DEPTH` levels.

:class:`AnswerRefused` carries no source or URL: the adapter adds them where it knows them.
"""

from __future__ import annotations

import codecs
import contextvars
import json
import re
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

import orjson
from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

from connector.errors import exception_chain

MAX_DEPTH = 200
"""Arrays / objects (JSON) or elements (XML) nested deeper than this are refused (records need < 10)."""
DEFAULT_MAX_ANSWER_MB = 64
_MB = 1024 * 1024
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class AnswerRefused(Exception):
    """An answer that cannot be read; ``retryable`` when it was cut short (the same call may succeed).
    The adapter names the URL (:meth:`at`) and turns it into a core error (:meth:`describe`)."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.url: str | None = None

    def at(self, url: str) -> "AnswerRefused":
        if self.url is None:
            self.url = url
        return self

    def describe(self, url: str | None = None) -> str:
        return f"unreadable answer from {self.url or url}: {self.reason}"


class NoAnswerInTime(AnswerRefused):
    """The call's deadline passed before the whole answer was there."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g} s", retryable=True)
        self.seconds = seconds

    def describe(self, url: str | None = None) -> str:
        return f"timed out: no complete answer from {self.url or url} within {self.seconds:g} s"


@contextmanager
def reading(url: str, timeouts: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Name ``url`` in the :class:`AnswerRefused` raised inside, and turn a timeout that ran into the
    current deadline (``timeouts``: the HTTP library's timeout exceptions) into :class:`NoAnswerInTime`."""
    try:
        yield
    except AnswerRefused as exc:
        raise exc.at(url) from None
    except (DeadlineExceeded, TimeoutError, *timeouts) as exc:
        expired = spent()
        if expired is None and not any(isinstance(e, DeadlineExceeded) for e in exception_chain(exc)):
            raise
        raise NoAnswerInTime(expired or current_deadline().seconds).at(url) from None  # type: ignore[union-attr]


def spent() -> float | None:
    """The current deadline's length if it has (all but) passed, else None."""
    current = _current.get()
    if current is not None and current.remaining() < 0.01:
        return current.seconds
    return None


class DeadlineExceeded(TimeoutError):
    """The call's deadline passed: raised by the socket operation that would have waited beyond it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Limits:
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_MB * _MB
    deadline_seconds: float = 30.0

    @classmethod
    def of(cls, max_answer_mb: float | None, deadline_seconds: float | None, timeout: float) -> "Limits":
        """From a source's settings: ``call_deadline_seconds`` defaults to its ``timeout``."""
        return cls(int((max_answer_mb or DEFAULT_MAX_ANSWER_MB) * _MB), float(deadline_seconds or timeout))

    @property
    def size_text(self) -> str:
        return f"{self.max_answer_bytes / _MB:g} MB"


# ---------------------------------------------------------------------------------------------- deadline


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float  # time.monotonic()
    seconds: float

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("creditguard_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound every socket operation of this thread to ``seconds`` from now (an outer, earlier deadline
    stays in force)."""
    outer = _current.get()
    mine = Deadline(time.monotonic() + seconds, seconds)
    if outer is not None and outer.at <= mine.at:
        yield outer
        return
    token = _current.set(mine)
    try:
        yield mine
    finally:
        _current.reset(token)


def current_deadline() -> Deadline | None:
    return _current.get()


def bound(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of the current deadline; :class:`DeadlineExceeded` if nothing is."""
    current = _current.get()
    if current is None:
        return timeout
    left = current.remaining()
    if left <= 0:
        raise DeadlineExceeded(current.seconds)
    return left if timeout is None else min(timeout, left)


def _arm(sock: socket.socket) -> None:
    current = _current.get()
    if current is None:
        return
    left = current.remaining()
    if left <= 0:
        raise DeadlineExceeded(current.seconds)
    timeout = sock.gettimeout()
    if timeout is None or timeout > left:
        sock.settimeout(left)


class _Guarded:
    """Every read and write first waits no longer than what is left of the current deadline (:func:`_arm`)."""

    __slots__ = ()

    def recv(self, *args: Any) -> bytes:
        _arm(self)  # type: ignore[arg-type]
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args: Any) -> int:
        _arm(self)  # type: ignore[arg-type]
        return super().recv_into(*args)  # type: ignore[misc]

    def send(self, *args: Any) -> int:
        _arm(self)  # type: ignore[arg-type]
        return super().send(*args)  # type: ignore[misc]

    def sendall(self, *args: Any) -> None:
        _arm(self)  # type: ignore[arg-type]
        return super().sendall(*args)  # type: ignore[misc]


class _GuardedSocket(_Guarded, socket.socket):
    __slots__ = ()


class _GuardedSSLSocket(_Guarded, ssl.SSLSocket):
    pass


def guard_socket(sock: Any) -> Any:
    """Make every read and write of ``sock`` wait no longer than what is left of the current deadline.

    For the sockets of libraries that set one timeout per operation (http.client, urllib3): the
    object keeps its identity and state, only its class gains the check.
    """
    if type(sock) is ssl.SSLSocket:
        sock.__class__ = _GuardedSSLSocket
    elif type(sock) is socket.socket:
        sock.__class__ = _GuardedSocket
    return sock


# ------------------------------------------------------------------------------------------------- size


def media_type(headers: Mapping[str, str]) -> str:
    return (headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def check_head(headers: Mapping[str, str], limits: Limits, expected: str) -> None:
    """Refuse before reading the body: an HTML page, or a declared length beyond the cap."""
    kind = media_type(headers)
    if kind in _HTML_TYPES:
        raise AnswerRefused(f"not {expected} ({kind} page)")
    length = headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > limits.max_answer_bytes:
        raise AnswerRefused(f"answer larger than {limits.size_text}")


def capped(chunks: Iterable[bytes], limits: Limits) -> Iterator[bytes]:
    """The chunks of an answer, stopped with :class:`AnswerRefused` once they pass the cap."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limits.max_answer_bytes:
            raise AnswerRefused(f"answer larger than {limits.size_text}")
        yield chunk


def read_capped(chunks: Iterable[bytes], limits: Limits) -> bytearray:
    """The whole answer (for parsers that need it whole), never more than the cap."""
    body = bytearray()
    for chunk in capped(chunks, limits):
        body += chunk
    return body


# ------------------------------------------------------------------------------------------------- JSON


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists / dicts in ``value`` nest deeper than ``limit`` (iterative: no recursion)."""
    if not isinstance(value, (list, dict)):
        return False
    if limit >= _SHALLOW and _shallow(value):
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        for item in node.values() if isinstance(node, dict) else node:
            if isinstance(item, (list, dict)) and item:
                pending.append((item, depth + 1))
            elif isinstance(item, (list, dict)) and depth + 1 > limit:
                return True
    return False


_SHALLOW = 4  # what an ERP answer nests: the envelope, the records, a record, a pair or a list of ids
_CONTAINERS = frozenset((list, dict))


def _shallow(value: list | dict) -> bool:
    """Whether ``value`` nests at most four levels: a quick look (exact types, no stack) that every answer
    of a search_read passes, so that the full walk is left for the rare deeper answer."""
    containers = _CONTAINERS
    for second in value.values() if type(value) is dict else value:
        if type(second) not in containers:
            continue
        for third in second.values() if type(second) is dict else second:
            if type(third) not in containers:
                continue
            for fourth in third.values() if type(third) is dict else third:
                if type(fourth) not in containers:
                    continue
                for fifth in fourth.values() if type(fourth) is dict else fourth:
                    if type(fifth) in containers:
                        return False
    return True


def parse_json(content: bytes | bytearray, expected: str) -> Any:
    """JSON parsed with orjson (fast); numbers orjson does not take (integers beyond 64 bits) go through
    the standard parser.  Invalid UTF-8, deep nesting and malformed text raise :class:`AnswerRefused`."""
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        value = _parse_json_slowly(content, expected)
    if depth_exceeds(value):
        raise AnswerRefused(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _parse_json_slowly(content: bytes | bytearray, expected: str) -> Any:
    try:
        text = bytes(content).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnswerRefused(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise AnswerRefused(f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise AnswerRefused("answer ends early (connection dropped mid-answer)", retryable=True) from None
        raise AnswerRefused(f"not {expected} (malformed JSON at line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg})") from None


# -------------------------------------------------------------------------------------------------- XML

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ENDED_EARLY = {expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
                expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
                expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR]}


class XmlFeed:
    """Feed an answer chunk by chunk to a defused expat parser around ``target`` (an
    :class:`xmlrpc.client.Unmarshaller`): no DTD, no entities, at most :data:`MAX_DEPTH` levels, UTF-8
    checked unless the document declares another encoding."""

    def __init__(self, target: Any, expected: str) -> None:
        self._expected = expected
        self._parser = DefusedExpatParser(target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        raw = self._parser._parser  # the pyexpat parser: count the depth around the target's handlers
        start, end = raw.StartElementHandler, raw.EndElementHandler
        self._depth = 0

        def on_start(tag: str, attrs: dict) -> None:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise AnswerRefused(f"nested deeper than {MAX_DEPTH} levels")
            start(tag, attrs)

        def on_end(tag: str) -> None:
            self._depth -= 1
            end(tag)

        raw.StartElementHandler, raw.EndElementHandler = on_start, on_end
        self._utf8: Any = None
        self._seen = 0
        self._first = True

    def feed(self, chunk: bytes) -> None:
        if self._first:
            self._first = False
            declared = _DECLARED.match(chunk[:200])
            if declared is None or declared.group(1).lower().replace("_", "-") in (b"utf-8", b"utf8"):
                self._utf8 = codecs.getincrementaldecoder("utf-8")()
        if self._utf8 is not None:
            try:
                self._utf8.decode(chunk)
            except UnicodeDecodeError as exc:
                raise AnswerRefused(f"invalid UTF-8 at byte {self._seen + exc.start}") from None
        self._seen += len(chunk)
        self._guard(self._parser.feed, chunk)

    def close(self) -> None:
        if self._utf8 is not None:
            try:
                self._utf8.decode(b"", True)
            except UnicodeDecodeError:
                raise AnswerRefused("answer ends early (connection dropped mid-answer)", retryable=True) from None
        self._guard(self._parser.close)

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except DefusedXmlException as exc:
            raise AnswerRefused(f"XML with a DTD or entity declarations, refused ({exc.__class__.__name__})") \
                from None
        except expat.ExpatError as exc:
            if exc.code in _ENDED_EARLY and not args:  # at close: the document stops before its end
                raise AnswerRefused("answer ends early (connection dropped mid-answer)", retryable=True) from None
            raise AnswerRefused(f"not {self._expected} (malformed XML at line {exc.lineno} column "
                                f"{exc.offset}: {expat.errors.messages[exc.code]})") from None


def check_xml(content: bytes | bytearray, expected: str) -> None:
    """Refuse an XML document whole (SOAP answers, parsed later by zeep): well-formed, UTF-8 unless
    declared otherwise, no DTD or entities, at most :data:`MAX_DEPTH` levels.  Uses expat, element
    events only (no tree)."""

    class _Null:
        def start(self, tag: str, attrs: dict) -> None:
            pass

        def end(self, tag: str) -> None:
            pass

        def data(self, text: str) -> None:
            pass

        def xml(self, encoding: Any, standalone: Any) -> None:
            pass

    feed = XmlFeed(_Null(), expected)
    view = memoryview(content)
    step = 1 << 20
    for offset in range(0, len(view), step):
        feed.feed(bytes(view[offset:offset + step]))
    feed.close()


__all__ = [
    "AnswerRefused", "DEFAULT_MAX_ANSWER_MB", "Deadline", "DeadlineExceeded", "Limits", "MAX_DEPTH", "NoAnswerInTime",
    "XmlFeed", "bound", "capped", "check_head", "check_xml", "current_deadline", "deadline", "depth_exceeds",
    "guard_socket", "media_type", "parse_json", "read_capped", "reading", "spent",
]
