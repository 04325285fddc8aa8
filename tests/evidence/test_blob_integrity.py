"""Blob integrity: a corrupted or missing blob is never served, is reported and can be repaired."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.conftest import EvidenceStack
from tests.evidence.items_api import create_item, listen, upload

pytestmark = pytest.mark.engines

FAILED = "aims.evidence.blob.integrity_failed"


def blob_path(stack: EvidenceStack, org: uuid.UUID, content: bytes) -> Path:
    path = stack.blob_dir / "orgs" / str(org) / "sha256" / hashlib.sha256(content).hexdigest()
    assert path.is_file()
    return path


def flip_one_byte(path: Path, offset: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


async def stored_file(
    stack: EvidenceStack, org: uuid.UUID, content: bytes, filename: str = "policy.pdf"
) -> dict[str, Any]:
    item = await create_item(stack, org, title=filename)
    response = await upload(stack, org, item["id"], content, filename=filename)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_flipped_byte_is_refused_reported_and_repaired_by_uploading_again(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    content = bytes(range(256)) * 100
    file = await stored_file(stack, org, content)
    path = f"/v1/files/{file['id']}/content"
    flip_one_byte(blob_path(stack, org, content))

    async with listen(stack, FAILED) as events:
        refused = await stack.evidence.get(path, headers=stack.headers(org))
        ranged = await stack.evidence.get(
            path, headers={**stack.headers(org), "Range": "bytes=0-3"}
        )
        event = await events.wait_for(lambda e: e["orgid"] == str(org))

    for response in (refused, ranged):
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "evidence-blob-corrupt"
        assert "does not match its SHA-256" in problem["detail"]
        assert "Upload the original file again" in problem["detail"]
        assert content[:16] not in response.content
    assert event["data"]["state"] == "corrupt"
    assert event["data"]["sha256"] == file["sha256"]
    assert event["data"]["detected_by"] == "download"
    assert [f["file_id"] for f in event["data"]["files"]] == [file["id"]]
    assert len(events.of(FAILED)) == 1  # the second detection of a known problem is quiet

    # Uploading the same content again (to any version) replaces the corrupt blob.
    again = await stored_file(stack, org, content, filename="policy-again.pdf")
    assert again["sha256"] == file["sha256"]
    repaired = await stack.evidence.get(path, headers=stack.headers(org))
    assert repaired.status_code == 200
    assert repaired.content == content
    assert len(stack.org_blobs(org)) == 1


async def test_a_missing_blob_gets_a_clear_error_not_a_500(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    content = b"minutes of the management review"
    file = await stored_file(stack, org, content)
    blob_path(stack, org, content).unlink()

    async with listen(stack, FAILED) as events:
        response = await stack.evidence.get(
            f"/v1/files/{file['id']}/content", headers=stack.headers(org)
        )
        event = await events.wait_for(lambda e: e["orgid"] == str(org))

    assert response.status_code == 409
    assert response.json()["code"] == "evidence-blob-missing"
    assert "missing" in response.json()["detail"]
    assert event["data"]["state"] == "missing"
    metadata = await stack.evidence.get(f"/v1/files/{file['id']}", headers=stack.headers(org))
    assert metadata.status_code == 200

    await stored_file(stack, org, content, filename="restored.txt")
    restored = await stack.evidence.get(
        f"/v1/files/{file['id']}/content", headers=stack.headers(org)
    )
    assert restored.status_code == 200 and restored.content == content


async def test_verify_checks_every_blob_of_the_organisation(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    good = await stored_file(stack, org, b"good evidence", "good.txt")
    corrupt_content = b"evidence that will rot" * 10
    corrupt = await stored_file(stack, org, corrupt_content, "rotten.txt")
    missing_content = b"evidence that will vanish"
    missing = await stored_file(stack, org, missing_content, "gone.txt")
    flip_one_byte(blob_path(stack, org, corrupt_content))
    blob_path(stack, org, missing_content).unlink()

    refused = await stack.evidence.post("/v1/blobs/verify", headers=stack.headers(org, "manager"))
    assert refused.status_code == 403
    async with listen(stack, FAILED) as events:
        response = await stack.evidence.post(
            "/v1/blobs/verify", headers=stack.headers(org, "admin")
        )
        assert response.status_code == 200, response.text
        await events.wait_for(lambda e: e["data"]["sha256"] == missing["sha256"])
        await events.wait_for(lambda e: e["data"]["sha256"] == corrupt["sha256"])

    report = response.json()
    assert (report["checked"], report["ok"], report["corrupt"], report["missing"]) == (3, 1, 1, 1)
    by_state = {p["state"]: p for p in report["problems"]}
    assert by_state["corrupt"]["files"][0]["file_id"] == corrupt["id"]
    assert by_state["corrupt"]["files"][0]["item_id"] == corrupt["item_id"]
    assert by_state["missing"]["files"][0]["filename"] == "gone.txt"
    assert good["sha256"] not in {p["sha256"] for p in report["problems"]}
    assert {e["data"]["detected_by"] for e in events.of(FAILED)} == {"verify"}

    other_org = await stack.evidence.post(
        "/v1/blobs/verify", headers=stack.headers(uuid.uuid4(), "admin")
    )
    assert other_org.json()["checked"] == 0
