"""Every query of the AI system register. Row-level security scopes each one to the caller's
organisation; the explicit ``org_id`` filters are there for the query planner, not for safety."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.inventory.components.models import Vendor
from services.inventory.systems.models import AISystem, AISystemChange, CustomField
from services.inventory.systems.schemas import AISystemSort, CompletenessItem, LifecycleStage


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class SystemFilter:
    """What ``GET /v1/ai-systems`` narrows the register to; empty fields do not filter."""

    org_id: uuid.UUID | None = None
    name_contains: str | None = None
    ids: Sequence[uuid.UUID] = ()
    query: str | None = None
    lifecycle_stages: Sequence[str] = ()
    roles: Sequence[str] = ()
    owner: str | None = None
    sectors: Sequence[str] = ()
    in_scope: bool | None = None
    tiers: Sequence[str] = ()
    review_overdue: bool | None = None
    vendor_ids: Sequence[uuid.UUID] = ()
    business_functions: Sequence[str] = ()  # compared case-insensitively (ASCII, in SQL)
    # The stored spellings to match exactly, when the service has resolved
    # ``business_functions`` by the Unicode fold (``service.list_systems``); empty matches none.
    business_function_values: Sequence[str] | None = None
    # custom field key -> any of these values (in stored form: text, number, ISO date)
    custom: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class SortKey:
    """A sort order: its column, direction, and whether the column can be null (nulls last)."""

    column: InstrumentedAttribute[Any]
    descending: bool
    nullable: bool


SORT_KEYS: dict[AISystemSort, SortKey] = {
    AISystemSort.NAME: SortKey(AISystem.name, False, False),
    AISystemSort.NAME_DESC: SortKey(AISystem.name, True, False),
    AISystemSort.CREATED_AT: SortKey(AISystem.created_at, False, False),
    AISystemSort.CREATED_AT_DESC: SortKey(AISystem.created_at, True, False),
    AISystemSort.UPDATED_AT: SortKey(AISystem.updated_at, False, False),
    AISystemSort.UPDATED_AT_DESC: SortKey(AISystem.updated_at, True, False),
    AISystemSort.NEXT_REVIEW_AT: SortKey(AISystem.next_review_at, False, True),
    AISystemSort.NEXT_REVIEW_AT_DESC: SortKey(AISystem.next_review_at, True, True),
}


def _after(key: SortKey, value: Any, after_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """Rows after ``(value, after_id)`` in the order of ``key`` (nulls last, id breaks ties)."""
    col, id_col = key.column, AISystem.id
    past_id = id_col < after_id if key.descending else id_col > after_id
    if value is None:
        return sa.and_(col.is_(None), past_id)
    beyond = col < value if key.descending else col > value
    conditions = [beyond, sa.and_(col == value, past_id)]
    if key.nullable:
        conditions.append(col.is_(None))
    return sa.or_(*conditions)


def _order(key: SortKey) -> list[sa.ColumnElement[Any]]:
    if key.descending:
        first = key.column.desc().nulls_last() if key.nullable else key.column.desc()
        return [first, AISystem.id.desc()]
    first = key.column.asc().nulls_last() if key.nullable else key.column.asc()
    return [first, AISystem.id.asc()]


def _overdue(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(AISystem.next_review_at.is_not(None), AISystem.next_review_at < today)


def _blank(column: InstrumentedAttribute[Any]) -> sa.ColumnElement[bool]:
    return sa.or_(column.is_(None), sa.func.btrim(column) == "")


MISSING: dict[CompletenessItem, sa.ColumnElement[bool]] = {
    CompletenessItem.OWNER: _blank(AISystem.owner),
    CompletenessItem.NEXT_REVIEW_AT: AISystem.next_review_at.is_(None),
    CompletenessItem.INTENDED_PURPOSE: _blank(AISystem.intended_purpose),
    CompletenessItem.DATA_INPUTS: sa.func.jsonb_array_length(AISystem.data_inputs) == 0,
    CompletenessItem.SECTOR: AISystem.sector.is_(None),
    CompletenessItem.AI_ROLES: sa.func.cardinality(AISystem.ai_roles) == 0,
}


_SYSTEM = AISystem.__table__
# Every column but the full-text document (deferred in the ORM too), selected by primary key.
_READ_ONE_SQL = "SELECT {} FROM {} WHERE id = $1".format(
    ", ".join(f'"{c.name}"' for c in _SYSTEM.c if c.key != "search"), AISystem.__tablename__
)


async def read_system_row(driver: Any, system_id: uuid.UUID) -> Mapping[str, Any] | None:
    """One system's columns as a row mapping, read on a driver (asyncpg) connection that is in
    a transaction scoped to the caller's organisation (``shared.db.tenant_connection``)."""
    row = await driver.fetchrow(_READ_ONE_SQL, system_id)
    return None if row is None else dict(row.items())


class AISystemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, system_id: uuid.UUID, *, for_update: bool = False) -> AISystem | None:
        query = sa.select(AISystem).where(AISystem.id == system_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def read_row(self, system_id: uuid.UUID) -> Mapping[str, Any] | None:
        """One system's columns as a row mapping, for reads that only answer the row.

        Sent by the driver on the session's connection, in its transaction (so under the
        same row-level security), as a statement the driver prepares once per connection:
        no ORM loading or identity map, and none of SQLAlchemy's per-execution work, which
        cost as much as the rest of the read together. ``jsonb`` columns come back decoded
        (SQLAlchemy's asyncpg dialect installs that codec on every connection).
        """
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return await read_system_row(raw.driver_connection, system_id)

    async def find(
        self,
        *,
        limit: int,
        filters: SystemFilter,
        sort: AISystemSort = AISystemSort.CREATED_AT,
        after: tuple[Any, uuid.UUID] | None = None,
    ) -> list[AISystem]:
        key = SORT_KEYS[sort]
        query = sa.select(AISystem).where(*self._conditions(filters))
        if after is not None:
            query = query.where(_after(key, after[0], after[1]))
        query = query.order_by(*_order(key)).limit(limit)
        return list((await self.session.execute(query)).scalars())

    @staticmethod
    def _conditions(f: SystemFilter) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if f.org_id is not None:
            conditions.append(AISystem.org_id == f.org_id)
        if f.name_contains:
            conditions.append(AISystem.name.ilike(_like_pattern(f.name_contains), escape="\\"))
        if f.ids:
            conditions.append(AISystem.id.in_(f.ids))
        if f.query:
            tsquery = sa.func.websearch_to_tsquery(
                sa.literal_column("'english'::regconfig"), f.query
            )
            conditions.append(AISystem.search.bool_op("@@")(tsquery))
        if f.lifecycle_stages:
            conditions.append(AISystem.lifecycle_stage.in_(f.lifecycle_stages))
        if f.roles:
            conditions.append(
                AISystem.ai_roles.overlap(sa.cast(list(f.roles), AISystem.ai_roles.type))
            )
        if f.owner is not None:
            conditions.append(AISystem.owner == f.owner)
        if f.sectors:
            conditions.append(AISystem.sector.in_(f.sectors))
        if f.in_scope is not None:
            conditions.append(AISystem.in_scope.is_(f.in_scope))
        if f.tiers:
            conditions.append(AISystem.eu_ai_act_tier.in_(f.tiers))
        if f.vendor_ids:
            conditions.append(AISystem.vendor_id.in_(f.vendor_ids))
        if f.business_function_values is not None:
            spellings = sorted(set(f.business_function_values))
            conditions.append(AISystem.business_function.in_(spellings))
        elif f.business_functions:
            wanted = sorted({b.lower() for b in f.business_functions})
            conditions.append(sa.func.lower(AISystem.business_function).in_(wanted))
        for key, values in f.custom.items():
            conditions.append(sa.or_(*(AISystem.custom_fields.contains({key: v}) for v in values)))
        if f.review_overdue is True:
            conditions.append(_overdue(f.today))
        elif f.review_overdue is False:
            conditions.append(sa.not_(_overdue(f.today)))
        return conditions

    def add(self, system: AISystem) -> None:
        self.session.add(system)

    async def business_function_spellings(self) -> list[str]:
        """Every business function the caller's register holds, as stored (each once)."""
        query = (
            sa.select(AISystem.business_function)
            .where(AISystem.business_function.is_not(None))
            .distinct()
        )
        return [value for value in (await self.session.execute(query)).scalars() if value]

    async def existing_vendors(self, vendor_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``vendor_ids`` the caller's organisation has (row-level security hides
        every other organisation's)."""
        query = sa.select(Vendor.id).where(Vendor.id.in_(list(vendor_ids)))
        return set((await self.session.execute(query)).scalars())

    # --- History ------------------------------------------------------------------------------

    def add_change(self, change: AISystemChange) -> None:
        self.session.add(change)

    async def history(
        self, system_id: uuid.UUID, *, limit: int, before_version: int | None
    ) -> list[AISystemChange]:
        """Changes of one system, newest first."""
        query = sa.select(AISystemChange).where(AISystemChange.system_id == system_id)
        if before_version is not None:
            query = query.where(AISystemChange.version < before_version)
        query = query.order_by(AISystemChange.version.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    # --- Completeness -------------------------------------------------------------------------

    async def gaps(
        self, *, org_id: uuid.UUID, today: date, limit: int, after: uuid.UUID | None
    ) -> list[tuple[AISystem, dict[CompletenessItem, bool], bool]]:
        """Live systems missing something or overdue, by id, with what each one misses."""
        any_gap = sa.or_(*MISSING.values(), _overdue(today))
        flags = [cond.label(item.value) for item, cond in MISSING.items()]
        query = (
            sa.select(AISystem, *flags, _overdue(today).label("overdue"))
            .where(
                AISystem.org_id == org_id,
                AISystem.lifecycle_stage != LifecycleStage.RETIRED.value,
                any_gap,
            )
            .order_by(AISystem.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(AISystem.id > after)
        out: list[tuple[AISystem, dict[CompletenessItem, bool], bool]] = []
        for row in (await self.session.execute(query)).all():
            missing = {item: bool(getattr(row, item.value)) for item in MISSING}
            out.append((row[0], missing, bool(row.overdue)))
        return out

    async def gap_counts(self, *, org_id: uuid.UUID, today: date) -> dict[str, int]:
        any_gap = sa.or_(*MISSING.values(), _overdue(today))
        columns = [
            sa.func.count().label("systems"),
            sa.func.count().filter(any_gap).label("with_gaps"),
            *(sa.func.count().filter(c).label(i.value) for i, c in MISSING.items()),
            sa.func.count().filter(_overdue(today)).label("review_overdue"),
        ]
        query = sa.select(*columns).where(
            AISystem.org_id == org_id, AISystem.lifecycle_stage != LifecycleStage.RETIRED.value
        )
        row = (await self.session.execute(query)).one()
        return dict(row._mapping)

    # --- Mirrors written by other domains and services ------------------------------------------

    async def apply_classification(
        self, system_id: uuid.UUID, *, tier: str | None, risk_level: str | None, version: int
    ) -> bool:
        """Mirror a classification unless the one held is as new or newer."""
        result = await self.session.execute(
            sa.update(AISystem)
            .where(
                AISystem.id == system_id,
                sa.or_(
                    AISystem.classification_version.is_(None),
                    AISystem.classification_version < version,
                ),
            )
            .values(
                eu_ai_act_tier=tier,
                risk_level=risk_level,
                classification_version=version,
                updated_at=AISystem.updated_at,  # a mirror, not a change of the register's facts
            )
            .returning(AISystem.id)
        )
        return result.first() is not None

    async def set_in_scope(
        self, *, included: Sequence[uuid.UUID], excluded: Sequence[uuid.UUID]
    ) -> None:
        if included:
            await self.session.execute(
                sa.update(AISystem)
                .where(AISystem.id.in_(included))
                .values(in_scope=True, updated_at=AISystem.updated_at)
            )
        if excluded:
            await self.session.execute(
                sa.update(AISystem)
                .where(AISystem.id.in_(excluded))
                .values(in_scope=False, updated_at=AISystem.updated_at)
            )


class CustomFieldRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[CustomField]:
        query = sa.select(CustomField).order_by(CustomField.key)
        return list((await self.session.execute(query)).scalars())

    async def page(self, *, limit: int, after: str | None) -> list[CustomField]:
        query = sa.select(CustomField).order_by(CustomField.key).limit(limit)
        if after is not None:
            query = query.where(CustomField.key > after)
        return list((await self.session.execute(query)).scalars())

    async def get(self, field_id: uuid.UUID, *, for_update: bool = False) -> CustomField | None:
        query = sa.select(CustomField).where(CustomField.id == field_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def key_exists(self, key: str) -> bool:
        query = sa.select(sa.literal(True)).where(CustomField.key == key)
        return (await self.session.execute(query)).first() is not None

    def add(self, custom_field: CustomField) -> None:
        self.session.add(custom_field)

    async def delete(self, custom_field: CustomField) -> None:
        await self.session.delete(custom_field)
