"""Trusted (persisted) documents: registered over REST by an admin, called by SHA-256 hash
(``documentId`` or Apollo's ``persistedQuery``), and the production lock-down that accepts only
registered documents."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import create_app
from shared.testing import RoutingTransport
from tests.conftest import Stack
from tests.gateway.test_graphql import register

pytestmark = pytest.mark.engines

NAMES = "query Names { aiSystems(first: 10) { edges { node { name } } } }"
DOCUMENTS = "/v1/graphql-documents"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def post(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def names(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [edge["node"]["name"] for edge in body["data"]["aiSystems"]["edges"]]


def error_code(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["message"] != "Unexpected error."
    code: str = error["extensions"]["code"]
    return code


@pytest.fixture(scope="module")
async def locked_gateway(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway over the same database and services, accepting only trusted documents."""
    routes: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=stack.apps[name])
        for name in ("inventory", "risk", "evidence")
    }
    app = create_app(
        GatewaySettings(
            **{**stack.engines.settings_env("gateway"), "run_workers": False},
            inventory_url="http://inventory",
            risk_url="http://risk",
            evidence_url="http://evidence",
            graphql_trusted_documents_only=True,
        ),
        upstream_transport=RoutingTransport(routes),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client,
    ):
        yield client


async def test_an_admin_registers_a_document_and_clients_call_it_by_hash(
    stack: Stack, org: uuid.UUID
) -> None:
    await register(stack, org, "Hashed")
    admin = stack.headers(org, "admin", subject="frontend-release")
    response = await stack.gateway.post(
        DOCUMENTS, json={"document": NAMES, "name": "dashboard@1.0.0"}, headers=admin
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["sha256"] == sha(NAMES)
    assert created["document_id"] == f"sha256:{sha(NAMES)}"
    assert created["operation_names"] == ["Names"]
    assert created["created_by"] == "frontend-release"
    assert response.headers["location"] == f"{DOCUMENTS}/{sha(NAMES)}"

    again = await stack.gateway.post(DOCUMENTS, json={"document": NAMES}, headers=admin)
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]

    viewer = stack.headers(org, "viewer")
    by_id = await post(stack.gateway, viewer, {"documentId": f"sha256:{sha(NAMES)}"})
    assert names(by_id) == ["Hashed"]
    apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(NAMES)}}}
    assert names(await post(stack.gateway, viewer, apollo)) == ["Hashed"]
    assert names(await post(stack.gateway, viewer, {"query": NAMES, **apollo})) == ["Hashed"]

    # GET works too (queries only), with either form.
    for params in (
        {"documentId": f"sha256:{sha(NAMES)}"},
        {"extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha(NAMES)}})},
    ):
        response = await stack.gateway.get("/graphql", params=params, headers=viewer)
        assert response.status_code == 200, response.text
        assert names(response.json()) == ["Hashed"]

    listed = await stack.gateway.get(DOCUMENTS, headers=viewer)
    assert [d["sha256"] for d in listed.json()["items"]] == [sha(NAMES)]
    read = await stack.gateway.get(f"{DOCUMENTS}/sha256:{sha(NAMES)}", headers=viewer)
    assert read.json()["document"] == NAMES


async def test_unknown_malformed_and_mismatched_hashes_are_clear_errors(
    stack: Stack, org: uuid.UUID
) -> None:
    viewer = stack.headers(org, "viewer")
    unknown = await post(stack.gateway, viewer, {"documentId": f"sha256:{'0' * 64}"})
    assert error_code(unknown) == "persisted-document-not-found"
    assert "0" * 64 in unknown["errors"][0]["message"]
    malformed = await post(stack.gateway, viewer, {"documentId": "sha256:xyz"})
    assert error_code(malformed) == "invalid-document-id"
    mismatch = {
        "query": NAMES,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}},
    }
    assert error_code(await post(stack.gateway, viewer, mismatch)) == "document-hash-mismatch"


async def test_registration_needs_an_admin_and_a_valid_document(
    stack: Stack, org: uuid.UUID
) -> None:
    for role in ("viewer", "manager"):
        response = await stack.gateway.post(
            DOCUMENTS, json={"document": NAMES}, headers=stack.headers(org, role)
        )
        assert response.status_code == 403, response.text
    admin = stack.headers(org, "admin")
    for document, code in (
        ("{ aiSystems(", "invalid-graphql-document"),
        ("{ noSuchField }", "invalid-graphql-document"),
        ("{ __typename }\x00", "validation-failed"),
    ):
        response = await stack.gateway.post(DOCUMENTS, json={"document": document}, headers=admin)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    wrong_hash = await stack.gateway.post(
        DOCUMENTS, json={"document": NAMES, "sha256": "b" * 64}, headers=admin
    )
    assert wrong_hash.status_code == 422
    assert (await stack.gateway.get(DOCUMENTS, headers=admin)).json()["items"] == []


async def test_documents_belong_to_one_organisation(stack: Stack, org: uuid.UUID) -> None:
    other = uuid.uuid4()
    registered = await stack.gateway.post(
        DOCUMENTS, json={"document": NAMES}, headers=stack.headers(org, "admin")
    )
    assert registered.status_code in (200, 201)
    outsider = stack.headers(other, "admin")
    answer = await post(stack.gateway, outsider, {"documentId": sha(NAMES)})
    assert error_code(answer) == "persisted-document-not-found"
    read = await stack.gateway.get(f"{DOCUMENTS}/{sha(NAMES)}", headers=outsider)
    assert read.status_code == 404
    assert read.json()["code"] == "graphql-document-not-found"
    deleted = await stack.gateway.delete(f"{DOCUMENTS}/{sha(NAMES)}", headers=outsider)
    assert deleted.status_code == 404
    assert (await stack.gateway.get(DOCUMENTS, headers=outsider)).json()["items"] == []


async def test_a_deleted_document_can_no_longer_be_called(stack: Stack, org: uuid.UUID) -> None:
    admin = stack.headers(org, "admin")
    await stack.gateway.post(DOCUMENTS, json={"document": NAMES}, headers=admin)
    assert names(await post(stack.gateway, admin, {"documentId": sha(NAMES)})) == []
    deleted = await stack.gateway.delete(f"{DOCUMENTS}/{sha(NAMES)}", headers=admin)
    assert deleted.status_code == 204
    gone = await post(stack.gateway, admin, {"documentId": sha(NAMES)})
    assert error_code(gone) == "persisted-document-not-found"
    assert (
        await stack.gateway.delete(f"{DOCUMENTS}/{sha(NAMES)}", headers=admin)
    ).status_code == 404


async def test_a_locked_gateway_runs_only_registered_documents(
    stack: Stack, org: uuid.UUID, locked_gateway: httpx.AsyncClient
) -> None:
    await register(stack, org, "Locked down")
    viewer = stack.headers(org, "viewer")
    refused = await post(locked_gateway, viewer, {"query": NAMES})
    assert error_code(refused) == "untrusted-document"
    assert f"sha256:{sha(NAMES)}" in refused["errors"][0]["message"]
    introspection = await post(locked_gateway, viewer, {"query": "{ __schema { types { name } } }"})
    assert error_code(introspection) == "untrusted-document"

    # Registered through the REST API of the locked gateway itself (REST is not locked).
    registered = await locked_gateway.post(
        DOCUMENTS, json={"document": NAMES}, headers=stack.headers(org, "admin")
    )
    assert registered.status_code == 201, registered.text
    assert names(await post(locked_gateway, viewer, {"documentId": sha(NAMES)})) == ["Locked down"]
    assert names(await post(locked_gateway, viewer, {"query": NAMES})) == ["Locked down"]
    # The same text is not trusted for another organisation.
    outsider = await post(locked_gateway, stack.headers(uuid.uuid4(), "viewer"), {"query": NAMES})
    assert error_code(outsider) == "untrusted-document"
