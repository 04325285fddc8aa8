"""REST routes of the risk service's impact domain: AI system impact assessments
(ISO/IEC 42001 6.1.4, 8.4, A.5.2–A.5.5; EU AI Act Art. 27)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query, Response, status

from services.risk.impact import service
from services.risk.impact.schemas import (
    AssessmentStatus,
    ImpactAssessmentChangeRead,
    ImpactAssessmentCreate,
    ImpactAssessmentHistory,
    ImpactAssessmentPage,
    ImpactAssessmentRead,
    ImpactAssessmentUpdate,
    Rejection,
    RequiredAssessmentPage,
    TransitionNote,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.http import (
    IdempotencyDep,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    encode_cursor,
    next_cursor,
    reject_unknown_query,
    set_etag,
)

router = PrefilteredRouter(
    prefix="/v1",
    tags=["impact-assessments"],
    # A misspelt filter answers 400 naming the allowed ones instead of listing everything.
    dependencies=[Depends(reject_unknown_query)],
)
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
BASE = "/impact-assessments"


@router.get(
    f"{BASE}/required",
    response_model=RequiredAssessmentPage,
    summary="AI systems that need an impact assessment",
)
async def required_impact_assessments(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    missing: Annotated[
        bool,
        Query(description="Only systems without an approved assessment whose review is not due"),
    ] = False,
) -> RequiredAssessmentPage:
    """Systems (not retired, not excluded from scope) that affect individuals, are high-risk,
    work in a sensitive sector or carry a fundamental-rights risk, with the reasons and whether
    they have an approved, current assessment."""
    page = await service.required_assessments(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        missing_only=missing,
        today=date.today(),
    )
    cursor = encode_cursor({"id": str(page.items[-1].id)}) if page.more and page.items else None
    return RequiredAssessmentPage(items=page.items, next_cursor=cursor)


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=ImpactAssessmentRead,
    summary="Start an impact assessment (draft)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_impact_assessment(
    body: ImpactAssessmentCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_assessment(session, principal, body)
    location = f"/v1{BASE}/{created.id}"
    return await idem.created(
        session, principal, created, version=created.version, location=location
    )


@router.get(BASE, response_model=ImpactAssessmentPage, summary="List impact assessments")
async def list_impact_assessments(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    system_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
    status: Annotated[list[AssessmentStatus] | None, Query(max_length=6)] = None,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these assessments (batch; at most 500)", max_length=500),
    ] = None,
) -> ImpactAssessmentPage:
    items, fetched = await service.list_assessments(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        system_ids=system_id or [],
        statuses=[s.value for s in status or []],
    )
    return ImpactAssessmentPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    f"{BASE}/{{assessment_id}}",
    response_model=ImpactAssessmentRead,
    summary="Read one impact assessment",
    responses={404: PROBLEM},
)
async def get_impact_assessment(
    assessment_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ImpactAssessmentRead:
    assessment = await service.get_assessment(session, assessment_id)
    set_etag(response, assessment.version)
    return assessment


@router.patch(
    f"{BASE}/{{assessment_id}}",
    response_model=ImpactAssessmentRead,
    summary="Change a draft impact assessment (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_impact_assessment(
    assessment_id: uuid.UUID,
    body: ImpactAssessmentUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    updated = await service.update_assessment(session, principal, assessment_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.post(
    f"{BASE}/{{assessment_id}}/submit",
    response_model=ImpactAssessmentRead,
    summary="Submit a complete draft for review",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def submit_impact_assessment(
    assessment_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    """Refused with 422 `impact-assessment-incomplete` listing every missing item (`errors` with
    locations, `missing` as field paths such as `fundamental_rights.deployer_process`)."""
    submitted = await service.submit_assessment(session, principal, assessment_id, if_match)
    set_etag(response, submitted.version)
    return submitted


@router.post(
    f"{BASE}/{{assessment_id}}/send-back",
    response_model=ImpactAssessmentRead,
    summary="Send an assessment in review back to draft (reviewer or author)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def send_back_impact_assessment(
    assessment_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    body: Annotated[TransitionNote | None, Body()] = None,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    """Back to `draft` so that it can be corrected and submitted again; the `reason` (what to
    change) is kept as `return_reason`. Reviewers (admin, manager) and the author may do it."""
    moved = await service.send_back_assessment(
        session, principal, assessment_id, body.reason if body else None, if_match
    )
    set_etag(response, moved.version)
    return moved


@router.post(
    f"{BASE}/{{assessment_id}}/reject",
    response_model=ImpactAssessmentRead,
    summary="Reject an assessment in review, with a reason (admin, manager; not its author)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def reject_impact_assessment(
    assessment_id: uuid.UUID,
    body: Rejection,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    """`rejected` keeps the `rejection_reason`; `POST …/reopen` turns it into a draft again."""
    moved = await service.reject_assessment(
        session, principal, assessment_id, body.reason, if_match
    )
    set_etag(response, moved.version)
    return moved


@router.post(
    f"{BASE}/{{assessment_id}}/withdraw",
    response_model=ImpactAssessmentRead,
    summary="Withdraw a draft or an assessment in review (reviewer or author)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def withdraw_impact_assessment(
    assessment_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    body: Annotated[TransitionNote | None, Body()] = None,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    moved = await service.withdraw_assessment(
        session, principal, assessment_id, body.reason if body else None, if_match
    )
    set_etag(response, moved.version)
    return moved


@router.post(
    f"{BASE}/{{assessment_id}}/reopen",
    response_model=ImpactAssessmentRead,
    summary="Reopen a rejected or withdrawn assessment as a draft",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM},
)
async def reopen_impact_assessment(
    assessment_id: uuid.UUID,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    moved = await service.reopen_assessment(session, principal, assessment_id, if_match)
    set_etag(response, moved.version)
    return moved


@router.post(
    f"{BASE}/{{assessment_id}}/approve",
    response_model=ImpactAssessmentRead,
    summary="Approve an assessment in review (admin, manager; not its author)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
)
async def approve_impact_assessment(
    assessment_id: uuid.UUID,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ImpactAssessmentRead:
    """Refused with 422 listing every missing item (`errors`, `missing`) when incomplete; the
    EU AI Act Art. 27(1)(a)-(f) fields are required when Art. 27(1) binds the organisation
    (law) or its risk policy asks for a full assessment of every high-risk system (policy).
    Approving supersedes the system's previous approved assessment."""
    approved = await service.approve_assessment(session, principal, assessment_id, if_match)
    set_etag(response, approved.version)
    return approved


@router.get(
    f"{BASE}/{{assessment_id}}/history",
    response_model=ImpactAssessmentHistory,
    summary="Who changed an impact assessment, and what (newest first)",
    responses={404: PROBLEM},
)
async def impact_assessment_history(
    assessment_id: uuid.UUID,
    principal: Reader,
    session: TenantSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_version: Annotated[int | None, Query(ge=1)] = None,
) -> ImpactAssessmentHistory:
    rows = await service.history(
        session, assessment_id, limit=limit + 1, before_version=before_version
    )
    items = [ImpactAssessmentChangeRead.model_validate(r) for r in rows[:limit]]
    more = len(rows) > limit and items
    return ImpactAssessmentHistory(
        items=items, next_cursor=str(items[-1].version) if more else None
    )
