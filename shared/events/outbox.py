"""The transactional outbox: an event is a row written in the same transaction as the change.

Every event also appends an entry to the organisation's audit trail (``shared.audit``) in that
transaction: events carry the entity's full state, so the event is the change's "after".

Events stay bounded in size: :func:`emit` and :func:`emit_many` measure each envelope against
:data:`limits` (64 KiB unless configured). In tests (``strict``) a larger event raises
:class:`EventTooLarge`, so every event type's bound is checked wherever tests emit it; in
production it is logged as an error and still written (the relay parks it if the broker cannot
take it, so it never blocks the events behind it).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import PREVIOUS_STATE, AuditChange, append_audit, append_audit_batch
from shared.db import outbox_table, utcnow
from shared.events.envelope import CloudEvent

logger = logging.getLogger("aims.outbox")

DEFAULT_MAX_EVENT_BYTES = 64 * 1024


@dataclass
class EventLimits:
    """The bound on one event's encoded envelope; set once at startup by the app factory."""

    max_bytes: int = DEFAULT_MAX_EVENT_BYTES
    strict: bool = False


limits = EventLimits()


def configure_event_limits(*, max_bytes: int, strict: bool) -> None:
    """Set the bound every emitted event is measured against (``strict``: raise past it)."""
    limits.max_bytes = max_bytes
    limits.strict = strict


class EventTooLarge(ValueError):
    """An event's envelope is larger than the configured bound: carry what changed instead."""


def entity_type_of(event_type: str) -> str:
    """``evidence`` for ``aims.evidence.evidence.approved``; the middle of longer types."""
    parts = event_type.split(".")
    if len(parts) >= 4:
        return ".".join(parts[2:-1])
    return parts[-2] if len(parts) >= 2 else event_type


def _checked_envelope(event: CloudEvent) -> dict[str, Any]:
    envelope = event.model_dump(mode="json")
    size = len(json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode())
    if size > limits.max_bytes:
        message = (
            f"{event.type} event of {size} bytes exceeds the bound of {limits.max_bytes} bytes"
        )
        if limits.strict:
            raise EventTooLarge(message)
        logger.error(message, extra={"event_id": event.id, "event_type": event.type})
    return envelope


def _row(event: CloudEvent, envelope: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": uuid.UUID(event.id),
        "org_id": uuid.UUID(event.orgid) if event.orgid else None,
        "type": event.type,
        "subject": event.type,
        "envelope": envelope,
        "created_at": utcnow(),
        "attempts": 0,
    }


async def emit(
    session: AsyncSession,
    event: CloudEvent,
    *,
    before: Any = PREVIOUS_STATE,
    audit_after: Any = None,
) -> None:
    """Queue ``event`` for publication; it is sent only if the surrounding transaction commits.

    The change is recorded in the audit trail as ``action = event.type`` with ``after`` the
    event's data (or ``audit_after`` when the event carries a summary of a larger state) and
    ``before`` the given state (``None`` for a creation) or, by default, the entity's state
    recorded by its previous entry.
    """
    envelope = _checked_envelope(event)
    await session.execute(outbox_table.insert().values(**_row(event, envelope)))
    if event.orgid:
        await append_audit(
            session,
            org_id=event.orgid,
            action=event.type,
            entity_type=entity_type_of(event.type),
            entity_id=event.subject or "",
            before=before,
            after=event.data if audit_after is None else audit_after,
        )


async def emit_many(session: AsyncSession, events: Sequence[CloudEvent]) -> None:
    """Queue many events in one batched statement, each audited as :func:`emit` would."""
    if not events:
        return
    rows = [_row(event, _checked_envelope(event)) for event in events]
    await session.execute(outbox_table.insert(), rows)
    await audit_events(session, events)


async def audit_events(
    session: AsyncSession, events: Iterable[CloudEvent | Mapping[str, Any]]
) -> None:
    """Record in the audit trail events written to the outbox in bulk, without :func:`emit`.

    Takes events or their JSON envelopes; one batched append per organisation.
    """
    by_org: defaultdict[str, list[AuditChange]] = defaultdict(list)
    for event in events:
        envelope: Mapping[str, Any] = (
            {"orgid": event.orgid, "type": event.type, "subject": event.subject, "data": event.data}
            if isinstance(event, CloudEvent)
            else event
        )
        if not envelope.get("orgid"):
            continue
        by_org[str(envelope["orgid"])].append(
            AuditChange(
                action=str(envelope["type"]),
                entity_type=entity_type_of(str(envelope["type"])),
                entity_id=str(envelope.get("subject") or ""),
                after=envelope.get("data"),
            )
        )
    for org_id, changes in by_org.items():
        await append_audit_batch(session, org_id=org_id, changes=changes)
