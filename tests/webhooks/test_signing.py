"""Signatures per Standard Webhooks: the spec's published example, and new secrets."""

import base64
import re

from offload.webhooks.signing import headers_for, new_secret, sign
from tests.support.webhooks import Received, verify

# the example of the spec's reference libraries (standard-webhooks, libraries/*/tests)
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_spec_example_signs_as_published():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_a_changed_body_or_timestamp_changes_the_signature():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY + " ") != SPEC_SIGNATURE
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY) != SPEC_SIGNATURE


def test_headers_verify_with_the_specs_check():
    secret = new_secret()
    headers = headers_for(secret, "msg_1", 1700000000, '{"a":1}')
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "1700000000"
    assert verify(secret, Received("/", headers, '{"a":1}'))
    assert not verify(new_secret(), Received("/", headers, '{"a":1}'))


def test_a_new_secret_is_whsec_and_32_random_bytes():
    secret = new_secret()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret
