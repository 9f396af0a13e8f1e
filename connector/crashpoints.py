"""Crash points: where a test may stop this process dead, as ``kill -9`` or a power cut would.

Every effect in an ERP must happen exactly once even if the process dies between any two steps.  The crash
test (and ``bench/crash.py``) proves it by running ``creditguard enforce`` with ``CREDITGUARD_CRASH_AT`` set:

* ``CREDITGUARD_CRASH_AT=7`` — the 7th crash point this process reaches, whatever its kind;
* ``CREDITGUARD_CRASH_AT=erp.call:3`` — the 3rd point of that kind.

Reaching the chosen point sends SIGKILL to the process itself: no ``finally``, no atexit, no flush, no
rollback — exactly what the operating system does to a killed process.  The kinds:

* ``store.commit`` — right after one of the store's transactions committed;
* ``erp.call`` — right after a write call to the ERP returned (its effect is in the ERP, its answer here);
* ``outbox.applied`` — an outbox entry's writes are all done, not yet marked applied.

Unset (always, outside tests) the points cost one comparison each.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

ENV = "CREDITGUARD_CRASH_AT"


def _parse(value: str) -> tuple[str | None, int]:
    kind, _, count = value.rpartition(":")
    try:
        n = int(count)
    except ValueError:
        raise SystemExit(f"creditguard: error: {ENV}={value!r}: expected N or KIND:N") from None
    if n < 1:
        raise SystemExit(f"creditguard: error: {ENV}={value!r}: N counts from 1")
    return kind or None, n


_target: tuple[str | None, int] | None = _parse(os.environ[ENV]) if os.environ.get(ENV) else None
_reached = 0


def armed() -> bool:
    return _target is not None


def reached(kind: str) -> None:
    """A crash point of ``kind``: stop dead here if it is the chosen one."""
    global _reached
    if _target is None:
        return
    wanted, n = _target
    if wanted is not None and wanted != kind:
        return
    _reached += 1
    if _reached == n:
        sys.stderr.write(f"creditguard: crash point {kind} #{n}: killed\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def after_calls(target: Any, methods: tuple[str, ...], kind: str = "erp.call") -> Any:
    """``target`` itself when no crash is armed, else a proxy on which each of ``methods`` is a crash point
    once it has returned (the ERP client of a writer: its write calls)."""
    if _target is None:
        return target
    return _CrashingProxy(target, methods, kind)


class _CrashingProxy:
    def __init__(self, target: Any, methods: tuple[str, ...], kind: str) -> None:
        self._target, self._methods, self._kind = target, methods, kind

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name not in self._methods:
            return value
        return self._wrap(value)

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            reached(self._kind)
            return result
        return call
