"""``GET /``: one page linking every document a frontend or integration team reads.

Each service's OpenAPI (``/docs``, ``/openapi.json``) and AsyncAPI of the events it emits, the
gateway's own OpenAPI, the GraphQL SDL and GraphiQL, the combined AsyncAPI event catalogue and
the guides under ``docs/`` (webhooks included) — only those that exist in this deployment. HTML
for browsers; JSON when the request asks for ``application/json``.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from gateway.config import GatewaySettings
from shared.errors import NotFound
from shared.http import PrefilteredRouter

#: The repository's ``docs/`` (absent from an installed wheel: then no guide is linked).
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
#: Guides served from ``DOCS_DIR`` at ``/reference/<name>`` when they exist, and what they are.
GUIDES: dict[str, tuple[str, str]] = {
    "asyncapi.json": ("events", "AsyncAPI catalogue of every event (all services)"),
    "events.md": ("events", "Event catalogue as a table, with delivery guarantees"),
    "webhooks.md": ("webhooks", "Webhook guide: subscriptions, signatures, retries"),
    "architecture.md": ("guides", "Architecture: decisions and why"),
    "operations.md": ("guides", "Running AIMS: configuration, scaling, upgrades"),
    "guarantees.md": ("guides", "Guarantees and the suites that prove them"),
    "performance.md": ("guides", "Performance figures"),
}
SERVICES = ("inventory", "risk", "evidence")
#: The live SDL of this gateway's schema is served at ``/reference/schema.graphql``.
SDL_NAME = "schema.graphql"


@dataclass(frozen=True)
class DocumentLink:
    group: str
    title: str
    url: str
    media_type: str


def _service_links(settings: GatewaySettings) -> list[DocumentLink]:
    links: list[DocumentLink] = []
    for name in SERVICES:
        base = settings.public_service_urls.get(name) or getattr(settings, f"{name}_url")
        base = base.rstrip("/")
        links += [
            DocumentLink("services", f"{name} API (Swagger UI)", f"{base}/docs", "text/html"),
            DocumentLink("services", f"{name} OpenAPI", f"{base}/openapi.json", "application/json"),
            DocumentLink(
                "events", f"{name} events (AsyncAPI)", f"{base}/asyncapi.json", "application/json"
            ),
        ]
    return links


def _guides(docs_dir: Path) -> dict[str, Path]:
    return {name: docs_dir / name for name in GUIDES if (docs_dir / name).is_file()}


def document_links(settings: GatewaySettings, guides: dict[str, Path]) -> list[DocumentLink]:
    links = [
        DocumentLink("graphql", "GraphiQL (explore and run queries)", "/graphql", "text/html"),
        DocumentLink("graphql", "GraphQL schema (SDL)", f"/reference/{SDL_NAME}", "text/plain"),
        DocumentLink("gateway", "Gateway REST API (Swagger UI)", "/docs", "text/html"),
        DocumentLink("gateway", "Gateway OpenAPI", "/openapi.json", "application/json"),
        *_service_links(settings),
    ]
    for name in guides:
        group, title = GUIDES[name]
        media = "application/json" if name.endswith(".json") else "text/markdown"
        links.append(DocumentLink(group, title, f"/reference/{name}", media))
    if "webhooks.md" not in guides and "architecture.md" in guides:
        links.append(
            DocumentLink(
                "webhooks",
                "Webhook guide (architecture, section Webhooks)",
                "/reference/architecture.md#webhooks",
                "text/markdown",
            )
        )
    return links


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _render_html(links: list[DocumentLink]) -> str:
    sections: dict[str, list[DocumentLink]] = {}
    for link in links:
        sections.setdefault(link.group, []).append(link)
    headings = {
        "graphql": "GraphQL",
        "gateway": "Gateway",
        "services": "Services (OpenAPI)",
        "events": "Events (AsyncAPI)",
        "webhooks": "Webhooks",
        "guides": "Guides",
    }
    body = "".join(
        f"<h2>{html.escape(headings.get(group, group))}</h2><ul>"
        + "".join(
            f'<li><a href="{html.escape(link.url)}">{html.escape(link.title)}</a> '
            f"<small>{html.escape(link.media_type)}</small></li>"
            for link in items
        )
        + "</ul>"
        for group, items in sections.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>AIMS gateway: documents</title></head><body>"
        "<h1>AIMS gateway</h1><p>Every document of this deployment's APIs and events.</p>"
        f"{body}</body></html>"
    )


def root_router(settings: GatewaySettings, sdl: str, *, docs_dir: Path = DOCS_DIR) -> APIRouter:
    """The root page, and the SDL and the guides at ``/reference/<name>``."""
    router = PrefilteredRouter(tags=["documents"])
    guides = _guides(docs_dir)
    links = document_links(settings, guides)

    @router.get(
        "/",
        summary="Every document: OpenAPI, AsyncAPI, GraphQL SDL and GraphiQL, guides",
        response_class=HTMLResponse,
        responses={200: {"content": {"application/json": {}, "text/html": {}}}},
    )
    async def root(request: Request) -> Response:
        if _wants_json(request):
            return JSONResponse({"documents": [asdict(link) for link in links]})
        return HTMLResponse(_render_html(links))

    @router.get(
        "/reference/{name}",
        summary="The GraphQL SDL (`schema.graphql`), or a guide or catalogue from docs/",
        responses={404: {"model": None, "content": {"application/problem+json": {}}}},
    )
    async def reference(name: str) -> Response:
        if name == SDL_NAME:
            return PlainTextResponse(sdl)
        path = guides.get(name)
        if path is None:
            raise NotFound(f"No document named {name!r}; see GET / for the list.")
        media = "application/json" if name.endswith(".json") else "text/markdown; charset=utf-8"
        return Response(path.read_bytes(), media_type=media)

    return router
