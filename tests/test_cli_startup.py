"""The command line imports what a command needs when it runs (speed is measured by bench/cli.py, not here):
`--help` needs none of the heavy libraries, and opening an up-to-date store does not load Alembic."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "structlog", "pydantic", "rich", "alembic", "httpx", "zeep", "odoolib")


def loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport sys, json; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_library():
    assert loaded_after("from creditguard.cli import main\n"
                        "try:\n    main.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass") == []


def test_an_up_to_date_store_opens_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    loaded_after(f"from connector.store import Store\nStore.open({url!r}).close()")  # creates the schema
    loaded = loaded_after(f"from connector.store import Store\nStore.open({url!r}).close()")
    assert "alembic" not in loaded and "structlog" not in loaded
