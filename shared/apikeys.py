"""API-key state as an event, and the projection every non-owning service keeps of it.

The inventory service owns API keys (it also owns the organisation's context). It emits
``aims.inventory.apikey.created`` / ``…revoked`` carrying the key's full state — its SHA-256,
never the key — and every other service applies those events to its own ``api_key`` table, so
each verifies API keys itself without calling another service. Revocation therefore reaches a
service within the event latency (milliseconds when healthy); see docs/architecture.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import api_key_table
from shared.events.consumer import EventHandler
from shared.events.envelope import CloudEvent
from shared.projections import upsert_if_newer

APIKEY_SUBJECTS = ("aims.inventory.apikey.>",)


class ApiKeyState(BaseModel):
    """Full state of an API key, as carried by ``aims.inventory.apikey.*`` events."""

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    role: str
    prefix: str
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    version: int


async def apply_api_key_event(session: AsyncSession, event: CloudEvent) -> None:
    state = ApiKeyState.model_validate(event.data)
    # Apply only if newer: order and duplicates cannot roll a revocation back.
    await upsert_if_newer(session, api_key_table, state.model_dump(), version_column="version")


def api_key_projection(service: str) -> EventHandler:
    return EventHandler(name="api-keys", subjects=APIKEY_SUBJECTS, handle=apply_api_key_event)
