"""Structured logs: each record's ``extra`` fields, and the fields of the work at hand.

Services log events with ``extra={"user_id": ...}``; ``log_context(job=..., outbox_id=...)``
names the work every line logged inside it belongs to (a request's id, the worker's job
and outbox row), without passing it down to each call. ``install_log_context()`` puts
those fields on every record (``record.context``, one attribute: ``extra=`` may not
name an attribute the record already has), and the formatters (this key=value one,
the JSON one of ``offload.observability``) write them beside the extras.
Never pass passwords, tokens or cookies as extras, nor what a visitor typed where a
name was expected (it may be their password): ``log_digest`` stands for it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any

from flask import current_app

# attributes every LogRecord has; anything else came from ``extra=``
STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message", "asctime", "taskName", "context"}

_fields: ContextVar[Mapping[str, Any]] = ContextVar("offload_log_fields",
                                                    default=MappingProxyType({}))


def bind_log_fields(**fields: Any) -> Token:
    """Add ``fields`` to every record logged in this context until ``unbind_log_fields``."""
    return _fields.set(MappingProxyType({**_fields.get(), **fields}))


def unbind_log_fields(token: Token) -> None:
    _fields.reset(token)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every record logged inside carries ``fields`` (nested contexts add to the outer)."""
    token = bind_log_fields(**fields)
    try:
        yield
    finally:
        unbind_log_fields(token)


def log_digest(typed: str) -> str:
    """A short digest of something a visitor typed (a failed log-in's name), keyed with
    ``SECRET_KEY``: the same text, whatever its case or spaces, gives the same 12 hex
    digits, so repeated tries show in the logs, and without the key no one reading them
    can test guesses (an address, a password typed in the wrong field) against it."""
    key = hashlib.sha256(b"offload.log_digest\x1f" + str(current_app.secret_key).encode())
    text = typed.strip().casefold().encode()
    return hmac.new(key.digest(), text, hashlib.sha256).hexdigest()[:12]


def log_fields() -> Mapping[str, Any]:
    return _fields.get()


def install_log_context() -> None:
    """Make every LogRecord carry the context's fields as ``record.context`` (once per
    process)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_log_context", False):
        return

    def record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.context = _fields.get()
        return record

    record_with_context.adds_log_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record_with_context)


def extras_of(record: logging.LogRecord) -> dict[str, Any]:
    """The record's fields beyond the standard ones: the context's, then its extras (which
    win: the call knows best)."""
    fields = dict(getattr(record, "context", None) or {})
    fields.update((k, v) for k, v in vars(record).items() if k not in STANDARD_ATTRIBUTES)
    return fields


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = extras_of(record)
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        return line
