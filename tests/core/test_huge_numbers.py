"""Numbers past what the database stores (2**63 and beyond) in every integer URL part and
every cursor-like query parameter: a 404 or the page, never a 500."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.support.authorization import MATRIX, build_world

HUGE = str(2**63)
QUERY_VALUES = (HUGE, "99999999999999999999.99999999999999999999", f"1.{HUGE}", f"{HUGE}.1")
# the query parameters the pages read as cursors or ids (grep request.args)
QUERY_NAMES = ("before", "after", "moved_before", "messages_before", "project", "member",
               "cursor", "min_rating", "budget_min", "budget_max")


@pytest.fixture(scope="module")
def world(app):
    return build_world(app)


def _reader(endpoint: str, method: str) -> str | None:
    """The first role that the matrix lets use the route (member before admin)."""
    cells = MATRIX[(endpoint, method)]
    return next((role for role in ("member", "admin") if cells[role] == "ok"), None)


def _rules(app, *, with_int: bool):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        ints = {name for name, conv in rule._converters.items()
                if type(conv).__name__ == "RecordIdConverter"}
        if with_int and not ints:
            continue
        yield rule, ints


def test_a_huge_id_in_any_route_is_not_found(app, client, login, world):
    world.snapshot.restore()  # refused requests change nothing: one world for all
    tried = 0
    for rule, ints in _rules(app, with_int=True):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            role = _reader(rule.endpoint, method) or "admin"
            login(world.logins[role])
            values = {name: world.url_values[name] for name in rule.arguments}
            with app.test_request_context():
                url = url_for(rule.endpoint, **values)
            for name in ints:
                huge_url = url.replace(f"/{values[name]}", f"/{HUGE}", 1)
                assert huge_url != url, (rule.rule, name)
                response = client.open(huge_url, method=method, data={})
                assert response.status_code == 404, (method, huge_url, response.status_code)
                tried += 1
    assert tried > 50  # every id route of the site, not a handful


def test_huge_cursors_and_ids_in_query_strings_never_fail(app, client, login, world):
    world.snapshot.restore()
    tried = 0
    for rule, _ in _rules(app, with_int=False):
        if "GET" not in rule.methods or (rule.endpoint, "GET") not in MATRIX:
            continue
        role = _reader(rule.endpoint, "GET")
        if role is None:
            continue
        login(world.logins[role])
        with app.test_request_context():
            url = url_for(rule.endpoint, **{n: world.url_values[n] for n in rule.arguments})
        for value in QUERY_VALUES:
            response = client.get(url, query_string={name: value for name in QUERY_NAMES})
            assert response.status_code != 500, (url, value)
            tried += 1
    assert tried > 100
