"""The GraphQL response cache (gateway/cache.py) through the running gateway and real services:
hits, invalidation by events and by the gateway's own mutations, isolation between callers and
organisations, and every bypass."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.cache import CacheKey, ResponseCache
from gateway.config import GatewaySettings
from gateway.main import create_app
from shared.db import uuid7
from shared.events import CloudEvent
from shared.testing import RoutingTransport, eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines

SYSTEMS = """
query Systems($first: Int!) {
  aiSystems(first: $first) { edges { node { id name version } } }
}
"""

REGISTER = """
mutation Register($input: RegisterAISystemInput!) {
  registerAISystem(input: $input) {
    aiSystem { id name }
    errors { __typename message code }
  }
}
"""


async def post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The ``X-AIMS-Cache`` outcome and the body of one GraphQL request."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return response.headers["x-aims-cache"], body


def names(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return sorted(edge["node"]["name"] for edge in body["data"]["aiSystems"]["edges"])


async def register_over_rest(stack: Stack, org: uuid.UUID, name: str) -> None:
    response = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name}, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 201, response.text


async def warm(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """The systems of the caller's organisation, once it is served from the cache (events of
    the organisation, e.g. the services' reactions to a registration, invalidate it meanwhile)."""

    async def hit() -> list[str] | None:
        _, first = await post(client, headers, SYSTEMS, {"first": 50})
        outcome, second = await post(client, headers, SYSTEMS, {"first": 50})
        return names(second) if outcome == "hit" and second == first else None

    return await eventually(hit, timeout=10)


async def test_the_second_identical_query_is_served_from_the_cache(
    stack: Stack, org: uuid.UUID
) -> None:
    await register_over_rest(stack, org, "Hiring")
    headers = stack.headers(org, "viewer")
    await eventually(lambda: _has(stack.gateway, headers, ["Hiring"]))
    assert await warm(stack.gateway, headers) == ["Hiring"]
    # Other variables are another entry.
    outcome, _ = await post(stack.gateway, headers, SYSTEMS, {"first": 49})
    assert outcome == "miss"
    metrics = (await stack.gateway.get("/metrics")).text
    assert 'aims_graphql_response_cache_total{outcome="hit",service="gateway"}' in metrics


async def _has(client: httpx.AsyncClient, headers: dict[str, str], expected: list[str]) -> bool:
    # Another page size than the requests under test: another entry.
    _, body = await post(client, headers, SYSTEMS, {"first": 48})
    return names(body) == expected


async def test_a_write_over_rest_invalidates_once_its_event_arrives(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "viewer")
    # Without the settle window, only the event's invalidation can end the entry before its TTL.
    async with gateway_of_its_own(stack, graphql_response_cache_settle_seconds=0) as (_, client):
        assert await warm(client, headers) == []
        await register_over_rest(stack, org, "Credit scoring")

        async def fresh() -> str | None:
            outcome, body = await post(client, headers, SYSTEMS, {"first": 50})
            return outcome if names(body) == ["Credit scoring"] else None

        # Within the time a client could see the old page (the event's way), far below the
        # TTL: without invalidation the cached empty page would be served for 30 s.
        assert await eventually(fresh, timeout=10) == "miss"


async def test_a_mutation_through_the_gateway_is_read_back_at_once(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "admin")
    assert await warm(stack.gateway, headers) == []
    outcome, created = await post(stack.gateway, headers, REGISTER, {"input": {"name": "Chatbot"}})
    assert outcome == "bypass"
    assert created["data"]["registerAISystem"]["errors"] == []
    # No waiting: the mutation invalidated the organisation before its response was sent.
    outcome, body = await post(stack.gateway, headers, SYSTEMS, {"first": 50})
    assert (outcome, names(body)) == ("miss", ["Chatbot"])


async def test_other_users_and_roles_never_get_a_callers_entry(
    stack: Stack, org: uuid.UUID
) -> None:
    await register_over_rest(stack, org, "Hiring")
    alice = stack.headers(org, "viewer", subject="alice")
    await eventually(lambda: _has(stack.gateway, alice, ["Hiring"]))
    await warm(stack.gateway, alice)
    bob = stack.headers(org, "viewer", subject="bob")
    alice_as_admin = stack.headers(org, "admin", subject="alice")
    for headers in (bob, alice_as_admin):
        outcome, body = await post(stack.gateway, headers, SYSTEMS, {"first": 50})
        assert (outcome, names(body)) == ("miss", ["Hiring"])
    # Alice's own entry is served to her (again, once the organisation's events settled).
    assert await warm(stack.gateway, alice) == ["Hiring"]


async def test_another_organisation_never_gets_an_entry(stack: Stack, org: uuid.UUID) -> None:
    await register_over_rest(stack, org, "Hiring")
    mine = stack.headers(org, "viewer", subject="same-subject")
    await eventually(lambda: _has(stack.gateway, mine, ["Hiring"]))
    await warm(stack.gateway, mine)
    other = stack.headers(uuid7(), "viewer", subject="same-subject")
    outcome, body = await post(stack.gateway, other, SYSTEMS, {"first": 50})
    assert (outcome, names(body)) == ("miss", [])


async def test_results_with_errors_are_not_cached(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "viewer")
    query = 'query Broken { node(id: "not-a-global-id") { id } }'
    for _ in range(2):
        outcome, body = await post(stack.gateway, headers, query)
        assert body.get("errors"), body
        assert outcome == "miss"


async def test_no_cache_bypasses_the_cache(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "viewer")
    assert await warm(stack.gateway, headers) == []
    outcome, body = await post(
        stack.gateway, {**headers, "Cache-Control": "no-cache"}, SYSTEMS, {"first": 50}
    )
    assert (outcome, names(body)) == ("bypass", [])
    # A bypass neither reads nor replaces the entry.
    outcome, _ = await post(stack.gateway, headers, SYSTEMS, {"first": 50})
    assert outcome == "hit"


async def test_mutations_are_never_cached(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "admin")
    for name in ("One", "Two"):
        outcome, body = await post(stack.gateway, headers, REGISTER, {"input": {"name": name}})
        assert outcome == "bypass", name
        assert body["data"]["registerAISystem"]["errors"] == []
    outcome, body = await post(stack.gateway, headers, SYSTEMS, {"first": 50})
    assert names(body) == ["One", "Two"]


@asynccontextmanager
async def gateway_of_its_own(
    stack: Stack, **settings: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """Another gateway over the same services, with settings of the test's own."""
    routes: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=stack.apps[name])
        for name in ("inventory", "risk", "evidence")
    }
    app = create_app(
        GatewaySettings(
            **{**stack.engines.settings_env("gateway"), "run_workers": False, **settings},
            inventory_url="http://inventory",
            risk_url="http://risk",
            evidence_url="http://evidence",
        ),
        upstream_transport=RoutingTransport(routes),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):
        yield app, client


@pytest.fixture
async def own_gateway(stack: Stack) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """A gateway of its own (its event feed is cut by the test)."""
    async with gateway_of_its_own(stack) as gateway:
        yield gateway


async def test_without_the_event_feed_every_request_bypasses(
    stack: Stack, org: uuid.UUID, own_gateway: tuple[Any, httpx.AsyncClient]
) -> None:
    app, client = own_gateway
    headers = stack.headers(org, "viewer")
    # The hub subscribes in the background once the app started.
    await eventually(lambda: _outcome_is(client, headers, "hit"), timeout=10)
    # The broker connection drops: no invalidation can arrive, so nothing is served from the
    # cache, and a write made meanwhile is seen at once.
    await app.state.ctx.nc.close()
    await register_over_rest(stack, org, "Hiring")
    await eventually(lambda: _has(stack.gateway, headers, ["Hiring"]))
    outcome, body = await post(client, headers, SYSTEMS, {"first": 50})
    assert (outcome, names(body)) == ("bypass", ["Hiring"])
    outcome, _ = await post(client, headers, SYSTEMS, {"first": 50})
    assert outcome == "bypass"


async def _outcome_is(client: httpx.AsyncClient, headers: dict[str, str], wanted: str) -> bool:
    outcome, _ = await post(client, headers, SYSTEMS, {"first": 50})
    return outcome == wanted


async def test_a_gateway_without_a_broker_never_caches(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "viewer")
    async with gateway_of_its_own(stack, nats_url=None) as (_, client):
        for _ in range(3):
            outcome, body = await post(client, headers, SYSTEMS, {"first": 50})
            assert (outcome, names(body)) == ("bypass", [])


async def test_webhook_subscriptions_are_never_cached(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "admin")
    query = "{ webhookSubscriptions { id firstFailureAt } }"
    for _ in range(2):
        outcome, body = await post(stack.gateway, headers, query)
        assert "errors" not in body, body
        assert outcome == "bypass"


async def test_the_cache_can_be_switched_off(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "viewer")
    async with gateway_of_its_own(stack, graphql_response_cache_enabled=False) as (app, client):
        hub = app.state.ctx.extras["subscription_hub"]

        async def live() -> bool:
            return bool(hub.live)

        await eventually(live)  # the feed is up: only the setting keeps the cache off
        for _ in range(3):
            outcome, _ = await post(client, headers, SYSTEMS, {"first": 50})
            assert outcome == "bypass"


# --- The store's decisions, with a clock of the test's own ---------------------------------------


class FakeHub:
    def __init__(self) -> None:
        self.listeners: list[Any] = []
        self.live = True
        self.epoch = 1


class FakeNATS:
    def __init__(self) -> None:
        self.is_connected = True
        self.stats = {"reconnects": 0}


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def store(**options: Any) -> tuple[ResponseCache, FakeHub, FakeNATS, Clock]:
    clock = Clock()
    cache = ResponseCache(clock=clock, **{"ttl_seconds": 30.0, "settle_seconds": 1.0, **options})
    hub, nc = FakeHub(), FakeNATS()
    cache.attach(hub, nc)  # type: ignore[arg-type]
    return cache, hub, nc, clock


def key(org: str, n: int = 0) -> CacheKey:
    return (org, "alice", "user", ("viewer",), f"doc{n}")


def event(org: str) -> CloudEvent:
    return CloudEvent(
        id=str(uuid7()),
        source="/inventory",
        type="aims.inventory.system.registered",
        time=datetime.now(UTC),
        orgid=org,
        dataversion=1,
    )


def put(cache: ResponseCache, k: CacheKey, body: bytes = b"{}") -> bool:
    feed = cache.feed()
    assert feed is not None
    return cache.put(k, cache.begin(k[0], feed), body, [])


def test_an_event_during_an_execution_keeps_its_result_out() -> None:
    cache, hub, _, _ = store()
    feed = cache.feed()
    assert feed is not None
    ticket = cache.begin("org-a", feed)
    hub.listeners[0](event("org-a"))
    assert not cache.put(key("org-a"), ticket, b"{}", [])
    # Another organisation's event does not matter.
    ticket = cache.begin("org-a", feed)
    hub.listeners[0](event("org-b"))
    assert cache.put(key("org-a"), ticket, b"{}", [])
    assert cache.get(key("org-a")) is not None


def test_an_event_or_a_mutation_invalidates_only_its_organisation() -> None:
    cache, hub, _, _ = store(settle_seconds=0.0)
    assert put(cache, key("org-a")) and put(cache, key("org-b"))
    hub.listeners[0](event("org-a"))
    assert cache.get(key("org-a")) is None
    assert cache.get(key("org-b")) is not None
    cache.invalidate("org-b")
    assert cache.get(key("org-b")) is None


def test_results_computed_just_after_an_event_last_until_the_window_ends() -> None:
    cache, hub, _, clock = store(settle_seconds=1.0)
    hub.listeners[0](event("org-a"))
    clock.now += 0.5
    assert put(cache, key("org-a"))
    assert cache.get(key("org-a")) is not None
    clock.now += 0.5
    assert cache.get(key("org-a")) is None
    assert put(cache, key("org-a"))  # started after the window: kept until the TTL
    clock.now += 29.9
    assert cache.get(key("org-a")) is not None
    clock.now += 0.2
    assert cache.get(key("org-a")) is None


def test_the_feed_going_down_or_reconnecting_invalidates_everything() -> None:
    cache, hub, nc, _ = store()
    assert put(cache, key("org-a"))
    nc.is_connected = False
    assert cache.feed() is None and cache.get(key("org-a")) is None
    nc.is_connected = True
    assert put(cache, key("org-a"))
    nc.stats["reconnects"] += 1
    assert cache.get(key("org-a")) is None
    assert put(cache, key("org-a"))
    hub.epoch += 1  # the hub subscribed again
    assert cache.get(key("org-a")) is None
    hub.live = False
    assert cache.feed() is None


def test_the_lru_is_bounded_by_entries_and_bytes() -> None:
    cache, _, _, _ = store(max_entries=3, max_bytes=4096)
    for n in range(5):
        assert put(cache, key("org-a", n))
    assert len(cache) == 3 and cache.get(key("org-a", 0)) is None
    assert cache.get(key("org-a", 4)) is not None
    assert not put(cache, key("org-a", 9), b"x" * 2000)  # over a quarter of the bytes
    cache, _, _, _ = store(max_entries=10, max_bytes=4096)
    for n in range(5):
        assert put(cache, key("org-a", n), b"x" * 700)
    assert cache.bytes <= 4096 and len(cache) == 4
    assert cache.get(key("org-a", 0)) is None and cache.get(key("org-a", 1)) is not None


# --- Identical concurrent misses: one execution ----------------------------------------------


async def test_identical_concurrent_misses_share_one_execution(
    stack: Stack, org: uuid.UUID
) -> None:
    await register_over_rest(stack, org, "Hiring")
    headers = stack.headers(org, "viewer")
    await eventually(lambda: _has(stack.gateway, headers, ["Hiring"]))
    sizes = iter(range(40, 0, -1))  # a page size not asked before: a key nobody has stored

    async def together() -> list[str] | None:
        first = next(sizes)
        replies = await asyncio.gather(
            *(post(stack.gateway, headers, SYSTEMS, {"first": first}) for _ in range(8))
        )
        assert all(names(body) == ["Hiring"] for _, body in replies)
        outcomes = [outcome for outcome, _ in replies]
        # A late event of the organisation may start a second execution; then try again.
        return outcomes if outcomes.count("miss") == 1 else None

    outcomes = await eventually(together, timeout=20)
    assert "coalesced" in outcomes, outcomes
    assert set(outcomes) <= {"miss", "coalesced", "hit"}
    metrics = (await stack.gateway.get("/metrics")).text
    assert 'aims_graphql_response_cache_total{outcome="coalesced",service="gateway"}' in metrics
    # Cache-Control: no-cache never waits for another's execution.
    no_cache = {**headers, "Cache-Control": "no-cache"}
    replies = await asyncio.gather(
        *(post(stack.gateway, no_cache, SYSTEMS, {"first": 3}) for _ in range(4))
    )
    assert [outcome for outcome, _ in replies] == ["bypass"] * 4


async def test_a_request_joins_an_execution_only_while_nothing_changed() -> None:
    cache, hub, _, _ = store()
    feed = cache.feed()
    assert feed is not None
    flight = cache.lead(key("org-a"), cache.begin("org-a", feed))
    assert cache.joinable(key("org-a")) is flight.result
    assert cache.joinable(key("org-a", 1)) is None  # another document, variables or caller
    assert cache.joinable(key("org-b")) is None
    # Another organisation's event changes nothing; this one's does: a request arriving now
    # executes afresh (the running execution may not see the change).
    hub.listeners[0](event("org-b"))
    assert cache.joinable(key("org-a")) is flight.result
    hub.listeners[0](event("org-a"))
    assert cache.joinable(key("org-a")) is None
    # Whoever waits gets what the execution landed with; None tells them to execute.
    cache.land(key("org-a"), flight, None)
    assert flight.result.done() and flight.result.result() is None
    assert cache.in_flight() == 0
    # A newer execution of the key is not ended by an older one landing.
    older = cache.lead(key("org-a"), cache.begin("org-a", feed))
    newer = cache.lead(key("org-a"), cache.begin("org-a", feed))
    cache.land(key("org-a"), older, (b"{}", ()))
    assert cache.joinable(key("org-a")) is newer.result and cache.in_flight() == 1
    cache.land(key("org-a"), newer, (b"{}", ()))
    assert cache.in_flight() == 0
