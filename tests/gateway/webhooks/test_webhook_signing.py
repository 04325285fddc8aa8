"""Standard Webhooks signing, verified with the reference ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.webhooks.signing import (
    InvalidWebhookSecret,
    decode_secret,
    generate_secret,
    sign,
    signature_headers,
)

BODY = json.dumps({"type": "system.registered", "data": {"id": "sys_1"}}).encode()
MSG_ID = "msg_2f1c7e0b9a6d4c3e"


def _now() -> int:
    return int(time.time())


def test_generated_secret_has_prefix_and_32_random_bytes() -> None:
    secrets = {generate_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        assert decode_secret(secret) == base64.b64decode(secret[6:])


def test_headers_verify_with_reference_library() -> None:
    secret = generate_secret()
    headers = signature_headers(MSG_ID, _now(), BODY, [secret])
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == MSG_ID
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_signature_equals_reference_library_signature() -> None:
    secret = generate_secret()
    ts = 1_700_000_000
    expected = Webhook(secret).sign(MSG_ID, datetime.fromtimestamp(ts, tz=UTC), BODY.decode())
    assert sign(MSG_ID, ts, BODY, [secret]) == expected


def test_rotation_pair_each_secret_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    headers = signature_headers(MSG_ID, _now(), BODY, [old, new])
    parts = headers["webhook-signature"].split(" ")
    assert len(parts) == 2
    assert all(p.startswith("v1,") for p in parts)
    assert parts[0] == sign(MSG_ID, int(headers["webhook-timestamp"]), BODY, [old])
    assert parts[1] == sign(MSG_ID, int(headers["webhook-timestamp"]), BODY, [new])
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_duplicate_secret_signs_once() -> None:
    secret = generate_secret()
    assert sign(MSG_ID, 1, BODY, [secret, secret]) == sign(MSG_ID, 1, BODY, [secret])


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b.replace(b"sys_1", b"sys_2")), id="body"),
        pytest.param(lambda h, b: (h, b + b" "), id="body-trailing-space"),
        pytest.param(lambda h, b: ({**h, "webhook-id": MSG_ID + "x"}, b), id="id"),
        pytest.param(
            lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) - 1)}, b),
            id="timestamp",
        ),
    ],
)
def test_tampering_fails_verification(tamper: object) -> None:
    secret = generate_secret()
    headers = signature_headers(MSG_ID, _now(), BODY, [secret])
    bad_headers, bad_body = tamper(headers, BODY)  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(bad_body, bad_headers)


def test_wrong_secret_fails_verification() -> None:
    headers = signature_headers(MSG_ID, _now(), BODY, [generate_secret()])
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_stale_timestamp_is_rejected_by_receivers() -> None:
    secret = generate_secret()
    headers = signature_headers(MSG_ID, _now() - 600, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


@given(
    body=st.text(max_size=500).map(str.encode),
    msg_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=40),
    n_secrets=st.integers(min_value=1, max_value=3),
)
def test_any_body_and_id_verify_with_every_secret(body: bytes, msg_id: str, n_secrets: int) -> None:
    secrets = [generate_secret() for _ in range(n_secrets)]
    headers = signature_headers(msg_id, _now(), body, secrets)
    for secret in secrets:
        assert Webhook(secret).verify(body, headers, json_parse=False) is None


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("abc", "must start with 'whsec_'"),
        ("whsec_!!!!", "not valid base64"),
        ("whsec_" + base64.b64encode(b"x" * 16).decode(), "24 to 64 bytes, got 16"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "24 to 64 bytes, got 65"),
    ],
)
def test_invalid_secrets_are_rejected(secret: str, message: str) -> None:
    with pytest.raises(InvalidWebhookSecret, match=re.escape(message)):
        decode_secret(secret)
    with pytest.raises(InvalidWebhookSecret):
        sign(MSG_ID, 1, BODY, [secret])


def test_unpadded_secret_is_accepted_like_the_reference_library() -> None:
    secret = generate_secret()
    unpadded = secret.rstrip("=")
    assert decode_secret(unpadded) == decode_secret(secret)
    headers = signature_headers(MSG_ID, _now(), BODY, [unpadded])
    Webhook(secret).verify(BODY, headers)


@pytest.mark.parametrize("msg_id", ["", "a.b", "a\r\nX-Evil: 1", "tab\there"])
def test_unsafe_message_ids_are_rejected(msg_id: str) -> None:
    with pytest.raises(ValueError, match="webhook-id"):
        sign(msg_id, 1, BODY, [generate_secret()])


def test_no_secrets_or_a_bare_string_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        sign(MSG_ID, 1, BODY, [])
    with pytest.raises(TypeError):
        sign(MSG_ID, 1, BODY, generate_secret())


@pytest.mark.parametrize("ts", [-1, 1.5, True])
def test_timestamp_must_be_non_negative_int(ts: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        sign(MSG_ID, ts, BODY, [generate_secret()])  # type: ignore[arg-type]
