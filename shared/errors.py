"""Domain errors and their one rendering: RFC 9457 ``application/problem+json``.

Services raise subclasses of :class:`DomainError`; nothing else in a service knows about HTTP
status codes. :func:`install_problem_handlers` renders every error an app can produce — domain
errors, request validation, malformed JSON, unknown routes, and unexpected exceptions — in the
same shape with a stable ``code``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    status, code, title = 422, "validation-failed", "The request body is not valid"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service-unavailable", "A dependency is unavailable"


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
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            500,
            "internal-error",
            "Internal error",
            "An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )

    app.add_exception_handler(DomainError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(Exception, unexpected)
