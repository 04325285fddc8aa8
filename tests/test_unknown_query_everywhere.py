"""Every read of every app refuses a query parameter it does not know (400
``unknown-query-parameter``, naming the allowed ones) instead of ignoring it and answering as if
it had not been sent: a misspelt filter must never return everything (issue 9).

The operations come from each app's own OpenAPI document, so a new route is checked without
being listed here. The rule covers the versioned API (``/v1/…``); what lies outside it must be
one of :data:`OUTSIDE_THE_API`, so a new route there is noticed too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.db import uuid7
from tests.conftest import Stack

pytestmark = pytest.mark.engines

# Probes, metrics, GraphQL and published documents: they read nothing of an organisation by
# filter, and a scraper or cache-buster adding a parameter must not turn them into errors.
OUTSIDE_THE_API = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/asyncapi.json",
    "/",
    "/graphql",
    "/reference/{name}",
}
UNKNOWN = "zz_not_a_filter"


def _reads(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    outside = {p for p, item in document["paths"].items() if not p.startswith("/v1/")}
    assert outside <= OUTSIDE_THE_API, outside - OUTSIDE_THE_API
    return [
        (path, item["get"])
        for path, item in document["paths"].items()
        if "get" in item and path.startswith("/v1/")
    ]


def _filled(path: str, operation: dict[str, Any]) -> str:
    """``path`` with each parameter given a value of its type (an id of nothing)."""
    types = {
        p["name"]: p.get("schema", {}).get("type", "string")
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }
    return re.sub(
        r"\{([^}]+)\}",
        lambda m: "1" if types.get(m.group(1)) == "integer" else str(uuid7()),
        path,
    )


@pytest.mark.parametrize("app", ["inventory", "risk", "evidence", "gateway"])
async def test_every_read_refuses_an_unknown_query_parameter(stack: Stack, app: str) -> None:
    client = stack.clients[app]
    document = (await client.get("/openapi.json")).json()
    reads = _reads(document)
    assert len(reads) >= 3, reads  # the document was read
    headers = stack.headers(uuid7(), "admin", "auditor")
    ignored = []
    for path, operation in reads:
        url = _filled(path, operation)
        response = await client.get(url, params={UNKNOWN: "1"}, headers=headers)
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        if response.status_code != 400 or body.get("code") != "unknown-query-parameter":
            ignored.append(f"GET {path} → {response.status_code} {str(body)[:120]}")
        else:
            assert UNKNOWN in body["detail"], body
            documented = operation["responses"]
            assert "400" in documented, f"GET {path} does not document its 400"
    assert not ignored, "\n".join(ignored)


async def test_a_route_with_open_filters_keeps_them(stack: Stack) -> None:
    """The app-wide check leaves a route's own families alone (``cf.<key>`` on the register),
    and still refuses what neither knows."""
    headers = stack.headers(uuid7(), "admin")
    response = await stack.inventory.get("/v1/ai-systems", params={"cf.team": "x"}, headers=headers)
    # The route itself answered: the family is admitted, this organisation has no such field.
    assert response.json()["code"] == "invalid-custom-field-filter", response.text
    response = await stack.inventory.get("/v1/ai-systems", params={"team": "x"}, headers=headers)
    assert response.status_code == 400 and response.json()["code"] == "unknown-query-parameter"
    assert "cf.<key>" in response.json()["allowed"]


async def test_probes_and_documents_take_any_query(stack: Stack) -> None:
    for path in ("/healthz", "/asyncapi.json"):
        response = await stack.inventory.get(path, params={UNKNOWN: "1"})
        assert response.status_code == 200, (path, response.text)
