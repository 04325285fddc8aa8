"""Evidence events, the time-based ones included, reach a GRC platform as signed webhooks."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from shared.testing import eventually
from tests.gateway.webhooks.test_delivery_webhooks import (
    Receiver,
    subscribe,
    verify,
)

pytestmark = pytest.mark.engines


async def test_evidence_events_and_the_review_due_timer_are_delivered(
    stack: Any,
    org: uuid.UUID,
    receiver: Receiver,
) -> None:
    sub = await subscribe(stack, org, receiver.url, ["evidence.*"])
    yesterday = date.today() - timedelta(days=1)
    created = await stack.evidence.post(
        "/v1/evidence",
        json={"title": "AI policy — signed", "kind": "record", "review_by": yesterday.isoformat()},
        headers=stack.headers(org, "contributor"),
    )
    assert created.status_code == 201, created.text
    item = created.json()

    deliveries = await receiver.wait_for(2, timeout=30)
    events = [verify(sub["secret"], d) for d in deliveries]
    by_type = {e["type"]: e for e in events}
    assert set(by_type) == {"aims.evidence.evidence.created", "aims.evidence.evidence.review_due"}
    assert by_type["aims.evidence.evidence.created"]["data"]["title"] == "AI policy — signed"
    due = by_type["aims.evidence.evidence.review_due"]
    assert due["data"]["item"]["id"] == item["id"] and due["orgid"] == str(org)
    assert due["data"]["date"] == yesterday.isoformat()


async def test_improvement_events_reach_grc_platforms(
    stack: Any,
    org: uuid.UUID,
    receiver: Receiver,
) -> None:
    sub = await subscribe(stack, org, receiver.url, ["nonconformity.*", "readiness.changed"])
    created = await stack.evidence.post(
        "/v1/nonconformities",
        json={"title": "Model deployed without its impact assessment", "severity": "major"},
        headers=stack.headers(org, "manager"),
    )
    assert created.status_code == 201, created.text

    async def both_arrived() -> dict[str, dict[str, Any]] | None:
        events = {e["type"]: e for e in (verify(sub["secret"], d) for d in receiver.received)}
        wanted = {"aims.evidence.nonconformity.opened", "aims.evidence.readiness.changed"}
        return events if wanted <= set(events) else None

    events = await eventually(both_arrived, timeout=30)
    opened = events["aims.evidence.nonconformity.opened"]["data"]
    assert opened["id"] == created.json()["id"] and opened["severity"] == "major"
    readiness = events["aims.evidence.readiness.changed"]["data"]
    assert readiness["verdict"] == "not_ready"
