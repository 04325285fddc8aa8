"""Typed mutation errors (issue 11): every mutation answers a payload whose ``errors`` list holds
``UserError`` values a client switches on by ``__typename`` — ``ValidationError``,
``ForbiddenError``, ``ConflictError``, ``NotFoundError`` — while queries keep top-level errors.

The end-to-end tests go through the real gateway and services (``tests/conftest.py``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
)
from strawberry import relay
from strawberry.types.base import get_object_definition

from gateway.schema import Mutation, build_schema
from gateway.schema.errors import (
    NotFoundError,
    PayloadErrors,
    ValidationError,
    attempt,
    user_errors,
)
from shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionRequired,
    ValidationFailed,
)
from tests.conftest import Stack

ERRORS = """errors {
  __typename message code
  ... on ValidationError { field }
  ... on NotFoundError { kind resourceId }
}"""

REGISTER = f"""
mutation Register($input: RegisterAISystemInput!) {{
  registerAISystem(input: $input) {{ aiSystem {{ id version }} {ERRORS} }}
}}"""

UPDATE = f"""
mutation Update($input: UpdateAISystemInput!) {{
  updateAISystem(input: $input) {{ aiSystem {{ id version owner }} {ERRORS} }}
}}"""


# --- The schema -------------------------------------------------------------------------------


def _unwrap_list_of(field_type: Any) -> Any:
    """The item type of ``[X!]!``, or None when ``field_type`` is not that shape."""
    if not isinstance(field_type, GraphQLNonNull):
        return None
    listed = field_type.of_type
    if not isinstance(listed, GraphQLList) or not isinstance(listed.of_type, GraphQLNonNull):
        return None
    return listed.of_type.of_type


def test_every_mutation_returns_a_payload_with_user_errors() -> None:
    schema: GraphQLSchema = build_schema()._schema
    assert schema.mutation_type is not None
    user_error = schema.get_type("UserError")
    assert isinstance(user_error, GraphQLInterfaceType)
    wrong: dict[str, str] = {}
    for name, field in schema.mutation_type.fields.items():
        payload = field.type.of_type if isinstance(field.type, GraphQLNonNull) else None
        if not isinstance(payload, GraphQLObjectType):
            wrong[name] = f"returns {field.type}, not a non-null payload object"
            continue
        errors = payload.fields.get("errors")
        if errors is None:
            wrong[name] = f"{payload.name} has no `errors` field"
        elif _unwrap_list_of(errors.type) is not user_error:
            wrong[name] = f"{payload.name}.errors is {errors.type}, not [UserError!]!"
    assert len(schema.mutation_type.fields) > 80  # the walk saw the whole schema
    assert wrong == {}


def test_the_four_kinds_implement_user_error() -> None:
    schema = build_schema()._schema
    user_error = schema.get_type("UserError")
    assert isinstance(user_error, GraphQLInterfaceType)
    implementations = {t.name for t in schema.get_possible_types(user_error)}
    assert {"ValidationError", "ForbiddenError", "ConflictError", "NotFoundError"} <= (
        implementations
    )
    not_found = schema.get_type("NotFoundError")
    assert isinstance(not_found, GraphQLObjectType)
    assert {"message", "code", "kind", "resourceId"} <= set(not_found.fields)


# --- The mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "typename"),
    [
        (NotFound("No risk 7 in your organisation."), "NotFoundError"),
        (Forbidden(), "ForbiddenError"),
        (Conflict(), "ConflictError"),
        (ValidationFailed(), "ValidationError"),
        (BadRequest("`id` is neither a Risk ID nor a UUID."), "ValidationError"),
    ],
)
def test_user_errors_maps_each_kind(error: DomainError, typename: str) -> None:
    [mapped] = user_errors(error, kind="Risk", resource_id="7") or []
    assert type(mapped).__name__ == typename
    assert mapped.message == error.detail and mapped.code == error.code
    if isinstance(mapped, NotFoundError):
        assert (mapped.kind, mapped.resource_id) == ("Risk", "7")


def test_a_missing_expected_version_points_at_the_input_field() -> None:
    # Every mutation, not only those of one module: the upstream's 428 (If-Match required).
    [mapped] = user_errors(PreconditionRequired()) or []
    assert isinstance(mapped, ValidationError)
    assert (mapped.code, mapped.field) == ("precondition-required", ["expectedVersion"])


def test_a_more_precise_not_found_keeps_its_code() -> None:
    error = NotFound("No vendor.")
    error.code = "vendor-not-found"  # as an upstream's problem+json sets it
    [mapped] = user_errors(error) or []
    assert isinstance(mapped, NotFoundError)
    assert (mapped.code, mapped.kind, mapped.resource_id) == ("vendor-not-found", None, None)


async def test_attempt_maps_errors_of_building_the_call_and_lets_others_through() -> None:
    def bad_id() -> Any:
        raise BadRequest("`id` is not an AISystem ID.")

    found, errors = await attempt(bad_id, kind="AISystem", resource_id="x")
    assert found is None
    assert [type(e) for e in errors] == [ValidationError]

    async def ok() -> int:
        return 42

    assert await attempt(ok()) == (42, [])
    assert await attempt(ok) == (42, [])

    class Unavailable(DomainError):
        status, code = 503, "upstream-unavailable"

    async def down() -> int:
        raise Unavailable()

    with pytest.raises(Unavailable):  # not the caller's to fix: a top-level error
        await attempt(down())


@pytest.mark.parametrize(
    ("mutation", "empty"),
    [
        ("approveScopeVersion", {"scope_version": None, "warnings": []}),
        ("acceptSoAProposals", {"accepted": [], "not_proposed": [], "entries": []}),
        ("unassignAIMSRole", {"ok": False}),
    ],
)
def test_the_net_builds_each_payload_with_its_errors(mutation: str, empty: dict[str, Any]) -> None:
    """What ``PayloadErrors`` answers when a resolver lets a caller's mistake through."""
    build_schema()
    [field] = [
        f for f in get_object_definition(Mutation, strict=True).fields if f.graphql_name == mutation
    ]
    [net] = [e for e in field.extensions if isinstance(e, PayloadErrors)]
    errors = user_errors(Forbidden()) or []
    payload = net._failed(errors)
    assert payload is not None
    assert {name: getattr(payload, name) for name in empty} == empty
    assert payload.errors == errors  # type: ignore[attr-defined]


# --- Through the gateway ----------------------------------------------------------------------


async def post(
    stack: Stack, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def mutate(
    stack: Stack, headers: dict[str, str], query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The single mutation's payload; a top-level error fails the test."""
    body = await post(stack, headers, query, variables)
    assert "errors" not in body, body
    [payload] = body["data"].values()
    return dict(payload)


def switch(payload: dict[str, Any]) -> str:
    """What a client does with a payload: switch on the error's ``__typename``."""
    if not payload["errors"]:
        return "saved"
    [error] = payload["errors"]
    match error["__typename"]:
        case "ValidationError":
            return f"fix the field {'.'.join(error['field'] or ['?'])}"
        case "ForbiddenError":
            return "you may not"
        case "ConflictError":
            return "reload and retry"
        case "NotFoundError":
            return f"{error['kind']} {error['resourceId']} is gone"
        case other:
            return f"unknown {other}"


async def test_the_four_kinds_come_from_real_mutations(stack: Stack, org: uuid.UUID) -> None:
    admin = stack.headers(org, "admin")
    created = await mutate(stack, admin, REGISTER, {"input": {"name": "Screener"}})
    assert switch(created) == "saved"
    system = created["aiSystem"]

    # Validation: an input the service refuses, with the offending field.
    invalid = await mutate(stack, admin, REGISTER, {"input": {"name": ""}})
    assert invalid["aiSystem"] is None
    assert switch(invalid) == "fix the field name"
    assert invalid["errors"][0]["code"] == "validation-failed"

    # Forbidden: a viewer may not register systems.
    denied = await mutate(stack, stack.headers(org, "viewer"), REGISTER, {"input": {"name": "V"}})
    assert switch(denied) == "you may not"
    assert denied["errors"][0]["code"] == "forbidden"

    # Conflict: a stale expectedVersion.
    change = {"id": system["id"], "expectedVersion": 1, "owner": "a@example.org"}
    assert switch(await mutate(stack, admin, UPDATE, {"input": change})) == "saved"
    stale = await mutate(stack, admin, UPDATE, {"input": {**change, "owner": "b@example.org"}})
    assert stale["aiSystem"] is None
    assert switch(stale) == "reload and retry"

    # Not found: another organisation's system is not there for this one, nor is an unknown id.
    elsewhere = stack.headers(uuid.uuid4(), "admin")
    foreign = await mutate(stack, elsewhere, UPDATE, {"input": {**change, "expectedVersion": 2}})
    assert foreign["aiSystem"] is None
    assert switch(foreign) == f"AISystem {system['id']} is gone"
    assert foreign["errors"][0]["code"].endswith("not-found")
    missing = str(relay.GlobalID("AISystem", str(uuid.uuid4())))
    unknown = await mutate(stack, admin, UPDATE, {"input": {**change, "id": missing}})
    assert switch(unknown) == f"AISystem {missing} is gone"

    # Nothing was written by the refused ones.
    read = await post(stack, admin, "query($id: ID!) { aiSystem(id: $id) { owner version } }",
                      {"id": system["id"]})  # fmt: skip
    assert read["data"]["aiSystem"] == {"owner": "a@example.org", "version": 2}


async def test_a_malformed_id_in_a_mutation_is_a_validation_error(
    stack: Stack, org: uuid.UUID
) -> None:
    admin = stack.headers(org, "admin")
    risk_id = str(relay.GlobalID("Risk", str(uuid.uuid4())))
    payload = await mutate(
        stack, admin, UPDATE, {"input": {"id": risk_id, "expectedVersion": 1, "owner": "x"}}
    )
    assert payload["aiSystem"] is None
    [error] = payload["errors"]
    assert error["__typename"] == "ValidationError"
    assert "Risk" in error["message"]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        # Parsed before the upstream call, outside `attempt`: the schema-wide net maps it.
        pytest.param(
            "mutation($id: ID!) { deletePerson(input: {id: $id, expectedVersion: 1}) "
            f"{{ deletedPersonId {ERRORS} }} }}",
            {"deletedPersonId": None},
            id="deletePerson",
        ),
    ],
)
async def test_a_wrong_type_of_id_is_a_validation_error_wherever_it_is_parsed(
    stack: Stack, org: uuid.UUID, mutation: str, expected: dict[str, Any]
) -> None:
    risk_id = str(relay.GlobalID("Risk", str(uuid.uuid4())))
    payload = await mutate(stack, stack.headers(org, "admin"), mutation, {"id": risk_id})
    [error] = payload.pop("errors")
    assert error["__typename"] == "ValidationError", error
    assert "Risk" in error["message"]
    assert payload == expected


# One missing object per service and mutation style; each answers a NotFoundError in its payload.
NOT_FOUND_CASES = [
    pytest.param(
        "mutation($id: ID!) { assessRisk(input: {id: $id, version: 1, likelihood: 2}) "
        f"{{ risk {{ id }} {ERRORS} }} }}",
        "Risk",
        "Risk",
        id="assessRisk",
    ),
    pytest.param(
        f"mutation($id: ID!) {{ submitImpactAssessment(id: $id) {{ impactAssessment {{ id }} "
        f"{ERRORS} }} }}",
        "ImpactAssessment",
        "ImpactAssessment",
        id="submitImpactAssessment",
    ),
    pytest.param(
        f"mutation($id: ID!) {{ approveScopeVersion(input: {{id: $id, version: 1}}) "
        f"{{ scopeVersion {{ id }} {ERRORS} }} }}",
        "ScopeVersion",
        "ScopeVersion",
        id="approveScopeVersion",
    ),
    pytest.param(
        'mutation($id: ID!) { updateComponent(input: {id: $id, expectedVersion: 1, name: "x"}) '
        f"{{ component {{ id }} {ERRORS} }} }}",
        "Component",
        "Component",
        id="updateComponent",
    ),
    pytest.param(
        "mutation($id: ID!) { updateContextIssue(input: {id: $id, expectedVersion: 1, "
        f'title: "x"}}) {{ contextIssue {{ id }} {ERRORS} }} }}',
        "ContextIssue",
        "ContextIssue",
        id="updateContextIssue",
    ),
    pytest.param(
        f"mutation($id: ID!) {{ startAudit(input: {{id: $id, expectedVersion: 1}}) "
        f"{{ audit {{ id }} {ERRORS} }} }}",
        "Audit",
        None,
        id="startAudit",
    ),
    pytest.param(
        f"mutation($id: ID!) {{ submitEvidence(input: {{id: $id, expectedVersion: 1}}) "
        f"{{ evidence {{ id }} {ERRORS} }} }}",
        "Evidence",
        None,
        id="submitEvidence",
    ),
]


@pytest.mark.parametrize(("mutation", "node_type", "kind"), NOT_FOUND_CASES)
async def test_a_missing_object_is_a_not_found_error_in_the_payload(
    stack: Stack, org: uuid.UUID, mutation: str, node_type: str, kind: str | None
) -> None:
    missing = str(relay.GlobalID(node_type, str(uuid.uuid4())))
    body = await post(stack, stack.headers(org, "admin"), mutation, {"id": missing})
    assert "errors" not in body, body
    [payload] = body["data"].values()
    [error] = payload["errors"]
    assert error["__typename"] == "NotFoundError", error
    assert error["code"].endswith("not-found")
    if kind is not None:
        assert (error["kind"], error["resourceId"]) == (kind, missing)


async def test_queries_keep_top_level_errors(stack: Stack, org: uuid.UUID) -> None:
    headers = stack.headers(org, "admin")
    missing = str(relay.GlobalID("AISystem", str(uuid.uuid4())))
    absent = await post(stack, headers, "query($id: ID!) { aiSystem(id: $id) { id } }",
                        {"id": missing})  # fmt: skip
    assert absent == {"data": {"aiSystem": None}}
    wrong = await post(stack, headers, 'query { aiSystems(first: 1, after: "junk") { '
                       "edges { node { id } } } }", {})  # fmt: skip
    assert wrong["data"] is None
    assert wrong["errors"][0]["extensions"]["code"] == "invalid-cursor"
