"""Calling the JSON API in tests: a request with a bearer token whose status is checked,
a refusal's problem type, and a problem's field errors."""

from __future__ import annotations


def call(client, method: str, url: str, headers: dict[str, str], status: int = 200,
         **kwargs):
    """``client.open`` under /api/v1 (``url`` is the rest of the path) with ``headers``
    (a bearer token, an Idempotency-Key), asserting the status; a problem's body is in
    the assertion's message."""
    response = client.open(f"/api/v1{url}", method=method, headers=headers, **kwargs)
    assert response.status_code == status, (method, url, response.status_code,
                                             response.get_json())
    return response


def refused(client, method: str, url: str, headers: dict, status: int, slug: str, **kwargs):
    """A refusal: ``status``, as a problem+json of type ``urn:offload:problem:<slug>``."""
    response = call(client, method, url, headers, status, **kwargs)
    assert problem_type(response) == slug, response.get_json()
    return response.get_json()


def problem_fields(response) -> set[tuple[str, str]]:
    """A problem's ``(in, field)`` pairs."""
    assert response.mimetype == "application/problem+json"
    return {(e["in"], e["field"]) for e in response.get_json().get("errors", [])}


def problem_type(response) -> str:
    """A problem's type without its ``urn:offload:problem:`` prefix."""
    assert response.mimetype == "application/problem+json"
    return response.get_json()["type"].removeprefix("urn:offload:problem:")


def with_key(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}
