"""Every nested list of the schema costs a constant number of upstream calls, whatever N.

The list fields are read from the schema itself: a list or connection of objects whose value a
resolver computes (a plain attribute is served from its parent's own upstream answer, so it
costs nothing). Each must be covered by a :class:`Case` that pages N = 1, 10 and 100 parents
(fewer where the parents are reference data) and counts the gateway's upstream requests by
``METHOD host path``; the counts must be equal for every N. A new list field without a case
fails :func:`test_every_resolved_list_field_has_a_case`.

Upstream calls are counted by the transport under the gateway's connection pool (what the
upstream apps receive), never by patching the product's queries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)
from strawberry.relay import GlobalID

from gateway.schema import build_schema
from shared.testing import eventually
from tests.conftest import Stack
from tests.gateway.cycle_helpers import CountingGateway, counting_gateway, rest_created
from tests.gateway.test_evidence_graphql import data, gql

pytestmark = pytest.mark.engines

TODAY = date.today()
SIZES = (1, 10, 100)
Arrange = Callable[[Stack, uuid.UUID, int, int], Awaitable[None]]


# --- The list fields of the schema ---------------------------------------------------------------


def resolved_list_fields() -> set[str]:
    """``Type.field`` of every list/connection of objects whose value a resolver computes."""
    schema = build_schema()
    found: set[str] = set()
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"Query", "Mutation", "Subscription"}:
            continue
        if not isinstance(gql_type, GraphQLObjectType) or name.endswith(("Connection", "Edge")):
            continue
        definition = schema.get_type_by_name(name)
        fields = {schema.config.name_converter.get_graphql_name(f): f for f in definition.fields}  # type: ignore[union-attr]
        for field_name, field in gql_type.fields.items():
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            named = get_named_type(field.type)
            is_list = isinstance(inner, GraphQLList) and isinstance(
                named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
            )
            if not (is_list or named.name.endswith("Connection")):
                continue
            if fields[field_name].base_resolver is not None:
                found.add(f"{name}.{field_name}")
    return found


def selected_fields(query: str) -> set[str]:
    """``Type.field`` of every field ``query`` selects."""
    schema = build_schema()._schema
    type_info = TypeInfo(schema)
    seen: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                seen.add(f"{parent.name}.{node.name.value}")

    visit(parse(query), TypeInfoVisitor(type_info, Collect()))
    return seen


# --- Arranging parents over REST -----------------------------------------------------------------


def admin(stack: Stack, org: uuid.UUID) -> dict[str, str]:
    return stack.headers(org, "admin")


async def in_batches(count: range, make: Callable[[int], Awaitable[None]]) -> None:
    """``make(i)`` for each ``i``, ten at a time (the services are shared with other tests)."""
    items = list(count)
    for start in range(0, len(items), 10):
        await asyncio.gather(*(make(i) for i in items[start : start + 10]))


async def post(stack: Stack, service: str, path: str, org: uuid.UUID, body: Any) -> Any:
    return await rest_created(
        await stack.clients[service].post(path, json=body, headers=admin(stack, org))
    )


async def projected(stack: Stack, org: uuid.UUID, count: int) -> None:
    """Wait until the risk and evidence services both know ``count`` systems of ``org``."""
    headers = stack.headers(org, "viewer")

    async def known(service: str) -> bool:
        response = await stack.clients[service].get(
            "/v1/systems", params={"limit": 100}, headers=headers
        )
        return response.status_code == 200 and len(response.json()["items"]) >= count

    await eventually(lambda: known("risk"), timeout=60)
    await eventually(lambda: known("evidence"), timeout=60)


def risk_body(system_id: str, i: int) -> dict[str, Any]:
    return {
        "system_id": system_id,
        "title": f"Risk {i:03d}",
        "domain_id": "1",
        "subdomain_id": "1.1",
        "entity": "ai",
        "intent": "unintentional",
        "timing": "post_deployment",
        "likelihood": 3,
        "severity": 3,
    }


async def arrange_systems(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    """Systems, each with a component, a risk and a linked evidence item."""
    created: list[str] = []

    async def system(i: int) -> None:
        found = await post(stack, "inventory", "/v1/ai-systems", org, {"name": f"System {i:03d}"})
        created.append(found["id"])

    for i in range(start, stop):  # in order: the page is oldest first
        await system(i)
    await projected(stack, org, stop)

    async def children(i: int) -> None:
        system_id = created[i - start]
        await post(
            stack,
            "inventory",
            "/v1/components",
            org,
            {"kind": "model", "name": f"Model {i:03d}", "system_id": system_id},
        )
        await post(stack, "risk", "/v1/risks", org, risk_body(system_id, i))
        await post(
            stack,
            "evidence",
            "/v1/evidence",
            org,
            {
                "title": f"Evidence {i:03d}",
                "links": [{"target_type": "system", "target_id": system_id}],
            },
        )

    await in_batches(range(start, stop), children)


async def arrange_vendors(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    for i in range(start, stop):
        vendor = await post(stack, "inventory", "/v1/vendors", org, {"name": f"Vendor {i:03d}"})
        await post(
            stack,
            "inventory",
            "/v1/ai-systems",
            org,
            {"name": f"System {i:03d}", "vendor_id": vendor["id"]},
        )


async def arrange_evidence(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    for i in range(start, stop):
        await post(
            stack,
            "evidence",
            "/v1/evidence",
            org,
            {
                "title": f"Evidence {i:03d}",
                "links": [{"target_type": "control", "target_id": "A.2.2"}],
            },
        )


async def _competence(stack: Stack, org: uuid.UUID) -> str:
    """The org's one competence (created on first use)."""
    found = await stack.evidence.get(
        "/v1/competences", params={"limit": 1}, headers=admin(stack, org)
    )
    if items := found.json()["items"]:
        return str(items[0]["id"])
    created = await post(stack, "evidence", "/v1/competences", org, {"name": "AI risk"})
    return str(created["id"])


async def arrange_people(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    competence = await _competence(stack, org)
    for i in range(start, stop):
        person = await post(stack, "evidence", "/v1/people", org, {"name": f"Person {i:03d}"})
        await post(
            stack,
            "evidence",
            "/v1/trainings",
            org,
            {
                "person_id": person["id"],
                "competence_id": competence,
                "title": "Risk workshop",
                "completed_at": TODAY.isoformat(),
            },
        )


async def arrange_roles(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    competence = await _competence(stack, org)
    for i in range(start, stop):
        role = await post(
            stack,
            "evidence",
            "/v1/aims-roles",
            org,
            {"name": f"Role {i:03d}", "required_competence_ids": [competence]},
        )
        person = await post(stack, "evidence", "/v1/people", org, {"name": f"Holder {i:03d}"})
        await post(
            stack,
            "evidence",
            f"/v1/aims-roles/{role['id']}/assignments",
            org,
            {"person_id": person["id"]},
        )


async def arrange_objectives(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    for i in range(start, stop):
        objective = await post(
            stack,
            "evidence",
            "/v1/objectives",
            org,
            {
                "title": f"Objective {i:03d}",
                "measure": "Accuracy",
                "target_value": 0.9,
                "direction": "at_least",
                "owner": "owner@example.com",
                "due_date": (TODAY + timedelta(days=90)).isoformat(),
            },
        )
        await post(
            stack,
            "evidence",
            f"/v1/objectives/{objective['id']}/measurements",
            org,
            {"value": 0.8, "measured_on": TODAY.isoformat()},
        )


async def arrange_reviews(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    for i in range(start, stop):
        review = await post(
            stack,
            "evidence",
            "/v1/management-reviews",
            org,
            {"title": f"Review {i:03d}", "review_date": TODAY.isoformat()},
        )
        await post(
            stack,
            "evidence",
            f"/v1/management-reviews/{review['id']}/actions",
            org,
            {
                "title": f"Action {i:03d}",
                "owner": "owner@example.com",
                "due_date": (TODAY + timedelta(days=30)).isoformat(),
            },
        )


def _programme(i: int) -> dict[str, Any]:
    return {
        "title": f"Programme {i:03d}",
        "period_start": (TODAY - timedelta(days=10)).isoformat(),
        "period_end": (TODAY + timedelta(days=300)).isoformat(),
    }


def _audit(programme_id: str, i: int, **more: Any) -> dict[str, Any]:
    return {
        "programme_id": programme_id,
        "title": f"Audit {i:03d}",
        "planned_start": TODAY.isoformat(),
        "planned_end": TODAY.isoformat(),
        "clauses": ["9.2"],
        "lead_auditor": "lead@example.com",
        **more,
    }


async def arrange_programmes(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    for i in range(start, stop):
        programme = await post(stack, "evidence", "/v1/audit-programmes", org, _programme(i))
        await post(stack, "evidence", "/v1/audits", org, _audit(programme["id"], i))


async def arrange_audits(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    listed = await stack.evidence.get(
        "/v1/audit-programmes", params={"limit": 1}, headers=admin(stack, org)
    )
    if items := listed.json()["items"]:
        programme_id = items[0]["id"]
    else:
        programme_id = (await post(stack, "evidence", "/v1/audit-programmes", org, _programme(0)))[
            "id"
        ]
    for i in range(start, stop):
        sampled = await post(stack, "evidence", "/v1/evidence", org, {"title": f"Sample {i:03d}"})
        audit = await post(
            stack,
            "evidence",
            "/v1/audits",
            org,
            _audit(programme_id, i, evidence_sampled=[sampled["id"]]),
        )
        await rest_created(
            await stack.evidence.post(
                f"/v1/audits/{audit['id']}/start", headers=stack.headers(org, "manager")
            )
        )
        await rest_created(
            await stack.evidence.post(
                f"/v1/audits/{audit['id']}/findings",
                json={
                    "kind": "observation",
                    "title": f"Finding {i:03d}",
                    "description": "Seen during the audit.",
                    "links": [{"target_type": "clause", "target_id": "9.2"}],
                },
                headers=stack.headers(org, "auditor"),
            )
        )


async def arrange_nonconformities(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    for i in range(start, stop):
        nc = await post(
            stack,
            "evidence",
            "/v1/nonconformities",
            org,
            {"title": f"Nonconformity {i:03d}", "severity": "minor"},
        )
        await post(
            stack,
            "evidence",
            f"/v1/nonconformities/{nc['id']}/actions",
            org,
            {
                "description": "Fix it",
                "owner": "owner@example.com",
                "due_date": (TODAY + timedelta(days=30)).isoformat(),
            },
        )


async def arrange_scope_versions(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    """Draft scope versions, each listing a system of its own."""
    for i in range(start, stop):
        system = await post(stack, "inventory", "/v1/ai-systems", org, {"name": f"System {i:03d}"})
        await post(
            stack,
            "inventory",
            "/v1/scope-versions",
            org,
            {"statement": f"Scope {i:03d}", "systems": [{"system_id": system["id"]}]},
        )


async def reference_data(stack: Stack, org: uuid.UUID, start: int, stop: int) -> None:
    """The parents are reference data every organisation has (controls, required documents)."""


# --- The cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """N parents of one type paged with their nested lists (``$first`` = N)."""

    name: str
    arrange: Arrange
    query: str
    # Where the page's nodes are in the answer: the root field, and whether it is a connection.
    root: str
    connection: bool = True
    sizes: Sequence[int] = SIZES
    # A known offender (see KNOWN_N_PLUS_ONE): asserted to still grow, on few parents, so that
    # fixing it fails this test until the field moves to a constant case.
    grows: bool = False


# Resolved fields still costing one upstream call per parent, with what a fix needs.
# Empty: every resolved field is batched. A new offender goes here with a growing case.
KNOWN_N_PLUS_ONE: dict[str, str] = {}


CASES: list[Case] = [
    Case(
        "systems",
        arrange_systems,
        """query($first: Int!) { aiSystems(first: $first) { edges { node {
          name dataInputs { __typename }
          components { edges { node { name vendor { name } } } }
          risks { edges { node { title } } }
          evidence { edges { node { title } } }
          riskView { syncedAt } riskSummary { openCount } evidenceSummary { fileCount }
          classification { tier } evidenceCoverage { __typename }
        } } } }""",
        "aiSystems",
    ),
    Case(
        "vendors",
        arrange_vendors,
        """query($first: Int!) { vendors(first: $first) { edges { node {
          name systems { edges { node { name } } }
        } } } }""",
        "vendors",
    ),
    Case(
        "evidence",
        arrange_evidence,
        """query($first: Int!) { evidence(first: $first) { edges { node {
          title links { targetId }
          versions { edges { node { number files { __typename } } } }
          files { __typename }
        } } } }""",
        "evidence",
    ),
    Case(
        "people",
        arrange_people,
        """query($first: Int!) { people(first: $first) { edges { node {
          name trainings { edges { node { title competence { name } } } }
        } } } }""",
        "people",
    ),
    Case(
        "roles",
        arrange_roles,
        """query($first: Int!) { aimsRoles(first: $first) { edges { node {
          name requiredCompetences { name } holders { name }
          holdersConnection { edges { node { name } } }
          assignments { edges { node { __typename } } }
        } } } }""",
        "aimsRoles",
    ),
    Case(
        "competence-gaps",
        arrange_roles,
        """query($first: Int!) { competenceGaps(first: $first) { edges { node {
          roleName gapsConnection { edges { node { personName } } } role { name }
        } } } }""",
        "competenceGaps",
    ),
    Case(
        "scope-versions",
        arrange_scope_versions,
        """query($first: Int!) { scopeVersions(first: $first) { edges { node {
          number systemsConnection { edges { node { aiSystem { name } } } }
        } } } }""",
        "scopeVersions",
    ),
    Case(
        "objectives",
        arrange_objectives,
        """query($first: Int!) { objectives(first: $first) { edges { node {
          title latestMeasurements(last: 3) { value }
        } } } }""",
        "objectives",
    ),
    Case(
        "objective-measurements",
        arrange_objectives,
        """query($first: Int!) { objectives(first: $first) { edges { node {
          title measurements { edges { node { value } } }
        } } } }""",
        "objectives",
    ),
    Case(
        "reviews",
        arrange_reviews,
        """query($first: Int!) { managementReviews(first: $first) { edges { node {
          title inputs { __typename } actions { edges { node { title } } }
        } } } }""",
        "managementReviews",
    ),
    Case(
        "programmes",
        arrange_programmes,
        """query($first: Int!) { auditProgrammes(first: $first) { edges { node {
          title audits { edges { node { title } } }
        } } } }""",
        "auditProgrammes",
    ),
    Case(
        "programme-coverage",
        arrange_programmes,
        """query($first: Int!) { auditProgrammes(first: $first) { edges { node {
          title coverage { clauseGaps { __typename } controlGaps { __typename } }
        } } } }""",
        "auditProgrammes",
    ),
    Case(
        "audits",
        arrange_audits,
        """query($first: Int!) { audits(first: $first) { edges { node {
          title findings { title links { __typename } } aiSystems { name }
          evidenceSampled { title }
        } } } }""",
        "audits",
    ),
    Case(
        "nonconformities",
        arrange_nonconformities,
        """query($first: Int!) { nonconformities(first: $first) { edges { node {
          title rootCauseWhys { __typename } actions { description }
        } } } }""",
        "nonconformities",
    ),
    Case(
        "controls",
        reference_data,
        """query { controls { id nistSubcategories { __typename }
          euAiActArticles { __typename } evidence { edges { node { title } } } } }""",
        "controls",
        connection=False,
        sizes=(1, 10, 30),
    ),
    Case(
        "documents",
        reference_data,
        """query { documentedInformation { items { id evidence { title } } } }""",
        "documentedInformation",
        connection=False,
        sizes=(1, 5, 10),
    ),
]

# Resolved list fields whose parent is not paged N at a time, with the reason.
NOT_PAGED: dict[str, str] = {
    "AwarenessReport.departmentsConnection": "under `competenceAwareness`, one report per "
    "request; paged in the gateway over that one upstream answer (no call per page)",
    "DepartmentAwareness.missingConnection": "inside the one awareness report; paged in the "
    "gateway over it (no upstream call)",
    "RiskDashboard.systemsConnection": "under `riskDashboard`, one aggregate per request; paged "
    "in the gateway over it (no upstream call)",
    "ScopeSystemsDiff.addedConnection": "under `scopeDiff`, one diff per request; paged in the "
    "gateway over it (no upstream call)",
    "ScopeSystemsDiff.removedConnection": "under `scopeDiff`, one diff per request; paged in "
    "the gateway over it (no upstream call)",
    "ScopeSystemsDiff.changedConnection": "under `scopeDiff`, one diff per request; paged in "
    "the gateway over it (no upstream call)",
    "ReadinessEvidence.items": "under `readiness`, one verdict per request; the items of every "
    "clause and control are loaded together through the evidence DataLoader",
    "SoAVersion.entries": "a version's entries are its snapshot (one read per version); pages "
    "of versions list their headers, and a client compares versions with `soaDiff`",
}


def test_every_resolved_list_field_has_a_case() -> None:
    covered = set().union(*(selected_fields(case.query) for case in CASES))
    growing = set().union(*(selected_fields(case.query) for case in CASES if case.grows))
    assert set(KNOWN_N_PLUS_ONE) <= growing, "each known offender needs a growing case"
    constant = set().union(*(selected_fields(case.query) for case in CASES if not case.grows))
    assert not constant & set(KNOWN_N_PLUS_ONE), "a known offender in a constant case"
    missing = resolved_list_fields() - covered - set(NOT_PAGED)
    assert not missing, f"nested list fields with no constant-cost case: {sorted(missing)}"
    stale = set(NOT_PAGED) - resolved_list_fields()
    assert not stale, f"NOT_PAGED names fields that are not resolved lists: {sorted(stale)}"


def test_the_node_lookups_of_every_node_type_are_in_the_node_case() -> None:
    schema = build_schema()._schema
    node_types = {
        name
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    }
    assert node_types == set(NODE_ARRANGEMENTS), (
        "every type implementing Node needs an arrangement in NODE_ARRANGEMENTS: "
        f"{sorted(node_types ^ set(NODE_ARRANGEMENTS))}"
    )


@pytest.fixture(scope="module")
async def counting(stack: Stack) -> AsyncIterator[CountingGateway]:
    async with counting_gateway(stack) as gateway:
        yield gateway


def _page(case: Case, body: dict[str, Any], size: int) -> list[Any]:
    found = data(body)[case.root]
    if case.connection:
        return [edge["node"] for edge in found["edges"]]
    items = found["items"] if isinstance(found, dict) else found
    return list(items[:size])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_page_of_n_parents_costs_the_same_upstream_calls_for_every_n(
    stack: Stack, counting: CountingGateway, case: Case
) -> None:
    org = uuid.uuid4()
    headers = stack.headers(org, "viewer")
    calls: dict[int, Counter[str]] = {}
    arranged = 0
    for size in case.sizes:
        await case.arrange(stack, org, arranged, size)
        arranged = size
        counting.transport.calls.clear()
        variables = {"first": size} if case.connection else {}
        body = await gql(counting.client, headers, case.query, variables)
        page = _page(case, body, size)
        assert len(page) == size, body
        calls[size] = Counter(counting.transport.calls)
    first, *rest = case.sizes
    for size in rest:
        if case.grows:
            assert calls[size].total() > calls[first].total(), (
                f"{case.name} no longer grows with N: move its fields out of KNOWN_N_PLUS_ONE"
            )
            continue
        assert calls[size] == calls[first], (
            f"{case.name}: {size} parents cost {dict(calls[size])}, "
            f"{first} cost {dict(calls[first])}"
        )


# --- node(id) and nodes(ids) ---------------------------------------------------------------------


async def _first_id(stack: Stack, org: uuid.UUID, service: str, path: str) -> str:
    listed = await stack.clients[service].get(path, params={"limit": 1}, headers=admin(stack, org))
    assert listed.status_code == 200, listed.text
    return str(listed.json()["items"][0]["id"])


def creating(
    service: str, path: str, body: Callable[[int], dict[str, Any]]
) -> Callable[[Stack, uuid.UUID, int], Awaitable[list[str]]]:
    async def make(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
        return [str((await post(stack, service, path, org, body(i)))["id"]) for i in range(count)]

    return make


def listing(
    arrange: Arrange, service: str, path: str
) -> Callable[[Stack, uuid.UUID, int], Awaitable[list[str]]]:
    """Arranged by a case's arrangement, then listed over REST."""

    async def make(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
        await arrange(stack, org, 0, count)
        listed = await stack.clients[service].get(
            path, params={"limit": count}, headers=admin(stack, org)
        )
        assert listed.status_code == 200, listed.text
        return [str(item["id"]) for item in listed.json()["items"]][:count]

    return make


async def _milestones(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    response = await stack.evidence.put(
        "/v1/certification-plan",
        json={"target_date": (TODAY + timedelta(days=365)).isoformat()},
        headers=admin(stack, org),
    )
    assert response.status_code in (200, 201), response.text
    return [str(m["id"]) for m in response.json()["milestones"]][:count]


async def _scope_versions(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    return [
        str((await post(stack, "inventory", "/v1/scope-versions", org, {}))["id"])
        for _ in range(count)
    ]


async def _impact_assessments(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    await arrange_systems_plain(stack, org, count)
    systems = await stack.risk.get(
        "/v1/systems", params={"limit": count}, headers=admin(stack, org)
    )
    return [
        str(
            (await post(stack, "risk", "/v1/impact-assessments", org, {"system_id": item["id"]}))[
                "id"
            ]
        )
        for item in systems.json()["items"][:count]
    ]


async def arrange_systems_plain(stack: Stack, org: uuid.UUID, count: int) -> None:
    for i in range(count):
        await post(stack, "inventory", "/v1/ai-systems", org, {"name": f"System {i:03d}"})
    await projected(stack, org, count)


async def _risks(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    await arrange_systems_plain(stack, org, 1)
    system = await _first_id(stack, org, "risk", "/v1/systems")
    return [
        str((await post(stack, "risk", "/v1/risks", org, risk_body(system, i)))["id"])
        for i in range(count)
    ]


async def _findings(stack: Stack, org: uuid.UUID, count: int) -> list[str]:
    await arrange_audits(stack, org, 0, count)
    listed = await stack.evidence.get(
        "/v1/findings", params={"limit": count}, headers=admin(stack, org)
    )
    return [str(item["id"]) for item in listed.json()["items"]]


NodeArrangement = Callable[[Stack, uuid.UUID, int], Awaitable[list[str]]]

NODE_ARRANGEMENTS: dict[str, NodeArrangement] = {
    "AISystem": creating("inventory", "/v1/ai-systems", lambda i: {"name": f"System {i}"}),
    "Component": creating(
        "inventory", "/v1/components", lambda i: {"kind": "model", "name": f"Model {i}"}
    ),
    "Vendor": creating("inventory", "/v1/vendors", lambda i: {"name": f"Vendor {i}"}),
    "ContextIssue": creating(
        "inventory",
        "/v1/context-issues",
        lambda i: {
            "kind": "external",
            "framework": "pestle",
            "category": "legal",
            "title": f"Issue {i}",
        },
    ),
    "InterestedParty": creating(
        "inventory",
        "/v1/interested-parties",
        lambda i: {"name": f"Party {i}", "type": "regulator"},
    ),
    "ScopeVersion": _scope_versions,
    "Risk": _risks,
    "ImpactAssessment": _impact_assessments,
    "Evidence": creating("evidence", "/v1/evidence", lambda i: {"title": f"Evidence {i}"}),
    "Person": creating("evidence", "/v1/people", lambda i: {"name": f"Person {i}"}),
    "Competence": creating("evidence", "/v1/competences", lambda i: {"name": f"Skill {i}"}),
    "Training": listing(arrange_people, "evidence", "/v1/trainings"),
    "AIMSRole": creating("evidence", "/v1/aims-roles", lambda i: {"name": f"Role {i}"}),
    "Objective": listing(arrange_objectives, "evidence", "/v1/objectives"),
    "ManagementReview": listing(arrange_reviews, "evidence", "/v1/management-reviews"),
    "ManagementReviewAction": listing(arrange_reviews, "evidence", "/v1/management-review-actions"),
    "AuditProgramme": creating("evidence", "/v1/audit-programmes", _programme),
    "Audit": listing(arrange_programmes, "evidence", "/v1/audits"),
    "Finding": _findings,
    "Nonconformity": listing(arrange_nonconformities, "evidence", "/v1/nonconformities"),
    "CorrectiveAction": listing(arrange_nonconformities, "evidence", "/v1/corrective-actions"),
    "Milestone": _milestones,
}

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.parametrize("type_name", sorted(NODE_ARRANGEMENTS))
async def test_node_resolves_the_type_and_nodes_cost_constant_calls(
    stack: Stack, counting: CountingGateway, type_name: str
) -> None:
    org = uuid.uuid4()
    headers = stack.headers(org, "viewer")
    ids = [str(GlobalID(type_name, i)) for i in await NODE_ARRANGEMENTS[type_name](stack, org, 10)]
    assert ids, f"nothing arranged for {type_name}"

    found = data(await gql(counting.client, headers, NODE, {"id": ids[0]}))["node"]
    assert found == {"__typename": type_name, "id": ids[0]}

    calls: dict[int, Counter[str]] = {}
    sizes = sorted({1, len(ids)})
    for size in sizes:
        counting.transport.calls.clear()
        nodes = data(await gql(counting.client, headers, NODES, {"ids": ids[:size]}))["nodes"]
        assert [n["id"] for n in nodes] == ids[:size]
        assert {n["__typename"] for n in nodes} == {type_name}
        calls[size] = Counter(counting.transport.calls)
    assert calls[sizes[0]] == calls[sizes[-1]], calls
