"""How errors reach GraphQL clients.

* Every mutation returns a payload whose ``errors: [UserError!]!`` list holds typed values a
  client switches on (``__typename``): :class:`ValidationError`, :class:`ForbiddenError`,
  :class:`ConflictError`, :class:`NotFoundError` (and a few richer refusals of one mutation).
  Mutations map domain errors with :func:`attempt` (through :func:`user_errors`);
  :class:`PayloadErrors`, on every mutation, maps those a resolver let through.
* Queries, and the other domain errors of a mutation (an upstream unavailable, unauthenticated…),
  give top-level GraphQL errors with their message and ``extensions.code`` /
  ``extensions.status``; a query for a missing object gives null (or a top-level ``not-found``).
* Anything else is masked as "Unexpected error." and logged: no stack trace, SQL or upstream
  body ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension, MaskErrors, SchemaExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import ExecutionContext, Info
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    get_object_definition,
)
from strawberry.types.field import StrawberryField

from shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
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


@strawberry.type(
    description="The object the mutation names does not exist in your organisation (code "
    "`not-found`, or the service's own more precise `…-not-found`)."
)
class NotFoundError(UserError):
    kind: str | None = strawberry.field(
        default=None, description="The type of the missing object, e.g. `Risk`, when known."
    )
    resource_id: str | None = strawberry.field(
        default=None,
        description="The id the mutation named for it, as sent, when known (not called `id`: it "
        "is the missing object's, and normalised caches key objects by `id`).",
    )


USER_ERROR_TYPES: tuple[type, ...] = (ValidationError, ForbiddenError, ConflictError, NotFoundError)

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


def user_errors(
    error: DomainError, *, kind: str | None = None, resource_id: object = None
) -> list[UserError] | None:
    """The payload errors ``error`` stands for, or None when it is not the caller's to fix.

    ``kind`` and ``resource_id`` name the object the mutation acts on, for a :class:`NotFound`.
    """
    if isinstance(error, NotFound):
        return [
            NotFoundError(
                message=error.detail,
                code=error.code,
                kind=kind,
                resource_id=None if resource_id is None else str(resource_id),
            )
        ]
    if isinstance(error, Forbidden):
        return [ForbiddenError(message=error.detail, code=error.code)]
    if isinstance(error, Conflict | PreconditionFailed):
        return [ConflictError(message=error.detail, code=error.code)]
    if isinstance(error, PreconditionRequired):
        # The upstream wants the version the caller read (If-Match); in GraphQL that is the
        # input's `expectedVersion`, which the caller left out.
        return [
            ValidationError(
                message="`expectedVersion` is required to change this.",
                code=error.code,
                field=["expectedVersion"],
            )
        ]
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


T = TypeVar("T")


class ErrorMapping(Protocol):
    """How a mutation turns a domain error into payload errors (None: not the caller's to fix)."""

    def __call__(
        self, error: DomainError, *, kind: str | None = ..., resource_id: object = ...
    ) -> list[UserError] | None: ...


async def attempt(
    call: Awaitable[T] | Callable[[], Awaitable[T]],
    *,
    kind: str | None = None,
    resource_id: object = None,
    mapping: ErrorMapping = user_errors,
) -> tuple[T | None, list[UserError]]:
    """``call``'s result and no errors, or None and the typed payload errors of a domain error
    the caller can act on; other domain errors (and anything else) propagate as top-level errors.

    The one way a mutation maps its errors. Pass a zero-argument function rather than a
    coroutine when building the call can itself fail with a domain error (parsing an id in
    the input): that error becomes a payload error too. ``kind`` and ``resource_id`` name the
    object acted on, for a :class:`NotFoundError`; ``mapping`` is :func:`user_errors` or a
    richer mapping that falls back to it.
    """
    try:
        return await (call() if callable(call) else call), []
    except DomainError as error:
        if (errors := mapping(error, kind=kind, resource_id=resource_id)) is None:
            raise
        return None, errors


class PayloadErrors(FieldExtension):
    """The net under :func:`attempt`, on every mutation: a domain error the caller can fix that
    the resolver let through (one raised while building its request: a malformed id among the
    input's references, a page size…) answers the payload with its typed errors too, the other
    fields empty; any other error stays top-level."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except DomainError as error:
            if (errors := user_errors(error)) is None or (payload := self._failed(errors)) is None:
                raise
            return payload

    def _failed(self, errors: list[UserError]) -> object | None:
        """The payload carrying ``errors``: null objects, empty lists, false flags."""
        payload_type = self.field.type
        definition = get_object_definition(payload_type)
        if definition is None or not isinstance(payload_type, type):
            return None
        values: dict[str, object] = {}
        for field in definition.fields:
            if field.python_name == "errors":
                values["errors"] = errors
            elif isinstance(field.type, StrawberryOptional):
                values[field.python_name] = None
            elif isinstance(field.type, StrawberryList):
                values[field.python_name] = []
            elif field.type is bool:
                values[field.python_name] = False
            else:
                return None
        return payload_type(**values)


def with_payload_errors(mutation_type: type) -> type:
    """Put :class:`PayloadErrors` on every field of ``mutation_type`` (once)."""
    definition = get_object_definition(mutation_type, strict=True)
    for field in definition.fields:
        if not any(isinstance(e, PayloadErrors) for e in field.extensions):
            field.extensions.append(PayloadErrors())
    return mutation_type


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
