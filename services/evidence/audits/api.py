"""REST routes of internal audit (ISO/IEC 42001 9.2; ``/v1``).

Who may do what:

- read: every role, the auditor included;
- plan and run audits and programmes (create, change, start, complete, cancel): admins and
  managers. 9.2.2 makes the audit programme management's: management plans it and selects
  independent auditors, the auditors conduct the audits. Auditors therefore cannot plan audits
  (not even their own, which would let them pick their scope);
- raise and change findings: editors and auditors (the auditor role changes nothing else, apart
  from recording a follow-up's verification of a corrective action).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status

from services.evidence.audits import service
from services.evidence.audits.errors import InvalidTarget
from services.evidence.audits.repository import FindingFilter
from services.evidence.audits.schemas import (
    AuditComplete,
    AuditCreate,
    AuditPage,
    AuditRead,
    AuditStart,
    AuditStatus,
    AuditUpdate,
    CoverageList,
    CoverageRead,
    FindingCreate,
    FindingKind,
    FindingPage,
    FindingRead,
    FindingStatus,
    FindingTargetType,
    FindingUpdate,
    ProgrammeCreate,
    ProgrammePage,
    ProgrammeRead,
    ProgrammeUpdate,
)
from services.evidence.items.service import normalise_target
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

FINDING_WRITERS = EDITORS | {Role.AUDITOR}


router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Planner = Annotated[Principal, Depends(require_roles(APPROVERS))]
FindingWriter = Annotated[Principal, Depends(require_roles(FINDING_WRITERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None,
    Query(description="Fetch these (batch; at most 500)", max_length=500),
]
PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
PROGRAMMES, AUDITS, FINDINGS = "audit-programmes", "audits", "findings"


# --- Programmes -------------------------------------------------------------------------------


@router.post(
    "/audit-programmes",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgrammeRead,
    tags=[PROGRAMMES],
    summary="Create an internal audit programme for a cycle (admins, managers)",
    responses={422: PROBLEM},
)
async def create_programme(
    body: ProgrammeCreate, principal: Planner, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_programme(session, principal, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/audit-programmes/{created.id}",
    )


@router.get(
    "/audit-programmes", response_model=ProgrammePage, tags=[PROGRAMMES], summary="List programmes"
)
async def list_programmes(
    principal: Reader, session: TenantSession, paging: Paging, id: Ids = None
) -> ProgrammePage:
    items, fetched = await service.list_programmes(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    return ProgrammePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/audit-programmes/{programme_id}",
    response_model=ProgrammeRead,
    tags=[PROGRAMMES],
    summary="Read one programme",
    responses={404: PROBLEM},
)
async def get_programme(
    programme_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ProgrammeRead:
    programme = await service.get_programme(session, programme_id)
    set_etag(response, programme.version)
    return programme


@router.patch(
    "/audit-programmes/{programme_id}",
    response_model=ProgrammeRead,
    tags=[PROGRAMMES],
    summary="Change a programme (send If-Match; admins, managers)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_programme(
    programme_id: uuid.UUID,
    body: ProgrammeUpdate,
    principal: Planner,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ProgrammeRead:
    """The period must still hold the programme's audits (409 `programme-has-audits`)."""
    updated = await service.update_programme(session, principal, programme_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.get(
    "/audit-programmes/{programme_id}/coverage",
    response_model=CoverageRead,
    tags=[PROGRAMMES],
    summary="Clauses and applicable Annex A controls the programme's audits do not cover",
    responses={404: PROBLEM},
)
async def programme_coverage(
    programme_id: uuid.UUID, principal: Reader, session: TenantSession
) -> CoverageRead:
    """Every assessable clause (4.1 … 10.2) and every control included in the current approved
    SoA should be covered by at least one audit of the cycle that is not cancelled. An audit
    listing a parent clause (`9`) covers its sub-clauses."""
    return await service.programme_coverage(session, programme_id)


@router.get(
    "/coverage-by-programme",
    response_model=CoverageList,
    tags=[PROGRAMMES],
    summary="Coverage and gaps of many programmes at once (for DataLoaders)",
)
async def coverage_by_programme(
    principal: Reader,
    session: TenantSession,
    programme_id: Annotated[
        list[uuid.UUID],
        Query(min_length=1, max_length=100, description="The programmes (1–100)"),
    ],
) -> CoverageList:
    """For each programme asked that exists, in the order asked (each once): what
    `/v1/audit-programmes/{id}/coverage` answers. A page of programmes with their coverage
    costs one call; a programme unknown in your organisation is absent."""
    return CoverageList(items=await service.coverage_by_programme(session, programme_id))


# --- Audits -----------------------------------------------------------------------------------


@router.post(
    "/audits",
    status_code=status.HTTP_201_CREATED,
    response_model=AuditRead,
    tags=[AUDITS],
    summary="Plan an internal audit (admins, managers)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_audit(
    body: AuditCreate, principal: Planner, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """409 `auditor-not-independent` with `reasons` when the lead auditor or a team member owns
    a system in scope, or owns evidence of a control or clause (process) in scope. 422
    `unknown-reference` for clauses, controls, systems, evidence items or a programme that do
    not exist. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_audit(session, principal, body)
    return await idem.created(
        session, principal, created, version=created.version, location=f"/v1/audits/{created.id}"
    )


@router.get("/audits", response_model=AuditPage, tags=[AUDITS], summary="List audits")
async def list_audits(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    programme_id: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None,
    status: Annotated[list[AuditStatus] | None, Query(max_length=10)] = None,
) -> AuditPage:
    items, fetched = await service.list_audits(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        programme_ids=programme_id or [],
        statuses=[s.value for s in status or []],
    )
    return AuditPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/audits/{audit_id}",
    response_model=AuditRead,
    tags=[AUDITS],
    summary="Read one audit",
    responses={404: PROBLEM},
)
async def get_audit(
    audit_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> AuditRead:
    audit = await service.get_audit(session, audit_id)
    set_etag(response, audit.version)
    return audit


@router.patch(
    "/audits/{audit_id}",
    response_model=AuditRead,
    tags=[AUDITS],
    summary="Change a planned or in-progress audit (send If-Match; admins, managers)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_audit(
    audit_id: uuid.UUID,
    body: AuditUpdate,
    principal: Planner,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> AuditRead:
    """Lists replace the whole list. A new scope or team is checked for independence again."""
    updated = await service.update_audit(session, principal, audit_id, body, if_match)
    set_etag(response, updated.version)
    return updated


def _transition_doc(summary: str) -> dict[str, Any]:
    return {
        "response_model": AuditRead,
        "tags": [AUDITS],
        "summary": summary,
        "responses": {404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM},
    }


@router.post("/audits/{audit_id}/start", **_transition_doc("Start a planned audit"))
async def start_audit(
    audit_id: uuid.UUID,
    principal: Planner,
    session: TenantSession,
    response: Response,
    body: AuditStart | None = None,
    if_match: IfMatch = None,
) -> AuditRead:
    """Independence is checked again (ownership may have changed since planning).
    `started_on` defaults to today (UTC); an audit that began earlier (recorded late) sends
    its day, not in the future."""
    started = await service.start_audit(
        session, principal, audit_id, if_match, body.started_on if body else None
    )
    set_etag(response, started.version)
    return started


@router.post("/audits/{audit_id}/complete", **_transition_doc("Complete an audit in progress"))
async def complete_audit(
    audit_id: uuid.UUID,
    principal: Planner,
    session: TenantSession,
    response: Response,
    body: AuditComplete | None = None,
    if_match: IfMatch = None,
) -> AuditRead:
    """`completed_on` defaults to today (UTC)."""
    completed = await service.complete_audit(
        session, principal, audit_id, body or AuditComplete(), if_match
    )
    set_etag(response, completed.version)
    return completed


@router.post("/audits/{audit_id}/cancel", **_transition_doc("Cancel a planned or running audit"))
async def cancel_audit(
    audit_id: uuid.UUID,
    principal: Planner,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> AuditRead:
    """A cancelled audit no longer counts towards its programme's coverage."""
    cancelled = await service.cancel_audit(session, principal, audit_id, if_match)
    set_etag(response, cancelled.version)
    return cancelled


# --- Findings ---------------------------------------------------------------------------------


@router.post(
    "/audits/{audit_id}/findings",
    status_code=status.HTTP_201_CREATED,
    response_model=FindingRead,
    tags=[FINDINGS],
    summary="Raise a finding (editors, auditors)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def raise_finding(
    audit_id: uuid.UUID,
    body: FindingCreate,
    principal: FindingWriter,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """On an audit in progress or completed (409 otherwise). A major or minor nonconformity
    opens a nonconformity (`nonconformity_id`) in the same transaction. Each link must name a
    clause, Annex A control, or a system, risk or evidence item of your organisation (by UUID;
    422 `unknown-reference` otherwise). Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.raise_finding(session, principal, audit_id, body)
    return await idem.created(
        session, principal, created, version=created.version, location=f"/v1/findings/{created.id}"
    )


@router.get(
    "/audits/{audit_id}/findings",
    response_model=FindingPage,
    tags=[FINDINGS],
    summary="An audit's findings",
    responses={404: PROBLEM},
)
async def list_audit_findings(
    audit_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> FindingPage:
    items, fetched = await service.list_audit_findings(
        session, audit_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return FindingPage(items=items, next_cursor=next_cursor(items, fetched, paging))


def _target(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    kind, _, target_id = value.partition(":")
    try:
        target_type = FindingTargetType(kind)
    except ValueError:
        target_type = None
    canonical = None
    if target_type is not None and target_id:
        lookup = "system" if target_type == FindingTargetType.EVIDENCE else target_type.value
        canonical = normalise_target(lookup, target_id)
    if target_type is None or canonical is None:
        raise InvalidTarget(
            "`target` is `<type>:<id>` with type one of "
            f"{', '.join(t.value for t in FindingTargetType)} (e.g. `clause:9.2`, "
            "`control:A.6.2.8`, `system:<uuid>`)."
        )
    return target_type.value, canonical


@router.get("/findings", response_model=FindingPage, tags=[FINDINGS], summary="List findings")
async def list_findings(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    audit_id: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None,
    kind: Annotated[list[FindingKind] | None, Query(max_length=10)] = None,
    status: Annotated[list[FindingStatus] | None, Query(max_length=10)] = None,
    target: Annotated[
        Name | None, Query(description="Findings linked to `<type>:<id>`, e.g. `clause:9.2`")
    ] = None,
) -> FindingPage:
    filters = FindingFilter(
        ids=id or [],
        audit_ids=audit_id or [],
        kinds=[k.value for k in kind or []],
        statuses=[s.value for s in status or []],
        target=_target(target),
    )
    items, fetched = await service.list_findings(
        session, filters, limit=paging.limit, after=cursor_after_id(paging)
    )
    return FindingPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/findings/{finding_id}",
    response_model=FindingRead,
    tags=[FINDINGS],
    summary="Read one finding",
    responses={404: PROBLEM},
)
async def get_finding(
    finding_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> FindingRead:
    finding = await service.get_finding(session, finding_id)
    set_etag(response, finding.version)
    return finding


@router.patch(
    "/findings/{finding_id}",
    response_model=FindingRead,
    tags=[FINDINGS],
    summary="Change a finding (send If-Match; editors, auditors)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_finding(
    finding_id: uuid.UUID,
    body: FindingUpdate,
    principal: FindingWriter,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> FindingRead:
    """Raising an observation to a nonconformity opens its nonconformity; a nonconformity
    finding cannot be lowered to an observation (409 `finding-kind-locked`), and closes with
    its nonconformity (409 `finding-status-follows-nonconformity`)."""
    updated = await service.update_finding(session, principal, finding_id, body, if_match)
    set_etag(response, updated.version)
    return updated
