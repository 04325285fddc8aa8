"""The request path's shortcuts (docs/performance.md, "Inventory GET, third pass") answer what
FastAPI answers without them: a router that rejects foreign paths with one regular expression
(``PrefilteredRouter``), and the query guard and role check in one dependency
(``KnownQueryCaller``) on the inventory's item read."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from shared.http import PrefilteredRouter
from tests.conftest import Stack

PATHS = [
    "/v1/things",
    "/v1/things/",
    "/v1/things/42",
    "/v1/things/42/parts",
    "/v1/things/42/parts/",
    "/v1/things/a/b/c",
    "/v1/audit/verify",
    "/v1/audit",
    "/v1/files/a/b.txt",
    "/v1/others/1",
    "/healthz",
    "/",
    "/v1",
    "/v1/late",
    "/v2/things/1",
    "/x/v1/things/1",
]


def _app(router_class: type[APIRouter]) -> tuple[FastAPI, APIRouter]:
    """Routers in front of another: what an app tries before the route that matches."""
    front = router_class(prefix="/v1")

    @front.get("/things")
    async def things() -> str:
        return "front list"

    @front.get("/things/{thing_id}")
    async def thing(thing_id: int) -> str:
        return f"front {thing_id}"

    @front.post("/things/{thing_id}/parts")
    async def parts(thing_id: str) -> str:
        return f"front parts {thing_id}"

    @front.get("/files/{name:path}")
    async def files(name: str) -> str:
        return f"front file {name}"

    nested = router_class(prefix="/audit")

    @nested.get("/verify")
    async def verify() -> str:
        return "front audit"

    front.include_router(nested)
    back = APIRouter(prefix="/v1")

    @back.get("/things/{thing_id}/parts")
    async def back_parts(thing_id: str) -> str:
        return f"back parts {thing_id}"

    @back.get("/others/{other_id}")
    async def others(other_id: str) -> str:
        return f"back {other_id}"

    app = FastAPI()
    app.include_router(front)
    app.include_router(back)
    return app, front


async def _answers(app: FastAPI, method: str = "GET") -> list[tuple[int, Any, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        seen = []
        for path in PATHS:
            response = await client.request(method, path, follow_redirects=False)
            seen.append((response.status_code, response.headers.get("location"), response.text))
        return seen


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_a_prefiltered_router_answers_as_a_plain_one(method: str) -> None:
    plain, _ = _app(APIRouter)
    prefiltered, _ = _app(PrefilteredRouter)
    assert await _answers(prefiltered, method) == await _answers(plain, method)


async def test_routes_added_after_the_first_request_are_found() -> None:
    app, front = _app(PrefilteredRouter)
    assert (await _answers(app))[PATHS.index("/v1/late")][0] == 404

    @front.get("/late")
    async def late() -> str:
        return "late"

    assert (await _answers(app))[PATHS.index("/v1/late")] == (200, None, '"late"')


# --- The inventory's item read: query guard and role check in one dependency ---------------


async def _register(stack: Stack, org: uuid.UUID) -> str:
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "Guarded"}, headers=stack.headers(org, "admin")
    )
    assert created.status_code == 201, created.text
    system_id: str = created.json()["id"]
    return system_id


@pytest.mark.engines
async def test_the_item_read_checks_the_query_before_the_caller(
    stack: Stack, org: uuid.UUID
) -> None:
    system_id = await _register(stack, org)
    path = f"/v1/ai-systems/{system_id}"
    viewer = stack.headers(org, "viewer")

    unknown = await stack.inventory.get(f"{path}?expand=all")  # no credential either
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown-query-parameter"
    assert unknown.json()["unknown"] == ["expand"]

    assert (await stack.inventory.get(f"{path}?expand=all", headers=viewer)).status_code == 400
    anonymous = await stack.inventory.get(path)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert (await stack.inventory.get(path, headers=viewer)).status_code == 200


@pytest.mark.engines
async def test_the_item_read_documents_the_same_problems(stack: Stack) -> None:
    document = (await stack.inventory.get("/openapi.json")).json()
    responses = document["paths"]["/v1/ai-systems/{system_id}"]["get"]["responses"]
    problems = {
        status
        for status, response in responses.items()
        if "application/problem+json" in response.get("content", {})
    }
    assert problems == {"400", "401", "403", "404", "422", "503"}
