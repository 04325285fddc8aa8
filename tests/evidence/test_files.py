"""Evidence files through the REST API: upload, download, limits, tenancy, idempotency, events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from shared.db import uuid7
from tests.evidence.conftest import MAX_UPLOAD_BYTES, EvidenceStack

pytestmark = pytest.mark.engines


async def upload(
    stack: EvidenceStack,
    org: uuid.UUID,
    system_id: str,
    content: bytes | AsyncIterator[bytes],
    *,
    filename: str = "policy.pdf",
    content_type: str = "application/pdf",
    role: str = "contributor",
    key: str | None = None,
) -> Any:
    headers = {**stack.headers(org, role), "Content-Type": content_type}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await stack.evidence.post(
        f"/v1/systems/{system_id}/files",
        params={"filename": filename},
        content=content,
        headers=headers,
    )


async def test_upload_then_download_returns_the_same_bytes_and_digests(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    content = os.urandom(300_000)
    digest = hashlib.sha256(content)

    response = await upload(
        stack, org, system["id"], content, filename="Prüfbericht 2026.pdf", role="manager"
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["system_id"] == system["id"]
    assert created["filename"] == "Prüfbericht 2026.pdf"
    assert created["content_type"] == "application/pdf"
    assert created["size_bytes"] == len(content)
    assert created["sha256"] == digest.hexdigest()
    assert created["created_by"] == "tester"
    assert response.headers["location"] == f"/v1/files/{created['id']}"

    viewer = stack.headers(org, "viewer")
    meta = await stack.evidence.get(f"/v1/files/{created['id']}", headers=viewer)
    assert meta.status_code == 200
    assert meta.json() == created

    download = await stack.evidence.get(f"/v1/files/{created['id']}/content", headers=viewer)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(content))
    assert download.headers["etag"] == f'"{digest.hexdigest()}"'
    assert download.headers["x-content-sha256"] == digest.hexdigest()
    assert download.headers["repr-digest"] == (
        f"sha-256=:{base64.b64encode(digest.digest()).decode()}:"
    )
    assert download.headers["content-disposition"].endswith(
        "filename*=UTF-8''Pr%C3%BCfbericht%202026.pdf"
    )

    again = await stack.evidence.get(
        f"/v1/files/{created['id']}/content",
        headers={**viewer, "If-None-Match": download.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.content == b""

    listed = await stack.evidence.get(f"/v1/systems/{system['id']}/files", headers=viewer)
    assert listed.status_code == 200
    assert listed.json() == {"items": [created], "next_cursor": None}


async def test_a_streamed_upload_without_content_length_is_hashed_as_it_arrives(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    parts = [os.urandom(64 * 1024) for _ in range(5)]

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await upload(stack, org, system["id"], body(), content_type="text/csv")

    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    download = await stack.evidence.get(
        f"/v1/files/{response.json()['id']}/content", headers=stack.headers(org)
    )
    assert download.content == b"".join(parts)
    assert download.headers["content-type"].startswith("text/csv")


async def test_an_upload_in_thousands_of_small_chunks_is_written_and_hashed_in_order(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    """More chunks than one write takes at once (the local store writes at most 512 buffers
    per ``writev``), of every small size, with a large one among them."""
    stack = evidence_stack
    system = await stack.register_system(org)
    parts = [os.urandom(1 + (i * 7919) % 400) for i in range(2_000)]
    parts.insert(1_000, os.urandom(300_000))

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await upload(stack, org, system["id"], body())

    assert response.status_code == 201, response.text
    content = b"".join(parts)
    assert response.json()["size_bytes"] == len(content)
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    download = await stack.evidence.get(
        f"/v1/files/{response.json()['id']}/content", headers=stack.headers(org)
    )
    assert download.content == content
    assert len(stack.org_blobs(org)) == 1  # the blob at its address; no upload left behind


async def test_an_upload_broken_off_midway_keeps_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)

    class ClientGone(Exception):
        pass

    async def body() -> AsyncIterator[bytes]:
        yield os.urandom(300_000)
        yield os.urandom(300_000)
        raise ClientGone  # raised in the app's receive, while the file is being written

    try:
        response = await upload(stack, org, system["id"], body())
    except ClientGone:
        pass  # the in-process transport passes the app's error on
    else:
        assert response.status_code >= 500, response.text

    assert stack.org_blobs(org) == []
    listed = await stack.evidence.get(
        f"/v1/systems/{system['id']}/files", headers=stack.headers(org)
    )
    assert listed.json()["items"] == []


async def test_oversized_upload_is_refused_and_nothing_is_kept(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    too_big = b"x" * (MAX_UPLOAD_BYTES + 1)

    declared = await upload(stack, org, system["id"], too_big)

    async def undeclared_body() -> AsyncIterator[bytes]:
        for start in range(0, len(too_big), 100_000):
            yield too_big[start : start + 100_000]

    streamed = await upload(stack, org, system["id"], undeclared_body())

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "payload-too-large"
    listed = await stack.evidence.get(
        f"/v1/systems/{system['id']}/files", headers=stack.headers(org)
    )
    assert listed.json()["items"] == []
    assert stack.org_blobs(org) == []
    summary = await stack.evidence.get(f"/v1/systems/{system['id']}", headers=stack.headers(org))
    assert summary.json()["file_count"] == 0


async def test_a_file_of_exactly_the_limit_is_accepted(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)

    response = await upload(stack, org, system["id"], b"y" * MAX_UPLOAD_BYTES)

    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == MAX_UPLOAD_BYTES


async def test_another_organisation_can_neither_see_nor_add_to_its_files(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    created = (await upload(stack, org, system["id"], b"confidential")).json()
    intruder = stack.headers(uuid7(), "admin")

    for path in (
        f"/v1/files/{created['id']}",
        f"/v1/files/{created['id']}/content",
        f"/v1/systems/{system['id']}",
        f"/v1/systems/{system['id']}/files",
    ):
        response = await stack.evidence.get(path, headers=intruder)
        assert response.status_code == 404, path
        assert b"confidential" not in response.content
    attempt = await stack.evidence.post(
        f"/v1/systems/{system['id']}/files",
        params={"filename": "planted.txt"},
        content=b"planted",
        headers=intruder,
    )
    assert attempt.status_code == 404
    listed = await stack.evidence.get(
        f"/v1/systems/{system['id']}/files", headers=stack.headers(org)
    )
    assert [f["filename"] for f in listed.json()["items"]] == ["policy.pdf"]


async def test_uploading_to_an_unknown_system_is_not_found(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    response = await upload(evidence_stack, org, str(uuid7()), b"orphan evidence")

    assert response.status_code == 404
    assert response.json()["code"] == "system-not-known"
    assert evidence_stack.org_blobs(org) == []


async def test_unknown_file_is_not_found(evidence_stack: EvidenceStack, org: uuid.UUID) -> None:
    response = await evidence_stack.evidence.get(
        f"/v1/files/{uuid7()}/content", headers=evidence_stack.headers(org)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "evidence-file-not-found"


async def test_readers_cannot_upload(evidence_stack: EvidenceStack, org: uuid.UUID) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)

    for role in ("viewer", "auditor"):
        response = await upload(stack, org, system["id"], b"not allowed", role=role)
        assert response.status_code == 403, role
    assert stack.org_blobs(org) == []


async def test_retried_upload_with_the_same_key_returns_the_first_file(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    content = b"minutes of the management review"

    first = await upload(stack, org, system["id"], content, key="review-2026")
    retry = await upload(stack, org, system["id"], content, key="review-2026")
    other = await upload(stack, org, system["id"], b"something else", key="review-2026")

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency-key-reused"
    listed = await stack.evidence.get(
        f"/v1/systems/{system['id']}/files", headers=stack.headers(org)
    )
    assert [f["id"] for f in listed.json()["items"]] == [first.json()["id"]]
    assert len(stack.org_blobs(org)) == 1


async def test_the_same_content_twice_is_two_files_over_one_blob(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)

    a = (await upload(stack, org, system["id"], b"same bytes", filename="a.txt")).json()
    b = (await upload(stack, org, system["id"], b"same bytes", filename="b.txt")).json()

    assert a["id"] != b["id"]
    assert a["sha256"] == b["sha256"]
    assert len(stack.org_blobs(org)) == 1
    download = await stack.evidence.get(f"/v1/files/{b['id']}/content", headers=stack.headers(org))
    assert download.content == b"same bytes"
    assert 'filename="b.txt"' in download.headers["content-disposition"]


@pytest.mark.parametrize(
    ("filename", "content", "status"),
    [("../etc/passwd", b"x", 422), ("bad\nname", b"x", 422), ("empty.txt", b"", 422)],
)
async def test_bad_uploads_are_refused_without_a_trace(
    evidence_stack: EvidenceStack, org: uuid.UUID, filename: str, content: bytes, status: int
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)

    response = await upload(stack, org, system["id"], content, filename=filename)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert stack.org_blobs(org) == []


async def test_upload_emits_evidence_added_with_the_file_metadata(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    nc = await nats.connect(stack.engines.nats_url)
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_message(msg: Any) -> None:
        await received.put(json.loads(msg.data))

    try:
        await nc.subscribe(
            f"{stack.engines.subject_prefix}aims.evidence.evidence.added", cb=on_message
        )
        created = (await upload(stack, org, system["id"], b"signed SoA")).json()

        while True:
            event = await asyncio.wait_for(received.get(), timeout=15)
            if event["data"]["id"] == created["id"]:
                break
    finally:
        await nc.close()

    assert event["type"] == "aims.evidence.evidence.added"
    assert event["orgid"] == str(org)
    assert event["subject"] == created["id"]
    assert event["data"] == created
