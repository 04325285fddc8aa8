"""Projections: a service's local copy of another service's entities, kept from their events.

Events carry the entity's full state and version, so applying one is an upsert guarded by the
version: an older or repeated event changes nothing, whatever order events arrive in.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


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
