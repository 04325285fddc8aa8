"""The blob store of evidence content, behind one object-store API (obstore).

Blobs are content-addressed per organisation: ``orgs/<org_id>/sha256/<hex>``. The per-org prefix
means deduplication never crosses tenants, so neither timing nor a shared key can tell one
organisation that another holds the same file. An upload is streamed to a temporary key while its
SHA-256 is computed (the digest is only known at the end), then moved to its address, replacing
whatever is there: the fresh upload was hashed on the way in, so it is known to be right, and a
corrupted blob is repaired by uploading the original again.

Before content is served it is read once and hashed (:meth:`BlobStore.check`), so a corrupted
or missing blob is reported instead of served.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import obstore
from obstore.store import LocalStore, from_url

from shared.db import uuid7
from shared.errors import PayloadTooLarge

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ObjectStore

    from services.evidence.config import EvidenceSettings

# Parts of a streamed upload, and how many may be in flight at once: the memory an upload can
# hold is about their product (obstore's default of 12 parts let RSS grow by 60 MiB when the
# disk lagged the network in the benchmark). 4 keeps S3 multipart uploads parallel enough.
PART_BYTES = 5 * 1024 * 1024
PARTS_IN_FLIGHT = 4
DOWNLOAD_CHUNK_BYTES = 256 * 1024
CHECK_CHUNK_BYTES = 1024 * 1024
HASH_BLOCK_BYTES = 1024 * 1024

BlobState = Literal["ok", "corrupt", "missing"]


def human_bytes(size: int) -> str:
    """``1048576`` → ``1 MiB``; ``1000000`` → ``976.6 KiB``."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file exceeds the upload limit of {max_bytes} bytes ({human_bytes(max_bytes)}); "
        "the limit is the setting AIMS_MAX_UPLOAD_BYTES.",
        max_upload_bytes=max_bytes,
    )


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
        options: Any = dict(settings.blob_store_config) or None
        client: Any = {"allow_http": True} if settings.blob_store_allow_http else None
        return cls(from_url(url, config=options, client_options=client))

    async def receive(
        self, org_id: uuid.UUID, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> StagedBlob:
        """Stream ``chunks`` to a temporary key, hashing as they pass.

        Raises :class:`PayloadTooLarge` as soon as more than ``max_bytes`` arrived; nothing of
        the upload is kept then (or on any other failure).
        """
        digest = hashlib.sha256()
        size = 0
        hashing: asyncio.Future[None] | None = None

        async def blocks() -> AsyncIterator[bytes]:
            # The request's chunks (one per socket read of the ASGI server) are gathered into
            # blocks of HASH_BLOCK_BYTES with one copy (``join``) and handed to the store as
            # such. Each block is hashed on a worker thread (hashlib releases the GIL for large
            # buffers) while the event loop receives the next; blocks are hashed in order.
            nonlocal size
            pending: list[bytes] = []
            pending_bytes = 0
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                pending.append(chunk)
                pending_bytes += len(chunk)
                if pending_bytes >= HASH_BLOCK_BYTES:
                    block = b"".join(pending)
                    pending.clear()
                    pending_bytes = 0
                    await hash_next(block)
                    yield block
            if pending:
                block = b"".join(pending)
                await hash_next(block)
                yield block

        async def hash_next(block: bytes) -> None:
            nonlocal hashing
            if hashing is not None:
                await hashing
            hashing = asyncio.get_running_loop().run_in_executor(None, digest.update, block)

        key = f"orgs/{org_id}/uploads/{uuid7()}"
        try:
            await obstore.put_async(
                self.store,
                key,
                blocks(),
                chunk_size=PART_BYTES,
                max_concurrency=PARTS_IN_FLIGHT,
            )
            if hashing is not None:
                await hashing
        except BaseException:
            if hashing is not None:
                with contextlib.suppress(BaseException):
                    await hashing
            await self.discard(key)
            raise
        return StagedBlob(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def place(self, org_id: uuid.UUID, staged: StagedBlob) -> str:
        """Move a staged upload to its content address, replacing what is there; returns the
        key. Replacing (rather than keeping the first copy) is what repairs a blob that was
        corrupted or lost in storage: the staged copy was hashed as it arrived. A concurrent
        upload of the same content writes the same bytes, so the race is harmless."""
        key = content_key(org_id, staged.sha256)
        await obstore.rename_async(self.store, staged.key, key, overwrite=True)
        return key

    async def discard(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.store, key)

    async def check(self, key: str, sha256: str, size_bytes: int) -> BlobState:
        """Read the blob under ``key`` once and say whether it still holds the content whose
        SHA-256 is ``sha256``: ``ok``, ``corrupt`` (other bytes, or another size) or
        ``missing``. Costs one full read of the blob."""
        try:
            result = await obstore.get_async(self.store, key)
        except FileNotFoundError:
            return "missing"
        if result.meta["size"] != size_bytes:
            return "corrupt"
        digest = hashlib.sha256()
        try:
            async for chunk in result.stream(min_chunk_size=CHECK_CHUNK_BYTES):
                digest.update(chunk)
        except FileNotFoundError:
            return "missing"
        return "ok" if digest.hexdigest() == sha256 else "corrupt"

    async def open(
        self, key: str, byte_range: tuple[int, int] | None = None
    ) -> AsyncIterator[bytes]:
        """The content under ``key`` (or the bytes ``[start, end)`` of it) as a stream; the blob
        is opened before this returns (:class:`FileNotFoundError` when it is gone)."""
        options: GetOptions = {"range": byte_range} if byte_range is not None else {}
        result = await obstore.get_async(self.store, key, options=options)

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK_BYTES):
                yield bytes(chunk)

        return chunks()
