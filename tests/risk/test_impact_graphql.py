"""Impact assessments through the GraphQL gateway: typed errors, the required list, nodes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from nats.js import JetStreamContext

from tests.risk.test_impact import (
    COMPLETE,
    FRIA,
    PUBLIC_DEPLOYER,
    classify,
    editor,
    js,
    manager,
    put_system,
)

pytestmark = pytest.mark.engines
__all__ = ["js"]  # the fixture, re-used

CREATE = """
mutation Create($input: CreateImpactAssessmentInput!) {
  createImpactAssessment(input: $input) {
    impactAssessment { id status purpose createdBy version aiSystem { name } }
    errors { __typename message code ... on ValidationError { field } }
  }
}
"""
SUBMIT = """
mutation Submit($id: ID!) {
  submitImpactAssessment(id: $id) {
    impactAssessment { status }
    errors {
      __typename code
      ... on ImpactAssessmentIncompleteError { missing { field message } }
    }
  }
}
"""
APPROVE = """
mutation Approve($id: ID!) {
  approveImpactAssessment(id: $id) {
    impactAssessment { status approvedBy }
    errors {
      __typename
      ... on UserError { message code }
      ... on ImpactAssessmentIncompleteError { missing { field message } }
    }
  }
}
"""
REQUIRED = """
query Required($missing: Boolean!) {
  impactAssessmentsRequired(missing: $missing, first: 10) {
    pageInfo { hasNextPage }
    edges { cursor node { systemId name reasons hasCurrentAssessment latestStatus } }
  }
}
"""
LIST = """
query List($filter: ImpactAssessmentFilter) {
  impactAssessments(filter: $filter) { edges { node { id status systemId } } }
}
"""
NODE = """
query Node($id: ID!) { node(id: $id) { __typename ... on ImpactAssessment { status purpose } } }
"""


async def gql(
    stack: Any, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def graphql_input(system_id: uuid.UUID, contents: dict[str, Any]) -> dict[str, Any]:
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(p.title() for p in rest)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {camel(k): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if value in {"high", "medium", "low", "critical", "possible"}:
            return str(value).upper()
        return value

    return {"systemId": str(system_id), **convert(contents)}


async def test_workflow_and_typed_errors(stack: Any, js: JetStreamContext, org: uuid.UUID) -> None:
    system_id = await put_system(stack, js, org, sector="healthcare", name="Triage")
    alice, bob = editor(stack, org), manager(stack, org)

    bad = await gql(stack, alice, CREATE, {"input": {"systemId": str(system_id), "purpose": " "}})
    errors = bad["createImpactAssessment"]["errors"]
    assert errors[0]["__typename"] == "ValidationError" and errors[0]["field"] == ["purpose"]

    empty = await gql(stack, alice, CREATE, {"input": {"systemId": str(system_id)}})
    draft = empty["createImpactAssessment"]["impactAssessment"]
    assert draft["status"] == "DRAFT" and draft["createdBy"] == "alice"
    # An incomplete draft is refused at submission already: one typed error listing every
    # missing item, the same contract as approval (REST: 422 with `missing`).
    unsubmitted = await gql(stack, alice, SUBMIT, {"id": draft["id"]})
    assert unsubmitted["submitImpactAssessment"]["impactAssessment"] is None
    [incomplete] = unsubmitted["submitImpactAssessment"]["errors"]
    assert incomplete["__typename"] == "ImpactAssessmentIncompleteError"
    assert incomplete["code"] == "impact-assessment-incomplete"
    assert len(incomplete["missing"]) == 12
    assert ["nextReviewAt"] in [m["field"] for m in incomplete["missing"]]
    # Approving a draft is refused for its state (submit it first), complete or not.
    refused = await gql(stack, bob, APPROVE, {"id": draft["id"]})
    [still_draft] = refused["approveImpactAssessment"]["errors"]
    assert still_draft["__typename"] == "ConflictError"
    assert still_draft["code"] == "impact-assessment-invalid-transition"

    # Submitted complete, then the facts change: the system is classified so that Art. 27(1)
    # binds the organisation. Approval re-checks and lists the Art. 27(1)(a)-(f) items.
    submitted = await gql(stack, alice, CREATE, {"input": graphql_input(system_id, COMPLETE)})
    stale = submitted["createImpactAssessment"]["impactAssessment"]
    in_review = await gql(stack, alice, SUBMIT, {"id": stale["id"]})
    assert in_review["submitImpactAssessment"] == {
        "impactAssessment": {"status": "IN_REVIEW"},
        "errors": [],
    }
    await classify(stack, org, system_id, **PUBLIC_DEPLOYER)
    outdated = await gql(stack, bob, APPROVE, {"id": stale["id"]})
    assert outdated["approveImpactAssessment"]["impactAssessment"] is None
    [short] = outdated["approveImpactAssessment"]["errors"]
    assert short["__typename"] == "ImpactAssessmentIncompleteError"
    assert short["code"] == "impact-assessment-incomplete"
    assert {tuple(m["field"]) for m in short["missing"]} == {
        ("fundamentalRights", "deployerProcess"),
        ("fundamentalRights", "periodAndFrequencyOfUse"),
        ("fundamentalRights", "affectedPersonCategories"),
        ("fundamentalRights", "specificRisksOfHarm"),
        ("fundamentalRights", "humanOversightMeasures"),
        ("fundamentalRights", "measuresIfRisksMaterialise"),
    }
    assert all("Art. 27(1) binds your organisation" in m["message"] for m in short["missing"])

    full = await gql(
        stack,
        alice,
        CREATE,
        {"input": graphql_input(system_id, {**COMPLETE, "fundamental_rights": FRIA})},
    )
    assessment = full["createImpactAssessment"]["impactAssessment"]
    assert full["createImpactAssessment"]["errors"] == []
    await gql(stack, alice, SUBMIT, {"id": assessment["id"]})
    own = await gql(stack, alice, APPROVE, {"id": assessment["id"]})
    assert own["approveImpactAssessment"]["errors"][0]["__typename"] == "ForbiddenError"
    approved = await gql(stack, bob, APPROVE, {"id": assessment["id"]})
    assert approved["approveImpactAssessment"]["impactAssessment"] == {
        "status": "APPROVED",
        "approvedBy": "bob",
    }

    required = await gql(stack, alice, REQUIRED, {"missing": False})
    [row] = [e["node"] for e in required["impactAssessmentsRequired"]["edges"]]
    assert row["systemId"] == str(system_id)
    assert row["reasons"] == ["EU_AI_ACT_ART_27", "SENSITIVE_SECTOR"]
    assert row["hasCurrentAssessment"] is True and row["latestStatus"] == "APPROVED"
    missing = await gql(stack, alice, REQUIRED, {"missing": True})
    assert missing["impactAssessmentsRequired"]["edges"] == []

    listed = await gql(
        stack, alice, LIST, {"filter": {"systemIds": [str(system_id)], "statuses": ["APPROVED"]}}
    )
    assert [e["node"]["id"] for e in listed["impactAssessments"]["edges"]] == [assessment["id"]]
    node = await gql(stack, alice, NODE, {"id": assessment["id"]})
    assert node["node"]["__typename"] == "ImpactAssessment"
    other = await gql(stack, stack.headers(uuid.uuid4(), "admin"), NODE, {"id": assessment["id"]})
    assert other["node"] is None
