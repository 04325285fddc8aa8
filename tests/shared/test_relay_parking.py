"""The relay parks an outbox row it can never publish and goes on with the others.

A row too large for the broker, or refused by the stream, used to block every later event of its
service (API-key revocations included). Now it is parked: listed as a dead letter, counted in
``/metrics``, replayable; a later row of the same aggregate is held behind it; unrelated rows go on.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.errors import (
    ConnectionClosedError,
    MaxPayloadError,
    NoRespondersError,
    OutboundBufferLimitError,
)
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, NoStreamResponseError, ServiceUnavailableError

from shared.db import Database, outbox_table, utcnow, uuid7
from shared.events import CloudEvent
from shared.events.relay import is_permanent
from shared.testing import eventually

pytestmark = pytest.mark.engines

RELAY = "outbox-relay"


@pytest.fixture
async def js(stack: Any) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(stack.engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


def event(org: uuid.UUID, entity: uuid.UUID, data: dict[str, Any], version: int) -> CloudEvent:
    return CloudEvent(
        id=str(uuid7()),
        source="/aims/inventory",
        type="aims.inventory.system.updated",
        time=utcnow(),
        subject=str(entity),
        data=data,
        orgid=str(org),
        dataversion=version,
    )


async def queue_raw(stack: Any, events: list[CloudEvent]) -> None:
    """Rows as a writer that bypassed the size guard (an older release) left them: the relay
    must cope with whatever is in its outbox."""
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    try:
        async with db.sessions() as session, session.begin():
            for item in events:
                await session.execute(
                    outbox_table.insert().values(
                        event_id=uuid.UUID(item.id),
                        org_id=uuid.UUID(item.orgid),
                        type=item.type,
                        subject=item.type,
                        envelope=item.model_dump(mode="json"),
                        created_at=utcnow(),
                        attempts=0,
                    )
                )
    finally:
        await db.dispose()


async def register(stack: Any, org: uuid.UUID, name: str, **fields: Any) -> str:
    response = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name, **fields}, headers=stack.headers(org, "manager")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def risk_knows(stack: Any, org: uuid.UUID, system_id: str) -> bool:
    response = await stack.risk.get(f"/v1/systems/{system_id}", headers=stack.headers(org))
    return response.status_code == 200


async def dead_letters(stack: Any, org: uuid.UUID) -> list[dict[str, Any]]:
    response = await stack.inventory.get("/v1/ops/dead-letters", headers=stack.headers(org))
    assert response.status_code == 200, response.text
    return [d for d in response.json()["items"] if d["consumer"] == RELAY]


def parked_total(metrics_text: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith('aims_outbox_parked_total{service="inventory"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_an_oversized_row_is_parked_and_later_events_go_on(
    stack: Any, org: uuid.UUID
) -> None:
    before = parked_total((await stack.inventory.get("/metrics")).text)
    entity = uuid7()
    huge = event(org, entity, {"blob": "x" * 1_200_000}, 1)  # past NATS's 1 MiB max_payload
    behind = event(org, entity, {"n": 2}, 2)  # same aggregate: must not overtake it
    await queue_raw(stack, [huge, behind])

    # An unrelated change made afterwards reaches the other services.
    system_id = await register(stack, org, "After the poison row")
    await eventually(lambda: risk_knows(stack, org, system_id), timeout=30)

    async def both_parked() -> list[dict[str, Any]] | None:
        found = await dead_letters(stack, org)
        return found if len(found) == 2 else None

    parked = {d["event_id"]: d for d in await eventually(both_parked, timeout=30)}
    assert set(parked) == {huge.id, behind.id}
    assert "exceeds the broker's limit" in parked[huge.id]["error"]
    assert "held behind parked event" in parked[behind.id]["error"]
    assert all(d["replayed_at"] is None for d in parked.values())
    after = parked_total((await stack.inventory.get("/metrics")).text)
    assert after >= before + 2

    # Replay re-queues the aggregate's parked rows; still too large, they are parked again
    # (and the first dead letters are marked replayed).
    replay = await stack.inventory.post(
        f"/v1/ops/dead-letters/{parked[huge.id]['id']}/replay", headers=stack.headers(org)
    )
    assert replay.status_code == 200, replay.text

    async def parked_again() -> list[dict[str, Any]] | None:
        found = await dead_letters(stack, org)
        return found if len(found) == 4 else None

    again = await eventually(parked_again, timeout=30)
    assert sorted(d["event_id"] for d in again if d["replayed_at"] is None) == sorted(
        [huge.id, behind.id]
    )
    assert sum(1 for d in again if d["replayed_at"] is not None) == 2


async def test_a_row_the_stream_refuses_is_parked_then_replayed_once_it_fits(
    stack: Any, org: uuid.UUID, js: JetStreamContext
) -> None:
    """The stream refuses the message (400): parked, not retried forever; once ops raise the
    stream's limit, replaying the dead letter publishes it and consumers apply it."""
    stream = stack.engines.stream
    info = await js.stream_info(stream)
    original = info.config.max_msg_size
    info.config.max_msg_size = 8_000
    await js.update_stream(info.config)
    try:
        large = await register(stack, org, "Verbose system", description="d" * 9_000)

        async def refused() -> list[dict[str, Any]] | None:
            return await dead_letters(stack, org) or None

        [letter] = await eventually(refused, timeout=60)
        assert "BadRequestError" in letter["error"] and "10054" in letter["error"]
        # Unrelated events still flow while the first one is parked.
        small = await register(stack, org, "Terse system")
        await eventually(lambda: risk_knows(stack, org, small), timeout=30)
        assert not await risk_knows(stack, org, large)
    finally:
        info = await js.stream_info(stream)
        info.config.max_msg_size = original
        await js.update_stream(info.config)

    replay = await stack.inventory.post(
        f"/v1/ops/dead-letters/{letter['id']}/replay", headers=stack.headers(org)
    )
    assert replay.status_code == 200, replay.text
    await eventually(lambda: risk_knows(stack, org, large), timeout=30)
    [replayed] = await dead_letters(stack, org)
    assert replayed["replayed_at"] is not None
    again = await stack.inventory.post(
        f"/v1/ops/dead-letters/{letter['id']}/replay", headers=stack.headers(org)
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (MaxPayloadError(), True),
        (BadRequestError(code=400, err_code=10054, description="message size exceeds"), True),
        (NoRespondersError(), False),  # no stream / JetStream down
        (ConnectionClosedError(), False),
        (OutboundBufferLimitError(), False),
        (ServiceUnavailableError(code=503, description="JetStream not ready"), False),
        (NoStreamResponseError(), False),
        (TimeoutError("no acknowledgement"), False),
        (NatsTimeoutError(), False),
    ],
)
def test_only_refusals_park_a_row_transient_errors_are_retried(
    error: BaseException, permanent: bool
) -> None:
    assert is_permanent(error) is permanent
