"""Read ahead: the next page is fetched from the ERP while the current one is written to the store."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterator[T], clock: Callable[[], datetime], ahead: int = 1) -> Iterator[tuple[datetime, T]]:
    """``items`` pulled in a background thread, at most ``ahead`` waiting, each with the time its
    pull started (when the ERP was asked for it).  An exception in the thread is raised here, in
    order; leaving the loop early stops the thread after its current pull."""
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
                started = clock()
                try:
                    item = next(items)
                except StopIteration:
                    break
                if not put((started, item)):
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
