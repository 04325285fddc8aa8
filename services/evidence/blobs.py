"""The blob store of evidence content, behind one object-store API (obstore).

Blobs are content-addressed per organisation: ``orgs/<org_id>/sha256/<hex>``. The per-org prefix
means deduplication never crosses tenants, so neither timing nor a shared key can tell one
organisation that another holds the same file. An upload is streamed to a temporary key while its
SHA-256 is computed (the digest is only known at the end), then moved to its address.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import obstore
from obstore.store import LocalStore, from_url

from shared.db import uuid7
from shared.errors import PayloadTooLarge

if TYPE_CHECKING:
    from obstore.store import ObjectStore

    from services.evidence.config import EvidenceSettings

# Parts of a streamed upload; obstore buffers at most a few of these, never the whole file.
PART_BYTES = 5 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 256 * 1024


def blob_store_url(settings: EvidenceSettings) -> str:
    if settings.blob_store_url:
        return settings.blob_store_url
    return (Path(settings.var_dir).resolve() / "blobs").as_uri()


@dataclass(frozen=True)
class StagedBlob:
    """An upload received in full under a temporary key, not yet at its address."""

    key: str
    size_bytes: int
    sha256: str


def content_key(org_id: uuid.UUID, sha256: str) -> str:
    return f"orgs/{org_id}/sha256/{sha256}"


class BlobStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @classmethod
    def from_settings(cls, settings: EvidenceSettings) -> BlobStore:
        url = blob_store_url(settings)
        if url.startswith("file:"):
            # automatic_cleanup removes the empty folders a moved or deleted blob leaves behind.
            return cls(LocalStore.from_url(url, mkdir=True, automatic_cleanup=True))
        return cls(from_url(url))

    async def receive(
        self, org_id: uuid.UUID, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> StagedBlob:
        """Stream ``chunks`` to a temporary key, hashing as they pass.

        Raises :class:`PayloadTooLarge` as soon as more than ``max_bytes`` arrived; nothing of
        the upload is kept then (or on any other failure).
        """
        digest = hashlib.sha256()
        size = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal size
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The file exceeds {max_bytes} bytes.")
                digest.update(chunk)
                yield chunk

        key = f"orgs/{org_id}/uploads/{uuid7()}"
        try:
            await obstore.put_async(self.store, key, counted(), chunk_size=PART_BYTES)
        except BaseException:
            await self.discard(key)
            raise
        return StagedBlob(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def place(self, org_id: uuid.UUID, staged: StagedBlob) -> str:
        """Move a staged upload to its content address; returns that key."""
        key = content_key(org_id, staged.sha256)
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            # Same content under the same key, so a concurrent upload overwriting is harmless.
            await obstore.rename_async(self.store, staged.key, key, overwrite=True)
        else:
            await self.discard(staged.key)
        return key

    async def discard(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.store, key)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The content under ``key`` as a stream; the blob is opened before this returns."""
        result = await obstore.get_async(self.store, key)

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK_BYTES):
                yield bytes(chunk)

        return chunks()
