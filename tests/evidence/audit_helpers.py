"""Arranging internal audit and corrective action scenarios through the REST APIs."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest

from shared.testing import eventually
from tests.evidence.conftest import EvidenceStack

TODAY = datetime.now(UTC).date()
PERIOD = {
    "period_start": (TODAY - timedelta(days=30)).isoformat(),
    "period_end": (TODAY + timedelta(days=335)).isoformat(),
}


def manager(stack: EvidenceStack, org: uuid.UUID, subject: str = "mgr") -> dict[str, str]:
    return stack.headers(org, "manager", subject=subject)


async def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def programme(stack: EvidenceStack, org: uuid.UUID, **kw: Any) -> dict[str, Any]:
    body = {"title": "Internal audit programme", **PERIOD, **kw}
    return await created(
        await stack.evidence.post("/v1/audit-programmes", json=body, headers=manager(stack, org))
    )


def audit_body(**kw: Any) -> dict[str, Any]:
    return {
        "title": "Risk and impact",
        "criteria": "ISO/IEC 42001:2023; AI policy v3",
        "planned_start": TODAY.isoformat(),
        "planned_end": (TODAY + timedelta(days=2)).isoformat(),
        "lead_auditor": "lead.auditor@example.com",
        **kw,
    }


async def audit(stack: EvidenceStack, org: uuid.UUID, **kw: Any) -> dict[str, Any]:
    return await created(
        await stack.evidence.post("/v1/audits", json=audit_body(**kw), headers=manager(stack, org))
    )


async def started_audit(stack: EvidenceStack, org: uuid.UUID, **kw: Any) -> dict[str, Any]:
    planned = await audit(stack, org, **kw)
    response = await stack.evidence.post(
        f"/v1/audits/{planned['id']}/start", headers=manager(stack, org)
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def finding(
    stack: EvidenceStack,
    org: uuid.UUID,
    audit_id: str,
    kind: str = "minor_nonconformity",
    links: list[tuple[str, str]] | None = None,
    role: str = "auditor",
    subject: str = "quinn",
) -> dict[str, Any]:
    body = {
        "kind": kind,
        "title": "Impact assessment not reviewed after retraining",
        "description": "The record predates the model change.",
        "links": [{"target_type": t, "target_id": i} for t, i in (links or [("clause", "8.4")])],
    }
    return await created(
        await stack.evidence.post(
            f"/v1/audits/{audit_id}/findings",
            json=body,
            headers=stack.headers(org, role, subject=subject),
        )
    )


async def system_with_owner(
    stack: EvidenceStack, org: uuid.UUID, owner: str, name: str = "CV screening"
) -> str:
    """A system registered in the inventory with ``owner``, once the evidence service knows it
    and its owner."""
    response = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": name, "owner": owner},
        headers=stack.headers(org, "contributor"),
    )
    assert response.status_code == 201, response.text
    system_id = str(response.json()["id"])

    async def projected() -> bool:
        seen = await stack.evidence.get(
            f"/v1/systems/{system_id}", headers=stack.headers(org, "viewer")
        )
        return seen.status_code == 200 and seen.json().get("owner") == owner

    await eventually(projected)
    return system_id


async def evidence_item(
    stack: EvidenceStack, org: uuid.UUID, links: list[tuple[str, str]], owner: str | None = None
) -> str:
    body: dict[str, Any] = {
        "title": "Risk assessment procedure",
        "kind": "link",
        "url": "https://intranet.example.com/risk",
        "links": [{"target_type": t, "target_id": i} for t, i in links],
    }
    if owner is not None:
        body["owner"] = owner
    response = await stack.evidence.post(
        "/v1/evidence", json=body, headers=stack.headers(org, "contributor")
    )
    return str((await created(response))["id"])


@pytest.fixture
async def evidence_events(
    evidence_stack: EvidenceStack,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every ``aims.evidence.*`` event the relay publishes while the test runs."""
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(evidence_stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(evidence_stack.engines.subject_prefix + "aims.evidence.>", cb=collect)
    try:
        yield seen
    finally:
        await nc.close()


def events_of(events: list[dict[str, Any]], kind: str, subject: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == f"aims.evidence.{kind}" and e["subject"] == subject]
