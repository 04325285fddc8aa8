"""Every query of the evidence item domain. Row-level security scopes each one to the caller's
organisation; the filters here are for meaning, not for tenancy."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.items.models import Blob, EvidenceItem, EvidenceLink, EvidenceVersion
from services.evidence.models import EvidenceFile, SystemProjection
from shared.db import utcnow, uuid7


@dataclass
class ItemFilter:
    """What ``GET /v1/evidence`` narrows by. Targets of one type are alternatives (OR);
    different types must all hold (AND)."""

    targets: dict[str, list[str]] = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    text: str | None = None
    ids: list[uuid.UUID] = field(default_factory=list)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: EvidenceItem) -> None:
        self.session.add(item)

    async def get(
        self, item_id: uuid.UUID, *, for_update: bool = False, with_deleted: bool = False
    ) -> EvidenceItem | None:
        query = sa.select(EvidenceItem).where(EvidenceItem.id == item_id)
        if not with_deleted:
            query = query.where(EvidenceItem.deleted_at.is_(None))
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def exists(self, item_id: uuid.UUID) -> bool:
        query = sa.select(sa.literal(True)).where(
            EvidenceItem.id == item_id, EvidenceItem.deleted_at.is_(None)
        )
        return (await self.session.execute(query)).first() is not None

    async def page(
        self, filters: ItemFilter, *, limit: int, after: uuid.UUID | None
    ) -> list[EvidenceItem]:
        query = (
            sa.select(EvidenceItem)
            .where(EvidenceItem.deleted_at.is_(None))
            .order_by(EvidenceItem.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(EvidenceItem.id > after)
        if filters.ids:
            query = query.where(EvidenceItem.id.in_(filters.ids))
        if filters.statuses:
            query = query.where(EvidenceItem.status.in_(filters.statuses))
        if filters.kinds:
            query = query.where(EvidenceItem.kind.in_(filters.kinds))
        if filters.text:
            pattern = _like(filters.text)
            query = query.where(
                sa.or_(
                    EvidenceItem.title.ilike(pattern, escape="\\"),
                    EvidenceItem.description.ilike(pattern, escape="\\"),
                )
            )
        for target_type, target_ids in filters.targets.items():
            query = query.where(
                sa.exists().where(
                    EvidenceLink.item_id == EvidenceItem.id,
                    EvidenceLink.target_type == target_type,
                    EvidenceLink.target_id.in_(target_ids),
                )
            )
        return list((await self.session.execute(query)).scalars())

    async def by_target(
        self, target_type: str, target_ids: Sequence[str], *, first: int
    ) -> list[tuple[str, EvidenceItem, int]]:
        """For each target, its first ``first`` items (oldest first) and how many it has, in
        one query: ``(target_id, item, total)`` rows; a target without items is absent."""
        ranked = (
            sa.select(
                EvidenceLink.target_id.label("target_id"),
                EvidenceItem.id.label("item_id"),
                sa.func.row_number()
                .over(partition_by=EvidenceLink.target_id, order_by=EvidenceItem.id)
                .label("position"),
                sa.func.count().over(partition_by=EvidenceLink.target_id).label("total"),
            )
            .join(EvidenceItem, EvidenceItem.id == EvidenceLink.item_id)
            .where(
                EvidenceLink.target_type == target_type,
                EvidenceLink.target_id.in_(list(target_ids)),
                EvidenceItem.deleted_at.is_(None),
            )
            .subquery()
        )
        query = (
            sa.select(ranked.c.target_id, EvidenceItem, ranked.c.total)
            .join(EvidenceItem, EvidenceItem.id == ranked.c.item_id)
            .where(ranked.c.position <= first)
            .order_by(ranked.c.target_id, ranked.c.position)
        )
        rows = (await self.session.execute(query)).all()
        return [(str(target), item, int(total)) for target, item, total in rows]

    async def due(self, column: str, on_or_before: date) -> list[EvidenceItem]:
        attribute = getattr(EvidenceItem, column)
        query = sa.select(EvidenceItem).where(
            EvidenceItem.deleted_at.is_(None), attribute.is_not(None), attribute <= on_or_before
        )
        return list((await self.session.execute(query)).scalars())


class LinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_missing(
        self, org_id: uuid.UUID, item_id: uuid.UUID, targets: Sequence[tuple[str, str]], by: str
    ) -> None:
        """Link ``item_id`` to each target it does not serve yet (existing links stay)."""
        if not targets:
            return
        now = utcnow()
        await self.session.execute(
            pg_insert(EvidenceLink)
            .values(
                [
                    {
                        "id": uuid7(),
                        "org_id": org_id,
                        "item_id": item_id,
                        "target_type": target_type,
                        "target_id": target_id,
                        "created_by": by,
                        "created_at": now,
                    }
                    for target_type, target_id in targets
                ]
            )
            .on_conflict_do_nothing(constraint="uq_evidence_link_target")
        )

    async def for_items(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[EvidenceLink]]:
        if not item_ids:
            return {}
        query = (
            sa.select(EvidenceLink)
            .where(EvidenceLink.item_id.in_(list(item_ids)))
            .order_by(EvidenceLink.item_id, EvidenceLink.id)
        )
        found: dict[uuid.UUID, list[EvidenceLink]] = {i: [] for i in item_ids}
        for link in (await self.session.execute(query)).scalars():
            found[link.item_id].append(link)
        return found

    async def find(
        self, item_id: uuid.UUID, target_type: str, target_id: str
    ) -> EvidenceLink | None:
        query = sa.select(EvidenceLink).where(
            EvidenceLink.item_id == item_id,
            EvidenceLink.target_type == target_type,
            EvidenceLink.target_id == target_id,
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get(self, item_id: uuid.UUID, link_id: uuid.UUID) -> EvidenceLink | None:
        query = sa.select(EvidenceLink).where(
            EvidenceLink.item_id == item_id, EvidenceLink.id == link_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def count(self, item_id: uuid.UUID) -> int:
        query = sa.select(sa.func.count()).where(EvidenceLink.item_id == item_id)
        return int((await self.session.execute(query)).scalar_one())

    async def delete(self, link: EvidenceLink) -> None:
        await self.session.delete(link)

    async def system_exists(self, system_id: uuid.UUID) -> bool:
        query = sa.select(sa.literal(True)).where(SystemProjection.id == system_id)
        return (await self.session.execute(query)).first() is not None


class VersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, version: EvidenceVersion) -> None:
        self.session.add(version)

    async def get(self, item_id: uuid.UUID, number: int) -> EvidenceVersion | None:
        query = sa.select(EvidenceVersion).where(
            EvidenceVersion.item_id == item_id, EvidenceVersion.number == number
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self, item_id: uuid.UUID, *, limit: int, after_number: int | None
    ) -> list[EvidenceVersion]:
        query = (
            sa.select(EvidenceVersion)
            .where(EvidenceVersion.item_id == item_id)
            .order_by(EvidenceVersion.number)
            .limit(limit)
        )
        if after_number is not None:
            query = query.where(EvidenceVersion.number > after_number)
        return list((await self.session.execute(query)).scalars())

    async def of_items(
        self, item_ids: Sequence[uuid.UUID], *, limit: int, after: uuid.UUID | None
    ) -> list[EvidenceVersion]:
        """The versions of several items, oldest first (by id: in number order per item)."""
        query = (
            sa.select(EvidenceVersion)
            .where(EvidenceVersion.item_id.in_(item_ids))
            .order_by(EvidenceVersion.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(EvidenceVersion.id > after)
        return list((await self.session.execute(query)).scalars())


class FileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, file: EvidenceFile) -> None:
        self.session.add(file)

    async def get(self, file_id: uuid.UUID) -> EvidenceFile | None:
        """A file of an item that is not deleted."""
        query = (
            sa.select(EvidenceFile)
            .join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
            .where(EvidenceFile.id == file_id, EvidenceItem.deleted_at.is_(None))
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def for_versions(
        self, version_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[EvidenceFile]]:
        if not version_ids:
            return {}
        query = (
            sa.select(EvidenceFile)
            .where(EvidenceFile.version_id.in_(list(version_ids)))
            .order_by(EvidenceFile.version_id, EvidenceFile.id)
        )
        found: dict[uuid.UUID, list[EvidenceFile]] = {v: [] for v in version_ids}
        for file in (await self.session.execute(query)).scalars():
            found[file.version_id].append(file)
        return found

    async def count_in_version(self, version_id: uuid.UUID) -> int:
        query = sa.select(sa.func.count()).where(EvidenceFile.version_id == version_id)
        return int((await self.session.execute(query)).scalar_one())

    async def list_for_system(
        self, system_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
    ) -> list[EvidenceFile]:
        """Files of the (not deleted) items linked to a system, oldest first."""
        linked = sa.select(EvidenceLink.item_id).where(
            EvidenceLink.target_type == "system", EvidenceLink.target_id == str(system_id)
        )
        query = (
            sa.select(EvidenceFile)
            .join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
            .where(EvidenceFile.item_id.in_(linked), EvidenceItem.deleted_at.is_(None))
            .order_by(EvidenceFile.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(EvidenceFile.id > after)
        return list((await self.session.execute(query)).scalars())

    async def affected_by_blob(
        self, sha256: str, *, limit: int
    ) -> tuple[int, list[tuple[EvidenceFile, int]]]:
        """How many files hold the content ``sha256``, and the first ``limit`` of them with
        their version numbers."""
        total = (
            await self.session.execute(
                sa.select(sa.func.count()).where(EvidenceFile.sha256 == sha256)
            )
        ).scalar_one()
        query = (
            sa.select(EvidenceFile, EvidenceVersion.number)
            .join(EvidenceVersion, EvidenceVersion.id == EvidenceFile.version_id)
            .where(EvidenceFile.sha256 == sha256)
            .order_by(EvidenceFile.id)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        return int(total), [(file, int(number)) for file, number in rows]


class BlobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_ok(self, org_id: uuid.UUID, sha256: str, size_bytes: int, key: str) -> None:
        """A freshly hashed upload is in place under ``key``: the blob is sound."""
        now = utcnow()
        insert = pg_insert(Blob).values(
            org_id=org_id,
            sha256=sha256,
            size_bytes=size_bytes,
            key=key,
            state="ok",
            checked_at=now,
            created_at=now,
        )
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[Blob.org_id, Blob.sha256],
                set_={"state": "ok", "checked_at": now, "key": insert.excluded.key},
            )
        )

    async def set_state(
        self, org_id: uuid.UUID, sha256: str, size_bytes: int, key: str, state: str
    ) -> str | None:
        """Record what a check found; returns the state recorded before (None: no row)."""
        previous = (
            await self.session.execute(
                sa.select(Blob.state)
                .where(Blob.org_id == org_id, Blob.sha256 == sha256)
                .with_for_update()
            )
        ).scalar_one_or_none()
        now = utcnow()
        insert = pg_insert(Blob).values(
            org_id=org_id,
            sha256=sha256,
            size_bytes=size_bytes,
            key=key,
            state=state,
            checked_at=now,
            created_at=now,
        )
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[Blob.org_id, Blob.sha256],
                set_={"state": state, "checked_at": now},
            )
        )
        return previous

    async def page(self, *, after: str | None, limit: int) -> list[tuple[str, int, str]]:
        """Distinct blobs the organisation's files reference, by digest: ``(sha256, size,
        key)``. Read from the files themselves, so a blob without a ``blob`` row is checked
        too."""
        query = (
            sa.select(EvidenceFile.sha256, EvidenceFile.size_bytes, EvidenceFile.blob_key)
            .ext(distinct_on(EvidenceFile.sha256))
            .order_by(EvidenceFile.sha256, EvidenceFile.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(EvidenceFile.sha256 > after)
        rows = (await self.session.execute(query)).all()
        return [(str(sha), int(size), str(key)) for sha, size, key in rows]

    async def totals(self) -> tuple[int, int]:
        """How many distinct blobs the organisation's files reference, and their bytes."""
        distinct = (
            sa.select(EvidenceFile.sha256, sa.func.max(EvidenceFile.size_bytes).label("size"))
            .group_by(EvidenceFile.sha256)
            .subquery()
        )
        count, total = (
            await self.session.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(distinct.c.size), 0))
            )
        ).one()
        return int(count), int(total)
