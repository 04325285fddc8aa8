"""``GET /`` on the gateway links every document; each link it gives answers."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.engines


async def test_the_root_page_lists_every_document_as_json(stack: Stack) -> None:
    response = await stack.gateway.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    documents = response.json()["documents"]
    urls = {d["url"] for d in documents}
    groups = {d["group"] for d in documents}
    assert {"graphql", "gateway", "services", "events", "webhooks"} <= groups
    assert {"/graphql", "/reference/schema.graphql", "/docs", "/openapi.json"} <= urls
    # Service URLs come from the gateway's settings (the test stack routes them in-process).
    for service in ("inventory", "risk", "evidence"):
        assert f"http://{service}/docs" in urls
        assert f"http://{service}/openapi.json" in urls
        assert f"http://{service}/asyncapi.json" in urls
    assert "/reference/asyncapi.json" in urls
    assert any(d["group"] == "webhooks" for d in documents)


async def test_every_local_link_of_the_root_page_answers(stack: Stack) -> None:
    documents = (await stack.gateway.get("/", headers={"Accept": "application/json"})).json()[
        "documents"
    ]
    for document in documents:
        url = document["url"].split("#")[0]
        if url.startswith("/"):
            response = await stack.gateway.get(url, headers={"Accept": "text/html"})
            assert response.status_code == 200, (url, response.text[:200])
        else:
            service = url.split("/")[2]
            response = await stack.clients[service].get("/" + url.split("/", 3)[3])
            assert response.status_code == 200, url
    catalogue = await stack.gateway.get("/reference/asyncapi.json")
    assert json.loads(catalogue.content)["asyncapi"].startswith("3.")


async def test_browsers_get_an_html_page_with_the_links(stack: Stack) -> None:
    response = await stack.gateway.get("/", headers={"Accept": "text/html,application/json;q=0.9"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for href in ('href="/graphql"', 'href="/reference/schema.graphql"', 'href="http://risk/docs"'):
        assert href in page
    assert "Webhook" in page


async def test_the_sdl_is_served_and_unknown_guides_are_404(stack: Stack) -> None:
    sdl = await stack.gateway.get("/reference/schema.graphql")
    assert sdl.status_code == 200
    assert "type Query" in sdl.text and "type AISystem implements Node" in sdl.text
    for name in ("nothing.md", "..%2Fpyproject.toml"):
        missing = await stack.gateway.get(f"/reference/{name}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
