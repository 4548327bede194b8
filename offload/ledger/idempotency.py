"""Idempotency keys: a retried or double-clicked money request has one effect.

Every money form renders a fresh key. The operation claims ``(member, key)`` first,
in its own transaction: a second request with the same key and the same content gets
the first outcome back; the same key with different content is refused. If the
operation fails, its transaction rolls back and the claim with it, so a retry may
try again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from sqlalchemy import select, update

from offload.core.db import db, insert_ignoring_conflicts
from offload.core.errors import Conflict, Invalid

from .models import IdempotencyKey

KEY_MAX = 64


class KeyReused(Conflict):
    """The key was already used for a different request (the API answers 422)."""

    def __init__(self) -> None:
        super().__init__("This form was already used for a different request. Reload the "
                         "page and try again.")


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


def fingerprint_of(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def claim_key(member_id: int, key: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """Claim the key inside the caller's transaction.

    Returns None when the key is new (go ahead), or the stored outcome of the first
    request with this key (do nothing, answer with it). Raises ``KeyReused`` when the
    key was used for a different request.
    """
    if not key or len(key) > KEY_MAX:
        raise Invalid("This form is missing its one-time key; reload the page and try again.")
    fingerprint = fingerprint_of(request)
    # RETURNING, not rowcount: ORM-level inserts don't report rowcount on every driver
    inserted = db.session.execute(insert_ignoring_conflicts(IdempotencyKey).values(
        member_id=member_id, key=key, fingerprint=fingerprint, outcome="{}")
        .returning(IdempotencyKey.member_id)).first()
    if inserted is not None:
        return None
    row = db.session.execute(select(IdempotencyKey.fingerprint, IdempotencyKey.outcome).where(
        IdempotencyKey.member_id == member_id, IdempotencyKey.key == key)).one()
    if row.fingerprint != fingerprint:
        raise KeyReused()
    return json.loads(row.outcome)


def record_outcome(member_id: int, key: str, outcome: dict[str, Any],
                   batch_id: str | None = None) -> None:
    """Store what the first request with this key did (same transaction as its effect)."""
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.member_id == member_id, IdempotencyKey.key == key)
        .values(outcome=json.dumps(outcome, sort_keys=True), batch_id=batch_id)
        .execution_options(synchronize_session=False))
