"""REST routes of the documented domain (ISO/IEC 42001 7.5): the status of every item of
documented information for the caller's organisation and for each system, coverage for the
gateway's DataLoaders, and the evidence requests opened when systems enter the scope."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from services.evidence.documented import service
from services.evidence.documented.rules import DocumentedStatus
from services.evidence.documented.schemas import (
    CoverageList,
    DocumentedItemList,
    DocumentedItemRead,
    DocumentedSummary,
    EvidenceRequestPage,
    ItemSource,
    RequestStatus,
    SystemDocumentedRead,
)
from shared.auth import READERS, Principal, require_roles
from shared.db import utcnow
from shared.http import (
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    encode_cursor,
    reject_unknown_query,
)
from shared.text import Text

router = PrefilteredRouter(prefix="/v1", tags=["documented-information"])
Reader = Annotated[Principal, Depends(require_roles(READERS))]

PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
BASE = "/documented-information"


def today() -> date:
    """Review-by dates are compared with the current UTC date."""
    return utcnow().date()


ClauseFilter = Annotated[
    Text | None,
    Query(max_length=16, description="Items of this clause and its sub-clauses (e.g. `7.5`)"),
]
ControlFilter = Annotated[
    Text | None, Query(max_length=16, description="Items of this Annex A control (`A.6.2.8`)")
]


@router.get(
    BASE,
    response_model=DocumentedItemList,
    summary="Every item of documented information with its status",
    responses={400: PROBLEM, 422: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def list_documented_information(
    principal: Reader,
    session: TenantSession,
    status: Annotated[list[DocumentedStatus] | None, Query(max_length=5)] = None,
    source: Annotated[list[ItemSource] | None, Query(max_length=4)] = None,
    clause: ClauseFilter = None,
    control: ControlFilter = None,
) -> DocumentedItemList:
    """The catalogue (58 items, so not paginated): clause items (DI), commonly expected items
    (CE), Annex A artefacts (AX, following the approved SoA) and system items (SYS, summarised
    over the in-scope systems; per system see `/v1/systems/{id}/documented-information`)."""
    wanted = service.ItemFilter(
        statuses=frozenset(status or ()),
        sources=frozenset(source or ()),
        clause=clause,
        control=control,
    )
    return await service.list_documented(session, today(), wanted)


@router.get(
    f"{BASE}/summary",
    response_model=DocumentedSummary,
    summary="Counts by status and what needs work",
    responses={400: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def documented_information_summary(
    principal: Reader, session: TenantSession
) -> DocumentedSummary:
    return await service.summary(session, today())


@router.get(
    f"{BASE}/coverage",
    response_model=CoverageList,
    summary="System items' coverage of many systems at once (batch)",
    responses={400: PROBLEM, 422: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def documented_information_coverage(
    principal: Reader,
    session: TenantSession,
    system_id: Annotated[
        list[uuid.UUID], Query(min_length=1, max_length=500, description="1 to 500 systems")
    ],
) -> CoverageList:
    """One entry per requested system, in the order asked: how many system items it is asked
    for (`required`) and their statuses. A system not in scope, or unknown, has zeros. One
    database statement whatever the number of systems."""
    return await service.coverage(session, system_id, today())


@router.get(
    f"{BASE}/{{item_id}}",
    response_model=DocumentedItemRead,
    summary="One item of documented information with its status",
    responses={400: PROBLEM, 404: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def get_documented_information(
    principal: Reader,
    session: TenantSession,
    item_id: Annotated[str, Path(max_length=64)],
) -> DocumentedItemRead:
    return await service.get_documented(session, item_id, today())


@router.get(
    "/systems/{system_id}/documented-information",
    response_model=SystemDocumentedRead,
    summary="The system items of one AI system with their status",
    responses={400: PROBLEM, 404: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def system_documented_information(
    principal: Reader, session: TenantSession, system_id: uuid.UUID
) -> SystemDocumentedRead:
    return await service.system_documented(session, system_id, today())


@router.get(
    "/evidence-requests",
    response_model=EvidenceRequestPage,
    tags=["evidence-requests"],
    summary="Evidence requests opened when systems entered the scope",
    responses={400: PROBLEM, 422: PROBLEM},
    dependencies=[Depends(reject_unknown_query)],
)
async def list_evidence_requests(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    system_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
    status: Annotated[list[RequestStatus] | None, Query(max_length=3)] = None,
    item_id: Annotated[list[Text] | None, Query(max_length=5)] = None,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Fetch these requests (batch; at most 500)", max_length=500),
    ] = None,
) -> EvidenceRequestPage:
    """In creation order. `status=open` lists open requests not yet satisfied; `satisfied` the
    open ones whose item has approved evidence in force for the system."""
    items, fetched = await service.list_requests(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        today=today(),
        system_ids=system_id or [],
        statuses=status or [],
        item_ids=item_id or [],
        ids=id or [],
    )
    more = fetched > paging.limit and items
    return EvidenceRequestPage(
        items=items, next_cursor=encode_cursor({"id": str(items[-1].id)}) if more else None
    )
