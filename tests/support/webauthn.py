"""A software authenticator for the passkey tests: one ES256 key, answering a
registration with a 'none' attestation and an authentication with a signed assertion,
built byte by byte as WebAuthn §6.1 and §6.5 lay them out (authenticator data: the
RP id's SHA-256, flags, the 32-bit counter, then for a registration the attested
credential: AAGUID, id length, id, COSE key)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40  # user present, user verified, attested credential data


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """``register(options)`` and ``assert_(options)`` answer the server's options (the
    JSON the site hands the browser) as ``navigator.credentials`` would, as JSON."""

    def __init__(self, rp_id: str, origin: str, *, counter: int = 0) -> None:
        self.rp_id, self.origin, self.counter = rp_id, origin, counter
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        return (hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags])
                + struct.pack(">I", self.counter) + extra)

    def register(self, options: str | dict, *, origin: str | None = None) -> str:
        challenge = _options(options)["challenge"]
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id))
                    + self.credential_id + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {},
                                   "authData": self._auth_data(UP | UV | AT, attested)})
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(self._client_data(
                             "webauthn.create", challenge, origin)),
                         "attestationObject": b64url(attestation),
                         "transports": ["internal"]}})

    def assert_(self, options: str | dict, *, origin: str | None = None,
                step: int = 1) -> str:
        """An assertion; the counter moves on by ``step`` first (0: it stays)."""
        challenge = _options(options)["challenge"]
        if self.counter or step:
            self.counter += step
        client_data = self._client_data("webauthn.get", challenge, origin)
        auth_data = self._auth_data(UP | UV)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data),
                         "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature)}})


def _options(options: str | dict) -> dict:
    return json.loads(options) if isinstance(options, str) else options
