"""The delivery log is never wrong: faults between sending and recording, and pruning.

A real receiver holds the request until the test lets it answer, so the fault lands exactly
between the send and the record of the outcome. The database connection is killed with
``pg_terminate_backend`` (what a PostgreSQL restart does to every connection); the system
PostgreSQL itself is never stopped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from gateway.webhooks import retention
from gateway.webhooks.worker import LEASE_KEY, WORKER_KEY
from shared.testing import eventually
from tests.gateway.webhooks.test_delivery_webhooks import (
    Delivery,
    Receiver,
    attempts,
    message_in_state,
    messages,
    register_system,
    subscribe,
)

pytestmark = pytest.mark.engines


@dataclass
class HeldReceiver:
    """A receiver that holds its first ``hold`` requests until :meth:`release`, then 200s."""

    hold: int = 1
    received: list[Delivery] = field(default_factory=list)
    port: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/held"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.gate.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def release(self) -> None:
        self.gate.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers: dict[str, str] = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Delivery(headers, body, time.monotonic()))
            if len(self.received) <= self.hold:
                await self.gate.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        async def enough() -> list[Delivery] | None:
            return self.received if len(self.received) >= count else None

        return await eventually(enough, timeout=timeout)


@pytest.fixture
async def held() -> AsyncIterator[HeldReceiver]:
    receiver = HeldReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
def ctx(stack: Any) -> Any:
    return stack.apps["gateway"].state.ctx


async def test_answer_is_recorded_when_the_connection_dies_before_the_record(
    stack: Any,
    org: uuid.UUID,
    held: HeldReceiver,
    superuser: asyncpg.Connection,
    superuser_dsn: str,
) -> None:
    sub = await subscribe(stack, org, held.url)
    await register_system(stack, org)
    [request] = await held.wait_for(1)
    message_id = uuid.UUID(request.headers["webhook-id"])

    # Hold the message's queue row: the worker's recording transaction will wait for it.
    blocker = await asyncpg.connect(superuser_dsn)
    try:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute(
            "SELECT 1 FROM webhook_delivery WHERE message_id = $1 FOR UPDATE", message_id
        )
        held.release()  # the receiver answers 200 now

        async def recording_backend() -> int | None:
            pid = await superuser.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> $1 AND query ILIKE '%webhook_delivery%'",
                blocker.get_server_pid(),
            )
            return int(pid) if pid is not None else None

        pid = await eventually(recording_backend)
        # The connection dies between the 200 and the record (as in a PostgreSQL restart).
        assert await superuser.fetchval("SELECT pg_terminate_backend($1)", pid)
        await lock.rollback()
    finally:
        await blocker.close()

    message = await message_in_state(stack, org, sub["id"], "delivered")
    assert message["id"] == str(message_id)
    log = await attempts(stack, org, message["id"])
    assert [a["status_code"] for a in log] == [200]
    assert log[0]["completed_at"] is not None and log[0]["error"] is None
    assert message["attempts"] == 1
    # Delivered is final: nothing will send it again.
    assert [d.headers["webhook-id"] for d in held.received] == [str(message_id)]


async def test_attempt_in_flight_when_its_worker_died_is_logged_and_sent_again(
    stack: Any, org: uuid.UUID, held: HeldReceiver, ctx: Any
) -> None:
    ctx.extras[LEASE_KEY] = 1.0  # the dead worker's claim is taken over after 1 s
    try:
        sub = await subscribe(stack, org, held.url)
        await register_system(stack, org)
        [first] = await held.wait_for(1)
        webhook_id = first.headers["webhook-id"]
        # The worker dies while the receiver holds the request: nothing is recorded by it.
        worker = ctx.extras[WORKER_KEY]
        [task] = [t for t in worker.in_flight if t.get_name() == f"webhook-{webhook_id}"]
        task.cancel()
        held.release()

        # Another claim after the lease: the same webhook-id again, so the receiver dedupes.
        _, second = await held.wait_for(2)
        assert second.headers["webhook-id"] == webhook_id
        message = await message_in_state(stack, org, sub["id"], "delivered")
    finally:
        ctx.extras.pop(LEASE_KEY, None)
    log = await attempts(stack, org, message["id"])
    assert [a["attempt"] for a in log] == [1, 2]
    assert log[0]["status_code"] is None
    assert log[0]["error"].startswith("outcome unknown")
    assert log[0]["completed_at"] is not None
    assert log[1]["status_code"] == 200 and log[1]["error"] is None
    assert message["attempts"] == 2


async def test_finished_messages_are_pruned_after_the_retention(
    stack: Any, org: uuid.UUID, ctx: Any
) -> None:
    ok, failing = Receiver(), Receiver(script=[(500, {})])
    await ok.start()
    await failing.start()
    retention.configure(timedelta(seconds=1))
    try:
        delivered_sub = await subscribe(stack, org, ok.url)
        pending_sub = await subscribe(stack, org, failing.url)
        await register_system(stack, org)
        delivered = await message_in_state(stack, org, delivered_sub["id"], "delivered")
        await failing.wait_for(1)
        await message_in_state(stack, org, pending_sub["id"], "pending")

        async def pruned() -> bool:
            return await messages(stack, org, delivered_sub["id"]) == []

        await eventually(pruned, timeout=20)
        gone = await stack.gateway.get(
            f"/v1/webhook-messages/{delivered['id']}/attempts",
            headers=stack.headers(org, "viewer"),
        )
        assert gone.status_code == 404
        # A pending message is kept, however old.
        [kept] = await messages(stack, org, pending_sub["id"])
        assert kept["state"] == "pending"
    finally:
        retention.configure(timedelta(days=ctx.settings.webhook_log_retention_days))
        await ok.stop()
        await failing.stop()
