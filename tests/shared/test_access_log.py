"""Access lines: one per request, with its request, trace and organisation ids, handed to the
logging handlers in batches (``AccessLog``) and never with another request's ids."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.db import uuid7
from shared.observability import AccessLog, JsonFormatter, org_id_var, request_id_var
from shared.testing import eventually
from tests.conftest import Stack


class Lines(logging.Handler):
    """The JSON lines a logger hands over, as the service's formatter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def access_lines() -> Iterator[Lines]:
    logger = logging.getLogger("aims.access")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_each_request_has_a_line_with_its_own_ids(stack: Stack, access_lines: Lines) -> None:
    org, other = uuid7(), uuid7()
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "Logged"}, headers=stack.headers(org, "admin")
    )
    assert created.status_code == 201
    path = f"/v1/ai-systems/{created.json()['id']}"
    answers = [
        await stack.inventory.get(path, headers=stack.headers(org, "viewer")),
        await stack.inventory.get(path),  # no caller: no organisation
        await stack.inventory.get(path, headers=stack.headers(other, "viewer")),
    ]
    assert [a.status_code for a in answers] == [200, 401, 404]
    assert not [line for line in access_lines.lines if line["path"] == path]  # not yet

    async def written() -> list[dict[str, Any]] | None:
        lines = [line for line in access_lines.lines if line["path"] == path]
        return lines if len(lines) == 3 else None

    lines = await eventually(written, timeout=5)  # within the batch's delay
    for line, answer, owner in zip(lines, answers, [org, None, other], strict=True):
        assert line["msg"] == "request" and line["method"] == "GET"
        assert line["status"] == answer.status_code
        assert line["request_id"] == answer.headers["x-request-id"]
        assert line["trace_id"] == answer.headers["traceparent"].split("-")[1]
        assert line.get("org_id") == (str(owner) if owner else None)
        assert line["duration_ms"] >= 0
    # The time of each line is its request's end, not the batch's.
    assert lines[0]["ts"] <= lines[1]["ts"] <= lines[2]["ts"]


async def test_a_batch_is_handed_over_when_full_when_due_and_when_flushed() -> None:
    logger = logging.getLogger(f"aims.test.{uuid.uuid4().hex}")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    log = AccessLog(logger, max_batch=3, max_delay=0.2)
    earlier = time.time() - 60
    tokens = request_id_var.set("someone-else"), org_id_var.set(str(uuid7()))
    log.add(earlier, {"request_id": "r1", "path": "/a"})
    log.add(time.time(), {"request_id": "r2", "path": "/b"})
    assert handler.lines == []
    log.add(time.time(), {"request_id": "r3", "path": "/c"})  # full
    assert [line["request_id"] for line in handler.lines] == ["r1", "r2", "r3"]
    # Flushed in a request's context, a line keeps its own ids and takes none of that one's.
    assert all("org_id" not in line for line in handler.lines)
    assert handler.lines[0]["ts"].startswith(time.strftime("%Y-%m-%d", time.gmtime(earlier)))
    log.add(time.time(), {"request_id": "r4"})
    await asyncio.sleep(0.4)  # due
    assert handler.lines[-1]["request_id"] == "r4"
    log.add(time.time(), {"request_id": "r5"})
    log.flush()  # at shutdown
    assert handler.lines[-1]["request_id"] == "r5"
    assert len(handler.lines) == 5
    request_id_var.reset(tokens[0])
    org_id_var.reset(tokens[1])
