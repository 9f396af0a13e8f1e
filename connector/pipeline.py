"""Bulk reads: the next page is fetched from the ERP in a background thread while the last one is
mapped and written (the wait for the ERP releases the interpreter's lock), and the garbage collector
keeps out of the way."""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """``items`` pulled in a background thread, at most ``ahead`` waiting.  An exception in the thread
    is raised here, in order; leaving the loop early stops the thread after its current pull."""
    waiting: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pull() -> None:
        try:
            while not stop.is_set():
                try:
                    item = next(items)
                except StopIteration:
                    break
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=pull, name="creditguard-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            got = waiting.get()
            if got is _DONE:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield got  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


_collections_lock = threading.Lock()
_bulk_readers = 0
_saved_threshold: tuple[int, ...] = ()


@contextmanager
def fewer_collections(threshold: int = 50_000) -> Iterator[None]:
    """For a bulk read: it allocates millions of short-lived containers (a page's JSON, its records), so
    the cyclic garbage collector would run every 700 of them and promote the pages in flight into the
    generations it scans in full.  Meanwhile the objects that were alive before are frozen (left out of
    collections) and the young generation is collected every ``threshold`` allocations.  Reads in
    several threads share one setting; the last one out restores the collector."""
    global _bulk_readers, _saved_threshold
    with _collections_lock:
        if _bulk_readers == 0:
            _saved_threshold = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(threshold, 20, 100)
        _bulk_readers += 1
    try:
        yield
    finally:
        with _collections_lock:
            _bulk_readers -= 1
            if _bulk_readers == 0:
                gc.set_threshold(*_saved_threshold)
                gc.unfreeze()


class Stage:
    """Calls ``work`` on each submitted item, in order, in a background thread, at most ``ahead`` items
    waiting: for a database server, which writes one page while we map the next.  An exception in
    ``work`` is raised by the next :meth:`submit` or when the block ends; no later item is worked on."""

    def __init__(self, work: Callable[[T], None], ahead: int = 1, name: str = "creditguard-stage") -> None:
        self._work = work
        self._waiting: queue.Queue = queue.Queue(maxsize=ahead)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._waiting.get()) is not _DONE:
            if self._error is None:
                try:
                    self._work(item)
                except BaseException as exc:  # handed to the submitting thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, item: T) -> None:
        self._raise()
        self._waiting.put(item)

    def __enter__(self) -> "Stage":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._waiting.put(_DONE)  # what was submitted is still worked on, then the thread ends
        self._thread.join()
        if exc is None:
            self._raise()
