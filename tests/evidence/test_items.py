"""Evidence items through the REST API: create, read, list and filter, update, links, tenancy."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.db import uuid7
from tests.evidence.conftest import EvidenceStack
from tests.evidence.items_api import create_item, get_item, listen

pytestmark = pytest.mark.engines


async def test_create_returns_the_item_with_etag_location_and_links(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    risk = str(uuid.uuid4())

    async with listen(stack, "aims.evidence.evidence.created") as events:
        response = await stack.evidence.post(
            "/v1/evidence",
            json={
                "title": "  Event logging procedure ",
                "kind": "record",
                "owner": "ciso@example.com",
                "effective_from": "2026-01-01",
                "review_by": "2027-01-01",
                "links": [
                    {"target_type": "control", "target_id": "a.6.2.8"},
                    {"target_type": "clause", "target_id": "7.5.3"},
                    {"target_type": "documented_information", "target_id": "di-01"},
                    {"target_type": "system", "target_id": system["id"]},
                    {"target_type": "risk", "target_id": risk.upper()},
                    {"target_type": "soa_entry", "target_id": "A.6.2.8"},
                    {"target_type": "control", "target_id": "A.6.2.8"},
                ],
            },
            headers=stack.headers(org, "contributor"),
        )
        assert response.status_code == 201, response.text
        item = response.json()
        event = await events.wait_for(lambda e: e["subject"] == item["id"])

    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/evidence/{item['id']}"
    assert item["title"] == "Event logging procedure"
    assert item["status"] == "draft"
    assert item["latest_version"] == 1 and item["current_version"] is None
    # Canonical ids, each target once.
    assert sorted((lk["target_type"], lk["target_id"]) for lk in item["links"]) == sorted(
        [
            ("control", "A.6.2.8"),
            ("clause", "7.5.3"),
            ("documented_information", "DI-01"),
            ("system", system["id"]),
            ("risk", risk),
            ("soa_entry", "A.6.2.8"),
        ]
    )
    assert item["link_count"] == 6
    assert event["data"] == item
    read = await get_item(stack, org, item["id"])
    assert read.status_code == 200 and read.json() == item
    assert read.headers["etag"] == '"1"'
    versions = await stack.evidence.get(
        f"/v1/evidence/{item['id']}/versions", headers=stack.headers(org)
    )
    assert [(v["number"], v["status"], v["files"]) for v in versions.json()["items"]] == [
        (1, "draft", [])
    ]


async def test_listing_by_what_evidence_serves_is_one_request(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    other_system = await stack.register_system(org, "Chatbot")
    logging_ = await create_item(
        stack,
        org,
        title="Logging policy",
        links=[
            {"target_type": "control", "target_id": "A.6.2.8"},
            {"target_type": "system", "target_id": system["id"]},
        ],
    )
    both = await create_item(
        stack,
        org,
        title="Monitoring plan",
        description="How logs are reviewed",
        links=[
            {"target_type": "control", "target_id": "A.6.2.8"},
            {"target_type": "system", "target_id": other_system["id"]},
        ],
    )
    unrelated = await create_item(stack, org, title="Competence records", kind="record")
    viewer = stack.headers(org, "viewer")

    async def titles(**params: Any) -> list[str]:
        response = await stack.evidence.get("/v1/evidence", params=params, headers=viewer)
        assert response.status_code == 200, response.text
        return [i["title"] for i in response.json()["items"]]

    assert await titles(control="A.6.2.8") == ["Logging policy", "Monitoring plan"]
    assert await titles(system=system["id"]) == ["Logging policy"]
    assert await titles(control="A.6.2.8", system=other_system["id"]) == ["Monitoring plan"]
    assert await titles(control="A.9.2") == []
    assert await titles(kind="record") == ["Competence records"]
    assert await titles(q="LOGS") == ["Monitoring plan"]
    assert await titles(q="100%") == []
    assert await titles(id=[unrelated["id"], logging_["id"]]) == [
        "Logging policy",
        "Competence records",
    ]
    first = await stack.evidence.get("/v1/evidence", params={"limit": 2}, headers=viewer)
    second = await stack.evidence.get(
        "/v1/evidence", params={"limit": 2, "after": first.json()["next_cursor"]}, headers=viewer
    )
    assert [i["id"] for i in first.json()["items"] + second.json()["items"]] == [
        logging_["id"],
        both["id"],
        unrelated["id"],
    ]
    assert second.json()["next_cursor"] is None


async def test_unknown_and_bad_list_parameters_are_refused(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    headers = stack.headers(org)

    misspelt = await stack.evidence.get(
        "/v1/evidence", params={"controls": "A.6.2.8"}, headers=headers
    )
    assert misspelt.status_code == 400
    assert misspelt.json()["code"] == "unknown-query-parameter"
    assert "controls" in misspelt.json()["detail"] and "control" in misspelt.json()["allowed"]
    for params in ({"status": "lost"}, {"limit": 10**30}, {"q": "a\x00b"}, {"system": "x"}):
        response = await stack.evidence.get("/v1/evidence", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "a\x00b"}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "ok", "kind": "video"}, "kind"),
        ({"title": "ok", "kind": "link"}, None),
        ({"title": "ok", "url": "https://example.com"}, None),
        ({"title": "ok", "kind": "link", "url": "javascript:alert(1)"}, "url"),
        ({"title": "ok", "effective_from": "2026-02-01", "effective_to": "2026-01-01"}, None),
        ({"title": "ok", "review_by": "2026-13-01"}, "review_by"),
        ({"title": "ok", "colour": "red"}, "colour"),
        ({"title": "ok", "description": "é" * 20_001}, "description"),
    ],
)
async def test_invalid_items_are_refused_with_422_and_nothing_is_kept(
    evidence_stack: EvidenceStack, org: uuid.UUID, body: dict[str, object], field: str | None
) -> None:
    stack = evidence_stack
    response = await stack.evidence.post("/v1/evidence", json=body, headers=stack.headers(org))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in str(response.json()["errors"])
    listed = await stack.evidence.get("/v1/evidence", headers=stack.headers(org))
    assert listed.json()["items"] == []


async def test_links_to_targets_that_do_not_exist_are_refused_naming_each(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    response = await stack.evidence.post(
        "/v1/evidence",
        json={
            "title": "Policy",
            "links": [
                {"target_type": "clause", "target_id": "7.5.3"},
                {"target_type": "clause", "target_id": "11.2"},
                {"target_type": "control", "target_id": "A.99.1"},
                {"target_type": "documented_information", "target_id": "DI-999"},
                {"target_type": "system", "target_id": str(uuid7())},
                {"target_type": "risk", "target_id": "R-1"},
                {"target_type": "soa_entry", "target_id": "entry"},
            ],
        },
        headers=stack.headers(org),
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid-link-target"
    assert [e["location"][-1] for e in problem["errors"]] == [1, 2, 3, 4, 5, 6]
    assert (await stack.evidence.get("/v1/evidence", headers=stack.headers(org))).json()[
        "items"
    ] == []


async def test_links_are_added_once_and_removed(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org)
    path = f"/v1/evidence/{item['id']}/links"
    body = {"target_type": "control", "target_id": "A.2.2"}

    first = await stack.evidence.post(path, json=body, headers=stack.headers(org))
    again = await stack.evidence.post(path, json=body, headers=stack.headers(org))
    bad = await stack.evidence.post(
        path, json={"target_type": "clause", "target_id": "nope"}, headers=stack.headers(org)
    )

    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert bad.status_code == 422
    read = (await get_item(stack, org, item["id"])).json()
    assert [lk["target_id"] for lk in read["links"]] == ["A.2.2"]
    assert read["version"] == 2
    removed = await stack.evidence.delete(
        f"{path}/{first.json()['id']}", headers=stack.headers(org)
    )
    assert removed.status_code == 204
    gone = await stack.evidence.delete(f"{path}/{first.json()['id']}", headers=stack.headers(org))
    assert gone.status_code == 404
    assert (await get_item(stack, org, item["id"])).json()["links"] == []


async def test_update_needs_the_current_etag_and_keeps_what_is_not_sent(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org, description="Old", owner="a@example.com")
    path = f"/v1/evidence/{item['id']}"

    missing = await stack.evidence.patch(path, json={"title": "New"}, headers=stack.headers(org))
    stale = await stack.evidence.patch(
        path, json={"title": "New"}, headers={**stack.headers(org), "If-Match": '"7"'}
    )
    changed = await stack.evidence.patch(
        path,
        json={"title": "New", "owner": None},
        headers={**stack.headers(org), "If-Match": '"1"'},
    )
    cleared_title = await stack.evidence.patch(
        path, json={"title": None}, headers={**stack.headers(org), "If-Match": '"2"'}
    )

    assert missing.status_code == 428
    assert stale.status_code == 412
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (changed.json()["title"], changed.json()["description"], changed.json()["owner"]) == (
        "New",
        "Old",
        None,
    )
    assert cleared_title.status_code == 422


async def test_readers_cannot_change_and_other_organisations_see_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org, title="Confidential audit notes")
    for role in ("viewer", "auditor"):
        response = await stack.evidence.post(
            "/v1/evidence", json={"title": "x"}, headers=stack.headers(org, role)
        )
        assert response.status_code == 403, role
    intruder = stack.headers(uuid7(), "admin")
    for method, path in (
        ("GET", f"/v1/evidence/{item['id']}"),
        ("GET", f"/v1/evidence/{item['id']}/versions"),
        ("GET", f"/v1/evidence/{item['id']}/versions/1"),
        ("POST", f"/v1/evidence/{item['id']}/submit"),
        ("POST", f"/v1/evidence/{item['id']}/versions"),
        ("PUT", f"/v1/evidence/{item['id']}/legal-hold"),
    ):
        body = {"reason": "x"} if method == "PUT" else {}
        response = await stack.evidence.request(method, path, json=body, headers=intruder)
        assert response.status_code == 404, path
        assert b"Confidential" not in response.content
    listed = await stack.evidence.get("/v1/evidence", params={"id": item["id"]}, headers=intruder)
    assert listed.json()["items"] == []
    upload = await stack.evidence.post(
        f"/v1/evidence/{item['id']}/versions/1/files",
        params={"filename": "planted.txt"},
        content=b"planted",
        headers=intruder,
    )
    assert upload.status_code == 404


async def test_retried_create_with_the_same_key_returns_the_first_item(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    headers = {**stack.headers(org), "Idempotency-Key": "policy-2026"}

    first = await stack.evidence.post("/v1/evidence", json={"title": "P"}, headers=headers)
    retry = await stack.evidence.post("/v1/evidence", json={"title": "P"}, headers=headers)
    other = await stack.evidence.post("/v1/evidence", json={"title": "Q"}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    listed = await stack.evidence.get("/v1/evidence", headers=stack.headers(org))
    assert len(listed.json()["items"]) == 1


async def test_evidence_by_target_gives_first_items_and_totals_per_target(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    a = await stack.register_system(org, "A")
    b = await stack.register_system(org, "B")
    empty = await stack.register_system(org, "C")
    made = []
    for index in range(3):
        links = [{"target_type": "system", "target_id": a["id"]}]
        if index == 0:
            links.append({"target_type": "system", "target_id": b["id"]})
        made.append(await create_item(stack, org, title=f"E{index}", links=links))

    response = await stack.evidence.get(
        "/v1/evidence-by-target",
        params={"target_type": "system", "target_id": [b["id"], a["id"], empty["id"]], "first": 2},
        headers=stack.headers(org),
    )

    assert response.status_code == 200, response.text
    rows = response.json()["items"]
    assert [(r["target_id"], r["total_count"]) for r in rows] == [
        (b["id"], 1),
        (a["id"], 3),
        (empty["id"], 0),
    ]
    assert [i["title"] for i in rows[1]["items"]] == ["E0", "E1"]
    assert [i["title"] for i in rows[0]["items"]] == ["E0"]
    assert rows[2]["items"] == []
    by_control = await stack.evidence.get(
        "/v1/evidence-by-target",
        params={"target_type": "control", "target_id": "A.6.2.8"},
        headers=stack.headers(org),
    )
    assert by_control.json()["items"][0]["total_count"] == 0
    bad_params: list[dict[str, Any]] = [
        {"target_type": "system"},
        {"target_type": "galaxy", "target_id": "x"},
        {"target_type": "system", "target_id": "x", "first": 101},
        {"target_type": "system", "target_id": "x", "extra": "1"},
    ]
    for params in bad_params:
        bad = await stack.evidence.get(
            "/v1/evidence-by-target", params=params, headers=stack.headers(org)
        )
        assert bad.status_code in (400, 422), params


async def test_an_upload_for_a_system_becomes_an_item_linked_to_it(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)

    response = await stack.evidence.post(
        f"/v1/systems/{system['id']}/files",
        params={"filename": "model-card.pdf"},
        content=b"model card",
        headers=stack.headers(org),
    )

    assert response.status_code == 201, response.text
    file = response.json()
    item = (await get_item(stack, org, file["item_id"])).json()
    assert (item["title"], item["kind"], item["status"]) == ("model-card.pdf", "document", "draft")
    assert [(lk["target_type"], lk["target_id"]) for lk in item["links"]] == [
        ("system", system["id"])
    ]
    version = await stack.evidence.get(
        f"/v1/evidence/{item['id']}/versions/1", headers=stack.headers(org)
    )
    assert [f["id"] for f in version.json()["files"]] == [file["id"]]
    summary = await stack.evidence.get(f"/v1/systems/{system['id']}", headers=stack.headers(org))
    assert (summary.json()["file_count"], summary.json()["total_bytes"]) == (1, 10)
