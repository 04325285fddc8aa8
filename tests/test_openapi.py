"""Every app publishes a complete OpenAPI document (ops and GRC integrators read it at /docs)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.engines


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ("inventory", {"/v1/ai-systems", "/v1/ai-systems/{system_id}", "/v1/api-keys"}),
        ("risk", {"/v1/systems", "/v1/systems/{system_id}"}),
        ("evidence", {"/v1/systems/{system_id}/files", "/v1/files/{file_id}/content"}),
        ("gateway", {"/v1/webhook-subscriptions"}),
    ],
)
async def test_openapi_documents_the_api(stack: Any, app: str, expected: set[str]) -> None:
    response = await stack.clients[app].get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = set(document["paths"])
    assert expected <= paths
    assert {"/healthz", "/readyz", "/metrics", "/v1/ops/dead-letters"} <= paths
    docs = await stack.clients[app].get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_metrics_count_requests(stack: Any) -> None:
    await stack.inventory.get("/healthz")
    metrics = (await stack.inventory.get("/metrics")).text
    assert (
        'aims_http_requests_total{method="GET",route="/healthz",service="inventory",status="200"}'
        in metrics
    )
    assert "aims_events_published_total" in metrics
