"""``Objective.measurements`` and ``AuditProgramme.coverage`` on a page of parents: one upstream
call for the whole page, the same answers as asking one parent at a time, and the first page's
cursors page on; against the real services."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Stack
from tests.gateway.cycle_helpers import CountingGateway, counting_gateway, rest_created
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
async def counting(stack: Stack) -> AsyncIterator[CountingGateway]:
    async with counting_gateway(stack) as gateway:
        yield gateway


async def objective(stack: Stack, org: uuid.UUID, title: str, values: list[float]) -> str:
    """An objective with ``values`` measured one a day, the last today."""
    headers = stack.headers(org, "contributor")
    created = await rest_created(
        await stack.evidence.post(
            "/v1/objectives",
            json={
                "title": title,
                "measure": "Accuracy",
                "target_value": 0.9,
                "direction": "at_least",
                "owner": "owner@example.com",
                "due_date": (TODAY + timedelta(days=90)).isoformat(),
            },
            headers=headers,
        )
    )
    for days, value in enumerate(reversed(values)):
        await rest_created(
            await stack.evidence.post(
                f"/v1/objectives/{created['id']}/measurements",
                json={"value": value, "measured_on": (TODAY - timedelta(days=days)).isoformat()},
                headers=headers,
            )
        )
    return str(created["id"])


MEASUREMENTS = """
query($first: Int!, $since: Date, $until: Date) { objectives(first: 10) { edges { node {
  id title measurements(first: $first, since: $since, until: $until) {
    pageInfo { hasNextPage endCursor } edges { node { value onTarget } } }
} } } }
"""
REST_OF_ONE = """
query($id: ID!, $first: Int!, $after: String, $since: Date, $until: Date) { node(id: $id) {
  ... on Objective { measurements(first: $first, after: $after, since: $since, until: $until) {
    pageInfo { hasNextPage } edges { node { value } } } } } }
"""


def values(connection: dict[str, Any]) -> list[float]:
    return [e["node"]["value"] for e in connection["edges"]]


async def test_a_page_of_objectives_lists_their_measurements_in_one_call_and_pages_on(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    await objective(stack, org, "A", [0.1, 0.2, 0.3, 0.4, 0.95])
    await objective(stack, org, "B", [0.6, 0.7])
    await objective(stack, org, "C", [])
    viewer = stack.headers(org, "viewer")
    window = {
        "since": (TODAY - timedelta(days=3)).isoformat(),
        "until": TODAY.isoformat(),
    }

    counting.transport.calls.clear()
    page = data(await gql(counting.client, viewer, MEASUREMENTS, {"first": 2, **window}))
    assert Counter(counting.transport.calls) == Counter(
        {"GET evidence/v1/objectives": 1, "GET evidence/v1/measurements-by-objective": 1}
    )
    nodes = {n["title"]: n for n in (e["node"] for e in page["objectives"]["edges"])}
    a, b, c = (nodes[t]["measurements"] for t in "ABC")
    assert values(a) == [0.2, 0.3] and a["pageInfo"]["hasNextPage"] is True
    assert values(b) == [0.6, 0.7] and b["pageInfo"]["hasNextPage"] is False
    assert values(c) == [] and c["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["onTarget"] for e in a["edges"]] == [False, False]

    # The first page's cursor pages on within the same window.
    rest = data(
        await gql(
            counting.client,
            viewer,
            REST_OF_ONE,
            {"id": nodes["A"]["id"], "first": 2, "after": a["pageInfo"]["endCursor"], **window},
        )
    )["node"]["measurements"]
    assert values(rest) == [0.4, 0.95] and rest["pageInfo"]["hasNextPage"] is False

    # Without a window: every measurement from the first.
    whole = data(await gql(counting.client, viewer, MEASUREMENTS, {"first": 10}))
    first = {e["node"]["title"]: e["node"] for e in whole["objectives"]["edges"]}
    assert values(first["A"]["measurements"]) == [0.1, 0.2, 0.3, 0.4, 0.95]


COVERAGE = """
query { auditProgrammes(first: 10) { edges { node {
  title coverage { auditsCounted clausesCovered clauseGaps { id } complete }
} } } }
"""


async def test_a_page_of_programmes_answers_each_coverage_from_one_call(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    manager = stack.headers(org, "manager")
    period = {
        "period_start": (TODAY - timedelta(days=10)).isoformat(),
        "period_end": (TODAY + timedelta(days=300)).isoformat(),
    }
    ids: dict[str, str] = {}
    for title, clauses in (("Covering", ["4", "9.2"]), ("Other", ["5"]), ("Empty", [])):
        programme = await rest_created(
            await stack.evidence.post(
                "/v1/audit-programmes", json={"title": title, **period}, headers=manager
            )
        )
        ids[title] = str(programme["id"])
        if clauses:
            await rest_created(
                await stack.evidence.post(
                    "/v1/audits",
                    json={
                        "programme_id": programme["id"],
                        "title": f"Audit of {title}",
                        "planned_start": TODAY.isoformat(),
                        "planned_end": TODAY.isoformat(),
                        "clauses": clauses,
                        "lead_auditor": "lead@example.com",
                    },
                    headers=manager,
                )
            )
    viewer = stack.headers(org, "viewer")
    counting.transport.calls.clear()
    page = data(await gql(counting.client, viewer, COVERAGE))
    assert Counter(counting.transport.calls) == Counter(
        {"GET evidence/v1/audit-programmes": 1, "GET evidence/v1/coverage-by-programme": 1}
    )
    found = {e["node"]["title"]: e["node"]["coverage"] for e in page["auditProgrammes"]["edges"]}
    assert set(found) == set(ids)
    for title, programme_id in ids.items():
        alone = await stack.evidence.get(
            f"/v1/audit-programmes/{programme_id}/coverage", headers=viewer
        )
        assert alone.status_code == 200, alone.text
        expected = alone.json()
        assert found[title] == {
            "auditsCounted": expected["audits_counted"],
            "clausesCovered": expected["clauses_covered"],
            "clauseGaps": [{"id": g["id"]} for g in expected["clause_gaps"]],
            "complete": expected["complete"],
        }
    assert [found[t]["auditsCounted"] for t in ("Covering", "Other", "Empty")] == [1, 1, 0]
    covering_gaps = {g["id"] for g in found["Covering"]["clauseGaps"]}
    assert "4.1" not in covering_gaps and "5.1" in covering_gaps
