"""Session fixtures: real PostgreSQL and NATS, every service app running in-process.

Apps run their real lifespans (outbox relay, consumers) against the session's engines; tests
talk to them through ``httpx.AsyncClient(transport=ASGITransport(app))``. Each test works in an
organisation of its own (a fresh UUIDv7 in its token), which is how tenants are isolated in
production too, so tests do not see each other's rows.

Every test runs on the one session event loop, beside those apps' background workers, which
keep working on earlier tests' rows (a webhook retried, a timer due). A test that patches
something loop-wide (``loop.getaddrinfo``) asserts only on what its own task did
(``FakeDNS.calls_from_this_task``), and a test that leaves retrying work behind removes it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI

from shared.db import uuid7
from shared.testing import RoutingTransport, TestEngines

if TYPE_CHECKING:
    from tests.gateway.webhooks.test_delivery_webhooks import Receiver


@pytest.fixture(scope="session")
async def engines() -> AsyncIterator[TestEngines]:
    started = await TestEngines.start()
    try:
        yield started
    finally:
        await started.stop()


@dataclass
class Stack:
    engines: TestEngines
    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]

    @property
    def inventory(self) -> httpx.AsyncClient:
        return self.clients["inventory"]

    @property
    def risk(self) -> httpx.AsyncClient:
        return self.clients["risk"]

    @property
    def evidence(self) -> httpx.AsyncClient:
        return self.clients["evidence"]

    @property
    def gateway(self) -> httpx.AsyncClient:
        return self.clients["gateway"]

    def headers(
        self, org_id: uuid.UUID | str, *roles: str, subject: str = "tester"
    ) -> dict[str, str]:
        return self.engines.headers(org_id, *roles, subject=subject)


def _client(app: FastAPI, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


@pytest.fixture(scope="session")
async def stack(engines: TestEngines) -> AsyncIterator[Stack]:
    from gateway.config import GatewaySettings
    from gateway.main import create_app as create_gateway
    from services.evidence.config import EvidenceSettings
    from services.evidence.main import create_app as create_evidence
    from services.inventory.config import InventorySettings
    from services.inventory.main import create_app as create_inventory
    from services.risk.config import RiskSettings
    from services.risk.main import create_app as create_risk

    apps: dict[str, FastAPI] = {
        "inventory": create_inventory(InventorySettings(**engines.settings_env("inventory"))),
        "risk": create_risk(RiskSettings(**engines.settings_env("risk"))),
        "evidence": create_evidence(
            EvidenceSettings(
                **engines.settings_env("evidence"),
                blob_store_url=(engines.work_dir / "blobs").as_uri(),
                max_upload_bytes=1_000_000,
            )
        ),
    }
    upstreams = RoutingTransport({name: httpx.ASGITransport(app=app) for name, app in apps.items()})
    apps["gateway"] = create_gateway(
        GatewaySettings(
            **engines.settings_env("gateway"),
            inventory_url="http://inventory",
            risk_url="http://risk",
            evidence_url="http://evidence",
            webhook_allowed_targets=["127.0.0.0/8"],
        ),
        upstream_transport=upstreams,
    )
    async with AsyncExitStack() as exit_stack:
        for app in apps.values():
            await exit_stack.enter_async_context(app.router.lifespan_context(app))
        clients = {name: _client(app, name) for name, app in apps.items()}
        for client in clients.values():
            exit_stack.push_async_callback(client.aclose)
        yield Stack(engines=engines, apps=apps, clients=clients)


@pytest.fixture
def org() -> uuid.UUID:
    """A fresh organisation for one test."""
    return uuid7()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A local HTTP receiver of webhook POSTs, answering as scripted
    (``tests.gateway.webhooks.test_delivery_webhooks.Receiver``)."""
    from tests.gateway.webhooks.test_delivery_webhooks import Receiver

    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()
