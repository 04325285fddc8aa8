"""Nonconformity and corrective action (ISO/IEC 42001 10.2) through the REST API: correction,
5-whys root cause, actions, verification of effectiveness, closure, overdue notices."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.testing import eventually
from tests.evidence.audit_helpers import (
    TODAY,
    created,
    events_of,
    evidence_events,
    finding,
    manager,
    started_audit,
)
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines
__all__ = ["evidence_events"]

WHYS = [
    {
        "why": "Why was the impact assessment not reviewed?",
        "because": "Retraining does not trigger a review.",
    },
    {
        "why": "Why does retraining not trigger a review?",
        "because": "The release checklist predates the AIMS.",
    },
]


async def read(stack: EvidenceStack, org: uuid.UUID, path: str) -> Any:
    response = await stack.evidence.get(path, headers=stack.headers(org, "auditor"))
    assert response.status_code == 200, response.text
    return response


async def patch(
    stack: EvidenceStack, org: uuid.UUID, path: str, body: dict[str, Any], role: str = "contributor"
) -> Any:
    current = await read(stack, org, path)
    return await stack.evidence.patch(
        path,
        json=body,
        headers={**stack.headers(org, role), "If-Match": current.headers["etag"]},
    )


async def add_action(
    stack: EvidenceStack, org: uuid.UUID, nc_id: str, due: int = 30, owner: str = "ann"
) -> dict[str, Any]:
    return await created(
        await stack.evidence.post(
            f"/v1/nonconformities/{nc_id}/actions",
            json={
                "description": "Add an impact-assessment gate to the release checklist.",
                "owner": owner,
                "due_date": (TODAY + timedelta(days=due)).isoformat(),
            },
            headers=stack.headers(org, "contributor", subject="ann"),
        )
    )


async def act(
    stack: EvidenceStack,
    org: uuid.UUID,
    action_id: str,
    step: str,
    body: dict[str, Any] | None = None,
    role: str = "contributor",
    subject: str = "ann",
) -> Any:
    return await stack.evidence.post(
        f"/v1/corrective-actions/{action_id}/{step}",
        json=body or {},
        headers=stack.headers(org, role, subject=subject),
    )


async def close(stack: EvidenceStack, org: uuid.UUID, nc_id: str) -> Any:
    return await stack.evidence.post(
        f"/v1/nonconformities/{nc_id}/close", headers=manager(stack, org)
    )


async def test_a_nonconformity_closes_only_after_its_actions_are_verified_effective(
    evidence_stack: EvidenceStack, org: uuid.UUID, evidence_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    running = await started_audit(stack, org, clauses=["8"])
    raised = await finding(stack, org, running["id"], kind="major_nonconformity")
    nc_id = raised["nonconformity_id"]
    nc_path = f"/v1/nonconformities/{nc_id}"

    refused = await close(stack, org, nc_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "verification-required"
    assert refused.json()["missing"] == ["correction", "root_cause", "corrective_action"]

    recorded = await patch(
        stack,
        org,
        nc_path,
        {
            "owner": "ml-lead@example.com",
            "due_date": (TODAY + timedelta(days=60)).isoformat(),
            "correction": "Re-ran the impact assessment for the retrained model.",
            "correction_done_on": TODAY.isoformat(),
            "root_cause_whys": WHYS,
            "root_cause": "Release procedure not aligned with 8.4.",
        },
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["status"] == "correction_done"
    assert recorded.json()["root_cause_whys"] == WHYS
    assert recorded.json()["close_blockers"] == ["corrective_action"]

    action = await add_action(stack, org, nc_id)
    assert action["status"] == "planned" and action["overdue"] is False
    nc = (await read(stack, org, nc_path)).json()
    assert nc["status"] == "action_planned" and nc["actions_total"] == 1
    refused = await close(stack, org, nc_id)
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["action_not_verified_effective"]
    assert refused.json()["unverified_action_ids"] == [action["id"]]

    too_soon = await act(
        stack,
        org,
        action["id"],
        "verify",
        {"result": "effective", "method": "test"},
        "auditor",
        "quinn",
    )
    assert too_soon.status_code == 409 and too_soon.json()["code"] == "invalid-action-transition"
    implemented = await act(stack, org, action["id"], "implement", {"notes": "Checklist v4"})
    assert implemented.status_code == 200 and implemented.json()["implemented_by"] == "ann"
    assert (await read(stack, org, nc_path)).json()["status"] == "awaiting_verification"

    # Whoever implemented an action does not verify it.
    own = await act(
        stack, org, action["id"], "verify", {"result": "effective", "method": "record_review"}
    )
    assert own.status_code == 409 and own.json()["code"] == "verifier-not-independent"

    # A follow-up finds it ineffective: rework, then verify again.
    ineffective = await act(
        stack,
        org,
        action["id"],
        "verify",
        {"result": "ineffective", "method": "follow_up_audit", "notes": "Gate skipped twice."},
        "auditor",
        "quinn",
    )
    assert ineffective.status_code == 200, ineffective.text
    assert ineffective.json()["status"] == "verified_ineffective"
    assert ineffective.json()["verified_by"] == "quinn"
    assert (await read(stack, org, nc_path)).json()["status"] == "action_planned"
    assert (await close(stack, org, nc_id)).status_code == 409

    reworked = await act(stack, org, action["id"], "implement", {"notes": "Gate now blocking"})
    assert reworked.status_code == 200 and reworked.json()["verified_by"] is None
    effective = await act(
        stack,
        org,
        action["id"],
        "verify",
        {"result": "effective", "method": "follow_up_audit"},
        "auditor",
        "quinn",
    )
    assert effective.status_code == 200 and effective.json()["status"] == "verified_effective"
    assert effective.json()["verified_on"] == TODAY.isoformat()
    assert (await read(stack, org, nc_path)).json()["close_blockers"] == []

    by_contributor = await stack.evidence.post(
        f"{nc_path}/close", headers=stack.headers(org, "contributor")
    )
    assert by_contributor.status_code == 403
    closed = await close(stack, org, nc_id)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    closed_action = (await read(stack, org, f"/v1/corrective-actions/{action['id']}")).json()
    assert closed_action["status"] == "closed"
    closed_finding = (await read(stack, org, f"/v1/findings/{raised['id']}")).json()
    assert closed_finding["status"] == "closed"

    after = await patch(stack, org, nc_path, {"root_cause": "Changed my mind"})
    assert after.status_code == 409 and after.json()["code"] == "nonconformity-closed"
    late = await stack.evidence.post(
        f"{nc_path}/actions",
        json={"description": "More", "owner": "bo", "due_date": TODAY.isoformat()},
        headers=stack.headers(org, "contributor"),
    )
    assert late.status_code == 409

    async def closed_events() -> list[dict[str, Any]] | None:
        found = events_of(evidence_events, "nonconformity.closed", nc_id)
        done = events_of(evidence_events, "finding.updated", raised["id"])
        return found + done if found and done else None

    nc_event, finding_event = await eventually(closed_events)
    assert nc_event["data"]["status"] == "closed"
    assert finding_event["data"]["status"] == "closed"
    verified = events_of(evidence_events, "corrective_action.verified", action["id"])
    assert [e["data"]["status"] for e in verified] == [
        "verified_ineffective",
        "verified_effective",
    ]


async def test_an_action_due_yesterday_is_listed_overdue_and_announced_once(
    evidence_stack: EvidenceStack, org: uuid.UUID, evidence_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    nc = await created(
        await stack.evidence.post(
            "/v1/nonconformities",
            json={"title": "Model deployed unassessed", "severity": "minor"},
            headers=stack.headers(org, "contributor"),
        )
    )
    late = await add_action(stack, org, nc["id"], due=-1)
    on_time = await add_action(stack, org, nc["id"], due=5)
    assert late["overdue"] is True and on_time["overdue"] is False

    overdue = await stack.evidence.get(
        "/v1/corrective-actions",
        params={"overdue": "true", "nonconformity_id": nc["id"]},
        headers=stack.headers(org, "viewer"),
    )
    assert [a["id"] for a in overdue.json()["items"]] == [late["id"]]
    not_overdue = await stack.evidence.get(
        "/v1/corrective-actions", params={"overdue": "false"}, headers=stack.headers(org)
    )
    assert [a["id"] for a in not_overdue.json()["items"]] == [on_time["id"]]

    async def announced() -> list[dict[str, Any]] | None:
        return events_of(evidence_events, "corrective_action.overdue", late["id"]) or None

    [event] = await eventually(announced)
    assert event["orgid"] == str(org)
    assert event["data"]["due_date"] == (TODAY - timedelta(days=1)).isoformat()
    assert event["data"]["overdue_notified_at"] is not None
    stored = (await read(stack, org, f"/v1/corrective-actions/{late['id']}")).json()
    assert stored["overdue_notified_at"] is not None
    assert stored["version"] == event["dataversion"] == 2
    assert not events_of(evidence_events, "corrective_action.overdue", on_time["id"])

    # Moving the due date ahead clears the notice and takes the action off the overdue list.
    moved = await patch(
        stack,
        org,
        f"/v1/corrective-actions/{late['id']}",
        {"due_date": (TODAY + timedelta(days=10)).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["overdue"] is False and moved.json()["overdue_notified_at"] is None
    overdue = await stack.evidence.get(
        "/v1/corrective-actions", params={"overdue": "true"}, headers=stack.headers(org)
    )
    assert overdue.json()["items"] == []


async def test_bad_input_is_refused_and_other_organisations_see_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    nc = await created(
        await stack.evidence.post(
            "/v1/nonconformities",
            json={"title": "Complaint about a chatbot answer", "severity": "minor"},
            headers=stack.headers(org, "contributor"),
        )
    )
    path = f"/v1/nonconformities/{nc['id']}"
    six = await patch(stack, org, path, {"root_cause_whys": WHYS * 3})
    assert six.status_code == 422
    future = await patch(
        stack,
        org,
        path,
        {"correction": "x", "correction_done_on": (TODAY + timedelta(days=3)).isoformat()},
    )
    assert future.status_code == 422
    nul = await patch(stack, org, path, {"root_cause": "bad\x00cause"})
    assert nul.status_code == 422 and nul.json()["errors"][0]["location"][-1] == "root_cause"
    no_if_match = await stack.evidence.patch(
        path, json={"owner": "bo"}, headers=stack.headers(org, "contributor")
    )
    assert no_if_match.status_code == 428
    unchanged = (await read(stack, org, path)).json()
    assert unchanged["version"] == 1 and unchanged["root_cause_whys"] == []
    auditor = await stack.evidence.post(
        "/v1/nonconformities",
        json={"title": "x", "severity": "major"},
        headers=stack.headers(org, "auditor"),
    )
    assert auditor.status_code == 403

    other = stack.headers(uuid.uuid4(), "manager")
    assert (await stack.evidence.get(path, headers=other)).status_code == 404
    assert (await stack.evidence.post(f"{path}/close", headers=other)).status_code == 404
    foreign = await stack.evidence.post(
        f"{path}/actions",
        json={"description": "x", "owner": "bo", "due_date": TODAY.isoformat()},
        headers=other,
    )
    assert foreign.status_code == 404
    listed = await stack.evidence.get("/v1/nonconformities", headers=other)
    assert listed.json()["items"] == []
    bad_filter = await stack.evidence.get(
        "/v1/corrective-actions", params={"overdue": "maybe"}, headers=stack.headers(org)
    )
    assert bad_filter.status_code == 422
    unknown = await stack.evidence.get(
        "/v1/corrective-actions", params={"late": "true"}, headers=stack.headers(org)
    )
    assert unknown.status_code == 400 and "overdue" in unknown.json()["allowed"]
