"""Issue 8 over GraphQL: readiness as of an earlier time (from the snapshot current then), and
a certification target that can no longer be reached, with its overdue milestones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Stack
from tests.gateway.cycle_helpers import mutate
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()

AS_OF = """
query($at: String) { readiness(asOf: $at) {
  source asOf verdict verdictLabel verdictReason score blockersTotal
  rules { id passed }
  blockers { key code whatToDo owner whereToFix stage }
  clauses { clause status reason }
  controls { control status }
} }
"""


async def test_readiness_as_of_an_earlier_time_answers_from_the_snapshot_then(
    stack: Stack, org: uuid.UUID
) -> None:
    recompute = "mutation { recomputeReadiness { readiness { score } errors { code } } }"
    done = data(await gql(stack.gateway, stack.headers(org, "contributor"), recompute))
    assert done["recomputeReadiness"]["errors"] == []
    history = data(
        await gql(
            stack.gateway,
            stack.headers(org, "auditor"),
            "{ readinessHistory { edges { node { id computedAt verdict score blockersTotal } } } }",
        )
    )
    [snapshot] = [e["node"] for e in history["readinessHistory"]["edges"]]

    then = data(
        await gql(
            stack.gateway, stack.headers(org, "auditor"), AS_OF, {"at": snapshot["computedAt"]}
        )
    )["readiness"]
    assert then["source"] == "SNAPSHOT"
    assert (then["verdict"], then["score"]) == (snapshot["verdict"], snapshot["score"])
    assert then["blockersTotal"] == snapshot["blockersTotal"] and then["blockers"]
    assert all(b["whatToDo"] and b["owner"] and b["whereToFix"] for b in then["blockers"])
    assert then["verdictReason"].startswith("Stage 1 needs:")
    now = data(await gql(stack.gateway, stack.headers(org, "auditor"), AS_OF, {"at": None}))
    assert now["readiness"]["source"] == "LIVE" and len(now["readiness"]["clauses"]) == 32
    # Nothing changed since: the snapshot's clause and control statuses are today's.
    assert then["clauses"] == now["readiness"]["clauses"]
    assert then["controls"] == now["readiness"]["controls"] and len(then["controls"]) == 38


SET_PLAN = """
mutation($input: SetCertificationPlanInput!) { setCertificationPlan(input: $input) {
  certificationPlan { reachable compressed reason stage2Start earliestStage2Start
    milestones { kind title status plannedStart plannedEnd } }
  errors { code } } }
"""


async def test_a_target_too_near_is_no_longer_reachable_and_says_when_it_could_be(
    stack: Stack, org: uuid.UUID
) -> None:
    target = TODAY + timedelta(days=45)
    result = await mutate(stack, org, "manager", SET_PLAN, {"targetDate": target.isoformat()})
    assert result["errors"] == [], result
    plan = result["certificationPlan"]
    assert plan["reachable"] is False and plan["compressed"] is False
    assert "no longer reachable" in plan["reason"]
    assert plan["earliestStage2Start"] > plan["stage2Start"] == target.isoformat()
    kinds = [m["kind"] for m in plan["milestones"]]
    assert kinds == [
        "READINESS_ASSESSMENT",
        "REMEDIATION",
        "INTERNAL_AUDIT",
        "MANAGEMENT_REVIEW",
        "STAGE1_AUDIT",
        "STAGE2_AUDIT",
        "SURVEILLANCE_AUDIT_1",
        "SURVEILLANCE_AUDIT_2",
        "RECERTIFICATION_AUDIT",
    ]
    by_kind = {m["kind"]: m for m in plan["milestones"]}
    # Planned backwards with the chosen durations: the first ones already lie in the past.
    assert by_kind["READINESS_ASSESSMENT"]["status"] == "OVERDUE"
    assert "4–8 weeks" in by_kind["READINESS_ASSESSMENT"]["title"]
    assert "3–6 months" in by_kind["REMEDIATION"]["title"]
    assert "1–2 days" in by_kind["STAGE1_AUDIT"]["title"]
    assert "3–9+ days" in by_kind["STAGE2_AUDIT"]["title"]
    assert by_kind["STAGE2_AUDIT"]["status"] == "PLANNED"
    recert = datetime.fromisoformat(by_kind["RECERTIFICATION_AUDIT"]["plannedStart"]).date()
    assert target + timedelta(days=365 * 2) < recert < target + timedelta(days=365 * 3)
