"""The evidence register over GraphQL: items, versions, links, legal holds, the evidence and
coverage of AI systems and controls, batched; against the real services."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from strawberry.relay import GlobalID

from gateway.config import GatewaySettings
from gateway.main import create_app
from shared.testing import RoutingTransport, eventually
from tests.conftest import Stack

pytestmark = pytest.mark.engines

URL = "https://intranet.example.com/policies/ai-policy"

CREATE = """
mutation Create($input: CreateEvidenceInput!) {
  createEvidence(input: $input) {
    evidence { id title kind status version currentVersion latestVersion
               links { id targetType targetId aiSystem { id name } } }
    errors { __typename message code ... on ValidationError { field } }
  }
}
"""

TRANSITION = """
mutation Transition($input: EvidenceTransitionInput!, $submit: Boolean!) {
  submitEvidence(input: $input) @include(if: $submit) {
    evidence { id status version } errors { __typename code message }
  }
  approveEvidence(input: $input) @skip(if: $submit) {
    evidence { id status version currentVersion } errors { __typename code message }
  }
}
"""

SYSTEMS_WITH_EVIDENCE = """
query Dashboard($first: Int!) {
  aiSystems(first: $first) {
    edges { node {
      id name
      evidence { totalCount pageInfo { hasNextPage } edges { node { id title } } }
      evidenceCoverage { required approved missing }
    } }
  }
}
"""


async def gql(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]
    return found


async def register_systems(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    """``count`` systems registered in the inventory and projected by the evidence service
    (their UUIDs, in registration order)."""
    headers = stack.headers(org, "manager")
    ids = []
    for i in range(count):
        response = await stack.inventory.post(
            "/v1/ai-systems",
            json={"name": f"System {i:02d}", "owner": "owner@example.com"},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))

    async def projected() -> bool:
        seen = await stack.evidence.get(
            "/v1/systems", params=[("id", i) for i in ids] + [("limit", 500)], headers=headers
        )
        assert seen.status_code == 200, seen.text
        return len(seen.json()["items"]) == count

    await eventually(projected, timeout=60)
    return ids


async def create_evidence(
    stack: Stack,
    org: uuid.UUID,
    title: str,
    links: list[dict[str, str]],
    *,
    role: str = "contributor",
    client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    body = await gql(
        client or stack.gateway,
        stack.headers(org, role, subject="ann"),
        CREATE,
        {"input": {"title": title, "kind": "LINK", "url": URL, "links": links}},
    )
    payload = data(body)["createEvidence"]
    assert payload["errors"] == [], payload
    evidence: dict[str, Any] = payload["evidence"]
    return evidence


def system_link(system_id: str) -> dict[str, str]:
    return {"targetType": "SYSTEM", "targetId": system_id}


# --- Upstream calls ---------------------------------------------------------------------------


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport
    calls: Counter[str] = field(default_factory=Counter)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.host] += 1
        return await self.inner.handle_async_request(request)


@dataclass
class CountingGateway:
    client: httpx.AsyncClient
    transport: CountingTransport


@pytest.fixture(scope="module")
async def counting(stack: Stack) -> AsyncIterator[CountingGateway]:
    """A second gateway over the same services, whose upstream calls are counted."""
    routes: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=stack.apps[name])
        for name in ("inventory", "risk", "evidence")
    }
    transport = CountingTransport(RoutingTransport(routes))
    app = create_app(
        GatewaySettings(
            **{**stack.engines.settings_env("gateway"), "run_workers": False},
            inventory_url="http://inventory",
            risk_url="http://risk",
            evidence_url="http://evidence",
        ),
        upstream_transport=transport,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):
        yield CountingGateway(client=client, transport=transport)


async def test_a_page_of_systems_with_evidence_and_coverage_costs_constant_calls(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    systems = await register_systems(stack, org, 50)
    both = await create_evidence(
        stack, org, "AI policy", [system_link(systems[0]), system_link(systems[1])]
    )
    only_first = await create_evidence(stack, org, "Model card", [system_link(systems[0])])
    headers = stack.headers(org, "viewer")

    calls: dict[int, Counter[str]] = {}
    for size in (1, 10, 50):
        counting.transport.calls.clear()
        page = data(await gql(counting.client, headers, SYSTEMS_WITH_EVIDENCE, {"first": size}))
        nodes = [e["node"] for e in page["aiSystems"]["edges"]]
        assert len(nodes) == size
        calls[size] = Counter(counting.transport.calls)
        first = nodes[0]["evidence"]
        assert first["totalCount"] == 2
        assert [e["node"]["title"] for e in first["edges"]] == ["AI policy", "Model card"]
        assert [e["node"]["id"] for e in first["edges"]] == [both["id"], only_first["id"]]
        # Outside any approved scope, a system is asked for nothing.
        assert nodes[0]["evidenceCoverage"] == {"required": 0, "approved": 0, "missing": 0}
        if size > 2:
            assert [e["node"]["title"] for e in nodes[1]["evidence"]["edges"]] == ["AI policy"]
            assert nodes[2]["evidence"] == {
                "totalCount": 0,
                "pageInfo": {"hasNextPage": False},
                "edges": [],
            }
    # One inventory page, one evidence-by-target batch, one coverage batch: whatever the size.
    assert calls[1] == calls[10] == calls[50] == Counter({"inventory": 1, "evidence": 2})


async def test_the_coverage_of_an_in_scope_system_counts_what_it_is_asked_for(
    stack: Stack, org: uuid.UUID
) -> None:
    from tests.evidence.documented_helpers import approve_scope

    [in_scope, outside] = await register_systems(stack, org, 2)
    await approve_scope(stack, org, {in_scope: True, outside: False})
    headers = stack.headers(org, "viewer")
    query = """
      query($id: ID!) { aiSystem(id: $id) {
        evidenceCoverage { required approved stale draft missing } } }
    """

    async def asked() -> dict[str, Any] | None:
        found = data(await gql(stack.gateway, headers, query, {"id": in_scope}))
        coverage: dict[str, Any] = found["aiSystem"]["evidenceCoverage"]
        return coverage if coverage["required"] > 0 else None

    coverage = await eventually(asked, timeout=30)
    assert coverage["missing"] == coverage["required"]
    assert coverage["approved"] == 0
    outside_coverage = data(await gql(stack.gateway, headers, query, {"id": outside}))
    assert outside_coverage["aiSystem"]["evidenceCoverage"]["required"] == 0


async def test_controls_with_their_evidence_cost_one_evidence_call(
    stack: Stack, org: uuid.UUID, counting: CountingGateway
) -> None:
    await create_evidence(
        stack, org, "Impact assessment procedure", [{"targetType": "CONTROL", "targetId": "A.5.2"}]
    )
    await create_evidence(
        stack, org, "Oversight log", [{"targetType": "CONTROL", "targetId": "a.6.2.8"}]
    )
    counting.transport.calls.clear()
    query = "{ controls { id evidence(first: 5) { totalCount edges { node { title } } } } }"
    controls = data(await gql(counting.client, stack.headers(org, "auditor"), query))["controls"]
    assert len(controls) == 38
    by_id = {c["id"]: c["evidence"] for c in controls}
    assert [e["node"]["title"] for e in by_id["A.5.2"]["edges"]] == ["Impact assessment procedure"]
    assert by_id["A.6.2.8"]["totalCount"] == 1
    assert by_id["A.2.2"]["totalCount"] == 0
    assert counting.transport.calls == Counter({"risk": 1, "evidence": 1})


async def test_a_systems_evidence_pages_with_relay_cursors(stack: Stack, org: uuid.UUID) -> None:
    [system] = await register_systems(stack, org, 1)
    titles = [f"Record {i}" for i in range(5)]
    for title in titles:
        await create_evidence(stack, org, title, [system_link(system)])
    query = """
      query($id: ID!, $after: String) { aiSystem(id: $id) {
        evidence(first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { title } } } } }
    """
    headers = stack.headers(org, "viewer")
    seen: list[str] = []
    after = None
    for _ in range(5):
        found = data(await gql(stack.gateway, headers, query, {"id": system, "after": after}))
        evidence = found["aiSystem"]["evidence"]
        assert evidence["totalCount"] == 5
        seen += [e["node"]["title"] for e in evidence["edges"]]
        if not evidence["pageInfo"]["hasNextPage"]:
            break
        after = evidence["pageInfo"]["endCursor"]
    assert seen == titles


# --- Mutations --------------------------------------------------------------------------------


async def test_evidence_is_created_submitted_and_approved_through_mutations(
    stack: Stack, org: uuid.UUID
) -> None:
    [system] = await register_systems(stack, org, 1)
    created = await create_evidence(
        stack,
        org,
        "AI policy",
        [
            system_link(str(GlobalID("AISystem", system))),
            {"targetType": "CLAUSE", "targetId": "5.2"},
        ],
    )
    assert created["status"] == "DRAFT"
    assert created["currentVersion"] is None
    system_links = [link for link in created["links"] if link["targetType"] == "SYSTEM"]
    assert system_links[0]["targetId"] == system
    assert system_links[0]["aiSystem"]["name"] == "System 00"

    contributor = stack.headers(org, "contributor")
    submitted = data(
        await gql(
            stack.gateway,
            contributor,
            TRANSITION,
            {"input": {"id": created["id"], "expectedVersion": created["version"]}, "submit": True},
        )
    )["submitEvidence"]
    assert submitted["errors"] == []
    assert submitted["evidence"]["status"] == "IN_REVIEW"

    # A contributor may not approve; a manager may.
    refused = data(
        await gql(
            stack.gateway,
            contributor,
            TRANSITION,
            {"input": {"id": created["id"]}, "submit": False},
        )
    )["approveEvidence"]
    assert refused["evidence"] is None
    assert [e["__typename"] for e in refused["errors"]] == ["ForbiddenError"]
    approved = data(
        await gql(
            stack.gateway,
            stack.headers(org, "manager"),
            TRANSITION,
            {"input": {"id": created["id"]}, "submit": False},
        )
    )["approveEvidence"]
    assert approved["errors"] == []
    assert approved["evidence"]["status"] == "APPROVED"
    assert approved["evidence"]["currentVersion"] == 1

    read = """
      query($id: ID!) { node(id: $id) { ... on Evidence {
        title status versions { edges { node { number status url approvedBy } } }
        versionByNumber(number: 1) { number status } files { id }
      } } }
    """
    node = data(
        await gql(stack.gateway, stack.headers(org, "auditor"), read, {"id": created["id"]})
    )["node"]
    assert node["status"] == "APPROVED"
    assert [v["node"]["status"] for v in node["versions"]["edges"]] == ["APPROVED"]
    assert node["versions"]["edges"][0]["node"]["url"] == URL
    assert node["versionByNumber"] == {"number": 1, "status": "APPROVED"}

    # The approved item is found by what it serves.
    search = """
      query($ids: [ID!]) { evidence(filter: {systemIds: $ids, statuses: [APPROVED]}) {
        totalCount edges { node { id } } } }
    """
    found = data(await gql(stack.gateway, contributor, search, {"ids": [system]}))["evidence"]
    assert [e["node"]["id"] for e in found["edges"]] == [created["id"]]
    assert found["totalCount"] is None


async def test_an_unknown_control_comes_back_as_a_typed_validation_error(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, "contributor"),
        CREATE,
        {
            "input": {
                "title": "Orphan",
                "kind": "LINK",
                "url": URL,
                "links": [
                    {"targetType": "CLAUSE", "targetId": "5.2"},
                    {"targetType": "CONTROL", "targetId": "A.99.1"},
                ],
            }
        },
    )
    payload = data(body)["createEvidence"]
    assert payload["evidence"] is None
    [error] = payload["errors"]
    assert error["__typename"] == "ValidationError"
    assert error["field"] == ["links", "1"]
    assert "A.99.1" in error["message"]
    listed = data(
        await gql(
            stack.gateway, stack.headers(org, "viewer"), "{ evidence { edges { node { id } } } }"
        )
    )
    assert listed["evidence"]["edges"] == []


async def test_a_viewer_cannot_create_evidence(stack: Stack, org: uuid.UUID) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, "viewer"),
        CREATE,
        {"input": {"title": "Nope", "kind": "LINK", "url": URL}},
    )
    payload = data(body)["createEvidence"]
    assert payload["evidence"] is None
    assert [e["__typename"] for e in payload["errors"]] == ["ForbiddenError"]
    listed = data(
        await gql(
            stack.gateway, stack.headers(org, "viewer"), "{ evidence { edges { node { id } } } }"
        )
    )
    assert listed["evidence"]["edges"] == []


async def test_a_held_item_cannot_be_deleted_until_the_hold_is_lifted(
    stack: Stack, org: uuid.UUID
) -> None:
    created = await create_evidence(stack, org, "Incident log", [])
    manager = stack.headers(org, "manager")
    hold = """
      mutation($input: SetLegalHoldInput!) { setLegalHold(input: $input) {
        evidence { legalHold legalHoldReason version } errors { __typename code } } }
    """
    held = data(
        await gql(
            stack.gateway, manager, hold, {"input": {"id": created["id"], "reason": "Case 42"}}
        )
    )["setLegalHold"]
    assert held["evidence"]["legalHold"] is True
    delete = """
      mutation($input: DeleteEvidenceInput!) { deleteEvidence(input: $input) {
        deletedEvidenceId errors { __typename code } } }
    """
    refused = data(
        await gql(
            stack.gateway,
            manager,
            delete,
            {"input": {"id": created["id"], "expectedVersion": held["evidence"]["version"]}},
        )
    )["deleteEvidence"]
    assert refused["deletedEvidenceId"] is None
    assert [e["__typename"] for e in refused["errors"]] == ["ConflictError"]

    release = """
      mutation($input: ReleaseLegalHoldInput!) { releaseLegalHold(input: $input) {
        evidence { legalHold version } errors { code } } }
    """
    released = data(await gql(stack.gateway, manager, release, {"input": {"id": created["id"]}}))
    version = released["releaseLegalHold"]["evidence"]["version"]
    deleted = data(
        await gql(
            stack.gateway,
            manager,
            delete,
            {"input": {"id": created["id"], "expectedVersion": version}},
        )
    )["deleteEvidence"]
    assert deleted == {"deletedEvidenceId": created["id"], "errors": []}
    gone = data(
        await gql(
            stack.gateway,
            manager,
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": created["id"]},
        )
    )
    assert gone["node"] is None


async def test_links_and_new_versions_change_through_mutations(
    stack: Stack, org: uuid.UUID
) -> None:
    created = await create_evidence(stack, org, "Data sheet", [])
    contributor = stack.headers(org, "contributor")
    link = """
      mutation($input: LinkEvidenceInput!) { linkEvidence(input: $input) {
        link { id targetId } evidence { linkCount }
        errors { __typename ... on ValidationError { field } } } }
    """
    linked = data(
        await gql(
            stack.gateway,
            contributor,
            link,
            {
                "input": {
                    "id": created["id"],
                    "targetType": "DOCUMENTED_INFORMATION",
                    "targetId": "di-01",
                }
            },
        )
    )["linkEvidence"]
    assert linked["errors"] == []
    assert linked["link"]["targetId"] == "DI-01"
    assert linked["evidence"]["linkCount"] == 1
    unlink = """
      mutation($input: UnlinkEvidenceInput!) { unlinkEvidence(input: $input) {
        evidence { linkCount links { id } version } errors { code } } }
    """
    unlinked = data(
        await gql(
            stack.gateway,
            contributor,
            unlink,
            {"input": {"id": created["id"], "linkId": linked["link"]["id"]}},
        )
    )["unlinkEvidence"]
    assert unlinked["evidence"]["linkCount"] == 0
    assert unlinked["evidence"]["links"] == []

    # While version 1 is still a draft, a new version is refused.
    new_version = """
      mutation($input: CreateEvidenceVersionInput!) { createEvidenceVersion(input: $input) {
        evidenceVersion { number status } errors { __typename code } } }
    """
    refused = data(
        await gql(stack.gateway, contributor, new_version, {"input": {"id": created["id"]}})
    )["createEvidenceVersion"]
    assert refused["evidenceVersion"] is None
    assert [e["__typename"] for e in refused["errors"]] == ["ConflictError"]

    update = """
      mutation($input: UpdateEvidenceInput!) { updateEvidence(input: $input) {
        evidence { title owner version } errors { __typename message } } }
    """
    stale = data(
        await gql(
            stack.gateway,
            contributor,
            update,
            {"input": {"id": created["id"], "expectedVersion": 999, "title": "Renamed"}},
        )
    )["updateEvidence"]
    assert [e["__typename"] for e in stale["errors"]] == ["ConflictError"]
    updated = data(
        await gql(
            stack.gateway,
            contributor,
            update,
            {
                "input": {
                    "id": created["id"],
                    "expectedVersion": unlinked["evidence"]["version"],
                    "owner": "dpo@example.com",
                }
            },
        )
    )["updateEvidence"]
    assert updated["errors"] == [], updated
    assert updated["evidence"]["title"] == "Data sheet"
    assert updated["evidence"]["owner"] == "dpo@example.com"


async def test_another_organisation_sees_none_of_it(stack: Stack, org: uuid.UUID) -> None:
    created = await create_evidence(stack, org, "Secret", [])
    other = stack.headers(uuid.uuid4(), "admin")
    query = "query($id: ID!) { node(id: $id) { id } evidenceItem(id: $id) { id } }"
    found = data(await gql(stack.gateway, other, query, {"id": created["id"]}))
    assert found == {"node": None, "evidenceItem": None}
    mine = data(
        await gql(stack.gateway, stack.headers(org, "viewer"), query, {"id": created["id"]})
    )
    assert mine["node"] == {"id": created["id"]}
