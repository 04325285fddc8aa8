"""The webhook consumer applies the events of one fetch together (issue 12): a fixed number of
statements however many events, every message in the transaction of its inbox row, each
organisation's rows under its own row-level security; and the worker sends what it leased
together, each message once, signed, with its own webhook-id.

The events are applied with :meth:`ConsumerRunner.apply_batch` (what the runner does with a
fetch) on an engine of the test's own, so that its statements can be counted apart from the
running gateway's; the running gateway's worker delivers the messages. The worker records
the delivered answers that arrive during a recording together (one transaction per
organisation); those tests run a worker of their own on that engine, with deliveries leased to
it, which the running gateway's worker leaves alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import asyncpg
import pytest
import sqlalchemy as sa

from gateway.webhooks.consumers import HANDLERS, queue_webhooks
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.repository import ClaimedDelivery, NewMessage, queue_messages
from gateway.webhooks.ssrf import delivery_client
from gateway.webhooks.worker import WORKER_KEY, DeliveryWorker
from shared.db import Database, tenant_transaction, utcnow, uuid7
from shared.events import CloudEvent
from shared.events.consumer import ConsumerRunner, EventHandler
from shared.testing import eventually
from tests.gateway.webhooks.test_delivery_log_faults import HeldReceiver
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


# --- recording delivered answers together (the worker's outcome side) -------------------------


@dataclass
class Recording:
    """A worker of the test's own (its statements apart from the running gateway's), the
    deliveries it leased (leases the gateway's worker leaves alone), and a way to hold every
    recording: a lock on the queue rows, as another transaction would hold it."""

    worker: DeliveryWorker
    superuser: asyncpg.Connection
    superuser_dsn: str
    statements: list[str] = field(default_factory=list)

    async def lease(
        self, org: uuid.UUID, subscription_id: str, count: int
    ) -> list[ClaimedDelivery]:
        """``count`` messages of a subscription, queued and leased to this worker for 60 s."""
        now = utcnow()
        until = now + timedelta(seconds=60)
        queued = [
            NewMessage(
                id=uuid7(),
                org_id=org,
                subscription_id=uuid.UUID(subscription_id),
                event_id=uuid7(),
                event_type="aims.inventory.system.registered",
                payload={"type": "aims.inventory.system.registered", "n": n},
                traceparent=None,
            )
            for n in range(count)
        ]
        async with tenant_transaction(self.worker.db, org) as session:
            await session.execute(queue_messages(queued, now))
            await session.execute(
                sa.update(WebhookDelivery)
                .where(WebhookDelivery.message_id.in_([m.id for m in queued]))
                .values(locked_until=until)
            )
        return [ClaimedDelivery(m.id, m.subscription_id, org, 0, until) for m in queued]

    def count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    @contextlib.asynccontextmanager
    async def rows_locked(self, claims: Sequence[ClaimedDelivery]) -> AsyncIterator[None]:
        blocker = await asyncpg.connect(self.superuser_dsn)
        try:
            async with blocker.transaction():
                await blocker.execute(
                    "SELECT 1 FROM webhook_delivery WHERE message_id = ANY($1::uuid[]) FOR UPDATE",
                    [c.message_id for c in claims],
                )
                yield
        finally:
            await blocker.close()

    async def blocked(self) -> bool:
        """Whether a recording waits for the locked queue rows."""
        waiting = await self.superuser.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE '%UPDATE webhook_delivery%'"
        )
        return bool(waiting)

    async def waiting(self, count: int) -> bool:
        return len(self.worker.delivered.waiting) == count


@pytest.fixture
async def recording(
    stack: Any, db: Database, superuser: asyncpg.Connection, superuser_dsn: str
) -> AsyncIterator[Recording]:
    ctx = stack.apps["gateway"].state.ctx
    worker = DeliveryWorker(
        db,
        allow=ctx.extras[WORKER_KEY].allow,
        extras={},
        stop=asyncio.Event(),
        wake=asyncio.Event(),
        telemetry=ctx.metrics,
    )
    async with delivery_client() as client:
        worker.client = client
        yield Recording(worker, superuser, superuser_dsn)


@pytest.fixture
async def held() -> AsyncIterator[tuple[HeldReceiver, HeldReceiver]]:
    """Two receivers that hold their requests: one for a first delivery, one for the rest."""
    first, rest = HeldReceiver(hold=1), HeldReceiver(hold=1_000)
    await first.start()
    await rest.start()
    try:
        yield first, rest
    finally:
        await first.stop()
        await rest.stop()


async def attempt_rows(superuser: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> list[Any]:
    return list(
        await superuser.fetch(
            "SELECT a.message_id, a.attempt, a.status_code, a.completed_at, d.state,"
            " d.attempt_count, d.locked_until FROM webhook_attempt a"
            " JOIN webhook_delivery d ON d.message_id = a.message_id"
            " WHERE a.message_id = ANY($1::uuid[])",
            list(ids),
        )
    )


async def test_delivered_answers_arriving_during_a_recording_are_recorded_together(
    stack: Any, recording: Recording, held: tuple[HeldReceiver, HeldReceiver]
) -> None:
    """While one delivered answer is being recorded, twenty more arrive (two organisations,
    one of them replayed meanwhile): they are recorded in one transaction per organisation,
    each of the statements of a single answer's transaction; the replayed one keeps the
    replay's schedule."""
    first, rest = held
    a, b = uuid7(), uuid7()
    alone = await subscribe(stack, a, first.url)
    sub_a, sub_b = await subscribe(stack, a, rest.url), await subscribe(stack, b, rest.url)
    # Both endpoints had failed before: a delivery ends their failure runs.
    await recording.superuser.execute(
        "UPDATE webhook_subscription SET first_failure_at = now() WHERE id = ANY($1::uuid[])",
        [uuid.UUID(sub_a["id"]), uuid.UUID(sub_b["id"])],
    )
    [head] = await recording.lease(a, alone["id"], 1)
    claims = await recording.lease(a, sub_a["id"], 12) + await recording.lease(b, sub_b["id"], 8)
    replayed = claims[3]
    worker = recording.worker
    tasks = [asyncio.create_task(worker.deliver(claim)) for claim in [head, *claims]]
    try:
        await first.wait_for(1)
        await rest.wait_for(len(claims))
        # A replay while the request is out: a new schedule, the claim superseded.
        await recording.superuser.execute(
            "UPDATE webhook_delivery SET locked_until = NULL, attempt_count = 0,"
            " next_attempt_at = now() + interval '1 hour' WHERE message_id = $1",
            replayed.message_id,
        )
        engine = worker.db.engine.sync_engine
        sa.event.listen(engine, "before_cursor_execute", recording.count)
        try:
            async with recording.rows_locked([head, *claims]):
                first.release()
                await eventually(recording.blocked)
                alone_statements = len(recording.statements)  # one answer's, all sent
                rest.release()
                await eventually(lambda: recording.waiting(len(claims)))
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        finally:
            sa.event.remove(engine, "before_cursor_execute", recording.count)
    finally:
        for task in tasks:
            task.cancel()

    # The first alone, then the twenty: one transaction per organisation.
    assert alone_statements > 0
    assert len(recording.statements) == 3 * alone_statements, recording.statements

    rows = await attempt_rows(recording.superuser, [c.message_id for c in [head, *claims]])
    assert len(rows) == 1 + len(claims)
    for row in rows:
        assert (row["attempt"], row["status_code"]) == (1, 200)
        assert row["completed_at"] is not None and row["locked_until"] is None
        if row["message_id"] == replayed.message_id:
            assert (row["state"], row["attempt_count"]) == ("pending", 0)  # the replay's
        else:
            assert (row["state"], row["attempt_count"]) == ("delivered", 1)
    failing = await recording.superuser.fetchval(
        "SELECT count(*) FROM webhook_subscription WHERE id = ANY($1::uuid[])"
        " AND first_failure_at IS NOT NULL",
        [uuid.UUID(sub_a["id"]), uuid.UUID(sub_b["id"])],
    )
    assert failing == 0


async def test_an_answer_that_cannot_be_stored_fails_alone(
    stack: Any, recording: Recording, held: tuple[HeldReceiver, HeldReceiver]
) -> None:
    """One of six delivered answers recorded together cannot be stored (a trigger refuses its
    row): the others are recorded each on its own; it is tried again until it is stored."""
    first, rest = held
    org = uuid7()
    alone = await subscribe(stack, org, first.url)
    sub = await subscribe(stack, org, rest.url)
    [head] = await recording.lease(org, alone["id"], 1)
    claims = await recording.lease(org, sub["id"], 6)
    bad = claims[2]
    worker = recording.worker
    tasks = {
        claim.message_id: asyncio.create_task(worker.deliver(claim)) for claim in [head, *claims]
    }
    refuse = f"test_refuse_{bad.message_id.hex}"
    try:
        await first.wait_for(1)
        await rest.wait_for(len(claims))
        await recording.superuser.execute(
            f"CREATE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RAISE EXCEPTION 'refused by the test'; END$$;"
            f" CREATE TRIGGER {refuse} BEFORE UPDATE ON webhook_attempt FOR EACH ROW"
            f" WHEN (NEW.message_id = '{bad.message_id}' AND NEW.completed_at IS NOT NULL)"
            f" EXECUTE FUNCTION {refuse}()"
        )
        async with recording.rows_locked([head, *claims]):
            first.release()
            await eventually(recording.blocked)
            rest.release()
            await eventually(lambda: recording.waiting(len(claims)))
        good = [c.message_id for c in [head, *claims] if c is not bad]
        await asyncio.wait_for(asyncio.gather(*(tasks[i] for i in good)), timeout=30)

        rows = {
            r["message_id"]: r
            for r in await attempt_rows(recording.superuser, [c.message_id for c in claims])
        }
        assert all(rows[i]["state"] == "delivered" for i in good if i != head.message_id)
        # The refused one: in flight still, its task trying again, its lease held.
        assert rows[bad.message_id]["completed_at"] is None
        assert rows[bad.message_id]["state"] == "pending"
        assert not tasks[bad.message_id].done()

        await recording.superuser.execute(
            f"DROP TRIGGER {refuse} ON webhook_attempt; DROP FUNCTION {refuse}()"
        )
        await asyncio.wait_for(tasks[bad.message_id], timeout=30)
    finally:
        await recording.superuser.execute(
            f"DROP TRIGGER IF EXISTS {refuse} ON webhook_attempt;"
            f" DROP FUNCTION IF EXISTS {refuse}()"
        )
        for task in tasks.values():
            task.cancel()
    [row] = await attempt_rows(recording.superuser, [bad.message_id])
    assert (row["state"], row["status_code"], row["attempt_count"]) == ("delivered", 200, 1)
    assert len(rest.received) == len(claims)  # nothing was sent twice
