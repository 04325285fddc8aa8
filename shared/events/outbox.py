"""The transactional outbox: an event is a row written in the same transaction as the change.

Every event also appends an entry to the organisation's audit trail (``shared.audit``) in that
transaction: events carry the entity's full state, so the event is the change's "after".
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import PREVIOUS_STATE, AuditChange, append_audit, append_audit_batch
from shared.db import outbox_table, utcnow
from shared.events.envelope import CloudEvent


def entity_type_of(event_type: str) -> str:
    """``evidence`` for ``aims.evidence.evidence.approved``; the middle of longer types."""
    parts = event_type.split(".")
    if len(parts) >= 4:
        return ".".join(parts[2:-1])
    return parts[-2] if len(parts) >= 2 else event_type


async def emit(session: AsyncSession, event: CloudEvent, *, before: Any = PREVIOUS_STATE) -> None:
    """Queue ``event`` for publication; it is sent only if the surrounding transaction commits.

    The change is recorded in the audit trail as ``action = event.type`` with ``after`` the
    event's data and ``before`` the given state (``None`` for a creation) or, by default, the
    entity's state recorded by its previous entry.
    """
    await session.execute(
        outbox_table.insert().values(
            event_id=uuid.UUID(event.id),
            org_id=uuid.UUID(event.orgid) if event.orgid else None,
            type=event.type,
            subject=event.type,
            envelope=event.model_dump(mode="json"),
            created_at=utcnow(),
            attempts=0,
        )
    )
    if event.orgid:
        await append_audit(
            session,
            org_id=event.orgid,
            action=event.type,
            entity_type=entity_type_of(event.type),
            entity_id=event.subject or "",
            before=before,
            after=event.data,
        )


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
