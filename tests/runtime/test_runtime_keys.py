"""Local signing keys, token minting and the `aims token create` command."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from aims.cli import app
from shared.runtime.keys import ensure_secret_key, ensure_signing_keys, mint_token
from shared.runtime.provision import derive_service_urls, role_password


def test_minted_token_verifies_with_the_public_key_only(tmp_path: Path) -> None:
    private_path, public_path = ensure_signing_keys(tmp_path)
    assert private_path.stat().st_mode & 0o077 == 0
    token = mint_token(
        private_path,
        issuer="aims-local",
        audience="aims",
        org_id="org-1",
        roles=["admin", "auditor"],
        subject="user-7",
        ttl_seconds=600,
        name="Ada",
    )
    claims = jwt.decode(
        token, public_path.read_bytes(), algorithms=["EdDSA"], audience="aims", issuer="aims-local"
    )
    assert claims["org_id"] == "org-1"
    assert claims["roles"] == ["admin", "auditor"]
    assert claims["sub"] == "user-7"
    assert claims["name"] == "Ada"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]

    # Another installation's key must not verify it.
    _, other_public = ensure_signing_keys(tmp_path / "other")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_public.read_bytes(), algorithms=["EdDSA"], audience="aims")


def test_keys_and_secret_are_generated_once(tmp_path: Path) -> None:
    first = ensure_signing_keys(tmp_path)
    content = first[0].read_bytes()
    assert ensure_signing_keys(tmp_path) == first
    assert first[0].read_bytes() == content
    secret = ensure_secret_key(tmp_path)
    assert len(secret) == 64
    assert ensure_secret_key(tmp_path) == secret


def test_token_create_prints_a_token_for_the_local_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIMS_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("AIMS_JWT_PRIVATE_KEY_FILE", raising=False)
    result = CliRunner().invoke(
        app, ["token", "create", "--org", "o-9", "--role", "viewer", "--role", "auditor"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    public = (tmp_path / "keys" / "jwt_public.pem").read_bytes()
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="aims")
    assert claims["roles"] == ["viewer", "auditor"]
    assert claims["org_id"] == "o-9"


def test_token_create_refuses_an_unknown_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIMS_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["token", "create", "--org", "o", "--role", "root"])
    assert result.exit_code != 0
    assert result.stdout.strip() == ""


def test_service_urls_derive_from_the_admin_url_and_secret() -> None:
    urls = derive_service_urls(
        "postgresql://admin:pw@db.example:6543/postgres?ssl=require", "aims", "risk", "s3cret"
    )
    assert urls.name == "aims_risk"
    assert urls.app_url == (
        f"postgresql+asyncpg://aims_risk_app:{role_password('s3cret', 'aims_risk_app')}"
        "@db.example:6543/aims_risk?ssl=require"
    )
    assert urls.owner_url.startswith("postgresql+asyncpg://aims_risk_owner:")
    with pytest.raises(ValueError, match="not a valid name"):
        derive_service_urls("postgresql://a@h/p", "Bad-Prefix", "risk", "s")
