"""Expiry notices of trainings: ``training.expiring`` / ``training.expired`` from the scheduler."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import nats
import pytest

from shared.testing import eventually
from tests.evidence.conftest import EvidenceStack
from tests.evidence.test_competence import TODAY, competence, person, train

pytestmark = pytest.mark.engines


@pytest.fixture
async def training_events(
    evidence_stack: EvidenceStack,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every ``aims.evidence.training.*`` event the relay publishes while the test runs."""
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(evidence_stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(
        evidence_stack.engines.subject_prefix + "aims.evidence.training.>", cb=collect
    )
    try:
        yield seen
    finally:
        await nc.close()


def of(events: list[dict[str, Any]], kind: str, training_id: str) -> list[dict[str, Any]]:
    return [
        e for e in events if e["type"] == f"aims.evidence.{kind}" and e["subject"] == training_id
    ]


async def read(stack: EvidenceStack, org: uuid.UUID, training_id: str) -> dict[str, Any]:
    response = await stack.evidence.get(f"/v1/trainings/{training_id}", headers=stack.headers(org))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_training_that_expired_yesterday_emits_training_expired_once(
    evidence_stack: EvidenceStack, org: uuid.UUID, training_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "AI policy")
    ada = await person(stack, org, "Ada")
    yesterday = TODAY - timedelta(days=1)
    t = await train(
        stack,
        org,
        ada,
        skill,
        completed=TODAY - timedelta(days=200),
        expires_at=yesterday.isoformat(),
    )
    assert t["expires_at_explicit"] is True and t["valid"] is False

    async def expired() -> list[dict[str, Any]] | None:
        return of(training_events, "training.expired", t["id"]) or None

    [event] = await eventually(expired)
    assert event["orgid"] == str(org)
    assert event["data"]["expires_at"] == yesterday.isoformat()
    assert event["data"]["expired_notified_at"] is not None
    stored = await read(stack, org, t["id"])
    assert stored["expired_notified_at"] is not None
    assert stored["version"] == event["dataversion"] == 2
    # Already expired when its notice period began: no "expiring" warning after the fact.
    assert stored["expiring_notified_at"] is None
    assert of(training_events, "training.expiring", t["id"]) == []


async def test_a_training_expiring_within_the_notice_period_emits_training_expiring(
    evidence_stack: EvidenceStack, org: uuid.UUID, training_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Risk assessment", validity_months=12)
    ada, bob = await person(stack, org, "Ada"), await person(stack, org, "Bob")
    # Bob renewed already: his older training, expiring in 5 days, needs no warning.
    await train(stack, org, bob, skill, completed=TODAY)
    renewed = await train(
        stack,
        org,
        bob,
        skill,
        completed=TODAY - timedelta(days=300),
        expires_at=(TODAY + timedelta(days=5)).isoformat(),
    )
    # Ada's training expires in 10 days (completed 12 months ago minus 10 days).
    first = await train(
        stack,
        org,
        ada,
        skill,
        completed=TODAY - timedelta(days=355),
        expires_at=(TODAY + timedelta(days=10)).isoformat(),
    )

    async def expiring() -> list[dict[str, Any]] | None:
        return of(training_events, "training.expiring", first["id"]) or None

    [event] = await eventually(expiring)
    assert event["data"]["expires_at"] == (TODAY + timedelta(days=10)).isoformat()
    assert (await read(stack, org, first["id"]))["expiring_notified_at"] is not None
    # Bob's timer was due earlier, so the scheduler handled it first, and gave no notice.
    assert (await read(stack, org, renewed["id"]))["expiring_notified_at"] is None
    assert of(training_events, "training.expiring", renewed["id"]) == []
    assert of(training_events, "training.expired", first["id"]) == []


async def test_changing_the_expiry_date_moves_the_notice(
    evidence_stack: EvidenceStack, org: uuid.UUID, training_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Model monitoring")
    ada = await person(stack, org, "Ada")
    t = await train(
        stack, org, ada, skill, completed=TODAY - timedelta(days=20), expires_at="2099-01-01"
    )
    assert (await read(stack, org, t["id"]))["expired_notified_at"] is None

    corrected = await stack.evidence.patch(
        f"/v1/trainings/{t['id']}",
        json={"expires_at": TODAY.isoformat()},
        headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
    )
    assert corrected.status_code == 200, corrected.text

    async def expired() -> list[dict[str, Any]] | None:
        return of(training_events, "training.expired", t["id"]) or None

    [event] = await eventually(expired)
    assert event["data"]["expires_at"] == TODAY.isoformat()
    evaluated = of(training_events, "training.evaluated", t["id"])
    assert [e["data"]["expires_at"] for e in evaluated] == [TODAY.isoformat()]


@pytest.fixture
async def evidence_events(
    evidence_stack: EvidenceStack,
) -> AsyncIterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(evidence_stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(evidence_stack.engines.subject_prefix + "aims.evidence.>", cb=collect)
    try:
        yield seen
    finally:
        await nc.close()


async def test_people_roles_and_trainings_emit_state_carrying_events(
    evidence_stack: EvidenceStack, org: uuid.UUID, evidence_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Oversight")
    ada = await person(stack, org, "Ada", "Ops")
    created = await stack.evidence.post(
        "/v1/aims-roles",
        json={"name": "Human overseer", "required_competence_ids": [skill["id"]]},
        headers=stack.headers(org, "contributor"),
    )
    owner = created.json()
    await stack.evidence.post(
        f"/v1/aims-roles/{owner['id']}/assignments",
        json={"person_id": ada["id"]},
        headers=stack.headers(org, "contributor"),
    )
    t = await train(stack, org, ada, skill)
    off = await stack.evidence.patch(
        f"/v1/people/{ada['id']}",
        json={"active": False},
        headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
    )
    assert off.status_code == 200

    def role_states() -> list[tuple[int, list[str]]]:
        return [
            (e["dataversion"], e["data"]["holder_ids"])
            for e in evidence_events
            if e["type"] == "aims.evidence.aims_role.changed" and e["subject"] == owner["id"]
        ]

    async def all_seen() -> bool:
        return len(role_states()) == 3 and any(
            e["type"] == "aims.evidence.training.recorded" for e in evidence_events
        )

    await eventually(all_seen)
    assert sorted(role_states()) == [(1, []), (2, [ada["id"]]), (3, [])]
    [person_created] = [e for e in evidence_events if e["type"] == "aims.evidence.person.created"]
    assert person_created["data"]["department"] == "Ops"
    [recorded] = [e for e in evidence_events if e["type"] == "aims.evidence.training.recorded"]
    assert recorded["data"]["id"] == t["id"] and recorded["data"]["valid"] is True
    updated = [e for e in evidence_events if e["type"] == "aims.evidence.person.updated"]
    assert [e["data"]["active"] for e in updated] == [False]
