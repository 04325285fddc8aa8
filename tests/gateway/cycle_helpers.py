"""Helpers of the audit cycle, objectives and readiness GraphQL tests: mutations through the
gateway, arranging rows over REST, and a gateway whose upstream calls are counted by path."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.config import GatewaySettings
from gateway.main import create_app
from shared.testing import RoutingTransport
from tests.conftest import Stack
from tests.gateway.test_evidence_graphql import data, gql


async def mutate(
    stack: Stack,
    org: uuid.UUID,
    role: str,
    query: str,
    input: dict[str, Any],
    *,
    subject: str = "tester",
) -> dict[str, Any]:
    """The one payload of a mutation sent as ``role`` (and ``subject``)."""
    found = data(
        await gql(stack.gateway, stack.headers(org, role, subject=subject), query, {"input": input})
    )
    [payload] = found.values()
    result: dict[str, Any] = payload
    return result


async def rest_created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class PathCountingTransport(httpx.AsyncBaseTransport):
    """Counts the gateway's upstream requests by ``METHOD host path``."""

    inner: httpx.AsyncBaseTransport
    calls: Counter[str] = field(default_factory=Counter)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[f"{request.method} {request.url.host}{request.url.path}"] += 1
        return await self.inner.handle_async_request(request)


@dataclass
class CountingGateway:
    client: httpx.AsyncClient
    transport: PathCountingTransport


@asynccontextmanager
async def counting_gateway(stack: Stack) -> AsyncIterator[CountingGateway]:
    """A second gateway over the same services, whose upstream calls are counted."""
    routes: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=stack.apps[name])
        for name in ("inventory", "risk", "evidence")
    }
    transport = PathCountingTransport(RoutingTransport(routes))
    app = create_app(
        GatewaySettings(
            **{**stack.engines.settings_env("gateway"), "run_workers": False},
            inventory_url="http://inventory",
            risk_url="http://risk",
            evidence_url="http://evidence",
            # It measures what executing an operation costs: nothing is served from the cache.
            graphql_response_cache_enabled=False,
        ),
        upstream_transport=transport,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):
        yield CountingGateway(client=client, transport=transport)
