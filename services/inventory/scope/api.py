"""REST routes of the inventory's scope domain (ISO/IEC 42001 4.3)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status

from services.inventory.scope import service
from services.inventory.scope.schemas import (
    ScopeApproval,
    ScopeCheck,
    ScopeCheckList,
    ScopeDiff,
    ScopeStatus,
    ScopeVersionCreate,
    ScopeVersionPage,
    ScopeVersionRead,
    ScopeVersionUpdate,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    next_cursor,
    set_etag,
)

router = PrefilteredRouter(prefix="/v1")
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None, Query(description="Fetch these (batch; at most 500)", max_length=500)
]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
TAG = "scope"


@router.post(
    "/scope-versions",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopeVersionRead,
    tags=[TAG],
    summary="Start a new draft of the scope",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def create_scope_version(
    body: ScopeVersionCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """A new draft, empty or (`copy_from_current`) a copy of the current approved version.
    Every exclusion carries a justification. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_version(session, principal, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/scope-versions/{created.id}",
    )


@router.get(
    "/scope-versions",
    response_model=ScopeVersionPage,
    tags=[TAG],
    summary="List scope versions, oldest first",
)
async def list_scope_versions(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    status: ScopeStatus | None = None,
    id: Ids = None,
) -> ScopeVersionPage:
    items, fetched = await service.list_versions(
        session, limit=paging.limit, after=cursor_after_id(paging), status=status, ids=id or []
    )
    return ScopeVersionPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/scope-versions/current",
    response_model=ScopeVersionRead,
    tags=[TAG],
    summary="The current (approved) scope",
    responses={404: PROBLEM},
)
async def current_scope_version(
    principal: Reader, session: TenantSession, response: Response
) -> ScopeVersionRead:
    current = await service.current_version(session)
    set_etag(response, current.version)
    return current


@router.get(
    "/scope-versions/checks",
    response_model=ScopeCheckList,
    tags=[TAG],
    summary="Dry runs of approval of many versions at once (for DataLoaders)",
    responses={400: PROBLEM},
)
async def check_scope_versions(
    principal: Reader,
    session: TenantSession,
    id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=100)],
) -> ScopeCheckList:
    """One entry per version of your organisation asked for, in the order asked; an unknown id
    is left out."""
    return ScopeCheckList(items=await service.check_versions_approval(session, id))


@router.get(
    "/scope-versions/{version_id}",
    response_model=ScopeVersionRead,
    tags=[TAG],
    summary="Read one scope version",
    responses={404: PROBLEM},
)
async def get_scope_version(
    version_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ScopeVersionRead:
    found = await service.get_version(session, version_id)
    set_etag(response, found.version)
    return found


@router.patch(
    "/scope-versions/{version_id}",
    response_model=ScopeVersionRead,
    tags=[TAG],
    summary="Change a draft (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_scope_version(
    version_id: uuid.UUID,
    body: ScopeVersionUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ScopeVersionRead:
    """Only a draft changes (409 otherwise); each list sent replaces the whole list."""
    updated = await service.update_version(session, principal, version_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.get(
    "/scope-versions/{a}/diff/{b}",
    response_model=ScopeDiff,
    tags=[TAG],
    summary="What changed between two scope versions",
    responses={404: PROBLEM},
)
async def diff_scope_versions(
    a: uuid.UUID, b: uuid.UUID, principal: Reader, session: TenantSession
) -> ScopeDiff:
    """Boundaries and systems added, removed or changed from `a` to `b`, and which systems
    came into or left the scope."""
    return await service.diff_versions(session, a, b)


@router.get(
    "/scope-versions/{version_id}/check",
    response_model=ScopeCheck,
    tags=[TAG],
    summary="Dry run of approval: every reason it would be refused, and every warning",
    responses={404: PROBLEM},
)
async def check_scope_version(
    version_id: uuid.UUID, principal: Reader, session: TenantSession
) -> ScopeCheck:
    return await service.check_version_approval(session, version_id)


@router.post(
    "/scope-versions/{version_id}/approve",
    response_model=ScopeApproval,
    tags=[TAG],
    summary="Approve a draft: it becomes the current scope (admin, manager)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def approve_scope_version(
    version_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ScopeApproval:
    """Refused with 422 `scope-approval-refused` listing every reason (`reasons: [{code,
    message, system_id?}]`) when an excluded system is high-risk, or works in a sensitive
    sector without a justification of at least 20 characters; when no boundary is included;
    when an in-scope system has no owner; or when a system is not in the register. On success
    the previous approved version is superseded, each system's `in_scope` is set, and
    `scope.changed` is emitted; `warnings` lists in-scope systems depending on something
    outside the scope, with the path."""
    approval = await service.approve_version(session, principal, version_id, if_match)
    set_etag(response, approval.scope_version.version)
    return approval
