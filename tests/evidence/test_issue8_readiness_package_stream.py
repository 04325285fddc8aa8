"""Issue 8: the audit package is streamed, never built in memory.

The package writer (``gateway.exports.package.ZipStream``) is fed a large evidence file as a
stream of fresh 1 MiB chunks and its output is consumed and dropped as it comes, as the gateway
does with the evidence service's download and the HTTP response. Python's allocation tracer
shows the peak stays a few chunks high however large the file (a writer holding the content
would peak at its full size). The end-to-end figure through a real gateway process is
``bench/audit_package.py`` (1 GiB, 10,000 files).
"""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from gateway.exports.package import ZipStream

MIB = 1 << 20
FILE_MIB = 96
FILES = 3


async def fresh_chunks(count: int, seed: int) -> AsyncIterator[bytes]:
    """``count`` newly allocated 1 MiB chunks (distinct content, so nothing is shared)."""
    for i in range(count):
        yield (seed * 1_000_003 + i).to_bytes(8, "big") * (MIB // 8)


async def stream_package() -> tuple[int, int, list[tuple[str, int, str]], str, int]:
    """Write FILES entries of FILE_MIB each and a manifest; keep only counts and digests."""
    zs = ZipStream(modified_at=datetime(2026, 11, 28, tzinfo=UTC))
    out = hashlib.sha256()
    total = 0
    largest = 0
    for n in range(FILES):
        async for chunk in zs.entry(f"evidence/{n}/file.bin", fresh_chunks(FILE_MIB, n)):
            out.update(chunk)
            total += len(chunk)
            largest = max(largest, len(chunk))
    async for chunk in zs.bytes_entry("manifest.json", b"{}"):
        out.update(chunk)
        total += len(chunk)
    tail = zs.finish()
    out.update(tail)
    total += len(tail)
    written = [(e.path, e.size_bytes, e.sha256) for e in zs.written]
    return total, largest, written, out.hexdigest(), zs.bytes_written


def expected_digest(seed: int) -> str:
    digest = hashlib.sha256()
    for i in range(FILE_MIB):
        digest.update((seed * 1_000_003 + i).to_bytes(8, "big") * (MIB // 8))
    return digest.hexdigest()


def test_a_large_package_streams_with_memory_of_a_few_chunks() -> None:
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total, largest, written, _, counted = asyncio.run(stream_package())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    content = FILES * FILE_MIB * MIB
    assert total == counted and total > content
    assert largest == MIB  # passed through chunk by chunk, never gathered
    growth = peak - before
    # 288 MiB went through; a writer that kept the content would peak near that.
    assert growth < 8 * MIB, f"peak grew by {growth / MIB:.1f} MiB"
    # The manifest's hashes are of the full content, computed on the way.
    for n, (path, size, sha256) in enumerate(written[:FILES]):
        assert path == f"evidence/{n}/file.bin" and size == FILE_MIB * MIB
        assert sha256 == expected_digest(n)
    assert written[-1][0] == "manifest.json"


def test_crc_and_sizes_in_the_stream_match_the_content() -> None:
    """The data descriptor after each entry carries the CRC-32 and the ZIP64 sizes of what was
    streamed (no size known up front)."""

    async def one() -> bytes:
        zs = ZipStream(modified_at=datetime(2026, 11, 28, tzinfo=UTC))
        parts = [c async for c in zs.entry("a.bin", fresh_chunks(3, 7))]
        return b"".join(parts[-1:])

    descriptor = asyncio.run(one())
    crc = 0
    for i in range(3):
        crc = zlib.crc32((7 * 1_000_003 + i).to_bytes(8, "big") * (MIB // 8), crc)
    assert descriptor[:4] == b"PK\x07\x08"
    assert int.from_bytes(descriptor[4:8], "little") == crc
    assert int.from_bytes(descriptor[8:16], "little") == 3 * MIB
    assert int.from_bytes(descriptor[16:24], "little") == 3 * MIB
