"""The internal audit cycle over GraphQL: plan, run, raise a finding, correct, verify, close; the
typed refusals; batching of a page of audits; against the real services."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strawberry.relay import GlobalID

from shared.testing import eventually
from tests.conftest import Stack
from tests.gateway.cycle_helpers import CountingGateway, counting_gateway, mutate, rest_created
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()

PROGRAMME = """
mutation($input: CreateAuditProgrammeInput!) { createAuditProgramme(input: $input) {
  auditProgramme { id title } errors { __typename code } } }
"""
PLAN = """
mutation($input: PlanAuditInput!) { planAudit(input: $input) {
  audit { id status version programme { title } aiSystems { id } }
  errors { __typename code message
    ... on AuditorNotIndependentError { reasons { auditor kind targetType targetId detail } } } } }
"""
START = """
mutation($input: AuditTransitionInput!) { startAudit(input: $input) {
  audit { id status version } errors { __typename code } } }
"""
RAISE = """
mutation($input: RaiseFindingInput!) { raiseFinding(input: $input) {
  finding { id kind status links { targetType targetId }
            nonconformity { id status severity version closeBlockers } }
  errors { __typename code } } }
"""
UPDATE_NC = """
mutation($input: UpdateNonconformityInput!) { updateNonconformity(input: $input) {
  nonconformity { id status version rootCauseWhys { why because } rootCause correction }
  errors { __typename code ... on ValidationError { field } } } }
"""
CLOSE_NC = """
mutation($input: CloseNonconformityInput!) { closeNonconformity(input: $input) {
  nonconformity { id status finding { status } actions { status } }
  errors { __typename code message
    ... on VerificationRequiredError { missing unverifiedActionIds } } } }
"""
ADD_ACTION = """
mutation($input: AddCorrectiveActionInput!) { addCorrectiveAction(input: $input) {
  correctiveAction { id status version nonconformity { status } } errors { __typename code } } }
"""
IMPLEMENT = """
mutation($input: ImplementCorrectiveActionInput!) { implementCorrectiveAction(input: $input) {
  correctiveAction { id status version implementedBy } errors { __typename code } } }
"""
VERIFY = """
mutation($input: VerifyCorrectiveActionInput!) { verifyCorrectiveAction(input: $input) {
  correctiveAction { id status verifiedBy verificationMethod } errors { __typename code } } }
"""


def plan_input(**kw: Any) -> dict[str, Any]:
    return {
        "title": "Risk and impact",
        "criteria": "ISO/IEC 42001:2023; AI policy v3",
        "plannedStart": TODAY.isoformat(),
        "plannedEnd": (TODAY + timedelta(days=2)).isoformat(),
        "leadAuditor": "lead.auditor@example.com",
        "clauses": ["6.1", "8.4"],
        **kw,
    }


async def started_audit(stack: Stack, org: uuid.UUID, **kw: Any) -> dict[str, Any]:
    planned = await mutate(stack, org, "manager", PLAN, plan_input(**kw))
    assert planned["errors"] == [], planned
    started = await mutate(stack, org, "manager", START, {"id": planned["audit"]["id"]})
    assert started["audit"]["status"] == "IN_PROGRESS", started
    audit: dict[str, Any] = started["audit"]
    return audit


async def test_a_major_nonconformity_goes_through_the_whole_cycle(
    stack: Stack, org: uuid.UUID
) -> None:
    programme = await mutate(
        stack,
        org,
        "manager",
        PROGRAMME,
        {
            "title": "Programme 2027",
            "periodStart": (TODAY - timedelta(days=10)).isoformat(),
            "periodEnd": (TODAY + timedelta(days=300)).isoformat(),
        },
    )
    assert programme["errors"] == []
    programme_id = programme["auditProgramme"]["id"]
    planned = await mutate(stack, org, "manager", PLAN, plan_input(programmeId=programme_id))
    assert planned["errors"] == []
    assert planned["audit"]["status"] == "PLANNED"
    assert planned["audit"]["programme"] == {"title": "Programme 2027"}
    audit_id = planned["audit"]["id"]
    started = await mutate(
        stack,
        org,
        "manager",
        START,
        {"id": audit_id, "expectedVersion": planned["audit"]["version"]},
    )
    assert started["audit"]["status"] == "IN_PROGRESS"

    # The auditor raises a major nonconformity: it opens its Nonconformity at once.
    raised = await mutate(
        stack,
        org,
        "auditor",
        RAISE,
        {
            "auditId": audit_id,
            "kind": "MAJOR_NONCONFORMITY",
            "title": "No impact assessment for the CV screener",
            "links": [{"targetType": "CLAUSE", "targetId": "8.4"}],
        },
        subject="quinn",
    )
    assert raised["errors"] == [], raised
    finding = raised["finding"]
    assert finding["kind"] == "MAJOR_NONCONFORMITY" and finding["status"] == "OPEN"
    assert finding["links"] == [{"targetType": "CLAUSE", "targetId": "8.4"}]
    nc = finding["nonconformity"]
    assert nc["status"] == "OPEN" and nc["severity"] == "MAJOR"

    # Closing at once is refused with everything that is missing.
    early = await mutate(stack, org, "manager", CLOSE_NC, {"id": nc["id"]})
    assert early["nonconformity"] is None
    [refusal] = early["errors"]
    assert refusal["__typename"] == "VerificationRequiredError"
    assert refusal["code"] == "verification-required"
    assert {"correction", "root_cause", "corrective_action"} <= set(refusal["missing"])

    corrected = await mutate(
        stack,
        org,
        "contributor",
        UPDATE_NC,
        {
            "id": nc["id"],
            "expectedVersion": nc["version"],
            "correction": "Assessment started for the CV screener.",
            "correctionDoneOn": TODAY.isoformat(),
            "rootCauseWhys": [
                {"why": "Why was it deployed unassessed?", "because": "No release gate."},
                {"why": "Why no gate?", "because": "The checklist predates the AIMS."},
            ],
            "rootCause": "Release procedure not aligned with 8.4.",
        },
        subject="ann",
    )
    assert corrected["errors"] == [], corrected
    assert [w["because"] for w in corrected["nonconformity"]["rootCauseWhys"]] == [
        "No release gate.",
        "The checklist predates the AIMS.",
    ]
    action = await mutate(
        stack,
        org,
        "contributor",
        ADD_ACTION,
        {
            "nonconformityId": nc["id"],
            "description": "Add an impact-assessment gate to the release checklist.",
            "owner": "owen@example.com",
            "dueDate": (TODAY + timedelta(days=30)).isoformat(),
        },
        subject="ann",
    )
    assert action["errors"] == []
    action_id = action["correctiveAction"]["id"]
    assert action["correctiveAction"]["status"] == "PLANNED"

    # Planned but not verified: closing names the unverified action.
    unverified = await mutate(stack, org, "manager", CLOSE_NC, {"id": nc["id"]})
    [refusal] = unverified["errors"]
    assert refusal["__typename"] == "VerificationRequiredError"
    assert refusal["missing"] == ["action_not_verified_effective"]
    assert refusal["unverifiedActionIds"] == [GlobalID.from_id(action_id).node_id]

    implemented = await mutate(
        stack,
        org,
        "contributor",
        IMPLEMENT,
        {"id": action_id, "notes": "Gate added."},
        subject="ann",
    )
    assert implemented["correctiveAction"]["status"] == "IMPLEMENTED"
    assert implemented["correctiveAction"]["implementedBy"] == "ann"
    verified = await mutate(
        stack,
        org,
        "auditor",
        VERIFY,
        {"id": action_id, "result": "EFFECTIVE", "method": "RECORD_REVIEW"},
        subject="quinn",
    )
    assert verified["errors"] == [], verified
    assert verified["correctiveAction"]["status"] == "VERIFIED_EFFECTIVE"
    assert verified["correctiveAction"]["verifiedBy"] == "quinn"

    closed = await mutate(stack, org, "manager", CLOSE_NC, {"id": nc["id"]})
    assert closed["errors"] == [], closed
    assert closed["nonconformity"]["status"] == "CLOSED"
    assert closed["nonconformity"]["finding"] == {"status": "CLOSED"}
    assert closed["nonconformity"]["actions"] == [{"status": "CLOSED"}]

    # The audit, read back as a node, shows the closed finding; another organisation sees null.
    query = """
      query($a: ID!, $f: ID!, $n: ID!, $c: ID!, $p: ID!) {
        a: node(id: $a) { ... on Audit { status findings { title status } } }
        f: node(id: $f) { ... on Finding { audit { title } } }
        n: node(id: $n) { ... on Nonconformity { status } }
        c: node(id: $c) { ... on CorrectiveAction { status } }
        p: node(id: $p) { ... on AuditProgramme { title coverage { complete clausesCovered } } }
      }
    """
    ids = {"a": audit_id, "f": finding["id"], "n": nc["id"], "c": action_id, "p": programme_id}
    mine = data(await gql(stack.gateway, stack.headers(org, "auditor"), query, ids))
    assert mine["a"] == {
        "status": "IN_PROGRESS",
        "findings": [{"title": "No impact assessment for the CV screener", "status": "CLOSED"}],
    }
    assert mine["f"] == {"audit": {"title": "Risk and impact"}}
    assert mine["n"] == {"status": "CLOSED"} and mine["c"] == {"status": "CLOSED"}
    assert mine["p"]["title"] == "Programme 2027"
    assert mine["p"]["coverage"]["complete"] is False
    assert mine["p"]["coverage"]["clausesCovered"] >= 2
    other = data(await gql(stack.gateway, stack.headers(uuid.uuid4(), "admin"), query, ids))
    assert other == {"a": None, "f": None, "n": None, "c": None, "p": None}


async def test_an_auditor_raises_findings_but_does_not_plan_audits(
    stack: Stack, org: uuid.UUID
) -> None:
    refused = await mutate(stack, org, "auditor", PLAN, plan_input())
    assert refused["audit"] is None
    assert [e["__typename"] for e in refused["errors"]] == ["ForbiddenError"]
    listed = data(
        await gql(
            stack.gateway, stack.headers(org, "viewer"), "{ audits { edges { node { id } } } }"
        )
    )
    assert listed["audits"]["edges"] == []

    audit = await started_audit(stack, org)
    raised = await mutate(
        stack,
        org,
        "auditor",
        RAISE,
        {
            "auditId": audit["id"],
            "kind": "OBSERVATION",
            "title": "Training records are scattered",
            "links": [{"targetType": "CLAUSE", "targetId": "7.2"}],
        },
    )
    assert raised["errors"] == []
    assert raised["finding"]["nonconformity"] is None  # an observation opens none
    # A viewer may not; a finding on an audit of another organisation is not found.
    viewer = await mutate(
        stack,
        org,
        "viewer",
        RAISE,
        {
            "auditId": audit["id"],
            "kind": "OBSERVATION",
            "title": "x",
            "links": [{"targetType": "CLAUSE", "targetId": "7.2"}],
        },
    )
    assert [e["__typename"] for e in viewer["errors"]] == ["ForbiddenError"]
    foreign = await mutate(
        stack,
        uuid.uuid4(),
        "auditor",
        RAISE,
        {
            "auditId": audit["id"],
            "kind": "OBSERVATION",
            "title": "x",
            "links": [{"targetType": "CLAUSE", "targetId": "7.2"}],
        },
    )
    assert [e["__typename"] for e in foreign["errors"]] == ["NotFoundError"]
    # Bad input names the field.
    empty = await mutate(
        stack,
        org,
        "auditor",
        RAISE,
        {"auditId": audit["id"], "kind": "OBSERVATION", "title": "x", "links": []},
    )
    assert empty["finding"] is None
    assert empty["errors"][0]["__typename"] == "ValidationError"


async def system_with_owner(stack: Stack, org: uuid.UUID, owner: str) -> str:
    """A system registered in the inventory, once the evidence service knows its owner."""
    created = await rest_created(
        await stack.inventory.post(
            "/v1/ai-systems",
            json={"name": "CV screening", "owner": owner},
            headers=stack.headers(org, "contributor"),
        )
    )
    system_id = str(created["id"])

    async def projected() -> bool:
        seen = await stack.evidence.get(
            f"/v1/systems/{system_id}", headers=stack.headers(org, "viewer")
        )
        return seen.status_code == 200 and seen.json().get("owner") == owner

    await eventually(projected, timeout=60)
    return system_id


async def test_an_owner_of_a_system_in_scope_is_refused_with_the_reason(
    stack: Stack, org: uuid.UUID
) -> None:
    system_id = await system_with_owner(stack, org, "owner@example.com")
    refused = await mutate(
        stack,
        org,
        "manager",
        PLAN,
        plan_input(systemIds=[system_id], auditors=["owner@example.com"]),
    )
    assert refused["audit"] is None
    [error] = refused["errors"]
    assert error["__typename"] == "AuditorNotIndependentError"
    assert error["code"] == "auditor-not-independent"
    assert "owner@example.com" in error["message"]
    assert error["reasons"] == [
        {
            "auditor": "owner@example.com",
            "kind": "system_owner",
            "targetType": "system",
            "targetId": system_id,
            "detail": error["reasons"][0]["detail"],
        }
    ]
    assert "owner@example.com" in error["reasons"][0]["detail"]
    # Nothing was stored; an independent team may audit the same system.
    listed = data(
        await gql(
            stack.gateway, stack.headers(org, "viewer"), "{ audits { edges { node { id } } } }"
        )
    )
    assert listed["audits"]["edges"] == []
    fine = await mutate(
        stack,
        org,
        "manager",
        PLAN,
        plan_input(systemIds=[system_id], auditors=["other@example.com"]),
    )
    assert fine["errors"] == []
    assert fine["audit"]["aiSystems"] == [{"id": str(GlobalID("AISystem", system_id))}]


# --- Batching ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def counting(stack: Stack) -> AsyncIterator[CountingGateway]:
    async with counting_gateway(stack) as gateway:
        yield gateway


PAGE = """
query($first: Int!) { audits(first: $first) { edges { node {
  title programme { title }
  findings { title kind nonconformity { status actions { status owner } } }
} } } }
"""


async def arrange_audits(stack: Stack, org: uuid.UUID, count: int) -> None:
    """``count`` audits of one programme, each with a major nonconformity and its action,
    arranged over REST."""
    manager = stack.headers(org, "manager")
    programme = await rest_created(
        await stack.evidence.post(
            "/v1/audit-programmes",
            json={
                "title": "Cycle",
                "period_start": (TODAY - timedelta(days=10)).isoformat(),
                "period_end": (TODAY + timedelta(days=300)).isoformat(),
            },
            headers=manager,
        )
    )
    for i in range(count):
        audit = await rest_created(
            await stack.evidence.post(
                "/v1/audits",
                json={
                    "programme_id": programme["id"],
                    "title": f"Audit {i:02d}",
                    "planned_start": TODAY.isoformat(),
                    "planned_end": TODAY.isoformat(),
                    "clauses": ["9.2"],
                    "lead_auditor": "lead@example.com",
                },
                headers=manager,
            )
        )
        await rest_created(
            await stack.evidence.post(f"/v1/audits/{audit['id']}/start", headers=manager)
        )
        finding = await rest_created(
            await stack.evidence.post(
                f"/v1/audits/{audit['id']}/findings",
                json={
                    "kind": "major_nonconformity",
                    "title": f"Finding {i:02d}",
                    "links": [{"target_type": "clause", "target_id": "9.2"}],
                },
                headers=stack.headers(org, "auditor"),
            )
        )
        await rest_created(
            await stack.evidence.post(
                f"/v1/nonconformities/{finding['nonconformity_id']}/actions",
                json={
                    "description": "Fix it",
                    "owner": f"owner{i}@example.com",
                    "due_date": (TODAY + timedelta(days=30)).isoformat(),
                },
                headers=stack.headers(org, "contributor"),
            )
        )


async def test_a_page_of_audits_with_findings_costs_constant_upstream_calls(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    await arrange_audits(stack, org, 30)
    headers = stack.headers(org, "viewer")
    calls: dict[int, Counter[str]] = {}
    for size in (1, 10, 30):
        counting.transport.calls.clear()
        page = data(await gql(counting.client, headers, PAGE, {"first": size}))
        nodes = [e["node"] for e in page["audits"]["edges"]]
        assert [n["title"] for n in nodes] == [f"Audit {i:02d}" for i in range(size)]
        for i, node in enumerate(nodes):
            assert node["programme"] == {"title": "Cycle"}
            assert node["findings"] == [
                {
                    "title": f"Finding {i:02d}",
                    "kind": "MAJOR_NONCONFORMITY",
                    "nonconformity": {
                        "status": "ACTION_PLANNED",
                        "actions": [{"status": "PLANNED", "owner": f"owner{i}@example.com"}],
                    },
                }
            ]
        calls[size] = Counter(counting.transport.calls)
    # One page of audits, then one batch each of programmes, findings, nonconformities and
    # actions: whatever the size.
    assert calls[1] == calls[10] == calls[30]
    assert calls[30] == Counter(
        {
            "GET evidence/v1/audits": 1,
            "GET evidence/v1/audit-programmes": 1,
            "GET evidence/v1/findings": 1,
            "GET evidence/v1/nonconformities": 1,
            "GET evidence/v1/corrective-actions": 1,
        }
    )
