"""Retention of the event bookkeeping, and the stream's limits.

The scheduled retention job (a timer of each service's scheduler) deletes published outbox rows,
inbox entries, idempotency keys and resolved dead letters past their periods, and keeps what is
still needed (unpublished or parked rows, unresolved dead letters, anything recent). The
JetStream stream is created with its age, size and message-size limits.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from shared.db import (
    Database,
    dead_letter_table,
    idempotency_table,
    inbox_table,
    outbox_table,
    tenant_transaction,
    utcnow,
    uuid7,
)
from shared.events.retention import RETENTION_ENTITY, RETENTION_KIND, SERVICE_ORG
from shared.scheduler import get_timer, set_timer
from shared.testing import eventually

pytestmark = pytest.mark.engines

LONG_AGO = timedelta(days=400)  # past every default retention period


async def register(stack: Any, org: uuid.UUID, name: str, key: str) -> str:
    response = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": name},
        headers={**stack.headers(org, "manager"), "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_the_retention_job_prunes_what_is_past_its_period_and_keeps_the_rest(
    stack: Any, org: uuid.UUID
) -> None:
    old_system = await register(stack, org, "Old news", "old-key")
    new_system = await register(stack, org, "Fresh", "new-key")
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=2)
    try:

        async def published() -> bool:
            async with db.sessions() as session:
                waiting = await session.execute(
                    sa.select(sa.func.count()).where(
                        outbox_table.c.org_id == org, outbox_table.c.published_at.is_(None)
                    )
                )
                return waiting.scalar_one() == 0

        await eventually(published)
        past = utcnow() - LONG_AGO
        kept_inbox, pruned_inbox = uuid7(), uuid7()
        resolved, unresolved = uuid7(), uuid7()
        # Advance the clock for some rows only: they are now past their retention periods.
        async with tenant_transaction(db, org) as session:
            await session.execute(
                outbox_table.update()
                .where(
                    outbox_table.c.org_id == org,
                    outbox_table.c.envelope["subject"].astext == old_system,
                )
                .values(created_at=past, published_at=past)
            )
            await session.execute(
                idempotency_table.update()
                .where(idempotency_table.c.key == "old-key")
                .values(created_at=past)
            )
            await session.execute(
                inbox_table.insert(),
                [
                    {"consumer": "retention-test", "event_id": pruned_inbox, "processed_at": past},
                    {
                        "consumer": "retention-test",
                        "event_id": kept_inbox,
                        "processed_at": utcnow(),
                    },
                ],
            )
            letter = {
                "consumer": "retention-test",
                "org_id": org,
                "subject": "aims.test.thing.changed",
                "payload": b"{}",
                "error": "test",
                "deliveries": 1,
                "created_at": past,
            }
            await session.execute(
                dead_letter_table.insert(),
                [
                    {**letter, "id": resolved, "replayed_at": past},
                    {**letter, "id": unresolved, "replayed_at": None},
                ],
            )
            # Due now: the service's scheduler fires it on its next tick.
            await set_timer(
                session,
                org_id=SERVICE_ORG,
                kind=RETENTION_KIND,
                entity_id=RETENTION_ENTITY,
                due_at=utcnow(),
            )

        async def state() -> dict[str, Any]:
            async with tenant_transaction(db, org) as session:
                subjects = (
                    await session.execute(
                        sa.select(outbox_table.c.envelope["subject"].astext).where(
                            outbox_table.c.org_id == org
                        )
                    )
                ).scalars()
                keys = (await session.execute(sa.select(idempotency_table.c.key))).scalars()
                inbox = (
                    await session.execute(
                        sa.select(inbox_table.c.event_id).where(
                            inbox_table.c.consumer == "retention-test"
                        )
                    )
                ).scalars()
                letters = (
                    await session.execute(
                        sa.select(dead_letter_table.c.id).where(
                            dead_letter_table.c.consumer == "retention-test"
                        )
                    )
                ).scalars()
                return {
                    "outbox": set(subjects),
                    "keys": set(keys),
                    "inbox": set(inbox),
                    "letters": set(letters),
                }

        async def pruned() -> dict[str, Any] | None:
            now = await state()
            return now if old_system not in now["outbox"] else None

        after = await eventually(pruned, timeout=30)
        assert after["outbox"] == {new_system}
        assert after["keys"] == {"new-key"}
        assert after["inbox"] == {kept_inbox}
        assert after["letters"] == {unresolved}

        # The job re-armed itself for the next run (one interval later), not marked fired.
        async with db.sessions() as session:
            timer = await get_timer(
                session, org_id=SERVICE_ORG, kind=RETENTION_KIND, entity_id=RETENTION_ENTITY
            )
        assert timer is not None and timer.fired_at is None
        assert timer.due_at > utcnow() + timedelta(minutes=30)
    finally:
        await db.dispose()
    metrics = (await stack.inventory.get("/metrics")).text
    assert 'aims_retention_pruned_total{service="inventory",table="outbox"}' in metrics


async def test_the_stream_has_age_size_and_message_limits(stack: Any) -> None:
    import nats

    settings = stack.apps["inventory"].state.ctx.settings
    nc = await nats.connect(stack.engines.nats_url)
    try:
        info = await nc.jetstream().stream_info(stack.engines.stream)
    finally:
        await nc.close()
    assert info.config.max_age == pytest.approx(settings.nats_stream_max_age_seconds)
    assert info.config.max_bytes == settings.nats_stream_max_bytes
    assert info.config.max_msg_size == settings.nats_stream_max_msg_bytes
    # Longer than any consumer may be down, and than the inbox is kept for: documented.
    assert settings.nats_stream_max_age_seconds >= 7 * 86_400
    assert settings.inbox_retention_days * 86_400 > settings.nats_stream_max_age_seconds
