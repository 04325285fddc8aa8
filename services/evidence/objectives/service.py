"""AI objectives use cases (6.2, 9.1). Services flush, never commit: the request owns the
transaction, so each change, its timer and its outbox events commit together or not at all.

"Today" is the UTC date, as it is for the scheduler.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.objectives import rules
from services.evidence.objectives.errors import (
    InvalidMeasurement,
    InvalidObjective,
    ObjectiveNotFound,
    ObjectiveWithdrawn,
)
from services.evidence.objectives.events import (
    OBJECTIVE_BACK_ON_TARGET,
    OBJECTIVE_CREATED,
    OBJECTIVE_MEASURED,
    OBJECTIVE_OFF_TARGET,
    OBJECTIVE_UPDATED,
)
from services.evidence.objectives.models import Objective, ObjectiveMeasurement
from services.evidence.objectives.repository import ObjectiveRepository
from services.evidence.objectives.schemas import (
    MeasurementCreate,
    MeasurementRead,
    ObjectiveCreate,
    ObjectiveMeasured,
    ObjectiveMeasurements,
    ObjectiveMeasurementsList,
    ObjectiveRead,
    ObjectiveUpdate,
)
from services.evidence.reference import clause_ids, control_ids
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version
from shared.scheduler import set_timer

TIMER_DUE = "objective.due"


def today() -> date:
    return utcnow().date()


def objective_read(row: Objective) -> ObjectiveRead:
    return ObjectiveRead.model_validate(row)


def measurement_read(row: ObjectiveMeasurement, objective: Objective) -> MeasurementRead:
    met = rules.on_target(row.value, objective.target_value, objective.direction)
    return MeasurementRead(
        id=row.id,
        objective_id=row.objective_id,
        value=row.value,
        measured_on=row.measured_on,
        note=row.note,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        on_target=bool(met),
    )


async def emit_state(session: AsyncSession, event_type: EventType, row: Objective) -> ObjectiveRead:
    state = objective_read(row)
    await emit(
        session,
        make_event(event_type, org_id=row.org_id, subject=row.id, version=row.version, data=state),
    )
    return state


async def arm_timer(session: AsyncSession, row: Objective) -> None:
    """The due-date timer fires the day after ``due_date`` while the objective is active."""
    await set_timer(
        session,
        org_id=row.org_id,
        kind=TIMER_DUE,
        entity_id=row.id,
        due_at=row.due_date if row.status == rules.ObjectiveStatus.ACTIVE else None,
    )


def _invalid(
    field: str,
    message: str,
    error: type[InvalidObjective | InvalidMeasurement] = InvalidObjective,
) -> Exception:
    return error(
        message,
        errors=[{"location": ["body", field], "message": message, "type": "value_error"}],
    )


def _canonical_clauses(values: Sequence[str]) -> list[str]:
    known = clause_ids()
    unknown = [v for v in values if v not in known]
    if unknown:
        raise _invalid("clauses", f"Unknown ISO/IEC 42001 clause id(s): {', '.join(unknown[:10])}.")
    return list(dict.fromkeys(values))


def _canonical_controls(values: Sequence[str]) -> list[str]:
    known = control_ids()
    out: list[str] = []
    unknown: list[str] = []
    for value in values:
        control = "A" + value[1:] if value[:1] in ("a", "A") else value
        (out if control in known else unknown).append(control)
    if unknown:
        raise _invalid("controls", f"Unknown Annex A control id(s): {', '.join(unknown[:10])}.")
    return list(dict.fromkeys(out))


async def _objective(
    repo: ObjectiveRepository, objective_id: uuid.UUID, *, for_update: bool = False
) -> Objective:
    row = await repo.get(objective_id, for_update=for_update)
    if row is None:
        raise ObjectiveNotFound(f"No objective {objective_id} in your organisation.")
    return row


def _touch(row: Objective, principal: Principal) -> None:
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = principal.subject


async def _announce_transition(session: AsyncSession, row: Objective, before: bool | None) -> None:
    moved = rules.transition(before, row.on_target)
    if moved is rules.Transition.OFF_TARGET:
        await emit_state(session, OBJECTIVE_OFF_TARGET, row)
    elif moved is rules.Transition.BACK_ON_TARGET:
        await emit_state(session, OBJECTIVE_BACK_ON_TARGET, row)


async def create_objective(
    session: AsyncSession, principal: Principal, body: ObjectiveCreate
) -> ObjectiveRead:
    now = utcnow()
    row = Objective(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        title=body.title,
        description=body.description,
        clauses=_canonical_clauses(body.clauses),
        controls=_canonical_controls(body.controls),
        measure=body.measure,
        unit=body.unit,
        target_value=body.target_value,
        direction=body.direction.value,
        baseline=body.baseline,
        owner=body.owner,
        due_date=body.due_date,
        status=rules.ObjectiveStatus.ACTIVE.value,
        status_changed_at=now,
        latest_value=None,
        latest_measured_on=None,
        on_target=None,
        measurement_count=0,
    )
    ObjectiveRepository(session).add(row)
    await session.flush()
    await arm_timer(session, row)
    return await emit_state(session, OBJECTIVE_CREATED, row)


async def get_objective(session: AsyncSession, objective_id: uuid.UUID) -> ObjectiveRead:
    return objective_read(await _objective(ObjectiveRepository(session), objective_id))


async def list_objectives(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID] = (),
    statuses: Sequence[str] = (),
    owner: str | None = None,
    off_target: bool | None = None,
    due_before: date | None = None,
) -> tuple[list[ObjectiveRead], list[Objective]]:
    rows = await ObjectiveRepository(session).page(
        limit=limit + 1,
        after=after,
        ids=ids,
        statuses=statuses,
        owner=owner,
        off_target=off_target,
        due_before=due_before,
    )
    return [objective_read(r) for r in rows[:limit]], rows


async def update_objective(
    session: AsyncSession,
    principal: Principal,
    objective_id: uuid.UUID,
    body: ObjectiveUpdate,
    if_match: str | None,
) -> ObjectiveRead:
    repo = ObjectiveRepository(session)
    row = await _objective(repo, objective_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return objective_read(row)
    for name in ("title", "description", "measure", "unit", "target_value", "baseline", "owner"):
        if name in changes:
            setattr(row, name, changes[name])
    if body.clauses is not None:
        row.clauses = _canonical_clauses(body.clauses)
    if body.controls is not None:
        row.controls = _canonical_controls(body.controls)
    if body.direction is not None:
        row.direction = body.direction.value
    if body.due_date is not None:
        row.due_date = body.due_date
    if body.status is not None and body.status.value != row.status:
        if body.status is rules.ObjectiveStatus.ACTIVE and row.due_date < today():
            raise _invalid(
                "due_date",
                f"The due date {row.due_date} has passed: send a new due_date (today or later) "
                "with status `active`.",
            )
        row.status = body.status.value
        row.status_changed_at = utcnow()
    before = row.on_target
    row.on_target = rules.on_target(row.latest_value, row.target_value, row.direction)
    _touch(row, principal)
    await session.flush()
    await arm_timer(session, row)
    state = await emit_state(session, OBJECTIVE_UPDATED, row)
    await _announce_transition(session, row, before)
    return state


async def record_measurement(
    session: AsyncSession, principal: Principal, objective_id: uuid.UUID, body: MeasurementCreate
) -> tuple[MeasurementRead, ObjectiveRead]:
    """Record a value. The objective's latest value is the latest by date (a back-dated value
    is kept in the history without replacing a later one); a move to off target emits
    ``objective.off_target``, a move back ``objective.back_on_target``."""
    repo = ObjectiveRepository(session)
    row = await _objective(repo, objective_id, for_update=True)
    if row.status == rules.ObjectiveStatus.WITHDRAWN:
        raise ObjectiveWithdrawn(
            f"Objective {objective_id} is withdrawn; set it `active` again to measure it."
        )
    measured_on = body.measured_on or today()
    if measured_on > today():
        raise _invalid("measured_on", "measured_on must not be in the future.", InvalidMeasurement)
    measurement = ObjectiveMeasurement(
        id=uuid7(),
        org_id=row.org_id,
        objective_id=row.id,
        value=body.value,
        measured_on=measured_on,
        note=body.note,
        recorded_by=principal.subject,
        recorded_at=utcnow(),
    )
    repo.add(measurement)
    await session.flush()
    latest = await repo.latest_measurement(row.id)
    before = row.on_target
    if latest is not None:
        row.latest_value, row.latest_measured_on = latest.value, latest.measured_on
    row.on_target = rules.on_target(row.latest_value, row.target_value, row.direction)
    row.measurement_count += 1
    _touch(row, principal)
    await session.flush()
    state = objective_read(row)
    recorded = measurement_read(measurement, row)
    await emit(
        session,
        make_event(
            OBJECTIVE_MEASURED,
            org_id=row.org_id,
            subject=row.id,
            version=row.version,
            data=ObjectiveMeasured(objective=state, measurement=recorded),
        ),
    )
    await _announce_transition(session, row, before)
    return recorded, state


async def list_measurements(
    session: AsyncSession,
    objective_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
    since: date | None = None,
    until: date | None = None,
) -> tuple[list[MeasurementRead], list[ObjectiveMeasurement]]:
    repo = ObjectiveRepository(session)
    objective = await _objective(repo, objective_id)
    rows = await repo.measurements(
        objective_id, limit=limit + 1, after=after, since=since, until=until
    )
    return [measurement_read(r, objective) for r in rows[:limit]], rows


async def latest_measurements(
    session: AsyncSession, objective_ids: Sequence[uuid.UUID], *, last: int
) -> ObjectiveMeasurementsList:
    """The latest ``last`` measurements of many objectives in two queries (a dashboard's page
    of objectives with their trend); objectives not in the caller's organisation are absent."""
    repo = ObjectiveRepository(session)
    wanted = list(dict.fromkeys(objective_ids))
    objectives = {o.id: o for o in await repo.page(limit=len(wanted), after=None, ids=wanted)}
    by_objective: dict[uuid.UUID, list[MeasurementRead]] = {i: [] for i in objectives}
    for row in await repo.latest_measurements(list(objectives), last=last):
        by_objective[row.objective_id].append(measurement_read(row, objectives[row.objective_id]))
    return ObjectiveMeasurementsList(
        items=[
            ObjectiveMeasurements(
                objective_id=i,
                total_count=objectives[i].measurement_count,
                items=by_objective[i],
            )
            for i in wanted
            if i in objectives
        ]
    )


async def measurements_by_objective(
    session: AsyncSession,
    objective_ids: Sequence[uuid.UUID],
    *,
    limit: int,
    since: date | None = None,
    until: date | None = None,
) -> list[tuple[uuid.UUID, list[MeasurementRead], bool]]:
    """The first page of ``list_measurements`` of many objectives in two queries: per
    objective asked that is in the caller's organisation (in the order asked, each once), its
    first ``limit`` measurements from ``since`` to ``until`` in time order and whether more
    follow."""
    repo = ObjectiveRepository(session)
    wanted = list(dict.fromkeys(objective_ids))
    objectives = {o.id: o for o in await repo.page(limit=len(wanted), after=None, ids=wanted)}
    by_objective: dict[uuid.UUID, list[ObjectiveMeasurement]] = {i: [] for i in objectives}
    rows = await repo.first_measurements(
        list(objectives), limit=limit + 1, since=since, until=until
    )
    for row in rows:
        by_objective[row.objective_id].append(row)
    return [
        (
            i,
            [measurement_read(r, objectives[i]) for r in by_objective[i][:limit]],
            len(by_objective[i]) > limit,
        )
        for i in wanted
        if i in objectives
    ]


# --- As of a past moment (for management reviews) --------------------------------------------


async def objectives_as_of(
    session: AsyncSession, day: date, moment: datetime, *, limit: int
) -> tuple[int, list[dict[str, object]]]:
    """The objectives that existed at ``moment`` and what was known of each then: the latest
    value measured on or before ``day``, whether it met the target
    (the target as it stands now: targets are not versioned), and the status then (a status
    changed after ``moment`` shows as ``active``). Returns the total count and at most
    ``limit`` entries."""
    repo = ObjectiveRepository(session)
    total = await repo.count_existing_at(moment)
    rows = await repo.existing_at(moment, limit=limit)
    values = await repo.latest_values_at([r.id for r in rows], day)
    out: list[dict[str, object]] = []
    for row in rows:
        value, measured_on = values.get(row.id, (None, None))
        status = row.status if row.status_changed_at < moment else rules.ObjectiveStatus.ACTIVE
        out.append(
            {
                "id": str(row.id),
                "title": row.title,
                "owner": row.owner,
                "measure": row.measure,
                "unit": row.unit,
                "target_value": row.target_value,
                "direction": row.direction,
                "due_date": row.due_date.isoformat(),
                "status": str(status),
                "value": value,
                "measured_on": measured_on.isoformat() if measured_on else None,
                "on_target": rules.on_target(value, row.target_value, row.direction),
            }
        )
    return total, out
