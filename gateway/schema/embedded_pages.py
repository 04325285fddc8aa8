"""Relay pages over a list the gateway already holds whole (issue 11).

Some lists that grow live inside one upstream document or report: a scope version's systems
(stored with the version), a diff of two versions, a computed report (awareness, a dependency
walk, the risk dashboard's counts per system). The upstream answers them in one call whatever
their length, so a connection over them pages in the gateway: the cursor is the offset into the
list (``{"o": n}``, base64), distinct from the ``pagination.Position`` cursors of upstream-paged
lists so that one is never mistaken for the other. Paging costs no upstream call beyond the one
that loaded the document; the client gets the same ``first``/``after``/``pageInfo`` contract as
every other connection.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import TypeVar

from strawberry import relay

from gateway.schema.pagination import check_page_size, decode_cursor_json
from shared.errors import InvalidCursor

T = TypeVar("T")
N = TypeVar("N")

# An offset beyond any list one upstream document carries (the largest embedded lists are a
# register's systems); refusing larger ones keeps a forged cursor cheap to reject.
MAX_OFFSET = 10_000_000
_MAX_CURSOR_LENGTH = 64


def encode_offset(offset: int) -> str:
    raw = f'{{"o":{int(offset)}}}'
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_offset(cursor: str | None) -> int:
    """The number of items before the page ``cursor`` resumes after (0 without one)."""
    if cursor is None:
        return 0
    value = decode_cursor_json(cursor, _MAX_CURSOR_LENGTH)
    offset = value.get("o") if isinstance(value, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidCursor("The cursor is not one this API issued.")
    return offset


def slice_page(
    items: Sequence[T], first: int, after: str | None, convert: Callable[[T], N]
) -> tuple[list[tuple[str, N]], relay.PageInfo]:
    """``(cursor, node)`` pairs of the page of ``items`` after ``after``, and its page info."""
    check_page_size(first)
    start = decode_offset(after)
    window = items[start : start + first]
    pairs = [(encode_offset(start + i + 1), convert(item)) for i, item in enumerate(window)]
    return pairs, relay.PageInfo(
        has_next_page=start + len(window) < len(items),
        has_previous_page=start > 0,
        start_cursor=pairs[0][0] if pairs else None,
        end_cursor=pairs[-1][0] if pairs else None,
    )
