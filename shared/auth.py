"""Authentication and roles: every service verifies its caller itself.

Two kinds of credential:

* a bearer **JWT**, verified against the zero-setup Ed25519 public key or an OIDC issuer's JWKS,
  carrying the caller's organisation and roles;
* an **API key** (``aims_<prefix>_<secret>``) for GRC integrations, stored only as its SHA-256
  (keys carry 256 bits of randomness, so a slow password hash adds nothing), scoped to one org and
  one role, revocable. The inventory service owns keys; the other services verify them against
  their projection of ``aims.inventory.apikey.*`` events.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Request

from shared.audit import Actor, current_actor
from shared.db import Database, api_key_table
from shared.errors import Forbidden, Unauthenticated
from shared.observability import org_id_var
from shared.settings import AIMSSettings

API_KEY_PREFIX = "aims_"
# Tokens verified against a static public key are remembered (LRU) until they expire.
VERIFIED_TOKENS_CACHED = 1024


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    RISK_OWNER = "risk_owner"
    CONTRIBUTOR = "contributor"
    AUDITOR = "auditor"
    VIEWER = "viewer"


ALL_ROLES = frozenset(Role)
# Who may change what; the auditor reads everything and changes nothing but findings.
READERS = ALL_ROLES
EDITORS = frozenset({Role.ADMIN, Role.MANAGER, Role.RISK_OWNER, Role.CONTRIBUTOR})
APPROVERS = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """Who is calling: their organisation, roles, and the credential to forward upstream."""

    subject: str
    org_id: uuid.UUID
    roles: frozenset[Role]
    kind: str  # "user" or "api_key"
    authorization: str = field(repr=False)
    name: str | None = None

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> tuple[str, str, str]:
    """A new key: ``(plaintext, prefix, sha256)``. The plaintext is shown once, never stored."""
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def _parse_roles(raw: Any) -> frozenset[Role]:
    values = [raw] if isinstance(raw, str) else list(raw or [])
    roles = set()
    for value in values:
        try:
            roles.add(Role(str(value)))
        except ValueError:
            continue  # roles of other applications in a shared IdP are ignored
    return frozenset(roles)


class Authenticator:
    """Verifies bearer JWTs and API keys for one service."""

    def __init__(self, settings: AIMSSettings, db: Database | None) -> None:
        self.settings = settings
        self.db = db
        self._public_key: Any = None
        self._jwks: jwt.PyJWKClient | None = None
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        if settings.oidc_jwks_url:
            self._jwks = jwt.PyJWKClient(
                settings.oidc_jwks_url,
                cache_keys=False,  # a per-kid cache never expires: a removed key would live on
                lifespan=settings.oidc_jwks_cache_seconds,
                cooldown_duration=settings.oidc_jwks_refresh_cooldown_seconds,
            )
        elif settings.jwt_public_key_file:
            # Parsed once: handed the PEM text, PyJWT would parse it again on every request.
            self._public_key = load_pem_public_key(Path(settings.jwt_public_key_file).read_bytes())

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("Send `Authorization: Bearer <token or API key>`.")
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("The Authorization header must be `Bearer <credential>`.")
        if credential.startswith(API_KEY_PREFIX):
            return await self._api_key(credential, authorization)
        return await self._jwt(credential, authorization)

    async def _signing_key(self, token: str) -> Any:
        if self._jwks is not None:
            jwks = self._jwks
            try:
                return (await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)).key
            except jwt.PyJWTError as exc:
                raise Unauthenticated("The token's signing key is not known.") from exc
        if self._public_key is None:
            raise Unauthenticated("This service accepts no bearer tokens (no key configured).")
        return self._public_key

    async def _jwt(self, token: str, authorization: str) -> Principal:
        # With a static key (it changes only with a restart) a verified token stays good until
        # it expires: the gateway forwards one caller's token on every upstream call, and
        # clients reuse theirs, so most requests skip the signature check. Not with a JWKS,
        # whose keys can be withdrawn while tokens they signed are still unexpired.
        remember = self._jwks is None
        if remember and (hit := self._verified.get(authorization)) is not None:
            if hit[0] > time.time():
                self._verified.move_to_end(authorization)
                return hit[1]
            del self._verified[authorization]
        try:
            key = await self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA", "RS256", "ES256"],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"The token is not valid: {exc}.") from exc
        try:
            org_id = uuid.UUID(str(claims.get(self.settings.jwt_org_claim)))
        except ValueError as exc:
            raise Unauthenticated("The token names no organisation.") from exc
        roles = _parse_roles(claims.get(self.settings.jwt_roles_claim))
        if not roles:
            raise Forbidden("The token grants no AIMS role.")
        principal = Principal(
            subject=str(claims["sub"]),
            org_id=org_id,
            roles=roles,
            kind="user",
            authorization=authorization,
            name=claims.get("name"),
        )
        if remember:
            self._verified[authorization] = (float(claims["exp"]), principal)
            if len(self._verified) > VERIFIED_TOKENS_CACHED:
                self._verified.popitem(last=False)
        return principal

    async def _api_key(self, key: str, authorization: str) -> Principal:
        if self.db is None or len(key) > 200:
            raise Unauthenticated("API key not recognised.")
        async with self.db.sessions() as session:
            row = (
                (
                    await session.execute(
                        sa.select(api_key_table).where(
                            api_key_table.c.key_hash == hash_api_key(key)
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None or row["revoked_at"] is not None:
            raise Unauthenticated("API key not recognised or revoked.")
        return Principal(
            subject=f"apikey:{row['id']}",
            org_id=row["org_id"],
            roles=_parse_roles(row["role"]),
            kind="api_key",
            authorization=authorization,
            name=row["name"],
        )


async def authenticate_request(request: Request) -> Principal:
    """FastAPI dependency: the verified caller of this request."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        current_actor.set(Actor(cached.subject, cached.kind))
        org_id_var.set(str(cached.org_id))
        return cached
    authenticator: Authenticator = request.app.state.ctx.authenticator
    principal = await authenticator.authenticate(request.headers.get("authorization"))
    request.state.principal = principal
    # The one place a request's caller becomes known: the audit trail records them as the actor
    # of every change this request makes (async dependencies share the endpoint's context),
    # and the log lines written meanwhile, the access line included, their organisation.
    current_actor.set(Actor(principal.subject, principal.kind))
    org_id_var.set(str(principal.org_id))
    return principal


def require_roles(
    allowed: frozenset[Role],
) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """FastAPI dependency factory: the caller, if they hold one of ``allowed``; else 403."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate_request(request)
        if not principal.has_any(allowed):
            wanted = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"This needs one of the roles: {wanted}.")
        return principal

    return dependency
