"""The SoA's EU AI Act guidance, both crosswalks and the proposal flow through GraphQL (issue 9).

Each answer is compared with the risk service's REST answer, so what a frontend reads is what a
GRC platform reads; the EU AI Act relations are always labelled as guidance.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

EU_CROSSWALK = """
query Eu($control: String, $article: String, $clause: String, $role: String) {
  euAiActCrosswalk(control: $control, article: $article, clause: $clause, role: $role) {
    guidance notice status
    filter { control article clause role }
    items { article citation title roles clauses { id title } controls { id title } }
    noCounterpart { citation articles why }
  }
}
"""
NIST_CROSSWALK = """
query Nist($subcategory: String, $control: String, $clause: String) {
  nistCrosswalk(subcategory: $subcategory, control: $control, clause: $clause) {
    note
    filter { subcategory control clause }
    items {
      subcategory { id title } isoRef isoRefType clause { id title } control { id title }
    }
  }
}
"""
ENTRIES = """
{ soaEntries { controlId decision decidedBy
  relatedEuAiAct { guidance notice articles { article citation roles guidance } } } }
"""
PROPOSE = """
mutation Propose($roles: [AIRole!]) {
  proposeSoAEntries(roles: $roles) {
    proposal {
      roles rolesFrom organisationRoles systemsConsidered processesData operatesSystems
      hasSuppliers proposed keptDecided entries { controlId decision }
    }
    errors { __typename code message }
  }
}
"""
ACCEPT = """
mutation Accept($controlIds: [String!]) {
  acceptSoAProposals(controlIds: $controlIds) {
    accepted notProposed entries { controlId decision decidedBy }
    errors { __typename code message }
  }
}
"""


async def post(
    stack: Any, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def gql(
    stack: Any, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = await post(stack, headers, query, variables)
    assert "errors" not in body, body
    return dict(body["data"])


async def test_eu_ai_act_guidance_on_controls_and_the_crosswalk_both_ways(
    stack: Any, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "viewer")
    rest_control = (await stack.risk.get("/v1/controls/A.6.2.8", headers=headers)).json()
    control = await gql(
        stack,
        headers,
        '{ control(id: "A.6.2.8") { euAiActArticles { article citation roles guidance } } }',
    )
    articles = control["control"]["euAiActArticles"]
    assert articles, "the editorial crosswalk relates A.6.2.8 (event logs) to the Act"
    assert [a["article"] for a in articles] == [
        a["article"] for a in rest_control["crosswalk"]["eu_ai_act"]
    ]
    assert all(a["guidance"] is True and a["citation"].startswith("Art.") for a in articles)

    # Control → articles.
    by_control = (await gql(stack, headers, EU_CROSSWALK, {"control": "a.6.2.8"}))[
        "euAiActCrosswalk"
    ]
    rest = (
        await stack.risk.get(
            "/v1/crosswalks/eu-ai-act", params={"control": "A.6.2.8"}, headers=headers
        )
    ).json()
    assert by_control["guidance"] is True and by_control["notice"] == rest["notice"]
    assert by_control["filter"] == {
        "control": "A.6.2.8",
        "article": None,
        "clause": None,
        "role": None,
    }
    assert [i["article"] for i in by_control["items"]] == [i["article"] for i in rest["items"]]
    assert all("A.6.2.8" in {c["id"] for c in i["controls"]} for i in by_control["items"])
    assert {i["article"] for i in by_control["items"]} == {a["article"] for a in articles}

    # Article → controls and clauses (the reverse direction), one operator role.
    article = by_control["items"][0]["article"]
    by_article = (await gql(stack, headers, EU_CROSSWALK, {"article": f"Art. {article}"}))[
        "euAiActCrosswalk"
    ]
    assert [i["article"] for i in by_article["items"]] == [article]
    assert "A.6.2.8" in {c["id"] for c in by_article["items"][0]["controls"]}
    role = by_article["items"][0]["roles"][0]
    with_role = (
        await gql(stack, headers, EU_CROSSWALK, {"article": article, "role": role.upper()})
    )["euAiActCrosswalk"]
    assert with_role["filter"]["role"] == role and len(with_role["items"]) == 1

    # An article with no management-system counterpart says why instead of answering nothing.
    prohibited = (await gql(stack, headers, EU_CROSSWALK, {"article": "5"}))["euAiActCrosswalk"]
    assert prohibited["items"] == []
    assert prohibited["noCounterpart"] and prohibited["noCounterpart"][0]["why"]

    unknown = await post(stack, headers, EU_CROSSWALK, {"control": "A.99"})
    assert unknown["data"] is None
    [error] = unknown["errors"]
    assert "A.99" in error["message"]
    assert error["extensions"]["status"] == 404


async def test_nist_crosswalk_keeps_clause_level_pairs(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "auditor")
    by_clause = (await gql(stack, headers, NIST_CROSSWALK, {"clause": "6.1"}))["nistCrosswalk"]
    rest = (
        await stack.risk.get(
            "/v1/crosswalks/nist-ai-rmf", params={"clause": "6.1"}, headers=headers
        )
    ).json()
    assert by_clause["filter"] == {"subcategory": None, "control": None, "clause": "6.1"}
    assert len(by_clause["items"]) == len(rest["items"]) > 0
    for pair in by_clause["items"]:
        assert pair["isoRefType"] == "CLAUSE" and pair["control"] is None
        assert pair["clause"]["id"].startswith("6.1")

    subcategory = by_clause["items"][0]["subcategory"]["id"]
    both = (await gql(stack, headers, NIST_CROSSWALK, {"subcategory": subcategory}))[
        "nistCrosswalk"
    ]
    assert {p["subcategory"]["id"] for p in both["items"]} == {subcategory}
    assert "CLAUSE" in {p["isoRefType"] for p in both["items"]}

    by_control = (await gql(stack, headers, NIST_CROSSWALK, {"control": "A.6.2.8"}))[
        "nistCrosswalk"
    ]
    for pair in by_control["items"]:
        assert pair["isoRefType"] == "ANNEX_B_GUIDANCE"
        assert pair["control"]["id"] == "A.6.2.8"


async def test_propose_accept_and_related_eu_ai_act_on_entries(stack: Any, org: uuid.UUID) -> None:
    editor = stack.headers(org, "risk_owner", subject="rita")
    proposed = (await gql(stack, editor, PROPOSE, {"roles": ["PROVIDER"]}))["proposeSoAEntries"]
    assert proposed["errors"] == []
    proposal = proposed["proposal"]
    assert proposal["roles"] == ["PROVIDER"] and proposal["rolesFrom"] == "request"
    assert proposal["systemsConsidered"] == [] and proposal["operatesSystems"] is False
    assert proposal["proposed"] and proposal["keptDecided"] == []
    assert {e["decision"] for e in proposal["entries"]} == {"PROPOSED"}

    entries = (await gql(stack, editor, ENTRIES))["soaEntries"]
    assert len(entries) == 38
    by_id = {e["controlId"]: e for e in entries}
    related = by_id["A.6.2.8"]["relatedEuAiAct"]
    assert related["guidance"] is True and related["notice"]
    assert related["articles"] and all(a["guidance"] for a in related["articles"])

    first, *rest = proposal["proposed"]
    one = (await gql(stack, editor, ACCEPT, {"controlIds": [first, "A.2.2"]}))["acceptSoAProposals"]
    if "A.2.2" in proposal["proposed"]:  # accepted as asked
        assert set(one["accepted"]) == {first, "A.2.2"} and one["notProposed"] == []
    else:
        assert one["accepted"] == [first] and one["notProposed"] == ["A.2.2"]
    decided = {e["controlId"]: e for e in one["entries"]}
    assert decided[first]["decision"] == "DECIDED" and decided[first]["decidedBy"] == "rita"

    viewer = (await gql(stack, stack.headers(org, "viewer"), ACCEPT))["acceptSoAProposals"]
    assert [e["__typename"] for e in viewer["errors"]] == ["ForbiddenError"]
    assert viewer["accepted"] == []

    everything = (await gql(stack, editor, ACCEPT))["acceptSoAProposals"]
    assert set(everything["accepted"]) == set(rest) - set(one["accepted"])
    after = (await gql(stack, editor, ENTRIES))["soaEntries"]
    assert "PROPOSED" not in {e["decision"] for e in after}
