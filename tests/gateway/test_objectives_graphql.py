"""AI objectives and management reviews over GraphQL, and the batching of a page of objectives
with their measurements; against the real services."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Stack
from tests.gateway.cycle_helpers import CountingGateway, counting_gateway, mutate, rest_created
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()

CREATE = """
mutation($input: CreateObjectiveInput!) { createObjective(input: $input) {
  objective { id title status onTarget latestValue measurementCount version direction }
  errors { __typename code message ... on ValidationError { field } } } }
"""
MEASURE = """
mutation($input: RecordMeasurementInput!) { recordMeasurement(input: $input) {
  measurement { value onTarget measuredOn }
  objective { latestValue onTarget measurementCount }
  errors { __typename code } } }
"""


def objective_input(**kw: Any) -> dict[str, Any]:
    return {
        "title": "Keep the CV screener's false-negative rate low",
        "measure": "False-negative rate",
        "unit": "%",
        "targetValue": 2.0,
        "direction": "AT_MOST",
        "owner": "head-of-ml@example.com",
        "dueDate": (TODAY + timedelta(days=180)).isoformat(),
        "clauses": ["6.2"],
        **kw,
    }


async def test_an_objective_off_target_is_visible_after_a_measurement(
    stack: Stack, org: uuid.UUID
) -> None:
    created = await mutate(stack, org, "contributor", CREATE, objective_input())
    assert created["errors"] == []
    objective = created["objective"]
    assert objective["onTarget"] is None and objective["measurementCount"] == 0

    on = await mutate(
        stack,
        org,
        "contributor",
        MEASURE,
        {
            "objectiveId": objective["id"],
            "value": 1.5,
            "measuredOn": (TODAY - timedelta(days=7)).isoformat(),
        },
    )
    assert on["errors"] == []
    assert on["measurement"]["onTarget"] is True
    off = await mutate(
        stack, org, "contributor", MEASURE, {"objectiveId": objective["id"], "value": 3.2}
    )
    assert off["measurement"] == {"value": 3.2, "onTarget": False, "measuredOn": TODAY.isoformat()}
    assert off["objective"] == {"latestValue": 3.2, "onTarget": False, "measurementCount": 2}

    query = """
      { objectives(filter: {offTarget: true}) { edges { node {
          title onTarget latestMeasurements(last: 5) { value onTarget }
          measurements(first: 1) { pageInfo { hasNextPage } edges { node { value } } } } } } }
    """
    found = data(await gql(stack.gateway, stack.headers(org, "auditor"), query))
    [node] = [e["node"] for e in found["objectives"]["edges"]]
    assert node["onTarget"] is False
    assert node["latestMeasurements"] == [
        {"value": 1.5, "onTarget": True},
        {"value": 3.2, "onTarget": False},
    ]
    assert node["measurements"] == {
        "pageInfo": {"hasNextPage": True},
        "edges": [{"node": {"value": 1.5}}],
    }

    # Read back as a node; another organisation gets null and cannot measure it.
    node_query = "query($id: ID!) { node(id: $id) { ... on Objective { title latestValue } } }"
    mine = data(await gql(stack.gateway, stack.headers(org), node_query, {"id": objective["id"]}))
    assert mine["node"] == {"title": objective["title"], "latestValue": 3.2}
    other = uuid.uuid4()
    theirs = data(
        await gql(stack.gateway, stack.headers(other), node_query, {"id": objective["id"]})
    )
    assert theirs["node"] is None
    foreign = await mutate(
        stack, other, "contributor", MEASURE, {"objectiveId": objective["id"], "value": 1.0}
    )
    assert [e["__typename"] for e in foreign["errors"]] == ["NotFoundError"]


async def test_mistakes_come_back_as_typed_errors(stack: Stack, org: uuid.UUID) -> None:
    denied = await mutate(stack, org, "auditor", CREATE, objective_input())
    assert denied["objective"] is None
    assert [e["__typename"] for e in denied["errors"]] == ["ForbiddenError"]
    unknown = await mutate(stack, org, "contributor", CREATE, objective_input(clauses=["99.9"]))
    assert unknown["objective"] is None
    assert unknown["errors"][0]["__typename"] == "ValidationError"
    nul = await mutate(stack, org, "contributor", CREATE, objective_input(title="a\u0000b"))
    assert nul["errors"][0]["__typename"] == "ValidationError"
    assert nul["errors"][0]["field"] == ["title"]
    created = await mutate(stack, org, "contributor", CREATE, objective_input())
    update = """
      mutation($input: UpdateObjectiveInput!) { updateObjective(input: $input) {
        objective { targetValue onTarget } errors { __typename code } } }
    """
    stale = await mutate(
        stack,
        org,
        "contributor",
        update,
        {"id": created["objective"]["id"], "expectedVersion": 99, "targetValue": 5.0},
    )
    assert [e["__typename"] for e in stale["errors"]] == ["ConflictError"]
    listed = data(
        await gql(stack.gateway, stack.headers(org), "{ objectives { edges { node { title } } } }")
    )
    assert len(listed["objectives"]["edges"]) == 1  # nothing else was stored


REVIEW = """
mutation($input: CreateManagementReviewInput!) { createManagementReview(input: $input) {
  managementReview { id status version prefillAsOf
    inputs { section autoNote notes } }
  errors { __typename code } } }
"""
ACTION = """
mutation($input: AddManagementReviewActionInput!) { addManagementReviewAction(input: $input) {
  action { id status review { title version } } errors { __typename code } } }
"""
HOLD = """
mutation($input: HoldManagementReviewInput!) { holdManagementReview(input: $input) {
  managementReview { status heldOn attendees version } errors { __typename code } } }
"""
CLOSE = """
mutation($input: CloseManagementReviewInput!) { closeManagementReview(input: $input) {
  managementReview { status decisions openActionCount
    actions { edges { node { title status overdue } } } }
  errors { __typename code } } }
"""


async def test_a_management_review_is_planned_held_and_closed_with_its_actions(
    stack: Stack, org: uuid.UUID
) -> None:
    created = await mutate(
        stack,
        org,
        "contributor",
        REVIEW,
        {
            "title": "AIMS management review",
            "reviewDate": TODAY.isoformat(),
            "notes": [{"section": "CHANGES_IN_ISSUES", "notes": "New AI Act guidance."}],
        },
    )
    assert created["errors"] == [], created
    review = created["managementReview"]
    assert review["status"] == "PLANNED" and review["prefillAsOf"] == TODAY.isoformat()
    sections = {i["section"]: i for i in review["inputs"]}
    assert {"PREVIOUS_ACTIONS", "PERFORMANCE", "OBJECTIVES", "RISKS"} <= set(sections)
    assert sections["CHANGES_IN_ISSUES"]["notes"] == "New AI Act guidance."

    action = await mutate(
        stack,
        org,
        "contributor",
        ACTION,
        {
            "reviewId": review["id"],
            "title": "Extend bias testing",
            "owner": "head-of-ml@example.com",
            "dueDate": (TODAY + timedelta(days=60)).isoformat(),
        },
    )
    assert action["errors"] == []
    assert action["action"]["review"]["title"] == "AIMS management review"
    version = action["action"]["review"]["version"]

    # Holding is top management's: a contributor is refused.
    refused = await mutate(
        stack,
        org,
        "contributor",
        HOLD,
        {"id": review["id"], "expectedVersion": version, "attendees": ["CEO"]},
    )
    assert [e["__typename"] for e in refused["errors"]] == ["ForbiddenError"]
    held = await mutate(
        stack,
        org,
        "manager",
        HOLD,
        {"id": review["id"], "expectedVersion": version, "attendees": ["CEO", "DPO"]},
    )
    assert held["errors"] == [], held
    assert held["managementReview"]["status"] == "HELD"
    assert held["managementReview"]["attendees"] == ["CEO", "DPO"]
    closed = await mutate(
        stack,
        org,
        "manager",
        CLOSE,
        {
            "id": review["id"],
            "expectedVersion": held["managementReview"]["version"],
            "decisions": ["Fund the bias testing work."],
        },
    )
    assert closed["errors"] == [], closed
    assert closed["managementReview"]["status"] == "CLOSED"
    assert closed["managementReview"]["decisions"] == ["Fund the bias testing work."]
    assert closed["managementReview"]["openActionCount"] == 1
    assert closed["managementReview"]["actions"]["edges"] == [
        {"node": {"title": "Extend bias testing", "status": "OPEN", "overdue": False}}
    ]
    # Closed is final: another action is a ConflictError.
    late = await mutate(
        stack,
        org,
        "contributor",
        ACTION,
        {
            "reviewId": review["id"],
            "title": "Too late",
            "owner": "x@example.com",
            "dueDate": TODAY.isoformat(),
        },
    )
    assert [e["__typename"] for e in late["errors"]] == ["ConflictError"]
    tracked = data(
        await gql(
            stack.gateway,
            stack.headers(org, "auditor"),
            "{ managementReviewActions(filter: {statuses: [OPEN]}) "
            "{ edges { node { title review { status } } } } }",
        )
    )
    assert tracked["managementReviewActions"]["edges"] == [
        {"node": {"title": "Extend bias testing", "review": {"status": "CLOSED"}}}
    ]


# --- Batching ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def counting(stack: Stack) -> AsyncIterator[CountingGateway]:
    async with counting_gateway(stack) as gateway:
        yield gateway


PAGE = """
query($first: Int!) { objectives(first: $first) { edges { node {
  title onTarget latestMeasurements(last: 3) { value measuredOn }
} } } }
"""


async def test_a_page_of_objectives_with_measurements_costs_constant_upstream_calls(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    headers = stack.headers(org, "contributor")
    for i in range(30):
        objective = await rest_created(
            await stack.evidence.post(
                "/v1/objectives",
                json={
                    "title": f"Objective {i:02d}",
                    "measure": "Accuracy",
                    "target_value": 0.9,
                    "direction": "at_least",
                    "owner": "owner@example.com",
                    "due_date": (TODAY + timedelta(days=90)).isoformat(),
                },
                headers=headers,
            )
        )
        for days, value in ((3, 0.8), (2, 0.85), (1, 0.95), (0, 0.5 + i / 100)):
            await rest_created(
                await stack.evidence.post(
                    f"/v1/objectives/{objective['id']}/measurements",
                    json={
                        "value": value,
                        "measured_on": (TODAY - timedelta(days=days)).isoformat(),
                    },
                    headers=headers,
                )
            )
    viewer = stack.headers(org, "viewer")
    calls: dict[int, Counter[str]] = {}
    for size in (1, 10, 30):
        counting.transport.calls.clear()
        page = data(await gql(counting.client, viewer, PAGE, {"first": size}))
        nodes = [e["node"] for e in page["objectives"]["edges"]]
        assert [n["title"] for n in nodes] == [f"Objective {i:02d}" for i in range(size)]
        for i, node in enumerate(nodes):
            assert node["onTarget"] is False
            # The latest three, in time order.
            assert [m["value"] for m in node["latestMeasurements"]] == [0.85, 0.95, 0.5 + i / 100]
        calls[size] = Counter(counting.transport.calls)
    assert calls[1] == calls[10] == calls[30]
    assert calls[30] == Counter(
        {"GET evidence/v1/objectives": 1, "GET evidence/v1/objective-measurements": 1}
    )
