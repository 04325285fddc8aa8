"""``GET /v1/measurements-by-objective``: the first page of measurements of many objectives in
one call, the page ``/v1/objectives/{id}/measurements`` answers for each."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.evidence.conftest import EvidenceStack
from tests.evidence.test_objective_measurements_batch import TODAY, objective

pytestmark = pytest.mark.engines

PATH = "/v1/measurements-by-objective"


async def by_objective(
    stack: EvidenceStack, org: uuid.UUID, params: list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    response = await stack.evidence.get(PATH, params=params, headers=stack.headers(org, "auditor"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def one_by_one(
    stack: EvidenceStack, org: uuid.UUID, objective_id: str, params: list[tuple[str, Any]]
) -> dict[str, Any]:
    response = await stack.evidence.get(
        f"/v1/objectives/{objective_id}/measurements",
        params=params,
        headers=stack.headers(org, "auditor"),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_objective_answers_the_first_page_its_own_endpoint_answers(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    # Values oldest first by date, one a day up to today.
    first = await objective(stack, org, [0.5, 0.6, 0.7, 0.95])
    second = await objective(stack, org, [0.8])
    never = await objective(stack, org, [])
    foreign = await objective(stack, uuid.uuid4(), [0.1])
    asked = [second, first, never, foreign, first]
    answers = await by_objective(stack, org, [*(("objective_id", i) for i in asked), ("limit", 2)])
    # In the order asked, each once; another organisation's objective is absent.
    assert [a["objective_id"] for a in answers] == [second, first, never]
    assert [m["value"] for m in answers[1]["items"]] == [0.5, 0.6]
    assert [m["on_target"] for m in answers[1]["items"]] == [False, False]
    assert answers[1]["next_cursor"] is not None
    assert [m["value"] for m in answers[0]["items"]] == [0.8]
    assert answers[0]["next_cursor"] is None
    assert answers[2] == {"objective_id": never, "items": [], "next_cursor": None}

    # The same page as the objective's own endpoint, and its cursor pages on there.
    alone = await one_by_one(stack, org, first, [("limit", 2)])
    assert alone == {"items": answers[1]["items"], "next_cursor": answers[1]["next_cursor"]}
    rest = await one_by_one(stack, org, first, [("limit", 2), ("after", answers[1]["next_cursor"])])
    assert [m["value"] for m in rest["items"]] == [0.7, 0.95]


async def test_since_and_until_bound_each_objective_as_on_its_own_endpoint(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    first = await objective(stack, org, [0.1, 0.2, 0.3, 0.4, 0.5])
    second = await objective(stack, org, [0.6, 0.7])
    window = [
        ("since", (TODAY - timedelta(days=3)).isoformat()),
        ("until", (TODAY - timedelta(days=1)).isoformat()),
    ]
    answers = await by_objective(
        stack, org, [("objective_id", first), ("objective_id", second), ("limit", 2), *window]
    )
    assert [m["value"] for m in answers[0]["items"]] == [0.2, 0.3]
    assert [m["value"] for m in answers[1]["items"]] == [0.6]
    assert answers[1]["next_cursor"] is None
    for answer, objective_id in zip(answers, (first, second), strict=True):
        alone = await one_by_one(stack, org, objective_id, [("limit", 2), *window])
        assert alone == {"items": answer["items"], "next_cursor": answer["next_cursor"]}
    rest = await one_by_one(
        stack, org, first, [("limit", 2), ("after", answers[0]["next_cursor"]), *window]
    )
    assert [m["value"] for m in rest["items"]] == [0.4]


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("limit", 2)],
        [("objective_id", "not-a-uuid")],
        [("objective_id", str(uuid.uuid4())), ("limit", 0)],
        [("objective_id", str(uuid.uuid4())), ("limit", 101)],
        [("objective_id", str(uuid.uuid4())), ("limit", 10**30)],
        [("objective_id", str(uuid.uuid4())), ("since", "yesterday")],
        [("objective_id", str(uuid.uuid4()))] * 101,
    ],
)
async def test_bad_requests_answer_422(
    evidence_stack: EvidenceStack, org: uuid.UUID, params: list[tuple[str, Any]]
) -> None:
    response = await evidence_stack.evidence.get(
        PATH, params=params, headers=evidence_stack.headers(org)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_parameter_is_refused_by_name(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    response = await evidence_stack.evidence.get(
        PATH,
        params={"objective_id": str(uuid.uuid4()), "after": "x"},
        headers=evidence_stack.headers(org),
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "unknown-query-parameter"
    assert "after" in response.json()["detail"]
