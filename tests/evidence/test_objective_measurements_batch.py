"""``GET /v1/objective-measurements``: the latest measurements of many objectives in one call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()


async def objective(stack: EvidenceStack, org: uuid.UUID, values: list[float]) -> str:
    headers = stack.headers(org, "contributor")
    created = await stack.evidence.post(
        "/v1/objectives",
        json={
            "title": "Accuracy",
            "measure": "Accuracy on the holdout set",
            "target_value": 0.9,
            "direction": "at_least",
            "owner": "owner@example.com",
            "due_date": (TODAY + timedelta(days=30)).isoformat(),
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    objective_id = str(created.json()["id"])
    # ``values`` are oldest first by date; recorded newest first, so that recording order and
    # date order differ.
    for days, value in enumerate(reversed(values)):
        recorded = await stack.evidence.post(
            f"/v1/objectives/{objective_id}/measurements",
            json={"value": value, "measured_on": (TODAY - timedelta(days=days)).isoformat()},
            headers=headers,
        )
        assert recorded.status_code == 201, recorded.text
    return objective_id


async def latest(
    stack: EvidenceStack, org: uuid.UUID, params: list[tuple[str, Any]]
) -> dict[str, Any]:
    response = await stack.evidence.get(
        "/v1/objective-measurements", params=params, headers=stack.headers(org, "auditor")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_each_objective_answers_its_latest_measurements_in_time_order(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    first = await objective(stack, org, [0.5, 0.6, 0.7, 0.95])
    second = await objective(stack, org, [0.8])
    never = await objective(stack, org, [])
    foreign = await objective(stack, uuid.uuid4(), [0.1])
    body = await latest(
        stack,
        org,
        [
            ("objective_id", second),
            ("objective_id", first),
            ("objective_id", never),
            ("objective_id", foreign),
            ("objective_id", first),
            ("last", 2),
        ],
    )
    answers = body["items"]
    # In the order asked, each once; another organisation's objective is absent.
    assert [a["objective_id"] for a in answers] == [second, first, never]
    assert [a["total_count"] for a in answers] == [1, 4, 0]
    assert [m["value"] for m in answers[1]["items"]] == [0.7, 0.95]
    assert [m["on_target"] for m in answers[1]["items"]] == [False, True]
    assert [m["value"] for m in answers[0]["items"]] == [0.8]
    assert answers[2]["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("objective_id", "not-a-uuid")],
        [("objective_id", str(uuid.uuid4())), ("last", 0)],
        [("objective_id", str(uuid.uuid4())), ("last", 101)],
        [("objective_id", str(uuid.uuid4())), ("last", 10**30)],
        [("objective_id", str(uuid.uuid4()))] * 101,
    ],
)
async def test_bad_requests_answer_422(
    evidence_stack: EvidenceStack, org: uuid.UUID, params: list[tuple[str, Any]]
) -> None:
    response = await evidence_stack.evidence.get(
        "/v1/objective-measurements", params=params, headers=evidence_stack.headers(org)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_parameter_is_refused_by_name(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    response = await evidence_stack.evidence.get(
        "/v1/objective-measurements",
        params={"objective_id": str(uuid.uuid4()), "latest": 3},
        headers=evidence_stack.headers(org),
    )
    assert response.status_code == 400, response.text
    assert "latest" in response.json()["detail"]
