"""The certification plan through REST: milestones planned backwards from the target,
reachability, If-Match, milestones done, ``milestone.overdue`` from the scheduler, odd input."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import nats
import pytest

from shared.db import utcnow
from shared.testing import eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines

TODAY = utcnow().date()


@pytest.fixture
async def plan_events(stack: Stack) -> AsyncIterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    prefix = stack.engines.subject_prefix
    await nc.subscribe(prefix + "aims.evidence.milestone.>", cb=collect)
    await nc.subscribe(prefix + "aims.evidence.certification_plan.>", cb=collect)
    try:
        yield seen
    finally:
        await nc.close()


async def put(stack: Stack, org: uuid.UUID, body: dict[str, Any], etag: str | None = None) -> Any:
    headers = stack.headers(org, "manager")
    if etag:
        headers["If-Match"] = etag
    return await stack.evidence.put("/v1/certification-plan", json=body, headers=headers)


async def test_a_distant_target_is_planned_and_reachable(stack: Stack, org: uuid.UUID) -> None:
    target = TODAY + timedelta(days=400)
    created = await put(
        stack, org, {"target_date": target.isoformat(), "aims_lead": "lead@example.com"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["reachable"] is True and body["compressed"] is False
    kinds = [m["kind"] for m in body["milestones"]]
    assert kinds == [
        "readiness_assessment",
        "remediation",
        "internal_audit",
        "management_review",
        "stage1_audit",
        "stage2_audit",
        "surveillance_audit_1",
        "surveillance_audit_2",
        "recertification_audit",
    ]
    ends = [m["planned_end"] for m in body["milestones"]]
    assert ends == sorted(ends)
    assert body["milestones"][5]["planned_start"] == target.isoformat()
    assert all(m["status"] == "planned" for m in body["milestones"])
    read = await stack.evidence.get("/v1/certification-plan", headers=stack.headers(org, "auditor"))
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    # The remediation plan takes its due dates and owner from it.
    plan = await stack.evidence.get("/v1/readiness/plan", headers=stack.headers(org))
    tasks = plan.json()["tasks"]
    assert plan.json()["target_reachable"] is True
    remediation_end = body["milestones"][1]["planned_end"]
    scope_task = next(t for t in tasks if t["code"] == "no_approved_scope")
    assert scope_task["due_date"] == remediation_end
    assert scope_task["owner"] == "lead@example.com"
    audit_task = next(t for t in tasks if t["code"] == "no_internal_audit")
    assert audit_task["due_date"] == body["milestones"][2]["planned_end"]

    # Replacing needs If-Match.
    missing = await put(stack, org, {"target_date": target.isoformat()})
    assert missing.status_code == 428
    stale = await put(stack, org, {"target_date": target.isoformat()}, etag='"7"')
    assert stale.status_code == 412
    replaced = await put(
        stack, org, {"target_date": (target + timedelta(days=30)).isoformat()}, etag='"1"'
    )
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    # An auditor reads but does not plan; another org sees nothing.
    denied = await stack.evidence.put(
        "/v1/certification-plan",
        json={"target_date": target.isoformat()},
        headers=stack.headers(org, "auditor"),
    )
    assert denied.status_code == 403
    other = uuid.uuid4()
    assert (
        await stack.evidence.get("/v1/certification-plan", headers=stack.headers(other))
    ).status_code == 404
    milestone = body["milestones"][0]
    foreign = await stack.evidence.patch(
        f"/v1/certification-plan/milestones/{milestone['id']}",
        json={"done_on": TODAY.isoformat()},
        headers={**stack.headers(other, "admin"), "If-Match": '"1"'},
    )
    assert foreign.status_code == 404


async def test_a_near_target_is_unreachable_and_its_past_milestones_emit_overdue(
    stack: Stack, org: uuid.UUID, plan_events: list[dict[str, Any]]
) -> None:
    response = await put(stack, org, {"target_date": (TODAY + timedelta(days=30)).isoformat()})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reachable"] is False
    assert "no longer reachable" in body["reason"]
    assert body["earliest_stage2_start"] > body["stage2_start"]
    first = body["milestones"][0]
    assert first["status"] == "overdue"

    async def overdue() -> list[dict[str, Any]] | None:
        found = [
            e
            for e in plan_events
            if e["type"] == "aims.evidence.milestone.overdue" and e["subject"] == first["id"]
        ]
        return found or None

    [event] = await eventually(overdue)
    assert event["orgid"] == str(org)
    assert event["data"]["kind"] == "readiness_assessment"
    assert event["data"]["overdue_notified_at"] is not None
    assert any(
        e["type"] == "aims.evidence.certification_plan.updated" and e["orgid"] == str(org)
        for e in plan_events
    )

    # Marking it done: If-Match is the milestone's version.
    plan = await stack.evidence.get("/v1/certification-plan", headers=stack.headers(org))
    milestone = plan.json()["milestones"][0]
    no_match = await stack.evidence.patch(
        f"/v1/certification-plan/milestones/{milestone['id']}",
        json={"done_on": TODAY.isoformat()},
        headers=stack.headers(org, "manager"),
    )
    assert no_match.status_code == 428
    future = await stack.evidence.patch(
        f"/v1/certification-plan/milestones/{milestone['id']}",
        json={"done_on": (TODAY + timedelta(days=3)).isoformat()},
        headers={**stack.headers(org, "manager"), "If-Match": f'"{milestone["version"]}"'},
    )
    assert future.status_code == 422
    done = await stack.evidence.patch(
        f"/v1/certification-plan/milestones/{milestone['id']}",
        json={"done_on": TODAY.isoformat()},
        headers={**stack.headers(org, "manager"), "If-Match": f'"{milestone["version"]}"'},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    again = await stack.evidence.get("/v1/certification-plan", headers=stack.headers(org))
    assert again.json()["version"] == 2
    assert again.json()["milestones"][0]["done_on"] == TODAY.isoformat()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"target_date": "not-a-date"},
        {"target_date": "2027-01-01", "target": "stage3"},
        {"target_date": "2027-01-01", "options": {"remediation_months": 12}},
        {"target_date": "2027-01-01", "options": {"stage2_days": 1}},
        {"target_date": "2027-01-01", "options": {"readiness_weeks": 2**40}},
        {"target_date": "2027-01-01", "aims_lead": "a\x00b"},
        {"target_date": "2027-01-01", "unexpected": True},
        {"target_date": "2999-01-01"},
        # Planned backwards from year 1, the timeline left the calendar: was a 500.
        {"target_date": "0001-01-01"},
        {"target_date": "0001-06-30", "target": "stage1"},
    ],
)
async def test_odd_plans_answer_422_and_store_nothing(
    stack: Stack, org: uuid.UUID, body: dict[str, Any]
) -> None:
    response = await put(stack, org, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    read = await stack.evidence.get("/v1/certification-plan", headers=stack.headers(org))
    assert read.status_code == 404
    assert read.json()["code"] == "certification-plan-not-found"


async def test_an_unknown_milestone_is_404(stack: Stack, org: uuid.UUID) -> None:
    await put(stack, org, {"target_date": (TODAY + timedelta(days=400)).isoformat()})
    response = await stack.evidence.patch(
        f"/v1/certification-plan/milestones/{uuid.uuid4()}",
        json={"done_on": None},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert response.status_code == 404
    bad_id = await stack.evidence.patch(
        "/v1/certification-plan/milestones/nope",
        json={"done_on": None},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert bad_id.status_code == 422


@pytest.mark.parametrize("done_on", ["0001-01-01", "1899-12-31"])
async def test_a_milestone_done_before_1900_is_refused_and_nothing_changes(
    stack: Stack, org: uuid.UUID, done_on: str
) -> None:
    await put(stack, org, {"target_date": (TODAY + timedelta(days=400)).isoformat()})
    plan = await stack.evidence.get("/v1/certification-plan", headers=stack.headers(org))
    milestone = plan.json()["milestones"][0]
    response = await stack.evidence.patch(
        f"/v1/certification-plan/milestones/{milestone['id']}",
        json={"done_on": done_on},
        headers={**stack.headers(org, "manager"), "If-Match": f'"{milestone["version"]}"'},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == ["body", "done_on"]
    again = await stack.evidence.get("/v1/certification-plan", headers=stack.headers(org))
    assert again.json()["milestones"][0] == milestone
