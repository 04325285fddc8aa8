"""Client of the evidence service's evidence register: items, their versions, links and files."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import httpx
from pydantic import Field

from gateway.clients.base import Params, UpstreamClient, upstream_error
from gateway.clients.schemas import UpstreamModel, UpstreamPage

# ``GET /v1/evidence-by-target`` answers at most this many items per target.
MAX_ITEMS_PER_TARGET = 100


class UpstreamEvidenceLink(UpstreamModel):
    """``LinkRead``: what an item serves."""

    id: uuid.UUID
    target_type: str
    target_id: str
    created_by: str
    created_at: datetime


class UpstreamEvidence(UpstreamModel):
    """``EvidenceRead`` of the evidence service."""

    id: uuid.UUID
    title: str
    kind: str
    description: str | None = None
    owner: str | None = None
    status: str
    effective_from: date | None = None
    effective_to: date | None = None
    review_by: date | None = None
    retention_until: date | None = None
    legal_hold: bool = False
    legal_hold_reason: str | None = None
    legal_hold_by: str | None = None
    legal_hold_at: datetime | None = None
    current_version: int | None = None
    latest_version: int
    superseded_by: uuid.UUID | None = None
    links: list[UpstreamEvidenceLink] = Field(default_factory=list)
    link_count: int = 0
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class UpstreamEvidenceFile(UpstreamModel):
    """``EvidenceFileRead``: a file's metadata (its bytes stay behind REST)."""

    id: uuid.UUID
    item_id: uuid.UUID
    version_id: uuid.UUID
    system_id: uuid.UUID | None = None
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_by: str
    created_at: datetime


class UpstreamEvidenceVersion(UpstreamModel):
    """``VersionRead``: one version of an item, with its files."""

    id: uuid.UUID
    item_id: uuid.UUID
    number: int
    status: str
    url: str | None = None
    note: str | None = None
    created_by: str
    created_at: datetime
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    files: list[UpstreamEvidenceFile] = Field(default_factory=list)


class UpstreamTargetEvidence(UpstreamModel):
    """``TargetEvidence``: one target's first items and how many there are."""

    target_type: str
    target_id: str
    total_count: int
    items: list[UpstreamEvidence]


class UpstreamTargetEvidenceList(UpstreamModel):
    items: list[UpstreamTargetEvidence]


def _if_match(expected_version: int | None) -> dict[str, str] | None:
    return {"if-match": f'"{expected_version}"'} if expected_version is not None else None


class EvidenceItemsClient(UpstreamClient):
    service = "evidence"

    async def list_evidence(
        self, *, limit: int, after: str | None = None, filters: Params = ()
    ) -> UpstreamPage[UpstreamEvidence]:
        params: list[tuple[str, str | int]] = [("limit", limit), *filters]
        if after:
            params.append(("after", after))
        return await self._get("/v1/evidence", UpstreamPage[UpstreamEvidence], params=params)

    async def evidence_by_ids(self, ids: Sequence[uuid.UUID]) -> list[UpstreamEvidence]:
        """Items by id (deleted ones and other organisations' are absent)."""
        page = await self._get(
            "/v1/evidence", UpstreamPage[UpstreamEvidence], params=self._batch_params(ids)
        )
        return page.items

    async def evidence_by_target(
        self, target_type: str, target_ids: Sequence[str], *, first: int
    ) -> list[UpstreamTargetEvidence]:
        """Each target's first ``first`` items and its total, in the order asked."""
        params: list[tuple[str, str | int]] = [
            ("target_type", target_type),
            *(("target_id", t) for t in target_ids),
            ("first", first),
        ]
        found = await self._get("/v1/evidence-by-target", UpstreamTargetEvidenceList, params=params)
        return found.items

    async def get(self, item_id: uuid.UUID) -> UpstreamEvidence:
        return await self._get(f"/v1/evidence/{item_id}", UpstreamEvidence)

    async def create(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> UpstreamEvidence:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        response = await self._send("POST", "/v1/evidence", json=body, headers=headers)
        return UpstreamEvidence.model_validate_json(response.content)

    async def update(
        self, item_id: uuid.UUID, body: dict[str, Any], *, expected_version: int
    ) -> UpstreamEvidence:
        response = await self._send(
            "PATCH", f"/v1/evidence/{item_id}", json=body, headers=_if_match(expected_version)
        )
        return UpstreamEvidence.model_validate_json(response.content)

    async def delete(self, item_id: uuid.UUID, *, expected_version: int) -> None:
        await self._send("DELETE", f"/v1/evidence/{item_id}", headers=_if_match(expected_version))

    async def set_legal_hold(
        self, item_id: uuid.UUID, reason: str, *, expected_version: int | None
    ) -> UpstreamEvidence:
        response = await self._send(
            "PUT",
            f"/v1/evidence/{item_id}/legal-hold",
            json={"reason": reason},
            headers=_if_match(expected_version),
        )
        return UpstreamEvidence.model_validate_json(response.content)

    async def release_legal_hold(
        self, item_id: uuid.UUID, *, expected_version: int | None
    ) -> UpstreamEvidence:
        response = await self._send(
            "DELETE", f"/v1/evidence/{item_id}/legal-hold", headers=_if_match(expected_version)
        )
        return UpstreamEvidence.model_validate_json(response.content)

    async def add_link(
        self, item_id: uuid.UUID, target_type: str, target_id: str
    ) -> UpstreamEvidenceLink:
        response = await self._send(
            "POST",
            f"/v1/evidence/{item_id}/links",
            json={"target_type": target_type, "target_id": target_id},
        )
        return UpstreamEvidenceLink.model_validate_json(response.content)

    async def remove_link(self, item_id: uuid.UUID, link_id: uuid.UUID) -> None:
        await self._send("DELETE", f"/v1/evidence/{item_id}/links/{link_id}")

    async def submit(self, item_id: uuid.UUID, *, expected_version: int | None) -> UpstreamEvidence:
        response = await self._send(
            "POST", f"/v1/evidence/{item_id}/submit", headers=_if_match(expected_version)
        )
        return UpstreamEvidence.model_validate_json(response.content)

    async def approve(
        self, item_id: uuid.UUID, *, expected_version: int | None
    ) -> UpstreamEvidence:
        response = await self._send(
            "POST", f"/v1/evidence/{item_id}/approve", headers=_if_match(expected_version)
        )
        return UpstreamEvidence.model_validate_json(response.content)

    async def versions_of_items(
        self, item_ids: Sequence[uuid.UUID], *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamEvidenceVersion]:
        """The versions of several items, oldest first (``GET /v1/evidence-versions``)."""
        params: list[tuple[str, str | int]] = [("evidence_id", str(i)) for i in item_ids]
        params.append(("limit", limit))
        if after:
            params.append(("after", after))
        return await self._get(
            "/v1/evidence-versions", UpstreamPage[UpstreamEvidenceVersion], params=params
        )

    async def versions(
        self, item_id: uuid.UUID, *, limit: int, after: str | None = None
    ) -> UpstreamPage[UpstreamEvidenceVersion]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if after:
            params.append(("after", after))
        return await self._get(
            f"/v1/evidence/{item_id}/versions",
            UpstreamPage[UpstreamEvidenceVersion],
            params=params,
        )

    async def version(self, item_id: uuid.UUID, number: int) -> UpstreamEvidenceVersion:
        return await self._get(f"/v1/evidence/{item_id}/versions/{number}", UpstreamEvidenceVersion)

    async def create_version(
        self, item_id: uuid.UUID, body: dict[str, Any]
    ) -> UpstreamEvidenceVersion:
        response = await self._send("POST", f"/v1/evidence/{item_id}/versions", json=body)
        return UpstreamEvidenceVersion.model_validate_json(response.content)

    async def file(self, file_id: uuid.UUID) -> UpstreamEvidenceFile:
        return await self._get(f"/v1/files/{file_id}", UpstreamEvidenceFile)

    @asynccontextmanager
    async def file_content(self, file_id: uuid.UUID) -> AsyncIterator[httpx.Response]:
        """The file's bytes as an open streamed response (``aiter_bytes``), never buffered.

        The evidence service checks the blob against its SHA-256 before it sends the first
        byte, so an error (corrupt or missing blob: 409) arrives before any content.
        """
        response = await self._request("GET", f"/v1/files/{file_id}/content", stream=True)
        try:
            if not response.is_success:
                await response.aread()
                raise upstream_error(self.service, response)
            yield response
        finally:
            await response.aclose()
