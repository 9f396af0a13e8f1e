"""The store: the only code that writes SQL.

SQLite (a file, WAL mode) by default, PostgreSQL through psycopg 3 in
production; both reached through SQLAlchemy 2 Core.  Migrations are Alembic
revisions under ``migrations/`` and are applied when the store opens.
"""

from .scan_state import Held, ScanState
from .store import FullRun, PageResult, Store

__all__ = ["FullRun", "Held", "PageResult", "ScanState", "Store"]
