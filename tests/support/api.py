"""The API tests' calls: a request with a bearer token that must answer a status, and
the problem type of a refusal."""

from __future__ import annotations


def call(client, method: str, url: str, headers: dict, status: int = 200, **kwargs):
    """``method url`` with ``headers`` (a bearer token, an Idempotency-Key); the response,
    which must have ``status``."""
    response = client.open(f"/api/v1{url}", method=method, headers=headers, **kwargs)
    assert response.status_code == status, (method, url, response.status_code,
                                             response.get_json())
    return response


def refused(client, method: str, url: str, headers: dict, status: int, slug: str, **kwargs):
    """A refusal: ``status``, as a problem+json of type ``urn:offload:problem:<slug>``."""
    response = call(client, method, url, headers, status, **kwargs)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == f"urn:offload:problem:{slug}", response.get_json()
    return response.get_json()


def with_key(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}
