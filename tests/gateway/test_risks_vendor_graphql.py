"""GraphQL: `AISystem.risks` (a batched connection), `Vendor.systems`, the risk policy; and the
risk service's batch endpoint behind them, against the real services."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from shared.db import uuid7
from shared.testing import eventually
from tests.conftest import Stack
from tests.gateway.test_evidence_graphql import CountingGateway, counting, data, gql
from tests.risk.test_register import risk_body

pytestmark = pytest.mark.engines
__all__ = ["counting"]  # the module-scoped fixture, shared with the evidence tests

SYSTEMS_WITH_RISKS = """
query Risks($first: Int!, $filter: SystemRiskFilter) {
  aiSystems(first: $first) {
    edges { node {
      id name
      risks(first: 2, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id title status } }
      }
    } }
  }
}
"""

MORE_RISKS = """
query More($id: ID!, $after: String!) {
  node(id: $id) { ... on AISystem {
    risks(first: 2, after: $after) {
      pageInfo { hasNextPage } edges { node { title } }
    }
  } }
}
"""

VENDORS = """
query Vendors($first: Int!) {
  vendors(first: $first) {
    edges { node {
      id name
      systems(first: 2) {
        pageInfo { hasNextPage endCursor } edges { node { id name vendorId } }
      }
    } }
  }
}
"""

VENDOR_MORE = """
query VendorMore($id: ID!, $after: String!) {
  node(id: $id) { ... on Vendor {
    name systems(first: 2, after: $after) { pageInfo { hasNextPage } edges { node { name } } }
  } }
}
"""

POLICY = (
    "{ riskPolicy { requireImpactAssessmentForAllHighRisk allowSelfAcceptance basis version } }"
)
SET_POLICY = """
mutation Set($input: SetRiskPolicyInput!) {
  setRiskPolicy(input: $input) {
    riskPolicy { allowSelfAcceptance requireImpactAssessmentForAllHighRisk version updatedBy }
    errors { __typename message }
  }
}
"""


async def systems_known_to_risk(
    stack: Stack, org: uuid.UUID, count: int, **fields: Any
) -> list[str]:
    """``count`` systems registered in the inventory and projected by the risk service."""
    headers = stack.headers(org, "manager")
    ids = []
    for i in range(count):
        response = await stack.inventory.post(
            "/v1/ai-systems",
            json={"name": f"System {i:02d}", "owner": "owner@example.com", **fields},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))

    async def projected() -> bool:
        seen = await stack.risk.get(
            "/v1/systems", params=[("id", i) for i in ids] + [("limit", 500)], headers=headers
        )
        assert seen.status_code == 200, seen.text
        return len(seen.json()["items"]) == count

    await eventually(projected, timeout=60)
    return ids


async def add_risk(
    stack: Stack, org: uuid.UUID, system_id: str | None, title: str, **kw: Any
) -> dict[str, Any]:
    response = await stack.risk.post(
        "/v1/risks",
        json=risk_body(system_id=system_id, title=title, **kw),
        headers=stack.headers(org, "risk_owner"),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_page_of_systems_with_their_risks_costs_constant_calls(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    systems = await systems_known_to_risk(stack, org, 50)
    first = [
        await add_risk(stack, org, systems[0], title, likelihood=likelihood)
        for title, likelihood in (("Bias", 4), ("Drift", 1), ("Leak", 2))
    ]
    await add_risk(stack, org, systems[1], "Hallucination")
    await add_risk(stack, org, None, "Organisation-wide")
    headers = stack.headers(org, "viewer")

    calls: dict[int, Counter[str]] = {}
    for size in (1, 10, 50):
        counting.transport.calls.clear()
        page = data(await gql(counting.client, headers, SYSTEMS_WITH_RISKS, {"first": size}))
        calls[size] = Counter(counting.transport.calls)
        nodes = [e["node"] for e in page["aiSystems"]["edges"]]
        assert len(nodes) == size
        risks = nodes[0]["risks"]
        assert risks["totalCount"] == 3
        assert risks["pageInfo"]["hasNextPage"] is True
        assert [e["node"]["title"] for e in risks["edges"]] == ["Bias", "Drift"]
        if size > 2:
            assert [e["node"]["title"] for e in nodes[1]["risks"]["edges"]] == ["Hallucination"]
            assert nodes[2]["risks"]["totalCount"] == 0
            assert nodes[2]["risks"]["edges"] == []
    # One inventory page and one risk batch, whatever the number of systems.
    assert calls[1] == calls[10] == calls[50] == Counter({"inventory": 1, "risk": 1})

    # The next page of one system's risks resumes after the cursor.
    page = data(await gql(stack.gateway, headers, SYSTEMS_WITH_RISKS, {"first": 1}))
    node = page["aiSystems"]["edges"][0]["node"]
    cursor = node["risks"]["pageInfo"]["endCursor"]
    more = data(await gql(stack.gateway, headers, MORE_RISKS, {"id": node["id"], "after": cursor}))
    assert more["node"]["risks"] == {
        "pageInfo": {"hasNextPage": False},
        "edges": [{"node": {"title": "Leak"}}],
    }

    # A filter narrows the risks and their total, still in one batch.
    accepted = await stack.risk.post(
        f"/v1/risks/{first[0]['id']}/accept",
        json={"rationale": "Offset by a human check of every single case."},
        headers={**stack.headers(org, "manager", subject="mia"), "If-Match": '"1"'},
    )
    assert accepted.status_code == 200, accepted.text
    counting.transport.calls.clear()
    only = data(
        await gql(
            counting.client,
            headers,
            SYSTEMS_WITH_RISKS,
            {"first": 10, "filter": {"statuses": ["OPEN"]}},
        )
    )
    assert counting.transport.calls == Counter({"inventory": 1, "risk": 1})
    risks = only["aiSystems"]["edges"][0]["node"]["risks"]
    assert risks["totalCount"] == 2
    assert [e["node"]["title"] for e in risks["edges"]] == ["Drift", "Leak"]


async def test_risks_by_system_over_rest_refuses_bad_input_and_hides_other_organisations(
    stack: Stack, org: uuid.UUID
) -> None:
    (system,) = await systems_known_to_risk(stack, org, 1)
    await add_risk(stack, org, system, "Bias")
    headers = stack.headers(org, "viewer")
    ok = await stack.risk.get(
        "/v1/risks-by-system", params=[("system_id", system), ("first", 5)], headers=headers
    )
    assert ok.status_code == 200, ok.text
    (entry,) = ok.json()["items"]
    assert (entry["system_id"], entry["total_count"]) == (system, 1)
    assert [r["title"] for r in entry["items"]] == ["Bias"]

    stranger = await stack.risk.get(
        "/v1/risks-by-system",
        params=[("system_id", system)],
        headers=stack.headers(uuid7(), "admin"),
    )
    assert stranger.status_code == 200
    assert stranger.json()["items"] == [{"system_id": system, "total_count": 0, "items": []}]

    bad: list[list[tuple[str, str | int | float | bool | None]]] = [
        [],
        [("system_id", "not-a-uuid")],
        [("system_id", system), ("first", "0")],
        [("system_id", system), ("first", "101")],
        [("system_id", system), ("first", "99999999999999999999")],
        [("system_id", system), ("owner", "a\x00b")],
        [("system_id", system), ("status", "nonsense")],
        [("system_id", str(uuid7())) for _ in range(501)],
    ]
    for params in bad:
        response = await stack.risk.get("/v1/risks-by-system", params=params, headers=headers)
        assert response.status_code == 422, (params[:2], response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    unknown = await stack.risk.get(
        "/v1/risks-by-system",
        params=[("system_id", system), ("business_function", "IT")],
        headers=headers,
    )
    assert unknown.status_code == 400
    assert "first" in unknown.json()["allowed"] and "status" in unknown.json()["allowed"]
    misspelt = await stack.risk.get("/v1/risks", params={"sytem_id": system}, headers=headers)
    assert misspelt.status_code == 400
    assert "system_id" in misspelt.json()["allowed"]
    # Nothing was lost: the risk is still there.
    again = await stack.risk.get("/v1/risks", params={"system_id": system}, headers=headers)
    assert [r["title"] for r in again.json()["items"]] == ["Bias"]


async def test_vendors_with_their_systems_in_constant_calls(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    manager = stack.headers(org, "manager")
    vendors = []
    for i in range(12):
        response = await stack.inventory.post(
            "/v1/vendors", json={"name": f"Vendor {i:02d}"}, headers=manager
        )
        assert response.status_code == 201, response.text
        vendors.append(response.json()["id"])
    names = {vendors[0]: ["A", "B", "C"], vendors[1]: ["D"]}
    for vendor, systems in names.items():
        for name in systems:
            response = await stack.inventory.post(
                "/v1/ai-systems",
                json={"name": name, "vendor_id": vendor, "provenance": "third_party"},
                headers=manager,
            )
            assert response.status_code == 201, response.text
    await stack.inventory.post("/v1/ai-systems", json={"name": "In-house"}, headers=manager)
    headers = stack.headers(org, "viewer")

    calls: dict[int, Counter[str]] = {}
    for size in (1, 12):
        counting.transport.calls.clear()
        page = data(await gql(counting.client, headers, VENDORS, {"first": size}))
        calls[size] = Counter(counting.transport.calls)
        nodes = [e["node"] for e in page["vendors"]["edges"]]
        assert len(nodes) == size
        top = nodes[0]["systems"]
        assert [e["node"]["name"] for e in top["edges"]] == ["A", "B"]
        assert top["pageInfo"]["hasNextPage"] is True
        assert {e["node"]["vendorId"] for e in top["edges"]} == {vendors[0]}
        if size > 2:
            assert [e["node"]["name"] for e in nodes[1]["systems"]["edges"]] == ["D"]
            assert nodes[1]["systems"]["pageInfo"]["hasNextPage"] is False
            assert nodes[2]["systems"]["edges"] == []
    # One page of vendors and one page of their systems, whatever the number of vendors.
    assert calls[1] == calls[12] == Counter({"inventory": 2})

    page = data(await gql(stack.gateway, headers, VENDORS, {"first": 1}))
    vendor = page["vendors"]["edges"][0]["node"]
    cursor = vendor["systems"]["pageInfo"]["endCursor"]
    more = data(
        await gql(stack.gateway, headers, VENDOR_MORE, {"id": vendor["id"], "after": cursor})
    )
    assert more["node"]["systems"] == {
        "pageInfo": {"hasNextPage": False},
        "edges": [{"node": {"name": "C"}}],
    }
    # Another organisation sees neither the vendor nor its systems.
    hidden = data(
        await gql(
            stack.gateway,
            stack.headers(uuid7(), "admin"),
            VENDOR_MORE,
            {"id": vendor["id"], "after": cursor},
        )
    )
    assert hidden["node"] is None


async def test_the_risk_policy_over_graphql(stack: Stack, org: uuid.UUID) -> None:
    viewer = stack.headers(org, "viewer")
    assert data(await gql(stack.gateway, viewer, POLICY))["riskPolicy"] == {
        "requireImpactAssessmentForAllHighRisk": False,
        "allowSelfAcceptance": False,
        "basis": "policy",
        "version": 0,
    }
    denied = data(await gql(stack.gateway, viewer, SET_POLICY, {"input": {"version": 0}}))[
        "setRiskPolicy"
    ]
    assert denied["riskPolicy"] is None
    assert denied["errors"][0]["__typename"] == "ForbiddenError"
    manager = stack.headers(org, "manager", subject="mia")
    done = data(
        await gql(
            stack.gateway,
            manager,
            SET_POLICY,
            {"input": {"version": 0, "allowSelfAcceptance": True}},
        )
    )["setRiskPolicy"]
    assert done["errors"] == []
    assert done["riskPolicy"] == {
        "allowSelfAcceptance": True,
        "requireImpactAssessmentForAllHighRisk": False,
        "version": 1,
        "updatedBy": "mia",
    }
    stale = data(await gql(stack.gateway, manager, SET_POLICY, {"input": {"version": 0}}))[
        "setRiskPolicy"
    ]
    assert stale["errors"][0]["__typename"] == "ConflictError"
    now = data(await gql(stack.gateway, viewer, POLICY))["riskPolicy"]
    assert (now["allowSelfAcceptance"], now["version"]) == (True, 1)


MOVE = """
mutation Move($id: ID!, $reason: String!) {
  sendBackImpactAssessment(id: $id, reason: $reason) {
    impactAssessment { status returnReason returnedBy } errors { __typename message }
  }
}
"""
REJECT = """
mutation Reject($id: ID!, $reason: String!) {
  rejectImpactAssessment(id: $id, reason: $reason) {
    impactAssessment { status rejectionReason rejectedBy } errors { __typename message }
  }
}
"""
REOPEN_WITHDRAW = """
mutation ReopenWithdraw($id: ID!) {
  reopenImpactAssessment(id: $id) { impactAssessment { status } errors { __typename } }
  withdrawImpactAssessment(id: $id) {
    impactAssessment { status withdrawnBy } errors { __typename }
  }
}
"""


async def test_impact_assessment_review_transitions_over_graphql(
    stack: Stack, org: uuid.UUID
) -> None:
    from tests.risk.test_impact import COMPLETE

    (system,) = await systems_known_to_risk(stack, org, 1)
    author = stack.headers(org, "risk_owner", subject="alice")
    created = await stack.risk.post(
        "/v1/impact-assessments", json={"system_id": system, **COMPLETE}, headers=author
    )
    assert created.status_code == 201, created.text
    assessment = created.json()["id"]

    async def submit() -> None:
        done = await stack.risk.post(f"/v1/impact-assessments/{assessment}/submit", headers=author)
        assert done.status_code == 200, done.text

    await submit()
    back = data(
        await gql(stack.gateway, author, MOVE, {"id": assessment, "reason": "Add group impacts"})
    )["sendBackImpactAssessment"]
    assert back == {
        "impactAssessment": {
            "status": "DRAFT",
            "returnReason": "Add group impacts",
            "returnedBy": "alice",
        },
        "errors": [],
    }
    await submit()
    # The author may not reject their own assessment; a manager may, with a reason.
    own = data(
        await gql(stack.gateway, author, REJECT, {"id": assessment, "reason": "Not mine to"})
    )["rejectImpactAssessment"]
    assert own["impactAssessment"] is None and own["errors"][0]["__typename"] == "ForbiddenError"
    boss = stack.headers(org, "manager", subject="bob")
    rejected = data(
        await gql(stack.gateway, boss, REJECT, {"id": assessment, "reason": "Out of scope"})
    )["rejectImpactAssessment"]
    assert rejected["impactAssessment"] == {
        "status": "REJECTED",
        "rejectionReason": "Out of scope",
        "rejectedBy": "bob",
    }
    moved = data(await gql(stack.gateway, author, REOPEN_WITHDRAW, {"id": assessment}))
    assert moved["reopenImpactAssessment"]["impactAssessment"] == {"status": "DRAFT"}
    assert moved["withdrawImpactAssessment"]["impactAssessment"] == {
        "status": "WITHDRAWN",
        "withdrawnBy": "alice",
    }
