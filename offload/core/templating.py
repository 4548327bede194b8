"""Template filters and globals shared by every feature."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, request
from flask_babel import format_date as babel_date
from flask_babel import format_datetime as babel_datetime
from flask_babel import format_timedelta

from .cache import cached_fragments, list_key, stitch, stitch_mark
from .db import utcnow
from .links import PathMakers, external_url, fixed_path, path_maker
from .text import render_markdown
from .zones import current_zone

# Babel patterns: the locale names the month; English reads "3 Dec 2026, 14:05"
_DATETIME = "d MMM y, HH:mm"
_DATE = "d MMM y"


def format_datetime(value: datetime | None) -> str:
    """An instant in the zone it is shown in, the zone named: "3 Dec 2026, 14:05 CET"
    (stored UTC; Babel writes the date and time for the locale, the zone database names
    the zone as the member's clocks do, summer time included)."""
    if value is None:
        return ""
    local = value.astimezone(current_zone())
    return f"{babel_datetime(local, _DATETIME, rebase=False)} {local.tzname()}"


def format_date(value: date | datetime | None) -> str:
    """A day: "3 Dec 2026". An instant's day is the one in the zone it is shown in; a
    date (a deadline, a due day) is that day everywhere and never shifts."""
    if value is None:
        return ""
    day = value.astimezone(current_zone()).date() if isinstance(value, datetime) else value
    return babel_date(day, _DATE)


def time_ago(value: datetime | None) -> str:
    """"3 hours ago", "in 2 days", "just now" (under a minute either way)."""
    if value is None:
        return ""
    elapsed = utcnow() - value
    if abs(elapsed) < timedelta(minutes=1):
        return "just now"
    return format_timedelta(-elapsed, granularity="minute", threshold=1, add_direction=True)


def time_waited(value: datetime | None) -> str:
    """How long since ``value``, without "ago" ("3 days"): for "waiting 3 days"."""
    if value is None:
        return ""
    elapsed = utcnow() - value
    if elapsed < timedelta(minutes=1):
        return "under a minute"
    return format_timedelta(elapsed, granularity="minute", threshold=1)


def zone_now() -> str:
    """The zone times are shown in, as its clocks read now: "JST, UTC+09:00"."""
    now = utcnow().astimezone(current_zone())
    offset = now.strftime("%z")
    return f"{now.tzname()}, UTC{offset[:3]}:{offset[3:]}"


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
                                 nav_active=nav_active, zone_now=zone_now,
                                 aria_attrs=aria_attrs)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
