"""Structured logs: each record's ``extra`` fields are appended as key=value pairs.

Services log events with ``extra={"user_id": ...}``; this keeps them machine-readable
without a logging framework. Never pass passwords, tokens or cookies as extras.
"""

from __future__ import annotations

import logging

# attributes every LogRecord has; anything else came from ``extra=``
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        return line


def init_logging() -> None:
    """Give the root logger a key=value handler unless the host (gunicorn, pytest) set one."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
