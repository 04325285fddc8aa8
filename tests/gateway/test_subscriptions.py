"""GraphQL subscriptions over graphql-transport-ws, with a real WebSocket client.

The session's gateway app (running its real lifespan, so the event-stream fan-out and the API key
projection are live) is served by a real uvicorn server on a free port; the test client speaks
the protocol over a socket. Events come from real REST writes through the services' outboxes and
NATS.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.subscriptions.api import (
    CLOSE_KEY_REVOKED,
    CLOSE_REFUSED,
    CLOSE_TOKEN_EXPIRED,
    KEY_REVOKED_REASON,
    TOKEN_EXPIRED_REASON,
)
from gateway.subscriptions.service import QUEUE_SIZE, EventHub, SubscriberTooSlow
from gateway.subscriptions.topics import AI_SYSTEMS
from shared.auth import Principal, Role
from shared.db import utcnow, uuid7
from shared.events import CloudEvent
from shared.runtime.embedded import find_free_port
from shared.testing import eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines

PROTOCOL = "graphql-transport-ws"
SYSTEMS = """
subscription Systems($systemId: ID) {
  aiSystemChanged(systemId: $systemId) {
    __typename eventId eventType occurredAt version kind systemId name lifecycleStage
  }
}
"""


@pytest.fixture(scope="module")
async def ws_url(stack: Stack) -> AsyncIterator[str]:
    """The session's gateway, served over a real socket (its lifespan already runs)."""
    port = find_free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            stack.apps["gateway"], host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: _started(server), timeout=10)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


class Live:
    """A graphql-transport-ws client over one WebSocket connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 15.0) -> dict[str, Any]:
        """The next message other than a ping (answered)."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=timeout)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def closed(self, timeout: float = 15.0) -> ConnectionClosed:
        """Wait for the server to close the connection; the close frame it sent."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout=timeout)
        except ConnectionClosed as exc:
            return exc
        raise AssertionError("unreachable")


async def open_live(url: str) -> Live:
    ws = await connect(url, subprotocols=[PROTOCOL])  # type: ignore[list-item]
    assert ws.subprotocol == PROTOCOL
    return Live(ws)


def bearer(stack: Stack, org: uuid.UUID, *roles: str, ttl: int = 3600) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.engines.token(org, *roles, ttl=ttl)}"}


async def register_system(stack: Stack, org: uuid.UUID, name: str) -> str:
    response = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name}, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def subscribed_to_systems(stack: Stack, url: str, org: uuid.UUID) -> Live:
    live = await open_live(url)
    ack = await live.init(bearer(stack, org, "viewer"))
    assert ack["type"] == "connection_ack", ack
    await live.subscribe("systems", SYSTEMS)
    await wait_for_subscribers(stack, org)
    return live


async def wait_for_subscribers(stack: Stack, org: uuid.UUID) -> None:
    """Until the gateway's hub holds a subscriber of ``org`` (the subscribe message is async)."""
    hub = stack.apps["gateway"].state.ctx.extras["subscription_hub"]

    async def registered() -> bool:
        return bool(hub.subscribers_in(org))

    await eventually(registered, timeout=10, interval=0.02)


async def test_a_system_registered_through_rest_is_pushed(stack: Stack, ws_url: str) -> None:
    org = uuid7()
    live = await subscribed_to_systems(stack, ws_url, org)
    try:
        system_id = await register_system(stack, org, "CV screening assistant")
        message = await live.receive()
        assert message["type"] == "next", message
        assert message["id"] == "systems"
        event = message["payload"]["data"]["aiSystemChanged"]
        assert event["__typename"] == "AISystemEvent"
        assert event["kind"] == "REGISTERED"
        assert event["eventType"] == "aims.inventory.system.registered"
        assert event["name"] == "CV screening assistant"
        assert event["version"] == 1
        # The Relay ID resolves over HTTP like any other node.
        node = await stack.gateway.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { node(id: $id) { ... on AISystem { name } } }",
                "variables": {"id": event["systemId"]},
            },
            headers=stack.headers(org, "viewer"),
        )
        assert node.json()["data"]["node"] == {"name": "CV screening assistant"}, node.text
        # An update of the same system follows, as UPDATED.
        patched = await stack.inventory.patch(
            f"/v1/ai-systems/{system_id}",
            json={"owner": "ops@example.com"},
            headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
        )
        assert patched.status_code == 200, patched.text
        update = (await live.receive())["payload"]["data"]["aiSystemChanged"]
        assert (update["kind"], update["version"]) == ("UPDATED", 2)
    finally:
        await live.ws.close()


async def test_another_organisations_events_are_not_received(stack: Stack, ws_url: str) -> None:
    mine, theirs = uuid7(), uuid7()
    live = await subscribed_to_systems(stack, ws_url, mine)
    try:
        # Theirs is committed (and streamed) first: had it been let through, it would arrive
        # before mine.
        await register_system(stack, theirs, "Their fraud model")
        await register_system(stack, mine, "My routing model")
        first = (await live.receive())["payload"]["data"]["aiSystemChanged"]
        assert first["name"] == "My routing model"
        with pytest.raises(TimeoutError):
            await live.receive(timeout=1.0)
    finally:
        await live.ws.close()


async def test_system_filter_keeps_only_that_system(stack: Stack, ws_url: str) -> None:
    org = uuid7()
    watched = await register_system(stack, org, "Watched")
    live = await open_live(ws_url)
    try:
        assert (await live.init(bearer(stack, org, "auditor")))["type"] == "connection_ack"
        await live.subscribe("one", SYSTEMS, {"systemId": watched})
        await wait_for_subscribers(stack, org)
        await register_system(stack, org, "Not watched")
        patched = await stack.inventory.patch(
            f"/v1/ai-systems/{watched}",
            json={"owner": "a@example.com"},
            headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
        )
        assert patched.status_code == 200, patched.text
        # Its own registration may still be on its way; "Not watched" must never show up.
        kinds: list[str] = []
        while not kinds or kinds[-1] != "UPDATED":
            event = (await live.receive())["payload"]["data"]["aiSystemChanged"]
            assert event["name"] == "Watched"
            kinds.append(event["kind"])
        assert kinds in (["UPDATED"], ["REGISTERED", "UPDATED"])
    finally:
        await live.ws.close()


@pytest.mark.parametrize(
    ("payload", "reason_part"),
    [
        ({"Authorization": "Bearer not-a-token"}, "not valid"),
        ({"Authorization": "Bearer aims_deadbeef_nope"}, "API key"),
        ({}, "Authorization"),
    ],
)
async def test_a_bad_credential_is_refused_at_init(
    ws_url: str, payload: dict[str, str], reason_part: str
) -> None:
    live = await open_live(ws_url)
    await live.send({"type": "connection_init", "payload": payload})
    closed = await live.closed()
    assert closed.rcvd is not None
    assert closed.rcvd.code == CLOSE_REFUSED
    assert reason_part in closed.rcvd.reason


async def test_subscribing_before_init_is_refused(ws_url: str) -> None:
    live = await open_live(ws_url)
    await live.subscribe("early", SYSTEMS)
    closed = await live.closed()
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4401


async def test_queries_are_refused_over_websocket(stack: Stack, ws_url: str) -> None:
    org = uuid7()
    live = await open_live(ws_url)
    try:
        assert (await live.init(bearer(stack, org, "viewer")))["type"] == "connection_ack"
        await live.subscribe("q", "{ aiSystems(first: 1) { totalCount } }")
        message = await live.receive()
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "subscription-required"
    finally:
        await live.ws.close()


async def test_revoking_the_api_key_ends_the_stream(stack: Stack, ws_url: str) -> None:
    org = uuid7()
    created = await stack.inventory.post(
        "/v1/api-keys",
        json={"name": "dashboard", "role": "viewer"},
        headers=stack.headers(org, "admin"),
    )
    assert created.status_code == 201, created.text
    key = created.json()

    async def connected_with_key() -> Live | None:
        # The gateway verifies keys against its projection, which the create event fills.
        live = await open_live(ws_url)
        try:
            message = await live.init({"apiKey": key["key"]})
        except ConnectionClosed:
            return None  # refused (4403): not projected yet
        assert message["type"] == "connection_ack", message
        return live

    live = await eventually(connected_with_key, timeout=15, interval=0.2)
    await live.subscribe("systems", SYSTEMS)
    await wait_for_subscribers(stack, org)
    await register_system(stack, org, "Before revocation")
    assert (await live.receive())["type"] == "next"

    revoked = await stack.inventory.delete(
        f"/v1/api-keys/{key['id']}", headers=stack.headers(org, "admin")
    )
    assert revoked.status_code == 200, revoked.text
    closed = await live.closed()
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (CLOSE_KEY_REVOKED, KEY_REVOKED_REASON)

    # And the key opens no new connection.
    again = await open_live(ws_url)
    await again.send({"type": "connection_init", "payload": {"apiKey": key["key"]}})
    refused = await again.closed()
    assert refused.rcvd is not None and refused.rcvd.code == CLOSE_REFUSED


async def test_an_expired_token_ends_the_stream(stack: Stack, ws_url: str) -> None:
    org = uuid7()
    live = await open_live(ws_url)
    ack = await live.init(bearer(stack, org, "viewer", ttl=2))
    assert ack["type"] == "connection_ack", ack
    await live.subscribe("systems", SYSTEMS)
    await wait_for_subscribers(stack, org)
    closed = await live.closed(timeout=15)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (CLOSE_TOKEN_EXPIRED, TOKEN_EXPIRED_REASON)
    # The subscriber went with the connection.
    hub = stack.apps["gateway"].state.ctx.extras["subscription_hub"]
    await eventually(lambda: _no_subscribers(hub, org), timeout=10)


async def _no_subscribers(hub: Any, org: uuid.UUID) -> bool:
    return bool(hub.subscribers_in(org) == 0)


async def test_the_fan_out_is_a_supervised_worker(stack: Stack) -> None:
    response = await stack.gateway.get("/readyz")
    body = response.json()
    assert body["workers"]["subscriptions"]["state"] == "running", body


async def test_subscriptions_are_not_served_over_http(stack: Stack) -> None:
    response = await stack.gateway.post(
        "/graphql",
        json={"query": "subscription { readinessChanged { score } }"},
        headers=stack.headers(uuid7(), "viewer"),
    )
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"][0]["extensions"]["code"] == "websocket-required", body


def _registered(org: uuid.UUID, n: int) -> CloudEvent:
    system_id = str(uuid7())
    return CloudEvent(
        id=str(uuid7()),
        source="/aims/inventory",
        type="aims.inventory.system.registered",
        time=utcnow(),
        subject=system_id,
        data={"id": system_id, "name": f"System {n}", "lifecycle_stage": "idea"},
        orgid=str(org),
        dataversion=1,
    )


async def test_a_slow_subscriber_is_dropped_and_blocks_no_one() -> None:
    # The fan-out itself, without a broker: dispatch() is what the NATS callback calls.
    hub = EventHub(None, stream="unused")
    org = uuid7()
    viewer = Principal(
        subject="v", org_id=org, roles=frozenset({Role.VIEWER}), kind="user", authorization=""
    )
    stalled = hub.subscribe(viewer, AI_SYSTEMS)
    reading = hub.subscribe(viewer, AI_SYSTEMS)
    received = 0
    for n in range(QUEUE_SIZE + 10):
        hub.dispatch(_registered(org, n))  # never waits, whoever is not reading
        await reading.next()
        received += 1
    assert received == QUEUE_SIZE + 10
    with pytest.raises(SubscriberTooSlow):
        await stalled.next()
    assert hub.subscriber_count == 1  # the stalled one is gone; the reader stays
    assert hub.dropped_total == 1


async def test_a_nul_in_the_handshake_query_is_refused_and_a_plain_one_is_not(
    ws_url: str,
) -> None:
    """The check every HTTP operation makes (NUL anywhere in the request) holds for the
    WebSocket handshake too; any other query string is left to the protocol."""
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{ws_url}?probe=a%00b", subprotocols=[PROTOCOL])  # type: ignore[list-item]
    answer = refused.value.response
    assert answer.status_code == 422
    assert json.loads(answer.body)["errors"][0]["location"] == ["query", "probe"]
    live = await open_live(f"{ws_url}?probe=ab")
    await live.ws.close()
