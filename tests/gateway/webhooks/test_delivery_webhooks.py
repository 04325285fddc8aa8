"""Webhook delivery end to end: real services, real NATS and PostgreSQL, and real HTTP
receivers listening on 127.0.0.1 (the test gateway allows 127.0.0.0/8 as webhook targets).

Every delivery is verified with the ``standardwebhooks`` reference library, as a GRC platform
would. The retry schedule is shrunk with ``ctx.extras["webhook_schedule_scale"]``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from gateway.webhooks.models import WebhookSubscription
from shared.db import tenant_transaction
from shared.testing import eventually

pytestmark = pytest.mark.engines


# --- a real HTTP receiver ---------------------------------------------------------------------


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server answering each POST with the next scripted response."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=lambda: [(200, {})])
    received: list[Delivery] = field(default_factory=list)
    reply: bytes = b"ok"  # the body of every answer
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aims"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            index = min(len(self.received), len(self.script) - 1)
            status, extra = self.script[index]
            self.received.append(Delivery(headers, body, time.monotonic()))
            reply = self.reply
            out = [f"HTTP/1.1 {status} Scripted", f"Content-Length: {len(reply)}"]
            out += [f"{k}: {v}" for k, v in extra.items()]
            out.append("Connection: close")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + reply)
            await writer.drain()
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        async def enough() -> list[Delivery] | None:
            return self.received if len(self.received) >= count else None

        return await eventually(enough, timeout=timeout)


@pytest.fixture
def ctx(stack: Any) -> Any:
    return stack.apps["gateway"].state.ctx


@pytest.fixture
def fast_schedule(ctx: Any) -> Iterator[None]:
    """Shrink every retry delay 1000-fold (5 s -> 5 ms, 5 min -> 0.3 s)."""
    before = ctx.extras.get("webhook_schedule_scale", 1.0)
    ctx.extras["webhook_schedule_scale"] = 0.001
    yield
    ctx.extras["webhook_schedule_scale"] = before


# --- helpers ----------------------------------------------------------------------------------


async def subscribe(
    stack: Any, org: uuid.UUID, url: str, event_types: list[str] | None = None
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/v1/webhook-subscriptions",
        json={"url": url, "event_types": event_types or ["system.registered"]},
        headers=stack.headers(org, "admin"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def register_system(stack: Any, org: uuid.UUID, name: str = "CV screening") -> str:
    response = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name}, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def get(stack: Any, org: uuid.UUID, path: str) -> dict[str, Any]:
    response = await stack.gateway.get(path, headers=stack.headers(org, "viewer"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def messages(stack: Any, org: uuid.UUID, sub_id: str) -> list[dict[str, Any]]:
    page = await get(stack, org, f"/v1/webhook-subscriptions/{sub_id}/messages")
    return list(page["items"])


async def attempts(stack: Any, org: uuid.UUID, message_id: str) -> list[dict[str, Any]]:
    page = await get(stack, org, f"/v1/webhook-messages/{message_id}/attempts")
    return list(page["items"])


async def message_in_state(
    stack: Any, org: uuid.UUID, sub_id: str, state: str, timeout: float = 20.0
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        items = await messages(stack, org, sub_id)
        return items[0] if items and items[0]["state"] == state else None

    return await eventually(check, timeout=timeout)


def verify(secret: str, delivery: Delivery) -> dict[str, Any]:
    return dict(Webhook(secret).verify(delivery.body, delivery.headers))


def trace_of(traceparent: str) -> str:
    """The trace id of a W3C ``traceparent`` (checked for form)."""
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, len(trace_id), len(span_id), len(flags)) == ("00", 32, 16, 2), traceparent
    return trace_id


# --- tests ------------------------------------------------------------------------------------


async def test_registered_system_is_delivered_signed(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    sub = await subscribe(stack, org, receiver.url, ["system.registered"])
    assert sub["secret"].startswith("whsec_")
    system_id = await register_system(stack, org, "Credit scoring")

    [delivery] = await receiver.wait_for(1)
    event = verify(sub["secret"], delivery)
    assert event["type"] == "aims.inventory.system.registered"
    assert event["orgid"] == str(org)
    assert event["data"]["id"] == system_id
    assert event["data"]["name"] == "Credit scoring"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["user-agent"] == "AIMS-Webhooks/1"
    # The POST carries the trace of the request that committed the event (tracing off here:
    # the project's own trace context), in a span of its own; the signature verified above
    # with the header present (headers are not signed).
    assert trace_of(delivery.headers["traceparent"]) == trace_of(event["traceparent"])
    assert delivery.headers["traceparent"] != event["traceparent"]

    message = await message_in_state(stack, org, sub["id"], "delivered")
    assert message["id"] == delivery.headers["webhook-id"]
    assert message["event_id"] == event["id"]
    assert message["attempts"] == 1
    [attempt] = await attempts(stack, org, message["id"])
    assert attempt["status_code"] == 200
    assert attempt["attempt"] == 1
    assert attempt["error"] is None


async def test_an_answer_with_nul_bytes_is_recorded_once_and_not_sent_again(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    # PostgreSQL text cannot hold NUL: stored as it came, the excerpt failed every recording
    # until the lease ran out, and the message was sent again.
    receiver.reply = b"ok\x00 \xff\xfe done"
    sub = await subscribe(stack, org, receiver.url)
    await register_system(stack, org)
    await receiver.wait_for(1)
    message = await message_in_state(stack, org, sub["id"], "delivered")
    [attempt] = await attempts(stack, org, message["id"])
    assert attempt["status_code"] == 200
    assert attempt["response_excerpt"] == "ok\ufffd \ufffd\ufffd done"
    assert len(receiver.received) == 1


async def test_unmatched_events_are_not_delivered(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    sub = await subscribe(stack, org, receiver.url, ["risk.*"])
    await register_system(stack, org)
    other = Receiver()
    await other.start()
    try:
        # A second subscription that matches proves the event went through the consumer.
        await subscribe(stack, org, other.url, ["system.*"])
        await register_system(stack, org, "second")
        await other.wait_for(1)
    finally:
        await other.stop()
    assert receiver.received == []
    assert await messages(stack, org, sub["id"]) == []


@pytest.mark.usefixtures("fast_schedule")
async def test_retry_after_500_keeps_the_webhook_id(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    receiver.script = [(500, {}), (200, {})]
    sub = await subscribe(stack, org, receiver.url)
    await register_system(stack, org)

    first, second = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verify(sub["secret"], first) == verify(sub["secret"], second)

    message = await message_in_state(stack, org, sub["id"], "delivered")
    log = await attempts(stack, org, message["id"])
    assert [a["status_code"] for a in log] == [500, 200]
    assert [a["attempt"] for a in log] == [1, 2]
    assert log[0]["next_attempt_at"] is not None
    assert log[0]["response_excerpt"] == "ok"
    current = await get(stack, org, f"/v1/webhook-subscriptions/{sub['id']}")
    assert current["first_failure_at"] is None  # reset by the success


@pytest.mark.usefixtures("fast_schedule")
async def test_retry_after_header_is_honoured(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    # Retry-After 2000 s, scaled like every delay (x0.001): about 2 s instead of 5 ms.
    receiver.script = [(503, {"Retry-After": "2000"}), (200, {})]
    sub = await subscribe(stack, org, receiver.url)
    await register_system(stack, org)
    first, second = await receiver.wait_for(2)
    assert second.at - first.at >= 1.8
    await message_in_state(stack, org, sub["id"], "delivered")


async def test_410_gone_disables_the_endpoint_with_a_notice(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    receiver.script = [(410, {})]
    watcher = Receiver()
    await watcher.start()
    try:
        # The watcher also gets system.registered: it shows when the gateway has seen an event.
        notices = await subscribe(
            stack, org, watcher.url, ["webhook.endpoint.disabled", "system.registered"]
        )
        sub = await subscribe(stack, org, receiver.url)
        await register_system(stack, org)

        await message_in_state(stack, org, sub["id"], "failed")
        current = await get(stack, org, f"/v1/webhook-subscriptions/{sub['id']}")
        assert current["enabled"] is False
        assert "410" in current["disabled_reason"]
        assert len(receiver.received) == 1  # no retry after 410

        async def notice() -> Delivery | None:
            found = [d for d in watcher.received if "endpoint" in d.event["type"]]
            return found[0] if found else None

        event = verify(notices["secret"], await eventually(notice))
        assert event["type"] == "aims.gateway.webhook.endpoint.disabled"
        assert event["data"]["subscription_id"] == sub["id"]
        assert "410" in event["data"]["reason"]

        # Disabled: new events are not queued for it.
        await register_system(stack, org, "while disabled")

        async def seen() -> bool:
            return any(d.event["data"].get("name") == "while disabled" for d in watcher.received)

        await eventually(seen)
    finally:
        await watcher.stop()
    assert len(await messages(stack, org, sub["id"])) == 1

    # Re-enabling resumes deliveries.
    enabled = await stack.gateway.post(
        f"/v1/webhook-subscriptions/{sub['id']}/enable", headers=stack.headers(org, "manager")
    )
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] is None
    receiver.script = [(200, {})]
    await register_system(stack, org, "after enabling")
    deliveries = await receiver.wait_for(2)
    assert deliveries[1].event["data"]["name"] == "after enabling"
    assert len(await messages(stack, org, sub["id"])) == 2


async def test_endpoint_failing_for_days_is_disabled(
    stack: Any, org: uuid.UUID, receiver: Receiver, ctx: Any
) -> None:
    receiver.script = [(503, {})]
    sub = await subscribe(stack, org, receiver.url)
    async with tenant_transaction(ctx.db, org) as session:
        await session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id == uuid.UUID(sub["id"]))
            .values(first_failure_at=datetime.now(UTC) - timedelta(days=6))
        )
    await register_system(stack, org)
    await message_in_state(stack, org, sub["id"], "failed")
    current = await get(stack, org, f"/v1/webhook-subscriptions/{sub['id']}")
    assert current["enabled"] is False
    assert "failed since" in current["disabled_reason"]


async def test_exhausted_message_is_abandoned_and_reported(
    stack: Any, org: uuid.UUID, receiver: Receiver, ctx: Any
) -> None:
    receiver.script = [(500, {})]
    before = ctx.extras.get("webhook_schedule_scale", 1.0)
    ctx.extras["webhook_schedule_scale"] = 0.00001  # the ~75 h schedule in ~3 s
    watcher = Receiver()
    await watcher.start()
    try:
        reports = await subscribe(stack, org, watcher.url, ["webhook.delivery.failed"])
        sub = await subscribe(stack, org, receiver.url)
        await register_system(stack, org)
        message = await message_in_state(stack, org, sub["id"], "abandoned", timeout=30)
        assert message["attempts"] == 10
        assert len(receiver.received) == 10
        assert len({d.headers["webhook-id"] for d in receiver.received}) == 1
        [report] = await watcher.wait_for(1)
        event = verify(reports["secret"], report)
        assert event["type"] == "aims.gateway.webhook.delivery.failed"
        assert event["data"]["message_id"] == message["id"]
        assert event["data"]["attempts"] == 10
        assert event["data"]["last_status_code"] == 500
    finally:
        ctx.extras["webhook_schedule_scale"] = before
        await watcher.stop()


async def test_replay_one_message_and_everything_since(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    sub = await subscribe(stack, org, receiver.url)
    since = datetime.now(UTC) - timedelta(seconds=1)
    await register_system(stack, org, "first")
    await register_system(stack, org, "second")
    first_two = await receiver.wait_for(2)
    ids = {d.headers["webhook-id"] for d in first_two}
    assert len(ids) == 2

    async def both_delivered() -> list[dict[str, Any]] | None:
        items = await messages(stack, org, sub["id"])
        return items if len(items) == 2 and all(m["state"] == "delivered" for m in items) else None

    items = await eventually(both_delivered)
    one = items[-1]["id"]
    replayed = await stack.gateway.post(
        f"/v1/webhook-messages/{one}/replay", headers=stack.headers(org, "manager")
    )
    assert replayed.status_code == 202, replayed.text
    third = (await receiver.wait_for(3))[2]
    assert third.headers["webhook-id"] == one
    verify(sub["secret"], third)
    # A replay belongs to the trace of the request that asked for it.
    assert trace_of(third.headers["traceparent"]) == trace_of(replayed.headers["traceparent"])

    response = await stack.gateway.post(
        f"/v1/webhook-subscriptions/{sub['id']}/replay",
        params={"since": since.isoformat()},
        headers=stack.headers(org, "admin"),
    )
    assert response.status_code == 202, response.text
    assert response.json()["queued"] == 2
    replays = (await receiver.wait_for(5))[3:]
    assert {d.headers["webhook-id"] for d in replays} == ids
    assert {trace_of(d.headers["traceparent"]) for d in replays} == {
        trace_of(response.headers["traceparent"])
    }

    log = await attempts(stack, org, one)
    assert [a["attempt"] for a in log] == [1, 2, 3]

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none = await stack.gateway.post(
        f"/v1/webhook-subscriptions/{sub['id']}/replay",
        params={"since": future},
        headers=stack.headers(org, "admin"),
    )
    assert none.json()["queued"] == 0


async def test_rotated_secret_signs_twice(stack: Any, org: uuid.UUID, receiver: Receiver) -> None:
    sub = await subscribe(stack, org, receiver.url)
    rotated = await stack.gateway.post(
        f"/v1/webhook-subscriptions/{sub['id']}/rotate-secret",
        headers=stack.headers(org, "admin"),
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != sub["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None

    await register_system(stack, org)
    [delivery] = await receiver.wait_for(1)
    signatures = delivery.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    assert verify(new_secret, delivery) == verify(sub["secret"], delivery)
    # Each signature on its own verifies with its own secret.
    for secret, signature in zip((new_secret, sub["secret"]), signatures, strict=True):
        verify(
            secret, Delivery({**delivery.headers, "webhook-signature": signature}, delivery.body, 0)
        )


async def test_other_orgs_events_never_reach_a_subscription(stack: Any, receiver: Receiver) -> None:
    org_a, org_b = uuid.uuid4(), uuid.uuid4()
    other = Receiver()
    await other.start()
    try:
        sub_a = await subscribe(stack, org_a, receiver.url, ["*"])
        sub_b = await subscribe(stack, org_b, other.url, ["*"])
        await register_system(stack, org_a, "A's system")
        [delivery] = await receiver.wait_for(1)
        assert verify(sub_a["secret"], delivery)["orgid"] == str(org_a)
        await asyncio.sleep(1.0)
        assert other.received == []
        assert await messages(stack, org_b, sub_b["id"]) == []

        message = (await messages(stack, org_a, sub_a["id"]))[0]
        headers_b = stack.headers(org_b, "admin")
        for method, path in [
            ("GET", f"/v1/webhook-subscriptions/{sub_a['id']}"),
            ("GET", f"/v1/webhook-subscriptions/{sub_a['id']}/messages"),
            ("GET", f"/v1/webhook-messages/{message['id']}"),
            ("GET", f"/v1/webhook-messages/{message['id']}/attempts"),
            ("POST", f"/v1/webhook-messages/{message['id']}/replay"),
            ("POST", f"/v1/webhook-subscriptions/{sub_a['id']}/rotate-secret"),
            ("POST", f"/v1/webhook-subscriptions/{sub_a['id']}/enable"),
            ("DELETE", f"/v1/webhook-subscriptions/{sub_a['id']}"),
        ]:
            response = await stack.gateway.request(method, path, headers=headers_b)
            assert response.status_code == 404, (method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        replay = await stack.gateway.post(
            f"/v1/webhook-subscriptions/{sub_a['id']}/replay",
            params={"since": "2020-01-01T00:00:00Z"},
            headers=headers_b,
        )
        assert replay.status_code == 404
    finally:
        await other.stop()


def _sample(text: str, name: str, **labels: str) -> float:
    """One sample's value in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        metric, _, rest = sample.partition("{")
        if metric == name and rest.endswith("}"):
            pairs = dict(pair.split("=", 1) for pair in rest[:-1].split(",") if pair)
            if pairs == {key: f'"{v}"' for key, v in labels.items()}:
                return float(value)
    return 0.0


async def test_attempts_are_counted_by_outcome_in_the_gateways_metrics(
    stack: Any, org: uuid.UUID, receiver: Receiver
) -> None:
    name = "aims_webhook_attempts_total"

    async def counts() -> tuple[float, float]:
        text = (await stack.gateway.get("/metrics")).text
        return (
            _sample(text, name, service="gateway", outcome="rejected"),
            _sample(text, name, service="gateway", outcome="delivered"),
        )

    rejected, delivered = await counts()
    receiver.script = [(503, {}), (200, {})]
    sub = await subscribe(stack, org, receiver.url, ["system.registered"])
    await register_system(stack, org)
    await message_in_state(stack, org, sub["id"], "delivered")
    assert await counts() == (rejected + 1, delivered + 1)


async def test_every_app_reports_its_database_pool(stack: Any) -> None:
    for name in ("inventory", "risk", "evidence", "gateway"):
        text = (await stack.clients[name].get("/metrics")).text
        size = _sample(text, "aims_db_pool_size", service=name)
        in_use = _sample(text, "aims_db_pool_connections", service=name, state="in_use")
        idle = _sample(text, "aims_db_pool_connections", service=name, state="idle")
        assert size == 10, name  # AIMS_DATABASE_POOL_SIZE's default
        assert in_use >= 0 and idle >= 1, (name, in_use, idle)  # the stack has been used
        assert f'aims_db_pool_overflow{{service="{name}"}}' in text
