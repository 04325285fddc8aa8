"""Zero-setup secrets: the local JWT signing key pair and the deployment secret key.

In production tokens come from an OIDC issuer; locally ``aims up`` generates an Ed25519 key pair
under ``var/keys/`` and ``aims token create`` mints EdDSA tokens with it.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PRIVATE_KEY_NAME = "jwt_private.pem"
PUBLIC_KEY_NAME = "jwt_public.pem"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_signing_keys(var_dir: Path) -> tuple[Path, Path]:
    """Create ``var/keys/jwt_private.pem`` and ``jwt_public.pem`` once; return their paths.

    If only the private key exists, the public key is re-derived from it.
    """
    keys = var_dir / "keys"
    private_path, public_path = keys / PRIVATE_KEY_NAME, keys / PUBLIC_KEY_NAME
    if private_path.exists():
        loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{private_path} is not an Ed25519 private key")
        private_key = loaded
    else:
        private_key = Ed25519PrivateKey.generate()
        _write_private(
            private_path,
            private_key.private_bytes(
                encoding=serialization.Encoding.PEM,
                format=serialization.PrivateFormat.PKCS8,
                encryption_algorithm=serialization.NoEncryption(),
            ),
        )
    if not public_path.exists():
        public_path.write_bytes(
            private_key.public_key().public_bytes(
                encoding=serialization.Encoding.PEM,
                format=serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        )
    return private_path, public_path


def ensure_secret_key(var_dir: Path) -> str:
    """The deployment secret kept in ``var/secret_key`` (mode 600), created on first use."""
    path = var_dir / "secret_key"
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    value = secrets.token_hex(32)
    _write_private(path, (value + "\n").encode())
    return value


def mint_token(
    private_key_path: Path,
    *,
    issuer: str,
    audience: str,
    org_id: str,
    roles: Sequence[str],
    subject: str,
    ttl_seconds: int = 3600,
    name: str | None = None,
) -> str:
    """An EdDSA-signed JWT carrying ``org_id`` and ``roles`` for a local caller."""
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "org_id": org_id,
        "roles": list(roles),
        "name": name if name is not None else subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    private_key = serialization.load_pem_private_key(private_key_path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{private_key_path} is not an Ed25519 private key")
    return jwt.encode(claims, private_key, algorithm="EdDSA")
