"""A stack of only inventory + evidence, for the evidence tests.

The session-wide ``stack`` fixture also builds the gateway; this one lets the evidence service be
tested on its own. Both share the session's engines; blobs go where ``stack`` puts them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.testing import TestEngines, eventually
from tests.conftest import Stack

MAX_UPLOAD_BYTES = 1_000_000


@dataclass
class EvidenceStack:
    engines: TestEngines
    inventory: httpx.AsyncClient
    evidence: httpx.AsyncClient
    blob_dir: Path

    def headers(
        self, org_id: uuid.UUID | str, *roles: str, subject: str = "tester"
    ) -> dict[str, str]:
        return self.engines.headers(org_id, *roles, subject=subject)

    async def register_system(self, org: uuid.UUID, name: str = "CV screening") -> dict[str, Any]:
        """Register a system in the inventory and wait until the evidence service knows it."""
        response = await self.inventory.post(
            "/v1/ai-systems", json={"name": name}, headers=self.headers(org, "contributor")
        )
        assert response.status_code == 201, response.text
        system: dict[str, Any] = response.json()

        async def projected() -> bool:
            seen = await self.evidence.get(
                f"/v1/systems/{system['id']}", headers=self.headers(org, "viewer")
            )
            return seen.status_code == 200

        await eventually(projected)
        return system

    def org_blobs(self, org: uuid.UUID) -> list[Path]:
        """Every blob file kept for ``org`` (temporary uploads included)."""
        folder = self.blob_dir / "orgs" / str(org)
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(scope="session")
async def evidence_stack(engines: TestEngines, stack: Stack) -> AsyncIterator[EvidenceStack]:
    """The session's inventory, and an evidence app of its own (blob folder, upload cap).

    The inventory is the session stack's: a second inventory app on the same database would be
    a replica racing the first for its relay, scheduler and timers, which the suites that count
    on one process's metrics cannot tell apart (replicas are tested in tests/e2e).
    """
    from services.evidence.config import EvidenceSettings
    from services.evidence.main import create_app as create_evidence

    blob_dir = engines.work_dir / "blobs"
    evidence = create_evidence(
        EvidenceSettings(
            **engines.settings_env("evidence"),
            blob_store_url=blob_dir.as_uri(),
            max_upload_bytes=MAX_UPLOAD_BYTES,
        )
    )
    async with AsyncExitStack() as exit_stack:
        await exit_stack.enter_async_context(evidence.router.lifespan_context(evidence))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=evidence), base_url="http://evidence"
        )
        exit_stack.push_async_callback(client.aclose)
        clients = [stack.inventory, client]
        yield EvidenceStack(engines, clients[0], clients[1], blob_dir)
