"""Every connection follows one argument convention; every list that can grow is a connection.

The convention (``docs/architecture.md``, GraphQL gateway): ``first``, ``after``, an optional
``filter: <Thing>Filter`` holding all filters and an optional ``sort: <Thing>Sort`` enum where the
upstream can order the list. The schema walk below fails for a connection that takes anything
else, unless it is a required scoping argument listed in :data:`SCOPING_ARGUMENTS` with its
reason, or a deprecated loose argument that ``filter`` carries under the same name (kept so no
client breaks). It also fails for a plain list of objects not listed, with the reason it stays
a plain list, in :data:`PLAIN_LISTS`; a list that grows is listed only as ``deprecated; use X``,
kept beside the connection ``X`` that replaced it (deprecated, so no client breaks), and no
listed reason may say it GROWS. The GraphQL tests then check, through the real services, that the
``filter`` arguments that replaced loose ones filter and that the loose ones still work; the
replacing connections page in ``test_growing_list_connections.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from gateway.schema import build_schema
from gateway.schema.pagination import DEFAULT_PAGE_SIZE
from tests.conftest import Stack
from tests.gateway.test_evidence_graphql import data, gql

CONVENTION = frozenset({"first", "after", "filter", "sort"})

# `Type.field` → {argument: why the connection needs it}: required arguments that say *which*
# list this is, not how to narrow it.
SCOPING_ARGUMENTS: dict[str, dict[str, str]] = {
    "Query.auditTrail": {
        "service": "each service keeps its own hash-chained trail; there is no merged one",
    },
    "Query.aiSystemHistory": {"id": "the history is one AI system's changes"},
    "Query.systemDependenciesConnection": {"id": "the walk starts from one AI system"},
}

# The connections that take `sort`: the upstream orders these lists itself (only
# `GET /v1/ai-systems?sort=` has an order parameter; every other list is keyset, oldest first).
SORTED = frozenset({"Query.aiSystems"})

# Plain lists of objects (`[X!]!`) and why each is bounded, or why it is not a connection yet.
_CATALOGUE = "a fixed catalogue (ISO/IEC 42001 clauses and Annex A controls, EU AI Act text)"
_PARTS = "parts of one object, stored and edited with it; a handful each"
_REPORT = "a computed report over a bounded set (rules, clauses, controls, matrix cells)"
_MUTATION = "what one mutation did, bounded by its input"
_REFUSAL = "the reasons of one refusal; a handful"
_BY_IDS = "the objects behind a list of ids this object holds, bounded like the ids"
_DEPRECATED = "deprecated; use "
PLAIN_LISTS: dict[str, str] = {
    # objects behind ids, or parts of one object
    "AIMSRole.requiredCompetences": _BY_IDS + " (a role requires a few competences)",
    "AISystem.dataInputs": _PARTS,
    "AISystemChange.changes": "the fields one change touched; bounded by the system's fields",
    "Audit.aiSystems": _BY_IDS + " (the systems one audit covers, chosen by the auditor)",
    "Audit.evidenceSampled": _BY_IDS + " (the sample an auditor chose)",
    "Audit.findings": "the findings of one audit (takes `kinds`); tens at most",
    "DependencyPath.path": "one shortest path, bounded by the dependency depth",
    "DocumentedInformation.evidence": _BY_IDS + " (best first)",
    "EUAIActMapping.clauses": _CATALOGUE,
    "EUAIActMapping.controls": _CATALOGUE,
    "EUAIActQuestion.options": _CATALOGUE,
    "EUAIActQuestionnaire.questions": _CATALOGUE,
    "Evidence.files": _PARTS,
    "Evidence.links": _PARTS,
    "EvidenceVersion.files": _PARTS,
    "Finding.links": _PARTS,
    "FundamentalRightsAssessment.specificRisksOfHarm": _PARTS,
    "ImpactAssessment.impactsOnGroups": _PARTS,
    "ImpactAssessment.impactsOnIndividuals": _PARTS,
    "ImpactAssessment.impactsOnSociety": _PARTS,
    "ImpactAssessment.stakeholders": _PARTS,
    "InterestedParty.requirements": _PARTS,
    "ManagementReview.inputs": _PARTS + " (the 9.3 inputs)",
    "Nonconformity.actions": "the corrective actions of one nonconformity; a few",
    "Nonconformity.rootCauseWhys": _PARTS + " (five whys)",
    "Objective.latestMeasurements": "the last `last` measurements (capped); "
    "`measurements` is the connection",
    "ReadinessEvidence.items": _BY_IDS + " (at most 10)",
    "ScopeVersion.activities": _PARTS,
    "ScopeVersion.departments": _PARTS,
    "ScopeVersion.locations": _PARTS,
    "ScopeWarning.path": "one dependency path, bounded by the dependency depth",
    "SoAEntryDiff.changes": "the fields of one SoA entry that changed",
    # catalogues and reports over bounded sets
    "Classification.obligations": _CATALOGUE,
    "Classification.warnings": "the warnings of one classification; a few",
    "Control.euAiActArticles": _CATALOGUE,
    "Control.nistSubcategories": _CATALOGUE,
    "EUAIActCrosswalk.items": _CATALOGUE,
    "EUAIActCrosswalk.noCounterpart": _CATALOGUE,
    "NistCrosswalk.items": _CATALOGUE,
    "RelatedEUAIAct.articles": _CATALOGUE,
    "Query.controls": _CATALOGUE + " (38 Annex A controls)",
    "Query.soaEntries": "one entry per Annex A control",
    "SoAVersion.entries": "one entry per Annex A control",
    "SoAProposal.entries": "one entry per Annex A control",
    "SoACheck.flags": "at most a few per Annex A control",
    "SoACheck.inconsistencies": "at most a few per Annex A control",
    "SoADiff.changed": "at most one per Annex A control",
    "AuditCoverage.clauseGaps": _CATALOGUE,
    "AuditCoverage.controlGaps": _CATALOGUE,
    "Readiness.rules": _REPORT,
    "Readiness.blockerCounts": _REPORT,
    "Readiness.blockers": "aggregated per rule and subject, each with a `count` and at most 10 "
    "`subjectIds`",
    "Readiness.clauses": _CATALOGUE,
    "Readiness.controls": _CATALOGUE,
    "ReadinessSnapshot.blockerCounts": _REPORT,
    "RemediationPlan.tasks": "one task per blocker kind of the readiness report",
    "CertificationPlan.milestones": "the certification stages; a handful",
    "RiskDashboard.heatMap": _REPORT,
    "RiskDashboard.levels": _REPORT,
    "RiskDashboard.domains": _REPORT + " (risk domains)",
    "AuditTrailVerification.counts": "one count per problem kind",
    "AuditTrailVerification.problems": "capped upstream (shared.audit.MAX_PROBLEMS_LISTED); "
    "a healthy trail has none",
    "DocumentedInformationList.items": "the documented-information catalogue (ISO/IEC 42001 "
    "clauses' required items), small",
    "DocumentedInformationSummary.counts": "one count per status",
    "DocumentedInformationSummary.attention": "organisation-level catalogue items only",
    "SystemDocumentedInformation.items": "the per-system documented-information catalogue",
    "Query.nodes": "bounded by the `ids` the caller sends",
    "AISystemsCompleteness.edges": "the edges of a paged result (`first`/`after`), a connection "
    "in all but name",
    # what one mutation did, or why it was refused
    "BomImportSummary.created": _MUTATION,
    "BomImportSummary.updated": _MUTATION,
    "BomImportSummary.removed": _MUTATION,
    "BomImportSummary.removedDependencies": _MUTATION,
    "AuditorNotIndependentError.reasons": _REFUSAL,
    "ImpactAssessmentIncompleteError.missing": _REFUSAL,
    "ScopeApprovalRefusedError.reasons": _REFUSAL,
    "ScopeCheck.reasons": _REFUSAL,
    "ScopeCheck.warnings": "one per in-scope system depending on something outside the scope",
    "AwarenessReport.topics": "the awareness competences; a few",
    "PersonMissingAwareness.missing": "the awareness topics one person lacks; a few",
    "ScopeBoundaryDiff.added": _PARTS,
    "ScopeBoundaryDiff.removed": _PARTS,
    "ScopeBoundaryDiff.changed": _PARTS,
    # Lists that grow, kept (deprecated) beside the connection that replaced them so no client
    # breaks: `deprecated; use X` names the connection field X on the same type.
    "AIMSRole.holders": _DEPRECATED + "holdersConnection",
    "AwarenessReport.departments": _DEPRECATED + "departmentsConnection",
    "DepartmentAwareness.missing": _DEPRECATED + "missingConnection",
    "CompetenceRoleGap.gaps": _DEPRECATED + "gapsConnection",
    "RiskDashboard.systems": _DEPRECATED + "systemsConnection",
    "ScopeVersion.systems": _DEPRECATED + "systemsConnection",
    "ScopeSystemsDiff.added": _DEPRECATED + "addedConnection",
    "ScopeSystemsDiff.removed": _DEPRECATED + "removedConnection",
    "ScopeSystemsDiff.changed": _DEPRECATED + "changedConnection",
    "Query.systemDependencies": _DEPRECATED + "systemDependenciesConnection",
    "Query.webhookSubscriptions": _DEPRECATED + "webhookSubscriptionsConnection",
}


@cache
def schema() -> GraphQLSchema:
    built: GraphQLSchema = build_schema()._schema
    return built


def object_fields() -> list[tuple[str, GraphQLObjectType, str, GraphQLField]]:
    return [
        (f"{name}.{field_name}", t, field_name, field)
        for name, t in sorted(schema().type_map.items())
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
        for field_name, field in t.fields.items()
    ]


def connections() -> dict[str, GraphQLField]:
    return {
        path: field
        for path, _, _, field in object_fields()
        if get_named_type(field.type).name.endswith("Connection")
    }


def _nullable(arg: GraphQLArgument) -> Any:
    return arg.type.of_type if isinstance(arg.type, GraphQLNonNull) else arg.type


def convention_problems(path: str, field: GraphQLField) -> list[str]:
    """What breaks the convention in one connection field (empty: it follows it)."""
    problems: list[str] = []
    args = field.args
    if "first" not in args or "after" not in args:
        problems.append(f"{path}: takes no `first`/`after`")
    elif path.startswith("Query.") and args["first"].default_value != DEFAULT_PAGE_SIZE:
        problems.append(f"{path}: `first` defaults to {args['first'].default_value} at the root")
    elif not 1 <= args["first"].default_value <= DEFAULT_PAGE_SIZE:
        problems.append(f"{path}: `first` defaults to {args['first'].default_value}")
    filter_type = _nullable(args["filter"]) if "filter" in args else None
    named_filter = isinstance(filter_type, GraphQLInputObjectType) and filter_type.name.endswith(
        "Filter"
    )
    if filter_type is not None and args["filter"].deprecation_reason is None and not named_filter:
        problems.append(f"{path}: `filter` is {filter_type}, not an input named <Thing>Filter")
    if "sort" in args:
        sort = _nullable(args["sort"])
        if not (isinstance(sort, GraphQLEnumType) and sort.name.endswith("Sort")):
            problems.append(f"{path}: `sort` is {sort}, not an enum named <Thing>Sort")
    scoping = SCOPING_ARGUMENTS.get(path, {})
    for name, arg in args.items():
        if name in CONVENTION or name in scoping:
            continue
        if arg.deprecation_reason is None:
            problems.append(
                f"{path}: `{name}` is neither first/after/filter/sort nor a listed scope"
            )
        elif not (
            isinstance(filter_type, GraphQLInputObjectType)
            and name in filter_type.fields
            and str(filter_type.fields[name].type).rstrip("!") == str(arg.type).rstrip("!")
        ):
            problems.append(f"{path}: deprecated `{name}` has no same-named `filter.{name}`")
    return problems


def test_every_connection_follows_the_argument_convention() -> None:
    found = connections()
    assert len(found) > 30, "the walk found too few connections to be walking the schema"
    problems = [p for path, field in found.items() for p in convention_problems(path, field)]
    assert not problems, "\n".join(problems)


def test_scoping_arguments_are_required_and_listed_ones_exist() -> None:
    found = connections()
    for path, args in SCOPING_ARGUMENTS.items():
        assert path in found, f"{path} is listed but is no connection"
        for name in args:
            assert isinstance(found[path].args[name].type, GraphQLNonNull), (
                f"{path}({name}:) narrows rather than scopes: put it in `filter`"
            )


def test_the_connections_that_sort_are_those_documented() -> None:
    assert {p for p, f in connections().items() if "sort" in f.args} == SORTED


def test_the_walk_catches_a_loose_argument() -> None:
    """The check can fail: a loose filter, a badly named filter or sort are each caught."""
    from graphql import GraphQLArgument, GraphQLBoolean, GraphQLString

    connection = next(iter(connections().values()))
    bad_filter = GraphQLInputObjectType("Things", {"x": GraphQLString})  # type: ignore[dict-item]
    field = GraphQLField(
        connection.type,
        args={
            "first": GraphQLArgument(GraphQLNonNull(GraphQLString), default_value=50),
            "after": GraphQLArgument(GraphQLString),
            "filter": GraphQLArgument(bad_filter),
            "sort": GraphQLArgument(GraphQLBoolean),
            "nameContains": GraphQLArgument(GraphQLString),
            "x": GraphQLArgument(GraphQLString, deprecation_reason="old"),
        },
    )
    problems = " ".join(convention_problems("Query.things", field))
    assert "`filter` is Things" in problems
    assert "`sort` is Boolean" in problems
    assert "`nameContains` is neither" in problems
    assert "deprecated `x`" not in problems  # mirrored in the filter, so allowed


def plain_object_lists() -> set[str]:
    """``Type.field`` of every list of objects, outside connections and mutation payloads."""
    found = set()
    for path, t, _, field in object_fields():
        if t.name.endswith(("Connection", "Payload")):
            continue
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if isinstance(inner, GraphQLList) and not is_leaf_type(get_named_type(inner)):
            found.add(path)
    return found


def test_every_plain_list_of_objects_is_listed_with_why_it_is_no_connection() -> None:
    found = plain_object_lists()
    unlisted = sorted(found - PLAIN_LISTS.keys())
    assert not unlisted, (
        f"lists that may grow without being connections (make them connections, or list them "
        f"in PLAIN_LISTS with why they are bounded): {unlisted}"
    )
    stale = sorted(PLAIN_LISTS.keys() - found)
    assert not stale, f"PLAIN_LISTS names fields that are no plain lists of objects: {stale}"


def replaced_list_problems(
    plain_lists: dict[str, str], fields: dict[str, GraphQLField]
) -> list[str]:
    """What is wrong with the plain lists said to be replaced by a connection (empty: nothing).

    A list that grows may stay in the schema only deprecated, with a reason naming a connection
    on the same type that follows the convention; no list may stay listed as growing."""
    problems: list[str] = []
    for path, reason in plain_lists.items():
        if "GROWS" in reason:
            problems.append(f"{path}: grows without a connection (give it one, see issue 11)")
        if not reason.startswith(_DEPRECATED):
            continue
        replacement = f"{path.split('.')[0]}.{reason.removeprefix(_DEPRECATED)}"
        old = fields.get(path)
        new = fields.get(replacement)
        if new is None or not get_named_type(new.type).name.endswith("Connection"):
            problems.append(f"{path}: {replacement} is no connection")
        elif convention_problems(replacement, new):
            problems.append(f"{path}: {replacement} breaks the connection convention")
        if old is None or old.deprecation_reason is None:
            problems.append(f"{path}: listed as replaced but not deprecated")
        elif replacement.split(".")[1] not in old.deprecation_reason:
            problems.append(f"{path}: its deprecation reason does not name {replacement}")
    return problems


def test_growing_plain_lists_are_deprecated_beside_their_connection() -> None:
    fields = {path: field for path, _, _, field in object_fields()}
    problems = replaced_list_problems(PLAIN_LISTS, fields)
    assert not problems, "\n".join(problems)


def test_a_growing_plain_list_without_a_connection_is_caught() -> None:
    """The check can fail: a list marked as growing, or replaced by nothing, is reported."""
    fields = {path: field for path, _, _, field in object_fields()}
    problems = " ".join(
        replaced_list_problems(
            {
                "ScopeVersion.departments": "GROWS with departments",
                "ScopeVersion.locations": _DEPRECATED + "locationsConnection",
                "ScopeVersion.activities": _DEPRECATED + "systemsConnection",
            },
            fields,
        )
    )
    assert "ScopeVersion.departments: grows without a connection" in problems
    assert "ScopeVersion.locationsConnection is no connection" in problems
    assert "ScopeVersion.activities: listed as replaced but not deprecated" in problems


# --- The filters through the gateway, against the real services -------------------------------

VENDORS = """
query($filter: VendorFilter, $old: String) {
  vendors(first: 50, filter: $filter, nameContains: $old) { edges { node { name } } }
}
"""
COMPONENTS = """
query($filter: ComponentFilter, $old: ID) {
  components(first: 50, filter: $filter, systemId: $old) { edges { node { name } } }
}
"""
SCOPE_VERSIONS = """
query($filter: ScopeVersionFilter, $old: ScopeStatus) {
  scopeVersions(first: 50, filter: $filter, status: $old) { edges { node { number status } } }
}
"""
COMPETENCES = """
query($filter: CompetenceFilter, $old: Boolean) {
  competences(first: 50, filter: $filter, awareness: $old) { edges { node { name } } }
}
"""


def names(found: dict[str, Any]) -> list[str]:
    [connection] = found.values()
    return [e["node"]["name"] for e in connection["edges"]]


async def query(
    stack: Stack, org: uuid.UUID, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    return data(await gql(stack.gateway, stack.headers(org, "viewer"), document, variables))


async def post(stack: Stack, org: uuid.UUID, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.inventory.post(path, json=body, headers=stack.headers(org, "manager"))
    assert response.status_code in (200, 201), response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.engines
async def test_vendors_filter_by_name_and_the_deprecated_argument_still_works(
    stack: Stack, org: uuid.UUID
) -> None:
    for name in ("Acme Models", "Beta Data", "acme labs"):
        await post(stack, org, "/v1/vendors", {"name": name})
    everyone = names(await query(stack, org, VENDORS, {}))
    assert sorted(everyone) == ["Acme Models", "Beta Data", "acme labs"]
    by_filter = names(await query(stack, org, VENDORS, {"filter": {"nameContains": "acme"}}))
    assert sorted(by_filter) == ["Acme Models", "acme labs"]
    assert names(await query(stack, org, VENDORS, {"old": "acme"})) == by_filter
    both = {"filter": {"nameContains": "acme"}, "old": "acme"}
    assert names(await query(stack, org, VENDORS, both)) == by_filter


@pytest.mark.engines
async def test_giving_the_filter_and_a_different_deprecated_argument_is_refused_naming_both(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, "viewer"),
        VENDORS,
        {"filter": {"nameContains": "acme"}, "old": "beta"},
    )
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert "`nameContains` (deprecated)" in error["message"], error
    assert "`filter.nameContains`" in error["message"], error
    assert error["extensions"]["code"] == "validation-failed", error

    # The deprecated `missing` defaults to false, so only its `true` can disagree.
    required = (
        "query($filter: ImpactAssessmentRequirementFilter, $old: Boolean!) {"
        " impactAssessmentsRequired(filter: $filter, missing: $old) { edges { cursor } } }"
    )
    viewer = stack.headers(org, "viewer")
    refused = await gql(
        stack.gateway, viewer, required, {"filter": {"missing": False}, "old": True}
    )
    assert "`filter.missing`" in refused["errors"][0]["message"], refused
    agreed = await gql(stack.gateway, viewer, required, {"filter": {"missing": True}, "old": False})
    assert data(agreed) == {"impactAssessmentsRequired": {"edges": []}}


@pytest.mark.engines
async def test_components_filter_by_system(stack: Stack, org: uuid.UUID) -> None:
    a = await post(stack, org, "/v1/ai-systems", {"name": "A", "owner": "o@example.com"})
    b = await post(stack, org, "/v1/ai-systems", {"name": "B", "owner": "o@example.com"})
    for name, system in (("a-model", a), ("a-data", a), ("b-model", b)):
        kind = "dataset" if name.endswith("data") else "model"
        await post(
            stack, org, "/v1/components", {"kind": kind, "name": name, "system_id": system["id"]}
        )
    await post(stack, org, "/v1/components", {"kind": "software", "name": "shared-lib"})
    assert len(names(await query(stack, org, COMPONENTS, {}))) == 4
    of_a = names(await query(stack, org, COMPONENTS, {"filter": {"systemId": a["id"]}}))
    assert sorted(of_a) == ["a-data", "a-model"]
    assert names(await query(stack, org, COMPONENTS, {"old": b["id"]})) == ["b-model"]


@pytest.mark.engines
async def test_scope_versions_filter_by_status(stack: Stack, org: uuid.UUID) -> None:
    body = {"statement": "Every AI system.", "activities": [{"name": "All", "included": True}]}
    first = await post(stack, org, "/v1/scope-versions", body)
    await post(stack, org, f"/v1/scope-versions/{first['id']}/approve", {})
    await post(stack, org, "/v1/scope-versions", {**body, "statement": "Next draft."})

    def statuses(found: dict[str, Any]) -> list[str]:
        return [e["node"]["status"] for e in found["scopeVersions"]["edges"]]

    assert sorted(statuses(await query(stack, org, SCOPE_VERSIONS, {}))) == ["APPROVED", "DRAFT"]
    drafts = await query(stack, org, SCOPE_VERSIONS, {"filter": {"status": "DRAFT"}})
    assert [e["node"]["number"] for e in drafts["scopeVersions"]["edges"]] == [2]
    assert statuses(await query(stack, org, SCOPE_VERSIONS, {"old": "APPROVED"})) == ["APPROVED"]


@pytest.mark.engines
async def test_competences_filter_by_awareness(stack: Stack, org: uuid.UUID) -> None:
    for name, awareness in (("AI policy", True), ("Risk assessment", False)):
        response = await stack.evidence.post(
            "/v1/competences",
            json={"name": name, "awareness": awareness},
            headers=stack.headers(org, "contributor"),
        )
        assert response.status_code == 201, response.text
    aware = names(await query(stack, org, COMPETENCES, {"filter": {"awareness": True}}))
    assert aware == ["AI policy"]
    assert names(await query(stack, org, COMPETENCES, {"old": False})) == ["Risk assessment"]


MEASUREMENTS = """
query($filter: ObjectiveMeasurementFilter, $since: Date, $until: Date) {
  objectives { edges { node {
    measurements(filter: $filter, since: $since, until: $until) { edges { node { value } } }
  } } }
}
"""


@pytest.mark.engines
async def test_objective_measurements_filter_by_period(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    today = datetime.now(UTC).date()
    created = await stack.evidence.post(
        "/v1/objectives",
        json={
            "title": "Accuracy",
            "measure": "Accuracy",
            "target_value": 0.9,
            "direction": "at_least",
            "owner": "owner@example.com",
            "due_date": (today + timedelta(days=90)).isoformat(),
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    for days, value in ((3, 0.7), (2, 0.8), (1, 0.9)):
        measured = await stack.evidence.post(
            f"/v1/objectives/{created.json()['id']}/measurements",
            json={"value": value, "measured_on": (today - timedelta(days=days)).isoformat()},
            headers=headers,
        )
        assert measured.status_code == 201, measured.text
    middle = (today - timedelta(days=2)).isoformat()

    async def values(variables: dict[str, Any]) -> list[float]:
        found = await query(stack, org, MEASUREMENTS, variables)
        [objective] = found["objectives"]["edges"]
        return [e["node"]["value"] for e in objective["node"]["measurements"]["edges"]]

    assert await values({}) == [0.7, 0.8, 0.9]
    assert await values({"filter": {"since": middle}}) == [0.8, 0.9]
    assert await values({"filter": {"until": middle}}) == [0.7, 0.8]
    assert await values({"until": middle}) == [0.7, 0.8]  # deprecated
    assert await values({"filter": {"since": middle}, "until": middle}) == [0.8]  # both merged


MANAGEMENT_REVIEWS = """
query($filter: ManagementReviewFilter, $old: [ManagementReviewStatus!]) {
  managementReviews(filter: $filter, statuses: $old) { edges { node { title status } } }
}
"""


@pytest.mark.engines
async def test_management_reviews_filter_by_status(stack: Stack, org: uuid.UUID) -> None:
    created = data(
        await gql(
            stack.gateway,
            stack.headers(org, "contributor"),
            "mutation($input: CreateManagementReviewInput!) { createManagementReview("
            "input: $input) { managementReview { status } errors { code } } }",
            {"input": {"title": "Review", "reviewDate": datetime.now(UTC).date().isoformat()}},
        )
    )
    assert created["createManagementReview"]["errors"] == [], created

    def titles(found: dict[str, Any]) -> list[str]:
        return [e["node"]["title"] for e in found["managementReviews"]["edges"]]

    planned = {"filter": {"statuses": ["PLANNED"]}}
    assert titles(await query(stack, org, MANAGEMENT_REVIEWS, planned)) == ["Review"]
    held = {"filter": {"statuses": ["HELD"]}}
    assert titles(await query(stack, org, MANAGEMENT_REVIEWS, held)) == []
    assert titles(await query(stack, org, MANAGEMENT_REVIEWS, {"old": ["HELD"]})) == []
    assert titles(await query(stack, org, MANAGEMENT_REVIEWS, {"old": ["PLANNED"]})) == ["Review"]
