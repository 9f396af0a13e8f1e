"""Dunning letters for SAP: an HTML file per step in the source's ``letters_dir``, for the correspondence
process to print or send (SAP has no standard service in this adapter to post into the customer's history).

The file is named after the step's idempotency key, written to a temporary name and renamed into place, so a
retry finds it and writes nothing (``already applied``), and a crash never leaves half a letter.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from connector.errors import FatalError, RetryableError


def file_name(key: str) -> str:
    """``sap:dunning:0000100001:c3:d30`` → ``sap_dunning_0000100001_c3_d30.html``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._") + ".html"


def document(entry: Any) -> str:
    p = entry.payload
    title = html.escape(p["subject"])
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(p["lang"])}"><head><meta charset="utf-8">'
            f'<title>{title}</title><meta name="creditguard-key" content="{html.escape(entry.key)}">'
            f'<meta name="customer" content="{html.escape(entry.target_id)}"></head>\n'
            f"<body>\n<h1>{title}</h1>\n{p['body']}\n</body></html>\n")


def write_letter(source: str, letters_dir: str | None, entry: Any) -> str:
    if not letters_dir:
        raise FatalError(source, "a dunning letter cannot be written: set letters_dir in the source's "
                                 "configuration, then retry the entry (creditguard outbox --retry ID)")
    folder = Path(letters_dir)
    target = folder / file_name(entry.key)
    if target.exists():
        return "already applied"
    text = document(entry)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".letter-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise RetryableError(source, f"cannot write the dunning letter {target}: {exc.strerror or exc}") from None
    return f"letter written to {target}"
