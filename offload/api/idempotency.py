"""``Idempotency-Key``: a retried money request has one effect, as a money form's key has.

An endpoint that moves money takes the header with
``@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)`` and passes
``idempotency_key`` to the service, which claims it in the ledger's idempotency keys
(``ledger.idempotency``: the same table and namespace as the forms' one-time keys). A
retry with the same key and the same body gets the first request's outcome back, and the
endpoint answers it as it answered the first time; the same key with a different body is
refused with a 422 (``KeyReused``, ``urn:offload:problem:key-reused``). A request that
failed left no claim behind, so it may be retried with its key.
"""

from __future__ import annotations

from marshmallow import fields, validate

from offload.ledger.idempotency import KEY_MAX

from .schemas.common import Schema


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", required=True,
        validate=validate.Length(min=1, max=KEY_MAX),
        metadata={"description": "A key of the client's choosing, unique per request it "
                                 "means (a UUID): a retry with the same key and body gets "
                                 "the first answer; another body with it is refused (422)"})
