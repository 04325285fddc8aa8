"""Every response an operation can give, documented in one place.

Routes declare what they return on success; the errors they can answer come from conventions
every service shares (:mod:`shared.errors`, :mod:`shared.http`, :mod:`shared.auth`), so they are
documented here, once, from what each route actually depends on:

* ``401`` and ``403`` — every route that authenticates its caller (``403``: a role it lacks);
* ``400`` — a request body (malformed JSON), query parameters (an invalid cursor), or a list that
  refuses unknown query parameters (``unknown-query-parameter``);
* ``404`` — a path that names a resource (``{id}``), which another organisation never sees, or
  a list filtered by a parent resource (``?review_id=``) that may answer 404 for it;
* ``409`` — every write (a conflicting state, a uniqueness race, an ``Idempotency-Key`` race);
* ``412`` / ``428`` — a write that takes ``If-Match``;
* ``413`` / ``415`` — a request body (over the size limit, or not a media type it reads);
* ``422`` — parameters or a body that do not match the schema (``validation-failed``);
* ``503`` — a dependency (database, broker, an upstream service) is unavailable.

Each is ``application/problem+json`` with the ``Problem`` schema component (RFC 9457). FastAPI's
own ``422`` (``application/json``, ``HTTPValidationError``) is replaced: the services never
answer it (:func:`shared.errors.install_problem_handlers` renders validation errors as
problems). What a route declares itself with a media type other than problem+json is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from shared.auth import authenticate_request, require_roles
from shared.errors import PROBLEM_BASE, PROBLEM_JSON
from shared.http import KnownQueryCaller, RejectUnknownQuery

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem; `code` is stable and names the kind of problem.",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "description": f"`{PROBLEM_BASE}<code>`"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable kind of problem"},
        "instance": {"type": "string", "description": "The request path"},
        "errors": {
            "type": "array",
            "description": "What did not match the schema (validation problems)",
            "items": {
                "type": "object",
                "properties": {
                    # Field names, and list indexes as integers.
                    "location": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    # Problems carry extensions (``unknown``/``allowed``, ``current_version``, …).
    "additionalProperties": True,
}

_WRITES = {"post", "put", "patch", "delete"}
# Operations that touch no dependency and take no caller (liveness, the documents themselves).
_NO_DEPENDENCY_PATHS = {"/healthz", "/metrics", "/asyncapi.json"}
# The GraphQL route authenticates in its context getter rather than through a dependency, and
# answers GraphQL's own shapes besides problems (see :func:`_document_graphql`).
_GRAPHQL_PATHS = {"/graphql"}
_GRAPHQL_RESPONSE: dict[str, Any] = {
    "type": "object",
    "description": "A GraphQL response: `data` and/or `errors`",
    "properties": {"data": {}, "errors": {"type": "array"}, "extensions": {"type": "object"}},
}
_PATH_PARAM = re.compile(r"{[^}]+}")

_DESCRIPTIONS = {
    400: "Malformed request: invalid JSON, an invalid cursor, or an unknown query parameter",
    401: "No credential, or one that is not valid (`unauthenticated`)",
    403: "The caller lacks a role this needs (`forbidden`)",
    404: "No such resource in the caller's organisation (`not-found`)",
    409: "Conflicts with the resource's state or a concurrent request (`conflict`)",
    412: "`If-Match` does not name the current version (`precondition-failed`)",
    413: "The request body exceeds the limit (`payload-too-large`)",
    415: "The request body's media type is not one this operation reads",
    422: "Parameters or body do not match the schema (`validation-failed`); see `errors`",
    428: "`If-Match` is required (`precondition-required`)",
    503: "A dependency is unavailable; retry after `Retry-After` (`service-unavailable`)",
}


def install_problem_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every problem each operation can answer."""

    generate = app.openapi  # FastAPI's own, which caches until the routes change
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()
        if not documented or documented[0] is not document:
            documented[:] = [document_problems(document, app)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Add the problems each operation of ``document`` can answer (see the module docstring)."""
    routes = {
        (method.lower(), route.path_format): route
        for route in _api_routes(app)
        for method in route.methods or ()
    }
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "delete", "patch", "head", "options"}:
                continue
            statuses = _problem_statuses(path, method, operation, routes.get((method, path)))
            responses = operation.setdefault("responses", {})
            # What routes declare themselves as problems (``416``, ``428``…) gets the schema too.
            declared = {
                int(key)
                for key, response in responses.items()
                if key.isdigit() and PROBLEM_JSON in response.get("content", {})
            }
            for status in sorted(statuses | declared):
                _document(responses, status)
            if path in _GRAPHQL_PATHS:
                _document_graphql(method, responses)
    _link_created_resources(document)
    _drop_unused_validation_schemas(document)
    return document


def _api_routes(app: FastAPI) -> Iterator[Any]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def _problem_statuses(path: str, method: str, operation: dict[str, Any], route: Any) -> set[int]:
    if path in _NO_DEPENDENCY_PATHS:
        return set()
    dependant: Dependant | None = getattr(route, "dependant", None)
    deps = list(_dependencies(dependant)) if dependant is not None else []
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in params)
    statuses = {503}
    if path in _GRAPHQL_PATHS:
        statuses |= {400, 401, 403} | ({413, 415} if method == "post" else set())
    if any(_authenticates(d) for d in deps):
        statuses |= {401, 403}
    # Every operation of the versioned API refuses unknown query parameters (the check in
    # every route's handler, ``ScreenedRoute``); elsewhere only routes with a guard of their own.
    guards = (RejectUnknownQuery, KnownQueryCaller)
    if (
        has_body
        or has_query
        or path.startswith("/v1/")
        or any(isinstance(d.call, guards) for d in deps)
    ):
        statuses.add(400)
    # A path naming a resource, or a list filtered by its parent (``?review_id=…``), which
    # answers 404 when that parent is not the caller's.
    if _PATH_PARAM.search(path) or any(
        p.get("in") == "query" and p.get("name", "").endswith("_id") for p in params
    ):
        statuses.add(404)
    if method in _WRITES:
        statuses.add(409)
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in params):
        statuses |= {412, 428}
    if has_body:
        statuses |= {413, 415}
    if has_body or params:
        statuses.add(422)
    return statuses


def _authenticates(dependency: Dependant) -> bool:
    """The dependency verifies the caller: :func:`authenticate_request` itself, or a
    :func:`require_roles` check (which calls it), alone or in a :class:`KnownQueryCaller`."""
    call = dependency.call
    return (
        call is authenticate_request
        or isinstance(call, KnownQueryCaller)
        or getattr(call, "__qualname__", "").startswith(f"{require_roles.__name__}.")
    )


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status) or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}
        }
    if status == 503:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}
        }
    return response


def _document(responses: dict[str, Any], status: int) -> None:
    key = str(status)
    declared = responses.get(key)
    if declared is None:
        responses[key] = _problem_response(status)
        return
    content: dict[str, Any] = declared.setdefault("content", {})
    if status == 422 and "application/json" in content:
        schema = content["application/json"].get("schema", {})
        if schema.get("$ref", "").endswith("/HTTPValidationError"):
            # FastAPI's default; the services answer validation errors as problems.
            responses[key] = _problem_response(status)
            return
    if not content or PROBLEM_JSON in content:
        own = declared.get("description")
        default = HTTPStatus(status).phrase
        description = own if own and own != default else None
        merged = _problem_response(status, description)
        merged.setdefault("headers", {}).update(declared.get("headers", {}))
        if not merged["headers"]:
            del merged["headers"]
        responses[key] = merged


def _document_graphql(method: str, responses: dict[str, Any]) -> None:
    """GraphQL over HTTP: a document that does not parse or validate is a ``400`` with GraphQL
    ``errors`` (``application/json``); ``GET`` without a query serves the GraphiQL page."""
    graphql = {"schema": _GRAPHQL_RESPONSE}
    responses["200"].setdefault("content", {})["application/json"] = graphql
    responses["400"]["content"]["application/json"] = graphql
    if method == "get":
        responses["200"]["content"]["text/html"] = {"schema": {"type": "string"}}


def _link_created_resources(document: dict[str, Any]) -> None:
    """OpenAPI links from a create (``POST <path>`` answering 201 with an ``id``) to every
    operation on ``<path>/{param}``: clients, and schemathesis' stateful runs, follow them."""
    paths: dict[str, Any] = document.get("paths", {})
    schemas = document.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        schema = created.get("content", {}).get("application/json", {}).get("schema", {})
        component = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
        if "id" not in component.get("properties", {}):
            continue
        links: dict[str, Any] = {}
        for child, child_item in paths.items():
            match = re.fullmatch(re.escape(path) + r"/{([^}/]+)}", child)
            if match is None:
                continue
            for operation in child_item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {match.group(1): "$response.body#/id"},
                    }
        if links:
            created["links"] = links


def _drop_unused_validation_schemas(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        if name not in schemas:
            continue
        rest = {k: v for k, v in document.items() if k != "components"}
        other = {k: v for k, v in schemas.items() if k != name}
        if f'"#/components/schemas/{name}"' not in json.dumps([rest, other]):
            del schemas[name]
