"""The same upload / download / verify / repair path against a real S3-compatible server.

The server is moto's (``moto[server]``, a dev dependency) started here in a thread on a free
loopback port; the evidence service talks to it over HTTP through obstore's S3 store exactly as
it would to AWS S3 or MinIO (multipart uploads included). Nothing here is mocked in-process.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import obstore
import pytest
from moto.server import ThreadedMotoServer
from obstore.store import S3Store

from shared.runtime.embedded import find_free_port
from shared.testing import TestEngines

pytestmark = pytest.mark.engines

BUCKET = "aims-evidence-test"
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


@dataclass
class S3Evidence:
    engines: TestEngines
    client: httpx.AsyncClient
    store: S3Store  # the bucket, seen directly (to corrupt and remove objects)

    def headers(self, org: uuid.UUID, *roles: str) -> dict[str, str]:
        return self.engines.headers(org, *roles)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = find_free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        created = httpx.put(f"{endpoint}/{BUCKET}")
        assert created.status_code == 200, created.text
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def s3_evidence(engines: TestEngines, s3_endpoint: str) -> AsyncIterator[S3Evidence]:
    from services.evidence.config import EvidenceSettings
    from services.evidence.main import create_app

    config = {**CREDENTIALS, "endpoint": s3_endpoint}
    app = create_app(
        EvidenceSettings(
            **{**engines.settings_env("evidence"), "run_workers": False},
            blob_store_url=f"s3://{BUCKET}/aims",
            blob_store_config=config,
            blob_store_allow_http=True,
            max_upload_bytes=32 * 1024 * 1024,
        )
    )
    store = S3Store(BUCKET, config=config, client_options={"allow_http": True})  # type: ignore[arg-type]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://evidence"
        ) as client,
    ):
        yield S3Evidence(engines, client, store)


def blob_key(org: uuid.UUID, content: bytes) -> str:
    return f"aims/orgs/{org}/sha256/{hashlib.sha256(content).hexdigest()}"


async def upload(s3: S3Evidence, org: uuid.UUID, item_id: str, content: bytes) -> httpx.Response:
    return await s3.client.post(
        f"/v1/evidence/{item_id}/versions/1/files",
        params={"filename": "export.bin"},
        content=content,
        headers=s3.headers(org, "contributor"),
    )


async def new_item(s3: S3Evidence, org: uuid.UUID) -> str:
    response = await s3.client.post(
        "/v1/evidence", json={"title": "S3 export"}, headers=s3.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_upload_download_verify_and_repair_through_s3(
    s3_evidence: S3Evidence, org: uuid.UUID
) -> None:
    s3 = s3_evidence
    # Larger than one multipart part (5 MiB), so the upload is a real multipart upload.
    content = os.urandom(12 * 1024 * 1024 + 123)
    item = await new_item(s3, org)

    response = await upload(s3, org, item, content)

    assert response.status_code == 201, response.text
    file = response.json()
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    stored = await obstore.get_async(s3.store, blob_key(org, content))
    assert bytes(await stored.bytes_async()) == content
    leftovers = [
        m["path"] for batch in obstore.list(s3.store, f"aims/orgs/{org}/uploads") for m in batch
    ]
    assert leftovers == []

    path = f"/v1/files/{file['id']}/content"
    download = await s3.client.get(path, headers=s3.headers(org))
    assert download.status_code == 200 and download.content == content
    ranged = await s3.client.get(
        path, headers={**s3.headers(org), "Range": "bytes=5242870-5242889"}
    )
    assert ranged.status_code == 206 and ranged.content == content[5_242_870:5_242_890]

    # One flipped byte in the bucket: refused, reported by verify, repaired by a re-upload.
    corrupted = bytearray(content)
    corrupted[1_000_000] ^= 0xFF
    await obstore.put_async(s3.store, blob_key(org, content), bytes(corrupted))
    refused = await s3.client.get(path, headers=s3.headers(org))
    assert refused.status_code == 409 and refused.json()["code"] == "evidence-blob-corrupt"
    report = (await s3.client.post("/v1/blobs/verify", headers=s3.headers(org, "admin"))).json()
    assert (report["checked"], report["corrupt"]) == (1, 1)
    assert report["problems"][0]["files"][0]["file_id"] == file["id"]

    assert (await upload(s3, org, await new_item(s3, org), content)).status_code == 201
    repaired = await s3.client.get(path, headers=s3.headers(org))
    assert repaired.status_code == 200 and repaired.content == content
    report = (await s3.client.post("/v1/blobs/verify", headers=s3.headers(org, "admin"))).json()
    assert (report["ok"], report["corrupt"], report["missing"]) == (1, 0, 0)

    await obstore.delete_async(s3.store, blob_key(org, content))
    missing = await s3.client.get(path, headers=s3.headers(org))
    assert missing.status_code == 409 and missing.json()["code"] == "evidence-blob-missing"


async def test_oversized_upload_to_s3_keeps_nothing(
    s3_evidence: S3Evidence, org: uuid.UUID
) -> None:
    s3 = s3_evidence
    item = await new_item(s3, org)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(33):
            yield b"\0" * (1024 * 1024)

    response = await s3.client.post(
        f"/v1/evidence/{item}/versions/1/files",
        params={"filename": "huge.bin"},
        content=body(),
        headers=s3.headers(org),
    )

    assert response.status_code == 413
    assert "33554432 bytes (32 MiB)" in response.json()["detail"]
    kept = [m for batch in obstore.list(s3.store, f"aims/orgs/{org}") for m in batch]
    assert kept == []
