"""Documented information (ISO/IEC 42001 7.5) over REST: every catalogue item's status for an
organisation, following its approved SoA and its evidence."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.db import utcnow, uuid7
from tests.evidence.documented_helpers import (
    add_evidence,
    approve_soa,
    documented,
    item,
    item_becomes,
)

pytestmark = pytest.mark.engines


def by_id(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in listing["items"]}


async def test_a_new_organisation_misses_everything_and_expects_annex_a_artefacts(
    stack: Any, org: uuid.UUID
) -> None:
    listing = await documented(stack, org)
    assert listing["count"] == 58 and listing["soa_version"] is None
    items = by_id(listing)
    assert {i["status"] for i in listing["items"] if i["source"] != "system"} == {"missing"}
    assert items["DI-03"]["title"] == "AI policy" and items["DI-03"]["evidence_ids"] == []
    assert "No Statement of Applicability is approved yet" in items["AX-01"]["reason"]
    assert "control A.2.2" in items["AX-01"]["satisfied_by"]
    # No system in scope: nothing is asked at system level yet.
    sys_items = [i for i in listing["items"] if i["source"] == "system"]
    assert len(sys_items) == 5 and {i["status"] for i in sys_items} == {"not_required"}
    assert all(i["systems"]["required"] == 0 for i in sys_items)


async def test_soa_exclusion_and_evidence_drive_the_statuses(stack: Any, org: uuid.UUID) -> None:
    number = await approve_soa(stack, org, {"A.6.2.2": False, "A.2.2": True})
    excluded = await item_becomes(stack, org, "AX-12", "not_required")
    assert f"excluded in the approved SoA (version {number})" in excluded["reason"]
    included = await item(stack, org, "AX-01")
    assert included["status"] == "missing" and "included" in included["reason"]

    today = utcnow().date()
    policy = await add_evidence(
        stack, org, [("documented_information", "DI-03")], review_by=today + timedelta(days=30)
    )
    by_control = await add_evidence(stack, org, [("control", "A.2.2")])
    lapsed = await add_evidence(
        stack, org, [("documented_information", "DI-05")], review_by=today - timedelta(days=1)
    )
    draft = await add_evidence(stack, org, [("documented_information", "DI-06")], status="draft")
    in_review = await add_evidence(
        stack, org, [("documented_information", "DI-07")], status="in_review"
    )

    listing = by_id(await documented(stack, org))
    assert listing["DI-03"]["status"] == "approved"
    assert listing["DI-03"]["evidence_ids"] == [policy] and listing["DI-03"]["evidence_count"] == 1
    assert listing["DI-03"]["review_by"] == (today + timedelta(days=30)).isoformat()
    # Evidence linked to the control satisfies its Annex A artefact.
    assert listing["AX-01"]["status"] == "approved"
    assert listing["AX-01"]["evidence_ids"] == [by_control]
    assert listing["DI-05"]["status"] == "stale"
    assert listing["DI-05"]["evidence_ids"] == [lapsed]
    assert listing["DI-05"]["review_by"] == (today - timedelta(days=1)).isoformat()
    assert "review" in listing["DI-05"]["reason"]
    assert (listing["DI-06"]["status"], listing["DI-06"]["evidence_ids"]) == ("draft", [draft])
    assert (listing["DI-07"]["status"], listing["DI-07"]["evidence_ids"]) == ("draft", [in_review])
    assert listing["AX-12"]["status"] == "not_required"

    # A newer approved evidence item beside the lapsed one makes the item approved again.
    fresh = await add_evidence(stack, org, [("documented_information", "DI-05")])
    renewed = await item(stack, org, "DI-05")
    assert (renewed["status"], renewed["evidence_ids"], renewed["review_by"]) == (
        "approved",
        [fresh],
        None,
    )

    summary = (
        await stack.evidence.get(
            "/v1/documented-information/summary", headers=stack.headers(org, "auditor")
        )
    ).json()
    assert summary["soa_version"] == number
    assert summary["counts"]["approved"] == 3  # DI-03, DI-05, AX-01
    assert summary["counts"]["draft"] == 2
    # The provider proposal may exclude more controls than the one decided here.
    excluded_count = summary["counts"]["not_required"]
    assert excluded_count >= 1
    assert summary["counts"]["missing"] == 53 - 5 - excluded_count
    assert summary["counts"]["stale"] == 0
    assert summary["attention"][0]["status"] == "missing"
    assert {"DI-06", "DI-07"} <= {a["id"] for a in summary["attention"]}
    assert "DI-03" not in {a["id"] for a in summary["attention"]}

    # Filters.
    approved = await documented(stack, org, status="approved")
    assert {i["id"] for i in approved["items"]} == {"DI-03", "DI-05", "AX-01"}
    annex = await documented(stack, org, source="annex_a", status=["missing", "not_required"])
    assert len(annex["items"]) == 26 and {i["source"] for i in annex["items"]} == {"annex_a"}
    clause = await documented(stack, org, clause="9")
    assert clause["items"] and all(i["clause"].startswith("9") for i in clause["items"])
    control = await documented(stack, org, control="A.6.2.8")
    assert {i["id"] for i in control["items"]} == {"AX-18", "SYS-EVENT-LOG"}

    # Another organisation sees none of it.
    other = by_id(await documented(stack, uuid7()))
    assert other["DI-03"]["status"] == "missing" and other["AX-12"]["status"] == "missing"


async def test_superseding_soa_brings_an_artefact_back(stack: Any, org: uuid.UUID) -> None:
    await approve_soa(stack, org, {"A.6.2.2": False})
    await item_becomes(stack, org, "AX-12", "not_required")
    second = await approve_soa(stack, org, {"A.6.2.2": True})
    back = await item_becomes(stack, org, "AX-12", "missing")
    assert f"version {second}" in back["reason"]


async def test_odd_input_answers_4xx(stack: Any, org: uuid.UUID) -> None:
    h = stack.headers(org, "viewer")
    get = stack.evidence.get
    missing = await get("/v1/documented-information/XX-99", headers=h)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "documented-information-not-found"
    # A NUL in the path is refused before any lookup (422 naming the parameter).
    assert (await get("/v1/documented-information/DI-01%00", headers=h)).status_code == 422
    assert (await get("/v1/documented-information/" + "D" * 100, headers=h)).status_code == 422
    for params, code in (
        ({"status": "lost"}, 422),
        ({"source": "rumour"}, 422),
        ({"clause": "11.1"}, 422),
        ({"control": "A.99"}, 422),
        ({"clause": "7\x00"}, 422),
        ({"control": "Ä.2.2"}, 422),
        ({"colour": "red"}, 400),
    ):
        response = await get("/v1/documented-information", params=params, headers=h)
        assert response.status_code == code, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    unknown = await get("/v1/documented-information", params={"statuz": "x"}, headers=h)
    assert "status" in unknown.json()["detail"] and unknown.json()["code"] == (
        "unknown-query-parameter"
    )
    assert (
        await get("/v1/documented-information/summary", params={"x": "1"}, headers=h)
    ).status_code == 400
    assert (await get("/v1/documented-information")).status_code == 401
    # Every role reads.
    for role in ("admin", "manager", "risk_owner", "contributor", "auditor", "viewer"):
        assert (
            await get("/v1/documented-information/DI-01", headers=stack.headers(org, role))
        ).status_code == 200


async def test_deleted_evidence_counts_for_nothing(stack: Any, org: uuid.UUID) -> None:
    evidence = await add_evidence(stack, org, [("documented_information", "DI-10")])
    assert (await item(stack, org, "DI-10"))["status"] == "approved"
    gone = await stack.evidence.delete(
        f"/v1/evidence/{evidence}", headers=stack.headers(org, "manager")
    )
    if gone.status_code == 428:  # the items API may want If-Match
        read = await stack.evidence.get(f"/v1/evidence/{evidence}", headers=stack.headers(org))
        gone = await stack.evidence.delete(
            f"/v1/evidence/{evidence}",
            headers={**stack.headers(org, "manager"), "If-Match": read.headers["etag"]},
        )
    assert gone.status_code in (200, 204), gone.text
    assert (await item(stack, org, "DI-10"))["status"] == "missing"
