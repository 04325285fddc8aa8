"""Paging in the gateway over a list it holds whole (``gateway.schema.embedded_pages``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.schema.embedded_pages import decode_offset, encode_offset, slice_page
from gateway.schema.pagination import MAX_PAGE_SIZE, Position
from shared.errors import BadRequest, InvalidCursor


@given(st.lists(st.integers(), max_size=300), st.integers(min_value=1, max_value=MAX_PAGE_SIZE))
def test_following_end_cursor_yields_every_item_once_in_order(items: list[int], first: int) -> None:
    seen: list[int] = []
    after: str | None = None
    pages = 0
    while True:
        pairs, info = slice_page(items, first, after, lambda i: i)
        pages += 1
        assert len(pairs) <= first
        assert info.has_previous_page is (after is not None)
        seen += [n for _, n in pairs]
        if not info.has_next_page:
            break
        assert len(pairs) == first and info.end_cursor == pairs[-1][0]
        after = info.end_cursor
    assert seen == items
    assert pages == max(1, -(-len(items) // first))


@given(st.lists(st.integers(), min_size=1, max_size=50), st.data())
def test_every_edges_cursor_resumes_right_after_it(items: list[int], data: st.DataObject) -> None:
    pairs, _ = slice_page(items, MAX_PAGE_SIZE, None, lambda i: i)
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    resumed, _ = slice_page(items, MAX_PAGE_SIZE, pairs[index][0], lambda i: i)
    assert [n for _, n in resumed] == items[index + 1 :]


@given(st.integers(min_value=0, max_value=10_000_000))
def test_an_offset_round_trips(offset: int) -> None:
    assert decode_offset(encode_offset(offset)) == offset


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        Position(upstream="abc", skip=2).encode(),  # a keyset connection's cursor
        "eyJvIjotMX0",  # {"o":-1}
        "eyJvIjp0cnVlfQ",  # {"o":true}
        "eyJvIjoiMSJ9",  # {"o":"1"}
        "W10",  # []
        "x" * 65,
    ],
)
def test_a_cursor_this_paging_did_not_issue_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        slice_page([1, 2, 3], 2, cursor, lambda i: i)


def test_first_is_bounded_like_every_connection() -> None:
    for first in (0, MAX_PAGE_SIZE + 1):
        with pytest.raises(BadRequest):
            slice_page([1], first, None, lambda i: i)
