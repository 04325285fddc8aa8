"""Competence and awareness use cases. Services flush, never commit: the request owns the
transaction, so each change, its timers and its outbox event commit together or not at all.

"Today" is the UTC date everywhere in this domain, as it is for the scheduler.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.competence import rules
from services.evidence.competence.errors import (
    AIMSRoleNotFound,
    AlreadyAssigned,
    AssignmentNotFound,
    CompetenceNotFound,
    EmailTaken,
    ExternalRefTaken,
    InvalidPeriod,
    InvalidTrainingDates,
    NameTaken,
    PersonNotFound,
    StillReferenced,
    TrainingNotFound,
    UnknownReference,
)
from services.evidence.competence.events import (
    AIMS_ROLE_CHANGED,
    COMPETENCE_CHANGED,
    PERSON_CREATED,
    PERSON_DELETED,
    PERSON_UPDATED,
    TRAINING_EVALUATED,
    TRAINING_RECORDED,
)
from services.evidence.competence.models import (
    AIMSRole,
    Competence,
    Person,
    RoleAssignment,
    Training,
    fold,
)
from services.evidence.competence.repository import CompetenceRepository
from services.evidence.competence.schemas import (
    AIMSRoleCreate,
    AIMSRoleRead,
    AIMSRoleUpdate,
    AssignmentCreate,
    AssignmentRead,
    AwarenessRead,
    CompetenceCreate,
    CompetenceRead,
    CompetenceUpdate,
    DepartmentAwareness,
    HolderGap,
    MissingTopic,
    PersonCreate,
    PersonMissingAwareness,
    PersonRead,
    PersonUpdate,
    RoleGap,
    TrainingCreate,
    TrainingRead,
    TrainingUpdate,
)
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version
from shared.scheduler import set_timer

TIMER_EXPIRING = "competence.training.expiring"
TIMER_EXPIRED = "competence.training.expired"

# The unique indexes and the errors a violation of each means.
_UNIQUE: dict[str, tuple[type[Exception], str]] = {
    "uq_person_org_email": (EmailTaken, "Another person has this e-mail address."),
    "uq_person_org_external_ref": (ExternalRefTaken, "Another person has this HR reference."),
    "uq_competence_org_name": (NameTaken, "A competence with this name exists."),
    "uq_aims_role_org_name": (NameTaken, "An AIMS role with this name exists."),
    "uq_aims_role_assignment_open": (AlreadyAssigned, "The person already holds this role."),
}


def today() -> date:
    return utcnow().date()


async def _flush_unique(session: AsyncSession) -> None:
    """Flush, turning a unique violation (a concurrent create of the same name) into its 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except sa.exc.IntegrityError as exc:
        for constraint, (error, message) in _UNIQUE.items():
            if constraint in str(exc.orig):
                raise error(message) from exc
        raise


async def _emit(
    session: AsyncSession, event_type: EventType, org_id: uuid.UUID, subject: uuid.UUID, state: Any
) -> None:
    await emit(
        session,
        make_event(event_type, org_id=org_id, subject=subject, version=state.version, data=state),
    )


def _unknown(field: str, what: str, ids: Sequence[uuid.UUID]) -> UnknownReference:
    listed = ", ".join(str(i) for i in ids[:10])
    return UnknownReference(
        f"No {what} {listed} in your organisation.",
        errors=[
            {
                "location": ["body", field],
                "message": f"No such {what} in your organisation.",
                "type": "unknown_reference",
            }
        ],
    )


def _touch(row: Person | Competence | AIMSRole | Training, principal: Principal) -> None:
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = principal.subject


# --- People -----------------------------------------------------------------------------------


async def _person(
    repo: CompetenceRepository, person_id: uuid.UUID, *, for_update: bool = False
) -> Person:
    row = await repo.get(Person, person_id, for_update=for_update)
    if row is None:
        raise PersonNotFound(f"No person {person_id} in your organisation.")
    return row


async def _check_person_unique(
    repo: CompetenceRepository,
    email_key: str | None,
    ref_key: str | None,
    own_id: uuid.UUID | None = None,
) -> None:
    if email_key is not None:
        other = await repo.person_with_email(email_key)
        if other is not None and other != own_id:
            raise EmailTaken(f"Person {other} has this e-mail address.")
    if ref_key is not None:
        other = await repo.person_with_external_ref(ref_key)
        if other is not None and other != own_id:
            raise ExternalRefTaken(f"Person {other} has this HR reference.")


async def create_person(
    session: AsyncSession, principal: Principal, body: PersonCreate
) -> PersonRead:
    repo = CompetenceRepository(session)
    email_key = fold(body.email) if body.email else None
    ref_key = fold(body.external_ref) if body.external_ref else None
    await _check_person_unique(repo, email_key, ref_key)
    now = utcnow()
    row = Person(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        email_key=email_key,
        external_ref_key=ref_key,
        **body.model_dump(),
    )
    repo.add(row)
    await _flush_unique(session)
    state = PersonRead.model_validate(row)
    await _emit(session, PERSON_CREATED, row.org_id, row.id, state)
    return state


async def get_person(session: AsyncSession, person_id: uuid.UUID) -> PersonRead:
    return PersonRead.model_validate(await _person(CompetenceRepository(session), person_id))


async def list_people(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID],
    department: str | None,
    active: bool | None,
) -> tuple[list[PersonRead], list[Person]]:
    rows = await CompetenceRepository(session).people(
        limit=limit + 1, after=after, ids=ids, department=department, active=active
    )
    return [PersonRead.model_validate(r) for r in rows[:limit]], rows


async def update_person(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    body: PersonUpdate,
    if_match: str | None,
) -> PersonRead:
    repo = CompetenceRepository(session)
    row = await _person(repo, person_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return PersonRead.model_validate(row)
    if "email" in changes:
        row.email_key = fold(changes["email"]) if changes["email"] else None
    if "external_ref" in changes:
        ref = changes["external_ref"]
        row.external_ref_key = fold(ref) if ref else None
    await _check_person_unique(repo, row.email_key, row.external_ref_key, own_id=row.id)
    activity_changed = "active" in changes and changes["active"] != row.active
    for name, value in changes.items():
        setattr(row, name, value)
    _touch(row, principal)
    await _flush_unique(session)
    state = PersonRead.model_validate(row)
    await _emit(session, PERSON_UPDATED, row.org_id, row.id, state)
    if activity_changed:
        # Only active people hold roles: the holders of each of their roles changed.
        for role_id in await repo.roles_of_person_in_force(row.id, today()):
            role = await _role(repo, role_id, for_update=True)
            _touch(role, principal)
            await _emit_role(repo, role)
    return state


async def delete_person(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, if_match: str | None
) -> None:
    """Refused while the person has trainings or role assignments: those are the evidence of
    competence (7.2 d); deactivate the person instead (``active: false``)."""
    repo = CompetenceRepository(session)
    row = await _person(repo, person_id, for_update=True)
    check_version(if_match, row.version)
    trainings = await repo.count_trainings_of_person(person_id)
    assignments = await repo.count_assignments_of_person(person_id)
    if trainings or assignments:
        raise StillReferenced(
            f"The person has {trainings} training(s) and {assignments} role assignment(s) on "
            "record; set `active: false` instead, so the evidence of competence is kept.",
            trainings=trainings,
            assignments=assignments,
        )
    # One version past the last, so that consumers applying "only if newer" take the deletion.
    state = PersonRead.model_validate(row).model_copy(update={"version": row.version + 1})
    await repo.delete(row)
    await session.flush()
    await _emit(session, PERSON_DELETED, row.org_id, row.id, state)


# --- Competences ------------------------------------------------------------------------------


async def _competence(
    repo: CompetenceRepository, competence_id: uuid.UUID, *, for_update: bool = False
) -> Competence:
    row = await repo.get(Competence, competence_id, for_update=for_update)
    if row is None:
        raise CompetenceNotFound(f"No competence {competence_id} in your organisation.")
    return row


async def create_competence(
    session: AsyncSession, principal: Principal, body: CompetenceCreate
) -> CompetenceRead:
    repo = CompetenceRepository(session)
    key = fold(body.name)
    if (other := await repo.competence_named(key)) is not None:
        raise NameTaken(f"Competence {other} has this name (names are compared ignoring case).")
    now = utcnow()
    row = Competence(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        name_key=key,
        **body.model_dump(),
    )
    repo.add(row)
    await _flush_unique(session)
    state = CompetenceRead.model_validate(row)
    await _emit(session, COMPETENCE_CHANGED, row.org_id, row.id, state)
    return state


async def get_competence(session: AsyncSession, competence_id: uuid.UUID) -> CompetenceRead:
    row = await _competence(CompetenceRepository(session), competence_id)
    return CompetenceRead.model_validate(row)


async def list_competences(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID],
    awareness: bool | None,
) -> tuple[list[CompetenceRead], list[Competence]]:
    rows = await CompetenceRepository(session).competences(
        limit=limit + 1, after=after, ids=ids, awareness=awareness
    )
    return [CompetenceRead.model_validate(r) for r in rows[:limit]], rows


async def update_competence(
    session: AsyncSession,
    principal: Principal,
    competence_id: uuid.UUID,
    body: CompetenceUpdate,
    if_match: str | None,
) -> CompetenceRead:
    repo = CompetenceRepository(session)
    row = await _competence(repo, competence_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return CompetenceRead.model_validate(row)
    if "name" in changes:
        key = fold(changes["name"])
        other = await repo.competence_named(key)
        if other is not None and other != row.id:
            raise NameTaken(f"Competence {other} has this name (names are compared ignoring case).")
        row.name_key = key
    for name, value in changes.items():
        setattr(row, name, value)
    _touch(row, principal)
    await _flush_unique(session)
    state = CompetenceRead.model_validate(row)
    await _emit(session, COMPETENCE_CHANGED, row.org_id, row.id, state)
    return state


async def delete_competence(
    session: AsyncSession, principal: Principal, competence_id: uuid.UUID, if_match: str | None
) -> None:
    """Refused while a role requires it or a training gives it."""
    repo = CompetenceRepository(session)
    row = await _competence(repo, competence_id, for_update=True)
    check_version(if_match, row.version)
    roles = await repo.roles_requiring(competence_id)
    trainings = await repo.count_trainings_of_competence(competence_id)
    if roles or trainings:
        raise StillReferenced(
            f"{len(roles)} AIMS role(s) require this competence and {trainings} training(s) "
            "give it.",
            role_ids=[str(r) for r in roles],
            trainings=trainings,
        )
    await repo.delete(row)
    await session.flush()


# --- AIMS roles -------------------------------------------------------------------------------


async def _role(
    repo: CompetenceRepository, role_id: uuid.UUID, *, for_update: bool = False
) -> AIMSRole:
    row = await repo.get(AIMSRole, role_id, for_update=for_update)
    if row is None:
        raise AIMSRoleNotFound(f"No AIMS role {role_id} in your organisation.")
    return row


async def _role_states(
    repo: CompetenceRepository, rows: Sequence[AIMSRole], *, deleted: bool = False
) -> list[AIMSRoleRead]:
    ids = [r.id for r in rows]
    required = await repo.required_competences(ids)
    holders = await repo.current_holders(ids, today())
    return [
        AIMSRoleRead(
            id=r.id,
            org_id=r.org_id,
            name=r.name,
            description=r.description,
            responsibilities=r.responsibilities,
            required_competence_ids=required[r.id],
            holder_ids=holders[r.id],
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
            created_by=r.created_by,
            updated_by=r.updated_by,
            deleted=deleted,
        )
        for r in rows
    ]


async def _emit_role(repo: CompetenceRepository, row: AIMSRole) -> AIMSRoleRead:
    await repo.session.flush()
    [state] = await _role_states(repo, [row])
    await _emit(repo.session, AIMS_ROLE_CHANGED, row.org_id, row.id, state)
    return state


async def _require_competences(repo: CompetenceRepository, ids: Sequence[uuid.UUID]) -> None:
    wanted = list(dict.fromkeys(ids))
    missing = [i for i in wanted if i not in await repo.existing_ids(Competence, wanted)]
    if missing:
        raise _unknown("required_competence_ids", "competence", missing)


async def create_role(
    session: AsyncSession, principal: Principal, body: AIMSRoleCreate
) -> AIMSRoleRead:
    repo = CompetenceRepository(session)
    key = fold(body.name)
    if (other := await repo.role_named(key)) is not None:
        raise NameTaken(f"AIMS role {other} has this name (names are compared ignoring case).")
    await _require_competences(repo, body.required_competence_ids)
    now = utcnow()
    row = AIMSRole(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        name=body.name,
        name_key=key,
        description=body.description,
        responsibilities=body.responsibilities,
    )
    repo.add(row)
    await _flush_unique(session)
    await repo.set_required_competences(row.org_id, row.id, body.required_competence_ids)
    return await _emit_role(repo, row)


async def get_role(session: AsyncSession, role_id: uuid.UUID) -> AIMSRoleRead:
    repo = CompetenceRepository(session)
    [state] = await _role_states(repo, [await _role(repo, role_id)])
    return state


async def list_roles(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID]
) -> tuple[list[AIMSRoleRead], list[AIMSRole]]:
    repo = CompetenceRepository(session)
    rows = await repo.roles(limit=limit + 1, after=after, ids=ids)
    return await _role_states(repo, rows[:limit]), rows


async def update_role(
    session: AsyncSession,
    principal: Principal,
    role_id: uuid.UUID,
    body: AIMSRoleUpdate,
    if_match: str | None,
) -> AIMSRoleRead:
    repo = CompetenceRepository(session)
    row = await _role(repo, role_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        [state] = await _role_states(repo, [row])
        return state
    if "name" in changes:
        key = fold(changes["name"])
        other = await repo.role_named(key)
        if other is not None and other != row.id:
            raise NameTaken(f"AIMS role {other} has this name (names are compared ignoring case).")
        row.name, row.name_key = changes["name"], key
    for name in ("description", "responsibilities"):
        if name in changes:
            setattr(row, name, changes[name])
    if "required_competence_ids" in changes:
        await _require_competences(repo, body.required_competence_ids or [])
        await repo.set_required_competences(row.org_id, row.id, body.required_competence_ids or [])
    _touch(row, principal)
    await _flush_unique(session)
    return await _emit_role(repo, row)


async def delete_role(
    session: AsyncSession, principal: Principal, role_id: uuid.UUID, if_match: str | None
) -> None:
    """Refused while someone holds the role (today or from a later date): end the assignments
    first, so that removing a role is a deliberate act. Past assignments go with the role."""
    repo = CompetenceRepository(session)
    row = await _role(repo, role_id, for_update=True)
    check_version(if_match, row.version)
    holders = (await repo.current_holders([role_id], today(), active_only=False))[role_id]
    if holders:
        raise StillReferenced(
            f"{len(holders)} person(s) hold this role; end their assignments first.",
            holder_ids=[str(h) for h in holders],
        )
    [state] = await _role_states(repo, [row], deleted=True)
    state = state.model_copy(update={"version": row.version + 1})
    await repo.delete(row)
    await session.flush()
    await _emit(session, AIMS_ROLE_CHANGED, row.org_id, row.id, state)


# --- Role assignments -------------------------------------------------------------------------


def _assignment_read(row: RoleAssignment, on: date) -> AssignmentRead:
    current = row.since <= on and (row.until is None or on <= row.until)
    return AssignmentRead(
        id=row.id,
        role_id=row.role_id,
        person_id=row.person_id,
        since=row.since,
        until=row.until,
        current=current,
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def assign(
    session: AsyncSession, principal: Principal, role_id: uuid.UUID, body: AssignmentCreate
) -> tuple[AssignmentRead, AIMSRoleRead]:
    repo = CompetenceRepository(session)
    role = await _role(repo, role_id, for_update=True)
    if await repo.get(Person, body.person_id) is None:
        raise _unknown("person_id", "person", [body.person_id])
    since = body.since or today()
    if body.until is not None and body.until < since:
        raise InvalidPeriod(
            "`until` must not be before `since` (today by default).",
            errors=[
                {
                    "location": ["body", "until"],
                    "message": "must not be before since",
                    "type": "date_order",
                }
            ],
        )
    if await repo.overlapping_assignment(role_id, body.person_id, since, body.until) is not None:
        raise AlreadyAssigned("The person already holds this role in that period.")
    row = RoleAssignment(
        id=uuid7(),
        org_id=principal.org_id,
        role_id=role_id,
        person_id=body.person_id,
        since=since,
        until=body.until,
        created_by=principal.subject,
        created_at=utcnow(),
    )
    repo.add(row)
    _touch(role, principal)
    await _flush_unique(session)
    return _assignment_read(row, today()), await _emit_role(repo, role)


async def unassign(
    session: AsyncSession, principal: Principal, role_id: uuid.UUID, person_id: uuid.UUID
) -> AIMSRoleRead:
    """End the person's assignment to the role: it ends yesterday (kept on record), or is removed
    when it had not begun before today."""
    repo = CompetenceRepository(session)
    role = await _role(repo, role_id, for_update=True)
    now = today()
    rows = await repo.assignment_in_force(role_id, person_id, now)
    if not rows:
        raise AssignmentNotFound(f"Person {person_id} does not hold AIMS role {role_id}.")
    for row in rows:
        if row.since < now:
            row.until = now - timedelta(days=1)
        else:
            await repo.delete(row)
    _touch(role, principal)
    return await _emit_role(repo, role)


async def list_assignments_of_roles(
    session: AsyncSession, role_ids: Sequence[uuid.UUID], *, limit: int, after: uuid.UUID | None
) -> tuple[list[AssignmentRead], list[RoleAssignment]]:
    """The assignments of several roles, oldest first; unknown roles simply have none."""
    rows = await CompetenceRepository(session).assignments_of_roles(
        role_ids, limit=limit + 1, after=after
    )
    now = today()
    return [_assignment_read(r, now) for r in rows[:limit]], rows


async def list_assignments(
    session: AsyncSession,
    role_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
    person_id: uuid.UUID | None,
) -> tuple[list[AssignmentRead], list[RoleAssignment]]:
    repo = CompetenceRepository(session)
    await _role(repo, role_id)
    rows = await repo.assignments(role_id, limit=limit + 1, after=after, person_id=person_id)
    now = today()
    return [_assignment_read(r, now) for r in rows[:limit]], rows


# --- Trainings --------------------------------------------------------------------------------


def _facts(row: Training) -> rules.TrainingFacts:
    return rules.TrainingFacts(
        person_id=row.person_id,
        competence_id=row.competence_id,
        completed_at=row.completed_at,
        expires_at=row.expires_at,
        result=row.evaluation_result,
    )


def training_read(row: Training) -> TrainingRead:
    return TrainingRead.model_validate(
        {
            **{name: getattr(row, name) for name in TrainingRead.model_fields if name != "valid"},
            "valid": rules.is_valid_on(_facts(row), today()),
        }
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def _arm_timers(session: AsyncSession, row: Training, expiring_days: int) -> None:
    """The expiry notices of ``row``: ``training.expiring`` ``expiring_days`` before
    ``expires_at`` and ``training.expired`` on it (at 00:00 UTC of each day)."""
    expires = row.expires_at
    await set_timer(
        session,
        org_id=row.org_id,
        kind=TIMER_EXPIRING,
        entity_id=row.id,
        due_at=_midnight(expires - timedelta(days=expiring_days)) if expires else None,
    )
    await set_timer(
        session,
        org_id=row.org_id,
        kind=TIMER_EXPIRED,
        entity_id=row.id,
        due_at=_midnight(expires) if expires else None,
    )


async def _training(
    repo: CompetenceRepository, training_id: uuid.UUID, *, for_update: bool = False
) -> Training:
    row = await repo.get(Training, training_id, for_update=for_update)
    if row is None:
        raise TrainingNotFound(f"No training {training_id} in your organisation.")
    return row


def _check_dates(completed_at: date, expires_at: date | None) -> None:
    if completed_at > today():
        raise InvalidTrainingDates(
            f"completed_at {completed_at} is in the future; record a training once completed.",
            errors=[
                {
                    "location": ["body", "completed_at"],
                    "message": "must not be in the future",
                    "type": "date_in_future",
                }
            ],
        )
    if expires_at is not None and expires_at <= completed_at:
        raise InvalidTrainingDates(
            "expires_at must be after completed_at.",
            errors=[
                {
                    "location": ["body", "expires_at"],
                    "message": "must be after completed_at",
                    "type": "date_order",
                }
            ],
        )


async def record_training(
    session: AsyncSession, principal: Principal, body: TrainingCreate, *, expiring_days: int
) -> TrainingRead:
    repo = CompetenceRepository(session)
    person = await repo.get(Person, body.person_id)
    if person is None:
        raise _unknown("person_id", "person", [body.person_id])
    competence = await repo.get(Competence, body.competence_id)
    if competence is None:
        raise _unknown("competence_id", "competence", [body.competence_id])
    expires_at = rules.derive_expiry(body.completed_at, competence.validity_months, body.expires_at)
    _check_dates(body.completed_at, expires_at)
    now = utcnow()
    row = Training(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        person_id=body.person_id,
        competence_id=body.competence_id,
        title=body.title,
        provider=body.provider,
        completed_at=body.completed_at,
        expires_at=expires_at,
        expires_at_explicit=body.expires_at is not None,
        evidence_item_id=body.evidence_item_id,
        evaluation_method=body.evaluation_method.value if body.evaluation_method else None,
        evaluation_result=body.evaluation_result.value,
        evaluated_at=body.evaluated_at,
        evaluated_by=body.evaluated_by,
        evaluation_notes=body.evaluation_notes,
    )
    repo.add(row)
    await session.flush()
    await _arm_timers(session, row, expiring_days)
    state = training_read(row)
    await _emit(session, TRAINING_RECORDED, row.org_id, row.id, state)
    return state


async def get_training(session: AsyncSession, training_id: uuid.UUID) -> TrainingRead:
    return training_read(await _training(CompetenceRepository(session), training_id))


async def list_trainings(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID] = (),
    person_ids: Sequence[uuid.UUID] = (),
    competence_ids: Sequence[uuid.UUID] = (),
    expiring_before: date | None = None,
) -> tuple[list[TrainingRead], list[Training]]:
    rows = await CompetenceRepository(session).trainings(
        limit=limit + 1,
        after=after,
        ids=ids,
        person_ids=person_ids,
        competence_ids=competence_ids,
        expiring_before=expiring_before,
    )
    return [training_read(r) for r in rows[:limit]], rows


async def trainings_of_person(
    session: AsyncSession, person_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
) -> tuple[list[TrainingRead], list[Training]]:
    await _person(CompetenceRepository(session), person_id)
    return await list_trainings(session, limit=limit, after=after, person_ids=[person_id])


async def update_training(
    session: AsyncSession,
    principal: Principal,
    training_id: uuid.UUID,
    body: TrainingUpdate,
    if_match: str | None,
    *,
    expiring_days: int,
) -> TrainingRead:
    repo = CompetenceRepository(session)
    row = await _training(repo, training_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return training_read(row)
    for name in (
        "title",
        "provider",
        "evidence_item_id",
        "evaluated_at",
        "evaluated_by",
        "evaluation_notes",
    ):
        if name in changes:
            setattr(row, name, changes[name])
    if "evaluation_method" in changes:
        method = body.evaluation_method
        row.evaluation_method = method.value if method else None
    if body.evaluation_result is not None:
        row.evaluation_result = body.evaluation_result.value
    if "completed_at" in changes or "expires_at" in changes:
        completed_at = body.completed_at or row.completed_at
        explicit = body.expires_at if "expires_at" in changes else None
        if "expires_at" not in changes and row.expires_at_explicit:
            explicit = row.expires_at
        competence = await _competence(repo, row.competence_id)
        expires_at = rules.derive_expiry(completed_at, competence.validity_months, explicit)
        _check_dates(completed_at, expires_at)
        if expires_at != row.expires_at:
            # A new expiry date: its notices are to be given again.
            row.expiring_notified_at = None
            row.expired_notified_at = None
        row.completed_at, row.expires_at = completed_at, expires_at
        row.expires_at_explicit = explicit is not None
    _touch(row, principal)
    await session.flush()
    await _arm_timers(session, row, expiring_days)
    state = training_read(row)
    await _emit(session, TRAINING_EVALUATED, row.org_id, row.id, state)
    return state


# --- Gaps (7.2) and awareness (7.3) -----------------------------------------------------------


async def gaps(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID] = ()
) -> tuple[list[RoleGap], list[AIMSRole]]:
    """Roles of the page (by id) that have a gap. The page scans ``limit`` roles, so it may hold
    fewer items than that; follow ``next_cursor`` until it is null."""
    repo = CompetenceRepository(session)
    now = today()
    rows = await repo.roles(limit=limit + 1, after=after, ids=ids)
    page = rows[:limit]
    role_ids = [r.id for r in page]
    required = await repo.required_competences(role_ids)
    holders = await repo.current_holders(role_ids, now)
    person_ids = list({p for hs in holders.values() for p in hs})
    competence_ids = list({c for cs in required.values() for c in cs})
    trainings = rules.index_trainings(
        _facts(t) for t in await repo.trainings_for(person_ids, competence_ids)
    )
    people = await repo.people_by_id(person_ids)
    competences = await repo.competences_by_id(competence_ids)
    out = []
    for role in page:
        result = rules.role_gaps(role.id, holders[role.id], required[role.id], trainings, now)
        if not result.is_gap:
            continue
        out.append(
            RoleGap(
                role_id=role.id,
                role_name=role.name,
                holder_count=len(result.holders),
                no_holders=result.unheld,
                detail="No one holds this role." if result.unheld else None,
                gaps=[
                    HolderGap(
                        person_id=m.person_id,
                        person_name=people[m.person_id].name,
                        competence_id=m.competence_id,
                        competence_name=competences[m.competence_id].name,
                        reason=m.status.reason or rules.GapReason.NEVER_TRAINED,
                        expired_on=m.status.expired_on,
                        detail=f"{people[m.person_id].name}: "
                        + m.status.describe(competences[m.competence_id].name),
                    )
                    for m in result.missing
                ],
            )
        )
    return out, rows


async def awareness(session: AsyncSession, *, department: str | None = None) -> AwarenessRead:
    repo = CompetenceRepository(session)
    now = today()
    topics = await repo.awareness_topics()
    people = [p for p in await repo.active_people() if department in (None, p.department)]
    topic_ids = [t.id for t in topics]
    trainings = rules.index_trainings(
        _facts(t) for t in await repo.trainings_for([p.id for p in people], topic_ids)
    )
    names = {p.id: p.name for p in people}
    topic_names = {t.id: t.name for t in topics}
    coverage = rules.awareness_coverage(
        [rules.PersonFacts(p.id, p.department, p.active) for p in people],
        topic_ids,
        trainings,
        now,
    )
    total = sum(c.people for c in coverage)
    covered = sum(c.covered for c in coverage)
    return AwarenessRead(
        as_of=now,
        topics=[CompetenceRead.model_validate(t) for t in topics],
        people=total,
        covered=covered,
        coverage=covered / total if total else 1.0,
        departments=[
            DepartmentAwareness(
                department=c.department,
                people=c.people,
                covered=c.covered,
                coverage=c.ratio,
                missing=[
                    PersonMissingAwareness(
                        person_id=person_id,
                        person_name=names[person_id],
                        missing=[
                            MissingTopic(
                                competence_id=topic,
                                competence_name=topic_names[topic],
                                reason=status.reason or rules.GapReason.NEVER_TRAINED,
                                expired_on=status.expired_on,
                            )
                            for topic, status in lacking
                        ],
                    )
                    for person_id, lacking in c.missing.items()
                ],
            )
            for c in coverage
        ],
    )
