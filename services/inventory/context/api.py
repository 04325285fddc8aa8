"""REST routes of the inventory's context domain (ISO/IEC 42001 4.1, 4.2)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse

from services.inventory.context import service
from services.inventory.context.schemas import (
    AIRolesRead,
    AIRolesUpdate,
    Category,
    ContextChangePage,
    ContextIssueCreate,
    ContextIssuePage,
    ContextIssueRead,
    ContextIssueUpdate,
    Framework,
    InterestedPartyCreate,
    InterestedPartyPage,
    InterestedPartyRead,
    InterestedPartyUpdate,
    IssueKind,
    PartyType,
)
from shared.auth import EDITORS, READERS, Principal, require_roles
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
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None, Query(description="Fetch these (batch; at most 500)", max_length=500)
]
ReviewOverdue = Annotated[
    bool | None,
    Query(description="`true`: only those past their review date; `false`: only those not"),
]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ISSUES = "context-issues"
PARTIES = "interested-parties"
ROLES = "organisation"


async def _created(
    idem: Any, session: Any, principal: Principal, state: Any, location: str
) -> JSONResponse:
    created: JSONResponse = await idem.created(
        session, principal, state, version=state.version, location=location
    )
    return created


# --- Issues -----------------------------------------------------------------------------------


@router.post(
    "/context-issues",
    status_code=status.HTTP_201_CREATED,
    response_model=ContextIssueRead,
    tags=[ISSUES],
    summary="Record an internal or external issue (4.1)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_context_issue(
    body: ContextIssueCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """The category must belong to the framework: PESTLE (political, economic, social,
    technological, legal, environmental) or SWOT (strength, weakness, opportunity, threat).
    Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_issue(session, principal, body)
    return await _created(idem, session, principal, created, f"/v1/context-issues/{created.id}")


@router.get(
    "/context-issues", response_model=ContextIssuePage, tags=[ISSUES], summary="List issues"
)
async def list_context_issues(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    kind: IssueKind | None = None,
    framework: Framework | None = None,
    category: Category | None = None,
    review_overdue: ReviewOverdue = None,
    id: Ids = None,
) -> ContextIssuePage:
    items, fetched = await service.list_issues(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        kind=kind,
        framework=framework,
        category=category,
        review_overdue=review_overdue,
        ids=id or [],
    )
    return ContextIssuePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/context-issues/{issue_id}",
    response_model=ContextIssueRead,
    tags=[ISSUES],
    summary="Read one issue",
    responses={404: PROBLEM},
)
async def get_context_issue(
    issue_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ContextIssueRead:
    issue = await service.get_issue(session, issue_id)
    set_etag(response, issue.version)
    return issue


@router.patch(
    "/context-issues/{issue_id}",
    response_model=ContextIssueRead,
    tags=[ISSUES],
    summary="Change an issue (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_context_issue(
    issue_id: uuid.UUID,
    body: ContextIssueUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ContextIssueRead:
    updated = await service.update_issue(session, principal, issue_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.get(
    "/context-issues/{issue_id}/history",
    response_model=ContextChangePage,
    tags=[ISSUES],
    summary="Who changed an issue, when, and what",
    responses={404: PROBLEM},
)
async def context_issue_history(
    issue_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> ContextChangePage:
    await service.get_issue(session, issue_id)
    items, fetched = await service.history(
        session, service.ISSUE, issue_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return ContextChangePage(items=items, next_cursor=next_cursor(items, fetched, paging))


# --- Interested parties -----------------------------------------------------------------------


@router.post(
    "/interested-parties",
    status_code=status.HTTP_201_CREATED,
    response_model=InterestedPartyRead,
    tags=[PARTIES],
    summary="Record an interested party and its requirements (4.2)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_interested_party(
    body: InterestedPartyCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_party(session, principal, body)
    return await _created(idem, session, principal, created, f"/v1/interested-parties/{created.id}")


@router.get(
    "/interested-parties",
    response_model=InterestedPartyPage,
    tags=[PARTIES],
    summary="List interested parties",
)
async def list_interested_parties(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    type: PartyType | None = None,
    review_overdue: ReviewOverdue = None,
    unaddressed: Annotated[
        bool | None,
        Query(description="`true`: only parties with a requirement the AIMS does not address"),
    ] = None,
    id: Ids = None,
) -> InterestedPartyPage:
    items, fetched = await service.list_parties(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        type=type,
        review_overdue=review_overdue,
        unaddressed=unaddressed,
        ids=id or [],
    )
    return InterestedPartyPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/interested-parties/{party_id}",
    response_model=InterestedPartyRead,
    tags=[PARTIES],
    summary="Read one interested party",
    responses={404: PROBLEM},
)
async def get_interested_party(
    party_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> InterestedPartyRead:
    party = await service.get_party(session, party_id)
    set_etag(response, party.version)
    return party


@router.patch(
    "/interested-parties/{party_id}",
    response_model=InterestedPartyRead,
    tags=[PARTIES],
    summary="Change an interested party (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def update_interested_party(
    party_id: uuid.UUID,
    body: InterestedPartyUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> InterestedPartyRead:
    updated = await service.update_party(session, principal, party_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.get(
    "/interested-parties/{party_id}/history",
    response_model=ContextChangePage,
    tags=[PARTIES],
    summary="Who changed an interested party, when, and what",
    responses={404: PROBLEM},
)
async def interested_party_history(
    party_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> ContextChangePage:
    await service.get_party(session, party_id)
    items, fetched = await service.history(
        session, service.PARTY, party_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return ContextChangePage(items=items, next_cursor=next_cursor(items, fetched, paging))


# --- Organisation AI roles --------------------------------------------------------------------


@router.get(
    "/organisation/ai-roles",
    response_model=AIRolesRead,
    tags=[ROLES],
    summary="The organisation's AI roles overall",
)
async def get_ai_roles(
    principal: Reader, session: TenantSession, response: Response
) -> AIRolesRead:
    """Version 0 (ETag `"0"`) until they are first set."""
    roles = await service.get_ai_roles(session, principal.org_id)
    set_etag(response, roles.version)
    return roles


@router.put(
    "/organisation/ai-roles",
    response_model=AIRolesRead,
    tags=[ROLES],
    summary="Set the organisation's AI roles (send If-Match)",
    responses={412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def put_ai_roles(
    body: AIRolesUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> AIRolesRead:
    """A subset of producer, provider, customer, partner, with a note. The first time, send
    `If-Match: "0"`."""
    roles = await service.put_ai_roles(session, principal, body, if_match)
    set_etag(response, roles.version)
    return roles


@router.get(
    "/organisation/ai-roles/history",
    response_model=ContextChangePage,
    tags=[ROLES],
    summary="Who changed the organisation's AI roles, when, and what",
)
async def ai_roles_history(
    principal: Reader, session: TenantSession, paging: Paging
) -> ContextChangePage:
    items, fetched = await service.history(
        session,
        service.AI_ROLES,
        principal.org_id,
        limit=paging.limit,
        after=cursor_after_id(paging),
    )
    return ContextChangePage(items=items, next_cursor=next_cursor(items, fetched, paging))
