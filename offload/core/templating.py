"""Template filters and globals shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, request

from .cache import cached_fragments, list_key, stitch, stitch_mark
from .db import utcnow
from .links import PathMakers, external_url, fixed_path, path_maker
from .text import render_markdown


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def format_date(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%-d %b %Y") if value else ""


def time_ago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    if seconds < 0:
        return "in " + _span(-seconds)
    if seconds < 60:
        return "just now"
    return _span(seconds) + " ago"


def time_waited(value: datetime | None) -> str:
    """How long since ``value``, without "ago" ("3 days"): for "waiting 3 days"."""
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    return "under a minute" if seconds < 60 else _span(seconds)


def _span(seconds: int) -> str:
    for size, name in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"),
                       (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {name}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def nav_active(*prefixes: str) -> str:
    """``aria-current="page"`` for the navigation link of the section being viewed."""
    endpoint = request.endpoint or ""
    return 'aria-current="page"' if any(endpoint.startswith(p) for p in prefixes) else ""


def aria_attrs(field: Any, hint: str | None = None) -> dict[str, str]:
    """The ARIA attributes of a form control, or of each option of a radio or check box
    group: ``aria-describedby`` its hint and its error list (ids ``<id>-hint`` and
    ``<id>-error``, as _forms.html writes them), ``aria-invalid`` when it has errors."""
    described = ([f"{field.id}-hint"] if hint or field.description else []) + (
        [f"{field.id}-error"] if field.errors else [])
    attrs = {"aria-describedby": " ".join(described)} if described else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


def init_templating(app: Flask) -> None:
    app.jinja_env.filters.update(markdown=render_markdown, datetime=format_datetime,
                                 date=format_date, ago=time_ago,
                                 waited=time_waited)
    app.jinja_env.globals.update(external_url=external_url, path_maker=path_maker,
                                 path_makers=PathMakers, fixed_path=fixed_path,
                                 cached_fragments=cached_fragments, list_key=list_key,
                                 stitch=stitch, stitch_mark=stitch_mark,
                                 nav_active=nav_active,
                                 aria_attrs=aria_attrs)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
