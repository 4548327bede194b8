"""Standard Webhooks signatures (https://www.standardwebhooks.com/), in a few lines.

A secret is ``whsec_`` and the base64 of random bytes; the signature of a message is
``v1,`` and the base64 of HMAC-SHA256, keyed with those bytes, over
``<webhook-id>.<webhook-timestamp>.<body>``. The spec's published example is a test
(tests/webhooks/test_signing.py), so a receiver using any Standard Webhooks library
verifies what we send. Written out rather than depending on the ``standardwebhooks``
package: these lines are the whole of what we use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for at least 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header's value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers_for(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers a delivery is POSTed with."""
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body)}
