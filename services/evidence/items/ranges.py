"""``Range: bytes=…`` for downloads (RFC 9110 §14): one range per request.

Only single ranges are served as 206; anything this parser does not understand (another unit,
several ranges, bad syntax) is ignored and the whole content is served with 200, which the RFC
allows. A well-formed range that selects nothing of the content is unsatisfiable (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})", re.ASCII)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(Exception):
    """The range selects no byte of the content."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range ``header`` asks for within content of ``size`` bytes; None to serve the
    whole content; raises :class:`Unsatisfiable` for a range that selects nothing."""
    if header is None:
        return None
    match = _SINGLE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid syntax: ignore the header
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, min(end, size - 1))
