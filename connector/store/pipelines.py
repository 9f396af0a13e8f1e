"""PostgreSQL: psycopg pipelines that begin their transaction without a round trip of its own.

Asked for a statement when no transaction is open, a psycopg connection that is not in autocommit sends ``BEGIN``
first; in a pipeline it then waits for the answer to that ``BEGIN`` alone (a sync: a round trip to the server and
back) before it sends the statement, so as to know that the transaction began.  A credit check's reads, and the
statements of the store's other pipelines, would pay two round trips instead of one.  :func:`pipeline` sends the
``BEGIN`` itself, first in the pipeline: for as long as the pipeline is sent, psycopg is told the connection is in
autocommit (so that it leaves the beginning to us), and once it has synced, the connection is a plain one in the
transaction just begun, as if psycopg had begun it (the public setter refuses to change autocommit inside a
transaction, hence its private attribute: ``psycopg`` is pinned, and the store's tests check the behaviour).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def pipeline(raw: Any) -> Iterator[None]:
    """A pipeline on the psycopg connection ``raw`` whose statements run in its transaction, begun by the pipeline
    when none is open (see the module's docstring).  A connection in autocommit, or in a transaction already, gets a
    plain pipeline."""
    from psycopg.pq import TransactionStatus  # (only PostgreSQL stores import the driver)

    if raw.autocommit or raw.info.transaction_status != TransactionStatus.IDLE:
        with raw.pipeline():
            yield
        return
    raw.autocommit = True  # idle and outside a pipeline: no round trip
    try:
        with raw.pipeline():
            raw.execute("BEGIN")
            yield
    finally:
        raw._autocommit = False  # in the transaction now (or failed: rolled back by whoever began it)
