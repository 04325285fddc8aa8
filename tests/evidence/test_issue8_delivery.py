"""Issue 8, first half, from the outside: the events of internal audit, findings and corrective
actions reach a GRC platform as signed webhooks (the overdue notice from the scheduler included),
and every type of the cycle (Objective, AuditProgramme, Audit, Finding, CorrectiveAction,
ManagementReview) is readable over GraphQL by its own organisation only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strawberry import relay

from shared.db import uuid7
from shared.testing import eventually
from tests.conftest import Stack
from tests.gateway.webhooks.test_delivery_webhooks import (
    Receiver,
    subscribe,
    verify,
)

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()


async def post(stack: Stack, org: uuid.UUID, path: str, body: Any, role: str) -> dict[str, Any]:
    response = await stack.evidence.post(
        path, json=body, headers=stack.headers(org, role, subject=f"{role}@example.com")
    )
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def audit_cycle(stack: Stack, org: uuid.UUID) -> dict[str, dict[str, Any]]:
    """A programme, an audit in progress, a minor nonconformity found by it, a corrective action
    due yesterday, an objective and a management review: arranged over REST."""
    programme = await post(
        stack,
        org,
        "/v1/audit-programmes",
        {
            "title": "Programme 2026–27",
            "period_start": (TODAY - timedelta(days=30)).isoformat(),
            "period_end": (TODAY + timedelta(days=335)).isoformat(),
        },
        "manager",
    )
    audit = await post(
        stack,
        org,
        "/v1/audits",
        {
            "programme_id": programme["id"],
            "title": "Clause 9 and A.6",
            "planned_start": TODAY.isoformat(),
            "planned_end": TODAY.isoformat(),
            "clauses": ["9"],
            "controls": ["A.6.2.8"],
            "lead_auditor": "Ingrid Ødegård",
        },
        "manager",
    )
    await post(stack, org, f"/v1/audits/{audit['id']}/start", {}, "manager")
    finding = await post(
        stack,
        org,
        f"/v1/audits/{audit['id']}/findings",
        {
            "kind": "minor_nonconformity",
            "title": "Event logs kept 30 days, policy says 90",
            "links": [
                {"target_type": "clause", "target_id": "9.1"},
                {"target_type": "control", "target_id": "a.6.2.8"},
            ],
        },
        "auditor",
    )
    action = await post(
        stack,
        org,
        f"/v1/nonconformities/{finding['nonconformity_id']}/actions",
        {
            "description": "Set log retention to 90 days.",
            "owner": "ops@example.com",
            "due_date": (TODAY - timedelta(days=1)).isoformat(),
        },
        "contributor",
    )
    objective = await post(
        stack,
        org,
        "/v1/objectives",
        {
            "title": "Logs retained",
            "measure": "days",
            "target_value": 90,
            "direction": "at_least",
            "owner": "ops@example.com",
            "due_date": (TODAY + timedelta(days=90)).isoformat(),
        },
        "contributor",
    )
    review = await post(
        stack,
        org,
        "/v1/management-reviews",
        {"title": "Review 2026", "review_date": TODAY.isoformat()},
        "contributor",
    )
    return {
        "AuditProgramme": programme,
        "Audit": audit,
        "Finding": finding,
        "CorrectiveAction": action,
        "Objective": objective,
        "ManagementReview": review,
    }


async def test_audit_finding_and_corrective_action_events_are_delivered_as_webhooks(
    stack: Stack,
    org: uuid.UUID,
    receiver: Receiver,
) -> None:
    sub = await subscribe(stack, org, receiver.url, ["audit.*", "finding.*", "corrective_action.*"])
    arranged = await audit_cycle(stack, org)
    wanted = {
        "aims.evidence.audit.planned",
        "aims.evidence.audit.started",
        "aims.evidence.finding.raised",
        "aims.evidence.corrective_action.planned",
        "aims.evidence.corrective_action.overdue",  # from the scheduler: due yesterday
    }

    async def all_arrived() -> dict[str, dict[str, Any]] | None:
        events = {e["type"]: e for e in (verify(sub["secret"], d) for d in receiver.received)}
        return events if wanted <= set(events) else None

    events = await eventually(all_arrived, timeout=45)
    # Only what was subscribed to: no objective, review, nonconformity or programme events.
    assert set(events) == wanted
    assert {e["orgid"] for e in events.values()} == {str(org)}
    finding = events["aims.evidence.finding.raised"]["data"]
    assert finding["id"] == arranged["Finding"]["id"]
    assert finding["links"] == [
        {"target_type": "clause", "target_id": "9.1"},
        {"target_type": "control", "target_id": "A.6.2.8"},
    ]
    assert events["aims.evidence.audit.started"]["data"]["lead_auditor"] == "Ingrid Ødegård"
    overdue = events["aims.evidence.corrective_action.overdue"]["data"]
    assert overdue["id"] == arranged["CorrectiveAction"]["id"] and overdue["overdue"] is True


NODE_QUERY = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on Objective { title }
    ... on AuditProgramme { title }
    ... on Audit { title }
    ... on Finding { title }
    ... on CorrectiveAction { description }
    ... on ManagementReview { title }
  }
}
"""


async def test_every_type_of_the_cycle_is_read_over_graphql_by_its_own_organisation_only(
    stack: Stack, org: uuid.UUID
) -> None:
    arranged = await audit_cycle(stack, org)
    ids = [str(relay.GlobalID(kind, str(row["id"]))) for kind, row in arranged.items()]

    async def nodes(as_org: uuid.UUID) -> list[Any]:
        response = await stack.gateway.post(
            "/graphql",
            json={"query": NODE_QUERY, "variables": {"ids": ids}},
            headers=stack.headers(as_org, "auditor"),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return list(body["data"]["nodes"])

    mine = await nodes(org)
    assert [n["__typename"] for n in mine] == list(arranged)
    assert [n.get("title", n.get("description")) for n in mine] == [
        "Programme 2026–27",
        "Clause 9 and A.6",
        "Event logs kept 30 days, policy says 90",
        "Set log retention to 90 days.",
        "Logs retained",
        "Review 2026",
    ]
    assert await nodes(uuid7()) == [None] * len(ids)
