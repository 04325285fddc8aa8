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
    applied: list[str] = []

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        applied.append(event.id)

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
