"""The blob store of evidence content, behind one object-store API (obstore).

Blobs are content-addressed per organisation: ``orgs/<org_id>/sha256/<hex>``. The per-org prefix
means deduplication never crosses tenants, so neither timing nor a shared key can tell one
organisation that another holds the same file. An upload is streamed to a temporary key while its
SHA-256 is computed (the digest is only known at the end), then moved to its address, replacing
whatever is there: the fresh upload was hashed on the way in, so it is known to be right, and a
corrupted blob is repaired by uploading the original again.

On a local store (``file:`` URL, the default) the upload is written to its temporary key's file
directly: each block of received chunks goes to a worker thread once, which hashes the chunks
and writes them with one ``writev`` (no join, no part buffers of the object store), while the
event loop receives the next block. Neither path fsyncs the staged file (obstore's local store
does not either); the rename to the content address is atomic.

Before content is served it is read once and hashed (:meth:`BlobStore.check`), so a corrupted
or missing blob is reported instead of served.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
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
#: Bytes of received chunks handed to the writing thread at once on a local store (one thread
#: hop per block), and how many blocks may wait for it: an upload holds at most about
#: (LOCAL_BLOCKS_IN_FLIGHT + 1) blocks. WRITEV_MAX_BUFFERS: below IOV_MAX (1024).
LOCAL_BLOCK_BYTES = 1024 * 1024
LOCAL_BLOCKS_IN_FLIGHT = 8
WRITEV_MAX_BUFFERS = 512

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


class _Received:
    """The bytes of one upload so far; more than ``max_bytes`` is refused as they arrive."""

    def __init__(self, max_bytes: int) -> None:
        self.size = 0
        self.max_bytes = max_bytes


async def _gather(
    chunks: AsyncIterable[bytes],
    received: _Received,
    block_bytes: int,
    *,
    max_buffers: int | None = None,
) -> AsyncIterator[list[bytes]]:
    """The request's chunks (one per socket read of the ASGI server) in blocks of at least
    ``block_bytes`` (or ``max_buffers`` chunks), not joined; the last block may be smaller.
    Raises :func:`too_large` as soon as more than ``received.max_bytes`` arrived."""
    pending: list[bytes] = []
    pending_bytes = 0
    async for chunk in chunks:
        if not chunk:
            continue
        received.size += len(chunk)
        if received.size > received.max_bytes:
            raise too_large(received.max_bytes)
        pending.append(chunk)
        pending_bytes += len(chunk)
        if pending_bytes >= block_bytes or (
            max_buffers is not None and len(pending) >= max_buffers
        ):
            yield pending
            pending = []
            pending_bytes = 0
    if pending:
        yield pending


class BlobStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        # The folder of a local store: uploads are written there directly (see the docstring).
        prefix = store.prefix if isinstance(store, LocalStore) else None
        self.root: Path | None = Path(str(prefix)) if prefix is not None else None

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
        key = f"orgs/{org_id}/uploads/{uuid7()}"
        if self.root is not None:
            return await self._receive_local(key, chunks, max_bytes=max_bytes)
        digest = hashlib.sha256()
        received = _Received(max_bytes)
        hashing: asyncio.Future[None] | None = None

        async def blocks() -> AsyncIterator[bytes]:
            # The request's chunks (one per socket read of the ASGI server) are gathered into
            # blocks of HASH_BLOCK_BYTES with one copy (``join``) and handed to the store as
            # such. Each block is hashed on a worker thread (hashlib releases the GIL for large
            # buffers) while the event loop receives the next; blocks are hashed in order.
            async for pending in _gather(chunks, received, HASH_BLOCK_BYTES):
                block = b"".join(pending)
                await hash_next(block)
                yield block

        async def hash_next(block: bytes) -> None:
            nonlocal hashing
            if hashing is not None:
                await hashing
            hashing = asyncio.get_running_loop().run_in_executor(None, digest.update, block)

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
        return StagedBlob(key=key, size_bytes=received.size, sha256=digest.hexdigest())

    async def _receive_local(
        self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> StagedBlob:
        """:meth:`receive` on a local store: the chunks are written to ``key``'s file as they
        arrive, a block (:data:`LOCAL_BLOCK_BYTES`) per thread hop that hashes and writes it.

        The upload's own writer thread takes the blocks in order; up to
        :data:`LOCAL_BLOCKS_IN_FLIGHT` wait for it, so a write held up by the disk (writeback
        throttling) does not stop the socket at once, and memory stays bounded."""
        assert self.root is not None
        path = self.root / key
        loop = asyncio.get_running_loop()
        digest = hashlib.sha256()
        received = _Received(max_bytes)
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-writer")
        # Hashing and writing a block run side by side, each in order in a thread of its own
        # (both release the GIL): one after the other in one thread, they were the upload's
        # slowest stage (docs/performance.md).
        hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-hasher")
        in_flight: collections.deque[asyncio.Future[Any]] = collections.deque()
        created = writer.submit(_create_file, path)
        fd = -1

        def hash_block(block: list[bytes]) -> None:
            for chunk in block:
                digest.update(chunk)  # releases the GIL for chunks of 2 KiB and more

        def write_block(block: list[bytes]) -> None:
            _write_all(fd, block)

        try:
            fd = await asyncio.wrap_future(created)
            async for pending in _gather(
                chunks, received, LOCAL_BLOCK_BYTES, max_buffers=WRITEV_MAX_BUFFERS
            ):
                if len(in_flight) >= LOCAL_BLOCKS_IN_FLIGHT:
                    await in_flight.popleft()
                in_flight.append(
                    asyncio.gather(
                        loop.run_in_executor(hasher, hash_block, pending),
                        loop.run_in_executor(writer, write_block, pending),
                    )
                )
            while in_flight:
                await in_flight.popleft()
        except BaseException:
            # Blocks not yet written are dropped; the one being written is waited for before
            # the file is closed (its descriptor must not be reused under a running write).
            hasher.shutdown(wait=False, cancel_futures=True)
            stopping = loop.run_in_executor(
                None, functools.partial(writer.shutdown, wait=True, cancel_futures=True)
            )
            with contextlib.suppress(BaseException):
                await asyncio.shield(stopping)
            for future in in_flight:
                future.cancel()
            if created.done() and not created.cancelled() and created.exception() is None:
                os.close(created.result())
            await self.discard(key)
            raise
        writer.shutdown(wait=False)
        hasher.shutdown(wait=False)
        os.close(fd)
        return StagedBlob(key=key, size_bytes=received.size, sha256=digest.hexdigest())

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


def _create_file(path: Path) -> int:
    """Create ``path`` (and its folders) for writing; a folder removed meanwhile by the store's
    clean-up of empty folders (another upload's discard) is created again."""
    for _ in range(5):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileNotFoundError:
            continue
    raise FileNotFoundError(f"could not create {path}")


def _write_all(fd: int, buffers: list[bytes]) -> None:
    """Write ``buffers`` in order, with one ``writev`` unless the kernel writes less."""
    written = os.writev(fd, buffers)
    total = sum(len(b) for b in buffers)
    if written == total:
        return
    rest = memoryview(b"".join(buffers))[written:]
    while rest:
        rest = rest[os.write(fd, rest) :]
