"""The GraphQL gateway against the real services, PostgreSQL and NATS."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from strawberry.relay import GlobalID

from gateway.config import GatewaySettings
from gateway.main import create_app
from shared.db import uuid7
from shared.testing import RoutingTransport, eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines

REGISTER = """
mutation Register($input: RegisterAISystemInput!) {
  registerAISystem(input: $input) {
    aiSystem { id name owner businessFunction lifecycleStage version }
    errors { __typename message code ... on ValidationError { field } }
  }
}
"""

PAGE = """
query Inventory($first: Int!, $after: String, $filter: AISystemFilter) {
  aiSystems(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id name lifecycleStage version createdAt
        riskView { sourceVersion syncedAt }
        evidenceSummary { fileCount totalBytes sourceVersion }
      }
    }
  }
}
"""


async def gql(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(stack: Stack, org: uuid.UUID, name: str, **fields: Any) -> dict[str, Any]:
    body = await gql(
        stack.gateway, stack.headers(org, "admin"), REGISTER, {"input": {"name": name, **fields}}
    )
    assert "errors" not in body, body
    payload = body["data"]["registerAISystem"]
    assert payload["errors"] == []
    system: dict[str, Any] = payload["aiSystem"]
    return system


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["aiSystems"]["edges"]]


async def wait_for_projections(
    client: httpx.AsyncClient, headers: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """Every system of the org, once risk and evidence have both projected all ``count``."""

    async def check() -> list[dict[str, Any]] | None:
        page = nodes(await gql(client, headers, PAGE, {"first": 100}))
        complete = len(page) == count and all(
            n["riskView"] is not None and n["evidenceSummary"] is not None for n in page
        )
        return page if complete else None

    return await eventually(check, timeout=30)


# --- Registering and reading ------------------------------------------------------------------


async def test_registered_system_is_listed_by_filter_with_risk_and_evidence_views(
    stack: Stack, org: uuid.UUID
) -> None:
    tag = secrets.token_hex(3)
    created = await register(
        stack,
        org,
        f"CV screening {tag}",
        owner="talent@example.com",
        businessFunction="Human resources",
        lifecycleStage="DEPLOYED",
    )
    await register(stack, org, f"Support chatbot {tag}")
    assert created["lifecycleStage"] == "DEPLOYED"
    assert created["businessFunction"] == "Human resources"
    assert created["version"] == 1

    headers = stack.headers(org, "viewer")
    filtered = nodes(
        await gql(
            stack.gateway,
            headers,
            PAGE,
            {"first": 10, "filter": {"nameContains": f"SCREENING {tag}"}},
        )
    )
    assert [n["id"] for n in filtered] == [created["id"]]

    page = await wait_for_projections(stack.gateway, headers, 2)
    screening = next(n for n in page if n["id"] == created["id"])
    assert screening["riskView"]["sourceVersion"] == 1
    assert screening["riskView"]["syncedAt"]
    assert screening["evidenceSummary"] == {"fileCount": 0, "totalBytes": 0, "sourceVersion": 1}


async def test_invalid_input_comes_back_as_typed_validation_errors(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, "admin"),
        REGISTER,
        {"input": {"name": "   ", "businessFunction": "x" * 201}},
    )
    assert "errors" not in body, body
    payload = body["data"]["registerAISystem"]
    assert payload["aiSystem"] is None
    assert {e["__typename"] for e in payload["errors"]} == {"ValidationError"}
    assert sorted(e["field"] for e in payload["errors"]) == [["businessFunction"], ["name"]]
    assert all(e["code"] == "validation-failed" for e in payload["errors"])


async def test_a_role_that_may_not_register_gets_a_typed_forbidden_error(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await gql(
        stack.gateway, stack.headers(org, "auditor"), REGISTER, {"input": {"name": "Shadow AI"}}
    )
    payload = body["data"]["registerAISystem"]
    assert payload["aiSystem"] is None
    assert [(e["__typename"], e["code"]) for e in payload["errors"]] == [
        ("ForbiddenError", "forbidden")
    ]
    assert nodes(await gql(stack.gateway, stack.headers(org), PAGE, {"first": 5})) == []


async def test_a_retried_registration_with_the_same_idempotency_key_registers_once(
    stack: Stack, org: uuid.UUID
) -> None:
    key = secrets.token_hex(8)
    first = await register(stack, org, "Forecaster", idempotencyKey=key)
    again = await register(stack, org, "Forecaster", idempotencyKey=key)
    assert again["id"] == first["id"]
    assert len(nodes(await gql(stack.gateway, stack.headers(org), PAGE, {"first": 5}))) == 1


# --- Relay ------------------------------------------------------------------------------------


async def test_relay_pagination_walks_every_system_once_in_order(
    stack: Stack, org: uuid.UUID
) -> None:
    ids = [(await register(stack, org, f"System {i}"))["id"] for i in range(3)]
    headers = stack.headers(org, "viewer")

    first = (await gql(stack.gateway, headers, PAGE, {"first": 2}))["data"]["aiSystems"]
    assert [e["node"]["id"] for e in first["edges"]] == ids[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    after = first["pageInfo"]["endCursor"]
    second = (await gql(stack.gateway, headers, PAGE, {"first": 2, "after": after}))["data"][
        "aiSystems"
    ]
    assert [e["node"]["id"] for e in second["edges"]] == ids[2:]
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["hasPreviousPage"] is True

    # Any edge's cursor resumes right after that edge, not only the page's last one.
    from_first_edge = await gql(
        stack.gateway, headers, PAGE, {"first": 5, "after": first["edges"][0]["cursor"]}
    )
    assert [n["id"] for n in nodes(from_first_edge)] == ids[1:]


async def test_a_cursor_the_api_did_not_issue_is_a_domain_error(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await gql(stack.gateway, stack.headers(org), PAGE, {"first": 2, "after": "bm9wZQ"})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "invalid-cursor"

    too_many = await gql(stack.gateway, stack.headers(org), PAGE, {"first": 101})
    assert too_many["errors"][0]["extensions"]["code"] == "bad-request"
    assert "between 1 and 100" in too_many["errors"][0]["message"]


NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id ... on AISystem { name version } }
  aiSystem(id: $id) { id name }
}
"""


async def test_node_and_ai_system_round_trip_a_global_id(stack: Stack, org: uuid.UUID) -> None:
    created = await register(stack, org, "Fraud scoring")
    body = await gql(stack.gateway, stack.headers(org, "auditor"), NODE, {"id": created["id"]})
    assert "errors" not in body, body
    assert body["data"]["node"] == {
        "__typename": "AISystem",
        "id": created["id"],
        "name": "Fraud scoring",
        "version": 1,
    }
    assert body["data"]["aiSystem"] == {"id": created["id"], "name": "Fraud scoring"}

    # REST clients hold the register's UUID; aiSystem accepts it as well.
    register_uuid = GlobalID.from_id(created["id"]).node_id
    by_uuid = await gql(
        stack.gateway,
        stack.headers(org),
        "query($id: ID!) { aiSystem(id: $id) { id } }",
        {"id": register_uuid},
    )
    assert by_uuid["data"]["aiSystem"] == {"id": created["id"]}


async def test_another_organisation_sees_none_of_it(stack: Stack, org: uuid.UUID) -> None:
    created = await register(stack, org, "Credit limit model")
    other = stack.headers(uuid7(), "admin")

    assert nodes(await gql(stack.gateway, other, PAGE, {"first": 50})) == []
    body = await gql(stack.gateway, other, NODE, {"id": created["id"]})
    assert "errors" not in body, body
    assert body["data"] == {"node": None, "aiSystem": None}


# --- Authentication, limits, errors ------------------------------------------------------------


async def test_an_unauthenticated_request_gets_an_error_and_no_data(stack: Stack) -> None:
    query = {"query": "{ aiSystems(first: 1) { edges { node { id } } } }"}
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await stack.gateway.post("/graphql", json=query, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "unauthenticated"
        assert "data" not in response.json()


async def test_the_graphiql_page_loads_without_credentials(stack: Stack) -> None:
    response = await stack.gateway.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_too_many_aliases_are_refused_before_anything_runs(
    stack: Stack, org: uuid.UUID
) -> None:
    query = (
        "{ "
        + " ".join(f"s{i}: aiSystems(first: 1) {{ pageInfo {{ hasNextPage }} }}" for i in range(16))
        + " }"
    )
    body = await gql(stack.gateway, stack.headers(org), query)
    assert body["data"] is None
    assert "16 aliases found. Allowed: 15" in body["errors"][0]["message"]


async def test_too_many_tokens_are_refused(stack: Stack, org: uuid.UUID) -> None:
    query = "{ " + "__typename " * 2001 + "}"
    body = await gql(stack.gateway, stack.headers(org), query)
    assert body["data"] is None
    assert "tokens" in body["errors"][0]["message"]


# --- Upstream calls ---------------------------------------------------------------------------


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the gateway's upstream requests per service and keeps their headers."""

    inner: httpx.AsyncBaseTransport
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.host] += 1
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def reset(self) -> None:
        self.calls.clear()
        self.requests.clear()


@dataclass
class CountingGateway:
    client: httpx.AsyncClient
    transport: CountingTransport
    routes: dict[str, httpx.AsyncBaseTransport]


@pytest.fixture(scope="module")
async def counting_gateway(stack: Stack) -> AsyncIterator[CountingGateway]:
    """A second gateway over the same services, whose upstream calls are counted."""
    routes: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=stack.apps[name])
        for name in ("inventory", "risk", "evidence")
    }
    transport = CountingTransport(RoutingTransport(routes))
    app = create_app(
        GatewaySettings(
            **{**stack.engines.settings_env("gateway"), "run_workers": False},
            inventory_url="http://inventory",
            risk_url="http://risk",
            evidence_url="http://evidence",
        ),
        upstream_transport=transport,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):
        yield CountingGateway(client=client, transport=transport, routes=routes)


async def test_a_page_costs_one_call_per_service_whatever_its_size(
    stack: Stack, org: uuid.UUID, counting_gateway: CountingGateway
) -> None:
    for i in range(6):
        await register(stack, org, f"Model {i}")
    headers = stack.headers(org, "viewer")
    await wait_for_projections(counting_gateway.client, headers, 6)

    calls: dict[int, Counter[str]] = {}
    for size in (2, 6):
        counting_gateway.transport.reset()
        page = nodes(await gql(counting_gateway.client, headers, PAGE, {"first": size}))
        assert len(page) == size
        assert all(n["riskView"] and n["evidenceSummary"] for n in page)
        calls[size] = Counter(counting_gateway.transport.calls)
    assert calls[2] == calls[6] == Counter({"inventory": 1, "risk": 1, "evidence": 1})


async def test_the_caller_credentials_and_trace_are_forwarded_upstream(
    stack: Stack, org: uuid.UUID, counting_gateway: CountingGateway
) -> None:
    await register(stack, org, "Recommender")
    trace_id = secrets.token_hex(16)
    headers = {
        **stack.headers(org, "viewer"),
        "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        "x-request-id": "req-graphql-1",
    }
    counting_gateway.transport.reset()
    nodes(await gql(counting_gateway.client, headers, PAGE, {"first": 1}))
    sent = counting_gateway.transport.requests
    assert {r.url.host for r in sent} == {"inventory", "risk", "evidence"}
    for request in sent:
        assert request.headers["authorization"] == headers["Authorization"]
        assert request.headers["x-request-id"] == "req-graphql-1"
        assert request.headers["traceparent"].split("-")[1] == trace_id


async def test_an_unreachable_service_fails_only_its_fields(
    stack: Stack, org: uuid.UUID, counting_gateway: CountingGateway
) -> None:
    await register(stack, org, "Route optimiser")
    headers = stack.headers(org, "viewer")
    await wait_for_projections(counting_gateway.client, headers, 1)
    evidence = counting_gateway.routes.pop("evidence")
    try:
        body = await gql(counting_gateway.client, headers, PAGE, {"first": 1})
    finally:
        counting_gateway.routes["evidence"] = evidence
    node = body["data"]["aiSystems"]["edges"][0]["node"]
    assert node["name"] == "Route optimiser"
    assert node["riskView"] is not None
    assert node["evidenceSummary"] is None
    [error] = body["errors"]
    assert error["path"][-1] == "evidenceSummary"
    assert error["extensions"]["code"] == "upstream-unavailable"
    assert error["extensions"]["service"] == "evidence"
    assert "evidence service is not reachable" in error["message"]


async def test_an_unexpected_upstream_answer_is_masked(
    stack: Stack, org: uuid.UUID, counting_gateway: CountingGateway
) -> None:
    await register(stack, org, "Churn model")

    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": "not-a-uuid", "secret": "leak"}]})

    risk = counting_gateway.routes["risk"]
    counting_gateway.routes["risk"] = httpx.MockTransport(garbage)
    try:
        body = await gql(counting_gateway.client, stack.headers(org), PAGE, {"first": 1})
    finally:
        counting_gateway.routes["risk"] = risk
    assert body["data"]["aiSystems"]["edges"][0]["node"]["name"] == "Churn model"
    [error] = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["path"][-1] == "riskView"
    assert "leak" not in str(body) and "not-a-uuid" not in str(body)


# --- Webhook subscriptions ----------------------------------------------------------------------

CREATE_WEBHOOK = """
mutation Create($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    subscription { id url eventTypes enabled version }
    secret
    errors { __typename code message ... on ValidationError { field } }
  }
}
"""

LIST_WEBHOOKS = "{ webhookSubscriptions { id url eventTypes } }"


async def test_webhook_subscriptions_are_created_and_listed_over_graphql(
    stack: Stack, org: uuid.UUID
) -> None:
    url = "http://127.0.0.1:9/hooks/aims"
    body = await gql(
        stack.gateway,
        stack.headers(org, "manager"),
        CREATE_WEBHOOK,
        {"input": {"url": url, "eventTypes": ["system.registered", "risk.*"]}},
    )
    assert "errors" not in body, body
    payload = body["data"]["createWebhookSubscription"]
    assert payload["errors"] == []
    assert payload["secret"].startswith("whsec_")
    created = payload["subscription"]
    assert created["url"] == url and created["enabled"] is True

    listed = await gql(stack.gateway, stack.headers(org, "viewer"), LIST_WEBHOOKS)
    assert listed["data"]["webhookSubscriptions"] == [
        {"id": created["id"], "url": url, "eventTypes": ["system.registered", "risk.*"]}
    ]
    other = await gql(stack.gateway, stack.headers(uuid7(), "admin"), LIST_WEBHOOKS)
    assert other["data"]["webhookSubscriptions"] == []


@pytest.mark.parametrize(
    ("role", "url", "event_types", "expected"),
    [
        ("viewer", "https://grc.example.com/h", ["*"], ("ForbiddenError", None)),
        ("admin", "ftp://grc.example.com/h", ["*"], ("ValidationError", ["url"])),
        ("admin", "https://grc.example.com/h", ["risk*"], ("ValidationError", ["eventTypes"])),
        ("admin", "http://10.1.2.3/h", ["*"], ("ValidationError", ["url"])),
    ],
)
async def test_webhook_subscription_mistakes_come_back_as_typed_errors(
    stack: Stack,
    org: uuid.UUID,
    role: str,
    url: str,
    event_types: list[str],
    expected: tuple[str, list[str] | None],
) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, role),
        CREATE_WEBHOOK,
        {"input": {"url": url, "eventTypes": event_types}},
    )
    assert "errors" not in body, body
    payload = body["data"]["createWebhookSubscription"]
    assert payload["subscription"] is None and payload["secret"] is None
    [error] = payload["errors"]
    assert (error["__typename"], error.get("field")) == expected
    listed = await gql(stack.gateway, stack.headers(org), LIST_WEBHOOKS)
    assert listed["data"]["webhookSubscriptions"] == []
