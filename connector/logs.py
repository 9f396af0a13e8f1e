"""Structured logging (structlog): JSON lines unless stderr is a terminal.

Events are named ``area.what_happened`` with context bound once (source,
stream).  A processor drops any key that looks like a credential, so a
careless ``log.info(..., password=...)`` cannot leak one.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_SECRET_KEYS = ("password", "secret", "api_key", "apikey", "token", "authorization")
# structlog (with what it imports) takes longer to import than a credit check takes to run: it is imported
# by the first module that asks for a logger, and the configuration waits until then.
_settings: tuple[str, str, Any] | None = None


def _redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def get_logger(name: str) -> Any:
    """A structlog logger (structlog is configured as :func:`configure_logging` last said)."""
    import structlog

    if _settings is not None and not structlog.is_configured():
        _apply(*_settings)
    return structlog.get_logger(name)


def configure_logging(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    global _settings
    _settings = (level, fmt, stream or sys.stderr)
    if "structlog" in sys.modules:
        _apply(*_settings)


def _apply(level: str, fmt: str, stream: Any) -> None:
    import structlog

    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
