"""Client of the evidence service's assurance records: readiness, audits, corrective action.

The answers are kept as the service's JSON (``dict``): the exports copy them into the audit
package as they are and read only a few well-known fields (the table contracts of issue 8), so
a field the service adds later reaches the auditor without a gateway release.
"""

from __future__ import annotations

from typing import Any

from gateway.clients.base import UpstreamClient
from gateway.clients.schemas import UpstreamPage
from shared.errors import NotFound

# The largest page the services serve (``shared.http.Paging``).
PAGE_SIZE = 500


class Unavailable(Exception):
    """The service does not offer this resource (its route answers 404)."""


class AssuranceClient(UpstreamClient):
    service = "evidence"

    async def _json(self, path: str, params: list[tuple[str, str | int]] | None = None) -> Any:
        try:
            response = await self._send("GET", path, params=params)
        except NotFound as error:
            raise Unavailable(path) from error
        return response.json()

    async def readiness(self) -> dict[str, Any]:
        """``GET /v1/readiness``; :class:`Unavailable` when the service has no such route."""
        body = await self._json("/v1/readiness")
        return body if isinstance(body, dict) else {"value": body}

    async def remediation_plan(self) -> dict[str, Any]:
        """``GET /v1/readiness/plan``: the blockers as prioritised tasks."""
        body = await self._json("/v1/readiness/plan")
        return body if isinstance(body, dict) else {"value": body}

    async def certification_plan(self) -> dict[str, Any] | None:
        """``GET /v1/certification-plan``, or None when none is set (the route answers 404)."""
        try:
            body = await self._json("/v1/certification-plan")
        except Unavailable:
            return None
        return body if isinstance(body, dict) else {"value": body}

    async def list_all(self, path: str, *, max_items: int = 100_000) -> list[dict[str, Any]]:
        """Every item of a paginated list (``/v1/audits``, ``/v1/findings``, …)."""
        items: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: list[tuple[str, str | int]] = [("limit", PAGE_SIZE)]
            if after:
                params.append(("after", after))
            page = UpstreamPage[dict[str, Any]].model_validate(await self._json(path, params))
            items.extend(page.items)
            after = page.next_cursor
            if not after or len(items) >= max_items:
                return items
