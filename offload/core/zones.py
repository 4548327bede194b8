"""Time zones and Flask-Babel: which zone and locale a page or an e-mail is shown in.

Instants are stored in UTC and stay UTC in the database and the JSON API; only what a
person reads is shown in a zone. A page is shown in the signed-in member's zone (the
site's ``DEFAULT_TIMEZONE`` for visitors), chosen by the selector ``init_babel``
installs; an e-mail is rendered in its recipient's zone, whoever's request (or no
request: the mail worker) renders it, through ``shown_in``. Zones are IANA names, checked
against the zone database (``is_time_zone``). The locale is English for now: one
selector, so a later language changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, current_app, g, has_app_context
from flask_babel import Babel, get_timezone, refresh

babel = Babel(configure_jinja=False)  # the site's own filters format (core.templating)

# the regions of the zone database a person lives in ("Etc/GMT+3", "US/Eastern" and the
# like stay accepted when a browser sends them, but are not offered in the list)
_REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
            "Europe", "Indian", "Pacific")
_FORCED = "_offload_shown_in"


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str | None) -> bool:
    """Whether ``name`` is an IANA zone the zone database knows ("Europe/Paris", "UTC")."""
    return bool(name) and name in _zone_names()


@lru_cache(maxsize=1)
def grouped_time_zones() -> dict[str, list[tuple[str, str]]]:
    """The zones a member picks from, by region: {"Europe": [("Europe/Paris", "Paris")]},
    UTC first under "UTC"."""
    groups: dict[str, list[tuple[str, str]]] = {"UTC": [("UTC", "UTC")]}
    for name in sorted(_zone_names()):
        region, _, place = name.partition("/")
        if region in _REGIONS and place:
            groups.setdefault(region, []).append((name, place.replace("_", " ")))
    return groups


def zone(name: str | None) -> ZoneInfo:
    """The zone named ``name``, or the site's default for an unknown or empty name."""
    if is_time_zone(name):
        return ZoneInfo(name)
    return ZoneInfo(_default_name())


def current_zone() -> ZoneInfo:
    """The zone this request or rendering shows times in (UTC outside the app)."""
    if not has_app_context():
        return ZoneInfo("UTC")
    tz = get_timezone()
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


@contextmanager
def shown_in(name: str | None) -> Iterator[ZoneInfo]:
    """Show times in the zone ``name`` (the default for None or an unknown name) while
    inside: an e-mail rendered for its recipient, in a request or in the mail worker."""
    previous = g.get(_FORCED)
    setattr(g, _FORCED, zone(name))
    refresh()  # Flask-Babel keeps the zone it chose for the request: choose again
    try:
        yield getattr(g, _FORCED)
    finally:
        setattr(g, _FORCED, previous)
        refresh()


def _default_name() -> str:
    return current_app.config["DEFAULT_TIMEZONE"] if has_app_context() else "UTC"


def init_babel(app: Flask, member_zone: Callable[[], str | None]) -> None:
    """Flask-Babel with English and the zone of ``member_zone()`` (the signed-in
    member's IANA name, None for a visitor), else the site default."""

    def select_zone() -> ZoneInfo:
        forced = g.get(_FORCED)
        return forced if forced is not None else zone(member_zone())

    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["DEFAULT_TIMEZONE"])
    babel.init_app(app, locale_selector=lambda: app.config["BABEL_DEFAULT_LOCALE"],
                   timezone_selector=select_zone)
