"""REST routes of readiness and the certification plan (``/v1``).

Readers: every role, the auditor included. Recompute: editors. The certification plan is set
and its milestones marked done by approvers (admins, managers).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status

from services.evidence.readiness import service
from services.evidence.readiness.errors import InvalidAsOf
from services.evidence.readiness.schemas import (
    CertificationPlanPut,
    CertificationPlanRead,
    MilestoneRead,
    MilestoneUpdate,
    ReadinessRead,
    RemediationPlanRead,
    SnapshotPage,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.db import utcnow
from shared.http import (
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
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
READINESS, PLAN = "readiness", "certification-plan"


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed: date | datetime = (
            date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        )
    except ValueError as exc:
        raise InvalidAsOf(
            "`as_of` is a day (2026-10-01) or an ISO 8601 time (2026-10-01T12:00:00Z).",
            errors=[{"location": ["query", "as_of"], "message": "not a date or time"}],
        ) from exc
    try:
        at = service.parse_as_of(parsed)
    except OverflowError as exc:
        raise InvalidAsOf(
            "`as_of` must fall between the years 1 and 9999 in UTC.",
            errors=[{"location": ["query", "as_of"], "message": "out of range"}],
        ) from exc
    return None if at >= utcnow() else at


@router.get(
    "/readiness",
    response_model=ReadinessRead,
    tags=[READINESS],
    summary="Readiness for certification: verdict, score, blockers, clauses and controls",
    responses={404: PROBLEM, 422: PROBLEM},
)
async def get_readiness(
    principal: Reader,
    session: TenantSession,
    as_of: Annotated[
        Name | None,
        Query(
            max_length=40,
            description="An earlier day or time: answered from the snapshot current then "
            "(`source: snapshot`); omitted, computed now (`source: live`)",
        ),
    ] = None,
) -> ReadinessRead:
    """Live: computed from the current data, `as_of` the time it was computed. With `as_of`:
    the latest stored snapshot at or before then (404 when there is none). A snapshot keeps the
    verdict, score, rules, at most 100 blockers, and every clause's and control's status as
    computed at its `as_of` (a new one is stored whenever any of these statuses, the blockers,
    the score or the verdict changes)."""
    return await service.readiness(session, _as_of(as_of))


@router.get(
    "/readiness/history",
    response_model=SnapshotPage,
    tags=[READINESS],
    summary="Stored readiness snapshots, newest first",
)
async def readiness_history(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Annotated[
        list[uuid.UUID] | None, Query(description="Fetch these (batch)", max_length=500)
    ] = None,
) -> SnapshotPage:
    """A snapshot is stored each time the verdict, score or set of blockers changes."""
    items = await service.history(
        session, limit=paging.limit + 1, after=cursor_after_id(paging), ids=id or []
    )
    page = items[: paging.limit]
    return SnapshotPage(items=page, next_cursor=next_cursor(page, items, paging))


@router.post(
    "/readiness/recompute",
    response_model=ReadinessRead,
    tags=[READINESS],
    summary="Recompute now and store a snapshot if anything changed",
)
async def recompute_readiness(principal: Editor, session: TenantSession) -> ReadinessRead:
    """Normally readiness is recomputed a few seconds after the events that affect it; this
    does it at once (emitting `readiness.changed` if the verdict, score or blockers changed)
    and answers the latest snapshot."""
    await service.recompute(session, principal.org_id, trigger=f"request:{principal.subject}")
    return await service.readiness(session, utcnow())


@router.get(
    "/readiness/plan",
    response_model=RemediationPlanRead,
    tags=[READINESS],
    summary="Remediation plan: the blockers as prioritised tasks with owners and due dates",
)
async def get_remediation_plan(principal: Reader, session: TenantSession) -> RemediationPlanRead:
    """Stage 1 blockers first, then by severity and due date. Due dates come from the
    certification plan's milestones (or, without a plan, 30/60/90 days by severity)."""
    return await service.remediation_plan(session)


@router.get(
    "/certification-plan",
    response_model=CertificationPlanRead,
    tags=[PLAN],
    summary="The certification plan and its milestones",
    responses={404: PROBLEM},
)
async def get_certification_plan(
    principal: Reader, session: TenantSession, response: Response
) -> CertificationPlanRead:
    plan = await service.get_plan(session)
    set_etag(response, plan.version)
    return plan


@router.put(
    "/certification-plan",
    response_model=CertificationPlanRead,
    tags=[PLAN],
    summary="Set the certification target; milestones are planned backwards from it",
    responses={
        201: {"model": CertificationPlanRead},
        412: PROBLEM,
        422: PROBLEM,
        428: PROBLEM,
    },
)
async def put_certification_plan(
    body: CertificationPlanPut,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> CertificationPlanRead:
    """201 when the plan is created; replacing it needs `If-Match` (428 without, 412 when
    stale). Milestones keep their done dates; `reachable: false` says when the target can no
    longer be met, with the reason and the earliest possible Stage 2."""
    plan, created = await service.put_plan(session, principal, body, if_match)
    if created:
        response.status_code = status.HTTP_201_CREATED
    set_etag(response, plan.version)
    return plan


@router.patch(
    "/certification-plan/milestones/{milestone_id}",
    response_model=MilestoneRead,
    tags=[PLAN],
    summary="Mark a milestone done (or not done)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_milestone(
    milestone_id: uuid.UUID,
    body: MilestoneUpdate,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> MilestoneRead:
    """`If-Match` is the milestone's version (its `version` field)."""
    milestone = await service.update_milestone(session, principal, milestone_id, body, if_match)
    set_etag(response, milestone.version)
    return milestone
