"""The GraphQL endpoint's protection, through the running gateway: HTTP-level mistakes answered
as problem+json, idempotency keys no header can carry, the cost limit and introspection depth."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from tests.conftest import Stack
from tests.gateway.test_graphql import REGISTER, gql, register

pytestmark = pytest.mark.engines

NAMES = "{ aiSystems(first: 100) { edges { node { name } } } }"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    return body


async def names(stack: Stack, org: uuid.UUID) -> list[str]:
    body = await gql(stack.gateway, stack.headers(org, "viewer"), NAMES)
    assert "errors" not in body, body
    return [edge["node"]["name"] for edge in body["data"]["aiSystems"]["edges"]]


# --- HTTP-level mistakes: problem+json ---------------------------------------------------------


async def test_malformed_json_is_a_problem_not_text(stack: Stack, org: uuid.UUID) -> None:
    for content in (b'{"query": "{ __typename }"', b"\xff\xfe{", b""):
        response = await stack.gateway.post(
            "/graphql",
            content=content,
            headers={**stack.headers(org, "viewer"), "content-type": "application/json"},
        )
        assert_problem(response, 400, "invalid-json")


async def test_a_body_nested_thousands_deep_is_refused_not_a_500(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = {**stack.headers(org, "viewer"), "content-type": "application/json"}
    for depth in (100, 5_000, 100_000):
        response = await stack.gateway.post(
            "/graphql", content=b"[" * depth + b"]" * depth, headers=headers
        )
        body = assert_problem(response, 400, "json-too-deep")
        assert "64 levels" in body["detail"]


async def test_a_json_variable_nested_thousands_deep_is_refused_and_registers_nothing(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = {**stack.headers(org, "admin"), "content-type": "application/json"}
    for depth in (70, 3_000):
        nested = "[" * depth + "]" * depth
        variables = '{"input": {"name": "Deep", "customFields": {"x": ' + nested + "}}}"
        body = '{"query": ' + json.dumps(REGISTER) + ', "variables": ' + variables + "}"
        response = await stack.gateway.post("/graphql", content=body.encode(), headers=headers)
        assert_problem(response, 400, "json-too-deep")
    assert await names(stack, org) == []


CREATE_COMPONENT = """
mutation Create($input: CreateComponentInput!) {
  createComponent(input: $input) { component { name properties } errors { code message } }
}
"""


async def test_a_variable_within_the_nesting_limit_still_works(
    stack: Stack, org: uuid.UUID
) -> None:
    nested: Any = "leaf"
    for _ in range(20):
        nested = [nested]
    body = await gql(
        stack.gateway,
        stack.headers(org, "admin"),
        CREATE_COMPONENT,
        {"input": {"kind": "MODEL", "name": "Nested", "properties": {"deep": nested}}},
    )
    assert "errors" not in body, body
    payload = body["data"]["createComponent"]
    assert payload["errors"] == []
    assert payload["component"]["properties"] == {"deep": nested}


async def test_wrong_content_type_missing_document_and_get_mutation_are_problems(
    stack: Stack, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "admin")
    text = await stack.gateway.post(
        "/graphql", content=b"{ __typename }", headers={**headers, "content-type": "text/plain"}
    )
    assert_problem(text, 415, "unsupported-media-type")
    payloads: list[Any] = [{}, {"variables": {}}, [{"query": "{ __typename }"}], {"query": 1}]
    for payload in payloads:
        response = await stack.gateway.post("/graphql", json=payload, headers=headers)
        assert_problem(response, 400, "invalid-graphql-request")
    mutation = await stack.gateway.get(
        "/graphql",
        params={"query": 'mutation { registerAISystem(input: {name: "x"}) { errors { code } } }'},
        headers=headers,
    )
    assert_problem(mutation, 405, "method-not-allowed")
    bad_variables = await stack.gateway.get(
        "/graphql", params={"query": "{ __typename }", "variables": "{oops"}, headers=headers
    )
    assert_problem(bad_variables, 400, "invalid-json")
    assert await names(stack, org) == []


async def test_a_browser_get_with_a_document_id_and_no_credentials_is_401(stack: Stack) -> None:
    response = await stack.gateway.get(
        "/graphql", params={"documentId": "sha256:" + "0" * 64}, headers={"Accept": "text/html"}
    )
    assert_problem(response, 401, "unauthenticated")
    page = await stack.gateway.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_a_body_over_the_limit_is_413_problem_json(stack: Stack, org: uuid.UUID) -> None:
    query = "{ __typename }" + " " * 1_100_000
    response = await stack.gateway.post(
        "/graphql", json={"query": query}, headers=stack.headers(org, "viewer")
    )
    assert_problem(response, 413, "payload-too-large")


# --- Idempotency keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["Équipe-1", "clé", "emoji-🔑", "tab\tkey", " padded", "x" * 256])
async def test_an_idempotency_key_no_header_can_carry_is_a_graphql_error(
    stack: Stack, org: uuid.UUID, key: str
) -> None:
    body = await gql(
        stack.gateway,
        stack.headers(org, "admin"),
        REGISTER,
        {"input": {"name": "Keyed", "idempotencyKey": key}},
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] != "Unexpected error."
    assert error["extensions"]["code"] == "invalid-idempotency-key"
    assert error["extensions"]["field"] == ["$input", "idempotencyKey"]
    assert "printable ASCII" in error["message"]
    assert await names(stack, org) == []


async def test_an_idempotency_key_literal_in_the_document_is_checked_too(
    stack: Stack, org: uuid.UUID
) -> None:
    document = (
        'mutation { registerAISystem(input: {name: "Literal", idempotencyKey: "Équipe"}) '
        "{ aiSystem { id } } }"
    )
    body = await gql(stack.gateway, stack.headers(org, "admin"), document)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "invalid-idempotency-key"
    assert await names(stack, org) == []


async def test_an_ascii_idempotency_key_still_makes_a_retry_safe(
    stack: Stack, org: uuid.UUID
) -> None:
    variables = {"input": {"name": "Retried", "idempotencyKey": "order 42/retry-1"}}
    for _ in range(2):
        body = await gql(stack.gateway, stack.headers(org, "admin"), REGISTER, variables)
        assert "errors" not in body, body
    assert await names(stack, org) == ["Retried"]


# --- Cost --------------------------------------------------------------------------------------

NESTED_PAGES = """
query Pages($n: Int!) {
  a: aiSystems(first: $n) { edges { node { components(first: $n) { edges { node { id } } } } } }
  b: aiSystems(first: $n) { edges { node { components(first: $n) { edges { node { id } } } } } }
}
"""


async def test_a_query_whose_lists_multiply_past_the_cost_limit_is_refused(
    stack: Stack, org: uuid.UUID
) -> None:
    await register(stack, org, "Costed")
    headers = stack.headers(org, "viewer")
    refused = await gql(stack.gateway, headers, NESTED_PAGES, {"n": 100})
    assert refused["data"] is None
    [error] = refused["errors"]
    # Per alias: 1 + 100 × (edges 1 + node 1 + components (1 + 100 × (edges 1 + node 1))).
    assert error["extensions"] == {"code": "query-cost-limit", "cost": 40_602, "limit": 25_000}
    assert "40602" in error["message"] and "25000" in error["message"]

    allowed = await gql(stack.gateway, headers, NESTED_PAGES, {"n": 5})
    assert "errors" not in allowed, allowed
    assert [e["node"]["components"] for e in allowed["data"]["a"]["edges"]] == [{"edges": []}]


async def test_a_list_without_first_counts_at_its_default_page_size(
    stack: Stack, org: uuid.UUID
) -> None:
    # `components` defaults to first: 50; 100 systems × 50 components × 3 aliases > 25,000.
    query = (
        "{ aiSystems(first: 100) { edges { node { "
        + " ".join(f"c{i}: components {{ edges {{ node {{ id }} }} }}" for i in range(3))
        + " } } } }"
    )
    body = await gql(stack.gateway, stack.headers(org, "viewer"), query)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "query-cost-limit"
    assert body["errors"][0]["extensions"]["cost"] == 1 + 100 * (2 + 3 * (1 + 50 * 2))


# --- Depth, introspection included -------------------------------------------------------------


async def test_a_deep_introspection_query_is_refused(stack: Stack, org: uuid.UUID) -> None:
    deep = '{ __type(name: "AISystem") { ' + "ofType { " * 20 + "name" + " }" * 20 + " } }"
    body = await gql(stack.gateway, stack.headers(org, "viewer"), deep)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "query-depth-limit"
    assert error["extensions"]["limit"] == 15
    assert "__type" in error["message"]

    # Nested introspection lists: graphql-core's own rule refuses them before the depth limit.
    schema_deep = "{ __schema { types { " + "fields { type { " * 6 + "name" + " } }" * 6 + " } } }"
    body = await gql(stack.gateway, stack.headers(org, "viewer"), schema_deep)
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Maximum introspection depth exceeded"


async def test_many_aliased_schema_introspections_cost_too_much(
    stack: Stack, org: uuid.UUID
) -> None:
    # A whole-schema read costs the schema's size (thousands); fifteen aliased copies are over.
    query = "{ " + " ".join(f"s{i}: __schema {{ types {{ name }} }}" for i in range(15)) + " }"
    body = await gql(stack.gateway, stack.headers(org, "viewer"), query)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "query-cost-limit"
    assert error["extensions"]["cost"] % 15 == 0
    one = await gql(stack.gateway, stack.headers(org, "viewer"), "{ __schema { types { name } } }")
    assert len(one["data"]["__schema"]["types"]) > 100


async def test_the_standard_introspection_query_still_works(stack: Stack, org: uuid.UUID) -> None:
    body = await gql(stack.gateway, stack.headers(org, "viewer"), get_introspection_query())
    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_a_deep_query_through_fragments_is_refused(stack: Stack, org: uuid.UUID) -> None:
    query = """
    query Deep { aiSystems(first: 1) { edges { node { ...A } } } }
    fragment A on AISystem {
      components { edges { node { vendor { systems { edges { node { ...B } } } } } } }
    }
    fragment B on AISystem { components { edges { node { id } } } }
    """
    body = await gql(stack.gateway, stack.headers(org, "viewer"), query)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "query-depth-limit"
    assert error["extensions"]["limit"] == 10
