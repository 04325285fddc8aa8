"""Domain errors and their one rendering: RFC 9457 ``application/problem+json``.

Services raise subclasses of :class:`DomainError`; nothing else in a service knows about HTTP
status codes. :func:`install_problem_handlers` renders every error an app can produce — domain
errors, request validation, malformed JSON, unknown routes, and unexpected exceptions — in the
same shape with a stable ``code``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from http import HTTPStatus
from typing import Any

import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.dberrors import redact_exception

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://aims.dev/problems/"

logger = logging.getLogger("aims.errors")


class DomainError(Exception):
    """An error with a meaning in the domain, a stable code and the HTTP status it maps to."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(DomainError):
    status, code, title = 400, "bad-request", "Bad request"


class UnknownQueryParameter(DomainError):
    """A query parameter the endpoint does not take: a misspelt filter must not silently list
    everything. The problem names the ``unknown`` ones and the ``allowed`` ones."""

    status, code, title = 400, "unknown-query-parameter", "Unknown query parameter"


class InvalidCursor(DomainError):
    status, code, title = 400, "invalid-cursor", "Invalid pagination cursor"


class Unauthenticated(DomainError):
    status, code, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **kw)


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class IdempotencyKeyReused(DomainError):
    status, code, title = 422, "idempotency-key-reused", "Idempotency-Key reused with another body"


class PreconditionFailed(DomainError):
    status, code, title = 412, "precondition-failed", "Resource changed since it was read"


class PreconditionRequired(DomainError):
    status, code, title = 428, "precondition-required", "If-Match header required"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation-failed", "The request is not valid"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service-unavailable", "A dependency is unavailable"


# --- What the database says about a request ---------------------------------------------------
#
# The database is the last line of defence: a unique index closes a race the service's own check
# could not, a NOT NULL column refuses a ``null`` the schema let through, an ``integer`` column
# refuses a number past its range. Each becomes a 4xx here, in one place, instead of a 500; and a
# database that cannot be reached becomes a 503 a client retries, not an ``internal-error``.

RETRY_AFTER_SECONDS = 5


class UniqueViolation(Conflict):
    """A concurrent request (or an earlier one the service's check missed) holds the value."""

    code, title = "unique-violation", "A record with this value exists already"


class WriteConflict(Conflict):
    """The database aborted the transaction to keep concurrent writers serial."""

    code, title = "write-conflict", "A concurrent change got in the way"


class NullNotAllowed(ValidationFailed):
    code, title = "null-not-allowed", "A field that must have a value was set to null"


class InvalidValue(ValidationFailed):
    """A value the schema admitted that the database cannot store (out of range, NUL…)."""

    code, title = "invalid-value", "A value cannot be stored"


class NestingTooDeep(BadRequest):
    """A body nested deeper than the JSON decoder (or anything after it) recurses."""

    code, title = "nesting-too-deep", "The request is nested too deeply"


class DatabaseUnavailable(ServiceUnavailable):
    code, title = "database-unavailable", "The database is unavailable"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, **kw)


# SQLSTATE classes and codes (PostgreSQL appendix A).
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "53400"})
_WRITE_CONFLICT_STATES = frozenset({"40001", "40P01"})
# Besides every "data exception" (class 22: out of range, NUL, bad encoding, bad format):
# a statement too deeply nested for the server's stack.
_INVALID_VALUE_STATES = frozenset({"54001"})
# OSError subclasses that are a local fault (a missing file), not an unreachable peer.
_LOCAL_OS_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc``, the driver error SQLAlchemy wraps and their causes, without cycles."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 12:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([getattr(current, "orig", None), current.__cause__])
    return seen


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no pooled connection in time
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
        return True  # the driver's "connection is closed" (the server went away)
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, _LOCAL_OS_ERRORS)


def database_problem(exc: BaseException) -> DomainError | None:
    """The client's share of a database or connection error, or None for a server fault.

    Unique violations answer 409 ``unique-violation``, serialisation failures and deadlocks 409
    ``write-conflict``, NOT NULL violations 422 ``null-not-allowed`` naming the column, values the
    column cannot hold 422 ``invalid-value``, and an unreachable database (refused or dropped
    connections, shutdown, pool exhausted) 503 ``database-unavailable`` with ``Retry-After``.
    """
    chain = _chain(exc)
    for current in chain:
        state = getattr(current, "sqlstate", None)
        if not isinstance(state, str):
            continue
        if state == "23505":
            return UniqueViolation(
                "The change conflicts with a record that exists already (a value that must be "
                "unique is taken, possibly by a concurrent request); read it again."
            )
        if state in _WRITE_CONFLICT_STATES:
            return WriteConflict("A concurrent change got in the way; nothing was saved. Retry.")
        if state == "23502":
            column = next(
                (c for e in chain if isinstance(c := getattr(e, "column_name", None), str)), None
            )
            shown = f"`{column}`" if column else "A field"
            return NullNotAllowed(
                f"{shown} cannot be null; send a value or leave the field out.",
                errors=[
                    {
                        "location": ["body", column or ""],
                        "message": "must not be null",
                        "type": "null_not_allowed",
                    }
                ],
            )
        if state.startswith("22") or state in _INVALID_VALUE_STATES:
            return InvalidValue("A value in the request cannot be stored (out of range or NUL).")
        if state.startswith("08") or state in _UNAVAILABLE_STATES:
            return DatabaseUnavailable("The database is unavailable; retry shortly.")
    for current in chain:
        # asyncpg refuses a parameter its column type cannot hold before sending it (its
        # client-side DataError is both an InterfaceError and a ValueError).
        if isinstance(current, asyncpg.InterfaceError) and isinstance(current, ValueError):
            return InvalidValue("A value in the request cannot be stored (out of range).")
        if _unavailable(current):
            return DatabaseUnavailable("The database is unavailable; retry shortly.")
    return None


# What :func:`install_problem_handlers` asks :func:`database_problem` about.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    asyncio.TimeoutError,
)


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error = DomainError(detail, errors=errors, headers=headers)
    error.status, error.code, error.title = status, code, title
    return render(error, instance)


def render(error: DomainError, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        error.to_problem(instance),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append({"location": loc, "message": err.get("msg", ""), "type": err.get("type", "")})
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem+json; never leak a stack trace."""

    async def domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return render(exc, request.url.path)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return render(BadRequest("The request body is not valid JSON.", errors=errors))
        return render(
            ValidationFailed("The request does not match the schema; see `errors`.", errors=errors),
            request.url.path,
        )

    async def http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.__cause__, DomainError):
            # FastAPI wraps errors raised while reading the body (e.g. the body limit tripping
            # mid-stream) in a 400; the domain error underneath is the real answer.
            return render(exc.__cause__, request.url.path)
        status = exc.status_code
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code = phrase.lower().replace(" ", "-")
        return problem_response(
            status,
            code,
            phrase,
            str(exc.detail) if exc.detail else phrase,
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if (problem := database_problem(exc)) is not None:
            logger.warning(
                "database error answered %s %s",
                problem.status,
                problem.code,
                extra={"path": request.url.path, "error": type(exc).__name__},
            )
            return render(problem, request.url.path)
        redact_exception(exc)  # no stored value (a secret) in the logged traceback
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            500,
            "internal-error",
            "Internal error",
            "An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )

    async def too_deep(request: Request, exc: Exception) -> JSONResponse:
        # Python's JSON decoder (and every recursive walk after it) gives up about 1,000 levels
        # down; such a body is the client's doing, not a fault of the service.
        logger.warning("request nested too deeply", extra={"path": request.url.path})
        return render(
            NestingTooDeep("The request is nested too deeply (at most a few hundred levels)."),
            request.url.path,
        )

    app.add_exception_handler(DomainError, domain)
    app.add_exception_handler(RecursionError, too_deep)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
    for kind in DATABASE_ERRORS:
        # Handled inside the app (not by the outermost 500 handler, which re-raises).
        app.add_exception_handler(kind, unexpected)
    app.add_exception_handler(Exception, unexpected)
