"""Delivered answers recorded together (the worker's group commit), without a database: who
records which answers, and that a cancelled task neither loses the others' answers nor stops
the recordings (its lead passes on)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta

from gateway.webhooks.repository import ClaimedDelivery
from gateway.webhooks.worker import _Answered, _RecordedTogether, _Result, _Snapshot
from shared.db import utcnow, uuid7


def answered() -> _Answered:
    message_id = uuid7()
    claim = ClaimedDelivery(message_id, uuid7(), uuid7(), 0, utcnow() + timedelta(seconds=60))
    snap = _Snapshot(
        message_id=message_id,
        subscription_id=claim.subscription_id,
        attempt_id=uuid7(),
        url="http://127.0.0.1/hook",
        secrets=(),
        payload={},
        event_id=uuid7(),
        event_type="aims.inventory.system.registered",
    )
    return _Answered(claim, snap, _Result(200, "ok", None, 1, None))


class Store:
    """Records each batch; holds it until ``release``; refuses the attempt ids in ``refuse``."""

    def __init__(self) -> None:
        self.batches: list[list[_Answered]] = []
        self.gate = asyncio.Event()
        self.refuse: set[uuid.UUID] = set()

    async def __call__(self, batch: Sequence[_Answered]) -> set[uuid.UUID]:
        self.batches.append(list(batch))
        await self.gate.wait()
        self.gate.clear()
        return {a.snap.attempt_id for a in batch} - self.refuse

    async def started(self, count: int) -> None:
        """Wait until the ``count``-th batch is being stored (fail after 5 s)."""
        async with asyncio.timeout(5):
            while len(self.batches) < count:
                await asyncio.sleep(0.01)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_answers_arriving_during_a_recording_are_recorded_together() -> None:
    store = Store()
    together = _RecordedTogether(store)
    first, *rest = [answered() for _ in range(5)]
    store.refuse = {rest[1].snap.attempt_id}
    lead = asyncio.create_task(together.record(first))
    await store.started(1)
    others = [asyncio.create_task(together.record(a)) for a in rest]
    await settle()
    assert len(together.waiting) == 4 and len(store.batches) == 1
    store.gate.set()
    assert await lead is True
    await store.started(2)
    assert store.batches[1] == rest  # one of them records all four
    store.gate.set()
    assert [await t for t in others] == [True, False, True, True]  # False: record it alone
    assert not together.recording and together.waiting == []


class CancelledOnItsTurn(_RecordedTogether):
    """Cancels ``victim`` just after the lead is handed to it, before it runs again."""

    victim: asyncio.Task[bool] | None = None

    def _hand_over(self) -> None:
        super()._hand_over()
        if self.victim is not None:
            self.victim.cancel()
            self.victim = None


async def test_a_cancelled_task_neither_loses_answers_nor_stops_recording() -> None:
    store = Store()
    together = CancelledOnItsTurn(store)
    first, gone, handed, then, last = [answered() for _ in range(5)]
    lead = asyncio.create_task(together.record(first))
    await store.started(1)
    tasks = {id(a): asyncio.create_task(together.record(a)) for a in (gone, handed, then)}
    await settle()
    tasks[id(gone)].cancel()  # cancelled while waiting: taken out, recorded by nobody
    await settle()
    assert [a for a, _ in together.waiting] == [handed, then]
    together.victim = tasks[id(handed)]  # cancelled as its turn to lead comes
    store.gate.set()
    assert await lead is True
    await store.started(2)  # the lead passed on to the next one
    assert store.batches[1] == [then]
    store.gate.set()
    assert await tasks[id(then)] is True
    assert tasks[id(gone)].cancelled() and tasks[id(handed)].cancelled()
    assert not together.recording and together.waiting == []
    # And recording goes on: the next answer is recorded at once.
    later = asyncio.create_task(together.record(last))
    await store.started(3)
    store.gate.set()
    assert await later is True
