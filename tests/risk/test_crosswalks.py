"""The EU AI Act ↔ ISO/IEC 42001 editorial crosswalk and the NIST AI RMF crosswalk over REST:
queryable both ways, labelled as guidance, shown on SoA entries; clause-level NIST pairs kept."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines

EU = "/v1/crosswalks/eu-ai-act"
NIST = "/v1/crosswalks/nist-ai-rmf"


async def get(stack: Any, org: uuid.UUID, url: str, **params: Any) -> Any:
    response = await stack.risk.get(url, params=params, headers=stack.headers(org, "viewer"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_eu_ai_act_articles_of_a_control_and_controls_of_an_article(
    stack: Any, org: uuid.UUID
) -> None:
    logs = await get(stack, org, EU, control="A.6.2.8")
    assert logs["guidance"] is True
    assert "not legal advice" in logs["notice"]
    assert logs["status"].startswith("editorial")
    assert logs["query"] == {"control": "A.6.2.8"}
    assert [i["citation"] for i in logs["items"]] == ["Art. 12", "Art. 19", "Art. 26"]
    assert logs["no_counterpart"] == []

    for spelling in ("Art. 9", "9", "article 9", "Art.9(1)"):
        risk = await get(stack, org, EU, article=spelling)
        assert risk["query"] == {"article": "9"}, spelling
        [item] = risk["items"]
        assert item["title"] == "Risk management system (high-risk)"
        assert [c["id"] for c in item["controls"]] == ["A.6.2.4"]
        assert [c["id"] for c in item["clauses"]] == ["6.1.1", "6.1.2", "6.1.3", "8.2", "8.3"]
        assert item["roles"] == ["provider"]

    # A clause covers its sub-clauses; filters combine.
    planning = await get(stack, org, EU, clause="6.1")
    assert [i["article"] for i in planning["items"]] == ["9", "27"]
    deployer = await get(stack, org, EU, control="A.9.2", role="deployer")
    assert [i["citation"] for i in deployer["items"]] == ["Art. 26"]
    both = await get(stack, org, EU, control="A.9.2")
    assert [i["citation"] for i in both["items"]] == ["Art. 14", "Art. 26"]

    # An article with no management-system counterpart says so instead of answering nothing.
    registration = await get(stack, org, EU, article="Art. 49")
    assert registration["items"] == []
    assert [n["citation"] for n in registration["no_counterpart"]] == ["Art. 49"]
    marking = await get(stack, org, EU, article="48")
    assert marking["no_counterpart"][0]["articles"] == ["16", "43", "47", "48"]

    everything = await get(stack, org, EU)
    assert len(everything["items"]) == 21 and len(everything["no_counterpart"]) == 4


async def test_nist_clause_pairs_are_queryable(stack: Any, org: uuid.UUID) -> None:
    by_clause = await get(stack, org, NIST, clause="6.1.2")
    assert by_clause["items"], by_clause
    assert {i["iso_ref_type"] for i in by_clause["items"]} == {"clause"}
    assert {i["clause"]["id"] for i in by_clause["items"]} == {"6.1.2"}
    assert "GOVERN 1.3" in {i["subcategory"]["id"] for i in by_clause["items"]}
    assert all(i["control"] is None for i in by_clause["items"])

    govern = await get(stack, org, NIST, subcategory="govern-1.1")
    assert govern["query"] == {"subcategory": "GOVERN 1.1"}
    refs = {(i["iso_ref_type"], i["iso_ref"]) for i in govern["items"]}
    assert ("clause", "4.1") in refs and ("clause", "6.2") in refs
    assert ("annex_b_guidance", "B.2.2") in refs
    control = next(i for i in govern["items"] if i["iso_ref"] == "B.2.2")["control"]
    assert control["id"] == "A.2.2" and control["title"]

    by_control = await get(stack, org, NIST, control="A.4.2")
    assert "GOVERN 1.6" in {i["subcategory"]["id"] for i in by_control["items"]}
    assert {i["control"]["id"] for i in by_control["items"]} == {"A.4.2"}

    assert len((await get(stack, org, NIST))["items"]) == 280
    old_style = await get(stack, org, "/v1/crosswalk/nist/GOVERN 1.1")
    assert [c["id"] for c in old_style["clauses"]] == ["4.1", "6.2"]


async def test_soa_entries_and_controls_show_related_articles_as_guidance(
    stack: Any, org: uuid.UUID
) -> None:
    entry = await get(stack, org, "/v1/soa/entries/A.6.2.8")
    related = entry["related_eu_ai_act"]
    assert related["guidance"] is True and "not legal advice" in related["notice"]
    assert [a["citation"] for a in related["articles"]] == ["Art. 12", "Art. 19", "Art. 26"]
    assert {a["article"]: a["roles"] for a in related["articles"]}["26"] == ["deployer"]
    listed = await get(stack, org, "/v1/soa/entries")
    assert all(e["related_eu_ai_act"]["guidance"] is True for e in listed["items"])

    control = await get(stack, org, "/v1/controls/A.5.4")
    assert [a["citation"] for a in control["crosswalk"]["eu_ai_act"]] == ["Art. 27"]
    assert any("not legal advice" in n for n in control["crosswalk"]["notes"])

    # A version snapshot shows the crosswalk too (always the packaged one, never stored).
    manager = stack.headers(org, "manager")
    created = await stack.risk.post("/v1/soa/versions", json={}, headers=manager)
    assert created.status_code == 201, created.text
    snapshot = {e["control_id"]: e for e in created.json()["entries"]}
    assert [a["citation"] for a in snapshot["A.6.2.8"]["related_eu_ai_act"]["articles"]] == [
        "Art. 12",
        "Art. 19",
        "Art. 26",
    ]
    read = await get(stack, org, f"/v1/soa/versions/{created.json()['id']}")
    assert read["entries"] == created.json()["entries"]


@pytest.mark.parametrize(
    ("url", "params", "status"),
    [
        (EU, {"control": "A.1.1"}, 404),
        (EU, {"control": "not a control"}, 404),
        (EU, {"article": "999"}, 404),
        (EU, {"article": "Artikel"}, 404),
        (EU, {"clause": "11"}, 404),
        (EU, {"clause": "6.1.4\u00e9"}, 404),
        (EU, {"control": "A.6.2.8\x00"}, 422),
        (EU, {"article": "9" * 65}, 422),
        (EU, {"control": ""}, 422),
        (EU, {"controls": "A.6.2.8"}, 400),
        (NIST, {"subcategory": "GOVERN 9.9"}, 404),
        (NIST, {"clause": "3"}, 404),
        (NIST, {"control": "A.4.2", "function": "GOVERN"}, 400),
        (NIST, {"subcategory": "GOVERN\x001.1"}, 422),
    ],
)
async def test_bad_lookups_are_clear_problems(
    stack: Any, org: uuid.UUID, url: str, params: dict[str, str], status: int
) -> None:
    response = await stack.risk.get(url, params=params, headers=stack.headers(org, "viewer"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if status == 400:
        assert response.json()["code"] == "unknown-query-parameter"
        assert "control" in response.json()["allowed"]
    if status == 404:
        assert response.json()["code"] == "crosswalk-key-not-found"


async def test_crosswalks_need_a_caller(stack: Any) -> None:
    for url in (EU, NIST):
        assert (await stack.risk.get(url)).status_code == 401
