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


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PUBLIC_PATHS = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]


@pytest.mark.parametrize("app", ["inventory", "risk", "evidence", "gateway"])
async def test_every_operation_documents_its_problems(stack: Any, app: str) -> None:
    document = (await stack.clients[app].get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert schemas["Problem"]["required"] == ["type", "title", "status", "code"]
    # FastAPI's own validation error shape is never answered, so it is not documented.
    assert "HTTPValidationError" not in schemas
    checked = 0
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        label = f"{method.upper()} {path}"
        problems = {
            status: response["content"]["application/problem+json"]["schema"]
            for status, response in responses.items()
            if "application/problem+json" in response.get("content", {})
        }
        assert all(schema == PROBLEM_REF for schema in problems.values()), label
        if path in PUBLIC_PATHS or (app != "gateway" and path.startswith("/reference")):
            continue
        if app == "gateway" and not (path.startswith("/v1/") or path == "/graphql"):
            continue  # the gateway's public documents (its landing page, references)
        assert {"401", "403", "503"} <= set(problems), label
        assert "WWW-Authenticate" in responses["401"]["headers"], label
        if "{" in path:
            assert "404" in problems, label
        parameters = operation.get("parameters", [])
        if operation.get("requestBody") or any(p["in"] == "query" for p in parameters):
            assert "400" in problems, label
        if operation.get("requestBody") or parameters:
            assert "422" in problems, label
        if method in {"post", "put", "patch", "delete"}:
            assert "409" in problems, label
        if operation.get("requestBody"):
            assert {"413", "415"} <= set(problems), label
        if any(p["name"].lower() == "if-match" for p in operation.get("parameters", [])):
            assert {"412", "428"} <= set(problems), label
        checked += 1
    assert checked > 10


async def test_documented_problems_are_what_the_service_answers(stack: Any, org: Any) -> None:
    """A few answers of each kind, against the document (schemathesis does the rest)."""
    document = (await stack.inventory.get("/openapi.json")).json()
    problem = document["components"]["schemas"]["Problem"]
    answers = [
        await stack.inventory.get("/v1/ai-systems"),
        await stack.inventory.get(
            "/v1/ai-systems", headers=stack.headers(org, "viewer"), params={"sytem": "x"}
        ),
        await stack.inventory.post("/v1/ai-systems", json={}, headers=stack.headers(org, "viewer")),
        await stack.inventory.post("/v1/ai-systems", json={}, headers=stack.headers(org, "admin")),
        await stack.inventory.get(
            "/v1/ai-systems/00000000-0000-7000-8000-000000000000",
            headers=stack.headers(org, "viewer"),
        ),
    ]
    assert [a.status_code for a in answers] == [401, 400, 403, 422, 404]
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert set(problem["required"]) <= set(body)
        assert body["status"] == answer.status_code
        documented = document["paths"]["/v1/ai-systems"].get(
            "get" if answer.request.method == "GET" else "post"
        )
        if answer.status_code == 404:
            documented = document["paths"]["/v1/ai-systems/{system_id}"]["get"]
        assert str(answer.status_code) in documented["responses"]


async def test_creates_link_to_what_they_created(stack: Any) -> None:
    document = (await stack.inventory.get("/openapi.json")).json()
    created = document["paths"]["/v1/ai-systems"]["post"]["responses"]["201"]
    read = document["paths"]["/v1/ai-systems/{system_id}"]["get"]["operationId"]
    assert created["links"][read] == {
        "operationId": read,
        "parameters": {"system_id": "$response.body#/id"},
    }
