"""What every upstream client shares: forwarded credentials and trace, problem+json mapping,
and the resilience of every call (deadline, one retry, circuit breaker).

The gateway adds no authority of its own: each call carries the caller's ``Authorization``, so
every service verifies the caller and applies its own roles and row-level security. The trace
context and request id travel along, so one trace links a GraphQL request to the service calls
it caused.

An upstream that is down or slow fails only the fields it serves: every failure to get an
answer is an :class:`UpstreamUnavailable` naming the service, which GraphQL renders as a null
field with an error (``extensions.code = upstream-unavailable``, ``extensions.service``) while
the rest of the page is served.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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

# Answers that mean "the service cannot answer now" (they count against its circuit breaker).
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
# Failures after which an idempotent GET is sent once more: the connection broke, typically a
# pooled keep-alive connection the service closed. A timeout is not retried (the service is
# slow; asking again only doubles its load and the caller's wait).
_RETRIED_ERRORS = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


# Query parameters made only of these need no percent-encoding (ids, numbers, enum values).
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")


def _plain_query(params: Params) -> str | None:
    """``k=v&…`` of ``params`` when nothing in them needs encoding, else None (httpx encodes).

    httpx checks and percent-encodes ``params`` character by character: for a batch of 50
    ids that was most of building the request. The query string is the same either way.
    """
    parts = []
    for key, value in params:
        text = str(value)
        if not (_PLAIN.fullmatch(key) and _PLAIN.fullmatch(text)):
            return None
        parts.append(f"{key}={text}")
    return "&".join(parts)


class UpstreamUnavailable(ServiceUnavailable):
    """A service did not answer: unreachable, too slow for the request's deadline, failing
    with 5xx, or its circuit breaker is open. ``service`` names it (``inventory``, …)."""

    code = "upstream-unavailable"

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(detail, service=service)
        self.service = service


def upstream_error(service: str, response: httpx.Response) -> DomainError:
    """The domain error an upstream's problem+json answer stands for.

    4xx answers keep their meaning (status, stable ``code``, detail, field errors) so that a
    resolver can turn them into typed payload errors; 5xx and 429 mean the service cannot
    answer now.
    """
    status = response.status_code
    if status >= 500 or status == 429:
        return UpstreamUnavailable(
            service, f"The {service} service could not answer (HTTP {status})."
        )
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


@dataclass
class CircuitBreaker:
    """Stops calling a service that is down: fails fast for ``cooldown`` seconds after
    ``threshold`` consecutive failures, then lets one call through (half-open); its success
    closes the breaker again, its failure opens it for another cool-down.

    Shared by every request of the gateway process (one per upstream service); asyncio runs
    it on one thread, so plain attributes need no lock.
    """

    service: str
    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.probing or time.monotonic() - self.opened_at < self.cooldown:
            return "open"
        return "half-open"

    def before_call(self) -> bool:
        """Raise instead of calling while open; in half-open, admit one probe at a time
        (True: this call is that probe)."""
        state = self.state
        if state == "open":
            raise UpstreamUnavailable(
                self.service,
                f"The {self.service} service is unavailable (circuit open after "
                f"{self.threshold} consecutive failures).",
            )
        self.probing = state == "half-open"
        return self.probing

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self) -> None:
        self.failures += 1
        self.probing = False
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = time.monotonic()

    def released(self) -> None:
        """The call ended with neither verdict (e.g. the caller's deadline cancelled it)."""
        self.probing = False


@dataclass
class CircuitBreakers:
    """The breakers of one gateway process, one per service, created on first use."""

    threshold: int = 5
    cooldown: float = 10.0
    by_service: dict[str, CircuitBreaker] = field(default_factory=dict)

    def __call__(self, service: str) -> CircuitBreaker:
        breaker = self.by_service.get(service)
        if breaker is None:
            breaker = CircuitBreaker(service, self.threshold, self.cooldown)
            self.by_service[service] = breaker
        return breaker


@dataclass(frozen=True)
class Deadline:
    """The one deadline of a GraphQL request, shared by every upstream call it makes."""

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()


@dataclass(frozen=True)
class Resilience:
    """What one request's clients share: its deadline and the process's circuit breakers."""

    deadline: Deadline = Deadline()
    breakers: CircuitBreakers | None = None


class UpstreamClient:
    """A typed client of one service, bound to one caller for the length of one request.

    Built only by :meth:`gateway.clients.UpstreamClients.for_caller`, from the request's shared
    connection pool and :func:`forwarded_headers`.
    """

    service: ClassVar[str]

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        headers: Mapping[str, str],
        resilience: Resilience | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._resilience = resilience or Resilience()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One upstream call, whatever its answer; every failure to get one raises
        :class:`UpstreamUnavailable`.

        Within the request's deadline, through the service's circuit breaker; an idempotent
        GET whose connection broke is sent once more. With ``stream`` the body is not read
        (the caller closes the response).
        """
        url = f"{self._base_url}{path}"
        query = _plain_query(params) if params else None
        if query is not None:
            url, params = f"{url}?{query}", None
        request = self._http.build_request(
            method,
            url,
            params=tuple(params) if params else None,
            json=json,
            headers={**self._headers, **(headers or {})},
        )
        breaker = self._resilience.breakers(self.service) if self._resilience.breakers else None
        probe = breaker.before_call() if breaker is not None else False
        attempts = 2 if method == "GET" else 1
        try:
            for attempt in range(attempts):
                remaining = self._resilience.deadline.remaining()
                if remaining is not None and remaining <= 0:
                    raise UpstreamUnavailable(
                        self.service,
                        f"The {self.service} service was not asked: the request's deadline "
                        "had passed.",
                    )
                try:
                    async with asyncio.timeout(remaining):
                        response = await self._http.send(request, stream=stream)
                except TimeoutError as exc:
                    if breaker is not None:
                        breaker.failed()
                    raise UpstreamUnavailable(
                        self.service,
                        f"The {self.service} service did not answer within the request's deadline.",
                    ) from exc
                except _RETRIED_ERRORS as exc:
                    if attempt + 1 < attempts:
                        continue
                    if breaker is not None:
                        breaker.failed()
                    raise UpstreamUnavailable(
                        self.service, f"The {self.service} service is not reachable."
                    ) from exc
                except httpx.TransportError as exc:  # timeouts of the pool, connect, read…
                    if breaker is not None:
                        breaker.failed()
                    raise UpstreamUnavailable(
                        self.service, f"The {self.service} service is not reachable."
                    ) from exc
                if breaker is not None:
                    if response.status_code in _UNAVAILABLE_STATUSES:
                        breaker.failed()
                    else:
                        breaker.succeeded()
                return response
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            if probe and breaker is not None:
                breaker.released()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = await self._request(method, path, params=params, json=json, headers=headers)
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
