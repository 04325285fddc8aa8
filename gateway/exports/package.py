"""A streaming zip writer: entries go out as their bytes arrive, each hashed on the way.

No library: the archive is a sequence of *stored* (uncompressed) entries with data descriptors,
so nothing needs to be known about an entry before its first byte is sent, and nothing of it
is kept afterwards except its central-directory record (a few dozen bytes). Evidence files
are mostly compressed formats already (PDF, Office, images), and storing them keeps the CPU
free for the SHA-256 the manifest needs. ZIP64 records are written whenever a size, an offset
or the entry count would not fit the classic format, so packages over 4 GiB are valid.

Every entry's SHA-256 and size are computed while it streams; :meth:`ZipStream.finish` writes
``manifest.json`` last with them all, then the central directory.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

# The classic format's limits: above them a value moves into a ZIP64 extra field.
_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
# Flags: bit 3 = sizes and CRC follow the data (data descriptor), bit 11 = UTF-8 names.
_FLAGS = 0x0008 | 0x0800
_STORED = 0
_VERSION_ZIP64 = 45
_VERSION_CLASSIC = 20
# "Made by" UNIX (3), spec version 4.5, so that the external attributes carry file modes.
_MADE_BY = (3 << 8) | _VERSION_ZIP64
_FILE_MODE = (0o100644 << 16) & 0xFFFFFFFF


def dos_timestamp(moment: datetime) -> tuple[int, int]:
    """``(time, date)`` in MS-DOS form (two-second resolution, 1980–2107)."""
    year = min(max(moment.year, 1980), 2107)
    date = ((year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


def check_entry_name(name: str) -> str:
    """An archive path that unpacks inside its folder: relative, ``/``-separated, no ``..``."""
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
        or any(ord(c) < 32 for c in name)
    ):
        raise ValueError(f"unsafe archive path: {name!r}")
    return name


@dataclass(frozen=True)
class WrittenEntry:
    """What the manifest records of one entry."""

    path: str
    size_bytes: int
    sha256: str


@dataclass
class _CentralRecord:
    name: bytes
    crc32: int
    size: int
    offset: int
    time: int
    date: int


class ZipStream:
    """Writes one archive as an async stream of byte chunks.

    Use :meth:`entry` for each file (an async generator of the archive's bytes) and
    :meth:`finish` for the central directory; :attr:`written` lists every entry so far.
    """

    def __init__(self, *, modified_at: datetime) -> None:
        self._time, self._date = dos_timestamp(modified_at)
        self._offset = 0
        self._records: list[_CentralRecord] = []
        self._names: set[str] = set()
        self.written: list[WrittenEntry] = []

    @property
    def bytes_written(self) -> int:
        return self._offset

    def _emit(self, chunk: bytes) -> bytes:
        self._offset += len(chunk)
        return chunk

    async def entry(
        self, name: str, chunks: AsyncIterable[bytes], *, size_hint: int | None = None
    ) -> AsyncIterator[bytes]:
        """The local header, the content as it arrives, and the data descriptor.

        ``size_hint`` (when the size is known beforehand and small) lets the entry use the
        classic 32-bit data descriptor; otherwise the ZIP64 one is used, valid at any size.
        """
        check_entry_name(name)
        if name in self._names:
            raise ValueError(f"duplicate archive path: {name!r}")
        self._names.add(name)
        encoded = name.encode("utf-8")
        zip64 = size_hint is None or size_hint >= _MAX32
        offset = self._offset
        if zip64:
            # Sizes in the local header are "see the ZIP64 extra field"; the real ones follow
            # the data (zeros here, as the specification asks when bit 3 is set).
            extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0)
            header_sizes = (_MAX32, _MAX32)
            version = _VERSION_ZIP64
        else:
            extra = b""
            header_sizes = (0, 0)
            version = _VERSION_CLASSIC
        yield self._emit(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                version,
                _FLAGS,
                _STORED,
                self._time,
                self._date,
                0,
                *header_sizes,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
        )
        crc = 0
        size = 0
        digest = hashlib.sha256()
        async for chunk in chunks:
            if not chunk:
                continue
            crc = zlib.crc32(chunk, crc)
            digest.update(chunk)
            size += len(chunk)
            yield self._emit(chunk)
        if not zip64 and size >= _MAX32:
            raise ValueError(f"{name!r} is larger than its size hint allowed")
        if zip64:
            yield self._emit(struct.pack("<IIQQ", 0x08074B50, crc, size, size))
        else:
            yield self._emit(struct.pack("<IIII", 0x08074B50, crc, size, size))
        self._records.append(_CentralRecord(encoded, crc, size, offset, self._time, self._date))
        self.written.append(WrittenEntry(name, size, digest.hexdigest()))

    async def bytes_entry(self, name: str, content: bytes) -> AsyncIterator[bytes]:
        """An entry whose content is already at hand (documents, the manifest)."""

        async def one() -> AsyncIterator[bytes]:
            yield content

        async for chunk in self.entry(name, one(), size_hint=len(content)):
            yield chunk

    def finish(self) -> bytes:
        """The central directory (and its ZIP64 end records when needed)."""
        start = self._offset
        directory = bytearray()
        for record in self._records:
            extra_values: list[int] = []
            size32 = record.size
            offset32 = record.offset
            if record.size >= _MAX32:
                extra_values += [record.size, record.size]
                size32 = _MAX32
            if record.offset >= _MAX32:
                extra_values.append(record.offset)
                offset32 = _MAX32
            extra = (
                struct.pack("<HH", 0x0001, 8 * len(extra_values))
                + struct.pack(f"<{len(extra_values)}Q", *extra_values)
                if extra_values
                else b""
            )
            directory += struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                _MADE_BY,
                _VERSION_ZIP64 if extra_values else _VERSION_CLASSIC,
                _FLAGS,
                _STORED,
                record.time,
                record.date,
                record.crc32,
                size32,
                size32,
                len(record.name),
                len(extra),
                0,
                0,
                0,
                _FILE_MODE,
                offset32,
            )
            directory += record.name + extra
        size = len(directory)
        count = len(self._records)
        tail = bytearray()
        if count >= _MAX16 or size >= _MAX32 or start >= _MAX32:
            zip64_end = start + size
            tail += struct.pack(
                "<IQHHIIQQQQ",
                0x06064B50,
                44,
                _MADE_BY,
                _VERSION_ZIP64,
                0,
                0,
                count,
                count,
                size,
                start,
            )
            tail += struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
        tail += struct.pack(
            "<IHHHHIIH",
            0x06054B50,
            0,
            0,
            min(count, _MAX16),
            min(count, _MAX16),
            min(size, _MAX32),
            min(start, _MAX32),
            0,
        )
        return self._emit(bytes(directory + tail))
