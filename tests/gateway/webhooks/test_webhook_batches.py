"""The webhook consumer applies the events of one fetch together (issue 12): a fixed number of
statements however many events, every message in the transaction of its inbox row, each
organisation's rows under its own row-level security; and the worker sends what it leased
together, each message once, signed, with its own webhook-id.

The events are applied with :meth:`ConsumerRunner.apply_batch` (what the runner does with a
fetch) on an engine of the test's own, so that its statements can be counted apart from the
running gateway's; the running gateway's worker delivers the messages.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import pytest
import sqlalchemy as sa

from gateway.webhooks.consumers import HANDLERS, queue_webhooks
from shared.db import Database, utcnow, uuid7
from shared.events import CloudEvent
from shared.events.consumer import ConsumerRunner, EventHandler
from shared.testing import eventually
from tests.gateway.webhooks.test_delivery_webhooks import Receiver, subscribe, verify

pytestmark = pytest.mark.engines


def registered(org: uuid.UUID, name: str) -> CloudEvent:
    return CloudEvent(
        id=str(uuid7()),
        source="/inventory",
        type="aims.inventory.system.registered",
        time=utcnow(),
        subject=str(uuid7()),
        orgid=str(org),
        dataversion=1,
        data={"name": name},
    )


def evidence_created(org: uuid.UUID) -> CloudEvent:
    return CloudEvent(
        id=str(uuid7()),
        source="/evidence",
        type="aims.evidence.evidence.created",
        time=utcnow(),
        subject=str(uuid7()),
        orgid=str(org),
        dataversion=1,
    )


@pytest.fixture
async def db(stack: Any) -> AsyncIterator[Database]:
    """An engine of the test's own on the gateway's database (as the gateway's role)."""
    database = Database(stack.engines.databases["gateway"].app_url, pool_size=2)
    try:
        yield database
    finally:
        await database.dispose()


def runner(stack: Any, db: Database, handler: EventHandler = HANDLERS[0]) -> ConsumerRunner:
    ctx = stack.apps["gateway"].state.ctx
    return ConsumerRunner(
        db,
        cast(Any, None),  # apply_batch needs no broker
        handler,
        stream="unused",
        durable_prefix=f"test-{uuid.uuid4().hex[:8]}",
        metrics=ctx.metrics,
    )


def batch(a: uuid.UUID, b: uuid.UUID, size: int) -> list[CloudEvent]:
    """``size`` registrations in ``a``, then one in ``b``, then ``a`` again, with events
    no subscription wants in between (two organisation switches in one transaction)."""
    events = [registered(a, f"a{i}") for i in range(size)]
    events += [evidence_created(a) for _ in range(size)]
    events += [registered(b, "b0"), evidence_created(b), registered(a, "a-last")]
    return events


async def test_a_fetched_batch_is_queued_in_a_fixed_number_of_statements(
    stack: Any, db: Database, receiver: Receiver, superuser: asyncpg.Connection
) -> None:
    a, b = uuid7(), uuid7()
    secrets = {
        a: (await subscribe(stack, a, receiver.url, ["system.registered"]))["secret"],
        b: (await subscribe(stack, b, receiver.url, ["system.registered"]))["secret"],
    }
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    consumer = runner(stack, db)
    # A first batch arms each organisation's prune timer (once, not per batch).
    warm, small, large = batch(a, b, 1), batch(a, b, 1), batch(a, b, 20)
    assert await consumer.apply_batch(warm) == [True] * len(warm)
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    assert await consumer.apply_batch(small) == [True] * len(small)
    per_small = len(statements)
    statements.clear()
    assert await consumer.apply_batch(large) == [True] * len(large)
    per_large = len(statements)
    sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    # 43 events, 22 of them for a subscription, cost what 5 (3 wanted) do.
    assert per_small > 0
    assert per_large == per_small, (per_small, per_large)

    # Each registration once, in its own organisation, with a pending (or sent) delivery.
    wanted = [e for e in warm + small + large if e.type.endswith("registered")]
    rows = await superuser.fetch(
        "SELECT m.id, m.org_id, m.event_id, d.state FROM webhook_message m"
        " JOIN webhook_delivery d ON d.message_id = m.id WHERE m.event_id = ANY($1::uuid[])",
        [uuid.UUID(e.id) for e in warm + small + large],
    )
    assert sorted(str(r["event_id"]) for r in rows) == sorted(e.id for e in wanted)
    orgs = {e.id: e.orgid for e in wanted}
    assert all(str(r["org_id"]) == orgs[str(r["event_id"])] for r in rows)

    # The same events again (a redelivered fetch): nothing new.
    assert await consumer.apply_batch(large) == [False] * len(large)
    again = await superuser.fetchval(
        "SELECT count(*) FROM webhook_message WHERE event_id = ANY($1::uuid[])",
        [uuid.UUID(e.id) for e in large],
    )
    assert again == len([e for e in large if e.type.endswith("registered")])

    # The worker sends every one, signed for its organisation, under its own webhook-id.
    deliveries = await receiver.wait_for(len(wanted), timeout=60)
    assert len(deliveries) == len(wanted)
    assert len({d.headers["webhook-id"] for d in deliveries}) == len(wanted)
    assert {str(r["id"]) for r in rows} == {d.headers["webhook-id"] for d in deliveries}
    for delivery in deliveries:
        event = verify(secrets[uuid.UUID(delivery.event["orgid"])], delivery)
        assert orgs[event["id"]] == event["orgid"]

    async def all_recorded() -> bool:
        done = await superuser.fetchval(
            "SELECT count(*) FROM webhook_attempt WHERE message_id = ANY($1::uuid[])"
            " AND completed_at IS NOT NULL AND status_code = 200",
            [r["id"] for r in rows],
        )
        return bool(done == len(wanted))

    await eventually(all_recorded, timeout=30)
    attempts = await superuser.fetch(
        "SELECT message_id, attempt FROM webhook_attempt WHERE message_id = ANY($1::uuid[])",
        [r["id"] for r in rows],
    )
    assert sorted(a["attempt"] for a in attempts) == [1] * len(wanted)


async def test_a_failing_event_queues_nothing_of_its_batch(
    stack: Any, db: Database, receiver: Receiver, superuser: asyncpg.Connection
) -> None:
    org = uuid7()
    await subscribe(stack, org, receiver.url, ["system.registered"])
    events = [registered(org, "first"), registered(org, "second"), registered(org, "boom")]

    async def fails_on_boom(session: Any, event: CloudEvent) -> None:
        await queue_webhooks(session, event)
        if event.data.get("name") == "boom":
            raise RuntimeError("the third event fails")

    consumer = runner(stack, db, EventHandler("webhooks", ["aims.>"], fails_on_boom))
    with pytest.raises(RuntimeError):
        await consumer.apply_batch(events)
    queued = await superuser.fetchval(
        "SELECT count(*) FROM webhook_message WHERE event_id = ANY($1::uuid[])",
        [uuid.UUID(e.id) for e in events],
    )
    assert queued == 0  # rolled back with the inbox rows: the runner applies them again
    # Applied again (one by one, as the runner does after a failed batch), the first two are.
    ok = runner(stack, db)
    assert await ok.apply_batch(events[:2]) == [True, True]
    await receiver.wait_for(2, timeout=60)
