"""REST routes of the audit trail, mounted in every service by the app factory.

``GET /v1/audit-trail`` pages through the caller's organisation's trail (admin, manager,
auditor); ``GET /v1/audit-trail/verify`` walks its hash chain and reports every problem (admin,
auditor).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from shared.audit import (
    AuditEntryPage,
    AuditVerification,
    list_audit_entries,
    verify_org_chain,
)
from shared.auth import Principal, Role, require_roles
from shared.errors import InvalidCursor
from shared.http import (
    Paging,
    PrefilteredRouter,
    TenantSession,
    encode_cursor,
    reject_unknown_query,
)
from shared.text import Name

TRAIL_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR})
TRAIL_VERIFIERS = frozenset({Role.ADMIN, Role.AUDITOR})

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
TrailReader = Annotated[Principal, Depends(require_roles(TRAIL_READERS))]
TrailVerifier = Annotated[Principal, Depends(require_roles(TRAIL_VERIFIERS))]


def _after_seq(paging: Any) -> int | None:
    if paging.after is None:
        return None
    seq = paging.after.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63:
        raise InvalidCursor("The cursor is not one this API issued.")
    return seq


def audit_router() -> APIRouter:
    router = PrefilteredRouter(prefix="/v1/audit-trail", tags=["audit trail"])

    @router.get(
        "",
        summary="The organisation's audit trail, oldest first",
        description=(
            "Every change made in this service (who, what, when, before and after), in the "
            "order of the organisation's hash chain. Roles: admin, manager, auditor."
        ),
        response_model=AuditEntryPage,
        dependencies=[Depends(reject_unknown_query)],
        responses={400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 422: PROBLEM},
    )
    async def list_trail(
        principal: TrailReader,
        session: TenantSession,
        paging: Paging,
        entity_id: Annotated[Name | None, Query(description="Only this entity's entries")] = None,
        entity_type: Annotated[
            Name | None, Query(description="Only entries of this entity type (`system`)")
        ] = None,
        action: Annotated[
            Name | None,
            Query(description="Only this action (`aims.inventory.system.updated`)"),
        ] = None,
        since: Annotated[
            datetime | None, Query(description="Only entries recorded at or after this instant")
        ] = None,
    ) -> AuditEntryPage:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        items = await list_audit_entries(
            session,
            principal.org_id,
            limit=paging.limit + 1,
            after_seq=_after_seq(paging),
            entity_id=entity_id,
            entity_type=entity_type,
            action=action,
            since=since,
        )
        page = items[: paging.limit]
        more = len(items) > paging.limit
        return AuditEntryPage(
            items=page, next_cursor=encode_cursor({"seq": page[-1].seq}) if more else None
        )

    @router.get(
        "/verify",
        summary="Verify the organisation's hash chain",
        description=(
            "Recomputes every entry's hash and link and reports each edited, reordered or "
            "deleted entry with its `seq`. Roles: admin, auditor."
        ),
        response_model=AuditVerification,
        responses={401: PROBLEM, 403: PROBLEM},
    )
    async def verify_trail(request: Request, principal: TrailVerifier) -> AuditVerification:
        ctx = request.app.state.ctx
        return await verify_org_chain(ctx.db, principal.org_id, service=str(ctx.name))

    return router
