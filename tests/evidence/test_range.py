"""Range requests on downloads: the parser (property-tested) and the endpoint."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.evidence.items.ranges import ByteRange, Unsatisfiable, parse_range
from tests.evidence.conftest import EvidenceStack
from tests.evidence.items_api import create_item, upload


@given(size=st.integers(1, 10**12), header=st.text(max_size=40))
def test_any_header_gives_a_range_inside_the_content_or_none_or_unsatisfiable(
    size: int, header: str
) -> None:
    try:
        result = parse_range(header, size)
    except Unsatisfiable:
        return
    if result is not None:
        assert 0 <= result.start <= result.end < size


@given(
    size=st.integers(1, 10**9),
    start=st.integers(0, 10**9),
    length=st.integers(1, 10**9),
)
def test_a_first_last_range_selects_what_it_says_clipped_to_the_end(
    size: int, start: int, length: int
) -> None:
    header = f"bytes={start}-{start + length - 1}"
    if start >= size:
        with pytest.raises(Unsatisfiable):
            parse_range(header, size)
        return
    assert parse_range(header, size) == ByteRange(start, min(start + length - 1, size - 1))


@given(size=st.integers(1, 10**9), suffix=st.integers(1, 2 * 10**9))
def test_a_suffix_range_selects_the_last_bytes(size: int, suffix: int) -> None:
    result = parse_range(f"bytes=-{suffix}", size)
    assert result is not None
    assert result.end == size - 1
    assert result.length == min(suffix, size)


@pytest.mark.parametrize(
    "header", ["bytes=0-1,4-5", "items=0-1", "bytes=5-2", "bytes=-", "bytes=a-b", ""]
)
def test_headers_not_understood_are_ignored(header: str) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.engines
async def test_range_requests_serve_the_asked_bytes(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    content = os.urandom(200_000)
    item = await create_item(stack, org)
    file = (await upload(stack, org, item["id"], content)).json()
    path = f"/v1/files/{file['id']}/content"

    async def get(range_: str, **extra: str) -> tuple[int, bytes, dict[str, str]]:
        response = await stack.evidence.get(
            path, headers={**stack.headers(org, "viewer"), "Range": range_, **extra}
        )
        return response.status_code, response.content, dict(response.headers)

    status, body, headers = await get("bytes=100-199")
    assert (status, body) == (206, content[100:200])
    assert headers["content-range"] == f"bytes 100-199/{len(content)}"
    assert headers["content-length"] == "100"
    assert headers["accept-ranges"] == "bytes"

    status, body, headers = await get("bytes=199990-")
    assert (status, body) == (206, content[199_990:])
    status, body, headers = await get("bytes=-5")
    assert (status, body) == (206, content[-5:])
    status, body, headers = await get("bytes=150000-999999")
    assert (status, body) == (206, content[150_000:])
    assert headers["content-range"] == f"bytes 150000-199999/{len(content)}"

    status, body, headers = await get("bytes=200000-")
    assert status == 416
    assert headers["content-range"] == f"bytes */{len(content)}"
    assert headers["content-type"] == "application/problem+json"

    status, body, headers = await get("bytes=0-1,5-6")
    assert (status, body) == (200, content)
    # If-Range with another ETag: the content changed, so the whole of it comes back.
    status, body, _ = await get("bytes=0-9", **{"If-Range": '"other"'})
    assert (status, body) == (200, content)
    status, body, _ = await get("bytes=0-9", **{"If-Range": f'"{file["sha256"]}"'})
    assert (status, body) == (206, content[:10])

    full = await stack.evidence.get(path, headers=stack.headers(org))
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
