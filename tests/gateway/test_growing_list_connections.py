"""The connections that replaced growing plain lists (issue 11) page through real rows.

Each list is arranged over REST with more items than one page, then walked through the gateway
with a small ``first``: every page but the last says ``hasNextPage``, following ``endCursor``
yields every item once in the list's order, any edge's cursor resumes right after that edge,
and the deprecated plain list beside the connection still answers the same items.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from strawberry.relay import GlobalID

from shared.testing import eventually
from tests.conftest import Stack
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

PAGE = 3
Fetch = Callable[[str | None], Awaitable[dict[str, Any]]]


async def walk(fetch: Fetch, expected_count: int) -> list[Any]:
    """Every node of a connection, following ``endCursor`` ``PAGE`` at a time."""
    assert expected_count > PAGE, "arrange more items than one page"
    nodes: list[Any] = []
    cursors: list[str] = []
    after: str | None = None
    while True:
        connection = await fetch(after)
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert len(edges) <= PAGE, connection
        assert info["hasPreviousPage"] is (after is not None), connection
        if "totalCount" in connection:
            assert connection["totalCount"] == expected_count, connection
        nodes += [e["node"] for e in edges]
        cursors += [e["cursor"] for e in edges]
        if not info["hasNextPage"]:
            break
        assert len(edges) == PAGE, connection
        assert info["endCursor"] == edges[-1]["cursor"], connection
        after = info["endCursor"]
    assert len(nodes) == expected_count, nodes
    # Any edge's cursor resumes right after that edge, not only a page's end.
    resumed = await fetch(cursors[0])
    assert [e["node"] for e in resumed["edges"]] == nodes[1 : 1 + PAGE]
    return nodes


async def rest(stack: Stack, service: str, org: uuid.UUID, path: str, body: Any) -> Any:
    response = await stack.clients[service].post(
        path, json=body, headers=stack.headers(org, "admin")
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


async def query(stack: Stack, org: uuid.UUID, document: str, **variables: Any) -> dict[str, Any]:
    return data(await gql(stack.gateway, stack.headers(org, "admin"), document, variables))


async def systems(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    return [
        (await rest(stack, "inventory", org, "/v1/ai-systems", {"name": f"System {i:02d}"}))["id"]
        for i in range(count)
    ]


# --- ScopeVersion.systemsConnection --------------------------------------------------------------

SCOPE_SYSTEMS = """
query($id: ID!, $first: Int!, $after: String, $filter: ScopeSystemFilter) {
  node(id: $id) { ... on ScopeVersion {
    systems { systemId }
    systemsConnection(first: $first, after: $after, filter: $filter) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { systemId included aiSystem { name } } }
    }
  } }
}
"""


async def test_a_scope_versions_systems_page_and_filter_by_inclusion(
    stack: Stack, org: uuid.UUID
) -> None:
    ids = await systems(stack, org, 8)
    listed = [
        {"system_id": s, "included": i % 4 != 0, "justification": "" if i % 4 else "Lab only."}
        for i, s in enumerate(ids)
    ]
    version = await rest(
        stack, "inventory", org, "/v1/scope-versions", {"statement": "All.", "systems": listed}
    )
    node_id = str(GlobalID("ScopeVersion", version["id"]))

    async def version_page(after: str | None, filter: Any = None) -> dict[str, Any]:
        found: dict[str, Any] = await query(
            stack, org, SCOPE_SYSTEMS, id=node_id, first=PAGE, after=after, filter=filter
        )
        return found["node"]

    async def page(after: str | None, filter: Any = None) -> dict[str, Any]:
        found: dict[str, Any] = (await version_page(after, filter))["systemsConnection"]
        return found

    every = await walk(page, 8)
    assert [n["systemId"] for n in every] == ids
    assert [n["aiSystem"]["name"] for n in every] == [f"System {i:02d}" for i in range(8)]
    deprecated = (await version_page(None))["systems"]
    assert [s["systemId"] for s in deprecated] == ids

    included = await walk(lambda after: page(after, {"included": True}), 6)
    assert [n["systemId"] for n in included] == [s for i, s in enumerate(ids) if i % 4]
    excluded = await page(None, {"included": False})
    assert [e["node"]["systemId"] for e in excluded["edges"]] == [ids[0], ids[4]]
    assert excluded["pageInfo"]["hasNextPage"] is False
    assert excluded["totalCount"] == 2


async def test_a_cursor_of_another_list_or_a_forged_one_is_refused(
    stack: Stack, org: uuid.UUID
) -> None:
    ids = await systems(stack, org, 1)
    version = await rest(
        stack, "inventory", org, "/v1/scope-versions", {"systems": [{"system_id": ids[0]}]}
    )
    node_id = str(GlobalID("ScopeVersion", version["id"]))
    # A cursor of an upstream-paged connection (scopeVersions) is not an offset.
    listed = await query(stack, org, "{ scopeVersions(first: 1) { edges { cursor } } }")
    [edge] = listed["scopeVersions"]["edges"]
    for after in (edge["cursor"], "not-a-cursor", "eyJvIjotMX0"):  # the last is {"o":-1}
        body = await gql(
            stack.gateway,
            stack.headers(org, "admin"),
            SCOPE_SYSTEMS,
            {"id": node_id, "first": PAGE, "after": after},
        )
        assert body["data"] is None or body["data"]["node"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "invalid-cursor", body


# --- ScopeSystemsDiff.{added,removed,changed}Connection -----------------------------------------

DIFF = """
query($a: ID!, $b: ID!, $first: Int!, $added: String, $removed: String, $changed: String) {
  scopeDiff(a: $a, b: $b) { systems {
    added { systemId } removed { systemId } changed { systemId }
    addedConnection(first: $first, after: $added) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { systemId } } }
    removedConnection(first: $first, after: $removed) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { systemId } } }
    changedConnection(first: $first, after: $changed) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { systemId before { included } after { included justification } } } }
  } }
}
"""


async def test_a_scope_diffs_added_removed_and_changed_systems_page(
    stack: Stack, org: uuid.UUID
) -> None:
    ids = await systems(stack, org, 20)
    first = await rest(
        stack,
        "inventory",
        org,
        "/v1/scope-versions",
        {"systems": [{"system_id": s} for s in ids[:12]]},
    )
    second_systems = [
        {"system_id": s, "included": False, "justification": "Retired."} for s in ids[4:9]
    ] + [{"system_id": s} for s in ids[9:20]]
    second = await rest(stack, "inventory", org, "/v1/scope-versions", {"systems": second_systems})

    async def diff(**after: str | None) -> dict[str, Any]:
        found = await query(stack, org, DIFF, a=first["id"], b=second["id"], first=PAGE, **after)
        systems_diff: dict[str, Any] = found["scopeDiff"]["systems"]
        return systems_diff

    async def part(name: str, after: str | None) -> dict[str, Any]:
        found: dict[str, Any] = (await diff(**{name: after}))[f"{name}Connection"]
        return found

    added = await walk(lambda after: part("added", after), 8)
    assert [n["systemId"] for n in added] == ids[12:20]
    removed = await walk(lambda after: part("removed", after), 4)
    assert [n["systemId"] for n in removed] == ids[:4]
    changed = await walk(lambda after: part("changed", after), 5)
    assert [n["systemId"] for n in changed] == ids[4:9]
    assert {(n["before"]["included"], n["after"]["included"]) for n in changed} == {(True, False)}

    deprecated = await diff()
    assert [s["systemId"] for s in deprecated["added"]] == ids[12:20]
    assert [s["systemId"] for s in deprecated["removed"]] == ids[:4]
    assert [s["systemId"] for s in deprecated["changed"]] == ids[4:9]


# --- RiskDashboard.systemsConnection -------------------------------------------------------------

DASHBOARD = """
query($first: Int!, $after: String) { riskDashboard {
  total systems { systemId count }
  systemsConnection(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { systemId count } } }
} }
"""


async def test_the_risk_dashboards_counts_per_system_page_most_first(
    stack: Stack, org: uuid.UUID
) -> None:
    ids = await systems(stack, org, 7)

    async def projected() -> bool:
        response = await stack.risk.get(
            "/v1/systems", params={"limit": 100}, headers=stack.headers(org, "viewer")
        )
        return response.status_code == 200 and len(response.json()["items"]) == len(ids)

    await eventually(projected, timeout=60)
    for i, system_id in enumerate(ids):
        for j in range(1 + i % 3):  # 1, 2 or 3 open risks per system
            await rest(
                stack,
                "risk",
                org,
                "/v1/risks",
                {
                    "system_id": system_id,
                    "title": f"Risk {i}-{j}",
                    "domain_id": "1",
                    "subdomain_id": "1.1",
                    "entity": "ai",
                    "intent": "unintentional",
                    "timing": "post_deployment",
                    "likelihood": 3,
                    "severity": 3,
                },
            )

    async def page(after: str | None) -> dict[str, Any]:
        found = await query(stack, org, DASHBOARD, first=PAGE, after=after)
        connection: dict[str, Any] = found["riskDashboard"]["systemsConnection"]
        return connection

    counts = await walk(page, 7)
    assert [c["count"] for c in counts] == [3, 3, 2, 2, 1, 1, 1]
    assert {c["systemId"] for c in counts} == set(ids)
    deprecated = (await query(stack, org, DASHBOARD, first=PAGE))["riskDashboard"]
    assert deprecated["systems"] == counts
    assert deprecated["total"] == sum(c["count"] for c in counts)


# --- Query.systemDependenciesConnection ----------------------------------------------------------

DEPENDENCIES = """
query($id: ID!, $first: Int!, $after: String, $filter: DependencyPathFilter) {
  systemDependencies(id: $id) { node { id } }
  systemDependenciesConnection(id: $id, first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { depth node { id type name } path { id } } } }
}
"""


async def test_a_systems_dependency_walk_pages_nearest_first(stack: Stack, org: uuid.UUID) -> None:
    [system] = await systems(stack, org, 1)
    vendor = await rest(stack, "inventory", org, "/v1/vendors", {"name": "Acme"})
    for i in range(6):
        await rest(
            stack,
            "inventory",
            org,
            "/v1/components",
            {"kind": "model", "name": f"Model {i}", "system_id": system, "vendor_id": vendor["id"]},
        )

    async def page(after: str | None, filter: Any = None) -> dict[str, Any]:
        found = await query(
            stack, org, DEPENDENCIES, id=system, first=PAGE, after=after, filter=filter
        )
        connection: dict[str, Any] = found["systemDependenciesConnection"]
        return connection

    walked = await walk(page, 7)  # six components at depth 1, their vendor at depth 2
    assert [n["depth"] for n in walked] == [1] * 6 + [2]
    assert walked[-1]["node"] == {"id": vendor["id"], "type": "vendor", "name": "Acme"}
    assert all(n["path"][0]["id"] == system for n in walked)
    deprecated = (await query(stack, org, DEPENDENCIES, id=system, first=PAGE))[
        "systemDependencies"
    ]
    assert [d["node"]["id"] for d in deprecated] == [n["node"]["id"] for n in walked]

    direct = await walk(lambda after: page(after, {"transitive": False}), 6)
    assert {n["node"]["type"] for n in direct} == {"component"}

    unknown = str(uuid.uuid4())
    missing = await query(stack, org, DEPENDENCIES, id=unknown, first=PAGE)
    assert missing["systemDependenciesConnection"] is None


# --- AIMSRole.holdersConnection and CompetenceRoleGap.gapsConnection -----------------------------

HOLDERS = """
query($first: Int!, $after: String) { aimsRoles { edges { node {
  name holderIds holders { name }
  holdersConnection(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id name } } }
} } } }
"""
GAPS = """
query($first: Int!, $after: String) { competenceGaps { edges { node {
  roleName holderCount gaps { personName }
  gapsConnection(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { personName competenceName reason } } }
} } } }
"""


async def test_a_roles_holders_and_their_gaps_page(stack: Stack, org: uuid.UUID) -> None:
    competence = await rest(stack, "evidence", org, "/v1/competences", {"name": "AI risk"})
    role = await rest(
        stack,
        "evidence",
        org,
        "/v1/aims-roles",
        {"name": "Risk owner", "required_competence_ids": [competence["id"]]},
    )
    names = [f"Holder {i}" for i in range(7)]
    for name in names:
        person = await rest(stack, "evidence", org, "/v1/people", {"name": name})
        await rest(
            stack,
            "evidence",
            org,
            f"/v1/aims-roles/{role['id']}/assignments",
            {"person_id": person["id"]},
        )

    async def holders(after: str | None) -> dict[str, Any]:
        found = await query(stack, org, HOLDERS, first=PAGE, after=after)
        [edge] = found["aimsRoles"]["edges"]
        connection: dict[str, Any] = edge["node"]["holdersConnection"]
        return connection

    held = await walk(holders, 7)
    found = await query(stack, org, HOLDERS, first=PAGE)
    [role_node] = [e["node"] for e in found["aimsRoles"]["edges"]]
    holder_ids = [str(GlobalID("Person", i)) for i in role_node["holderIds"]]
    assert [p["id"] for p in held] == holder_ids  # the role's own order
    assert sorted(p["name"] for p in held) == names
    assert sorted(p["name"] for p in role_node["holders"]) == names

    async def gaps(after: str | None) -> dict[str, Any]:
        found = await query(stack, org, GAPS, first=PAGE, after=after)
        [edge] = found["competenceGaps"]["edges"]
        connection: dict[str, Any] = edge["node"]["gapsConnection"]
        return connection

    lacking = await walk(gaps, 7)
    assert sorted(g["personName"] for g in lacking) == names
    assert {(g["competenceName"], g["reason"]) for g in lacking} == {("AI risk", "NEVER_TRAINED")}
    [gap] = (await query(stack, org, GAPS, first=PAGE))["competenceGaps"]["edges"]
    assert [g["personName"] for g in gap["node"]["gaps"]] == [g["personName"] for g in lacking]


# --- AwarenessReport.departmentsConnection and DepartmentAwareness.missingConnection -------------

AWARENESS = """
query($first: Int!, $departments: String, $missing: String) { competenceAwareness {
  people departments { department missing { personName } }
  departmentsConnection(first: $first, after: $departments) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node {
      department people
      missingConnection(first: $first, after: $missing) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { personName missing { competenceName } } } }
    } } }
} }
"""


async def test_the_awareness_reports_departments_and_their_people_page(
    stack: Stack, org: uuid.UUID
) -> None:
    await rest(stack, "evidence", org, "/v1/competences", {"name": "AI policy", "awareness": True})
    departments = [f"Dept {i}" for i in range(5)]
    for department in departments:
        await rest(
            stack, "evidence", org, "/v1/people", {"name": "Someone", "department": department}
        )
    crowded = [f"Engineer {i}" for i in range(6)]
    for name in crowded:
        await rest(stack, "evidence", org, "/v1/people", {"name": name, "department": "Dept 0"})

    async def report(**after: str | None) -> dict[str, Any]:
        found: dict[str, Any] = await query(stack, org, AWARENESS, first=PAGE, **after)
        return found["competenceAwareness"]

    async def departments_page(after: str | None) -> dict[str, Any]:
        found: dict[str, Any] = (await report(departments=after))["departmentsConnection"]
        return found

    walked = await walk(departments_page, 5)
    assert sorted(d["department"] for d in walked) == departments
    whole = await report()
    assert [d["department"] for d in whole["departments"]] == [d["department"] for d in walked]

    index = [d["department"] for d in walked].index("Dept 0")
    departments_after = None
    if index >= PAGE:  # Dept 0 is on a later page of departments: start from the one before it
        departments_after = (await departments_page(None))["edges"][PAGE - 1]["cursor"]
        index -= PAGE

    async def missing_page(after: str | None) -> dict[str, Any]:
        found = await report(departments=departments_after, missing=after)
        edge = found["departmentsConnection"]["edges"][index]
        assert edge["node"]["department"] == "Dept 0"
        connection: dict[str, Any] = edge["node"]["missingConnection"]
        return connection

    lacking = await walk(missing_page, 7)
    assert sorted(p["personName"] for p in lacking) == sorted([*crowded, "Someone"])
    assert {m["competenceName"] for p in lacking for m in p["missing"]} == {"AI policy"}


# --- Query.webhookSubscriptionsConnection --------------------------------------------------------

CREATE_WEBHOOK = """
mutation($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  subscription { id } errors { code } } }
"""
WEBHOOKS = """
query($first: Int!, $after: String) {
  webhookSubscriptions { id }
  webhookSubscriptionsConnection(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id description } } }
}
"""


async def test_webhook_subscriptions_page_oldest_first(stack: Stack, org: uuid.UUID) -> None:
    created = []
    for i in range(7):
        found = await query(
            stack,
            org,
            CREATE_WEBHOOK,
            input={
                "url": f"http://127.0.0.1:9/hooks/{i}",
                "eventTypes": ["*"],
                "description": f"Hook {i}",
            },
        )
        payload = found["createWebhookSubscription"]
        assert payload["errors"] == [], payload
        created.append(payload["subscription"]["id"])

    async def page(after: str | None) -> dict[str, Any]:
        found = await query(stack, org, WEBHOOKS, first=PAGE, after=after)
        connection: dict[str, Any] = found["webhookSubscriptionsConnection"]
        return connection

    walked = await walk(page, 7)
    assert [w["id"] for w in walked] == created
    assert [w["description"] for w in walked] == [f"Hook {i}" for i in range(7)]
    deprecated = (await query(stack, org, WEBHOOKS, first=PAGE))["webhookSubscriptions"]
    assert [w["id"] for w in deprecated] == created
    other = await gql(stack.gateway, stack.headers(uuid.uuid4(), "admin"), WEBHOOKS, {"first": 3})
    assert data(other)["webhookSubscriptionsConnection"]["edges"] == []
