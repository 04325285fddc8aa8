"""REST routes of the risk service's classification domain."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response, status

from services.risk.classification import service
from services.risk.classification.procedure import Answers
from services.risk.classification.questionnaire import questionnaire
from services.risk.classification.schemas import (
    ClassificationList,
    ClassificationNeededPage,
    ClassificationPage,
    ClassificationRead,
    ClassificationSummaryList,
    Questionnaire,
)
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.errors import InvalidCursor
from shared.http import (
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    encode_cursor,
    set_etag,
)

router = PrefilteredRouter(prefix="/v1", tags=["classification"])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get(
    "/eu-ai-act/questionnaire",
    response_model=Questionnaire,
    summary="The EU AI Act classification questions and their allowed answers",
)
async def get_questionnaire(principal: Reader) -> Questionnaire:
    return questionnaire()


@router.post(
    "/systems/{system_id}/classifications",
    status_code=status.HTTP_201_CREATED,
    response_model=ClassificationRead,
    summary="Classify an AI system under the EU AI Act",
    responses={404: PROBLEM, 422: PROBLEM},
)
async def classify_system(
    system_id: uuid.UUID,
    body: Answers,
    principal: Editor,
    session: TenantSession,
    response: Response,
) -> ClassificationRead:
    """Run the decision procedure over the answers and store the result as the system's new
    current classification (versions 1, 2, …); emits `aims.risk.system.classified`."""
    created = await service.classify_system(session, principal, system_id, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/systems/{system_id}/classification"
    return created


@router.get(
    "/systems/{system_id}/classification",
    response_model=ClassificationRead,
    summary="The current classification of an AI system",
    responses={404: PROBLEM},
)
async def get_current_classification(
    system_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ClassificationRead:
    found = await service.current(session, system_id)
    set_etag(response, found.version)
    return found


@router.get(
    "/systems/{system_id}/classifications",
    response_model=ClassificationPage,
    summary="Classification history of an AI system (newest first)",
    responses={400: PROBLEM, 404: PROBLEM},
)
async def list_classifications(
    system_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> ClassificationPage:
    before: int | None = None
    if paging.after is not None:
        value = paging.after.get("version")
        if not isinstance(value, int):
            raise InvalidCursor("The cursor is not one this API issued.")
        before = value
    rows = await service.history(session, system_id, limit=paging.limit + 1, before_version=before)
    items = rows[: paging.limit]
    following = encode_cursor({"version": items[-1].version}) if len(rows) > paging.limit else None
    return ClassificationPage(items=items, next_cursor=following)


@router.get(
    "/classifications",
    response_model=ClassificationList | ClassificationSummaryList,
    summary="Current classifications of several AI systems (batch)",
)
async def batch_classifications(
    principal: Reader,
    session: TenantSession,
    system_id: Annotated[
        list[uuid.UUID],
        Query(min_length=1, max_length=500, description="Systems to fetch (at most 500)"),
    ],
    view: Annotated[
        Literal["full", "summary"],
        Query(
            description="`summary`: only what a list shows (tier, route, role, articles, "
            "version, when and by whom; no obligations, reasons or answers)"
        ),
    ] = "full",
) -> ClassificationList | Response:
    if view == "summary":
        # Written here: FastAPI would validate the answer against the union of both views,
        # trying the full one first from attributes (13 ms for 50 summaries).
        found = ClassificationSummaryList(
            items=await service.current_summaries_of(session, system_id)
        )
        return Response(found.model_dump_json(), media_type="application/json")
    return ClassificationList(items=await service.current_of(session, system_id))


@router.get(
    "/classifications/needed",
    response_model=ClassificationNeededPage,
    summary="Systems never classified or asked to be reclassified",
)
async def classifications_needed(
    principal: Reader, session: TenantSession, paging: Paging
) -> ClassificationNeededPage:
    rows = await service.needed(session, limit=paging.limit + 1, after=cursor_after_id(paging))
    items = rows[: paging.limit]
    following = (
        encode_cursor({"id": str(items[-1].system_id)}) if len(rows) > paging.limit else None
    )
    return ClassificationNeededPage(items=items, next_cursor=following)
