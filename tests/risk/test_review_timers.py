"""Review dates over REST: a passing review date (a risk's or a system's) emits ``review.due``."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from shared.db import Database, utcnow, uuid7
from shared.scheduler import get_timer
from shared.testing import eventually
from tests.risk.test_system_facts import send, system_state

pytestmark = pytest.mark.engines


@pytest.fixture
async def js(stack: Any) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(stack.engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


@pytest.fixture
async def risk_events(stack: Any) -> AsyncIterator[list[dict[str, Any]]]:
    """Every ``aims.risk.*`` event published while the test runs."""
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(stack.engines.subject_prefix + "aims.risk.>", cb=collect)
    try:
        yield seen
    finally:
        await nc.close()


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Drift in claim triage",
        "domain_id": "7",
        "subdomain_id": "7.3",
        "entity": "ai",
        "intent": "unintentional",
        "timing": "post_deployment",
        "likelihood": 3,
        "severity": 3,
        **overrides,
    }


async def create(stack: Any, org: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    response = await stack.risk.post(
        "/v1/risks", json=body(**overrides), headers=stack.headers(org, "risk_owner")
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def reviews_due(events: list[dict[str, Any]], org: uuid.UUID) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "aims.risk.review.due" and e["orgid"] == str(org)]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def settle(stack: Any) -> None:
    """Give the risk service's scheduler several more ticks (tests tick every 0.2 s)."""
    await asyncio.sleep(
        max(1.0, 5 * stack.engines.settings_env("risk")["scheduler_interval_seconds"])
    )


async def test_a_past_review_date_sends_the_risk_to_review_once(
    stack: Any, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    owner = stack.headers(org, "risk_owner")
    overdue_since = utcnow() - timedelta(days=3)
    risk = await create(stack, org, next_review_at=iso(overdue_since))
    assert risk["status"] == "open"
    assert datetime.fromisoformat(risk["next_review_at"]) == overdue_since
    url = f"/v1/risks/{risk['id']}"

    async def due() -> dict[str, Any] | None:
        current = (await stack.risk.get(url, headers=owner)).json()
        return current if current["status"] == "review_due" else None

    current = await eventually(due)
    assert current["version"] == 2 and current["updated_by"] == "system:risk"

    async def event() -> list[dict[str, Any]] | None:
        return reviews_due(risk_events, org) or None

    [review] = await eventually(event)
    assert review["subject"] == risk["id"]
    assert review["data"]["reason"] == "review_date_passed"
    assert review["data"]["risk_ids"] == [risk["id"]]
    assert review["data"]["system_id"] is None
    assert datetime.fromisoformat(review["data"]["due_at"]) == overdue_since
    await settle(stack)
    assert len(reviews_due(risk_events, org)) == 1  # once, however many ticks pass

    # Re-assessing is the review: the risk is open again with a review date from the cadence.
    reassessed = await stack.risk.patch(
        url, json={"likelihood": 2}, headers={**owner, "If-Match": f'"{current["version"]}"'}
    )
    assert reassessed.status_code == 200, reassessed.text
    after = reassessed.json()
    assert after["status"] == "open"
    assert datetime.fromisoformat(after["next_review_at"]) > utcnow() + timedelta(days=29)
    await settle(stack)
    assert len(reviews_due(risk_events, org)) == 1


async def test_moving_the_review_date_into_the_past_rearms_the_review(
    stack: Any, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    owner = stack.headers(org, "risk_owner")
    risk = await create(stack, org)
    url = f"/v1/risks/{risk['id']}"
    treated = await stack.risk.patch(
        url, json={"status": "treated"}, headers={**owner, "If-Match": '"1"'}
    )
    assert treated.status_code == 200
    await settle(stack)
    assert reviews_due(risk_events, org) == []  # the cadence's date is months away

    yesterday = utcnow() - timedelta(days=1)
    moved = await stack.risk.patch(
        url, json={"next_review_at": iso(yesterday)}, headers={**owner, "If-Match": '"2"'}
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["next_review_at"]) == yesterday

    async def due() -> dict[str, Any] | None:
        current = (await stack.risk.get(url, headers=owner)).json()
        return current if current["status"] == "review_due" else None

    current = await eventually(due)
    [review] = await eventually(lambda: _some(reviews_due(risk_events, org)))
    assert datetime.fromisoformat(review["data"]["due_at"]) == yesterday
    # A status set by hand keeps the past date: no second event for the same date.
    reopened = await stack.risk.patch(
        url, json={"status": "treated"}, headers={**owner, "If-Match": f'"{current["version"]}"'}
    )
    assert reopened.json()["status"] == "treated"
    await settle(stack)
    assert len(reviews_due(risk_events, org)) == 1
    assert (await stack.risk.get(url, headers=owner)).json()["status"] == "treated"


async def _some(items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return items or None


async def test_a_closed_risk_is_never_due_for_review(
    stack: Any, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    owner = stack.headers(org, "risk_owner")
    soon = utcnow() + timedelta(seconds=1)
    risk = await create(stack, org, next_review_at=iso(soon))
    closed = await stack.risk.patch(
        f"/v1/risks/{risk['id']}", json={"status": "closed"}, headers={**owner, "If-Match": '"1"'}
    )
    assert closed.status_code == 200
    db = Database(stack.engines.databases["risk"].app_url, pool_size=1)
    try:
        async with db.sessions() as session:
            timer = await get_timer(session, org_id=org, kind="risk.review", entity_id=risk["id"])
        assert timer is None  # closing cleared the timer
    finally:
        await db.dispose()
    await asyncio.sleep(1.0)
    await settle(stack)
    assert reviews_due(risk_events, org) == []
    current = (await stack.risk.get(f"/v1/risks/{risk['id']}", headers=owner)).json()
    assert current["status"] == "closed"


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00",  # no offset: ambiguous
        "next tuesday",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00\u0000Z",
        12345678901234567890,
    ],
)
async def test_a_bad_review_date_is_refused(stack: Any, org: uuid.UUID, value: Any) -> None:
    response = await stack.risk.post(
        "/v1/risks", json=body(next_review_at=value), headers=stack.headers(org, "risk_owner")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["location"][:2] == ["body", "next_review_at"]
    listed = await stack.risk.get("/v1/risks", headers=stack.headers(org, "viewer"))
    assert listed.json()["items"] == []


async def test_a_systems_review_date_passing_emits_review_due(
    stack: Any, js: JetStreamContext, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    owner = stack.headers(org, "risk_owner")
    system_id = uuid7()
    later = (utcnow() + timedelta(days=30)).date()
    registered = system_state(system_id, org, next_review_at=later.isoformat())
    await send(stack, js, "aims.inventory.system.registered", org, 1, registered)

    await eventually(lambda: _projected(stack, system_id, owner))
    risk = await create(stack, org, system_id=str(system_id))
    closed = await create(stack, org, system_id=str(system_id))
    await stack.risk.patch(
        f"/v1/risks/{closed['id']}", json={"status": "closed"}, headers={**owner, "If-Match": '"1"'}
    )
    await settle(stack)
    assert reviews_due(risk_events, org) == []

    yesterday: date = utcnow().date() - timedelta(days=1)
    updated = system_state(system_id, org, next_review_at=yesterday.isoformat())
    await send(stack, js, "aims.inventory.system.updated", org, 2, updated)
    [review] = await eventually(lambda: _some(reviews_due(risk_events, org)))
    assert review["subject"] == str(system_id)
    assert review["data"]["reason"] == "system_review_date_passed"
    assert review["data"]["system_id"] == str(system_id)
    assert review["data"]["risk_ids"] == [risk["id"]]
    assert datetime.fromisoformat(review["data"]["due_at"]) == datetime.combine(
        utcnow().date(), datetime.min.time(), tzinfo=UTC
    )
    # The system's risks keep their own status: their own review dates govern them.
    assert (await stack.risk.get(f"/v1/risks/{risk['id']}", headers=owner)).json()[
        "status"
    ] == "open"

    # Retiring the system clears its review timer, even with another date already past.
    retired = system_state(
        system_id,
        org,
        lifecycle_stage="retired",
        next_review_at=(yesterday - timedelta(days=1)).isoformat(),
    )
    await send(stack, js, "aims.inventory.system.retired", org, 3, retired)

    async def retired_seen() -> bool:
        r = await stack.risk.get(f"/v1/systems/{system_id}", headers=owner)
        return r.json().get("lifecycle_stage") == "retired"

    await eventually(retired_seen)
    await settle(stack)
    reasons = [e["data"]["reason"] for e in reviews_due(risk_events, org)]
    # Retiring changed a watched fact (lifecycle stage): that is a review of another kind.
    assert sorted(reasons) == ["system_facts_changed", "system_review_date_passed"]


async def test_a_system_first_seen_without_a_review_date_is_armed_when_it_gets_one(
    stack: Any, js: JetStreamContext, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    """A system's first event without a date arms nothing (and sends no statement for it);
    the event that brings a date arms the review as for any other system."""
    owner = stack.headers(org, "risk_owner")
    system_id = uuid7()
    await send(stack, js, "aims.inventory.system.registered", org, 1, system_state(system_id, org))

    await eventually(lambda: _projected(stack, system_id, owner))
    risk = await create(stack, org, system_id=str(system_id))
    await settle(stack)
    assert reviews_due(risk_events, org) == []

    yesterday: date = utcnow().date() - timedelta(days=1)
    dated = system_state(system_id, org, next_review_at=yesterday.isoformat())
    await send(stack, js, "aims.inventory.system.updated", org, 2, dated)
    [review] = await eventually(lambda: _some(reviews_due(risk_events, org)))
    assert review["data"]["reason"] == "system_review_date_passed"
    assert review["data"]["risk_ids"] == [risk["id"]]


async def _projected(stack: Any, system_id: uuid.UUID, headers: dict[str, str]) -> bool:
    """The risk service knows the system (its first event has been applied)."""
    return (await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)).status_code == 200
