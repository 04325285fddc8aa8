"""Helpers of the evidence item tests: calls through the REST API and an event listener."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import nats

from tests.evidence.conftest import EvidenceStack


async def create_item(
    stack: EvidenceStack,
    org: uuid.UUID,
    role: str = "contributor",
    expect: int = 201,
    **body: Any,
) -> dict[str, Any]:
    payload = {"title": "AI policy", **body}
    response = await stack.evidence.post(
        "/v1/evidence", json=payload, headers=stack.headers(org, role)
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def upload(
    stack: EvidenceStack,
    org: uuid.UUID,
    item_id: str,
    content: bytes,
    *,
    number: int = 1,
    filename: str = "policy.pdf",
    role: str = "contributor",
) -> httpx.Response:
    return await stack.evidence.post(
        f"/v1/evidence/{item_id}/versions/{number}/files",
        params={"filename": filename},
        content=content,
        headers={**stack.headers(org, role), "Content-Type": "application/pdf"},
    )


async def get_item(stack: EvidenceStack, org: uuid.UUID, item_id: str) -> httpx.Response:
    return await stack.evidence.get(f"/v1/evidence/{item_id}", headers=stack.headers(org))


async def approved_item(
    stack: EvidenceStack, org: uuid.UUID, content: bytes = b"approved policy", **body: Any
) -> dict[str, Any]:
    """An item whose version 1 holds ``content`` and is approved."""
    item = await create_item(stack, org, **body)
    assert (await upload(stack, org, item["id"], content)).status_code == 201
    submitted = await stack.evidence.post(
        f"/v1/evidence/{item['id']}/submit", headers=stack.headers(org)
    )
    assert submitted.status_code == 200, submitted.text
    approved = await stack.evidence.post(
        f"/v1/evidence/{item['id']}/approve", headers=stack.headers(org, "manager")
    )
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = approved.json()
    return result


class Events:
    """Events of some types received from NATS while the block runs."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 20
    ) -> dict[str, Any]:
        async def found() -> dict[str, Any]:
            while True:
                for event in self.received:
                    if match(event):
                        return event
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(found(), timeout)

    def of(self, type_: str, subject: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.received
            if e["type"] == type_ and (subject is None or e["subject"] == subject)
        ]


@asynccontextmanager
async def listen(stack: EvidenceStack, *types: str) -> AsyncIterator[Events]:
    nc = await nats.connect(stack.engines.nats_url)
    events = Events()

    async def on_message(msg: Any) -> None:
        events.received.append(json.loads(msg.data))
        events._arrived.set()

    try:
        for type_ in types:
            await nc.subscribe(f"{stack.engines.subject_prefix}{type_}", cb=on_message)
        yield events
    finally:
        await nc.close()
