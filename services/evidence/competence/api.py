"""REST routes of the evidence service's competence domain (ISO/IEC 42001 7.2, 7.3; ``/v1``).

Readers: every role, the auditor included. Writers: editors. Deletes: admins and managers.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse

from services.evidence.competence import service
from services.evidence.competence.schemas import (
    AIMSRoleCreate,
    AIMSRolePage,
    AIMSRoleRead,
    AIMSRoleUpdate,
    AssignmentCreate,
    AssignmentPage,
    AssignmentRead,
    AwarenessRead,
    CompetenceCreate,
    CompetencePage,
    CompetenceRead,
    CompetenceUpdate,
    PersonCreate,
    PersonPage,
    PersonRead,
    PersonUpdate,
    RoleGapPage,
    TrainingCreate,
    TrainingPage,
    TrainingRead,
    TrainingUpdate,
)
from services.evidence.config import EvidenceSettings
from shared.auth import APPROVERS, EDITORS, READERS, Principal, require_roles
from shared.http import (
    Idempotency,
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
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read")]
Ids = Annotated[
    list[uuid.UUID] | None,
    Query(description="Fetch these (batch; at most 500)", max_length=500),
]

PROBLEM: dict[str, Any] = {"model": None, "content": {"application/problem+json": {}}}
PEOPLE, COMPETENCES, ROLES, TRAININGS, REPORTS = (
    "people",
    "competences",
    "aims-roles",
    "trainings",
    "competence",
)


def _expiring_days(request: Request) -> int:
    settings = request.app.state.ctx.settings
    return settings.training_expiring_days if isinstance(settings, EvidenceSettings) else 30


ExpiringDays = Annotated[int, Depends(_expiring_days)]


async def _created(
    idem: Idempotency, session: Any, principal: Principal, state: Any, location: str
) -> JSONResponse:
    return await idem.created(session, principal, state, version=state.version, location=location)


# --- People -----------------------------------------------------------------------------------


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonRead,
    tags=[PEOPLE],
    summary="Record a person (no login; people are records, not users)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_person(
    body: PersonCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """The e-mail (compared ignoring case) and the HR reference are unique per organisation
    when given (409). Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_person(session, principal, body)
    return await _created(idem, session, principal, created, f"/v1/people/{created.id}")


@router.get("/people", response_model=PersonPage, tags=[PEOPLE], summary="List people")
async def list_people(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    department: Annotated[Name | None, Query(description="Exactly this department")] = None,
    active: bool | None = None,
) -> PersonPage:
    items, fetched = await service.list_people(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        department=department,
        active=active,
    )
    return PersonPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/people/{person_id}",
    response_model=PersonRead,
    tags=[PEOPLE],
    summary="Read one person",
    responses={404: PROBLEM},
)
async def get_person(
    person_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> PersonRead:
    person = await service.get_person(session, person_id)
    set_etag(response, person.version)
    return person


@router.patch(
    "/people/{person_id}",
    response_model=PersonRead,
    tags=[PEOPLE],
    summary="Change a person (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_person(
    person_id: uuid.UUID,
    body: PersonUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> PersonRead:
    """`active: false` when someone leaves: they then hold no role and count in no coverage,
    and their trainings stay on record."""
    updated = await service.update_person(session, principal, person_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/people/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=[PEOPLE],
    summary="Delete a person without trainings or role assignments (admins, managers)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_person(
    person_id: uuid.UUID, principal: Approver, session: TenantSession, if_match: IfMatch = None
) -> Response:
    """409 while the person has trainings or role assignments on record (the evidence of
    competence); deactivate them instead."""
    await service.delete_person(session, principal, person_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/people/{person_id}/trainings",
    response_model=TrainingPage,
    tags=[PEOPLE, TRAININGS],
    summary="A person's trainings",
    responses={404: PROBLEM},
)
async def list_person_trainings(
    person_id: uuid.UUID, principal: Reader, session: TenantSession, paging: Paging
) -> TrainingPage:
    items, fetched = await service.trainings_of_person(
        session, person_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return TrainingPage(items=items, next_cursor=next_cursor(items, fetched, paging))


# --- Competences ------------------------------------------------------------------------------


@router.post(
    "/competences",
    status_code=status.HTTP_201_CREATED,
    response_model=CompetenceRead,
    tags=[COMPETENCES],
    summary="Add a competence or awareness topic to the catalogue",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_competence(
    body: CompetenceCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Names are unique per organisation, compared ignoring case and accents' Unicode form
    ("Équipe" = "équipe"): 409. `awareness: true` makes it a topic every active person must hold
    (7.3). Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_competence(session, principal, body)
    return await _created(idem, session, principal, created, f"/v1/competences/{created.id}")


@router.get(
    "/competences", response_model=CompetencePage, tags=[COMPETENCES], summary="List competences"
)
async def list_competences(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    awareness: Annotated[bool | None, Query(description="Only awareness topics, or none")] = None,
) -> CompetencePage:
    items, fetched = await service.list_competences(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        awareness=awareness,
    )
    return CompetencePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/competences/{competence_id}",
    response_model=CompetenceRead,
    tags=[COMPETENCES],
    summary="Read one competence",
    responses={404: PROBLEM},
)
async def get_competence(
    competence_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> CompetenceRead:
    competence = await service.get_competence(session, competence_id)
    set_etag(response, competence.version)
    return competence


@router.patch(
    "/competences/{competence_id}",
    response_model=CompetenceRead,
    tags=[COMPETENCES],
    summary="Change a competence (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_competence(
    competence_id: uuid.UUID,
    body: CompetenceUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> CompetenceRead:
    """A new `validity_months` applies to trainings recorded (or re-dated) afterwards."""
    updated = await service.update_competence(session, principal, competence_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/competences/{competence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=[COMPETENCES],
    summary="Delete an unused competence (admins, managers)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_competence(
    competence_id: uuid.UUID, principal: Approver, session: TenantSession, if_match: IfMatch = None
) -> Response:
    """409 while a role requires it or a training gives it."""
    await service.delete_competence(session, principal, competence_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- AIMS roles -------------------------------------------------------------------------------


@router.post(
    "/aims-roles",
    status_code=status.HTTP_201_CREATED,
    response_model=AIMSRoleRead,
    tags=[ROLES],
    summary="Define an AIMS role and the competences it requires",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_aims_role(
    body: AIMSRoleCreate, principal: Editor, session: TenantSession, idem: IdempotencyDep
) -> Response:
    """Names are unique per organisation, compared ignoring case. Send `Idempotency-Key` to make
    retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.create_role(session, principal, body)
    return await _created(idem, session, principal, created, f"/v1/aims-roles/{created.id}")


@router.get("/aims-roles", response_model=AIMSRolePage, tags=[ROLES], summary="List AIMS roles")
async def list_aims_roles(
    principal: Reader, session: TenantSession, paging: Paging, id: Ids = None
) -> AIMSRolePage:
    items, fetched = await service.list_roles(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    return AIMSRolePage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/aims-roles/{role_id}",
    response_model=AIMSRoleRead,
    tags=[ROLES],
    summary="Read one AIMS role, its required competences and today's holders",
    responses={404: PROBLEM},
)
async def get_aims_role(
    role_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> AIMSRoleRead:
    role = await service.get_role(session, role_id)
    set_etag(response, role.version)
    return role


@router.patch(
    "/aims-roles/{role_id}",
    response_model=AIMSRoleRead,
    tags=[ROLES],
    summary="Change an AIMS role (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_aims_role(
    role_id: uuid.UUID,
    body: AIMSRoleUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> AIMSRoleRead:
    """`required_competence_ids` replaces the whole set."""
    updated = await service.update_role(session, principal, role_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/aims-roles/{role_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=[ROLES],
    summary="Delete an AIMS role no one holds (admins, managers)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 428: PROBLEM},
)
async def delete_aims_role(
    role_id: uuid.UUID, principal: Approver, session: TenantSession, if_match: IfMatch = None
) -> Response:
    """409 while someone holds the role (today or from a later date)."""
    await service.delete_role(session, principal, role_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/aims-roles/{role_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentRead,
    tags=[ROLES],
    summary="Assign a person to an AIMS role",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def assign_aims_role(
    role_id: uuid.UUID,
    body: AssignmentCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
) -> Response:
    """`since` defaults to today; `until` (inclusive) is open when null. 409 when the person
    already holds the role in that period. Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    assignment, role = await service.assign(session, principal, role_id, body)
    return await idem.created(
        session,
        principal,
        assignment,
        version=role.version,
        location=f"/v1/aims-roles/{role_id}/assignments?person_id={assignment.person_id}",
    )


@router.get(
    "/aims-roles/{role_id}/assignments",
    response_model=AssignmentPage,
    tags=[ROLES],
    summary="Who holds and held an AIMS role",
    responses={404: PROBLEM},
)
async def list_aims_role_assignments(
    role_id: uuid.UUID,
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    person_id: uuid.UUID | None = None,
) -> AssignmentPage:
    items, fetched = await service.list_assignments(
        session, role_id, limit=paging.limit, after=cursor_after_id(paging), person_id=person_id
    )
    return AssignmentPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/aims-role-assignments",
    response_model=AssignmentPage,
    tags=[ROLES],
    summary="Who holds and held several AIMS roles (for DataLoaders), oldest first",
    responses={400: PROBLEM},
)
async def list_assignments_of_roles(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    role_id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=100)],
) -> AssignmentPage:
    """The assignments of every role asked (1–100), in one list; a role unknown in your
    organisation has none."""
    items, fetched = await service.list_assignments_of_roles(
        session, role_id, limit=paging.limit, after=cursor_after_id(paging)
    )
    return AssignmentPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.delete(
    "/aims-roles/{role_id}/assignments/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=[ROLES],
    summary="End a person's assignment to an AIMS role",
    responses={404: PROBLEM},
)
async def unassign_aims_role(
    role_id: uuid.UUID, person_id: uuid.UUID, principal: Editor, session: TenantSession
) -> Response:
    """The assignment ends yesterday and stays on record (removed outright if it only began
    today or later)."""
    await service.unassign(session, principal, role_id, person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- Trainings --------------------------------------------------------------------------------


@router.post(
    "/trainings",
    status_code=status.HTTP_201_CREATED,
    response_model=TrainingRead,
    tags=[TRAININGS],
    summary="Record a completed training or qualification",
    responses={422: PROBLEM},
)
async def record_training(
    body: TrainingCreate,
    principal: Editor,
    session: TenantSession,
    idem: IdempotencyDep,
    expiring_days: ExpiringDays,
) -> Response:
    """`expires_at` (the first day it is no longer valid) defaults to `completed_at` plus the
    competence's `validity_months`. Only an `effective` evaluation gives the competence.
    Send `Idempotency-Key` to make retries safe."""
    if (replayed := await idem.replay(session, principal)) is not None:
        return replayed
    created = await service.record_training(session, principal, body, expiring_days=expiring_days)
    return await _created(idem, session, principal, created, f"/v1/trainings/{created.id}")


@router.get("/trainings", response_model=TrainingPage, tags=[TRAININGS], summary="List trainings")
async def list_trainings(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    id: Ids = None,
    person_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
    competence_id: Annotated[list[uuid.UUID] | None, Query(max_length=500)] = None,
    expiring_before: Annotated[
        date | None, Query(description="Only those with an expiry date before this day")
    ] = None,
) -> TrainingPage:
    items, fetched = await service.list_trainings(
        session,
        limit=paging.limit,
        after=cursor_after_id(paging),
        ids=id or [],
        person_ids=person_id or [],
        competence_ids=competence_id or [],
        expiring_before=expiring_before,
    )
    return TrainingPage(items=items, next_cursor=next_cursor(items, fetched, paging))


@router.get(
    "/trainings/{training_id}",
    response_model=TrainingRead,
    tags=[TRAININGS],
    summary="Read one training",
    responses={404: PROBLEM},
)
async def get_training(
    training_id: uuid.UUID, principal: Reader, session: TenantSession, response: Response
) -> TrainingRead:
    training = await service.get_training(session, training_id)
    set_etag(response, training.version)
    return training


@router.patch(
    "/trainings/{training_id}",
    response_model=TrainingRead,
    tags=[TRAININGS],
    summary="Record the evaluation of effectiveness, or correct a training (send If-Match)",
    responses={404: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def update_training(
    training_id: uuid.UUID,
    body: TrainingUpdate,
    principal: Editor,
    session: TenantSession,
    response: Response,
    expiring_days: ExpiringDays,
    if_match: IfMatch = None,
) -> TrainingRead:
    """New dates move the expiry notices. The scheduler's notices bump the version too."""
    updated = await service.update_training(
        session, principal, training_id, body, if_match, expiring_days=expiring_days
    )
    set_etag(response, updated.version)
    return updated


# --- Gaps and awareness -----------------------------------------------------------------------


@router.get(
    "/competence/gaps",
    response_model=RoleGapPage,
    tags=[REPORTS],
    summary="Roles whose holders lack a required competence, or that no one holds (7.2)",
)
async def competence_gaps(
    principal: Reader, session: TenantSession, paging: Paging, id: Ids = None
) -> RoleGapPage:
    """Each page scans `limit` roles (by id) and lists those with a gap, so a page may hold
    fewer items than `limit`: follow `next_cursor` until it is null. Reasons:
    `never_trained`, `expired` (with `expired_on`), `evaluated_not_effective`,
    `evaluated_partially_effective`, `evaluation_pending`, `completed_in_future`."""
    items, fetched = await service.gaps(
        session, limit=paging.limit, after=cursor_after_id(paging), ids=id or []
    )
    cursor = next_cursor(fetched[: paging.limit], fetched, paging)
    return RoleGapPage(as_of=service.today(), items=items, next_cursor=cursor)


@router.get(
    "/competence/awareness",
    response_model=AwarenessRead,
    tags=[REPORTS],
    summary="Awareness coverage by department (7.3)",
)
async def competence_awareness(
    principal: Reader,
    session: TenantSession,
    department: Annotated[Name | None, Query(description="Only this department")] = None,
) -> AwarenessRead:
    """Active people holding every awareness topic ÷ active people, per department (`null`:
    people without one), with who misses which topic and why."""
    return await service.awareness(session, department=department)
