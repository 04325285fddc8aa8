"""Relay cursors over the services' keyset pagination.

A service hands out one opaque ``next_cursor`` per page, but Relay gives every edge a cursor a
client may resume after. The gateway's cursor is therefore a pair: the service cursor the page
started from and how many items of that page to skip. The last edge of a page that has more
carries the service's ``next_cursor`` itself, so paging forward costs one upstream call per
page and never re-reads what it skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from shared.errors import BadRequest, InvalidCursor

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_MAX_CURSOR_LENGTH = 2048


def decode_cursor_json(cursor: str, max_length: int) -> object:
    """The JSON value a base64 cursor of this API holds; :class:`InvalidCursor` for anything
    longer than ``max_length`` or not base64 JSON (the caller checks the value's shape)."""
    if len(cursor) > max_length:
        raise InvalidCursor("The cursor is too long.")
    try:
        value: object = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc
    return value


@dataclass(frozen=True)
class Position:
    """Where a page starts: after the service cursor ``upstream``, skipping ``skip`` items."""

    upstream: str | None = None
    skip: int = 0

    def encode(self) -> str:
        # What ``json.dumps({"u": …, "s": …}, separators=(",", ":"))`` writes, without building
        # a dict and an encoder per edge (a page encodes one cursor per edge).
        upstream = "null" if self.upstream is None else json.dumps(self.upstream)
        raw = f'{{"u":{upstream},"s":{int(self.skip)}}}'
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None) -> Position:
        if cursor is None:
            return cls()
        value = decode_cursor_json(cursor, _MAX_CURSOR_LENGTH)
        if not isinstance(value, dict):
            raise InvalidCursor("The cursor is not one this API issued.")
        upstream, skip = value.get("u"), value.get("s")
        if not (upstream is None or isinstance(upstream, str)) or not isinstance(skip, int):
            raise InvalidCursor("The cursor is not one this API issued.")
        if not 0 <= skip <= MAX_PAGE_SIZE:
            raise InvalidCursor("The cursor is not one this API issued.")
        return cls(upstream=upstream, skip=skip)


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadRequest(f"`first` must be between 1 and {MAX_PAGE_SIZE}.")
    return first
