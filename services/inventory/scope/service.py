"""Scope use cases (4.3). Services flush, never commit: the request owns the transaction, so an
approval, the systems' ``in_scope`` flags and ``scope.changed`` commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.components.graph import Reach, transitive_dependencies
from services.inventory.scope.checks import approval_reasons, dependency_warnings
from services.inventory.scope.errors import (
    NoApprovedScope,
    ScopeApprovalRefused,
    ScopeVersionNotDraft,
    ScopeVersionNotFound,
)
from services.inventory.scope.events import SCOPE_CHANGED, SYSTEM_SCOPE_CHANGED
from services.inventory.scope.models import ScopeVersion
from services.inventory.scope.repository import ScopedSystemRepository, ScopeVersionRepository
from services.inventory.scope.schemas import (
    Boundary,
    BoundaryChange,
    BoundaryDiff,
    ScopeApproval,
    ScopeChanged,
    ScopeCheck,
    ScopeDiff,
    ScopeStatus,
    ScopeVersionCheck,
    ScopeVersionCreate,
    ScopeVersionRead,
    ScopeVersionUpdate,
    SystemChange,
    SystemEntry,
    SystemScopeChanged,
    SystemsDiff,
    VersionRef,
)
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import emit, make_event
from shared.events.outbox import emit_many
from shared.http import check_version

CONTENT = ("statement", "activities", "locations", "departments", "systems")


async def _get(session: AsyncSession, version_id: uuid.UUID, *, lock: bool = False) -> ScopeVersion:
    row = await ScopeVersionRepository(session).get(version_id, for_update=lock)
    if row is None:
        raise ScopeVersionNotFound(f"No scope version {version_id} in your organisation.")
    return row


async def _current(session: AsyncSession, *, lock: bool = False) -> ScopeVersion | None:
    return await ScopeVersionRepository(session).approved(for_update=lock)


def _dump(entries: Sequence[Boundary | SystemEntry] | None) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in entries or ()]


async def create_version(
    session: AsyncSession, principal: Principal, body: ScopeVersionCreate
) -> ScopeVersionRead:
    versions = ScopeVersionRepository(session)
    await versions.lock_organisation(principal.org_id)
    last = await versions.last_number()
    content: dict[str, Any] = {
        "statement": "",
        "activities": [],
        "locations": [],
        "departments": [],
        "systems": [],
    }
    based_on: uuid.UUID | None = None
    if body.copy_from_current:
        current = await _current(session)
        if current is None:
            raise NoApprovedScope("There is no approved scope version to copy from yet.")
        based_on = current.id
        content = {name: getattr(current, name) for name in CONTENT}
    sent = body.model_dump(exclude_unset=True, exclude={"copy_from_current"}, mode="json")
    content.update({k: v for k, v in sent.items() if v is not None})
    now = utcnow()
    row = ScopeVersion(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        number=(last or 0) + 1,
        status=ScopeStatus.DRAFT.value,
        based_on_id=based_on,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
        **content,
    )
    versions.add(row)
    await session.flush()
    return ScopeVersionRead.model_validate(row)


async def get_version(session: AsyncSession, version_id: uuid.UUID) -> ScopeVersionRead:
    return ScopeVersionRead.model_validate(await _get(session, version_id))


async def current_version(session: AsyncSession) -> ScopeVersionRead:
    row = await _current(session)
    if row is None:
        raise NoApprovedScope("No scope version has been approved yet.")
    return ScopeVersionRead.model_validate(row)


async def list_versions(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    status: ScopeStatus | None = None,
    ids: list[uuid.UUID] | None = None,
) -> tuple[list[ScopeVersionRead], list[ScopeVersion]]:
    rows = await ScopeVersionRepository(session).page(
        limit=limit + 1, after=after, status=status, ids=ids
    )
    return [ScopeVersionRead.model_validate(r) for r in rows[:limit]], rows


def _require_draft(row: ScopeVersion) -> None:
    if row.status != ScopeStatus.DRAFT.value:
        raise ScopeVersionNotDraft(
            f"Scope version {row.number} is {row.status}; create a new draft to change the scope."
        )


async def update_version(
    session: AsyncSession,
    principal: Principal,
    version_id: uuid.UUID,
    body: ScopeVersionUpdate,
    if_match: str | None,
) -> ScopeVersionRead:
    row = await _get(session, version_id, lock=True)
    check_version(if_match, row.version)
    _require_draft(row)
    sent = {
        k: v for k, v in body.model_dump(exclude_unset=True, mode="json").items() if v is not None
    }
    changed = {k: v for k, v in sent.items() if getattr(row, k) != v}
    if not changed:
        return ScopeVersionRead.model_validate(row)
    for name, value in changed.items():
        setattr(row, name, value)
    row.version += 1
    row.updated_by = principal.subject
    row.updated_at = utcnow()
    await session.flush()
    return ScopeVersionRead.model_validate(row)


# --- Checks and approval ----------------------------------------------------------------------


async def _check(session: AsyncSession, row: ScopeVersion) -> ScopeCheck:
    state = ScopeVersionRead.model_validate(row)
    systems = ScopedSystemRepository(session)
    facts = await systems.facts([e.system_id for e in state.systems])
    reasons = approval_reasons(
        activities=state.activities,
        locations=state.locations,
        departments=state.departments,
        systems=state.systems,
        facts=facts,
    )
    in_scope = {e.system_id for e in state.systems if e.included and e.system_id in facts}
    reach: dict[uuid.UUID, Reach] = {}
    for system_id in sorted(in_scope):
        reach[system_id] = await transitive_dependencies(session, system_id)
    component_ids = {
        i.node.id for r in reach.values() for i in r.items if i.node.type == "component"
    }
    component_system = await systems.systems_of_components(component_ids)
    warnings = dependency_warnings(
        reach,
        in_scope=in_scope,
        component_system=component_system,
        names={f.id: f.name for f in facts.values()},
    )
    return ScopeCheck(approvable=not reasons, reasons=reasons, warnings=warnings)


async def check_version_approval(session: AsyncSession, version_id: uuid.UUID) -> ScopeCheck:
    """What approving the version now would answer, changing nothing."""
    return await _check(session, await _get(session, version_id))


async def check_versions_approval(
    session: AsyncSession, version_ids: list[uuid.UUID]
) -> list[ScopeVersionCheck]:
    """:func:`check_version_approval` of each known version, in the order asked."""
    unique = list(dict.fromkeys(version_ids))
    rows = await ScopeVersionRepository(session).page(limit=len(unique), after=None, ids=unique)
    by_id = {row.id: row for row in rows}
    checks: list[ScopeVersionCheck] = []
    for version_id in unique:
        if (row := by_id.get(version_id)) is not None:
            check = await _check(session, row)
            checks.append(ScopeVersionCheck(scope_version_id=version_id, **check.model_dump()))
    return checks


async def approve_version(
    session: AsyncSession, principal: Principal, version_id: uuid.UUID, if_match: str | None
) -> ScopeApproval:
    await ScopeVersionRepository(session).lock_organisation(principal.org_id)
    row = await _get(session, version_id, lock=True)
    if if_match is not None:
        check_version(if_match, row.version)
    _require_draft(row)
    check = await _check(session, row)
    if check.reasons:
        raise ScopeApprovalRefused(
            f"Scope version {row.number} cannot be approved: {len(check.reasons)} reason(s); "
            "see `reasons`.",
            reasons=[r.model_dump(mode="json") for r in check.reasons],
            warnings=[w.model_dump(mode="json") for w in check.warnings],
        )
    now = utcnow()
    previous = await _current(session, lock=True)
    if previous is not None:
        previous.status = ScopeStatus.SUPERSEDED.value
        previous.superseded_at = now
        previous.version += 1
        previous.updated_by = principal.subject
        previous.updated_at = now
        await session.flush()  # before the new approval: one approved version at any time
    row.status = ScopeStatus.APPROVED.value
    row.approved_by = principal.subject
    row.approved_at = now
    row.version += 1
    row.updated_by = principal.subject
    row.updated_at = now
    await session.flush()
    state = ScopeVersionRead.model_validate(row)
    systems_in = sorted({e.system_id for e in state.systems if e.included})
    systems = ScopedSystemRepository(session)
    changed = await systems.set_in_scope(systems_in)
    registered = await systems.count()
    inside = len(await systems.facts(systems_in)) if systems_in else 0
    # Bounded events whatever the register's size: one per system whose membership changed,
    # and a summary of the version (its content is read over the API).
    await emit_many(
        session,
        [
            make_event(
                SYSTEM_SCOPE_CHANGED,
                org_id=row.org_id,
                subject=system_id,
                version=row.number,
                data=SystemScopeChanged(
                    system_id=system_id,
                    org_id=row.org_id,
                    in_scope=included,
                    scope_version_id=row.id,
                    scope_number=row.number,
                ),
            )
            for system_id, included in changed
        ],
    )
    data = ScopeChanged(
        id=state.id,
        org_id=state.org_id,
        number=state.number,
        status=state.status,
        version=state.version,
        based_on_id=state.based_on_id,
        approved_by=state.approved_by,
        approved_at=state.approved_at,
        previous_version_id=previous.id if previous is not None else None,
        systems_listed=len(state.systems),
        systems_in=inside,
        systems_out=registered - inside,
        membership_changes=len(changed),
        activities=len(state.activities),
        locations=len(state.locations),
        departments=len(state.departments),
    )
    await emit(
        session,
        make_event(SCOPE_CHANGED, org_id=row.org_id, subject=row.id, version=row.number, data=data),
        # The audit trail keeps the version's full content; the event carries the summary.
        audit_after=state.model_dump(mode="json"),
    )
    return ScopeApproval(scope_version=state, warnings=check.warnings)


# --- Diff -------------------------------------------------------------------------------------


def _boundary_diff(before: Sequence[Boundary], after: Sequence[Boundary]) -> BoundaryDiff:
    old = {b.name.casefold(): b for b in before}
    new = {b.name.casefold(): b for b in after}
    return BoundaryDiff(
        added=[b for k, b in new.items() if k not in old],
        removed=[b for k, b in old.items() if k not in new],
        changed=[
            BoundaryChange(name=b.name, before=old[k], after=b)
            for k, b in new.items()
            if k in old and old[k] != b
        ],
    )


def _systems_diff(before: Sequence[SystemEntry], after: Sequence[SystemEntry]) -> SystemsDiff:
    old = {e.system_id: e for e in before}
    new = {e.system_id: e for e in after}
    was_in = {i for i, e in old.items() if e.included}
    now_in = {i for i, e in new.items() if e.included}
    return SystemsDiff(
        added=[e for i, e in new.items() if i not in old],
        removed=[e for i, e in old.items() if i not in new],
        changed=[
            SystemChange(system_id=i, before=old[i], after=e)
            for i, e in new.items()
            if i in old and old[i] != e
        ],
        now_included=sorted(now_in - was_in),
        now_excluded=sorted(was_in - now_in),
    )


def diff(a: ScopeVersionRead, b: ScopeVersionRead) -> ScopeDiff:
    """What changed from ``a`` to ``b``."""
    return ScopeDiff(
        from_version=VersionRef(id=a.id, number=a.number, status=a.status),
        to_version=VersionRef(id=b.id, number=b.number, status=b.status),
        statement_changed=a.statement != b.statement,
        statement_before=a.statement,
        statement_after=b.statement,
        activities=_boundary_diff(a.activities, b.activities),
        locations=_boundary_diff(a.locations, b.locations),
        departments=_boundary_diff(a.departments, b.departments),
        systems=_systems_diff(a.systems, b.systems),
    )


async def diff_versions(session: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> ScopeDiff:
    return diff(await get_version(session, a), await get_version(session, b))
