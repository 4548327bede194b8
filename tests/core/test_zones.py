"""Dates, times and numbers through Babel, in the zone they are shown in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from offload.core.db import utcnow
from offload.core.money import display_money, display_percent_bps, format_money
from offload.core.zones import current_zone, grouped_time_zones, is_time_zone, shown_in


def _render(app, source: str, zone: str | None = None, **values) -> str:
    with app.test_request_context("/"), shown_in(zone):
        return app.jinja_env.from_string(source).render(**values)


def test_a_utc_member_reads_times_as_before(app):
    at = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    assert _render(app, "{{ at|datetime }}", "UTC", at=at) == "3 Dec 2026, 13:05 UTC"
    assert _render(app, "{{ at|date }}", "UTC", at=at) == "3 Dec 2026"


@pytest.mark.parametrize(("zone", "at", "shown"), [
    ("Europe/Paris", datetime(2026, 12, 3, 13, 5, tzinfo=UTC), "3 Dec 2026, 14:05 CET"),
    ("Asia/Tokyo", datetime(2026, 12, 3, 13, 5, tzinfo=UTC), "3 Dec 2026, 22:05 JST"),
    # the last minute of winter time in Paris, then the first of summer time
    ("Europe/Paris", datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29 Mar 2026, 01:59 CET"),
    ("Europe/Paris", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29 Mar 2026, 03:00 CEST"),
    # New York's clocks go back: 01:30 happens twice, told apart by the zone's name
    ("America/New_York", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "1 Nov 2026, 01:30 EDT"),
    ("America/New_York", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "1 Nov 2026, 01:30 EST"),
])
def test_an_instant_is_shown_in_the_zone_with_its_name(app, zone, at, shown):
    assert _render(app, "{{ at|datetime }}", zone, at=at) == shown


def test_an_instants_day_is_the_zones_but_a_date_never_shifts(app):
    late = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # already the 4th in Tokyo
    deadline = date(2026, 12, 3)
    assert _render(app, "{{ at|date }}", "Asia/Tokyo", at=late) == "4 Dec 2026"
    assert _render(app, "{{ at|date }}", "Pacific/Honolulu", at=late) == "3 Dec 2026"
    for zone in ("Asia/Tokyo", "Pacific/Honolulu", "UTC"):
        assert _render(app, "{{ d|date }}", zone, d=deadline) == "3 Dec 2026"


def test_relative_times_through_babel(app):
    now = utcnow()
    assert _render(app, "{{ at|ago }}", at=now - timedelta(hours=3, minutes=2)) == "3 hours ago"
    assert _render(app, "{{ at|ago }}", at=now + timedelta(days=2, minutes=5)) == "in 2 days"
    assert _render(app, "{{ at|ago }}", at=now - timedelta(seconds=20)) == "just now"
    assert _render(app, "{{ at|waited }}", at=now - timedelta(days=3, minutes=1)) == "3 days"
    assert _render(app, "{{ at|waited }}", at=now - timedelta(seconds=5)) == "under a minute"


def test_shown_in_puts_back_the_zone_it_found(app):
    with app.test_request_context("/"):
        assert current_zone().key == "UTC"
        with shown_in("Asia/Tokyo"):
            with shown_in("Europe/Paris"):
                assert current_zone().key == "Europe/Paris"
            assert current_zone().key == "Asia/Tokyo"
        assert current_zone().key == "UTC"
        with shown_in("Not/AZone"):  # an unknown name: the site's default
            assert current_zone().key == "UTC"


def test_visitors_see_the_sites_default_zone(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Europe/Paris")
    at = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    with app.test_request_context("/"):
        assert app.jinja_env.from_string("{{ at|datetime }}").render(at=at) == (
            "3 Dec 2026, 14:05 CET")


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires",
                                  "Asia/Kolkata"])
def test_iana_zones_are_zones(name):
    assert is_time_zone(name)


@pytest.mark.parametrize("name", ["", None, "Mars/Olympus", "europe/paris", "CET+1",
                                  "../../etc/passwd", "Europe/Paris "])
def test_other_names_are_not(name):
    assert not is_time_zone(name)


def test_the_list_is_grouped_by_region_with_utc_first():
    groups = grouped_time_zones()
    assert next(iter(groups)) == "UTC"
    assert ("Asia/Tokyo", "Tokyo") in groups["Asia"]
    assert ("America/New_York", "New York") in groups["America"]
    assert all(is_time_zone(name) for zones in groups.values() for name, _ in zones)


@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP", "CHF"])
@pytest.mark.parametrize("minor", [1250, -1250, 5, 0, 123456, 100_000_000_00])
def test_money_through_babel_reads_as_before(app, currency, minor):
    with app.test_request_context("/"):
        assert display_money(minor, currency) == format_money(minor, currency)


def test_the_money_filter_is_unchanged(app):
    assert _render(app, "{{ 1250|money }} {{ -123456|money }}") == "$12.50 -$1,234.56"


@pytest.mark.parametrize(("bps", "shown"), [(700, "7%"), (1250, "12.5%"), (5, "0.05%"),
                                            (333, "3.33%"), (10_000, "100%")])
def test_rates_through_babel(app, bps, shown):
    with app.test_request_context("/"):
        assert display_percent_bps(bps) == shown
