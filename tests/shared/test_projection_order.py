"""Projections converge whatever order their events arrive in.

The risk and evidence services keep each system's facts and scope membership from two streams
of events handled by separate consumers (``system.*`` and ``system_scope.changed``), so one may
run ahead of the other. Hypothesis delivers a realistic sequence in shuffled orders to the real
handlers against the real databases; the final projections must equal the in-order result.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.documented.consumers import on_scope_changed, on_system_scope_changed
from services.risk.systems.consumers import apply_system_event, apply_system_scope_event
from shared.db import Database, tenant_transaction, utcnow, uuid7
from shared.events import CloudEvent
from shared.testing import TestEngines

pytestmark = pytest.mark.engines

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """One event of the scenario, with systems named by index (ids are drawn per run)."""

    kind: str  # "system" | "membership" | "scope"
    system: int
    version: int
    facts: tuple[tuple[str, Any], ...] = ()
    in_scope: bool = False


# Three systems registered and changed, two scope approvals moving them in and out: the order
# the inventory emitted them in.
SCENARIO: tuple[Step, ...] = (
    Step("system", 0, 1, (("lifecycle_stage", "idea"), ("sector", "insurance"))),
    Step("system", 1, 1, (("lifecycle_stage", "development"), ("sector", "education"))),
    Step("system", 2, 1, (("lifecycle_stage", "idea"), ("sector", None))),
    Step("membership", 0, 1, in_scope=True),
    Step("membership", 1, 1, in_scope=False),
    Step("membership", 2, 1, in_scope=True),
    Step("scope", -1, 1),
    Step("system", 0, 2, (("lifecycle_stage", "deployed"), ("sector", "insurance"))),
    Step("system", 2, 2, (("lifecycle_stage", "deployed"), ("sector", "healthcare"))),
    Step("membership", 0, 2, in_scope=False),
    Step("membership", 1, 2, in_scope=True),
    Step("scope", -1, 2),
    Step("system", 1, 2, (("lifecycle_stage", "retired"), ("sector", "education"))),
)


@dataclass
class Run:
    org: uuid.UUID
    systems: list[uuid.UUID]
    scopes: dict[int, uuid.UUID]

    @classmethod
    def fresh(cls) -> Run:
        return cls(uuid7(), [uuid7() for _ in range(3)], {1: uuid7(), 2: uuid7()})

    def event(self, step: Step) -> CloudEvent:
        base = {"id": str(uuid7()), "time": utcnow(), "orgid": str(self.org)}
        if step.kind == "system":
            system_id = self.systems[step.system]
            data = {
                "id": str(system_id),
                "org_id": str(self.org),
                "name": f"System {step.system} v{step.version}",
                **dict(step.facts),
            }
            verb = "registered" if step.version == 1 else "updated"
            return CloudEvent(
                **base,
                source="/aims/inventory",
                type=f"aims.inventory.system.{verb}",
                subject=str(system_id),
                data=data,
                dataversion=step.version,
            )
        if step.kind == "membership":
            system_id = self.systems[step.system]
            return CloudEvent(
                **base,
                source="/aims/inventory",
                type="aims.inventory.system_scope.changed",
                subject=str(system_id),
                data={
                    "system_id": str(system_id),
                    "org_id": str(self.org),
                    "in_scope": step.in_scope,
                    "scope_version_id": str(self.scopes[step.version]),
                    "scope_number": step.version,
                },
                dataversion=step.version,
            )
        return CloudEvent(
            **base,
            source="/aims/inventory",
            type="aims.inventory.scope.changed",
            subject=str(self.scopes[step.version]),
            data={"id": str(self.scopes[step.version]), "org_id": str(self.org)}
            | {"number": step.version},
            dataversion=step.version,
        )


@dataclass
class Databases:
    risk: Database
    evidence: Database


@pytest.fixture(scope="module")
async def dbs(engines: TestEngines) -> AsyncIterator[Databases]:
    risk = Database(engines.databases["risk"].app_url, pool_size=2)
    evidence = Database(engines.databases["evidence"].app_url, pool_size=2)
    try:
        yield Databases(risk, evidence)
    finally:
        await risk.dispose()
        await evidence.dispose()


RISK: dict[str, Handler] = {"system": apply_system_event, "membership": apply_system_scope_event}
EVIDENCE: dict[str, Handler] = {
    "membership": on_system_scope_changed,
    "scope": on_scope_changed,
}


async def deliver(dbs: Databases, run: Run, steps: Sequence[Step]) -> None:
    """Each event in its own transaction, as each consumer handles one message."""
    for step in steps:
        event = run.event(step)
        for db, handlers in ((dbs.risk, RISK), (dbs.evidence, EVIDENCE)):
            handler = handlers.get(step.kind)
            if handler is not None:
                async with tenant_transaction(db, run.org) as session:
                    await handler(session, event)


async def projection(dbs: Databases, run: Run) -> dict[str, Any]:
    """The projections of ``run``'s organisation, with ids replaced by their index."""
    index = {system_id: n for n, system_id in enumerate(run.systems)}
    async with tenant_transaction(dbs.risk, run.org) as session:
        risk_rows = (
            await session.execute(
                sa.text(
                    "SELECT id, name, lifecycle_stage, sector, source_version, in_scope, "
                    "scope_version FROM system"
                )
            )
        ).all()
    async with tenant_transaction(dbs.evidence, run.org) as session:
        documented = (
            await session.execute(
                sa.text("SELECT id, in_scope, scope_number FROM documented_system")
            )
        ).all()
        scope = (
            await session.execute(sa.text("SELECT number FROM documented_scope"))
        ).scalar_one_or_none()
    return {
        "risk": sorted((index[r[0]], *r[1:]) for r in risk_rows),
        "documented": sorted((index[r[0]], *r[1:]) for r in documented),
        "documented_scope": scope,
    }


_in_order: dict[str, Any] = {}


async def expected(dbs: Databases) -> dict[str, Any]:
    if not _in_order:
        run = Run.fresh()
        await deliver(dbs, run, SCENARIO)
        _in_order.update(await projection(dbs, run))
    return _in_order


async def test_the_in_order_result_is_the_inventory_state(dbs: Databases) -> None:
    """The reference itself is right: latest facts, the second scope's membership."""
    result = await expected(dbs)
    assert result["risk"] == [
        (0, "System 0 v2", "deployed", "insurance", 2, False, 2),
        (1, "System 1 v2", "retired", "education", 2, True, 2),
        (2, "System 2 v2", "deployed", "healthcare", 2, True, 1),
    ]
    assert result["documented"] == [(0, False, 2), (1, True, 2), (2, True, 1)]
    assert result["documented_scope"] == 2


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.permutations(SCENARIO))
async def test_any_arrival_order_converges_to_the_in_order_result(
    dbs: Databases, order: list[Step]
) -> None:
    reference = await expected(dbs)
    run = Run.fresh()
    await deliver(dbs, run, order)
    assert await projection(dbs, run) == reference


async def test_membership_before_the_system_is_kept(dbs: Databases) -> None:
    """The case found in trials: ``scope.changed`` handled before ``system.registered``."""
    run = Run.fresh()
    await deliver(dbs, run, [SCENARIO[3], SCENARIO[0]])
    result = await projection(dbs, run)
    assert result["risk"] == [(0, "System 0 v1", "idea", "insurance", 1, True, 1)]
