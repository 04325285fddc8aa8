"""REST routes of nonconformity and corrective action (ISO/IEC 42001 10.2; ``/v1``).

Who may do what: every role reads; editors record nonconformities, corrections, root causes and
actions, and mark actions implemented; editors and auditors verify an action's effectiveness
(the follow-up is often the auditor's); admins and managers close a nonconformity.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status

from services.evidence.corrective import service
from services.evidence.corrective.repository import ActionFilter
from services.evidence.corrective.schemas import (
    ActionStatus,
    CorrectiveActionCreate,
    CorrectiveActionImplement,
    CorrectiveActionPage,
    CorrectiveActionRead,
    CorrectiveActionUpdate,
    CorrectiveActionVerify,
    NonconformityClose,
    NonconformityCreate,
    NonconformityPage,
    NonconformityRead,
    NonconformityStatus,
    NonconformityUpdate,
    Severity,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, Role, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    next_cursor,
    reject_unknown_query,
    set_etag,
)
from shared.text import Name

router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Verifier = Annotated[Principal, Depends(require_roles(EDITORS | {Role.AUDITOR}))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None,
    Query(description="Fetch these (batch; at most 500)", max_length=500),
]
PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
NONCONFORMITIES, ACTIONS = "nonconformities", "corrective-actions"


# --- Nonconformities --------------------------------------------------------------------------


@router.post(
    "/nonconformities",
    status_code=status.HTTP_201_CREATED,
    response_model=NonconformityRead,
    tags=[NONCONFORMITIES],
    summary="Record a nonconformity found outside an audit",
    responses={422: PROBLEM},
)
async def create_nonconformity(
    body: NonconformityCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Audit findings of kind major/minor nonconformity open theirs automatically. Send
    `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_nonconformity(session, principal, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/nonconformities/{created.id}",
    )


@router.get(
    "/nonconformities",
    response_model=NonconformityPage,
    tags=[NONCONFORMITIES],
    summary="List nonconformities",
)
async def list_nonconformities(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    status: Annotated[list[NonconformityStatus] | None, Query(max_length=10)] = None,
    severity: Annotated[list[Severity] | None, Query(max_length=2)] = None,
    finding_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
    owner: Annotated[Name | None, Query(description="Owned by (ignoring case)")] = None,
) -> NonconformityPage:
    items, fetched = await service.list_nonconformities(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        statuses=[s.value for s in status or []],
        severities=[s.value for s in severity or []],
        finding_ids=finding_id or [],
        owner=owner,
    )
    return NonconformityPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/nonconformities/{nc_id}",
    response_model=NonconformityRead,
    tags=[NONCONFORMITIES],
    summary="Read one nonconformity",
    responses={404: PROBLEM},
)
async def get_nonconformity(
    nc_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> NonconformityRead:
    nc = await service.get_nonconformity(session, nc_id)
    set_etag(response, nc.version)
    return nc


@router.patch(
    "/nonconformities/{nc_id}",
    response_model=NonconformityRead,
    tags=[NONCONFORMITIES],
    summary="Record the correction, the root cause (5 whys), owner, due date (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_nonconformity(
    nc_id: uuid.UUID,
    body: NonconformityUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> NonconformityRead:
    """A closed nonconformity no longer changes (409 `nonconformity-closed`)."""
    updated = await service.update_nonconformity(session, principal, nc_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.post(
    "/nonconformities/{nc_id}/close",
    response_model=NonconformityRead,
    tags=[NONCONFORMITIES],
    summary="Close a nonconformity (admins, managers)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def close_nonconformity(
    nc_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    body: NonconformityClose | None = None,
    if_match: IfMatch = None,
) -> NonconformityRead:
    """409 `verification-required` with `missing` until the correction and root cause are
    recorded and every corrective action is verified effective. Its actions and its finding
    close with it."""
    closed = await service.close_nonconformity(
        session, principal, nc_id, body or NonconformityClose(), if_match
    )
    set_etag(response, closed.version)
    return closed


@router.post(
    "/nonconformities/{nc_id}/actions",
    status_code=status.HTTP_201_CREATED,
    response_model=CorrectiveActionRead,
    tags=[ACTIONS],
    summary="Plan a corrective action",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def add_action(
    nc_id: uuid.UUID,
    body: CorrectiveActionCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """The scheduler emits `corrective_action.overdue` once the due date has passed while the
    action is not verified effective. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.add_action(session, principal, nc_id, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/corrective-actions/{created.id}",
    )


# --- Corrective actions -----------------------------------------------------------------------


@router.get(
    "/corrective-actions",
    response_model=CorrectiveActionPage,
    tags=[ACTIONS],
    summary="List corrective actions (e.g. `overdue=true`)",
)
async def list_actions(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    nonconformity_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
    status: Annotated[list[ActionStatus] | None, Query(max_length=10)] = None,
    overdue: Annotated[
        bool | None, Query(description="Due date passed and not verified effective")
    ] = None,
    owner: Annotated[Name | None, Query(description="Owned by (ignoring case)")] = None,
) -> CorrectiveActionPage:
    filters = ActionFilter(
        ids=id or [],
        nonconformity_ids=nonconformity_id or [],
        statuses=[s.value for s in status or []],
        owner=owner,
        overdue=overdue,
    )
    items, fetched = await service.list_actions(
        session, filters, limit=paging.limit, after=cursor_after_id(paging)
    )
    return CorrectiveActionPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/corrective-actions/{action_id}",
    response_model=CorrectiveActionRead,
    tags=[ACTIONS],
    summary="Read one corrective action",
    responses={404: PROBLEM},
)
async def get_action(
    action_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> CorrectiveActionRead:
    action = await service.get_action(session, action_id)
    set_etag(response, action.version)
    return action


@router.patch(
    "/corrective-actions/{action_id}",
    response_model=CorrectiveActionRead,
    tags=[ACTIONS],
    summary="Change an action's description, owner or due date (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_action(
    action_id: uuid.UUID,
    body: CorrectiveActionUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> CorrectiveActionRead:
    """A new due date re-arms the overdue notice."""
    updated = await service.update_action(session, principal, action_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.post(
    "/corrective-actions/{action_id}/implement",
    response_model=CorrectiveActionRead,
    tags=[ACTIONS],
    summary="Mark an action implemented",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def implement_action(
    action_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    body: CorrectiveActionImplement | None = None,
    if_match: IfMatch = None,
) -> CorrectiveActionRead:
    """From `planned`, or from `verified_ineffective` after rework."""
    implemented = await service.implement_action(
        session, principal, action_id, body or CorrectiveActionImplement(), if_match
    )
    set_etag(response, implemented.version)
    return implemented


@router.post(
    "/corrective-actions/{action_id}/verify",
    response_model=CorrectiveActionRead,
    tags=[ACTIONS],
    summary="Record the follow-up verifying an action's effectiveness (editors, auditors)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def verify_action(
    action_id: uuid.UUID,
    body: CorrectiveActionVerify,
    principal: Verifier,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> CorrectiveActionRead:
    """The caller is the verifier and must be neither the action's owner nor whoever recorded
    its implementation (409 `verifier-not-independent`)."""
    verified = await service.verify_action(session, principal, action_id, body, if_match)
    set_etag(response, verified.version)
    return verified
