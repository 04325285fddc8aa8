"""Every query of components, vendors, dependencies and interfaces. Row-level security scopes
each one to the caller's organisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.components.models import Component, Dependency, Interface, Vendor
from services.inventory.systems.models import AISystem
from shared.text import name_key

Row = TypeVar("Row", Vendor, Component, Dependency, Interface)


class EdgeEnds(NamedTuple):
    """A deleted dependency edge: its id, its two ends and who recorded it."""

    id: uuid.UUID
    from_type: str
    from_id: uuid.UUID
    to_type: str
    to_id: uuid.UUID
    source: str


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ComponentsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, model: type[Row], row_id: uuid.UUID, *, for_update: bool = False
    ) -> Row | None:
        query = sa.select(model).where(model.id == row_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        model: type[Row],
        *,
        limit: int,
        after: uuid.UUID | None,
        where: Sequence[sa.ColumnElement[bool]] = (),
    ) -> list[Row]:
        query = sa.select(model).where(*where).order_by(model.id).limit(limit)
        if after is not None:
            query = query.where(model.id > after)
        return list((await self.session.execute(query)).scalars())

    async def components_by_system(
        self, system_ids: Sequence[uuid.UUID], *, first: int
    ) -> list[tuple[Component, int]]:
        """For each of ``system_ids``, its first ``first`` components (oldest first) and how
        many it has, in one query: ``(component, total)`` rows ordered by system and position."""
        ranked = (
            sa.select(
                Component.id.label("component_id"),
                sa.func.row_number()
                .over(partition_by=Component.system_id, order_by=Component.id)
                .label("position"),
                sa.func.count().over(partition_by=Component.system_id).label("total"),
            )
            .where(Component.system_id.in_(system_ids))
            .subquery()
        )
        query = (
            sa.select(Component, ranked.c.total)
            .join(ranked, Component.id == ranked.c.component_id)
            .where(ranked.c.position <= first)
            .order_by(Component.system_id, ranked.c.position)
        )
        return [(row, int(total)) for row, total in (await self.session.execute(query)).all()]

    def add(self, row: Any) -> None:
        self.session.add(row)

    async def delete(self, row: Any) -> None:
        await self.session.delete(row)

    async def node_exists(self, node_type: str, node_id: uuid.UUID) -> bool:
        column = {"system": AISystem.id, "component": Component.id, "vendor": Vendor.id}[node_type]
        found = await self.session.execute(sa.select(column).where(column == node_id))
        return found.first() is not None

    async def vendor_by_name(self, name: str) -> Vendor | None:
        """The vendor whose name is ``name`` ignoring case (``shared.text.name_key``)."""
        query = sa.select(Vendor).where(Vendor.name_key == name_key(name))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def vendors_by_names(self, names: Sequence[str]) -> dict[str, Vendor]:
        """The vendors among ``names``, by their ``name_key``."""
        if not names:
            return {}
        keys = sorted({name_key(n) for n in names})
        rows = await self.session.execute(sa.select(Vendor).where(Vendor.name_key.in_(keys)))
        return {v.name_key: v for v in rows.scalars()}

    async def vendor_in_use(self, vendor_id: uuid.UUID) -> bool:
        found = await self.session.execute(
            sa.select(Component.id).where(Component.vendor_id == vendor_id).limit(1)
        )
        return found.first() is not None

    async def components_of_system_by_ref(
        self, system_id: uuid.UUID, refs: Sequence[str]
    ) -> dict[str, Component]:
        if not refs:
            return {}
        rows = await self.session.execute(
            sa.select(Component)
            .where(Component.system_id == system_id, Component.bom_ref.in_(list(refs)))
            .with_for_update()
        )
        return {c.bom_ref: c for c in rows.scalars() if c.bom_ref is not None}

    async def bom_components_of_system(self, system_id: uuid.UUID) -> list[Component]:
        """The system's components its CycloneDX BOM keeps, locked for the re-import."""
        rows = await self.session.execute(
            sa.select(Component)
            .where(Component.system_id == system_id, Component.source == "bom")
            .order_by(Component.id)
            .with_for_update()
        )
        return list(rows.scalars())

    async def bom_edges_of_system(self, system_id: uuid.UUID) -> list[Dependency]:
        """Edges an import recorded that leave a component of the system."""
        of_system = sa.select(Component.id).where(Component.system_id == system_id)
        rows = await self.session.execute(
            sa.select(Dependency)
            .where(
                Dependency.source == "bom",
                Dependency.from_type == "component",
                Dependency.from_id.in_(of_system),
            )
            .order_by(Dependency.id)
            .with_for_update()
        )
        return list(rows.scalars())

    async def delete_edges_of_components(
        self, ids: Sequence[uuid.UUID]
    ) -> tuple[list[EdgeEnds], list[uuid.UUID]]:
        """Delete every dependency and interface at either end of these components; returns the
        deleted dependencies (id, ends, source) and the deleted interfaces' ids."""
        if not ids:
            return [], []

        def touching(model: type[Dependency] | type[Interface]) -> sa.ColumnElement[bool]:
            return sa.or_(
                sa.and_(model.from_type == "component", model.from_id.in_(list(ids))),
                sa.and_(model.to_type == "component", model.to_id.in_(list(ids))),
            )

        edges = await self.session.execute(
            sa.delete(Dependency)
            .where(touching(Dependency))
            .returning(
                Dependency.id,
                Dependency.from_type,
                Dependency.from_id,
                Dependency.to_type,
                Dependency.to_id,
                Dependency.source,
            )
            .execution_options(synchronize_session=False)
        )
        interfaces = await self.session.execute(
            sa.delete(Interface)
            .where(touching(Interface))
            .returning(Interface.id)
            .execution_options(synchronize_session=False)
        )
        return [EdgeEnds(*row) for row in edges.all()], list(interfaces.scalars())

    async def existing_edges(
        self, ids: Sequence[uuid.UUID]
    ) -> set[tuple[str, uuid.UUID, str, uuid.UUID]]:
        if not ids:
            return set()
        rows = await self.session.execute(
            sa.select(
                Dependency.from_type, Dependency.from_id, Dependency.to_type, Dependency.to_id
            ).where(Dependency.from_type == "component", Dependency.from_id.in_(list(ids)))
        )
        return {(r.from_type, r.from_id, r.to_type, r.to_id) for r in rows}

    async def edge_exists(
        self, from_type: str, from_id: uuid.UUID, to_type: str, to_id: uuid.UUID
    ) -> bool:
        found = await self.session.execute(
            sa.select(Dependency.id).where(
                Dependency.from_type == from_type,
                Dependency.from_id == from_id,
                Dependency.to_type == to_type,
                Dependency.to_id == to_id,
            )
        )
        return found.first() is not None

    async def delete_edges_of(self, node_type: str, node_id: uuid.UUID) -> None:
        for model in (Dependency, Interface):
            await self.session.execute(
                sa.delete(model).where(
                    sa.or_(
                        sa.and_(model.from_type == node_type, model.from_id == node_id),
                        sa.and_(model.to_type == node_type, model.to_id == node_id),
                    )
                )
            )


def name_filter(column: Any, text: str | None) -> list[sa.ColumnElement[bool]]:
    return [column.ilike(_like_pattern(text), escape="\\")] if text else []
