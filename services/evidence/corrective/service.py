"""Nonconformity and corrective action use cases (10.2). Services flush, never commit: each
change, its timers and its outbox events commit together with the request, or not at all.

A nonconformity's ``status`` and its ``close_blockers`` are derived from what is recorded
(:mod:`services.evidence.corrective.rules`); every change to it or to one of its actions bumps
its version and emits its new state. "Today" is the UTC date, as for the scheduler.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.audits.events import FINDING_UPDATED
from services.evidence.audits.models import Finding
from services.evidence.audits.rules import identity
from services.evidence.audits.schemas import FindingRead
from services.evidence.corrective import rules
from services.evidence.corrective.errors import (
    CorrectiveActionNotFound,
    InvalidActionTransition,
    NonconformityClosed,
    NonconformityNotFound,
    VerificationRequired,
    VerifierNotIndependent,
)
from services.evidence.corrective.events import (
    CORRECTIVE_ACTION_CLOSED,
    CORRECTIVE_ACTION_IMPLEMENTED,
    CORRECTIVE_ACTION_PLANNED,
    CORRECTIVE_ACTION_UPDATED,
    CORRECTIVE_ACTION_VERIFIED,
    NONCONFORMITY_CLOSED,
    NONCONFORMITY_OPENED,
    NONCONFORMITY_UPDATED,
)
from services.evidence.corrective.models import CorrectiveAction, Nonconformity
from services.evidence.corrective.repository import ActionFilter, CorrectiveRepository
from services.evidence.corrective.schemas import (
    CorrectiveActionCreate,
    CorrectiveActionImplement,
    CorrectiveActionRead,
    CorrectiveActionUpdate,
    CorrectiveActionVerify,
    NonconformityClose,
    NonconformityCreate,
    NonconformityRead,
    NonconformityUpdate,
)
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.errors import ValidationFailed
from shared.events import EventType, emit, make_event
from shared.http import check_version
from shared.scheduler import set_timer

TIMER_OVERDUE = "corrective.action.overdue"


def today() -> date:
    return utcnow().date()


async def _emit(
    session: AsyncSession, event_type: EventType, org_id: uuid.UUID, subject: uuid.UUID, state: Any
) -> None:
    await emit(
        session,
        make_event(event_type, org_id=org_id, subject=subject, version=state.version, data=state),
    )


def _touch(row: Nonconformity | CorrectiveAction | Finding, principal: Principal) -> None:
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = principal.subject


def _facts(row: Nonconformity, statuses: Sequence[str]) -> rules.NonconformityFacts:
    return rules.NonconformityFacts(
        correction_recorded=bool(row.correction) and row.correction_done_on is not None,
        root_cause_recorded=bool(row.root_cause) and bool(row.root_cause_whys),
        closed=row.closed_at is not None,
        action_statuses=list(statuses),
    )


def nonconformity_read(row: Nonconformity, statuses: Sequence[str]) -> NonconformityRead:
    facts = _facts(row, statuses)
    return NonconformityRead.model_validate(
        {
            **{
                name: getattr(row, name)
                for name in NonconformityRead.model_fields
                if hasattr(row, name)
            },
            "actions_total": len(statuses),
            "actions_verified_effective": sum(
                s in ("verified_effective", "closed") for s in statuses
            ),
            "close_blockers": [] if facts.closed else rules.close_blockers(facts),
        }
    )


def action_read(row: CorrectiveAction, on: date | None = None) -> CorrectiveActionRead:
    return CorrectiveActionRead.model_validate(
        {
            **{
                name: getattr(row, name)
                for name in CorrectiveActionRead.model_fields
                if name != "overdue"
            },
            "overdue": rules.is_overdue(row.status, row.due_date, on or today()),
        }
    )


async def _nonconformity(
    repo: CorrectiveRepository, nc_id: uuid.UUID, *, for_update: bool = False
) -> Nonconformity:
    row = await repo.get(Nonconformity, nc_id, for_update=for_update)
    if row is None:
        raise NonconformityNotFound(f"No nonconformity {nc_id} in your organisation.")
    return row


async def _action(
    repo: CorrectiveRepository, action_id: uuid.UUID, *, for_update: bool = False
) -> CorrectiveAction:
    row = await repo.get(CorrectiveAction, action_id, for_update=for_update)
    if row is None:
        raise CorrectiveActionNotFound(f"No corrective action {action_id} in your organisation.")
    return row


async def _changed(
    repo: CorrectiveRepository,
    row: Nonconformity,
    principal: Principal,
    event_type: EventType = NONCONFORMITY_UPDATED,
) -> NonconformityRead:
    """Re-derive the status of ``row`` (changed by the caller), bump it and emit its state."""
    statuses = (await repo.action_statuses([row.id]))[row.id]
    row.status = rules.derive_status(_facts(row, statuses))
    _touch(row, principal)
    await repo.session.flush()
    state = nonconformity_read(row, statuses)
    await _emit(repo.session, event_type, row.org_id, row.id, state)
    return state


async def _arm_overdue(session: AsyncSession, row: CorrectiveAction) -> None:
    """The overdue notice fires once ``due_date`` has passed, while the action is open."""
    due = row.due_date if row.status in rules.OPEN_ACTION_STATUSES else None
    await set_timer(session, org_id=row.org_id, kind=TIMER_OVERDUE, entity_id=row.id, due_at=due)


def _refuse_closed(row: Nonconformity) -> None:
    if row.closed_at is not None:
        raise NonconformityClosed(f"Nonconformity {row.id} is closed; open a new one.")


# --- Nonconformities --------------------------------------------------------------------------


async def open_for_finding(
    session: AsyncSession, principal: Principal, finding: Finding, severity: str
) -> NonconformityRead:
    """Open the nonconformity of a major/minor nonconformity finding, or align its severity when
    it has one already (the finding's kind changed between major and minor)."""
    repo = CorrectiveRepository(session)
    existing = await repo.by_finding(finding.id, for_update=True)
    if existing is not None:
        if existing.severity == severity or existing.closed_at is not None:
            statuses = (await repo.action_statuses([existing.id]))[existing.id]
            return nonconformity_read(existing, statuses)
        existing.severity = severity
        return await _changed(repo, existing, principal)
    now = utcnow()
    row = Nonconformity(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        finding_id=finding.id,
        severity=severity,
        title=finding.title,
        description=finding.description,
        status="open",
        root_cause_whys=[],
    )
    repo.add(row)
    await session.flush()
    state = nonconformity_read(row, [])
    await _emit(session, NONCONFORMITY_OPENED, row.org_id, row.id, state)
    return state


async def create_nonconformity(
    session: AsyncSession, principal: Principal, body: NonconformityCreate
) -> NonconformityRead:
    repo = CorrectiveRepository(session)
    now = utcnow()
    row = Nonconformity(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        finding_id=None,
        severity=body.severity.value,
        title=body.title,
        description=body.description,
        owner=body.owner,
        due_date=body.due_date,
        status="open",
        root_cause_whys=[],
    )
    repo.add(row)
    await session.flush()
    state = nonconformity_read(row, [])
    await _emit(session, NONCONFORMITY_OPENED, row.org_id, row.id, state)
    return state


async def get_nonconformity(session: AsyncSession, nc_id: uuid.UUID) -> NonconformityRead:
    repo = CorrectiveRepository(session)
    row = await _nonconformity(repo, nc_id)
    return nonconformity_read(row, (await repo.action_statuses([row.id]))[row.id])


async def list_nonconformities(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID] = (),
    statuses: Sequence[str] = (),
    severities: Sequence[str] = (),
    finding_ids: Sequence[uuid.UUID] = (),
    owner: str | None = None,
) -> tuple[list[NonconformityRead], list[Nonconformity]]:
    repo = CorrectiveRepository(session)
    rows = await repo.nonconformities(
        limit=limit + 1,
        after=after,
        ids=ids,
        statuses=statuses,
        severities=severities,
        finding_ids=finding_ids,
        owner=owner,
    )
    page = rows[:limit]
    statuses_of = await repo.action_statuses([r.id for r in page])
    return [nonconformity_read(r, statuses_of[r.id]) for r in page], rows


async def update_nonconformity(
    session: AsyncSession,
    principal: Principal,
    nc_id: uuid.UUID,
    body: NonconformityUpdate,
    if_match: str | None,
) -> NonconformityRead:
    repo = CorrectiveRepository(session)
    row = await _nonconformity(repo, nc_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return nonconformity_read(row, (await repo.action_statuses([row.id]))[row.id])
    _refuse_closed(row)
    if body.correction_done_on is not None and body.correction_done_on > today():
        raise ValidationFailed(
            "correction_done_on is in the future; record a correction once done.",
            errors=[
                {
                    "location": ["body", "correction_done_on"],
                    "message": "must not be in the future",
                    "type": "date_in_future",
                }
            ],
        )
    for name in ("title", "description", "owner", "correction", "root_cause"):
        if name in changes:
            setattr(row, name, changes[name])
    if "severity" in changes:
        row.severity = changes["severity"]
    if "due_date" in changes:
        row.due_date = body.due_date
    if "correction_done_on" in changes:
        row.correction_done_on = body.correction_done_on
    if "root_cause_whys" in changes:
        row.root_cause_whys = changes["root_cause_whys"]
    return await _changed(repo, row, principal)


async def close_nonconformity(
    session: AsyncSession,
    principal: Principal,
    nc_id: uuid.UUID,
    body: NonconformityClose,
    if_match: str | None,
) -> NonconformityRead:
    """Close once the correction and root cause are recorded and every action is verified
    effective (409 ``verification-required`` listing what is missing otherwise). Its actions
    close with it, and so does the finding that raised it."""
    repo = CorrectiveRepository(session)
    row = await _nonconformity(repo, nc_id, for_update=True)
    if if_match is not None:
        check_version(if_match, row.version)
    _refuse_closed(row)
    actions = await repo.actions_of(row.id, for_update=True)
    missing = rules.close_blockers(_facts(row, [a.status for a in actions]))
    if missing:
        unverified = [
            str(a.id) for a in actions if a.status not in ("verified_effective", "closed")
        ]
        raise VerificationRequired(
            "The nonconformity cannot close yet: "
            + ", ".join(list(dict.fromkeys(missing)))
            + ". Record the correction and the root cause, plan an action, and verify every "
            "action effective by a follow-up.",
            missing=list(dict.fromkeys(missing)),
            unverified_action_ids=unverified[:100],
        )
    now = utcnow()
    for action in actions:
        action.status = "closed"
        action.closed_at = now
        _touch(action, principal)
        await session.flush()
        await _arm_overdue(session, action)
        await _emit(
            session, CORRECTIVE_ACTION_CLOSED, action.org_id, action.id, action_read(action)
        )
    row.closed_at = now
    row.closed_by = principal.subject
    if body.notes:
        row.description = (row.description + "\n\nClosure: " + body.notes).strip()[:20_000]
    state = await _changed(repo, row, principal, NONCONFORMITY_CLOSED)
    if row.finding_id is not None:
        finding = await repo.finding_for_update(row.finding_id)
        if finding is not None and finding.status != "closed":
            finding.status = "closed"
            finding.closed_at = now
            _touch(finding, principal)
            await session.flush()
            finding_state = FindingRead.model_validate(finding).model_copy(
                update={"nonconformity_id": row.id}
            )
            await _emit(session, FINDING_UPDATED, finding.org_id, finding.id, finding_state)
    return state


# --- Corrective actions -----------------------------------------------------------------------


async def add_action(
    session: AsyncSession,
    principal: Principal,
    nc_id: uuid.UUID,
    body: CorrectiveActionCreate,
) -> CorrectiveActionRead:
    """Plan an action. A due date already past is accepted (recording an action late) and is
    announced overdue by the scheduler straight away."""
    repo = CorrectiveRepository(session)
    nc = await _nonconformity(repo, nc_id, for_update=True)
    _refuse_closed(nc)
    now = utcnow()
    row = CorrectiveAction(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        nonconformity_id=nc.id,
        description=body.description,
        owner=body.owner,
        due_date=body.due_date,
        status="planned",
    )
    repo.add(row)
    await session.flush()
    await _arm_overdue(session, row)
    state = action_read(row)
    await _emit(session, CORRECTIVE_ACTION_PLANNED, row.org_id, row.id, state)
    await _changed(repo, nc, principal)
    return state


async def get_action(session: AsyncSession, action_id: uuid.UUID) -> CorrectiveActionRead:
    return action_read(await _action(CorrectiveRepository(session), action_id))


async def list_actions(
    session: AsyncSession, filters: ActionFilter, *, limit: int, after: uuid.UUID | None
) -> tuple[list[CorrectiveActionRead], list[CorrectiveAction]]:
    now = today()
    filters.today = now
    rows = await CorrectiveRepository(session).actions(filters, limit=limit + 1, after=after)
    return [action_read(r, now) for r in rows[:limit]], rows


async def _action_and_nc(
    repo: CorrectiveRepository, action_id: uuid.UUID
) -> tuple[CorrectiveAction, Nonconformity]:
    """Lock the action's nonconformity first, then the action (the order every writer uses)."""
    action = await _action(repo, action_id)
    nc = await _nonconformity(repo, action.nonconformity_id, for_update=True)
    action = await _action(repo, action_id, for_update=True)
    return action, nc


async def update_action(
    session: AsyncSession,
    principal: Principal,
    action_id: uuid.UUID,
    body: CorrectiveActionUpdate,
    if_match: str | None,
) -> CorrectiveActionRead:
    repo = CorrectiveRepository(session)
    row, _ = await _action_and_nc(repo, action_id)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return action_read(row)
    if row.status in ("verified_effective", "closed"):
        raise InvalidActionTransition(
            f"The action is {row.status}; plan a new action instead of changing this one."
        )
    if "due_date" in changes and changes["due_date"] != row.due_date:
        row.overdue_notified_at = None  # a new due date: its notice is to be given again
    for name, value in changes.items():
        setattr(row, name, value)
    _touch(row, principal)
    await session.flush()
    await _arm_overdue(session, row)
    state = action_read(row)
    await _emit(session, CORRECTIVE_ACTION_UPDATED, row.org_id, row.id, state)
    return state


async def implement_action(
    session: AsyncSession,
    principal: Principal,
    action_id: uuid.UUID,
    body: CorrectiveActionImplement,
    if_match: str | None,
) -> CorrectiveActionRead:
    """``planned`` (or ``verified_ineffective``, reworked) → ``implemented``."""
    repo = CorrectiveRepository(session)
    row, nc = await _action_and_nc(repo, action_id)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status not in ("planned", "verified_ineffective"):
        raise InvalidActionTransition(
            f"The action is {row.status}; only a planned action, or one verified ineffective "
            "(reworked), can be implemented."
        )
    row.status = "implemented"
    row.implemented_at = utcnow()
    row.implemented_by = principal.subject
    row.implementation_notes = body.notes
    row.verified_at = row.verified_on = row.verified_by = row.verification_method = None
    row.verification_notes = ""
    _touch(row, principal)
    await session.flush()
    await _arm_overdue(session, row)
    state = action_read(row)
    await _emit(session, CORRECTIVE_ACTION_IMPLEMENTED, row.org_id, row.id, state)
    await _changed(repo, nc, principal)
    return state


async def verify_action(
    session: AsyncSession,
    principal: Principal,
    action_id: uuid.UUID,
    body: CorrectiveActionVerify,
    if_match: str | None,
) -> CorrectiveActionRead:
    """``implemented`` → ``verified_effective`` | ``verified_ineffective``, by a follow-up of
    someone who neither owns the action nor recorded its implementation (409
    ``verifier-not-independent``)."""
    repo = CorrectiveRepository(session)
    row, nc = await _action_and_nc(repo, action_id)
    if if_match is not None:
        check_version(if_match, row.version)
    if row.status != "implemented":
        raise InvalidActionTransition(
            f"The action is {row.status}; only an implemented action can be verified."
        )
    verifier = identity(principal.subject)
    reasons = []
    if row.implemented_by is not None and identity(row.implemented_by) == verifier:
        reasons.append("recorded the action's implementation")
    if identity(row.owner) == verifier:
        reasons.append("owns the action")
    if reasons:
        raise VerifierNotIndependent(
            f"{principal.subject} {' and '.join(reasons)}; someone else verifies its "
            "effectiveness.",
            reasons=reasons,
        )
    verified_on = body.verified_on or today()
    if verified_on > today():
        raise ValidationFailed(
            "verified_on is in the future.",
            errors=[
                {
                    "location": ["body", "verified_on"],
                    "message": "must not be in the future",
                    "type": "date_in_future",
                }
            ],
        )
    row.status = "verified_effective" if body.result == "effective" else "verified_ineffective"
    row.verified_at = utcnow()
    row.verified_on = verified_on
    row.verified_by = principal.subject
    row.verification_method = body.method.value
    row.verification_notes = body.notes
    _touch(row, principal)
    await session.flush()
    await _arm_overdue(session, row)
    state = action_read(row)
    await _emit(session, CORRECTIVE_ACTION_VERIFIED, row.org_id, row.id, state)
    await _changed(repo, nc, principal)
    return state
