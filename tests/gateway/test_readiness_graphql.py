"""Readiness, the remediation plan and the certification plan over GraphQL; against the real
services."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Stack
from tests.gateway.cycle_helpers import mutate
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()

READINESS = """
{ readiness {
    source asOf verdict verdictLabel verdictReason score blockersTotal
    blockerCounts { code count }
    rules { id stage passed blockerCodes }
    blockers { key code title whatToDo owner whereToFix stage severity count }
    clauses { clause status reason evidence { freshness approved } }
    controls { control status evidence { freshness items { id } } }
  }
  remediationPlan { count targetReachable tasks { priority stage code owner dueDate } }
  certificationPlan { id }
}
"""


async def test_an_empty_organisation_is_not_ready_and_says_why(
    stack: Stack, org: uuid.UUID
) -> None:
    found = data(await gql(stack.gateway, stack.headers(org, "auditor"), READINESS))
    readiness = found["readiness"]
    assert readiness["source"] == "LIVE" and readiness["asOf"]
    assert readiness["verdict"] == "NOT_READY" and readiness["verdictLabel"] == "not ready"
    assert readiness["verdictReason"]
    assert readiness["score"] < 50
    codes = {b["code"] for b in readiness["blockers"]}
    assert {
        "no_approved_scope",
        "no_approved_soa",
        "no_internal_audit",
        "control_without_evidence",
        "mandatory_documented_information_missing",
    } <= codes
    assert all(b["whatToDo"] and b["owner"] and b["whereToFix"] for b in readiness["blockers"])
    # Stage 1 blockers come first.
    stages = [b["stage"] for b in readiness["blockers"]]
    assert stages[0] == "STAGE1" and stages == sorted(stages)
    assert sum(c["count"] for c in readiness["blockerCounts"]) >= len(codes)
    scope_rule = next(r for r in readiness["rules"] if r["id"] == "stage1.scope")
    assert scope_rule["passed"] is False
    assert len(readiness["clauses"]) == 32 and readiness["clauses"][0]["clause"] == "4.1"
    assert len(readiness["controls"]) == 38
    assert all(c["evidence"]["items"] == [] for c in readiness["controls"])

    plan = found["remediationPlan"]
    assert plan["targetReachable"] is None
    assert [t["priority"] for t in plan["tasks"]] == list(range(1, plan["count"] + 1))
    assert plan["tasks"][0]["stage"] == "STAGE1"
    assert found["certificationPlan"] is None


SET_PLAN = """
mutation($input: SetCertificationPlanInput!) { setCertificationPlan(input: $input) {
  certificationPlan { version reachable targetDate
    milestones { id kind status version doneOn } }
  errors { __typename code ... on ValidationError { field } } } }
"""
DONE = """
mutation($input: MarkMilestoneDoneInput!) { markMilestoneDone(input: $input) {
  milestone { id status doneOn } errors { __typename code } } }
"""


async def test_a_certification_plan_is_set_and_its_milestones_marked_done(
    stack: Stack, org: uuid.UUID
) -> None:
    target = TODAY + timedelta(days=400)
    denied = await mutate(stack, org, "auditor", SET_PLAN, {"targetDate": target.isoformat()})
    assert [e["__typename"] for e in denied["errors"]] == ["ForbiddenError"]
    created = await mutate(
        stack,
        org,
        "manager",
        SET_PLAN,
        {"targetDate": target.isoformat(), "aimsLead": "lead@example.com"},
    )
    assert created["errors"] == [], created
    plan = created["certificationPlan"]
    assert plan["reachable"] is True and plan["version"] == 1
    kinds = [m["kind"] for m in plan["milestones"]]
    assert kinds[:6] == [
        "READINESS_ASSESSMENT",
        "REMEDIATION",
        "INTERNAL_AUDIT",
        "MANAGEMENT_REVIEW",
        "STAGE1_AUDIT",
        "STAGE2_AUDIT",
    ]
    # Replacing needs the version; a stale one is a conflict.
    missing = await mutate(stack, org, "manager", SET_PLAN, {"targetDate": target.isoformat()})
    assert [(e["__typename"], e.get("field")) for e in missing["errors"]] == [
        ("ValidationError", ["expectedVersion"])
    ]
    stale = await mutate(
        stack, org, "manager", SET_PLAN, {"targetDate": target.isoformat(), "expectedVersion": 7}
    )
    assert [e["__typename"] for e in stale["errors"]] == ["ConflictError"]

    first = plan["milestones"][0]
    done = await mutate(
        stack,
        org,
        "manager",
        DONE,
        {"id": first["id"], "expectedVersion": first["version"], "doneOn": TODAY.isoformat()},
    )
    assert done["errors"] == [], done
    assert done["milestone"] == {"id": first["id"], "status": "DONE", "doneOn": TODAY.isoformat()}

    node = "query($id: ID!) { node(id: $id) { ... on Milestone { kind status } } }"
    mine = data(await gql(stack.gateway, stack.headers(org, "viewer"), node, {"id": first["id"]}))
    assert mine["node"] == {"kind": "READINESS_ASSESSMENT", "status": "DONE"}
    other = uuid.uuid4()
    theirs = data(
        await gql(stack.gateway, stack.headers(other, "admin"), node, {"id": first["id"]})
    )
    assert theirs["node"] is None
    foreign = await mutate(
        stack, other, "admin", DONE, {"id": first["id"], "expectedVersion": 2, "done": False}
    )
    assert [e["__typename"] for e in foreign["errors"]] == ["NotFoundError"]
    read = data(
        await gql(
            stack.gateway,
            stack.headers(org, "auditor"),
            "{ certificationPlan { version milestones { status } } }",
        )
    )
    assert read["certificationPlan"]["milestones"][0]["status"] == "DONE"


async def test_readiness_recomputed_on_request_is_kept_in_the_history(
    stack: Stack, org: uuid.UUID
) -> None:
    recompute = "mutation { recomputeReadiness { readiness { verdict score } errors { code } } }"
    denied = data(await gql(stack.gateway, stack.headers(org, "viewer"), recompute))
    assert [e["code"] for e in denied["recomputeReadiness"]["errors"]] == ["forbidden"]
    done = data(await gql(stack.gateway, stack.headers(org, "contributor"), recompute))
    assert done["recomputeReadiness"]["errors"] == []
    assert done["recomputeReadiness"]["readiness"]["verdict"] == "NOT_READY"
    history = data(
        await gql(
            stack.gateway,
            stack.headers(org, "auditor"),
            "{ readinessHistory { edges { node { number verdict score trigger } } } }",
        )
    )
    [snapshot] = [e["node"] for e in history["readinessHistory"]["edges"]]
    assert snapshot["verdict"] == "NOT_READY"
    assert snapshot["score"] == done["recomputeReadiness"]["readiness"]["score"]
    # Asking as of a day before any snapshot is an error naming the reason.
    before = await gql(
        stack.gateway,
        stack.headers(org, "auditor"),
        '{ readiness(asOf: "2000-01-01") { verdict } }',
    )
    assert before["data"] is None
    assert before["errors"][0]["extensions"]["code"] == "readiness-snapshot-not-found"


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01T00:00:00+14:00"])
async def test_readiness_as_of_outside_the_calendar_is_a_typed_error(
    stack: Stack, org: uuid.UUID, as_of: str
) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, "viewer"),
        "query($at: String) { readiness(asOf: $at) { verdict } }",
        {"at": as_of},
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "invalid-as-of", body
    assert error["extensions"]["status"] == 422


async def test_a_target_in_year_one_is_a_validation_error_and_stores_no_plan(
    stack: Stack, org: uuid.UUID
) -> None:
    refused = await mutate(stack, org, "manager", SET_PLAN, {"targetDate": "0001-01-01"})
    assert [(e["__typename"], e.get("field")) for e in refused["errors"]] == [
        ("ValidationError", ["targetDate"])
    ]
    assert refused["certificationPlan"] is None
    found = data(await gql(stack.gateway, stack.headers(org, "viewer"), READINESS))
    assert found["certificationPlan"] is None
