"""Competence and awareness over GraphQL (people, competences, AIMS roles, trainings, gaps);
against the real services."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import Stack
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines


async def mutate(
    stack: Stack, org: uuid.UUID, role: str, query: str, input: dict[str, Any]
) -> dict[str, Any]:
    found = data(await gql(stack.gateway, stack.headers(org, role), query, {"input": input}))
    [payload] = found.values()
    result: dict[str, Any] = payload
    return result


PERSON = """
mutation($input: CreatePersonInput!) { createPerson(input: $input) {
  person { id name department active version } errors { __typename code } } }
"""
COMPETENCE = """
mutation($input: CreateCompetenceInput!) { createCompetence(input: $input) {
  competence { id name awareness validityMonths } errors { __typename code } } }
"""
ROLE = """
mutation($input: CreateAIMSRoleInput!) { createAIMSRole(input: $input) {
  aimsRole { id name requiredCompetences { name } } errors { __typename code } } }
"""
ASSIGN = """
mutation($input: AssignAIMSRoleInput!) { assignAIMSRole(input: $input) {
  assignment { current person { name } } errors { __typename code } } }
"""
TRAINING = """
mutation($input: RecordTrainingInput!) { recordTraining(input: $input) {
  training { id valid version evaluationResult person { name } competence { name } }
  errors { __typename code ... on ValidationError { field } } } }
"""
EVALUATE = """
mutation($input: UpdateTrainingInput!) { updateTraining(input: $input) {
  training { valid evaluationResult } errors { __typename code } } }
"""
GAPS = """
{ competenceGaps { edges { node {
    roleName noHolders role { name holders { name } }
    gaps { personName competenceName reason } } } } }
"""


async def test_a_role_gap_closes_once_an_effective_training_is_recorded(
    stack: Stack, org: uuid.UUID
) -> None:
    ada = (await mutate(stack, org, "contributor", PERSON, {"name": "Ada", "department": "ML"}))[
        "person"
    ]
    risk = (await mutate(stack, org, "contributor", COMPETENCE, {"name": "AI risk assessment"}))[
        "competence"
    ]
    role = await mutate(
        stack,
        org,
        "contributor",
        ROLE,
        {"name": "Risk assessor", "requiredCompetenceIds": [risk["id"]]},
    )
    assert role["aimsRole"]["requiredCompetences"] == [{"name": "AI risk assessment"}]
    assigned = await mutate(
        stack,
        org,
        "contributor",
        ASSIGN,
        {"roleId": role["aimsRole"]["id"], "personId": ada["id"]},
    )
    assert assigned["assignment"] == {"current": True, "person": {"name": "Ada"}}

    viewer = stack.headers(org, "viewer")
    gaps = data(await gql(stack.gateway, viewer, GAPS))["competenceGaps"]["edges"]
    assert [g["node"]["gaps"] for g in gaps] == [
        [{"personName": "Ada", "competenceName": "AI risk assessment", "reason": "NEVER_TRAINED"}]
    ]
    assert gaps[0]["node"]["role"] == {"name": "Risk assessor", "holders": [{"name": "Ada"}]}

    trained = await mutate(
        stack,
        org,
        "contributor",
        TRAINING,
        {
            "personId": ada["id"],
            "competenceId": risk["id"],
            "title": "Risk workshop",
            "completedAt": (date.today() - timedelta(days=1)).isoformat(),
        },
    )
    assert trained["errors"] == []
    assert trained["training"]["valid"] is False  # not evaluated yet
    assert trained["training"]["person"] == {"name": "Ada"}
    pending = data(await gql(stack.gateway, viewer, GAPS))["competenceGaps"]["edges"]
    assert pending[0]["node"]["gaps"][0]["reason"] == "EVALUATION_PENDING"

    evaluated = await mutate(
        stack,
        org,
        "contributor",
        EVALUATE,
        {
            "id": trained["training"]["id"],
            "expectedVersion": trained["training"]["version"],
            "evaluationMethod": "TEST",
            "evaluationResult": "EFFECTIVE",
            "evaluatedAt": date.today().isoformat(),
        },
    )
    assert evaluated["training"] == {"valid": True, "evaluationResult": "EFFECTIVE"}
    assert data(await gql(stack.gateway, viewer, GAPS))["competenceGaps"]["edges"] == []

    # Person and Training resolve as nodes, with the person's trainings.
    node = """
      query($p: ID!, $t: ID!) {
        p: node(id: $p) { ... on Person { name trainings { edges { node { title valid } } } } }
        t: node(id: $t) { ... on Training { title competence { name } } }
      }
    """
    found = data(
        await gql(
            stack.gateway,
            stack.headers(org, "auditor"),
            node,
            {"p": ada["id"], "t": trained["training"]["id"]},
        )
    )
    assert found["p"] == {
        "name": "Ada",
        "trainings": {"edges": [{"node": {"title": "Risk workshop", "valid": True}}]},
    }
    assert found["t"] == {"title": "Risk workshop", "competence": {"name": "AI risk assessment"}}
    other = data(
        await gql(
            stack.gateway,
            stack.headers(uuid.uuid4(), "admin"),
            node,
            {"p": ada["id"], "t": trained["training"]["id"]},
        )
    )
    assert other == {"p": None, "t": None}


async def test_awareness_coverage_by_department(stack: Stack, org: uuid.UUID) -> None:
    topic = (
        await mutate(
            stack, org, "contributor", COMPETENCE, {"name": "AI policy", "awareness": True}
        )
    )["competence"]
    aware = (await mutate(stack, org, "contributor", PERSON, {"name": "Bo", "department": "HR"}))[
        "person"
    ]
    await mutate(stack, org, "contributor", PERSON, {"name": "Cy", "department": "HR"})
    await mutate(
        stack,
        org,
        "contributor",
        TRAINING,
        {
            "personId": aware["id"],
            "competenceId": topic["id"],
            "title": "Policy briefing",
            "completedAt": date.today().isoformat(),
            "evaluationResult": "EFFECTIVE",
        },
    )
    query = """
      { competenceAwareness { people covered topics { name }
          departments { department people covered missing { personName missing { reason } } } } }
    """
    report = data(await gql(stack.gateway, stack.headers(org, "viewer"), query))
    awareness = report["competenceAwareness"]
    assert (awareness["people"], awareness["covered"]) == (2, 1)
    assert awareness["topics"] == [{"name": "AI policy"}]
    assert awareness["departments"] == [
        {
            "department": "HR",
            "people": 2,
            "covered": 1,
            "missing": [{"personName": "Cy", "missing": [{"reason": "NEVER_TRAINED"}]}],
        }
    ]


async def test_mistakes_and_missing_roles_come_back_as_typed_errors(
    stack: Stack, org: uuid.UUID
) -> None:
    refused = await mutate(stack, org, "viewer", PERSON, {"name": "Dee"})
    assert refused["person"] is None
    assert [e["__typename"] for e in refused["errors"]] == ["ForbiddenError"]
    invalid = await mutate(stack, org, "contributor", PERSON, {"name": "Dee", "email": "nope"})
    assert invalid["person"] is None
    assert invalid["errors"][0]["__typename"] == "ValidationError"
    people = data(
        await gql(
            stack.gateway, stack.headers(org, "viewer"), "{ people { edges { node { id } } } }"
        )
    )
    assert people["people"]["edges"] == []


async def test_someone_with_trainings_is_deactivated_not_deleted(
    stack: Stack, org: uuid.UUID
) -> None:
    trained = (await mutate(stack, org, "contributor", PERSON, {"name": "Eve"}))["person"]
    mistaken = (await mutate(stack, org, "contributor", PERSON, {"name": "Typo"}))["person"]
    topic = (await mutate(stack, org, "contributor", COMPETENCE, {"name": "Data quality"}))[
        "competence"
    ]
    await mutate(
        stack,
        org,
        "contributor",
        TRAINING,
        {
            "personId": trained["id"],
            "competenceId": topic["id"],
            "title": "Data quality course",
            "completedAt": date.today().isoformat(),
        },
    )
    delete = """
      mutation($input: DeletePersonInput!) { deletePerson(input: $input) {
        deletedPersonId errors { __typename code } } }
    """
    refused = await mutate(
        stack, org, "manager", delete, {"id": trained["id"], "expectedVersion": trained["version"]}
    )
    assert refused["deletedPersonId"] is None
    assert [e["__typename"] for e in refused["errors"]] == ["ConflictError"]
    deleted = await mutate(
        stack,
        org,
        "manager",
        delete,
        {"id": mistaken["id"], "expectedVersion": mistaken["version"]},
    )
    assert deleted == {"deletedPersonId": mistaken["id"], "errors": []}

    update = """
      mutation($input: UpdatePersonInput!) { updatePerson(input: $input) {
        person { name active } errors { __typename } } }
    """
    stale = await mutate(
        stack,
        org,
        "contributor",
        update,
        {"id": trained["id"], "expectedVersion": 99, "active": False},
    )
    assert [e["__typename"] for e in stale["errors"]] == ["ConflictError"]
    left = await mutate(
        stack,
        org,
        "contributor",
        update,
        {"id": trained["id"], "expectedVersion": trained["version"], "active": False},
    )
    assert left["person"] == {"name": "Eve", "active": False}
    listed = data(
        await gql(
            stack.gateway,
            stack.headers(org, "viewer"),
            "{ people(filter: {active: true}) { edges { node { name } } } }",
        )
    )
    assert listed["people"]["edges"] == []
