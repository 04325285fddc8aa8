"""The debounced readiness recompute cannot fire under the transaction that asked for it.

A consumer applies a batch of events in one transaction and asks for a recompute per event. If
the timer it found armed could fire before that transaction commits, the recompute would read
the organisation without those events and nothing would ask again: readiness would stay
behind until the next event or the daily recompute. ``request_recompute`` therefore holds the
timer row until the transaction ends (and, holding it, asks the database once per
organisation and transaction).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from services.evidence.readiness import service
from services.evidence.readiness.service import RECOMPUTE_ENTITY, RECOMPUTE_TIMER
from shared.db import tenant_transaction, utcnow
from shared.scheduler import set_timer, timer_table
from tests.conftest import Stack

pytestmark = pytest.mark.engines


def _timer(org: uuid.UUID) -> sa.Select[Any]:
    return sa.select(timer_table).where(
        timer_table.c.org_id == org,
        timer_table.c.kind == RECOMPUTE_TIMER,
        timer_table.c.entity_id == RECOMPUTE_ENTITY,
    )


@pytest.mark.parametrize("armed", [True, False], ids=["armed-sooner", "not-armed"])
async def test_the_timer_is_held_until_the_asking_transaction_ends(
    stack: Stack, org: uuid.UUID, armed: bool
) -> None:
    db = stack.apps["evidence"].state.ctx.db
    if armed:  # due within the debounce: the request leaves it as it is and only reads it
        async with tenant_transaction(db, org) as session:
            await set_timer(
                session,
                org_id=org,
                kind=RECOMPUTE_TIMER,
                entity_id=RECOMPUTE_ENTITY,
                due_at=utcnow() + timedelta(seconds=1.5),
            )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async with tenant_transaction(db, org) as session:
        await service.request_recompute(session, org)
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            for _ in range(3):  # further events of the same organisation in the batch
                await service.request_recompute(session, org)
        finally:
            sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert statements == []
        # What the scheduler's claim meets (it skips locked rows): the row held, or, armed by
        # this transaction, a row no one else sees yet.
        async with tenant_transaction(db, org) as other:
            if armed:
                with pytest.raises(DBAPIError, match="could not obtain lock"):
                    await other.execute(_timer(org).with_for_update(nowait=True))
            else:
                assert (await other.execute(_timer(org))).first() is None
    async with tenant_transaction(db, org) as other:
        row = (await other.execute(_timer(org).with_for_update(nowait=True))).first()
        assert row is not None and row.fired_at is None
