"""The authorization matrix in docs/authorization.md, checked against the live routes."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.support.authorization import MATRIX, ROLES, build_world


def app_routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_exactly_one_entry(app):
    routes = app_routes(app)
    assert sorted(routes - MATRIX.keys()) == [], "routes missing from docs/authorization.md"
    assert sorted(MATRIX.keys() - routes) == [], "entries for routes that do not exist"


def test_every_cell_is_a_known_outcome():
    assert {cell for row in MATRIX.values() for cell in row.values()} <= {
        "ok", "login", "confirm", "404", "401", "403"}


CASES = [(endpoint, method, role) for (endpoint, method), row in sorted(MATRIX.items())
         for role in ROLES]


@pytest.fixture(scope="module")
def world(app):
    """The world, built once through the services; each cell puts its snapshot back."""
    return build_world(app)


@pytest.mark.resets_tables
@pytest.mark.parametrize(("endpoint", "method", "role"), CASES,
                         ids=[f"{e}-{m}-{r}" for e, m, r in CASES])
def test_cell(app, client, login, world, endpoint, method, role):
    world.snapshot.put_back()
    headers = {}
    if endpoint.startswith("api."):  # the API: the role's token, never a session
        if world.tokens[role] is not None:
            headers["Authorization"] = f"Bearer {world.tokens[role]}"
    elif world.logins[role] is not None:
        login(world.logins[role])
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        url = url_for(endpoint, **{name: world.url_values[name] for name in rule.arguments})
    response = client.open(url, method=method, data={}, headers=headers)
    expected = MATRIX[(endpoint, method)][role]
    location = response.headers.get("Location", "")
    got = response.status_code
    if expected == "401":
        assert got == 401 and response.mimetype == "application/problem+json", got
    elif expected == "login":
        assert got == 302 and location.startswith("/login"), (got, location)
    elif expected == "confirm":
        assert got == 302 and location.startswith("/settings"), (got, location)
    elif expected == "403":  # the API: the service refuses this member (NotAllowed)
        assert got == 403 and response.mimetype == "application/problem+json", got
    elif expected == "404":
        assert got == 404, (got, location)
    else:
        assert got not in (403, 404, 405, 500), (got, location)
        assert not (got == 302 and location.startswith("/login")), location
