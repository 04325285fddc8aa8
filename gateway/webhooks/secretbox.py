"""Webhook secrets at rest: AES-256-GCM under a key from settings, with key rotation.

A subscription's ``whsec_`` secret must be readable by the delivery worker (it signs with it),
so it cannot be hashed like an API key; it is encrypted instead. Each stored secret is
``base64(nonce ‖ ciphertext ‖ tag)`` with the id of the key that encrypted it in the column
beside it (``secret_key_id``, ``previous_secret_key_id``). The subscription id is the associated
data, so a ciphertext copied onto another subscription does not decrypt.

Keys come from settings (:func:`load_keyring`): ``AIMS_WEBHOOK_SECRET_KEYS`` maps key ids to
base64 of 32 random bytes, ``AIMS_WEBHOOK_SECRET_KEY_ID`` names the one that encrypts new
secrets; the others only decrypt. Rotating: add a new key and make it current, run
``aims webhooks reencrypt`` (:func:`reencrypt_database`), then remove the old key. Outside
production, with no keys configured, one key is generated once under ``var/keys/``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
LOCAL_KEY_ID = "local"
LOCAL_KEY_FILE = "webhook_secret_keys.json"
_AAD_PREFIX = b"aims.webhook_subscription.secret:"


class WebhookKeyError(ValueError):
    """The webhook secret keys are missing or malformed, or a secret does not decrypt."""


class KeySettings(Protocol):
    """What :func:`load_keyring` reads (``GatewaySettings`` has it)."""

    @property
    def webhook_secret_keys(self) -> Mapping[str, str]: ...
    @property
    def webhook_secret_key_id(self) -> str | None: ...
    @property
    def environment(self) -> str: ...
    @property
    def var_dir(self) -> Path: ...


def _decode_key(key_id: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise WebhookKeyError(f"webhook secret key {key_id!r} is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise WebhookKeyError(
            f"webhook secret key {key_id!r} must be {KEY_BYTES} bytes (base64), got {len(raw)}"
        )
    return raw


def new_key() -> str:
    """A fresh key for ``AIMS_WEBHOOK_SECRET_KEYS`` (base64 of 32 random bytes)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class SecretKeyring:
    """The key that encrypts (``current_id``) and every key that may still decrypt."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise WebhookKeyError(f"current webhook secret key {self.current_id!r} is not listed")

    @classmethod
    def from_encoded(cls, current_id: str, keys: Mapping[str, str]) -> SecretKeyring:
        return cls(current_id, {k: _decode_key(k, v) for k, v in keys.items()})

    def encrypt(self, plaintext: str, subscription_id: uuid.UUID) -> tuple[str, str]:
        """``(key_id, token)`` of ``plaintext`` under the current key."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_id]).encrypt(
            nonce, plaintext.encode("utf-8"), _AAD_PREFIX + subscription_id.bytes
        )
        return self.current_id, base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, key_id: str, token: str, subscription_id: uuid.UUID) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise WebhookKeyError(
                f"webhook secret encrypted under key {key_id!r}, which is not configured "
                "(AIMS_WEBHOOK_SECRET_KEYS)"
            )
        try:
            raw = base64.b64decode(token, validate=True)
            plain = AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD_PREFIX + subscription_id.bytes
            )
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise WebhookKeyError(
                f"webhook secret of subscription {subscription_id} does not decrypt "
                f"under key {key_id!r}"
            ) from exc
        return plain.decode("utf-8")


def _read_local_keys(path: Path) -> dict[str, str]:
    stored = json.loads(path.read_text())
    if not isinstance(stored, dict) or not stored:
        raise WebhookKeyError(f"{path} holds no webhook secret key")
    return {str(k): str(v) for k, v in stored.items()}


def _local_keys(var_dir: Path) -> dict[str, str]:
    """The zero-setup key file (mode 600), created on first use.

    Replicas sharing ``var/`` may start at once: the file is written aside and linked into
    place (``link`` fails when the name exists), so every process ends up with the one key
    that won, never a half-written file or a key of its own.
    """
    path = var_dir / "keys" / LOCAL_KEY_FILE
    if path.exists():
        return _read_local_keys(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{LOCAL_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({LOCAL_KEY_ID: new_key()}) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        draft.unlink()
    return _read_local_keys(path)


def load_keyring(settings: KeySettings) -> SecretKeyring:
    """The keyring from settings; raises :class:`WebhookKeyError` when it is unusable.

    Production requires ``AIMS_WEBHOOK_SECRET_KEYS``; elsewhere a missing setting means the
    key kept in ``var/keys/webhook_secret_keys.json`` (created once, id ``local``).
    """
    encoded = dict(settings.webhook_secret_keys)
    if not encoded:
        if settings.environment == "production":
            raise WebhookKeyError(
                "AIMS_WEBHOOK_SECRET_KEYS is required when AIMS_ENVIRONMENT=production "
                '(e.g. {"2026-11": "<base64 of 32 random bytes>"})'
            )
        encoded = _local_keys(Path(settings.var_dir))
    current = settings.webhook_secret_key_id
    if current is None:
        if len(encoded) != 1:
            raise WebhookKeyError(
                "several webhook secret keys are configured: name the current one in "
                "AIMS_WEBHOOK_SECRET_KEY_ID"
            )
        current = next(iter(encoded))
    return SecretKeyring.from_encoded(current, encoded)


# --- re-encryption (data migration and ``aims webhooks reencrypt``) ----------------------------

_subscriptions = sa.table(
    "webhook_subscription",
    sa.column("id"),
    sa.column("secret", sa.Text),
    sa.column("secret_key_id", sa.Text),
    sa.column("previous_secret", sa.Text),
    sa.column("previous_secret_key_id", sa.Text),
)


def _plaintext(
    keyring: SecretKeyring | None, key_id: str | None, stored: str, sub_id: uuid.UUID
) -> str:
    if key_id is None:
        return stored  # written before secrets were encrypted (20261129_secrets)
    if keyring is None:
        raise WebhookKeyError("a webhook secret is encrypted but no keyring was given")
    return keyring.decrypt(key_id, stored, sub_id)


def reencrypt_rows(
    connection: sa.Connection, keyring: SecretKeyring | None, *, decrypt_only: bool = False
) -> dict[str, int]:
    """Re-encrypt every subscription secret not under the current key (plaintext included).

    ``decrypt_only`` writes them back as plaintext (the migration's downgrade). Runs on the
    caller's connection and transaction, as the table's owner: row-level security is lifted
    for this transaction only (``NO FORCE`` is transactional DDL), since the secrets of every
    organisation are rewritten.
    """
    connection.execute(sa.text("ALTER TABLE webhook_subscription NO FORCE ROW LEVEL SECURITY"))
    counts = {"subscriptions": 0, "reencrypted": 0}
    rows = connection.execute(
        sa.select(
            _subscriptions.c.id,
            _subscriptions.c.secret,
            _subscriptions.c.secret_key_id,
            _subscriptions.c.previous_secret,
            _subscriptions.c.previous_secret_key_id,
        ).with_for_update()
    ).all()
    for row in rows:
        counts["subscriptions"] += 1
        sub_id = uuid.UUID(str(row.id))
        values: dict[str, Any] = {}
        for column, key_column in (
            ("secret", "secret_key_id"),
            ("previous_secret", "previous_secret_key_id"),
        ):
            stored, key_id = getattr(row, column), getattr(row, key_column)
            if stored is None:
                continue
            if decrypt_only:
                if key_id is not None:
                    values[column] = _plaintext(keyring, key_id, stored, sub_id)
                    values[key_column] = None
                continue
            assert keyring is not None
            if key_id == keyring.current_id:
                continue
            plain = _plaintext(keyring, key_id, stored, sub_id)
            values[key_column], values[column] = keyring.encrypt(plain, sub_id)
        if values:
            counts["reencrypted"] += 1
            connection.execute(
                _subscriptions.update().where(_subscriptions.c.id == row.id).values(**values)
            )
    connection.execute(sa.text("ALTER TABLE webhook_subscription FORCE ROW LEVEL SECURITY"))
    return counts


async def reencrypt_database(owner_url: str, keyring: SecretKeyring) -> dict[str, int]:
    """Re-encrypt every webhook secret of the gateway database under the current key.

    ``owner_url`` is the gateway database's owner role (the one that runs migrations): the app
    role is under row-level security and sees one organisation at a time.
    """
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.dberrors import redact_driver_errors

    engine = create_async_engine(owner_url, hide_parameters=True)
    redact_driver_errors(engine)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(lambda sync: reencrypt_rows(sync, keyring))
    finally:
        await engine.dispose()
