"""Every blocker of issue 8 an auditor would raise, arranged through the public REST APIs one by
one (inventory, risk and evidence services), read back from ``GET /v1/readiness`` with what to
do, who owns it and where to fix it, and, where the fix is a plain API call, gone once fixed.

``tests/evidence/test_readiness.py`` covers the empty organisation (no scope, no SoA, no audit,
no review, controls and documented information missing), a high-risk system left out of the
scope and one without an impact assessment; this file covers the rest: an open major
nonconformity, an overdue corrective action, an overdue risk review, evidence past its review-by
date, an internal audit not covering every clause, a management review held since the audit, a
mandatory item of documented information fixed, an approved impact assessment clearing its
high-risk system's blocker, and the remediation plan built from them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.testing import eventually
from tests.conftest import Stack
from tests.evidence.documented_helpers import (
    CV_SCREENING,
    add_evidence,
    approve_scope,
    classify,
    register,
)
from tests.risk.test_impact import COMPLETE, submit_and_approve
from tests.risk.test_impact import create as create_assessment
from tests.risk.test_register import risk_body

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


async def readiness(stack: Stack, org: uuid.UUID) -> dict[str, Any]:
    response = await stack.evidence.get("/v1/readiness", headers=stack.headers(org, "auditor"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_code(body: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [b for b in body["blockers"] if b["code"] == code]


def clause(body: dict[str, Any], clause_id: str) -> dict[str, Any]:
    [found] = [c for c in body["clauses"] if c["clause"] == clause_id]
    return found


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_nonconformities_overdue_actions_and_reviews_and_stale_evidence_are_blockers(
    stack: Stack, org: uuid.UUID
) -> None:
    manager = stack.headers(org, "manager", subject="mgr")
    # An open major nonconformity with its owner.
    nc = ok(
        await stack.evidence.post(
            "/v1/nonconformities",
            json={
                "title": "Model deployed without its impact assessment",
                "severity": "major",
                "owner": "nina@example.com",
            },
            headers=manager,
        ),
        201,
    )
    # A corrective action already past its due date (recorded late: accepted).
    action = ok(
        await stack.evidence.post(
            f"/v1/nonconformities/{nc['id']}/actions",
            json={
                "description": "Add an impact-assessment gate to the release checklist",
                "owner": "carl@example.com",
                "due_date": (TODAY - timedelta(days=5)).isoformat(),
            },
            headers=manager,
        ),
        201,
    )
    # A risk whose review date has passed (an imported register), owned by rita.
    risk = ok(
        await stack.risk.post(
            "/v1/risks",
            json=risk_body(
                title="Drift unnoticed",
                owner="rita@example.com",
                next_review_at=(datetime.now(UTC) - timedelta(days=3)).isoformat(),
            ),
            headers=stack.headers(org, "risk_owner"),
        ),
        201,
    )
    # Approved evidence past its review-by date.
    stale = await add_evidence(
        stack, org, [("control", "A.6.2.6")], review_by=YESTERDAY, title="Monitoring runbook"
    )

    async def all_raised() -> dict[str, Any] | None:
        body = await readiness(stack, org)
        wanted = {
            "open_major_nonconformity",
            "corrective_action_overdue",
            "risk_review_overdue",
            "evidence_past_review",
        }
        return body if wanted <= {b["code"] for b in body["blockers"]} else None

    body = await eventually(all_raised, timeout=30)

    [major] = by_code(body, "open_major_nonconformity")
    assert major["subject"] == nc["id"] and major["owner"] == "nina@example.com"
    assert major["stage"] == "stage2" and major["severity"] == "critical"
    assert f"/v1/nonconformities/{nc['id']}" in major["where_to_fix"]
    assert "close" in major["what_to_do"]

    [overdue] = by_code(body, "corrective_action_overdue")
    assert overdue["owner"] == "carl@example.com" and overdue["count"] == 1
    assert overdue["subject_ids"] == [action["id"]]
    assert "/v1/corrective-actions" in overdue["where_to_fix"]
    assert (TODAY - timedelta(days=5)).isoformat() in overdue["title"]

    [review] = by_code(body, "risk_review_overdue")
    assert review["owner"] == "rita@example.com" and review["subject_ids"] == [risk["id"]]
    assert "/v1/risks" in review["where_to_fix"] and review["what_to_do"]

    [past] = by_code(body, "evidence_past_review")
    assert stale in past["subject_ids"] and past["what_to_do"]
    assert "review_by" in past["where_to_fix"]

    # The clause and control statuses say why, with the evidence and its freshness.
    assert clause(body, "10.2")["status"] == "not_met"  # and no evidence linked to 10.2
    assert "A major nonconformity is open." in clause(body, "10.2")["reason"]
    assert "Corrective actions are overdue." in clause(body, "10.2")["reason"]
    assert "Risk reviews are overdue." in clause(body, "6.1.2")["reason"]
    [control] = [c for c in body["controls"] if c["control"] == "A.6.2.6"]
    assert control["status"] == "stale" and control["evidence"]["freshness"] == "stale"
    assert control["evidence"]["evidence_ids"] == [stale]
    # None of it blocks Stage 1, so the plan lists them after the Stage 1 tasks, each with an
    # owner and a due date (no certification plan: by severity from today).
    plan = ok(await stack.evidence.get("/v1/readiness/plan", headers=stack.headers(org)))
    tasks = plan["tasks"]
    stages = [t["stage"] for t in tasks]
    assert stages == sorted(stages, key=lambda s: s != "stage1")
    stage2 = [t for t in tasks if t["stage"] == "stage2"]
    severities = [t["severity"] for t in stage2]
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    assert severities == sorted(severities, key=rank.__getitem__)
    task = next(t for t in tasks if t["code"] == "corrective_action_overdue")
    assert task["owner"] == "carl@example.com"
    assert task["due_date"] == (TODAY + timedelta(days=60)).isoformat()
    assert "No certification plan" in task["due_basis"]

    # Fixing through the APIs removes the blockers.
    current = ok(await stack.risk.get(f"/v1/risks/{risk['id']}", headers=stack.headers(org)))
    ok(
        await stack.risk.patch(
            f"/v1/risks/{risk['id']}",
            # A review re-assesses (or confirms) the scores and sets the next review date.
            json={
                "likelihood": 4,
                "severity": 4,
                "next_review_at": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
            },
            headers={
                **stack.headers(org, "risk_owner"),
                "If-Match": f'"{current["version"]}"',
            },
        )
    )
    item = ok(await stack.evidence.get(f"/v1/evidence/{stale}", headers=stack.headers(org)))
    ok(
        await stack.evidence.patch(
            f"/v1/evidence/{stale}",
            json={"review_by": (TODAY + timedelta(days=200)).isoformat()},
            headers={
                **stack.headers(org, "manager", subject="bo"),
                "If-Match": f'"{item["version"]}"',
            },
        )
    )
    current_action = ok(
        await stack.evidence.get(f"/v1/corrective-actions/{action['id']}", headers=manager)
    )
    ok(
        await stack.evidence.patch(
            f"/v1/corrective-actions/{action['id']}",
            json={"due_date": (TODAY + timedelta(days=20)).isoformat()},
            headers={**manager, "If-Match": f'"{current_action["version"]}"'},
        )
    )

    async def fixed() -> dict[str, Any] | None:
        body = await readiness(stack, org)
        gone = {"corrective_action_overdue", "risk_review_overdue", "evidence_past_review"}
        left = gone & {b["code"] for b in body["blockers"]}
        return body if not left else None

    body = await eventually(fixed, timeout=30)
    assert by_code(body, "open_major_nonconformity")  # still open: still a blocker
    [control] = [c for c in body["controls"] if c["control"] == "A.6.2.6"]
    assert control["status"] == "evidenced" and control["evidence"]["freshness"] == "current"


async def test_an_audit_not_covering_every_clause_and_the_review_after_it(
    stack: Stack, org: uuid.UUID
) -> None:
    manager = stack.headers(org, "manager", subject="mgr")
    body = await readiness(stack, org)
    assert by_code(body, "no_internal_audit") and by_code(body, "no_management_review_since_audit")
    [no_audit] = by_code(body, "no_internal_audit")
    assert no_audit["where_to_fix"].startswith("evidence: POST /v1/audits")

    audit = ok(
        await stack.evidence.post(
            "/v1/audits",
            json={
                "title": "Context and leadership",
                "criteria": "ISO/IEC 42001:2023 clauses 4 and 5",
                "planned_start": TODAY.isoformat(),
                "planned_end": TODAY.isoformat(),
                "clauses": ["4", "5"],
                "lead_auditor": "independent.auditor@example.com",
            },
            headers=manager,
        ),
        201,
    )
    started = ok(await stack.evidence.post(f"/v1/audits/{audit['id']}/start", headers=manager))
    ok(
        await stack.evidence.post(
            f"/v1/audits/{audit['id']}/complete",
            json={"completed_on": TODAY.isoformat()},
            headers={**manager, "If-Match": f'"{started["version"]}"'},
        )
    )
    body = await readiness(stack, org)
    assert not by_code(body, "no_internal_audit")
    [incomplete] = by_code(body, "internal_audit_incomplete")
    assert "6.1.1" in incomplete["subject_ids"] and "4.1" not in incomplete["subject_ids"]
    assert incomplete["count"] == len(
        [c for c in body["clauses"] if not c["clause"].startswith(("4", "5"))]
    )
    assert clause(body, "9.2.1")["status"] == "partially_met"
    assert "The audits leave clauses unaudited." in clause(body, "9.2.1")["reason"]
    assert by_code(body, "no_management_review_since_audit")

    # A management review held after the audit clears its blocker.
    review = ok(
        await stack.evidence.post(
            "/v1/management-reviews",
            json={"title": "Management review", "review_date": TODAY.isoformat()},
            headers=stack.headers(org, "contributor"),
        ),
        201,
    )
    ok(
        await stack.evidence.post(
            f"/v1/management-reviews/{review['id']}/hold",
            json={"held_on": TODAY.isoformat(), "attendees": ["CEO"]},
            headers={**manager, "If-Match": f'"{review["version"]}"'},
        )
    )
    body = await readiness(stack, org)
    assert not by_code(body, "no_management_review_since_audit")
    rule = next(r for r in body["rules"] if r["id"] == "stage2.management_review")
    assert rule["passed"] is True
    assert "A management review was held since the last audit." in clause(body, "9.3.1")["reason"]
    audit_rule = next(r for r in body["rules"] if r["id"] == "stage2.internal_audit")
    assert audit_rule["passed"] is False
    assert audit_rule["blocker_codes"] == ["internal_audit_incomplete"]


async def test_a_mandatory_document_with_approved_evidence_is_no_longer_missing(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await readiness(stack, org)
    [missing] = [
        b
        for b in by_code(body, "mandatory_documented_information_missing")
        if b["subject"] == "DI-01"
    ]
    assert missing["stage"] == "stage1" and "DI-01" in missing["where_to_fix"]
    assert "is missing" in missing["title"]
    draft = await add_evidence(stack, org, [("documented_information", "DI-01")], status="draft")
    body = await readiness(stack, org)
    [still] = [
        b
        for b in by_code(body, "mandatory_documented_information_missing")
        if b["subject"] == "DI-01"
    ]
    assert "has only draft evidence" in still["title"]
    due_soon = TODAY + timedelta(days=10)
    approved = await add_evidence(
        stack, org, [("documented_information", "DI-01")], review_by=due_soon
    )
    body = await readiness(stack, org)
    assert "DI-01" not in {
        b["subject"] for b in by_code(body, "mandatory_documented_information_missing")
    }
    # The clause the item documents shows the evidence behind it and its freshness.
    scope_clause = clause(body, "4.3")
    assert "DI-01" in scope_clause["documented_information"]
    assert "DI-01 is approved." in scope_clause["reason"]
    evidence = scope_clause["evidence"]
    assert evidence["approved"] == 1 and evidence["draft"] == 1
    assert evidence["evidence_ids"][0] == approved and draft in evidence["evidence_ids"]
    assert evidence["review_by"] == due_soon.isoformat()
    assert evidence["freshness"] == "due_soon"  # review-by within 30 days
    assert body["verdict"] == "not_ready"  # the other Stage 1 rules still fail


async def test_an_approved_impact_assessment_clears_the_high_risk_systems_blocker(
    stack: Stack, org: uuid.UUID
) -> None:
    system = await register(stack, org, "CV screening")
    await approve_scope(stack, org, {system: True})
    await classify(stack, org, system, CV_SCREENING)

    async def raised() -> dict[str, Any] | None:
        body = await readiness(stack, org)
        found = by_code(body, "impact_assessment_missing")
        return found[0] if found else None

    blocker = await eventually(raised, timeout=30)
    assert blocker["subject"] == system and blocker["owner"] == "owner@example.com"
    assert f"/v1/systems/{system}/impact-assessments" in blocker["where_to_fix"]
    assert "approved by someone other than its author" in blocker["what_to_do"]

    assessment = await create_assessment(stack, org, uuid.UUID(system), COMPLETE)
    await submit_and_approve(stack, org, assessment["id"])

    async def cleared() -> dict[str, Any] | None:
        body = await readiness(stack, org)
        return None if by_code(body, "impact_assessment_missing") else body

    body = await eventually(cleared, timeout=30)
    rule = next(r for r in body["rules"] if r["id"] == "stage2.impact_assessments")
    assert rule["passed"] is True
    assert (
        "Every high-risk system in scope has an approved impact assessment."
        in (clause(body, "8.4")["reason"])
    )
