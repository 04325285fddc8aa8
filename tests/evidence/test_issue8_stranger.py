"""Issue 8, first half, tried as a stranger would: odd input (NUL bytes, non-ASCII, missing
fields, dates at the ends of the calendar, `true` for a number) and another organisation's ids,
over REST and GraphQL. Each is refused with a 4xx naming the field, never a 500, or works."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from strawberry import relay

from shared.db import uuid7
from shared.testing import eventually
from tests.conftest import Stack
from tests.evidence.audit_helpers import TODAY, audit_body, created, manager, started_audit
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

OBJECTIVE = {
    "title": "Zoë's objective ✓",
    "measure": "Taux de faux négatifs",
    "unit": "%",
    "target_value": 2,
    "direction": "at_most",
    "owner": "zoë@exemple.fr",
    "due_date": (TODAY + timedelta(days=90)).isoformat(),
}


def refused(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert any(field in e["location"] for e in body["errors"]), body


async def test_odd_input_is_a_4xx_naming_the_field_and_non_ascii_works(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    s = evidence_stack
    editor, mgr = s.headers(org, "contributor"), manager(s, org)

    # Objectives (6.2, 9.1).
    made = await s.evidence.post("/v1/objectives", json=OBJECTIVE, headers=editor)
    objective = await created(made)
    assert (objective["title"], objective["owner"]) == ("Zoë's objective ✓", "zoë@exemple.fr")
    nul = await s.evidence.post(
        "/v1/objectives", json={**OBJECTIVE, "owner": "a\x00"}, headers=editor
    )
    refused(nul, 422, "validation-failed", "owner")
    missing = await s.evidence.post("/v1/objectives", json={"title": "x"}, headers=editor)
    refused(missing, 422, "validation-failed", "measure")
    for bad in (True, "3", 1e300):
        measured = await s.evidence.post(
            f"/v1/objectives/{objective['id']}/measurements", json={"value": bad}, headers=editor
        )
        refused(measured, 422, "validation-failed", "value")
    listed = await s.evidence.get(f"/v1/objectives/{objective['id']}", headers=editor)
    assert listed.json()["measurement_count"] == 0  # nothing half-recorded

    # Audit programmes and audits (9.2): dates at the ends of the calendar, NUL, unknown ids.
    wide = await s.evidence.post(
        "/v1/audit-programmes",
        json={"title": "Forever", "period_start": "0001-01-01", "period_end": "9999-12-31"},
        headers=mgr,
    )
    refused(wide, 422, "validation-failed", "period_start")
    late = await s.evidence.post(
        "/v1/audits",
        json=audit_body(planned_start="9999-12-30", planned_end="9999-12-31"),
        headers=mgr,
    )
    refused(late, 422, "validation-failed", "planned_start")
    nul_clause = await s.evidence.post(
        "/v1/audits", json=audit_body(clauses=["9.2\x00"]), headers=mgr
    )
    refused(nul_clause, 422, "validation-failed", "clauses")
    unknown = await s.evidence.post(
        "/v1/audits",
        json=audit_body(systems=[str(uuid7())], evidence_sampled=[str(uuid7())]),
        headers=mgr,
    )
    refused(unknown, 422, "unknown-reference", "systems")
    named = await created(
        await s.evidence.post(
            "/v1/audits", json=audit_body(title="Prüfung ✓", lead_auditor="Åsa Ørsted"), headers=mgr
        )
    )
    assert named["lead_auditor"] == "Åsa Ørsted"

    # Findings: a risk the organisation does not have is not a link.
    audit = await started_audit(s, org)
    ghost = await s.evidence.post(
        f"/v1/audits/{audit['id']}/findings",
        json={
            "kind": "observation",
            "title": "Risk not reviewed",
            "links": [{"target_type": "risk", "target_id": str(uuid7())}],
        },
        headers=mgr,
    )
    refused(ghost, 422, "unknown-reference", "links")

    # Corrective actions (10.2): a due date the scheduler cannot add a day to was a 500.
    nc = await created(
        await s.evidence.post(
            "/v1/nonconformities", json={"title": "Écart ✓", "severity": "major"}, headers=mgr
        )
    )
    for due in ("9999-12-31", "0001-01-01"):
        action = await s.evidence.post(
            f"/v1/nonconformities/{nc['id']}/actions",
            json={"description": "Fix it", "owner": "ops", "due_date": due},
            headers=editor,
        )
        refused(action, 422, "validation-failed", "due_date")
    current = await s.evidence.get(f"/v1/nonconformities/{nc['id']}", headers=editor)
    six_whys = await s.evidence.patch(
        f"/v1/nonconformities/{nc['id']}",
        json={"root_cause_whys": [{"why": "Why?", "because": "Because."}] * 6},
        headers={**editor, "If-Match": current.headers["etag"]},
    )
    refused(six_whys, 422, "validation-failed", "root_cause_whys")
    no_because = await s.evidence.patch(
        f"/v1/nonconformities/{nc['id']}",
        json={"root_cause_whys": [{"why": "Why?\x00"}]},
        headers={**editor, "If-Match": current.headers["etag"]},
    )
    refused(no_because, 422, "validation-failed", "root_cause_whys")

    # Management reviews (9.3).
    far = await s.evidence.post(
        "/v1/management-reviews",
        json={"title": "Review", "review_date": "9999-12-31"},
        headers=editor,
    )
    refused(far, 422, "validation-failed", "review_date")
    section = await s.evidence.post(
        "/v1/management-reviews",
        json={"title": "Review", "review_date": TODAY.isoformat(), "notes": {"bogus": "x"}},
        headers=editor,
    )
    refused(section, 422, "validation-failed", "notes")


async def test_another_organisations_ids_are_not_found_anywhere(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    s = evidence_stack
    other = uuid7()
    objective = await created(
        await s.evidence.post(
            "/v1/objectives", json=OBJECTIVE, headers=s.headers(org, "contributor")
        )
    )
    audit = await started_audit(s, org)
    review = await created(
        await s.evidence.post(
            "/v1/management-reviews",
            json={"title": "Review", "review_date": TODAY.isoformat()},
            headers=s.headers(org, "contributor"),
        )
    )
    nc = await created(
        await s.evidence.post(
            "/v1/nonconformities",
            json={"title": "NC", "severity": "minor"},
            headers=manager(s, org),
        )
    )
    theirs = s.headers(other, "admin")
    attempts = [
        ("POST", f"/v1/objectives/{objective['id']}/measurements", {"value": 1}),
        ("GET", f"/v1/audits/{audit['id']}", None),
        (
            "POST",
            f"/v1/audits/{audit['id']}/findings",
            {
                "kind": "observation",
                "title": "t",
                "links": [{"target_type": "clause", "target_id": "9.2"}],
            },
        ),
        ("POST", f"/v1/nonconformities/{nc['id']}/close", None),
        (
            "POST",
            f"/v1/nonconformities/{nc['id']}/actions",
            {"description": "d", "owner": "o", "due_date": TODAY.isoformat()},
        ),
        ("GET", f"/v1/management-reviews/{review['id']}", None),
        (
            "POST",
            f"/v1/management-reviews/{review['id']}/actions",
            {"title": "t", "owner": "o", "due_date": TODAY.isoformat()},
        ),
    ]
    for method, path, body in attempts:
        response = await s.evidence.request(method, path, json=body, headers=theirs)
        assert response.status_code == 404, (path, response.text)
    lists = [
        "/v1/objectives",
        "/v1/audits",
        "/v1/findings",
        "/v1/nonconformities",
        "/v1/corrective-actions",
        "/v1/management-reviews",
        "/v1/audit-programmes",
    ]
    for path in lists:
        response = await s.evidence.get(path, headers=theirs)
        assert response.status_code == 200 and response.json()["items"] == [], path


async def test_a_finding_links_to_a_risk_of_its_own_organisation_only(
    stack: Stack, org: uuid.UUID
) -> None:
    risk = await stack.risk.post(
        "/v1/risks",
        json={
            "title": "Biased screening",
            "domain_id": "1",
            "subdomain_id": "1.1",
            "entity": "ai",
            "intent": "unintentional",
            "timing": "post_deployment",
            "likelihood": 3,
            "severity": 4,
        },
        headers=stack.headers(org, "risk_owner"),
    )
    assert risk.status_code == 201, risk.text
    link = {"target_type": "risk", "target_id": risk.json()["id"]}
    headers = stack.headers(org, "manager")
    audit = await created(
        await stack.evidence.post("/v1/audits", json=audit_body(), headers=headers)
    )
    started = await stack.evidence.post(f"/v1/audits/{audit['id']}/start", headers=headers)
    assert started.status_code == 200, started.text

    async def raised() -> dict[str, Any] | None:
        response = await stack.evidence.post(
            f"/v1/audits/{audit['id']}/findings",
            json={"kind": "observation", "title": "Risk review overdue", "links": [link]},
            headers=headers,
        )
        if response.status_code == 422:  # the risk has not reached the evidence service yet
            return None
        assert response.status_code == 201, response.text
        return dict(response.json())

    finding = await eventually(raised, timeout=30)
    assert finding["links"] == [link]
    listed = await stack.evidence.get(
        "/v1/findings", params={"target": f"risk:{link['target_id']}"}, headers=headers
    )
    assert [f["id"] for f in listed.json()["items"]] == [finding["id"]]

    # Another organisation cannot name it, over REST or GraphQL.
    other = uuid7()
    their_headers = stack.headers(other, "manager")
    their_audit = await created(
        await stack.evidence.post("/v1/audits", json=audit_body(), headers=their_headers)
    )
    await stack.evidence.post(f"/v1/audits/{their_audit['id']}/start", headers=their_headers)
    foreign = await stack.evidence.post(
        f"/v1/audits/{their_audit['id']}/findings",
        json={"kind": "observation", "title": "t", "links": [link]},
        headers=their_headers,
    )
    refused(foreign, 422, "unknown-reference", "links")
    mutation = """
      mutation($input: RaiseFindingInput!) { raiseFinding(input: $input) {
        finding { id } errors { __typename code } } }
    """
    variables = {
        "input": {
            "auditId": str(relay.GlobalID("Audit", their_audit["id"])),
            "kind": "OBSERVATION",
            "title": "Zoë's finding ✓",
            "links": [{"targetType": "RISK", "targetId": link["target_id"]}],
        }
    }
    answer = await stack.gateway.post(
        "/graphql", json={"query": mutation, "variables": variables}, headers=their_headers
    )
    payload = answer.json()["data"]["raiseFinding"]
    assert payload["finding"] is None
    assert [e["__typename"] for e in payload["errors"]] == ["ValidationError"]
    # And the other organisation's audit is not theirs to raise findings on.
    variables["input"]["auditId"] = str(relay.GlobalID("Audit", audit["id"]))
    variables["input"]["links"] = [{"targetType": "CLAUSE", "targetId": "9.2"}]
    answer = await stack.gateway.post(
        "/graphql", json={"query": mutation, "variables": variables}, headers=their_headers
    )
    payload = answer.json()["data"]["raiseFinding"]
    assert [e["__typename"] for e in payload["errors"]] == ["NotFoundError"]


async def test_graphql_refuses_a_due_date_the_scheduler_cannot_handle(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "manager")
    nc = await created(
        await stack.evidence.post(
            "/v1/nonconformities", json={"title": "NC", "severity": "major"}, headers=headers
        )
    )
    mutation = """
      mutation($input: AddCorrectiveActionInput!) { addCorrectiveAction(input: $input) {
        correctiveAction { id } errors { __typename ... on ValidationError { field } } } }
    """
    variables = {
        "input": {
            "nonconformityId": nc["id"],
            "description": "Fix it ✓",
            "owner": "ops",
            "dueDate": "9999-12-31",
        }
    }
    answer = await stack.gateway.post(
        "/graphql", json={"query": mutation, "variables": variables}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json().get("data") is not None, answer.text
    payload = answer.json()["data"]["addCorrectiveAction"]
    assert payload["correctiveAction"] is None
    assert [(e["__typename"], e["field"]) for e in payload["errors"]] == [
        ("ValidationError", ["dueDate"])
    ]


async def test_an_audit_done_before_it_was_recorded_keeps_its_real_dates(
    stack: Stack, org: uuid.UUID
) -> None:
    """An internal audit held two months ago, recorded now: its start and completion days are
    the real ones (what readiness' "an internal audit in the last 12 months" reads), over REST
    and GraphQL; a start in the future, or a completion before the start, is refused."""
    headers = stack.headers(org, "manager")
    body = audit_body(
        planned_start=(TODAY - timedelta(days=62)).isoformat(),
        planned_end=(TODAY - timedelta(days=60)).isoformat(),
    )
    rest = await created(await stack.evidence.post("/v1/audits", json=body, headers=headers))
    future = await stack.evidence.post(
        f"/v1/audits/{rest['id']}/start",
        json={"started_on": (TODAY + timedelta(days=1)).isoformat()},
        headers=headers,
    )
    refused(future, 422, "invalid-dates", "started_on")
    started = await stack.evidence.post(
        f"/v1/audits/{rest['id']}/start",
        json={"started_on": (TODAY - timedelta(days=62)).isoformat()},
        headers=headers,
    )
    assert started.status_code == 200, started.text
    assert started.json()["started_on"] == (TODAY - timedelta(days=62)).isoformat()
    too_early = await stack.evidence.post(
        f"/v1/audits/{rest['id']}/complete",
        json={"completed_on": (TODAY - timedelta(days=63)).isoformat()},
        headers=headers,
    )
    refused(too_early, 422, "invalid-dates", "completed_on")
    completed = await stack.evidence.post(
        f"/v1/audits/{rest['id']}/complete",
        json={"completed_on": (TODAY - timedelta(days=60)).isoformat()},
        headers=headers,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["completed_on"] == (TODAY - timedelta(days=60)).isoformat()

    graphql = await created(await stack.evidence.post("/v1/audits", json=body, headers=headers))
    mutation = """
      mutation($input: AuditTransitionInput!) { startAudit(input: $input) {
        audit { status startedOn } errors { __typename } } }
    """
    answer = await stack.gateway.post(
        "/graphql",
        json={
            "query": mutation,
            "variables": {
                "input": {
                    "id": str(relay.GlobalID("Audit", graphql["id"])),
                    "startedOn": (TODAY - timedelta(days=61)).isoformat(),
                }
            },
        },
        headers=headers,
    )
    payload = answer.json()["data"]["startAudit"]
    assert payload == {
        "audit": {"status": "IN_PROGRESS", "startedOn": (TODAY - timedelta(days=61)).isoformat()},
        "errors": [],
    }
    # Without it, the audit starts today, as before.
    plain = await created(await stack.evidence.post("/v1/audits", json=body, headers=headers))
    today = await stack.evidence.post(f"/v1/audits/{plain['id']}/start", headers=headers)
    assert today.status_code == 200 and today.json()["started_on"] == TODAY.isoformat()
