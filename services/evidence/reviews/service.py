"""Management review use cases (9.3). Services flush, never commit: the request owns the
transaction, so each change, its timers and its outbox events commit together or not at all.

Life of a review: ``planned`` (inputs pre-filled and annotated) → ``held`` (it took place, on
``held_on``; decisions and actions recorded) → ``closed`` (the record is final). Its actions
are tracked on their own until done or cancelled, whatever the review's status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.reviews.errors import (
    ActionNotFound,
    InvalidReview,
    ManagementReviewNotFound,
    ReviewStateConflict,
)
from services.evidence.reviews.events import (
    ACTION_CANCELLED,
    ACTION_CREATED,
    ACTION_DONE,
    ACTION_UPDATED,
    REVIEW_CLOSED,
    REVIEW_HELD,
    REVIEW_PLANNED,
    REVIEW_UPDATED,
)
from services.evidence.reviews.models import ManagementReview, ManagementReviewAction
from services.evidence.reviews.prefill import build_snapshot
from services.evidence.reviews.repository import ReviewRepository
from services.evidence.reviews.schemas import (
    ContextIssueData,
    InterestedPartyData,
    ManagementReviewClose,
    ManagementReviewCreate,
    ManagementReviewHold,
    ManagementReviewRead,
    ManagementReviewState,
    ManagementReviewUpdate,
    ReviewActionCreate,
    ReviewActionRead,
    ReviewActionStatus,
    ReviewActionUpdate,
    ReviewInput,
    ReviewStatus,
    RiskVersionData,
    Section,
)
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import EventType, emit, make_event
from shared.http import check_version
from shared.scheduler import set_timer

TIMER_ACTION_OVERDUE = "management_review.action_overdue"


def today() -> date:
    return utcnow().date()


# --- Reading ----------------------------------------------------------------------------------


def _state(row: ManagementReview, counts: tuple[int, int]) -> ManagementReviewState:
    return ManagementReviewState(
        id=row.id,
        org_id=row.org_id,
        title=row.title,
        review_date=row.review_date,
        status=ReviewStatus(row.status),
        held_on=row.held_on,
        closed_at=row.closed_at,
        attendees=list(row.attendees),
        decisions=list(row.decisions),
        prefill_as_of=row.prefill_as_of,
        prefilled_at=row.prefilled_at,
        action_count=counts[0],
        open_action_count=counts[1],
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        updated_by=row.updated_by,
    )


def _inputs(row: ManagementReview) -> dict[Section, ReviewInput]:
    sections = (row.prefill or {}).get("sections", {})
    out = {}
    for section in Section:
        auto = sections.get(section.value)
        note = (
            "Not pre-filled yet: POST /v1/management-reviews/{id}/prefill."
            if row.prefill is None
            else "Not in this review's pre-fill (taken before AIMS filled this input); "
            "POST /v1/management-reviews/{id}/prefill to fill it while the review is planned."
        )
        out[section] = ReviewInput(
            auto=auto, auto_note=note if auto is None else None, notes=row.notes.get(section, "")
        )
    return out


def review_read(row: ManagementReview, counts: tuple[int, int]) -> ManagementReviewRead:
    return ManagementReviewRead(**_state(row, counts).model_dump(), inputs=_inputs(row))


async def _counts(repo: ReviewRepository, row: ManagementReview) -> tuple[int, int]:
    return (await repo.action_counts([row.id])).get(row.id, (0, 0))


async def _emit_review(
    session: AsyncSession, repo: ReviewRepository, event_type: EventType, row: ManagementReview
) -> ManagementReviewRead:
    await session.flush()
    counts = await _counts(repo, row)
    await emit(
        session,
        make_event(
            event_type,
            org_id=row.org_id,
            subject=row.id,
            version=row.version,
            data=_state(row, counts),
        ),
    )
    return review_read(row, counts)


async def _review(
    repo: ReviewRepository, review_id: uuid.UUID, *, for_update: bool = False
) -> ManagementReview:
    row = await repo.get(review_id, for_update=for_update)
    if row is None:
        raise ManagementReviewNotFound(f"No management review {review_id} in your organisation.")
    return row


def _touch(row: ManagementReview | ManagementReviewAction, principal: Principal) -> None:
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = principal.subject


def _invalid(field: str, message: str) -> InvalidReview:
    return InvalidReview(
        message, errors=[{"location": ["body", field], "message": message, "type": "value_error"}]
    )


def _not_closed(row: ManagementReview, what: str) -> None:
    if row.status == ReviewStatus.CLOSED:
        raise ReviewStateConflict(f"Management review {row.id} is closed; {what}.")


async def _prefill(session: AsyncSession, row: ManagementReview) -> None:
    row.prefill = await build_snapshot(session, row, today())
    row.prefill_as_of = date.fromisoformat(row.prefill["as_of"])
    row.prefilled_at = utcnow()


# --- Reviews ----------------------------------------------------------------------------------


async def create_review(
    session: AsyncSession, principal: Principal, body: ManagementReviewCreate
) -> ManagementReviewRead:
    repo = ReviewRepository(session)
    now = utcnow()
    row = ManagementReview(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        title=body.title,
        review_date=body.review_date,
        status=ReviewStatus.PLANNED.value,
        attendees=list(dict.fromkeys(body.attendees)),
        notes={str(k): v for k, v in body.notes.items() if v},
        decisions=[],
    )
    repo.add(row)
    await session.flush()
    if body.prefill:
        await _prefill(session, row)
    return await _emit_review(session, repo, REVIEW_PLANNED, row)


async def get_review(session: AsyncSession, review_id: uuid.UUID) -> ManagementReviewRead:
    repo = ReviewRepository(session)
    row = await _review(repo, review_id)
    return review_read(row, await _counts(repo, row))


async def list_reviews(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID] = (),
    statuses: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
) -> tuple[list[ManagementReviewRead], list[ManagementReview]]:
    repo = ReviewRepository(session)
    rows = await repo.page(
        limit=limit + 1, after=after, ids=ids, statuses=statuses, since=since, until=until
    )
    page = rows[:limit]
    counts = await repo.action_counts([r.id for r in page])
    return [review_read(r, counts.get(r.id, (0, 0))) for r in page], rows


async def update_review(
    session: AsyncSession,
    principal: Principal,
    review_id: uuid.UUID,
    body: ManagementReviewUpdate,
    if_match: str | None,
) -> ManagementReviewRead:
    repo = ReviewRepository(session)
    row = await _review(repo, review_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return review_read(row, await _counts(repo, row))
    _not_closed(row, "its record is final")
    if body.title is not None:
        row.title = body.title
    if body.review_date is not None and body.review_date != row.review_date:
        if row.status != ReviewStatus.PLANNED:
            raise ReviewStateConflict(
                f"Management review {row.id} was held; its date is no longer changed."
            )
        row.review_date = body.review_date
    if body.attendees is not None:
        row.attendees = list(dict.fromkeys(body.attendees))
    if body.notes is not None:
        notes = dict(row.notes)
        for section, text in body.notes.items():
            if text:
                notes[str(section)] = text
            else:
                notes.pop(str(section), None)
        row.notes = notes
    if body.decisions is not None:
        row.decisions = list(body.decisions)
    _touch(row, principal)
    return await _emit_review(session, repo, REVIEW_UPDATED, row)


async def prefill_review(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, if_match: str | None
) -> ManagementReviewRead:
    """Fill (again) the automatic part of every input from the data as of the review date.
    Refused once the review is closed: its record is final."""
    repo = ReviewRepository(session)
    row = await _review(repo, review_id, for_update=True)
    check_version(if_match, row.version)
    _not_closed(row, "its inputs are final")
    await _prefill(session, row)
    _touch(row, principal)
    return await _emit_review(session, repo, REVIEW_UPDATED, row)


async def hold_review(
    session: AsyncSession,
    principal: Principal,
    review_id: uuid.UUID,
    body: ManagementReviewHold,
    if_match: str | None,
) -> ManagementReviewRead:
    """Record that the review took place. The inputs are pre-filled now if they never were."""
    repo = ReviewRepository(session)
    row = await _review(repo, review_id, for_update=True)
    check_version(if_match, row.version)
    if row.status != ReviewStatus.PLANNED:
        raise ReviewStateConflict(f"Management review {row.id} is {row.status}, not planned.")
    held_on = body.held_on or today()
    if held_on > today():
        raise _invalid("held_on", "held_on must not be in the future.")
    if body.attendees is not None:
        row.attendees = list(dict.fromkeys(body.attendees))
    if not row.attendees:
        raise _invalid("attendees", "Name who attended the review (top management, 9.3).")
    if body.decisions is not None:
        row.decisions = list(body.decisions)
    row.status = ReviewStatus.HELD.value
    row.held_on = held_on
    if row.prefill is None:
        await _prefill(session, row)
    _touch(row, principal)
    return await _emit_review(session, repo, REVIEW_HELD, row)


async def close_review(
    session: AsyncSession,
    principal: Principal,
    review_id: uuid.UUID,
    body: ManagementReviewClose,
    if_match: str | None,
) -> ManagementReviewRead:
    repo = ReviewRepository(session)
    row = await _review(repo, review_id, for_update=True)
    check_version(if_match, row.version)
    if row.status != ReviewStatus.HELD:
        raise ReviewStateConflict(
            f"Management review {row.id} is {row.status}; only a held review is closed."
        )
    if body.decisions is not None:
        row.decisions = list(body.decisions)
    row.status = ReviewStatus.CLOSED.value
    row.closed_at = utcnow()
    _touch(row, principal)
    return await _emit_review(session, repo, REVIEW_CLOSED, row)


# --- Actions (9.3.3) --------------------------------------------------------------------------


def action_read(row: ManagementReviewAction, on: date | None = None) -> ReviewActionRead:
    day = on or today()
    return ReviewActionRead(
        id=row.id,
        org_id=row.org_id,
        review_id=row.review_id,
        title=row.title,
        description=row.description,
        owner=row.owner,
        due_date=row.due_date,
        status=ReviewActionStatus(row.status),
        overdue=row.status == ReviewActionStatus.OPEN and row.due_date < day,
        closed_at=row.closed_at,
        overdue_notified_at=row.overdue_notified_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        updated_by=row.updated_by,
    )


async def emit_action(
    session: AsyncSession, event_type: EventType, row: ManagementReviewAction
) -> ReviewActionRead:
    await session.flush()
    state = action_read(row)
    await emit(
        session,
        make_event(event_type, org_id=row.org_id, subject=row.id, version=row.version, data=state),
    )
    return state


async def arm_action_timer(session: AsyncSession, row: ManagementReviewAction) -> None:
    """Overdue notice the day after ``due_date`` while the action is open."""
    await set_timer(
        session,
        org_id=row.org_id,
        kind=TIMER_ACTION_OVERDUE,
        entity_id=row.id,
        due_at=row.due_date if row.status == ReviewActionStatus.OPEN else None,
    )


async def _action(
    repo: ReviewRepository, action_id: uuid.UUID, *, for_update: bool = False
) -> ManagementReviewAction:
    row = await repo.get_action(action_id, for_update=for_update)
    if row is None:
        raise ActionNotFound(f"No management review action {action_id} in your organisation.")
    return row


async def create_action(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, body: ReviewActionCreate
) -> ReviewActionRead:
    """Record an action decided by the review (planned or held; 409 once closed)."""
    repo = ReviewRepository(session)
    review = await _review(repo, review_id, for_update=True)
    _not_closed(review, "record new actions in a later review")
    now = utcnow()
    row = ManagementReviewAction(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=principal.subject,
        updated_by=principal.subject,
        review_id=review.id,
        title=body.title,
        description=body.description,
        owner=body.owner,
        due_date=body.due_date,
        status=ReviewActionStatus.OPEN.value,
    )
    repo.add(row)
    await session.flush()
    await arm_action_timer(session, row)
    return await emit_action(session, ACTION_CREATED, row)


async def list_actions(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    ids: Sequence[uuid.UUID] = (),
    review_id: uuid.UUID | None = None,
    statuses: Sequence[str] = (),
    owner: str | None = None,
    overdue: bool | None = None,
    review_ids: Sequence[uuid.UUID] = (),
) -> tuple[list[ReviewActionRead], list[ManagementReviewAction]]:
    repo = ReviewRepository(session)
    if review_id is not None:
        await _review(repo, review_id)
    day = today()
    rows = await repo.actions(
        limit=limit + 1,
        after=after,
        ids=ids,
        review_id=review_id,
        review_ids=review_ids,
        statuses=statuses,
        owner=owner,
        overdue_on=day if overdue is True else None,
        not_overdue_on=day if overdue is False else None,
    )
    return [action_read(r, day) for r in rows[:limit]], rows


async def get_action(session: AsyncSession, action_id: uuid.UUID) -> ReviewActionRead:
    return action_read(await _action(ReviewRepository(session), action_id))


async def update_action(
    session: AsyncSession,
    principal: Principal,
    action_id: uuid.UUID,
    body: ReviewActionUpdate,
    if_match: str | None,
) -> ReviewActionRead:
    repo = ReviewRepository(session)
    row = await _action(repo, action_id, for_update=True)
    check_version(if_match, row.version)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return action_read(row)
    for name in ("title", "description", "owner"):
        if name in changes:
            setattr(row, name, changes[name])
    if body.due_date is not None and body.due_date != row.due_date:
        row.due_date = body.due_date
        row.overdue_notified_at = None  # a new due date gets its own notice
    event_type = ACTION_UPDATED
    if body.status is not None and body.status.value != row.status:
        row.status = body.status.value
        if body.status is ReviewActionStatus.OPEN:
            row.closed_at = None
            row.overdue_notified_at = None
        else:
            row.closed_at = utcnow()
            event_type = ACTION_DONE if body.status is ReviewActionStatus.DONE else ACTION_CANCELLED
    _touch(row, principal)
    await session.flush()
    await arm_action_timer(session, row)
    return await emit_action(session, event_type, row)


# --- Context and risks, as the inventory and the risk service announce them ------------------


# Subject marker of the announcing event → the kind of version kept, and what it is read as.
_SOURCES: tuple[
    tuple[str, str, type[ContextIssueData | InterestedPartyData | RiskVersionData]], ...
] = (
    (".context_issue.", "context_issue", ContextIssueData),
    (".interested_party.", "interested_party", InterestedPartyData),
    (".risk.risk.", "risk", RiskVersionData),
)


async def record_source(
    session: AsyncSession, event_type: str, data: dict[str, object], version: int
) -> None:
    """Keep the version ``version`` of a context issue (4.1) or interested party (4.2) the
    inventory announced, or of a risk (6.1) the risk service announced, for the inputs of later
    reviews as of their dates. Other event types are ignored. Idempotent."""
    found = next((kind for kind in _SOURCES if kind[0] in event_type), None)
    if found is None:
        return
    _, entity_type, model = found
    source = model.model_validate(data)
    values: dict[str, object] = {
        "entity_type": entity_type,
        "entity_id": source.id,
        "org_id": source.org_id,
        "recorded_at": source.created_at,
        "changed_at": source.updated_at,
        "title": source.name if isinstance(source, InterestedPartyData) else source.title,
        "data": source.shown(),
    }
    await ReviewRepository(session).add_source_version(
        {**values, "id": uuid7(), "source_version": version, "received_at": utcnow()}
    )
