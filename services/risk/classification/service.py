"""Storing classifications, their history and reclassification requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.classification.errors import ClassificationNotFound
from services.risk.classification.events import SYSTEM_CLASSIFIED
from services.risk.classification.models import ClassificationRecord
from services.risk.classification.procedure import (
    STORED,
    Answers,
    Classification,
    InventoryFacts,
    classify,
    stored_answers,
)
from services.risk.classification.repository import ClassificationRepository
from services.risk.classification.schemas import (
    ClassificationNeeded,
    ClassificationRead,
    ClassificationSummary,
    ReclassificationRequest,
)
from services.risk.systems.errors import SystemNotKnown
from services.risk.systems.hooks import on_facts_changed
from services.risk.systems.models import SystemProjection
from shared.auth import Principal
from shared.db import utcnow
from shared.events import emit, make_event

M = TypeVar("M")

# Facts a classification relies on: a change to any asks for reclassification.
CLASSIFICATION_FACTS = frozenset(
    {"sector", "intended_purpose", "data_inputs", "ai_roles", "affected_stakeholders"}
)


# Validated stored answers and results by their content. Reading a classification validated
# both again on every read (the answers' validators were a third of a batch read's time);
# validation is a pure function of the stored JSON (the reference data is fixed per process),
# so identical content gets the identical validated model. Bounded; only successes are kept.
_VALIDATED_MAX = 1024
_answers_by_content: dict[bytes, Answers] = {}
_results_by_content: dict[bytes, Classification] = {}


def _content_key(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _remember(cache: dict[bytes, M], key: bytes, value: M) -> M:
    if len(cache) >= _VALIDATED_MAX:
        cache.pop(next(iter(cache)))  # the oldest entry
    cache[key] = value
    return value


def _stored_answers(value: dict[str, Any]) -> Answers:
    """Stored answers validated with the STORED context (answers under former rules read)."""
    key = _content_key(value)
    found = _answers_by_content.get(key)
    if found is None:
        found = _remember(_answers_by_content, key, stored_answers(value))
    return found


def _stored_result(value: dict[str, Any]) -> Classification:
    key = _content_key(value)
    found = _results_by_content.get(key)
    if found is None:
        found = _remember(_results_by_content, key, Classification.model_validate(value))
    return found


def to_read(row: ClassificationRecord) -> ClassificationRead:
    result = _stored_result(row.result)
    requested = (
        ReclassificationRequest(
            requested_at=row.reclassification_requested_at,
            changed_facts=list(row.reclassification_facts),
        )
        if row.reclassification_requested_at is not None
        else None
    )
    # The answers were validated with the STORED context (answers given under former rules
    # still read back); validated models are taken as they are, not validated again.
    return ClassificationRead.model_validate(
        {
            "id": row.id,
            "system_id": row.system_id,
            "org_id": row.org_id,
            "version": row.version,
            "current": row.is_current,
            "risk_level": result.tier.value,
            **{name: getattr(result, name) for name in type(result).model_fields},
            "answers": _stored_answers(row.answers),
            "classified_at": row.classified_at,
            "classified_by": row.classified_by,
            "reclassification_requested": requested,
        },
        context=STORED,
    )


async def _system(session: AsyncSession, system_id: uuid.UUID) -> SystemProjection:
    system = await ClassificationRepository(session).system(system_id)
    if system is None:
        raise SystemNotKnown(f"The risk service has no AI system {system_id} in your organisation.")
    return system


async def classify_system(
    session: AsyncSession, principal: Principal, system_id: uuid.UUID, answers: Answers
) -> ClassificationRead:
    """Classify, store as the system's new current classification, and emit the event."""
    records = ClassificationRepository(session)
    system = await records.system(system_id, for_update=True)
    if system is None:
        raise SystemNotKnown(f"The risk service has no AI system {system_id} in your organisation.")
    result = classify(
        answers, InventoryFacts(sector=system.sector, intended_purpose=system.intended_purpose)
    )
    previous = await records.last_version(system_id) or 0
    await records.retire_current(system_id)
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
    records.add(row)
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
    row = await ClassificationRepository(session).current(system_id)
    if row is None:
        raise ClassificationNotFound(f"AI system {system_id} has not been classified yet.")
    return to_read(row)


async def history(
    session: AsyncSession, system_id: uuid.UUID, *, limit: int, before_version: int | None
) -> list[ClassificationRead]:
    """Newest first; ``limit`` rows after (older than) ``before_version``."""
    await _system(session, system_id)
    rows = await ClassificationRepository(session).history(
        system_id, limit=limit, before_version=before_version
    )
    return [to_read(r) for r in rows]


async def current_of(
    session: AsyncSession, system_ids: Sequence[uuid.UUID]
) -> list[ClassificationRead]:
    """Current classifications of ``system_ids`` in one query (absent when never classified)."""
    return [to_read(r) for r in await ClassificationRepository(session).current_of(system_ids)]


async def current_summaries_of(
    session: AsyncSession, system_ids: Sequence[uuid.UUID]
) -> list[ClassificationSummary]:
    """Summaries of the current classifications of ``system_ids`` (``view=summary``): the
    same values as :func:`current_of` for the fields a summary has, without reading or
    validating the stored answers and the rest of the result."""
    rows = await ClassificationRepository(session).current_summaries_of(system_ids)
    return [
        ClassificationSummary(
            id=row.id,
            system_id=row.system_id,
            version=row.version,
            current=row.is_current,
            tier=row.tier,
            risk_level=row.tier,
            route=row.route,
            role=row.role,
            articles=row.articles,
            classified_at=row.classified_at,
            classified_by=row.classified_by,
            reclassification_requested=ReclassificationRequest(
                requested_at=row.reclassification_requested_at,
                changed_facts=list(row.reclassification_facts),
            )
            if row.reclassification_requested_at is not None
            else None,
        )
        for row in rows
    ]


async def needed(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None
) -> list[ClassificationNeeded]:
    """Systems never classified or whose current classification asks for reclassification."""
    out: list[ClassificationNeeded] = []
    rows = await ClassificationRepository(session).needing_classification(limit=limit, after=after)
    for system, record in rows:
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
    row = await ClassificationRepository(session).current(system.id, for_update=True)
    if row is None:
        return
    row.reclassification_requested_at = utcnow()
    row.reclassification_facts = sorted(set(row.reclassification_facts) | relevant)
    await session.flush()
