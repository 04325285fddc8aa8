"""Storing classifications, their history and reclassification requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.classification.errors import ClassificationNotFound
from services.risk.classification.events import SYSTEM_CLASSIFIED
from services.risk.classification.models import ClassificationRecord
from services.risk.classification.procedure import Answers, Classification, classify
from services.risk.classification.schemas import (
    ClassificationNeeded,
    ClassificationRead,
    ReclassificationRequest,
)
from services.risk.systems.errors import SystemNotKnown
from services.risk.systems.hooks import on_facts_changed
from services.risk.systems.models import SystemProjection
from shared.auth import Principal
from shared.db import utcnow
from shared.events import emit, make_event

# Facts a classification relies on: a change to any asks for reclassification.
CLASSIFICATION_FACTS = frozenset(
    {"sector", "intended_purpose", "data_inputs", "ai_roles", "affected_stakeholders"}
)


def to_read(row: ClassificationRecord) -> ClassificationRead:
    result = Classification.model_validate(row.result)
    requested = (
        ReclassificationRequest(
            requested_at=row.reclassification_requested_at,
            changed_facts=list(row.reclassification_facts),
        )
        if row.reclassification_requested_at is not None
        else None
    )
    return ClassificationRead(
        id=row.id,
        system_id=row.system_id,
        org_id=row.org_id,
        version=row.version,
        current=row.is_current,
        risk_level=result.tier.value,
        **result.model_dump(),
        answers=Answers.model_validate(row.answers),
        classified_at=row.classified_at,
        classified_by=row.classified_by,
        reclassification_requested=requested,
    )


async def _system(session: AsyncSession, system_id: uuid.UUID) -> SystemProjection:
    system = await session.get(SystemProjection, system_id)
    if system is None:
        raise SystemNotKnown(f"The risk service has no AI system {system_id} in your organisation.")
    return system


async def classify_system(
    session: AsyncSession, principal: Principal, system_id: uuid.UUID, answers: Answers
) -> ClassificationRead:
    """Classify, store as the system's new current classification, and emit the event."""
    system = await session.get(SystemProjection, system_id, with_for_update=True)
    if system is None:
        raise SystemNotKnown(f"The risk service has no AI system {system_id} in your organisation.")
    result = classify(answers)
    previous = (
        await session.execute(
            sa.select(sa.func.max(ClassificationRecord.version)).where(
                ClassificationRecord.system_id == system_id
            )
        )
    ).scalar_one_or_none() or 0
    await session.execute(
        sa.update(ClassificationRecord)
        .where(ClassificationRecord.system_id == system_id, ClassificationRecord.is_current)
        .values(is_current=False)
    )
    row = ClassificationRecord(
        org_id=principal.org_id,
        system_id=system_id,
        version=previous + 1,
        is_current=True,
        role=answers.role.value,
        tier=result.tier.value,
        route=result.route.value,
        answers=answers.model_dump(mode="json"),
        result=result.model_dump(mode="json"),
        classified_by=principal.name or principal.subject,
        classified_at=utcnow(),
        reclassification_requested_at=None,
        reclassification_facts=[],
    )
    session.add(row)
    await session.flush()
    read = to_read(row)
    await emit(
        session,
        make_event(
            SYSTEM_CLASSIFIED,
            org_id=principal.org_id,
            subject=system_id,
            version=row.version,
            data=read,
        ),
    )
    return read


async def current(session: AsyncSession, system_id: uuid.UUID) -> ClassificationRead:
    await _system(session, system_id)
    row = (
        await session.execute(
            sa.select(ClassificationRecord).where(
                ClassificationRecord.system_id == system_id, ClassificationRecord.is_current
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise ClassificationNotFound(f"AI system {system_id} has not been classified yet.")
    return to_read(row)


async def history(
    session: AsyncSession, system_id: uuid.UUID, *, limit: int, before_version: int | None
) -> list[ClassificationRead]:
    """Newest first; ``limit`` rows after (older than) ``before_version``."""
    await _system(session, system_id)
    query = (
        sa.select(ClassificationRecord)
        .where(ClassificationRecord.system_id == system_id)
        .order_by(ClassificationRecord.version.desc())
        .limit(limit)
    )
    if before_version is not None:
        query = query.where(ClassificationRecord.version < before_version)
    return [to_read(r) for r in (await session.execute(query)).scalars()]


async def current_of(
    session: AsyncSession, system_ids: Sequence[uuid.UUID]
) -> list[ClassificationRead]:
    """Current classifications of ``system_ids`` in one query (absent when never classified)."""
    if not system_ids:
        return []
    rows = (
        await session.execute(
            sa.select(ClassificationRecord)
            .where(
                ClassificationRecord.system_id.in_(list(system_ids)),
                ClassificationRecord.is_current,
            )
            .order_by(ClassificationRecord.system_id)
        )
    ).scalars()
    return [to_read(r) for r in rows]


async def needed(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None
) -> list[ClassificationNeeded]:
    """Systems never classified or whose current classification asks for reclassification."""
    current_rows = sa.orm.aliased(ClassificationRecord)
    query = (
        sa.select(SystemProjection, current_rows)
        .outerjoin(
            current_rows,
            sa.and_(
                current_rows.system_id == SystemProjection.id, current_rows.is_current.is_(True)
            ),
        )
        .where(
            sa.or_(
                current_rows.id.is_(None), current_rows.reclassification_requested_at.is_not(None)
            )
        )
        .order_by(SystemProjection.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(SystemProjection.id > after)
    out: list[ClassificationNeeded] = []
    for system, record in (await session.execute(query)).all():
        if record is None:
            out.append(
                ClassificationNeeded(
                    system_id=system.id, name=system.name, reason="never_classified"
                )
            )
        else:
            out.append(
                ClassificationNeeded(
                    system_id=system.id,
                    name=system.name,
                    reason="reclassification_requested",
                    current_version=record.version,
                    reclassification_requested=to_read(record).reclassification_requested,
                )
            )
    return out


@on_facts_changed
async def request_reclassification(
    session: AsyncSession, system: SystemProjection, changed: frozenset[str]
) -> None:
    """Ask for a new classification when facts it relied on changed (the current one stays)."""
    relevant = changed & CLASSIFICATION_FACTS
    if not relevant:
        return
    row = (
        await session.execute(
            sa.select(ClassificationRecord)
            .where(ClassificationRecord.system_id == system.id, ClassificationRecord.is_current)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        return
    row.reclassification_requested_at = utcnow()
    row.reclassification_facts = sorted(set(row.reclassification_facts) | relevant)
    await session.flush()
