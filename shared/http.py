"""REST conventions every service shares: tenant sessions, pagination, ETags, idempotent creates.

* :data:`TenantSession` — one ``AsyncSession`` per request, scoped to the caller's organisation
  (row-level security), committed after the endpoint returns and before the response is sent.
* Cursor pagination — ``limit`` + ``after`` → ``next_cursor``; cursors are opaque.
* ``ETag`` / ``If-Match`` — updates without a matching ``If-Match`` are refused (428 / 412).
* ``Idempotency-Key`` — a retried create returns the first result instead of creating twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence, Sized
from typing import Annotated, Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Principal, authenticate_request
from shared.db import idempotency_table, set_org, utcnow
from shared.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidCursor,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    UnknownQueryParameter,
    problem_response,
)

T = TypeVar("T")

# --- Sessions ---------------------------------------------------------------------------------


async def _tenant_session(
    request: Request, principal: Annotated[Principal, Depends(authenticate_request)]
) -> AsyncIterator[AsyncSession]:
    db = request.app.state.ctx.db
    async with db.sessions() as session, session.begin():
        await set_org(session, principal.org_id)
        yield session


# ``scope="function"``: the transaction commits before the response leaves, so a client never
# sees 201 for a row that then failed to commit.
TenantSession = Annotated[AsyncSession, Depends(_tenant_session, scope="function")]
CurrentPrincipal = Annotated[Principal, Depends(authenticate_request)]

# --- Pagination -------------------------------------------------------------------------------


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    if len(cursor) > 1024:
        raise InvalidCursor("The cursor is too long.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc
    if not isinstance(value, dict):
        raise InvalidCursor("The cursor is not one this API issued.")
    return value


class PageParams(BaseModel):
    limit: int
    after: dict[str, Any] | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size")] = 50,
    after: Annotated[
        str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(after) if after else None)


Paging = Annotated[PageParams, Depends(page_params)]


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


def cursor_after_id(paging: PageParams) -> uuid.UUID | None:
    """The id a keyset-on-id page starts after (ids are time-ordered UUIDv7)."""
    if paging.after is None:
        return None
    try:
        return uuid.UUID(str(paging.after.get("id")))
    except ValueError as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc


def next_cursor(items: Sequence[_HasId], fetched: Sized, paging: PageParams) -> str | None:
    """The cursor of the next page, when one more row than the page was ``fetched``."""
    if len(fetched) > paging.limit and items:
        return encode_cursor({"id": str(items[-1].id)})
    return None


# --- Unknown query parameters -----------------------------------------------------------------


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class RejectUnknownQuery:
    """A dependency answering 400 ``unknown-query-parameter`` (naming the allowed parameters)
    when a request carries a query parameter its route does not declare; ``prefixes`` admit
    open families such as ``cf.<key>``. Use the instance :data:`reject_unknown_query` on a
    router or route, or ``RejectUnknownQuery(prefixes=("cf.",))`` for such a family."""

    def __init__(self, *, prefixes: Sequence[str] = ()) -> None:
        self.prefixes = tuple(prefixes)

    async def __call__(self, request: Request) -> None:
        dependant = getattr(request.scope.get("route"), "dependant", None)
        if dependant is None:
            return
        allowed = _query_names(dependant)
        unknown = sorted(
            name
            for name in set(request.query_params) - allowed
            if not any(name.startswith(p) and len(name) > len(p) for p in self.prefixes)
        )
        if unknown:
            shown = sorted(allowed) + [f"{p}<key>" for p in self.prefixes]
            raise UnknownQueryParameter(
                f"Unknown query parameter(s): {', '.join(unknown)[:200]}. "
                f"Allowed: {', '.join(shown) or 'none'}.",
                unknown=[u[:100] for u in unknown[:20]],
                allowed=shown,
            )


reject_unknown_query = RejectUnknownQuery()


# --- ETag / If-Match --------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


_ETAG_ITEM = re.compile(r'\s*(?:W/)?"([^"]*)"\s*')


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` names (``"3"`` or ``W/"3"``); raises 428 when absent."""
    if value is None or not value.strip():
        raise PreconditionRequired(
            "Send `If-Match` with the ETag you read, so that no update is lost."
        )
    if value.strip() == "*":
        return None
    match = _ETAG_ITEM.fullmatch(value)
    if not match or not match.group(1).isdigit():
        raise PreconditionFailed(f"`If-Match: {value[:64]}` is not an ETag of this resource.")
    return int(match.group(1))


def check_version(if_match: str | None, current: int) -> None:
    expected = parse_if_match(if_match)
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The resource is at version {current}, not {expected}; read it again.",
            current_version=current,
        )


# --- Idempotency-Key --------------------------------------------------------------------------


class Idempotency:
    """Replay or remember the result of one creating POST, keyed per organisation."""

    def __init__(self, key: str | None, fingerprint: str) -> None:
        self.key = key
        self.fingerprint = fingerprint

    async def replay(self, session: AsyncSession, principal: Principal) -> JSONResponse | None:
        if not self.key:
            return None
        row = (
            (
                await session.execute(
                    sa.select(idempotency_table).where(
                        idempotency_table.c.org_id == principal.org_id,
                        idempotency_table.c.key == self.key,
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        if row["fingerprint"] != self.fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        headers = dict(row["headers"])
        headers["Idempotent-Replayed"] = "true"
        return JSONResponse(row["body"], status_code=row["status_code"], headers=headers)

    async def created(
        self,
        session: AsyncSession,
        principal: Principal,
        resource: BaseModel,
        *,
        version: int,
        location: str,
    ) -> JSONResponse:
        """The 201 answer to a create (``ETag``, ``Location``), remembered for retries."""
        payload = resource.model_dump(mode="json")
        headers = {"ETag": etag(version), "Location": location}
        await self.remember(session, principal, 201, payload, headers)
        return JSONResponse(payload, status_code=201, headers=headers)

    async def remember(
        self,
        session: AsyncSession,
        principal: Principal,
        status_code: int,
        body: Any,
        headers: dict[str, str],
    ) -> None:
        if not self.key:
            return
        stored = await session.execute(
            pg_insert(idempotency_table)
            .values(
                org_id=principal.org_id,
                key=self.key,
                fingerprint=self.fingerprint,
                status_code=status_code,
                body=body,
                headers=headers,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(idempotency_table.c.key)
        )
        if stored.first() is None:
            # A concurrent request with the same key won; undo ours (the caller's transaction
            # rolls back on this error) and let the client retry to get the first result.
            raise Conflict("A request with this Idempotency-Key was processed meanwhile; retry.")


async def idempotency(request: Request) -> Idempotency:
    return idempotency_for(request, await request.body())


def idempotency_for(request: Request, body: bytes, *, variant: str = "") -> Idempotency:
    """The :class:`Idempotency` of a request whose body the endpoint read itself (a streamed
    upload); ``variant`` adds what else makes two requests different (a query flag)."""
    key = request.headers.get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 255):
        raise Conflict("Idempotency-Key must be 1 to 255 characters.")
    head = request.method.encode() + request.url.path.encode() + variant.encode()
    digest = hashlib.sha256(head + b"\0" + body)
    return Idempotency(key, digest.hexdigest())


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]

# --- Body size limit --------------------------------------------------------------------------


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 before anything parses them.

    Paths matching ``exempt_paths`` (regular expressions matched from the start of the path:
    streamed uploads) enforce their own, larger limits while they stream.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, exempt_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        pattern = "|".join(f"(?:{p})" for p in exempt_paths)
        self.exempt = re.compile(pattern) if exempt_paths else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.exempt is not None and self.exempt.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(f"The body exceeds {self.max_bytes} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            PayloadTooLarge.code,
            PayloadTooLarge.title,
            f"The body exceeds {self.max_bytes} bytes.",
            instance=scope["path"],
        )
        await response(scope, receive, send)
