"""How answers read ahead are found (see :mod:`connector.store.check_reads`): a key per store read and its
arguments, and what a read not given ahead finds."""

from __future__ import annotations

from typing import Any

MISSING = object()
"""What a store read finds when its answer was not read ahead."""


def key(read: str, source: str, *args: Any) -> tuple:
    """The key of one read's answer: the store method's name and its arguments, collections as sorted tuples."""
    return (read, source, *(tuple(sorted(a)) if isinstance(a, (list, tuple, set, frozenset)) else a for a in args))
