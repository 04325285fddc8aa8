"""An upstream that is down, slow or drops a connection: the gateway serves what it can.

The failing upstreams are real servers on real sockets: the risk service served by uvicorn on a
free port (stopped and started again by the test), an ASGI app that never answers, and a TCP
relay that drops the first connection it accepts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gateway.config import GatewaySettings
from gateway.main import create_app
from shared.runtime.embedded import find_free_port
from shared.testing import RoutingTransport
from tests.conftest import Stack
from tests.gateway.test_graphql import gql, register, wait_for_projections

pytestmark = pytest.mark.engines

PAGE = """
query Page {
  aiSystems(first: 10) {
    edges {
      node {
        name
        riskView { sourceVersion }
        riskSummary { openCount }
        evidenceSummary { fileCount }
      }
    }
  }
}
"""

RISK_VIEW = "query { aiSystems(first: 10) { edges { node { name riskView { sourceVersion } } } } }"

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass
class RealServer:
    """``app`` served by uvicorn on ``port`` (the app's lifespan is the stack's, not its own)."""

    app: ASGIApp
    port: int = field(default_factory=find_free_port)
    requests: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _counted(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)

    async def start(self) -> None:
        config = uvicorn.Config(
            self._counted,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            interface="asgi3",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task
        self._server = self._task = None


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[RealServer]:
    server = RealServer(app)
    await server.start()
    try:
        yield server
    finally:
        if server._server is not None:
            await server.stop()


@asynccontextmanager
async def gateway_over(
    stack: Stack,
    *,
    risk_url: str = "http://risk",
    evidence_url: str = "http://evidence",
    **cfg: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose named upstreams are in-process and whose ``127.0.0.1`` ones are real
    sockets."""
    routes: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=stack.apps[name])
        for name in ("inventory", "risk", "evidence")
    }
    routes["127.0.0.1"] = httpx.AsyncHTTPTransport()
    app: FastAPI = create_app(
        GatewaySettings(
            **{**stack.engines.settings_env("gateway"), "run_workers": False},
            inventory_url="http://inventory",
            risk_url=risk_url,
            evidence_url=evidence_url,
            **cfg,
        ),
        upstream_transport=RoutingTransport(routes),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client
    await routes["127.0.0.1"].aclose()


def page_nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in body["data"]["aiSystems"]["edges"]]


def upstream_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body.get("errors") or []
    assert errors, body
    for error in errors:
        assert error["extensions"]["code"] == "upstream-unavailable", error
    return errors


async def test_a_stopped_service_nulls_only_its_fields_and_opens_its_circuit(
    stack: Stack, org: uuid.UUID
) -> None:
    await register(stack, org, "Credit scorer")
    headers = stack.headers(org, "viewer")
    await wait_for_projections(stack.gateway, headers, 1)

    async with (
        serving(stack.apps["risk"]) as risk,
        gateway_over(
            stack,
            risk_url=risk.url,
            upstream_breaker_failures=2,
            upstream_breaker_cooldown_seconds=3600,
        ) as gateway,
    ):
        body = await gql(gateway, headers, PAGE)
        assert "errors" not in body, body
        [node] = page_nodes(body)
        assert node["riskView"] is not None and node["riskSummary"] is not None

        await risk.stop()
        body = await gql(gateway, headers, PAGE)
        [node] = page_nodes(body)
        # The rest of the page is served: the system itself and the evidence service's field.
        assert node["name"] == "Credit scorer"
        assert node["evidenceSummary"] is not None
        assert node["riskView"] is None and node["riskSummary"] is None
        errors = upstream_errors(body)
        assert {e["path"][-1] for e in errors} == {"riskView", "riskSummary"}
        assert {e["extensions"]["service"] for e in errors} == {"risk"}
        assert all("risk service is not reachable" in e["message"] for e in errors)

        # Two consecutive failures opened the circuit: with the service back, the gateway
        # still fails fast and does not call it until the cool-down has passed.
        await risk.start()
        risk.requests = 0
        body = await gql(gateway, headers, PAGE)
        [node] = page_nodes(body)
        assert node["name"] == "Credit scorer" and node["riskView"] is None
        errors = upstream_errors(body)
        assert all("circuit open" in e["message"] for e in errors), errors
        assert {e["extensions"]["service"] for e in errors} == {"risk"}
        assert risk.requests == 0


async def test_after_the_cool_down_one_call_probes_the_service_and_closes_the_circuit(
    stack: Stack, org: uuid.UUID
) -> None:
    await register(stack, org, "Fraud detector")
    headers = stack.headers(org, "viewer")
    await wait_for_projections(stack.gateway, headers, 1)

    async with (
        serving(stack.apps["risk"]) as risk,
        gateway_over(
            stack,
            risk_url=risk.url,
            upstream_breaker_failures=1,
            upstream_breaker_cooldown_seconds=0,
        ) as gateway,
    ):
        await risk.stop()
        body = await gql(gateway, headers, RISK_VIEW)
        assert page_nodes(body)[0]["riskView"] is None
        upstream_errors(body)

        await risk.start()
        # Half-open: one call probes the service (concurrent ones still fail fast) ...
        body = await gql(gateway, headers, RISK_VIEW)
        assert "errors" not in body, body
        assert page_nodes(body)[0]["riskView"] is not None
        # ... and its success closes the circuit for every call.
        body = await gql(gateway, headers, PAGE)
        assert "errors" not in body, body
        assert page_nodes(body)[0]["riskSummary"] is not None


class NeverAnswers:
    """An ASGI app that accepts every request and answers none until released."""

    def __init__(self) -> None:
        self.released = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await self.released.wait()
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_a_slow_service_is_cut_off_by_the_request_deadline(
    stack: Stack, org: uuid.UUID
) -> None:
    await register(stack, org, "Chat assistant")
    headers = stack.headers(org, "viewer")
    await wait_for_projections(stack.gateway, headers, 1)

    slow = NeverAnswers()
    try:
        async with (
            serving(slow) as evidence,
            gateway_over(
                stack,
                evidence_url=evidence.url,
                upstream_request_deadline_seconds=3,
                upstream_timeout_seconds=600,
            ) as gateway,
        ):
            body = await gql(gateway, headers, PAGE)
            [node] = page_nodes(body)
            assert node["name"] == "Chat assistant"
            assert node["riskView"] is not None and node["riskSummary"] is not None
            assert node["evidenceSummary"] is None
            [error] = upstream_errors(body)
            assert error["path"][-1] == "evidenceSummary"
            assert error["extensions"]["service"] == "evidence"
            assert "deadline" in error["message"]
            assert evidence.requests == 1
    finally:
        slow.released.set()


@dataclass
class DroppingRelay:
    """A TCP relay to ``target_port`` that closes the first ``drop`` connections it accepts
    as soon as a request arrives on them (a connection reset as the gateway sees it)."""

    target_port: int
    drop: int = 1
    port: int = field(default_factory=find_free_port)
    accepted: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.accepted <= self.drop:
            await reader.read(1)
            writer.close()
            return
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, target_writer), self._pipe(target_reader, writer))


async def test_an_idempotent_read_is_retried_once_on_a_dropped_connection(
    stack: Stack, org: uuid.UUID
) -> None:
    await register(stack, org, "Demand forecaster")
    headers = stack.headers(org, "viewer")
    await wait_for_projections(stack.gateway, headers, 1)

    async with serving(stack.apps["risk"]) as risk:
        relay = DroppingRelay(risk.port)
        server = await asyncio.start_server(relay.handle, "127.0.0.1", relay.port)
        try:
            async with gateway_over(stack, risk_url=relay.url) as gateway:
                body = await gql(gateway, headers, RISK_VIEW)
                assert "errors" not in body, body
                assert page_nodes(body)[0]["riskView"] is not None
                # The dropped connection and the one the retry opened.
                assert relay.accepted == 2
                assert risk.requests == 1
        finally:
            server.close()
            await server.wait_closed()


async def test_a_write_is_not_retried_on_a_dropped_connection(stack: Stack, org: uuid.UUID) -> None:
    async with serving(stack.apps["risk"]) as risk:
        relay = DroppingRelay(risk.port)
        server = await asyncio.start_server(relay.handle, "127.0.0.1", relay.port)
        try:
            async with gateway_over(stack, risk_url=relay.url) as gateway:
                body = await gql(
                    gateway,
                    stack.headers(org, "admin"),
                    "mutation { setRiskPolicy(input: {version: 0}) { __typename } }",
                )
                assert relay.accepted == 1
                assert risk.requests == 0
                [error] = upstream_errors(body)
                assert error["extensions"]["service"] == "risk"
        finally:
            server.close()
            await server.wait_closed()
