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
    response = _request(app, client, login, world, endpoint, method, role)
    _check(response, MATRIX[(endpoint, method)][role])


def _request(app, client, login, world, endpoint, method, role):
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
    return client.open(url, method=method, data={}, headers=headers)


def _check(response, expected: str) -> None:
    location = response.headers.get("Location", "")
    got = response.status_code
    if expected == "401":
        assert got == 401 and response.mimetype == "application/problem+json", got
    elif expected == "403":
        assert got == 403 and response.mimetype == "application/problem+json", got
        assert response.get_json()["type"] == "urn:offload:problem:not-allowed"
    elif expected == "login":
        assert got == 302 and location.startswith("/login"), (got, location)
    elif expected == "confirm":
        assert got == 302 and location.startswith("/settings"), (got, location)
    elif expected == "404":
        assert got == 404, (got, location)
    else:
        assert got not in (403, 404, 405, 500), (got, location)
        assert not (got == 302 and location.startswith("/login")), location


# the rows where the admin gets more than the outsider (a member with no part in the
# member's things): what admin powers give. A case about the member is shown to the
# admin as the member's inviter too, power or not.
ADMIN_ONLY = [(endpoint, method) for (endpoint, method), row in sorted(MATRIX.items())
              if row["admin"] != row["outsider"] and endpoint != "cases.show"]


@pytest.mark.resets_tables
@pytest.mark.parametrize(("endpoint", "method"), ADMIN_ONLY,
                         ids=[f"{e}-{m}" for e, m in ADMIN_ONLY])
def test_an_admin_without_two_factor_has_no_admin_powers(app, client, login, world,
                                                         monkeypatch, endpoint, method):
    """With TWO_FACTOR_REQUIRED_FOR_ADMINS on, the matrix's admin (no 2FA) gets what the
    outsider gets, on the site and through the API; the admin area sends them to set it
    up."""
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_FOR_ADMINS", True)
    response = _request(app, client, login, world, endpoint, method, "admin")
    if endpoint.startswith("admin."):
        assert response.status_code == 302, response.status_code
        assert response.headers["Location"] == "/settings/two-factor"
    else:
        _check(response, MATRIX[(endpoint, method)]["outsider"])
