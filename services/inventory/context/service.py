"""Context use cases (4.1, 4.2). Services flush, never commit: the request owns the transaction,
so a change, its history row and its outbox event commit together or not at all."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.context.errors import ContextIssueNotFound, InterestedPartyNotFound
from services.inventory.context.events import (
    AI_ROLES_UPDATED,
    CONTEXT_ISSUE_CREATED,
    CONTEXT_ISSUE_UPDATED,
    INTERESTED_PARTY_CREATED,
    INTERESTED_PARTY_UPDATED,
)
from services.inventory.context.models import (
    ContextChange,
    ContextIssue,
    InterestedParty,
    OrganisationAIRoles,
)
from services.inventory.context.repository import (
    ContextChangeRepository,
    ContextIssueRepository,
    InterestedPartyRepository,
    OrganisationAIRolesRepository,
)
from services.inventory.context.schemas import (
    AIRolesRead,
    AIRolesUpdate,
    Category,
    ContextChangeRead,
    ContextIssueCreate,
    ContextIssueRead,
    ContextIssueUpdate,
    Framework,
    InterestedPartyCreate,
    InterestedPartyRead,
    InterestedPartyUpdate,
    category_error,
)
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.errors import NullNotAllowed, PreconditionFailed, ValidationFailed
from shared.events import emit, make_event
from shared.http import check_version

ISSUE = "context_issue"
PARTY = "interested_party"
AI_ROLES = "organisation_ai_roles"

R = TypeVar("R", bound=BaseModel)
_BOOKKEEPING = {"id", "org_id", "version", "created_at", "updated_at", "created_by", "updated_by"}


def _fields(state: BaseModel) -> dict[str, Any]:
    data = state.model_dump(mode="json")
    return {k: v for k, v in data.items() if k not in _BOOKKEEPING}


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: {"from": old, "to": new}}`` for each field whose value differs."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


async def _record(
    session: AsyncSession,
    principal: Principal,
    entity_type: str,
    entity_id: uuid.UUID,
    version: int,
    action: str,
    changes: dict[str, Any],
) -> None:
    ContextChangeRepository(session).add(
        ContextChange(
            id=uuid7(),
            org_id=principal.org_id,
            entity_type=entity_type,
            entity_id=entity_id,
            version=version,
            action=action,
            changed_by=principal.subject,
            changed_at=utcnow(),
            changes=changes,
        )
    )


# --- Issues -----------------------------------------------------------------------------------


async def create_issue(
    session: AsyncSession, principal: Principal, body: ContextIssueCreate
) -> ContextIssueRead:
    now = utcnow()
    issue = ContextIssue(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        kind=body.kind.value,
        framework=body.framework.value,
        category=body.category.value,
        title=body.title,
        description=body.description,
        impact=body.impact,
        owner=body.owner,
        next_review_at=body.next_review_at,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    ContextIssueRepository(session).add(issue)
    await session.flush()
    state = ContextIssueRead.model_validate(issue)
    await _record(
        session, principal, ISSUE, issue.id, 1, "created", field_changes({}, _fields(state))
    )
    await emit(
        session,
        make_event(
            CONTEXT_ISSUE_CREATED, org_id=issue.org_id, subject=issue.id, version=1, data=state
        ),
    )
    return state


async def _issue(session: AsyncSession, issue_id: uuid.UUID, *, lock: bool = False) -> ContextIssue:
    issue = await ContextIssueRepository(session).get(issue_id, for_update=lock)
    if issue is None:
        raise ContextIssueNotFound(f"No context issue {issue_id} in your organisation.")
    return issue


async def get_issue(session: AsyncSession, issue_id: uuid.UUID) -> ContextIssueRead:
    return ContextIssueRead.model_validate(await _issue(session, issue_id))


async def list_issues(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    kind: str | None = None,
    framework: str | None = None,
    category: str | None = None,
    review_overdue: bool | None = None,
    ids: list[uuid.UUID] | None = None,
) -> tuple[list[ContextIssueRead], list[ContextIssue]]:
    """One page of issues, and the rows fetched (one more than the page when more follow)."""
    rows = await ContextIssueRepository(session).page(
        limit=limit + 1,
        after=after,
        kind=kind,
        framework=framework,
        category=category,
        review_overdue=review_overdue,
        ids=ids,
    )
    return [ContextIssueRead.model_validate(r) for r in rows[:limit]], rows


def _refuse_nulls(sent: dict[str, Any], texts: Sequence[str]) -> None:
    """A ``null`` for text that is never absent (clear it with ``""``) is a 422 naming it."""
    nulls = [name for name in texts if name in sent and sent[name] is None]
    if nulls:
        shown = ", ".join(f"`{name}`" for name in nulls)
        raise NullNotAllowed(
            f'{shown} cannot be null; send "" to clear it.',
            errors=[
                {"location": ["body", name], "message": "must not be null", "type": "null"}
                for name in nulls
            ],
        )


async def update_issue(
    session: AsyncSession,
    principal: Principal,
    issue_id: uuid.UUID,
    body: ContextIssueUpdate,
    if_match: str | None,
) -> ContextIssueRead:
    issue = await _issue(session, issue_id, lock=True)
    check_version(if_match, issue.version)
    sent = body.model_dump(exclude_unset=True)
    for required in ("kind", "framework", "category", "title"):
        if required in sent and sent[required] is None:
            sent.pop(required)
    _refuse_nulls(sent, ("description", "impact"))
    framework = Framework(sent.get("framework") or issue.framework)
    category = Category(sent.get("category") or issue.category)
    if (message := category_error(framework, category)) is not None:
        raise ValidationFailed(
            message, errors=[{"location": ["body", "category"], "message": message}]
        )
    before = _fields(ContextIssueRead.model_validate(issue))
    for name, value in sent.items():
        setattr(issue, name, value.value if isinstance(value, enum.Enum) else value)
    return await _finish_update(
        session,
        principal,
        issue,
        before,
        ContextIssueRead,
        ISSUE,
        CONTEXT_ISSUE_UPDATED,
    )


async def _finish_update(
    session: AsyncSession,
    principal: Principal,
    row: ContextIssue | InterestedParty,
    before: dict[str, Any],
    read: type[R],
    entity_type: str,
    event_type: Any,
) -> R:
    """Bump the version, record the history and emit the event — if anything changed."""
    after = _fields(read.model_validate(row))
    changes = field_changes(before, after)
    if not changes:
        return read.model_validate(row)
    row.version += 1
    row.updated_by = principal.subject
    row.updated_at = utcnow()
    await session.flush()
    state = read.model_validate(row)
    await _record(session, principal, entity_type, row.id, row.version, "updated", changes)
    await emit(
        session,
        make_event(event_type, org_id=row.org_id, subject=row.id, version=row.version, data=state),
    )
    return state


# --- Interested parties -----------------------------------------------------------------------


async def create_party(
    session: AsyncSession, principal: Principal, body: InterestedPartyCreate
) -> InterestedPartyRead:
    now = utcnow()
    party = InterestedParty(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        name=body.name,
        type=body.type.value,
        description=body.description,
        requirements=[r.model_dump(mode="json") for r in body.requirements],
        owner=body.owner,
        next_review_at=body.next_review_at,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    InterestedPartyRepository(session).add(party)
    await session.flush()
    state = InterestedPartyRead.model_validate(party)
    await _record(
        session, principal, PARTY, party.id, 1, "created", field_changes({}, _fields(state))
    )
    await emit(
        session,
        make_event(
            INTERESTED_PARTY_CREATED, org_id=party.org_id, subject=party.id, version=1, data=state
        ),
    )
    return state


async def _party(
    session: AsyncSession, party_id: uuid.UUID, *, lock: bool = False
) -> InterestedParty:
    party = await InterestedPartyRepository(session).get(party_id, for_update=lock)
    if party is None:
        raise InterestedPartyNotFound(f"No interested party {party_id} in your organisation.")
    return party


async def get_party(session: AsyncSession, party_id: uuid.UUID) -> InterestedPartyRead:
    return InterestedPartyRead.model_validate(await _party(session, party_id))


async def list_parties(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    type: str | None = None,
    review_overdue: bool | None = None,
    unaddressed: bool | None = None,
    ids: list[uuid.UUID] | None = None,
) -> tuple[list[InterestedPartyRead], list[InterestedParty]]:
    rows = await InterestedPartyRepository(session).page(
        limit=limit + 1,
        after=after,
        type=type,
        review_overdue=review_overdue,
        unaddressed=unaddressed,
        ids=ids,
    )
    return [InterestedPartyRead.model_validate(r) for r in rows[:limit]], rows


async def update_party(
    session: AsyncSession,
    principal: Principal,
    party_id: uuid.UUID,
    body: InterestedPartyUpdate,
    if_match: str | None,
) -> InterestedPartyRead:
    party = await _party(session, party_id, lock=True)
    check_version(if_match, party.version)
    sent = body.model_dump(exclude_unset=True, mode="json")
    for required in ("name", "type", "requirements"):
        if required in sent and sent[required] is None:
            sent.pop(required)
    _refuse_nulls(sent, ("description",))
    before = _fields(InterestedPartyRead.model_validate(party))
    for name, value in sent.items():
        setattr(party, name, value)
    if "next_review_at" in sent:
        party.next_review_at = body.next_review_at
    return await _finish_update(
        session, principal, party, before, InterestedPartyRead, PARTY, INTERESTED_PARTY_UPDATED
    )


# --- Organisation AI roles --------------------------------------------------------------------


def _roles_read(org_id: uuid.UUID, row: OrganisationAIRoles | None) -> AIRolesRead:
    if row is None:
        return AIRolesRead(
            org_id=org_id,
            roles=[],
            note="",
            next_review_at=None,
            version=0,
            updated_at=None,
            updated_by=None,
        )
    return AIRolesRead.model_validate(row)


async def get_ai_roles(session: AsyncSession, org_id: uuid.UUID) -> AIRolesRead:
    row = await OrganisationAIRolesRepository(session).get(org_id)
    return _roles_read(org_id, row)


async def put_ai_roles(
    session: AsyncSession, principal: Principal, body: AIRolesUpdate, if_match: str | None
) -> AIRolesRead:
    """Replace the roles. Before they are first set the ETag is ``"0"``."""
    org_id = principal.org_id
    repository = OrganisationAIRolesRepository(session)
    row = await repository.get(org_id, for_update=True)
    check_version(if_match, row.version if row is not None else 0)
    before = _fields(_roles_read(org_id, row))
    created = row is None
    if row is None:
        row = OrganisationAIRoles(org_id=org_id, version=0, updated_by=principal.subject)
        repository.add(row)
    row.roles = [r.value for r in body.roles]
    row.note = body.note
    row.next_review_at = body.next_review_at
    changes = field_changes(before, _fields(_roles_read_unsaved(row)))
    if not changes and not created:
        return _roles_read(org_id, row)
    row.version += 1
    row.updated_by = principal.subject
    row.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two first writes at once: both saw no row (ETag "0"); the other one's insert won, so
        # this one was made against a version that no longer is.
        raise PreconditionFailed(
            "The organisation's AI roles were set by a concurrent request; read them again.",
            current_version=1,
        ) from exc
    state = _roles_read(org_id, row)
    action = "created" if row.version == 1 else "updated"
    await _record(session, principal, AI_ROLES, org_id, row.version, action, changes)
    await emit(
        session,
        make_event(
            AI_ROLES_UPDATED, org_id=org_id, subject=org_id, version=row.version, data=state
        ),
    )
    return state


def _roles_read_unsaved(row: OrganisationAIRoles) -> AIRolesRead:
    return AIRolesRead(
        org_id=row.org_id,
        roles=list(row.roles),
        note=row.note,
        next_review_at=row.next_review_at,
        version=row.version,
        updated_at=None,
        updated_by=None,
    )


# --- History ----------------------------------------------------------------------------------


async def history(
    session: AsyncSession,
    entity_type: str,
    entity_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
) -> tuple[list[ContextChangeRead], Sequence[ContextChange]]:
    rows = await ContextChangeRepository(session).page(
        entity_type, entity_id, limit=limit + 1, after=after
    )
    return [ContextChangeRead.model_validate(r) for r in rows[:limit]], rows
