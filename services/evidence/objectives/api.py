"""REST routes of AI objectives and their measurements (ISO/IEC 42001 6.2, 9.1; ``/v1``).

Readers: every role, the auditor included. Writers: editors.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response, status

from services.evidence.objectives import service
from services.evidence.objectives.rules import ObjectiveStatus
from services.evidence.objectives.schemas import (
    MeasurementCreate,
    MeasurementPage,
    MeasurementRead,
    ObjectiveCreate,
    ObjectiveMeasurementPage,
    ObjectiveMeasurementPages,
    ObjectiveMeasurementsList,
    ObjectivePage,
    ObjectiveRead,
    ObjectiveUpdate,
)
from shared.auth import EDITORS, READERS, Principal, require_roles
from shared.errors import InvalidCursor
from shared.http import (
    IdempotencyDep,
    PageParams,
    Paging,
    PrefilteredRouter,
    TenantSession,
    cursor_after_id,
    encode_cursor,
    next_cursor,
    reject_unknown_query,
    set_etag,
)
from shared.text import Name

router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Principal, Depends(require_roles(READERS))]
Editor = Annotated[Principal, Depends(require_roles(EDITORS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None,
    Query(description="Fetch these (batch; at most 500)", max_length=500),
]
PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
TAG = "objectives"


@router.post(
    "/objectives",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectiveRead,
    tags=[TAG],
    summary="Set an AI objective (6.2): measure, target, owner, due date",
    responses={422: PROBLEM},
)
async def create_objective(
    body: ObjectiveCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Clause and control ids are checked against the catalogues (422 names the unknown ones).
    The day after `due_date` the objective becomes `achieved` (latest value on target) or
    `missed`. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_objective(session, principal, body)
    return await idem.created(
        session,
        principal,
        created,
        version=created.version,
        location=f"/v1/objectives/{created.id}",
    )


@router.get("/objectives", response_model=ObjectivePage, tags=[TAG], summary="List AI objectives")
async def list_objectives(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    status: Annotated[list[ObjectiveStatus] | None, Query(max_length=4)] = None,
    owner: Annotated[Name | None, Query(description="Exactly this owner")] = None,
    off_target: Annotated[
        bool | None,
        Query(description="true: only those whose latest value misses the target; false: others"),
    ] = None,
    due_before: Annotated[date | None, Query(description="Due date before this day")] = None,
) -> ObjectivePage:
    items, fetched = await service.list_objectives(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        statuses=[s.value for s in status or []],
        owner=owner,
        off_target=off_target,
        due_before=due_before,
    )
    return ObjectivePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/objectives/{objective_id}",
    response_model=ObjectiveRead,
    tags=[TAG],
    summary="Read one AI objective with its latest value",
    responses={404: PROBLEM},
)
async def get_objective(
    objective_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> ObjectiveRead:
    objective = await service.get_objective(session, objective_id)
    set_etag(response, objective.version)
    return objective


@router.patch(
    "/objectives/{objective_id}",
    response_model=ObjectiveRead,
    tags=[TAG],
    summary="Change an AI objective (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_objective(
    objective_id: uuid.UUID,
    body: ObjectiveUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> ObjectiveRead:
    """A new target or direction re-evaluates `on_target` (and may emit
    `objective.off_target`). Setting `active` again needs a due date today or later."""
    updated = await service.update_objective(session, principal, objective_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.post(
    "/objectives/{objective_id}/measurements",
    status_code=status.HTTP_201_CREATED,
    response_model=MeasurementRead,
    tags=[TAG],
    summary="Record a measurement of an AI objective (9.1)",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def record_measurement(
    objective_id: uuid.UUID,
    body: MeasurementCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """`measured_on` defaults to today and must not be in the future. The objective's latest
    value is the latest by date; a move to off target emits `objective.off_target`. 409 on a
    withdrawn objective. The `ETag` is the objective's new version. Send `Idempotency-Key` to
    make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    measurement, objective = await service.record_measurement(
        session, principal, objective_id, body
    )
    return await idem.created(
        session,
        principal,
        measurement,
        version=objective.version,
        location=f"/v1/objectives/{objective_id}/measurements",
    )


def _measurement_after(paging: PageParams) -> tuple[date, uuid.UUID] | None:
    if paging.after is None:
        return None
    try:
        return date.fromisoformat(str(paging.after["on"])), uuid.UUID(str(paging.after["id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc


@router.get(
    "/objectives/{objective_id}/measurements",
    response_model=MeasurementPage,
    tags=[TAG],
    summary="An AI objective's measurements in time order",
    responses={404: PROBLEM},
)
async def list_measurements(
    objective_id: uuid.UUID,
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    since: Annotated[date | None, Query(description="Measured on or after this day")] = None,
    until: Annotated[date | None, Query(description="Measured on or before this day")] = None,
) -> MeasurementPage:
    """Oldest first (by `measured_on`, then recording order); `on_target` of each value is
    judged against the objective's current target."""
    items, fetched = await service.list_measurements(
        session,
        objective_id,
        limit=paging.limit,
        after=_measurement_after(paging),
        since=since,
        until=until,
    )
    more = len(fetched) > paging.limit
    return MeasurementPage(items=items, next_cursor=_measurement_cursor(items, more))


def _measurement_cursor(items: list[MeasurementRead], more: bool) -> str | None:
    """The cursor after the last of ``items`` when more follow."""
    if not (more and items):
        return None
    return encode_cursor({"on": items[-1].measured_on.isoformat(), "id": str(items[-1].id)})


@router.get(
    "/measurements-by-objective",
    response_model=ObjectiveMeasurementPages,
    tags=[TAG],
    summary="The first page of measurements of many AI objectives at once",
)
async def measurements_by_objective(
    principal: Reader,
    session: TenantSession,
    objective_id: Annotated[
        list[uuid.UUID],
        Query(min_length=1, max_length=100, description="The objectives (1–100)"),
    ],
    limit: Annotated[int, Query(ge=1, le=100, description="Measurements per objective")] = 50,
    since: Annotated[date | None, Query(description="Measured on or after this day")] = None,
    until: Annotated[date | None, Query(description="Measured on or before this day")] = None,
) -> ObjectiveMeasurementPages:
    """For each objective asked that exists, in the order asked (each once): the first page
    `/v1/objectives/{id}/measurements` would answer with the same `limit`, `since` and `until`
    (oldest first) and its `next_cursor`, which pages on at that endpoint. A page of objectives
    with their measurements costs one call."""
    pages = await service.measurements_by_objective(
        session, objective_id, limit=limit, since=since, until=until
    )
    return ObjectiveMeasurementPages(
        items=[
            ObjectiveMeasurementPage(
                objective_id=i, items=items, next_cursor=_measurement_cursor(items, more)
            )
            for i, items, more in pages
        ]
    )


@router.get(
    "/objective-measurements",
    response_model=ObjectiveMeasurementsList,
    tags=[TAG],
    summary="The latest measurements of many AI objectives at once",
)
async def latest_measurements(
    principal: Reader,
    session: TenantSession,
    objective_id: Annotated[
        list[uuid.UUID],
        Query(min_length=1, max_length=100, description="The objectives (1–100)"),
    ],
    last: Annotated[int, Query(ge=1, le=100, description="How many of each, latest")] = 10,
) -> ObjectiveMeasurementsList:
    """For each objective asked that exists, in the order asked: its latest `last`
    measurements in time order and its `total_count`. A dashboard's page of objectives with
    their trend costs one call; page through one objective's history with
    `/v1/objectives/{id}/measurements`."""
    return await service.latest_measurements(session, objective_id, last=last)
