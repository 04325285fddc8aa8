"""Bulk queries of the imports domain: set-based inserts and a streamed read of the register."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.components.models import Vendor
from services.inventory.systems.models import AISystem, AISystemChange
from shared.db import ORG_SETTING, outbox_table
from shared.text import name_key

SYSTEM_TABLE = cast(sa.Table, AISystem.__table__)
CHANGE_TABLE = cast(sa.Table, AISystemChange.__table__)


def _json_insert(table: sa.Table, columns: Sequence[str]) -> sa.TextClause:
    """One ``INSERT … SELECT`` of many rows sent as a single JSON array: PostgreSQL turns each
    object into a row of the table's own type (``jsonb_populate_recordset``), so there is one
    parameter and one round trip per batch, and no per-value binding in Python. Columns left
    out of ``columns`` get their server defaults."""
    known = {c.name for c in table.columns if c.computed is None and c.identity is None}
    unknown = set(columns) - known
    if unknown:
        raise ValueError(f"{table.name} has no insertable columns {sorted(unknown)}")
    names = ", ".join(f'"{name}"' for name in columns)
    return sa.text(
        f'INSERT INTO "{table.name}" ({names}) SELECT {names} '
        f'FROM jsonb_populate_recordset(NULL::"{table.name}", CAST(:rows AS jsonb))'
    )


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _insert(self, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` (dicts with the same keys; values JSON or ``str()``-able)."""
        if rows:
            payload = json.dumps(list(rows), default=str, ensure_ascii=False)
            statement = _json_insert(table, list(rows[0]))
            await self.session.execute(statement, {"rows": payload})

    async def insert_systems(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(SYSTEM_TABLE, rows)

    async def insert_changes(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(CHANGE_TABLE, rows)

    async def insert_outbox(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(outbox_table, rows)

    async def lock_register(self) -> None:
        """Serialise real imports of the caller's organisation until the transaction ends: an
        import plans its creates from the names it reads, so a second one (the same file sent
        twice at once) must read after the first has committed, or it creates every system
        again. Keyed by the transaction's organisation setting (one lock per organisation)."""
        await self.session.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(hashtextextended("
                "'aims.inventory.import:' || current_setting(:setting), 0))"
            ),
            {"setting": ORG_SETTING},
        )

    async def vendors_named(self, names: Collection[str]) -> dict[str, uuid.UUID]:
        """``name_key`` -> id of the caller's vendors among ``names`` (row-level security
        hides every other organisation's)."""
        keys = sorted({name_key(n) for n in names})
        if not keys:
            return {}
        rows = await self.session.execute(
            sa.select(Vendor.name_key, Vendor.id).where(Vendor.name_key.in_(keys))
        )
        return {row.name_key: row.id for row in rows}

    async def name_index(self) -> list[tuple[uuid.UUID, str]]:
        """``(id, name)`` of every system of the caller's organisation: what rows without an
        id are matched against (by natural key, in Python: ``casefold`` is not SQL's ``lower``)."""
        result = await self.session.execute(sa.select(AISystem.id, AISystem.name))
        return [(row.id, row.name) for row in result]

    async def systems(
        self, ids: Collection[uuid.UUID], *, for_update: bool = False
    ) -> list[AISystem]:
        """The organisation's systems among ``ids`` (others are simply absent), locked when the
        import is about to write them."""
        found: list[AISystem] = []
        wanted = list(ids)
        for start in range(0, len(wanted), 5000):
            query = sa.select(AISystem).where(AISystem.id.in_(wanted[start : start + 5000]))
            if for_update:
                query = query.with_for_update()
            found.extend((await self.session.execute(query)).scalars())
        return found

    async def update_systems(self, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> int:
        """Set ``columns`` of many systems from JSON ``rows`` (each with ``id`` and its new
        ``version``) in one statement; a row whose system is no longer at ``version - 1`` is not
        written. Returns how many were."""
        if not rows:
            return 0
        assignments = ", ".join(f'"{name}" = s."{name}"' for name in columns)
        statement = sa.text(
            f'UPDATE "{SYSTEM_TABLE.name}" AS t SET {assignments} '
            f'FROM jsonb_populate_recordset(NULL::"{SYSTEM_TABLE.name}", CAST(:rows AS jsonb)) '
            "AS s WHERE t.id = s.id AND t.version = s.version - 1"
        )
        payload = json.dumps(list(rows), default=str, ensure_ascii=False)
        result = await self.session.execute(statement, {"rows": payload})
        return int(getattr(result, "rowcount", 0) or 0)

    async def stream_systems(self, chunk: int = 500) -> AsyncIterator[AISystem]:
        query = sa.select(AISystem).order_by(AISystem.id).execution_options(yield_per=chunk)
        result = await self.session.stream_scalars(query)
        async for system in result:
            yield system
