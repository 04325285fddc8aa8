"""Versions of evidence items: files, review, approval, immutability, new versions, links."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.evidence.conftest import MAX_UPLOAD_BYTES, EvidenceStack
from tests.evidence.items_api import approved_item, create_item, get_item, listen, upload

pytestmark = pytest.mark.engines


async def test_a_draft_is_filled_submitted_and_approved(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org)
    base = f"/v1/evidence/{item['id']}"

    empty = await stack.evidence.post(f"{base}/submit", headers=stack.headers(org))
    assert empty.status_code == 409 and empty.json()["code"] == "evidence-version-empty"
    early = await stack.evidence.post(f"{base}/approve", headers=stack.headers(org, "manager"))
    assert early.status_code == 409 and early.json()["code"] == "evidence-version-status"

    a = await upload(stack, org, item["id"], b"part one", filename="a.pdf")
    b = await upload(stack, org, item["id"], b"part two", filename="b.pdf")
    assert a.status_code == b.status_code == 201
    assert a.json()["item_id"] == item["id"] and a.json()["system_id"] is None

    submitted = await stack.evidence.post(f"{base}/submit", headers=stack.headers(org))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_review"
    not_draft = await upload(stack, org, item["id"], b"late")
    assert not_draft.status_code == 409

    by_contributor = await stack.evidence.post(
        f"{base}/approve", headers=stack.headers(org, "contributor")
    )
    assert by_contributor.status_code == 403
    async with listen(stack, "aims.evidence.evidence.approved") as events:
        approved = await stack.evidence.post(
            f"{base}/approve", headers=stack.headers(org, "manager", subject="boss")
        )
        assert approved.status_code == 200, approved.text
        event = await events.wait_for(lambda e: e["subject"] == item["id"])
    assert approved.json()["status"] == "approved"
    assert approved.json()["current_version"] == 1
    assert event["data"] == approved.json()
    assert approved.headers["etag"] == f'"{approved.json()["version"]}"'
    version = (await stack.evidence.get(f"{base}/versions/1", headers=stack.headers(org))).json()
    assert version["status"] == "approved" and version["approved_by"] == "boss"
    assert [f["filename"] for f in version["files"]] == ["a.pdf", "b.pdf"]


async def test_an_approved_version_is_immutable_and_a_change_is_a_new_version(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await approved_item(stack, org, content=b"version one")
    base = f"/v1/evidence/{item['id']}"

    refused = await upload(stack, org, item["id"], b"sneaky change")
    assert refused.status_code == 409
    assert refused.json()["code"] == "evidence-version-immutable"
    assert stack.org_blobs(org) and all(
        p.read_bytes() != b"sneaky change" for p in stack.org_blobs(org)
    )

    v2 = await stack.evidence.post(
        f"{base}/versions",
        json={"note": "annual update", "copy_files": True},
        headers=stack.headers(org),
    )
    assert v2.status_code == 201, v2.text
    assert v2.headers["location"] == f"{base}/versions/2"
    assert [f["filename"] for f in v2.json()["files"]] == ["policy.pdf"]
    again = await stack.evidence.post(f"{base}/versions", json={}, headers=stack.headers(org))
    assert again.status_code == 409 and again.json()["code"] == "evidence-version-open"

    assert (await upload(stack, org, item["id"], b"version two", number=2)).status_code == 201
    still = (await get_item(stack, org, item["id"])).json()
    assert (still["status"], still["current_version"], still["latest_version"]) == (
        "approved",
        1,
        2,
    )
    await stack.evidence.post(f"{base}/submit", headers=stack.headers(org))
    approved = await stack.evidence.post(f"{base}/approve", headers=stack.headers(org, "admin"))
    assert approved.json()["current_version"] == 2

    versions = (await stack.evidence.get(f"{base}/versions", headers=stack.headers(org))).json()
    assert [(v["number"], v["status"], len(v["files"])) for v in versions["items"]] == [
        (1, "superseded", 1),
        (2, "approved", 2),
    ]
    one = (await stack.evidence.get(f"{base}/versions/1", headers=stack.headers(org))).json()
    content = await stack.evidence.get(
        f"/v1/files/{one['files'][0]['id']}/content", headers=stack.headers(org)
    )
    assert content.content == b"version one"
    missing = await stack.evidence.get(f"{base}/versions/3", headers=stack.headers(org))
    assert missing.status_code == 404
    for bad in ("0", "x", "99999999999"):
        response = await stack.evidence.get(f"{base}/versions/{bad}", headers=stack.headers(org))
        assert response.status_code == 422, bad


async def test_a_link_item_holds_a_url_not_files(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org, kind="link", url="https://wiki.example.com/ai-policy")
    base = f"/v1/evidence/{item['id']}"

    refused = await upload(stack, org, item["id"], b"a file")
    assert refused.status_code == 409 and refused.json()["code"] == "evidence-kind-mismatch"
    assert (
        await stack.evidence.post(f"{base}/submit", headers=stack.headers(org))
    ).status_code == 200
    await stack.evidence.post(f"{base}/approve", headers=stack.headers(org, "manager"))
    no_url = await stack.evidence.post(f"{base}/versions", json={}, headers=stack.headers(org))
    assert no_url.status_code == 409
    v2 = await stack.evidence.post(
        f"{base}/versions",
        json={"url": "https://wiki.example.com/ai-policy-v2"},
        headers=stack.headers(org),
    )
    assert v2.status_code == 201 and v2.json()["url"] == "https://wiki.example.com/ai-policy-v2"
    v1 = (await stack.evidence.get(f"{base}/versions/1", headers=stack.headers(org))).json()
    assert v1["url"] == "https://wiki.example.com/ai-policy"


async def test_upload_cap_names_the_limit_and_keeps_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(11):
            yield b"z" * 100_000

    declared = await upload(stack, org, item["id"], b"z" * (MAX_UPLOAD_BYTES + 1))
    streamed = await stack.evidence.post(
        f"/v1/evidence/{item['id']}/versions/1/files",
        params={"filename": "big.bin"},
        content=chunks(),
        headers=stack.headers(org),
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        problem = response.json()
        assert problem["code"] == "payload-too-large"
        assert "1000000 bytes" in problem["detail"] and "976.6 KiB" in problem["detail"]
        assert problem["max_upload_bytes"] == MAX_UPLOAD_BYTES
    assert stack.org_blobs(org) == []
    version = await stack.evidence.get(
        f"/v1/evidence/{item['id']}/versions/1", headers=stack.headers(org)
    )
    assert version.json()["files"] == []


@pytest.mark.parametrize("filename", [".", "..", "a/b", "x\x00y", " "])
async def test_bad_file_names_are_refused(
    evidence_stack: EvidenceStack, org: uuid.UUID, filename: str
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org)

    response = await upload(stack, org, item["id"], b"content", filename=filename)

    assert response.status_code == 422
    assert stack.org_blobs(org) == []
