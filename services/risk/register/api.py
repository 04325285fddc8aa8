"""REST routes of the risk service's register domain: matrices, cadences, risks, dashboard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status

from services.risk.register import listeners as _listeners  # noqa: F401 — registers the hook
from services.risk.register import service
from services.risk.register.repository import RiskFilter
from services.risk.register.schemas import (
    Basis,
    RescoreReport,
    ReviewCadences,
    ReviewCadencesPut,
    RiskAccept,
    RiskCreate,
    RiskDashboard,
    RiskHistoryPage,
    RiskMatrixPage,
    RiskMatrixPut,
    RiskMatrixRead,
    RiskPage,
    RiskRead,
    RiskStatus,
    RiskSummaryPage,
    RiskUpdate,
    SystemRisksList,
)
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.db import utcnow
from shared.errors import InvalidCursor
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
from shared.text import Text

# Every route: a misspelt query parameter answers 400 naming the allowed ones.
router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
MATRICES: list[str | Enum] = ["risk-matrices"]
RISKS: list[str | Enum] = ["risks"]

# --- Matrices ---------------------------------------------------------------------------------


@router.get(
    "/risk-matrices",
    response_model=RiskMatrixRead,
    tags=MATRICES,
    summary="The organisation's current risk matrix (ETag = its version number)",
)
async def get_risk_matrix(
    principal: Reader, session: TenantSession, response: Response
) -> RiskMatrixRead:
    matrix = await service.get_current_matrix(session, principal)
    set_etag(response, matrix.number)
    return matrix


@router.put(
    "/risk-matrices",
    response_model=RiskMatrixRead,
    tags=MATRICES,
    summary="Choose a preset or define a matrix: a new version (send If-Match)",
    responses={412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def put_risk_matrix(
    body: RiskMatrixPut,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> RiskMatrixRead:
    """Earlier versions never change; assessments keep the version they were scored on."""
    matrix = await service.put_matrix(session, principal, body, if_match)
    set_etag(response, matrix.number)
    return matrix


@router.get(
    "/risk-matrices/versions",
    response_model=RiskMatrixPage,
    tags=MATRICES,
    summary="Every version of the organisation's risk matrix, oldest first",
)
async def list_risk_matrix_versions(principal: Reader, session: TenantSession) -> RiskMatrixPage:
    return RiskMatrixPage(items=await service.list_matrix_versions(session, principal))


@router.get(
    "/risk-matrices/versions/{number}",
    response_model=RiskMatrixRead,
    tags=MATRICES,
    summary="One version of the risk matrix",
    responses={404: PROBLEM},
)
async def get_risk_matrix_version(
    number: int, principal: Reader, session: TenantSession
) -> RiskMatrixRead:
    return await service.get_matrix_version(session, principal, number)


@router.post(
    "/risk-matrices/rescore",
    response_model=RescoreReport,
    tags=MATRICES,
    summary="Re-score open risks on the current matrix and report what moved",
)
async def rescore_risks(
    principal: Approver,
    session: TenantSession,
    dry_run: Annotated[bool, Query(description="Only report; change nothing")] = False,
) -> RescoreReport:
    """Likelihood and severity move onto scales of another size by their place on the scale:
    onto a coarser scale the highest position at or below it, onto a finer one the lowest at or
    above it. The ends stay the ends, and a trip through a coarser matrix and back never raises
    a score. `moved` lists every risk whose positions or levels change, before and after."""
    return await service.rescore(session, principal, dry_run)


@router.get(
    "/risk-review-cadences",
    response_model=ReviewCadences,
    tags=MATRICES,
    summary="Days from an assessment to its review, per level",
)
async def get_review_cadences(
    principal: Reader, session: TenantSession, response: Response
) -> ReviewCadences:
    cadences = await service.get_cadences(session, principal)
    set_etag(response, cadences.version)
    return cadences


@router.put(
    "/risk-review-cadences",
    response_model=ReviewCadences,
    tags=MATRICES,
    summary='Set review cadences per level (send If-Match; `"0"` before the first)',
    responses={412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def put_review_cadences(
    body: ReviewCadencesPut,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReviewCadences:
    cadences = await service.put_cadences(session, principal, body, if_match)
    set_etag(response, cadences.version)
    return cadences


# --- Risks ------------------------------------------------------------------------------------


@router.post(
    "/risks",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskRead,
    tags=RISKS,
    summary="Add a risk to the register",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_risk(
    body: RiskCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Scored on the current matrix. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_risk(session, principal, body)
    location = f"/v1/risks/{created.id}"
    return await idem.created(
        session, principal, created, version=created.version, location=location
    )


@dataclass(frozen=True)
class _Filters:
    """The filters ``GET /v1/risks`` and ``GET /v1/risks-by-system`` share."""

    inherent_level: list[str]
    residual_level: list[str]
    domain_id: list[str]
    status: list[str]
    owner: str | None
    above_tolerance: bool | None
    review_overdue: bool | None

    def to_filter(
        self, org_id: uuid.UUID, *, ids: list[uuid.UUID], system_ids: list[uuid.UUID]
    ) -> RiskFilter:
        return RiskFilter(
            org_id=org_id,
            ids=ids,
            system_ids=system_ids,
            inherent_levels=self.inherent_level,
            residual_levels=self.residual_level,
            domain_ids=self.domain_id,
            statuses=self.status,
            owner=self.owner,
            above_tolerance=self.above_tolerance,
            review_overdue=self.review_overdue,
            now=utcnow(),
        )


def _filters(
    inherent_level: Annotated[list[Text] | None, Query(max_length=10)] = None,
    residual_level: Annotated[list[Text] | None, Query(max_length=10)] = None,
    domain_id: Annotated[list[Text] | None, Query(max_length=7)] = None,
    status: Annotated[list[RiskStatus] | None, Query(max_length=5)] = None,
    owner: Annotated[Text | None, Query(max_length=200)] = None,
    above_tolerance: bool | None = None,
    review_overdue: bool | None = None,
) -> _Filters:
    return _Filters(
        inherent_level=list(inherent_level or []),
        residual_level=list(residual_level or []),
        domain_id=list(domain_id or []),
        status=[s.value for s in status or []],
        owner=owner,
        above_tolerance=above_tolerance,
        review_overdue=review_overdue,
    )


Filters = Annotated[_Filters, Depends(_filters)]


@router.get(
    "/risks",
    response_model=RiskPage,
    tags=RISKS,
    summary="The risk register",
    responses={400: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def list_risks(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    filters: Filters,
    id: Annotated[list[uuid.UUID] | None, Query(max_length=500, description="Batch")] = None,
    system_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
) -> RiskPage:
    """Unknown query parameters answer 400 naming the allowed ones."""
    filter = filters.to_filter(principal.org_id, ids=id or [], system_ids=system_id or [])
    items, fetched = await service.list_risks(
        session, filter, limit=paging.limit, after=cursor_after_id(paging)
    )
    return RiskPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/risks-by-system",
    response_model=SystemRisksList,
    tags=RISKS,
    summary="Risks of many systems at once (for DataLoaders): first risks and totals",
    responses={400: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def risks_by_system(
    principal: Reader,
    session: TenantSession,
    filters: Filters,
    system_id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=500)],
    first: Annotated[int, Query(ge=1, le=100, description="Risks per system")] = 10,
) -> SystemRisksList:
    """One entry per `system_id`, in the order asked: its first `first` risks matching the
    filters (oldest first) and `total_count`. One database query whatever the number of
    systems; a system unknown in your organisation answers an empty entry."""
    filter = filters.to_filter(principal.org_id, ids=[], system_ids=system_id)
    return SystemRisksList(items=await service.risks_by_system(session, filter, first=first))


@router.get(
    "/risks/summary",
    response_model=RiskSummaryPage,
    tags=RISKS,
    summary="Per system: open risks and the highest residual level (batch)",
)
async def risk_summaries(
    principal: Reader,
    session: TenantSession,
    system_id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=500)],
) -> RiskSummaryPage:
    return RiskSummaryPage(items=await service.summaries(session, principal, system_id))


@router.get(
    "/risks/{risk_id}",
    response_model=RiskRead,
    tags=RISKS,
    summary="Read one risk",
    responses={404: PROBLEM},
)
async def get_risk(
    risk_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> RiskRead:
    risk = await service.get_risk(session, risk_id)
    set_etag(response, risk.version)
    return risk


@router.patch(
    "/risks/{risk_id}",
    response_model=RiskRead,
    tags=RISKS,
    summary="Change or re-assess a risk (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_risk(
    risk_id: uuid.UUID,
    body: RiskUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> RiskRead:
    """Any of likelihood, severity and the residual pair re-scores the risk on the current
    matrix (`risk.assessed`); a new residual scoring voids an earlier acceptance."""
    risk = await service.update_risk(session, principal, risk_id, body, if_match)
    set_etag(response, risk.version)
    return risk


@router.post(
    "/risks/{risk_id}/accept",
    response_model=RiskRead,
    tags=RISKS,
    summary="Accept a risk's residual level (manager/admin; send If-Match)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def accept_risk(
    risk_id: uuid.UUID,
    body: RiskAccept,
    principal: Approver,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> RiskRead:
    """Whoever created the risk or is named its owner cannot accept it (403
    `separation-of-duties`), unless the organisation's risk policy sets `allow_self_acceptance`;
    such an acceptance is recorded in the history as `self_accepted_by_policy`."""
    risk = await service.accept_risk(session, principal, risk_id, body, if_match)
    set_etag(response, risk.version)
    return risk


@router.get(
    "/risks/{risk_id}/history",
    response_model=RiskHistoryPage,
    tags=RISKS,
    summary="Every version of a risk, oldest first",
    responses={404: PROBLEM},
)
async def risk_history(
    risk_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> RiskHistoryPage:
    after: int | None = None
    if paging.after is not None:
        raw = paging.after.get("version")
        if not isinstance(raw, int):
            raise InvalidCursor("The cursor is not one this API issued.")
        after = raw
    items, fetched = await service.history(session, risk_id, limit=paging.limit, after=after)
    cursor = (
        encode_cursor({"version": items[-1].version}) if fetched > paging.limit and items else None
    )
    return RiskHistoryPage(items=items, next_cursor=cursor)


@router.get(
    "/risk-dashboard",
    response_model=RiskDashboard,
    tags=RISKS,
    summary="Counts of non-closed risks per matrix cell, level, MIT domain and system",
)
async def risk_dashboard(
    principal: Reader, session: TenantSession, basis: Basis = Basis.RESIDUAL
) -> RiskDashboard:
    """`residual` counts a risk with no residual scores at its inherent cell and level."""
    return await service.dashboard(session, principal, basis)
