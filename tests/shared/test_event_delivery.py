"""Consumers apply each event once, retry failures with back-off, and dead-letter poison."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, uuid7
from shared.events import CloudEvent, EventCatalogue, make_event
from shared.events.consumer import (
    ConsumerRunner,
    EventHandler,
    HandlerFn,
    list_dead_letters,
    replay_dead_letter,
)
from shared.observability import Metrics
from shared.testing import TestEngines, eventually

pytestmark = pytest.mark.engines


class Bumped(BaseModel):
    n: int


BUMPED = EventCatalogue("test").register("counter.bumped", Bumped, "test event")


@pytest.fixture
async def js(engines: TestEngines) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


@pytest.fixture
async def risk_db(engines: TestEngines) -> AsyncIterator[Database]:
    db = Database(engines.databases["risk"].app_url, pool_size=2)
    try:
        yield db
    finally:
        await db.dispose()


async def run_consumer(
    engines: TestEngines,
    db: Database,
    js: JetStreamContext,
    handle: Any,
    subject: str,
) -> tuple[ConsumerRunner, asyncio.Event, asyncio.Task[None]]:
    from shared.events.relay import ensure_stream

    await ensure_stream(js, engines.stream, engines.subject_prefix)
    handler = EventHandler(name=f"test-{secrets.token_hex(3)}", subjects=[subject], handle=handle)
    runner = ConsumerRunner(
        db,
        js,
        handler,
        stream=engines.stream,
        durable_prefix=engines.prefix,
        metrics=Metrics("test"),
        subject_prefix=engines.subject_prefix,
        max_deliver=3,
        backoff=[0.1, 0.2],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    return runner, stop, task


def recording() -> tuple[list[str], HandlerFn]:
    """A handler that records the id of every event it applies, and its record."""
    applied: list[str] = []

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        applied.append(event.id)

    return applied, handle


async def publish(
    engines: TestEngines, js: JetStreamContext, event: CloudEvent, msg_id: str
) -> None:
    await js.publish(
        engines.subject_prefix + event.type,
        json.dumps(event.model_dump(mode="json")).encode(),
        headers={"Nats-Msg-Id": msg_id},
    )


async def test_redelivered_event_is_applied_once(
    engines: TestEngines, risk_db: Database, js: JetStreamContext
) -> None:
    applied, handle = recording()

    tag = secrets.token_hex(3)
    _, stop, task = await run_consumer(engines, risk_db, js, handle, f"aims.test.counter.{tag}")
    try:
        event = make_event(BUMPED, org_id=uuid7(), subject="c", version=1, data=Bumped(n=1))
        event.type = f"aims.test.counter.{tag}"
        # Two copies the broker cannot deduplicate (different message ids): as after a relay
        # crash outside the duplicate window.
        await publish(engines, js, event, "copy-1")
        await publish(engines, js, event, "copy-2")
        # The broker itself drops a copy with a message id it has seen.
        await publish(engines, js, event, "copy-1")
        await eventually(lambda: _ready(len(applied) >= 1))
        await asyncio.sleep(1.0)  # give the second copy every chance to be applied
        assert applied == [event.id]
    finally:
        stop.set()
        await task


async def test_failing_handler_is_retried_then_applied(
    engines: TestEngines, risk_db: Database, js: JetStreamContext
) -> None:
    calls: list[int] = []

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        calls.append(1)
        if len(calls) < 2:
            raise RuntimeError("database hiccup")

    tag = secrets.token_hex(3)
    _, stop, task = await run_consumer(engines, risk_db, js, handle, f"aims.test.flaky.{tag}")
    try:
        event = make_event(BUMPED, org_id=uuid7(), subject="c", version=1, data=Bumped(n=2))
        event.type = f"aims.test.flaky.{tag}"
        await publish(engines, js, event, event.id)
        await eventually(lambda: _ready(len(calls) >= 2))
        await asyncio.sleep(0.5)
        assert len(calls) == 2
        assert await list_dead_letters(risk_db, org_id=event_org(event)) == []
    finally:
        stop.set()
        await task


async def test_poison_event_is_dead_lettered_listed_and_replayable(
    stack: Any, engines: TestEngines, risk_db: Database, js: JetStreamContext
) -> None:
    broken = True
    applied: list[str] = []

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        if broken:
            raise ValueError("cannot handle this yet")
        applied.append(event.id)

    tag = secrets.token_hex(3)
    runner, stop, task = await run_consumer(engines, risk_db, js, handle, f"aims.test.poison.{tag}")
    org = uuid7()
    try:
        event = make_event(BUMPED, org_id=org, subject="c", version=1, data=Bumped(n=3))
        event.type = f"aims.test.poison.{tag}"
        await publish(engines, js, event, event.id)

        async def dead() -> list[dict[str, Any]] | None:
            return await list_dead_letters(risk_db, org_id=org) or None

        letters = await eventually(dead)
        assert len(letters) == 1
        assert letters[0]["event_id"] == event.id
        assert letters[0]["deliveries"] == 3
        assert "cannot handle this yet" in letters[0]["error"]

        # Ops see it over REST (the org's admin), and nobody else does.
        listed = await stack.risk.get("/v1/ops/dead-letters", headers=stack.headers(org, "admin"))
        assert [d["event_id"] for d in listed.json()["items"]] == [event.id]
        other = await stack.risk.get(
            "/v1/ops/dead-letters", headers=stack.headers(uuid7(), "admin")
        )
        assert other.json()["items"] == []
        viewer = await stack.risk.get("/v1/ops/dead-letters", headers=stack.headers(org, "viewer"))
        assert viewer.status_code == 403

        broken = False
        assert await replay_dead_letter(
            risk_db, {runner.durable: runner.handler}, uuid.UUID(letters[0]["id"]), org_id=org
        )
        assert applied == [event.id]
        after = await list_dead_letters(risk_db, org_id=org)
        assert after[0]["replayed_at"] is not None
    finally:
        stop.set()
        await task


def event_org(event: CloudEvent) -> uuid.UUID:
    return uuid.UUID(event.orgid)


async def _ready(value: bool) -> bool:
    return value


async def test_a_batch_is_applied_together_and_one_poison_event_parks_only_itself(
    engines: TestEngines, risk_db: Database, js: JetStreamContext
) -> None:
    """Six events fetched at once: applied in one transaction (one session); when the fourth
    always fails, the batch is rolled back, the other five are applied each on its own and
    recorded once in the inbox, and only the fourth is retried and dead-lettered."""
    import sqlalchemy as sa

    from shared.db import inbox_table
    from shared.events.relay import ensure_stream

    sessions: dict[str, set[int]] = {}
    poison = {"on": True}

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        sessions.setdefault(event.id, set()).add(id(session))
        if poison["on"] and event.data["n"] == 4:
            raise ValueError("event 4 cannot be applied")

    tag = secrets.token_hex(3)
    await ensure_stream(js, engines.stream, engines.subject_prefix)
    org = uuid7()

    def events_of(count: int) -> list[CloudEvent]:
        made = []
        for n in range(1, count + 1):
            event = make_event(BUMPED, org_id=org, subject=f"c{n}", version=1, data=Bumped(n=n))
            event.type = f"aims.test.batch.{tag}"
            made.append(event)
        return made

    async def applied_ids(runner: ConsumerRunner) -> set[str]:
        async with risk_db.sessions() as session:
            rows = await session.execute(
                sa.select(inbox_table.c.event_id).where(inbox_table.c.consumer == runner.durable)
            )
            return {str(i) for i in rows.scalars()}

    # Published before the consumer starts, so that one fetch takes them all.
    clean = events_of(6)
    for event in clean:
        await publish(engines, js, event, event.id)
    poison["on"] = False
    runner, stop, task = await run_consumer(engines, risk_db, js, handle, f"aims.test.batch.{tag}")
    try:
        expected = {e.id for e in clean}
        await eventually(lambda: _ready_async(applied_ids(runner), expected))
        # Applied together: every event of the batch saw the same session.
        assert len(set().union(*sessions.values())) == 1, sessions
    finally:
        stop.set()
        await task

    sessions.clear()
    poison["on"] = True
    tag = secrets.token_hex(3)
    poisoned = events_of(6)
    for event in poisoned:
        await publish(engines, js, event, event.id)
    runner, stop, task = await run_consumer(engines, risk_db, js, handle, f"aims.test.batch.{tag}")
    try:
        good = {e.id for e in poisoned if e.data["n"] != 4}
        bad = next(e for e in poisoned if e.data["n"] == 4)

        async def dead() -> list[dict[str, Any]] | None:
            return await list_dead_letters(risk_db, org_id=org) or None

        letters = await eventually(dead)
        assert [d["event_id"] for d in letters] == [bad.id]
        assert letters[0]["deliveries"] == 3
        assert await applied_ids(runner) == good  # each once, the poison never
        # The batch was tried together first (up to the poison), then each event on its own.
        rounds = {e.data["n"]: len(sessions[e.id]) for e in poisoned if e.id in good}
        assert rounds == {1: 2, 2: 2, 3: 2, 5: 1, 6: 1}, rounds
    finally:
        stop.set()
        await task


async def _ready_async(found: Any, expected: set[str]) -> bool:
    return await found == expected


async def test_a_deleted_consumer_is_created_again_and_nothing_is_applied_twice(
    engines: TestEngines, risk_db: Database, js: JetStreamContext
) -> None:
    from shared.supervisor import Supervisor

    applied, handle = recording()

    tag = secrets.token_hex(3)
    runner, stop, task = await run_consumer(engines, risk_db, js, handle, f"aims.test.gone.{tag}")
    stop.set()
    await task  # the runner of run_consumer is only used to build the consumer
    stop = asyncio.Event()
    supervisor = Supervisor(stop, initial_backoff=0.1)
    supervised = supervisor.start("consumer", runner.run)

    def bumped(n: int) -> CloudEvent:
        event = make_event(BUMPED, org_id=uuid7(), subject="c", version=1, data=Bumped(n=n))
        event.type = f"aims.test.gone.{tag}"
        return event

    try:
        first = bumped(1)
        await publish(engines, js, first, first.id)
        await eventually(lambda: _ready(applied == [first.id]))

        # Ops delete the durable consumer (or the server loses it) while the runner waits.
        await js.delete_consumer(engines.stream, runner.durable)
        second = bumped(2)
        await publish(engines, js, second, second.id)
        await eventually(lambda: _ready(second.id in applied), timeout=20)
        # Created again, it delivers the stream from the start: the inbox skips the first.
        assert applied == [first.id, second.id]
        assert supervisor.workers["consumer"].restarts >= 1
        assert "Consumer Deleted" in (supervisor.workers["consumer"].last_error or "")
    finally:
        stop.set()
        await supervised
