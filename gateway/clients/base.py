"""What every upstream client shares: forwarded credentials and trace, problem+json mapping.

The gateway adds no authority of its own: each call carries the caller's ``Authorization``, so
every service verifies the caller and applies its own roles and row-level security. The trace
context and request id travel along, so one trace links a GraphQL request to the service calls
it caused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel

from shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from shared.observability import request_id_var, traceparent_var

M = TypeVar("M", bound=BaseModel)
Params = Sequence[tuple[str, str | int]]

_ERROR_BY_STATUS: dict[int, type[DomainError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    428: PreconditionRequired,
}


def upstream_error(service: str, response: httpx.Response) -> DomainError:
    """The domain error an upstream's problem+json answer stands for.

    4xx answers keep their meaning (status, stable ``code``, detail, field errors) so that a
    resolver can turn them into typed payload errors; 5xx and 429 mean the service cannot
    answer now.
    """
    status = response.status_code
    if status >= 500 or status == 429:
        return ServiceUnavailable(f"The {service} service could not answer (HTTP {status}).")
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    problem: Mapping[str, Any] = body if isinstance(body, dict) else {}
    detail = problem.get("detail")
    errors = problem.get("errors")
    error_class = _ERROR_BY_STATUS.get(status, BadRequest)
    error = error_class(
        str(detail) if detail else None,
        errors=errors if isinstance(errors, list) else None,
    )
    error.status = status
    if isinstance(code := problem.get("code"), str) and code:
        error.code = code
    return error


def forwarded_headers(authorization: str) -> dict[str, str]:
    """What every upstream call of one request carries: the caller's credentials and trace.

    Captured once, inside the request's context: DataLoader batches run in tasks of their own,
    and the forwarded context must still be this request's.
    """
    headers = {"authorization": authorization}
    if traceparent := traceparent_var.get():
        headers["traceparent"] = traceparent
    if request_id := request_id_var.get():
        headers["x-request-id"] = request_id
    return headers


class UpstreamClient:
    """A typed client of one service, bound to one caller for the length of one request.

    Built only by :meth:`gateway.clients.UpstreamClients.for_caller`, from the request's shared
    connection pool and :func:`forwarded_headers`.
    """

    service: ClassVar[str]

    def __init__(self, http: httpx.AsyncClient, base_url: str, headers: Mapping[str, str]) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method,
                f"{self._base_url}{path}",
                params=tuple(params) if params else None,
                json=json,
                headers={**self._headers, **(headers or {})},
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"The {self.service} service is not reachable.") from exc
        if response.is_success:
            return response
        raise upstream_error(self.service, response)

    async def _get(self, path: str, model: type[M], *, params: Params | None = None) -> M:
        response = await self._send("GET", path, params=params)
        return model.model_validate_json(response.content)

    @staticmethod
    def _batch_params(ids: Sequence[object]) -> list[tuple[str, str | int]]:
        """``id=…&id=…&limit=n``: one page holds every id asked for."""
        return [*(("id", str(i)) for i in ids), ("limit", max(len(ids), 1))]
