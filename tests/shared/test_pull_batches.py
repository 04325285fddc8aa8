"""Pull batches: every message that has arrived is taken at once, in stream order, at most a
batch at a time, from pulls that stay open across fetches (real NATS JetStream)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import APIError

from shared.events.pull import (
    PULL_EXPIRES_SECONDS,
    UNANSWERED_PULLS,
    ConsumerGone,
    PullBatches,
)
from shared.testing import TestEngines

pytestmark = pytest.mark.engines


@dataclass
class Stream:
    nc: NATS
    name: str
    subject: str
    consumer: str
    pulls_sent: list[bytes]

    async def publish(self, count: int, start: int = 0) -> None:
        js = self.nc.jetstream()
        for n in range(start, start + count):
            await js.publish(self.subject, str(n).encode())


@pytest.fixture
async def stream(engines: TestEngines) -> AsyncIterator[Stream]:
    nc = await nats.connect(engines.nats_url)
    js = nc.jetstream()
    tag = secrets.token_hex(4)
    name, subject = f"PULLTEST_{tag}", f"pulltest.{tag}"
    await js.add_stream(name=name, subjects=[subject])
    await js.add_consumer(
        name, ConsumerConfig(durable_name="c", ack_policy=AckPolicy.EXPLICIT, ack_wait=30)
    )
    sent: list[bytes] = []

    async def seen(msg: Msg) -> None:
        sent.append(msg.data)

    # Every pull request is an ordinary message on the API subject: count them.
    await nc.subscribe(f"$JS.API.CONSUMER.MSG.NEXT.{name}.c", cb=seen)
    try:
        yield Stream(nc, name, subject, "c", sent)
    finally:
        await js.delete_stream(name)
        await nc.close()


async def started(s: Stream, batch: int = 50) -> PullBatches:
    pulls = PullBatches(s.nc, s.name, s.consumer, batch=batch)
    await pulls.start()
    return pulls


async def loop_turns_while(work: Callable[[], Awaitable[int]]) -> tuple[int, int]:
    """(turns of the event loop, what ``work`` returned) while ``work`` runs on a busy loop:
    every turn also runs a task that holds the loop for 2 ms, as a service answering requests
    would (the count, not the time, is what the test compares)."""
    turns = 0
    done = False

    async def count() -> None:
        nonlocal turns
        while not done:
            turns += 1
            time.sleep(0.002)
            await asyncio.sleep(0)

    counter = asyncio.create_task(count())
    try:
        result = await work()
    finally:
        done = True
        await counter
    return turns, result


async def test_the_messages_that_arrived_are_taken_without_a_loop_turn_each(
    stream: Stream,
) -> None:
    await stream.publish(40)
    pulls = await started(stream)

    async def collect() -> int:
        got: list[Msg] = []
        while len(got) < 40:
            got += await pulls.fetch(timeout=5)
        return len(got)

    ours, got = await loop_turns_while(collect)
    assert got == 40

    # nats-py's own fetch of the same 40 messages (redelivered: a second consumer of the stream)
    js = stream.nc.jetstream()
    await js.add_consumer(stream.name, ConsumerConfig(durable_name="d", ack_wait=30))
    sub = await js.pull_subscribe_bind(durable="d", stream=stream.name)

    async def collect_nats_py() -> int:
        got: list[Msg] = []
        while len(got) < 40:
            got += await sub.fetch(batch=40, timeout=5)
        return len(got)

    theirs, got = await loop_turns_while(collect_nats_py)
    assert got == 40
    assert theirs >= 2 * 40, theirs  # two turns or more per message
    assert ours <= 20, (ours, theirs)  # the round trip of the pull, then all at once
    print(f"loop turns for 40 messages: {ours} (nats-py fetch: {theirs})")
    await pulls.stop()


async def test_batches_are_in_stream_order_and_at_most_the_batch_size(stream: Stream) -> None:
    await stream.publish(120)
    pulls = await started(stream, batch=50)
    seen: list[int] = []
    sizes: list[int] = []
    while len(seen) < 120:
        batch = await pulls.fetch(timeout=5)
        sizes.append(len(batch))
        seen += [int(m.data) for m in batch]
        for msg in batch:
            await msg.ack()
    assert seen == list(range(120))
    assert max(sizes) <= 50
    assert await pulls.fetch(timeout=0.3) == []  # nothing more; status answers are not messages
    await pulls.stop()


async def test_an_open_pull_keeps_delivering_without_a_new_request(stream: Stream) -> None:
    pulls = await started(stream, batch=50)
    assert await pulls.fetch(timeout=0.2) == []
    assert len(stream.pulls_sent) == 1
    for n in range(5):
        await stream.publish(1, start=n)
        batch = await pulls.fetch(timeout=5)
        assert [int(m.data) for m in batch] == [n]
    assert len(stream.pulls_sent) == 1  # five messages, one pull request

    # Once the pull has expired, the next fetch asks again, and messages still arrive.
    await asyncio.sleep(PULL_EXPIRES_SECONDS + 0.5)
    await stream.publish(1, start=5)
    batch = await pulls.fetch(timeout=5)
    assert [int(m.data) for m in batch] == [5]
    assert len(stream.pulls_sent) == 2
    await pulls.stop()


async def test_a_pull_that_took_its_whole_batch_is_followed_by_another(stream: Stream) -> None:
    await stream.publish(7)
    pulls = await started(stream, batch=3)
    seen: list[int] = []
    while len(seen) < 7:
        seen += [int(m.data) for m in await pulls.fetch(timeout=5)]
    assert seen == list(range(7))
    assert len(stream.pulls_sent) == 3  # 3 + 3 + 1
    await pulls.stop()


async def test_a_consumer_deleted_under_an_open_pull_is_gone_at_once(stream: Stream) -> None:
    pulls = await started(stream)
    assert await pulls.fetch(timeout=0.2) == []  # a pull is open
    await stream.nc.jetstream().delete_consumer(stream.name, stream.consumer)
    with pytest.raises(ConsumerGone, match="Consumer Deleted"):
        await pulls.fetch(timeout=5)
    await pulls.stop()


async def test_pulls_nobody_answers_mean_the_consumer_is_gone(stream: Stream) -> None:
    await stream.nc.jetstream().delete_consumer(stream.name, stream.consumer)
    pulls = PullBatches(stream.nc, stream.name, stream.consumer, expires=0.2)
    await pulls.start()

    async def fetch_on() -> None:
        for _ in range(20):
            await pulls.fetch(timeout=0.5)

    with pytest.raises(ConsumerGone, match=f"{UNANSWERED_PULLS} pulls got no answer"):
        await fetch_on()
    assert len(stream.pulls_sent) == UNANSWERED_PULLS
    await pulls.stop()


async def test_pulls_that_expire_empty_are_answered_and_go_on(stream: Stream) -> None:
    pulls = PullBatches(stream.nc, stream.name, stream.consumer, expires=0.2)
    await pulls.start()
    for _ in range(6):  # 408 Request Timeout each time: an answer
        assert await pulls.fetch(timeout=0.5) == []
    assert len(stream.pulls_sent) >= UNANSWERED_PULLS + 1
    await stream.publish(1)
    assert [m.data for m in await pulls.fetch(timeout=5)] == [b"0"]
    await pulls.stop()


async def test_a_pull_the_server_refuses_is_an_error_the_runner_logs(stream: Stream) -> None:
    # A consumer whose pulls may ask for 5 at most (``max_batch``; nats-py's ConsumerConfig
    # does not have it, so the JetStream API is asked directly).
    config = {"durable_name": "small", "ack_policy": "explicit", "max_batch": 5}
    created = await stream.nc.request(
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream.name}.small",
        json.dumps({"stream_name": stream.name, "config": config}).encode(),
    )
    assert b'"max_batch":5' in created.data
    pulls = PullBatches(stream.nc, stream.name, "small", batch=50)
    await pulls.start()
    with pytest.raises(APIError) as refused:
        await pulls.fetch(timeout=5)
    assert not isinstance(refused.value, ConsumerGone)
    assert "MaxRequestBatch" in str(refused.value.description)
    await pulls.stop()
