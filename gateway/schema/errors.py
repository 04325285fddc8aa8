"""How errors reach GraphQL clients.

* Mutations return payloads whose ``errors`` list holds typed :class:`UserError` values for what
  the caller can fix (invalid input, missing permission, a conflicting state).
* Other domain errors (not found, an upstream unavailable, an invalid cursor…) are top-level
  GraphQL errors with their message and ``extensions.code`` / ``extensions.status``.
* Anything else is masked as "Unexpected error." and logged: no stack trace, SQL or upstream
  body ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import ExecutionContext

from shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    PreconditionFailed,
    ValidationFailed,
)

logger = logging.getLogger("aims.gateway.graphql")


@strawberry.interface(description="A problem the caller can fix, returned in a mutation payload.")
class UserError:
    message: str = strawberry.field(description="What went wrong, for a person to read.")
    code: str = strawberry.field(
        description="Stable machine-readable code (e.g. `validation-failed`, `forbidden`)."
    )


@strawberry.type(description="The input is not valid; `field` points at the offending part.")
class ValidationError(UserError):
    field: list[str] | None = strawberry.field(
        default=None, description='Path into the mutation\'s input, e.g. `["name"]`.'
    )


@strawberry.type(description="The caller's roles do not allow this change.")
class ForbiddenError(UserError):
    pass


@strawberry.type(description="The change conflicts with the current state; read and retry.")
class ConflictError(UserError):
    pass


USER_ERROR_TYPES: tuple[type, ...] = (ValidationError, ForbiddenError, ConflictError)

_CAMEL = re.compile(r"_([a-z0-9])")


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


# Input fields whose value is a free-form map (the `JSON` scalar): the segment after one of them
# is a key of the caller's data (a custom field key, a property name), not a schema field.
MAP_FIELDS = frozenset({"custom_fields", "properties", "model_card", "bom"})


def _input_path(location: Any) -> list[str] | None:
    """The GraphQL input path of a problem+json / pydantic error ``location``.

    Schema field names are camel-cased (``["body", "business_function"]`` →
    ``["businessFunction"]``); list indexes are kept; so is everything from the first key of a
    free-form map on (``["body", "custom_fields", "cost_centre"]`` →
    ``["customFields", "cost_centre"]``), since those are the caller's own data keys.
    """
    if not isinstance(location, list | tuple):
        return None
    segments = list(location)
    if segments and segments[0] == "body":
        segments = segments[1:]
    path: list[str] = []
    in_data = False
    for segment in segments:
        if in_data or isinstance(segment, int) or not isinstance(segment, str):
            path.append(str(segment))
            continue
        path.append(_camel(segment))
        in_data = segment in MAP_FIELDS
    return path or None


def user_errors(error: DomainError) -> list[UserError] | None:
    """The payload errors ``error`` stands for, or None when it is not the caller's to fix."""
    if isinstance(error, Forbidden):
        return [ForbiddenError(message=error.detail, code=error.code)]
    if isinstance(error, Conflict | PreconditionFailed):
        return [ConflictError(message=error.detail, code=error.code)]
    if isinstance(error, ValidationFailed | BadRequest) or error.status == 422:
        if not error.errors:
            return [ValidationError(message=error.detail, code=error.code)]
        return [
            ValidationError(
                message=str(item.get("message") or error.detail),
                code=error.code,
                field=_input_path(item.get("location")),
            )
            for item in error.errors
        ]
    return None


def validation_errors(errors: Sequence[Mapping[str, object]]) -> list[UserError]:
    """Pydantic ``ValidationError.errors()`` of a mutation's input as payload errors."""
    return [
        ValidationError(
            message=str(e.get("msg", "Invalid value.")),
            code="validation-failed",
            field=_input_path(["body", *_as_list(e.get("loc"))]),
        )
        for e in errors
    ]


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


# --- Top-level errors ------------------------------------------------------------------------

_CLIENT_ERRORS = (DomainError, GraphQLError, GlobalIDValueError)


def is_unexpected(error: GraphQLError) -> bool:
    """Mask everything a resolver raised that is not a domain error or a client mistake.

    Syntax, validation and limit errors carry no ``original_error``; they describe the
    caller's document and are kept.
    """
    original = error.original_error
    return original is not None and not isinstance(original, _CLIENT_ERRORS)


def masked_errors() -> MaskErrors:
    return MaskErrors(should_mask_error=is_unexpected, error_message="Unexpected error.")


class DomainErrorCodes(SchemaExtension):
    """Adds ``extensions.code`` and ``extensions.status`` to each domain error in a result,
    and ``extensions.service`` to an upstream's unavailability (``upstream-unavailable``)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            original = error.original_error
            if isinstance(original, DomainError):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": original.code,
                    "status": original.status,
                }
                if isinstance(service := getattr(original, "service", None), str):
                    error.extensions["service"] = service


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log unexpected errors with their trace; the caller's own mistakes only at debug."""
    for error in errors:
        if is_unexpected(error):
            logger.error(
                "unexpected GraphQL error",
                exc_info=error.original_error,
                extra={"path": error.path, "operation": _operation(execution_context)},
            )
        else:
            logger.debug("GraphQL error: %s", error.message)


def _operation(execution_context: ExecutionContext | None) -> str | None:
    return execution_context.operation_name if execution_context else None
