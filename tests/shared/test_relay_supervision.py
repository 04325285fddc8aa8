"""A consumer whose loop dies inside its own error path is restarted, and /readyz says so.

Trials found consumer tasks ending silently when an error hit inside nak/term/dead-lettering,
with /readyz green. Here a handler fails with an exception that cannot even be described
(``repr`` raises): the error reaches the dead-lettering path on the last delivery and kills the
consumer's loop. The supervisor must restart it with back-off, and /readyz and /metrics must
report the worker down until it runs again.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import nats
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import create_service_app
from shared.db import utcnow, uuid7
from shared.events import CloudEvent
from shared.events.consumer import EventHandler
from shared.settings import ServiceSettings
from shared.testing import TestEngines, eventually

pytestmark = pytest.mark.engines


class Indescribable(Exception):
    """An error whose description itself fails (seen from third-party clients)."""

    def __repr__(self) -> str:
        raise RuntimeError("cannot describe this error")


TOKEN = secrets.token_hex(3)
SUBJECT = f"aims.supervision{TOKEN}.thing.changed"
WORKER = f"consumer:crash-{TOKEN}"
handled: list[str] = []


async def handle(session: AsyncSession, event: CloudEvent) -> None:
    handled.append(event.id)
    raise Indescribable("the handler failed")


@pytest.fixture
async def app(engines: TestEngines) -> AsyncIterator[FastAPI]:
    settings = ServiceSettings(
        **{
            **engines.settings_env("risk"),
            # Long enough to watch the worker down between crash and restart.
            "worker_restart_initial_seconds": 3.0,
            "worker_restart_max_seconds": 3.0,
            "consumer_max_deliver": 2,
            "consumer_backoff_seconds": [0.1],
            "lag_sample_interval_seconds": 0.2,
        }
    )
    built = create_service_app(
        name=f"supervision-{TOKEN}",
        settings=settings,
        title="Supervision test",
        description="A service with one consumer that crashes in its error path",
        routers=[],
        handlers=[EventHandler(name=f"crash-{TOKEN}", subjects=[SUBJECT], handle=handle)],
        project_api_keys=False,
    )
    async with built.router.lifespan_context(built):
        yield built


async def test_a_consumer_killed_in_its_error_path_restarts_and_readyz_reports_it(
    app: FastAPI, engines: TestEngines
) -> None:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    async with client:

        async def ready() -> dict[str, Any] | None:
            response = await client.get("/readyz")
            return dict(response.json()) if response.status_code == 200 else None

        first = await eventually(ready)
        assert first["workers"][WORKER]["state"] == "running"
        assert first["workers"][WORKER]["restarts"] == 0
        assert first["checks"]["events"] in ("ok", "lagging")

        event = CloudEvent(
            id=str(uuid7()),
            source="/aims/test",
            type=SUBJECT,
            time=utcnow(),
            subject=str(uuid7()),
            data={},
            orgid=str(uuid7()),
            dataversion=1,
        )
        nc = await nats.connect(engines.nats_url)
        try:
            await nc.jetstream().publish(
                engines.subject_prefix + SUBJECT,
                json.dumps(event.model_dump(mode="json")).encode(),
                headers={"Nats-Msg-Id": event.id},
            )
        finally:
            await nc.close()

        async def down() -> dict[str, Any] | None:
            response = await client.get("/readyz")
            body = response.json()
            if response.status_code == 503 and body["workers"][WORKER]["state"] == "restarting":
                return dict(body)
            return None

        crashed = await eventually(down, timeout=30)
        worker = crashed["workers"][WORKER]
        assert worker["restarts"] == 1
        assert "cannot describe this error" in worker["last_error"]
        assert crashed["status"] == "not-ready"
        metrics = (await client.get("/metrics")).text
        assert f'aims_worker_up{{service="supervision-{TOKEN}",worker="{WORKER}"}} 0.0' in metrics
        assert handled.count(event.id) == 2  # both deliveries reached the handler

        back = await eventually(ready, timeout=30)
        assert back["workers"][WORKER]["state"] == "running"
        assert back["workers"][WORKER]["restarts"] == 1
        metrics = (await client.get("/metrics")).text
        assert f'aims_worker_up{{service="supervision-{TOKEN}",worker="{WORKER}"}} 1.0' in metrics
        assert (
            f'aims_worker_restarts_total{{service="supervision-{TOKEN}",worker="{WORKER}"}} 1.0'
            in metrics
        )

        # The message that killed the loop was not acknowledged, and the broker does not cap
        # deliveries: it comes back after ``ack_wait`` (30 s) instead of being dropped.
        async def redelivered() -> bool:
            return handled.count(event.id) >= 3

        await eventually(redelivered, timeout=90, interval=0.5)
