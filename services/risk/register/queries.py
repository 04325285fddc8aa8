"""Read-only questions other risk domains ask of the register (a stable contract).

Both run inside the caller's tenant-scoped session, so row-level security limits them to one
organisation.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.register.models import Risk


async def controls_relied_on(session: AsyncSession) -> dict[str, list[uuid.UUID]]:
    """Annex A control id → ids of the non-closed risks whose treatment uses it."""
    control = sa.func.jsonb_array_elements_text(Risk.control_ids).table_valued("value")
    rows = await session.execute(
        sa.select(control.c.value, Risk.id)
        .select_from(Risk)
        .join(control, sa.true())
        .where(Risk.status != "closed")
        .order_by(control.c.value, Risk.id)
    )
    out: dict[str, list[uuid.UUID]] = {}
    for control_id, risk_id in rows:
        out.setdefault(str(control_id), []).append(risk_id)
    return out


async def systems_with_fundamental_rights_risks(session: AsyncSession) -> set[uuid.UUID]:
    """Systems with at least one non-closed risk flagged as touching fundamental rights."""
    rows = await session.execute(
        sa.select(Risk.system_id)
        .where(
            Risk.fundamental_rights.is_(True),
            Risk.status != "closed",
            Risk.system_id.is_not(None),
        )
        .distinct()
    )
    return {r for (r,) in rows if r is not None}
