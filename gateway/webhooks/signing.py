"""Standard Webhooks signing (https://www.standardwebhooks.com, spec 1.0.0, scheme ``v1``).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}`` over the exact bytes sent,
MAC'd with HMAC-SHA256 under the base64-decoded part of a ``whsec_`` secret. The
``webhook-signature`` header carries one ``v1,<base64>`` entry per active secret, separated by
spaces, so that during a secret rotation a receiver holding either the old or the new secret
can verify the same delivery.

``webhook-id`` must stay the same on every retry of one message (receivers deduplicate on it);
``webhook-timestamp`` is the time of the attempt, so each attempt is signed afresh.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Sequence

__all__ = [
    "SECRET_PREFIX",
    "InvalidWebhookSecret",
    "decode_secret",
    "generate_secret",
    "sign",
    "signature_headers",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
_SECRET_BYTES = 32  # spec: 24..64 random bytes
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64


class InvalidWebhookSecret(ValueError):
    """The secret is not ``whsec_`` + base64 of 24..64 bytes."""


def generate_secret() -> str:
    """Return a fresh secret: ``whsec_`` + base64 of 32 random bytes (from :mod:`secrets`)."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """Return the HMAC key of a ``whsec_`` secret, or raise :class:`InvalidWebhookSecret`.

    Usable at API time to validate a secret supplied by a client.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidWebhookSecret(f"webhook secret must start with {SECRET_PREFIX!r}")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        # Tolerate missing "=" padding, as the reference libraries do.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidWebhookSecret("webhook secret is not valid base64 after 'whsec_'") from exc
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise InvalidWebhookSecret(
            f"webhook secret must encode {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} bytes, got {len(key)}"
        )
    return key


def _validate_msg_id(msg_id: str) -> None:
    # The id is part of the signed content and is sent as a header value; "." would make the
    # signed content ambiguous to a naive receiver, and CR/LF would be header injection.
    if not msg_id or any(c in msg_id for c in ".\r\n") or not msg_id.isprintable():
        raise ValueError("webhook-id must be non-empty, printable, without '.' or line breaks")


def sign(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> str:
    """Return the ``webhook-signature`` header value: ``v1,<b64>`` per secret, space-separated.

    ``timestamp`` is integer Unix seconds of this attempt. Pass the current secret and, during a
    rotation's overlap window, the previous one too; order is preserved. Duplicate secrets are
    signed once.
    """
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of secrets, not a single string")
    if not secrets:
        raise ValueError("at least one secret is required to sign a webhook")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("webhook timestamp must be a non-negative integer (Unix seconds)")
    _validate_msg_id(msg_id)
    to_sign = msg_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    parts: list[str] = []
    for secret in dict.fromkeys(secrets):
        mac = hmac.new(decode_secret(secret), to_sign, hashlib.sha256).digest()
        parts.append("v1," + base64.b64encode(mac).decode("ascii"))
    return " ".join(parts)


def signature_headers(
    msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """Return the three Standard Webhooks headers for one delivery attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id, timestamp, body, secrets),
    }
