"""Tokens for links sent by e-mail.

Two kinds: random single-use tokens whose hash is stored (invites), and
itsdangerous signatures with one salt per purpose and a ``max_age`` that carry a
value bound to database state, so that using the link once changes the state and
makes the link useless (confirmation, password reset).
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


def new_token() -> str:
    """A URL-safe random token with 256 bits of randomness."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"offload.{purpose}")


def sign(purpose: str, value) -> str:
    return _serializer(purpose).dumps(value)


class TokenInvalid(Exception):
    """The token is malformed, forged, for another purpose or expired."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def unsign(purpose: str, token: str, max_age: int):
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as e:
        raise TokenInvalid(expired=True) from e
    except BadSignature as e:
        raise TokenInvalid() from e


def fingerprint(*parts: str) -> str:
    """A short digest binding a signed token to current database state."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
