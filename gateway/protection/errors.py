"""Errors of the GraphQL endpoint's protection.

HTTP-level mistakes (a body that is not JSON, nested too deeply, the wrong content type) are
domain errors rendered as problem+json by :func:`shared.errors.install_problem_handlers`.
Mistakes in a document or its variables are GraphQL errors with a stable ``extensions.code``
(:func:`graphql_error`), answered with ``200`` and ``data: null`` like every validation error.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from shared.errors import BadRequest, DomainError, NotFound


class InvalidJSON(BadRequest):
    code, title = "invalid-json", "The request body is not valid JSON"


class JSONTooDeep(BadRequest):
    code, title = "json-too-deep", "JSON nested too deeply"


class InvalidGraphQLRequest(BadRequest):
    """The HTTP request is not a GraphQL request (no document, a `query` that is no string…)."""

    code, title = "invalid-graphql-request", "Not a valid GraphQL request"


class GraphQLMethodNotAllowed(DomainError):
    status, code, title = 405, "method-not-allowed", "Method not allowed"


class UnsupportedGraphQLMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class DocumentNotFound(NotFound):
    code, title = "graphql-document-not-found", "Trusted GraphQL document not found"


class InvalidDocument(DomainError):
    """A document offered for registration that does not parse or validate against the schema."""

    status, code, title = 422, "invalid-graphql-document", "Not a valid GraphQL document"


# Codes of the GraphQL errors (``extensions.code``).
COST_LIMIT = "query-cost-limit"
DEPTH_LIMIT = "query-depth-limit"
INVALID_IDEMPOTENCY_KEY = "invalid-idempotency-key"
PERSISTED_DOCUMENT_NOT_FOUND = "persisted-document-not-found"
DOCUMENT_HASH_MISMATCH = "document-hash-mismatch"
UNTRUSTED_DOCUMENT = "untrusted-document"
INVALID_DOCUMENT_ID = "invalid-document-id"


def graphql_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    """A GraphQL error about the caller's document or variables: kept, never masked."""
    return GraphQLError(message, extensions={"code": code, **extensions})
