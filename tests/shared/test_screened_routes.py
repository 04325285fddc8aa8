"""The checks every operation of every service makes run in each route's handler
(``ScreenedRoute``), not as app-wide dependencies; an app cannot be built with a route that
would skip them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from shared.app import create_service_app
from shared.db import uuid7
from shared.http import PrefilteredRouter, ScreenedRoute
from shared.settings import ServiceSettings
from tests.conftest import Stack


def _build(*routers: APIRouter) -> object:
    return create_service_app(
        name="screentest",
        settings=ServiceSettings(),
        title="t",
        description="t",
        routers=list(routers),
    )


def test_an_app_with_a_route_that_skips_the_checks_is_refused_at_build_time() -> None:
    plain = APIRouter(prefix="/v1")

    @plain.get("/plain/{n}")
    async def unscreened(n: int) -> int:
        return n

    outer = PrefilteredRouter(prefix="/v1")
    inner = APIRouter(prefix="/inner")

    @inner.post("/deep")
    async def deep() -> None:
        return None

    outer.include_router(inner)
    with pytest.raises(RuntimeError) as refused:
        _build(plain, outer)
    assert "['GET'] /v1/plain/{n}" in str(refused.value)
    assert "['POST'] /inner/deep" in str(refused.value)  # the path in its own router
    screened = APIRouter(prefix="/v1", route_class=ScreenedRoute)
    screened.include_router(PrefilteredRouter(prefix="/x"))
    _build(screened)  # any router whose routes are screened will do


async def test_screened_routes_answer_as_the_app_wide_checks_did() -> None:
    router = PrefilteredRouter(prefix="/v1")

    @router.get("/things/{n}")
    async def thing(n: int, name: str = "") -> dict[str, object]:
        return {"n": n, "name": name}

    @router.post("/things")
    async def create(body: dict[str, str]) -> dict[str, str]:
        return body

    app = _build(router)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/v1/things/7", params={"name": "Zoë"})
        assert ok.status_code == 200 and ok.json() == {"n": 7, "name": "Zoë"}
        unknown = await client.get("/v1/things/7", params={"nmae": "x"})
        assert unknown.status_code == 400
        assert "nmae" in unknown.json()["detail"]
        nul = await client.get("/v1/things/7", params={"name": "a\x00b"})
        assert nul.status_code == 422
        assert nul.json()["errors"][0]["location"] == ["query", "name"]
        huge = await client.get(f"/v1/things/{2**31}")
        assert huge.status_code == 422
        assert huge.json()["errors"][0]["location"] == ["path", "n"]
        # NUL in a JSON body, and the unknown-query rule before the body's own validation.
        body = await client.post(
            "/v1/things",
            content=b'{"a": "x\\u0000y"}',
            headers={"content-type": "application/json"},
        )
        assert body.status_code == 422
        assert body.json()["errors"][0]["location"] == ["body", "a"]
        both = await client.post("/v1/things?zzz=1", content=b"not json")
        assert both.status_code == 400
        # Outside /v1 (probes, documents) an unknown parameter is left alone.
        assert (await client.get("/healthz", params={"cache": "1"})).status_code == 200


# --- The direct call: FastAPI's own answers, route by route -------------------------------------


def _general_path_only() -> None:
    """Never called: an override keyed by it sends every request through FastAPI's handler."""


async def _both(
    stack: Stack, app: str, path: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, httpx.Response]:
    """The answer of the direct call, and FastAPI's own for the same request."""
    client, application = stack.clients[app], stack.apps[app]
    direct = await client.get(path, headers=headers)
    application.dependency_overrides[_general_path_only] = _general_path_only
    try:
        general = await client.get(path, headers=headers)
    finally:
        del application.dependency_overrides[_general_path_only]
    return direct, general


_PER_REQUEST = {"x-request-id", "traceparent", "date"}


def _same(direct: httpx.Response, general: httpx.Response, *, whole: bool = True) -> None:
    """The same answer; ``whole=False`` for documents generated anew on each request (a
    package's timestamps): the same status and type then."""
    assert direct.status_code == general.status_code, (direct.text, general.text)
    if not whole:
        assert direct.headers["content-type"] == general.headers["content-type"]
        return
    assert direct.content == general.content
    assert {k: v for k, v in direct.headers.items() if k not in _PER_REQUEST} == {
        k: v for k, v in general.headers.items() if k not in _PER_REQUEST
    }


def _api_routes(app: FastAPI) -> Iterator[tuple[str, ScreenedRoute]]:
    """Each screened route of ``app`` with its full path (prefixes of its inclusions)."""
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts is not None else [route]:
            original = getattr(context, "original_route", context)
            if isinstance(original, ScreenedRoute):
                yield str(getattr(context, "path", "")), original


def _route(app: FastAPI, method: str, path: str) -> ScreenedRoute:
    for full, route in _api_routes(app):
        if full == path and method in (route.methods or set()):
            return route
    raise AssertionError(f"no route {method} {path}")


async def test_the_inventory_item_read_answers_as_fastapi_does_for_any_request(
    stack: Stack,
) -> None:
    assert _route(stack.apps["inventory"], "GET", "/v1/ai-systems/{system_id}").called_directly
    org, other = uuid7(), uuid7()
    admin = stack.headers(org, "admin")
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "Zoë's 系统", "owner": "zoe@example.com"}, headers=admin
    )
    assert created.status_code == 201
    system_id = created.json()["id"]
    path = f"/v1/ai-systems/{system_id}"
    cases: list[tuple[str, dict[str, str] | None, int | None]] = [
        (path, stack.headers(org, "viewer"), 200),
        (path, admin, 200),
        (f"/v1/ai-systems/{system_id.upper()}", admin, 200),  # the same UUID
        (path, stack.headers(other, "admin"), 404),  # another organisation's
        (f"/v1/ai-systems/{uuid7()}", admin, 404),
        ("/v1/ai-systems/not-a-uuid", admin, 422),
        ("/v1/ai-systems/%00", admin, 422),
        (f"/v1/ai-systems/{'9' * 40}", admin, 422),
        (f"{path}?expand=all", admin, 400),
        (f"{path}?expand=all", None, 400),  # the query before the caller
        (path, None, 401),
        ("/v1/ai-systems/not-a-uuid", None, 401),  # the caller before the path parameter
        (path, {"Authorization": "Bearer not.a.token"}, 401),
        (path, {"Authorization": "Basic eA=="}, 401),
        (path, stack.headers(org, "nobody"), 403),
    ]
    # Other spellings of the same UUID: whatever FastAPI answers, the direct call answers.
    hexed = system_id.replace("-", "")
    spellings = [hexed, f"{{{system_id}}}", f"urn:uuid:{system_id}", f"%20{system_id}", hexed[:31]]
    cases += [(f"/v1/ai-systems/{spelling}", admin, None) for spelling in spellings]
    for url, headers, status in cases:
        direct, general = await _both(stack, "inventory", url, headers)
        assert status is None or direct.status_code == status, (url, direct.text)
        _same(direct, general)


async def test_every_route_called_directly_answers_as_fastapi_does(stack: Stack) -> None:
    """Every route of every service that takes the direct call, with no caller, a caller of
    no role, an unknown parameter and, where it has a path parameter, one that is not valid;
    a new route of that shape is covered without being listed here."""
    org = uuid7()
    direct_routes = 0
    for name, app in stack.apps.items():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            await client.get("/healthz")  # builds the handlers of every inclusion
        for full, route in _api_routes(app):
            if not route.called_directly or "GET" not in (route.methods or set()):
                continue
            direct_routes += 1
            concrete = re.sub(r"\{[^}]+\}", "not-valid", full)
            for url, headers in [
                (concrete, None),
                (concrete, stack.headers(org, "nobody")),
                (f"{concrete}?unknown=1", stack.headers(org, "admin")),
                (concrete, stack.headers(org, "viewer")),
            ]:
                direct, general = await _both(stack, name, url, headers)
                # Probes and generated documents change between two requests.
                _same(direct, general, whole=direct.is_error and route.path != "/readyz")
    assert direct_routes >= 4  # the inventory item read and export, the exports, /readyz
