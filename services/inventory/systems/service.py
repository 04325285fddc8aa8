"""Use cases of the AI system register. Services flush, never commit: the request (or CLI
command) owns the transaction, so a change, its history row and its outbox event commit
together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.systems.errors import (
    AISystemNotFound,
    CustomFieldKeyTaken,
    CustomFieldNotFound,
)
from services.inventory.systems.events import SYSTEM_REGISTERED
from services.inventory.systems.models import AISystem, AISystemChange, CustomField
from services.inventory.systems.repository import (
    AISystemRepository,
    CustomFieldRepository,
    SystemFilter,
    read_system_row,
)
from services.inventory.systems.rules import (
    EDITABLE,
    RegisterFacts,
    change_event_type,
    changes_of,
    check_system,
    custom_filter_values,
    plain,
    raise_problems,
    sent_fields,
)
from services.inventory.systems.schemas import (
    AISystemChangeRead,
    AISystemCreate,
    AISystemRead,
    AISystemSort,
    AISystemUpdate,
    CompletenessCounts,
    CompletenessItem,
    CustomFieldCreate,
    CustomFieldRead,
    CustomFieldUpdate,
    SystemGaps,
)
from shared.audit import append_audit
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.errors import InvalidCursor, ValidationFailed
from shared.events import emit, make_event
from shared.http import check_version, encode_cursor
from shared.text import name_key


async def register_facts(
    session: AsyncSession, vendor_ids: Iterable[uuid.UUID | None] = ()
) -> RegisterFacts:
    """What :func:`rules.check_system` needs from the organisation, for systems that name
    ``vendor_ids``: loaded once per request, or once for all rows of an import."""
    wanted = {v for v in vendor_ids if v is not None}
    vendors = await AISystemRepository(session).existing_vendors(wanted) if wanted else set()
    return RegisterFacts(
        custom_fields=await CustomFieldRepository(session).all(), vendors=frozenset(vendors)
    )


def _record_change(
    session: AsyncSession,
    system: AISystem,
    principal: Principal,
    changes: dict[str, dict[str, Any]],
) -> None:
    AISystemRepository(session).add_change(
        AISystemChange(
            id=uuid7(),
            org_id=system.org_id,
            system_id=system.id,
            version=system.version,
            changed_by=principal.subject,
            changed_at=system.updated_at,
            changes=changes,
        )
    )


async def register_system(
    session: AsyncSession, principal: Principal, body: AISystemCreate
) -> AISystemRead:
    facts = await register_facts(session, [body.vendor_id])
    checked = check_system(sent_fields(body), facts)
    raise_problems(checked.problems)
    now = utcnow()
    system = AISystem(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        **checked.values,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    AISystemRepository(session).add(system)
    await session.flush()
    changes = {
        f: {"from": None, "to": plain(v)}
        for f in EDITABLE
        if (v := getattr(system, f)) not in (None, "", [], {})
    }
    _record_change(session, system, principal, changes)
    await session.flush()
    state = AISystemRead.model_validate(system)
    await emit(
        session,
        make_event(
            SYSTEM_REGISTERED, org_id=system.org_id, subject=system.id, version=1, data=state
        ),
        before=None,  # a creation: no earlier state to look up in the trail
    )
    return state


async def get_system(session: AsyncSession, system_id: uuid.UUID) -> AISystemRead:
    # The row validated straight into the answer: no ORM object is built for a read.
    row = await AISystemRepository(session).read_row(system_id)
    if row is None:
        raise AISystemNotFound(f"No AI system {system_id} in your organisation.")
    return AISystemRead.model_validate(dict(row))


async def read_system(connection: Any, system_id: uuid.UUID) -> AISystemRead:
    """:func:`get_system` on a driver connection (``TenantConnection``): no session at all."""
    row = await read_system_row(connection, system_id)
    if row is None:
        raise AISystemNotFound(f"No AI system {system_id} in your organisation.")
    return AISystemRead.model_validate(row)


# --- Listing ----------------------------------------------------------------------------------


def sort_value(system: AISystemRead, sort: AISystemSort) -> Any:
    return getattr(system, sort.value.lstrip("-"))


def encode_position(system: AISystemRead, sort: AISystemSort) -> dict[str, Any]:
    return {"s": sort.value, "v": plain(sort_value(system, sort)), "id": str(system.id)}


def decode_position(cursor: dict[str, Any], sort: AISystemSort) -> tuple[Any, uuid.UUID]:
    """The sort key and id a page starts after; the cursor must come from the same sort."""
    if cursor.get("s") != sort.value:
        raise InvalidCursor("The cursor belongs to another sort order; start again without it.")
    raw = cursor.get("v")
    try:
        after_id = uuid.UUID(str(cursor.get("id")))
        field = sort.value.lstrip("-")
        value: Any
        if raw is None:
            if field != "next_review_at":
                raise ValueError("only the review date may be null")
            value = None
        elif not isinstance(raw, str):
            raise ValueError("not a string")
        elif field == "name":
            value = raw
        elif field == "next_review_at":
            value = date.fromisoformat(raw)
        else:
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError("naive timestamp")
    except ValueError as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc
    return value, after_id


async def list_systems(
    session: AsyncSession,
    *,
    limit: int,
    filters: SystemFilter,
    sort: AISystemSort = AISystemSort.CREATED_AT,
    cursor: dict[str, Any] | None = None,
    custom_filters: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[AISystemRead], str | None]:
    """One page of systems and the cursor of the next (None on the last page).

    ``custom_filters`` (custom field key -> any of these values, as typed in a query string)
    are checked against the organisation's definitions and compared in stored form.
    """
    after = decode_position(cursor, sort) if cursor is not None else None
    repo = AISystemRepository(session)
    if filters.business_functions:
        # Case-insensitive by the register's one Unicode fold, not SQL ``lower()`` (which folds
        # only ASCII in a ``C`` database): "équipe ia" finds "Équipe IA", "οδος" finds "ΟΔΟΣ".
        wanted = {name_key(b) for b in filters.business_functions}
        spellings = await repo.business_function_spellings()
        filters = replace(
            filters, business_function_values=[s for s in spellings if name_key(s) in wanted]
        )
    if custom_filters:
        definitions = await CustomFieldRepository(session).all()
        filters = replace(filters, custom=custom_filter_values(custom_filters, definitions))
    rows = await repo.find(limit=limit + 1, filters=filters, sort=sort, after=after)
    items = [AISystemRead.model_validate(r) for r in rows[:limit]]
    following = (
        encode_cursor(encode_position(items[-1], sort)) if len(rows) > limit and items else None
    )
    return items, following


# --- Updating ---------------------------------------------------------------------------------


async def update_system(
    session: AsyncSession,
    principal: Principal,
    system_id: uuid.UUID,
    body: AISystemUpdate,
    if_match: str | None,
) -> AISystemRead:
    repo = AISystemRepository(session)
    system = await repo.get(system_id, for_update=True)
    if system is None:
        raise AISystemNotFound(f"No AI system {system_id} in your organisation.")
    check_version(if_match, system.version)
    sent = sent_fields(body)
    facts = await register_facts(session, [sent.get("vendor_id")])
    checked = check_system(sent, facts, system)
    raise_problems(checked.problems)
    changes = changes_of(system, checked.values)
    if not changes:
        return AISystemRead.model_validate(system)
    event_type = change_event_type(
        system.lifecycle_stage, checked.values.get("lifecycle_stage", system.lifecycle_stage)
    )
    for field in changes:
        setattr(system, field, checked.values[field])
    system.version += 1
    system.updated_by = principal.subject
    system.updated_at = utcnow()
    _record_change(session, system, principal, changes)
    await session.flush()
    state = AISystemRead.model_validate(system)
    await emit(
        session,
        make_event(
            event_type, org_id=system.org_id, subject=system.id, version=system.version, data=state
        ),
    )
    return state


# --- History and completeness -----------------------------------------------------------------


async def system_history(
    session: AsyncSession, system_id: uuid.UUID, *, limit: int, before_version: int | None
) -> tuple[list[AISystemChangeRead], int | None]:
    """A page of a system's changes, newest first, and the version the next page starts below."""
    repo = AISystemRepository(session)
    if await repo.get(system_id) is None:
        raise AISystemNotFound(f"No AI system {system_id} in your organisation.")
    rows = await repo.history(system_id, limit=limit + 1, before_version=before_version)
    items = [AISystemChangeRead.model_validate(r) for r in rows[:limit]]
    return items, (items[-1].version if len(rows) > limit and items else None)


async def completeness(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
    today: date | None = None,
) -> tuple[list[SystemGaps], CompletenessCounts, bool]:
    today = today or date.today()
    repo = AISystemRepository(session)
    rows = await repo.gaps(org_id=org_id, today=today, limit=limit + 1, after=after)
    items = [
        SystemGaps(
            id=system.id,
            name=system.name,
            owner=system.owner,
            missing=[item for item in CompletenessItem if missing[item]],
            review_overdue=overdue,
            next_review_at=system.next_review_at,
        )
        for system, missing, overdue in rows[:limit]
    ]
    counts = CompletenessCounts(**await repo.gap_counts(org_id=org_id, today=today))
    return items, counts, len(rows) > limit


# --- Mirrors ----------------------------------------------------------------------------------


async def set_scope_membership(
    session: AsyncSession, *, included: Sequence[uuid.UUID], excluded: Sequence[uuid.UUID]
) -> None:
    """Record which systems the newly approved scope includes (for the scope domain).

    ``in_scope`` is a mirror of the approved scope, not a fact the register owns: it changes
    neither the version nor the history, and ``scope.changed`` is the event that announces it.
    """
    await AISystemRepository(session).set_in_scope(included=included, excluded=excluded)


# --- Custom fields ----------------------------------------------------------------------------


async def create_custom_field(
    session: AsyncSession, principal: Principal, body: CustomFieldCreate
) -> CustomFieldRead:
    repo = CustomFieldRepository(session)
    if await repo.key_exists(body.key):
        raise CustomFieldKeyTaken(f"Your organisation already has a custom field `{body.key}`.")
    now = utcnow()
    field = CustomField(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        key=body.key,
        label=body.label,
        type=body.type.value,
        choices=list(body.choices),
        required=body.required,
        created_at=now,
        updated_at=now,
    )
    repo.add(field)
    await session.flush()
    state = CustomFieldRead.model_validate(field)
    # Custom-field definitions emit no event; the trail records them explicitly.
    await append_audit(
        session,
        org_id=principal.org_id,
        action="aims.inventory.custom_field.created",
        entity_type="custom_field",
        entity_id=field.id,
        before=None,
        after=state.model_dump(mode="json"),
    )
    return state


async def _custom_field(
    session: AsyncSession, field_id: uuid.UUID, *, for_update: bool = False
) -> CustomField:
    field = await CustomFieldRepository(session).get(field_id, for_update=for_update)
    if field is None:
        raise CustomFieldNotFound(f"No custom field {field_id} in your organisation.")
    return field


async def get_custom_field(session: AsyncSession, field_id: uuid.UUID) -> CustomFieldRead:
    return CustomFieldRead.model_validate(await _custom_field(session, field_id))


async def list_custom_fields(
    session: AsyncSession, *, limit: int, after: str | None
) -> tuple[list[CustomFieldRead], str | None]:
    rows = await CustomFieldRepository(session).page(limit=limit + 1, after=after)
    items = [CustomFieldRead.model_validate(r) for r in rows[:limit]]
    return items, (items[-1].key if len(rows) > limit and items else None)


async def update_custom_field(
    session: AsyncSession, field_id: uuid.UUID, body: CustomFieldUpdate, if_match: str | None
) -> CustomFieldRead:
    field = await _custom_field(session, field_id, for_update=True)
    check_version(if_match, field.version)
    sent = {f: getattr(body, f) for f in body.model_fields_set if getattr(body, f) is not None}
    if "choices" in sent:
        choices: list[str] = sent["choices"]
        if field.type != "choice":
            raise ValidationFailed(
                "Only choice fields have choices.",
                errors=[{"location": ["body", "choices"], "message": "not a choice field"}],
            )
        if not choices or len(set(choices)) != len(choices):
            raise ValidationFailed(
                "A choice field needs at least one choice, each once.",
                errors=[{"location": ["body", "choices"], "message": "empty or repeated"}],
            )
    changed = False
    for name, value in sent.items():
        if getattr(field, name) != value:
            setattr(field, name, list(value) if name == "choices" else value)
            changed = True
    if changed:
        before = CustomFieldRead.model_validate(field).model_dump(mode="json")
        field.version += 1
        field.updated_at = utcnow()
        await session.flush()
        await append_audit(
            session,
            org_id=field.org_id,
            action="aims.inventory.custom_field.updated",
            entity_type="custom_field",
            entity_id=field.id,
            before=before,
            after=CustomFieldRead.model_validate(field).model_dump(mode="json"),
        )
    return CustomFieldRead.model_validate(field)


async def delete_custom_field(
    session: AsyncSession, field_id: uuid.UUID, if_match: str | None
) -> None:
    """Remove a definition; values already on systems stay in their history and state."""
    field = await _custom_field(session, field_id, for_update=True)
    check_version(if_match, field.version)
    before = CustomFieldRead.model_validate(field).model_dump(mode="json")
    org_id, deleted_id = field.org_id, field.id
    await CustomFieldRepository(session).delete(field)
    await session.flush()
    await append_audit(
        session,
        org_id=org_id,
        action="aims.inventory.custom_field.deleted",
        entity_type="custom_field",
        entity_id=deleted_id,
        before=before,
        after=None,
    )
