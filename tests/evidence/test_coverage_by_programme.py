"""``GET /v1/coverage-by-programme``: the coverage of many audit programmes in one call, what
``/v1/audit-programmes/{id}/coverage`` answers for each."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.evidence.audit_helpers import audit, programme
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

PATH = "/v1/coverage-by-programme"


async def test_each_programme_answers_what_its_own_coverage_answers(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    headers = stack.headers(org, "auditor")
    covered = await programme(stack, org)
    await audit(stack, org, programme_id=covered["id"], clauses=["4", "9.2"], controls=["a.5.2"])
    await audit(stack, org, programme_id=covered["id"], clauses=["5"])
    empty = await programme(stack, org)
    foreign = await programme(stack, uuid.uuid4())
    asked = [empty["id"], covered["id"], foreign["id"], str(uuid.uuid4()), empty["id"]]
    response = await stack.evidence.get(
        PATH, params=[("programme_id", i) for i in asked], headers=headers
    )
    assert response.status_code == 200, response.text
    answers: list[dict[str, Any]] = response.json()["items"]
    # In the order asked, each once; another organisation's and unknown ones are absent.
    assert [a["programme_id"] for a in answers] == [empty["id"], covered["id"]]
    assert [a["audits_counted"] for a in answers] == [0, 2]
    for answer in answers:
        alone = await stack.evidence.get(
            f"/v1/audit-programmes/{answer['programme_id']}/coverage", headers=headers
        )
        assert alone.status_code == 200, alone.text
        assert alone.json() == answer
    gaps = {g["id"] for g in answers[1]["clause_gaps"]}
    assert "4.1" not in gaps and "5.1" not in gaps and "6.1.1" in gaps


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("programme_id", "not-a-uuid")],
        [("programme_id", str(uuid.uuid4()))] * 101,
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
        params={"programme_id": str(uuid.uuid4()), "id": str(uuid.uuid4())},
        headers=evidence_stack.headers(org),
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "unknown-query-parameter"
