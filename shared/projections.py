"""Projections: a service's local copy of another service's entities, kept from their events.

Events carry the entity's full state and version, so applying one is an upsert guarded by the
version: an older or repeated event changes nothing, whatever order events arrive in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import utcnow
from shared.events.consumer import EventHandler
from shared.events.envelope import CloudEvent


async def upsert_if_newer(
    session: AsyncSession,
    target: sa.Table | type[DeclarativeBase],
    values: dict[str, Any],
    *,
    key: str = "id",
    version_column: str = "source_version",
) -> bool:
    """Insert ``values`` or update the row with the same ``key`` if its version is older.

    ``target`` is a table or a mapped class. Returns True when the row was written.
    """
    table = target if isinstance(target, sa.Table) else cast(sa.Table, target.__table__)
    insert = pg_insert(table).values(**values)
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={name: insert.excluded[name] for name in values if name != key},
        where=table.c[version_column] < insert.excluded[version_column],
    ).returning(table.c[key])
    return (await session.execute(upsert)).first() is not None


# --- The projection of inventory's AI systems, kept by every service that needs one ---------


class InventorySystemState(BaseModel):
    """The part of ``aims.inventory.system.*`` event data a projection reads."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    lifecycle_stage: str
    business_function: str | None = None
    owner: str | None = None


class SystemProjectionColumns:
    """Columns of a service's ``system`` projection (mix into the service's own model)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(sa.Text)
    lifecycle_stage: Mapped[str] = mapped_column(sa.Text)
    business_function: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.Text)
    source_version: Mapped[int]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class SystemProjectionFields(BaseModel):
    """The projected fields as a service shows them (extend with the service's own)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    lifecycle_stage: str
    business_function: str | None
    owner: str | None
    source_version: int = Field(description="Inventory version this view reflects")
    synced_at: datetime


def system_projection_handler(model: type[DeclarativeBase]) -> EventHandler:
    """A consumer that keeps ``model`` (a :class:`SystemProjectionColumns` table) current."""

    async def apply(session: AsyncSession, event: CloudEvent) -> None:
        system = InventorySystemState.model_validate(event.data)
        await upsert_if_newer(
            session,
            model,
            {
                **system.model_dump(),
                "source_version": event.dataversion,
                "synced_at": utcnow(),
            },
        )

    return EventHandler(name="systems", subjects=["aims.inventory.system.>"], handle=apply)
