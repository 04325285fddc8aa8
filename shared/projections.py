"""Projections: a service's local copy of another service's entities, kept from their events.

Events carry the entity's full state and version, so applying one is an upsert guarded by the
version: an older or repeated event changes nothing, whatever order events arrive in.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert_if_newer(
    session: AsyncSession,
    table: sa.Table,
    values: dict[str, Any],
    *,
    key: str = "id",
    version_column: str = "source_version",
) -> bool:
    """Insert ``values`` or update the row with the same ``key`` if its version is older.

    Returns True when the row was written.
    """
    stmt = pg_insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={name: stmt.excluded[name] for name in values if name != key},
        where=table.c[version_column] < stmt.excluded[version_column],
    ).returning(table.c[key])
    return (await session.execute(stmt)).first() is not None
