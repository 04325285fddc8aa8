"""Documented-information use cases: the status of every catalogue item for an organisation or a
system, coverage for dashboards, and the evidence requests kept from scope and classification
events. Services flush, never commit: a consumer's changes and their events commit together."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.documented.catalogue import (
    SYSTEM_ITEMS,
    DocumentedInformationItem,
    catalogue,
    catalogue_by_id,
)
from services.evidence.documented.errors import (
    DocumentedItemNotFound,
    InvalidFilter,
    SystemNotKnown,
)
from services.evidence.documented.events import (
    EVIDENCE_REQUEST_OPENED,
    EVIDENCE_REQUEST_WITHDRAWN,
)
from services.evidence.documented.models import DocumentedSoA, DocumentedSystem, EvidenceRequest
from services.evidence.documented.repository import (
    DocumentedRepository,
    SystemTallies,
)
from services.evidence.documented.rules import (
    SEVERITY,
    DocumentedStatus,
    EvidenceClass,
    EvidenceTally,
    ItemStatus,
    SoAState,
    SystemState,
    item_status,
    required_of_system,
    requirement,
    satisfied_by,
    status_of_class,
    worst,
)
from services.evidence.documented.schemas import (
    CoverageList,
    DocumentedItemList,
    DocumentedItemRead,
    DocumentedSummary,
    EvidenceRequestRead,
    ItemRef,
    ItemSource,
    RequestStatus,
    SystemCounts,
    SystemCoverage,
    SystemDocumentedRead,
)
from services.evidence.reference import clause_ids, control_ids
from shared.events import CloudEvent, EventType, make_event

EMPTY_TALLY = EvidenceTally()
SYS_ITEM_IDS = tuple(item.id for item in SYSTEM_ITEMS)
SYS_ITEM_FLAGS = tuple((item.id, item.high_risk_only) for item in SYSTEM_ITEMS)


def _org_items() -> list[DocumentedInformationItem]:
    return [item for item in catalogue() if item.source != "system"]


def _ax_controls() -> dict[str, str]:
    """Annex A control → the AX item of its artefact (one each in the reference data)."""
    return {item.control: item.id for item in _org_items() if item.control}


def _soa_state(row: DocumentedSoA | None) -> SoAState | None:
    if row is None:
        return None
    return SoAState(
        number=row.number,
        included=frozenset(row.included_controls),
        excluded=frozenset(row.excluded_controls),
    )


def _read(
    item: DocumentedInformationItem, status: ItemStatus, systems: SystemCounts | None = None
) -> DocumentedItemRead:
    return DocumentedItemRead(
        id=item.id,
        source=ItemSource(item.source),
        clause=item.clause,
        control=item.control,
        title=item.title,
        form=item.form,
        high_risk_only=item.high_risk_only,
        status=status.status,
        reason=status.reason,
        satisfied_by=satisfied_by(item),
        evidence_ids=list(status.evidence_ids),
        evidence_count=status.evidence_count,
        review_by=status.review_by,
        systems=systems,
    )


# --- Filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFilter:
    statuses: frozenset[DocumentedStatus] = frozenset()
    sources: frozenset[ItemSource] = frozenset()
    clause: str | None = None
    control: str | None = None

    def validate(self) -> None:
        errors = []
        if self.clause is not None and self.clause not in clause_ids():
            errors.append({"location": ["query", "clause"], "message": "no such clause"})
        if self.control is not None and self.control not in control_ids():
            errors.append({"location": ["query", "control"], "message": "no such control"})
        if errors:
            raise InvalidFilter(
                "Filter by a clause of ISO/IEC 42001 (4 … 10.2, e.g. `7.5`) or an Annex A "
                "control (e.g. `A.6.2.8`).",
                errors=errors,
            )

    def wants_item(self, item: DocumentedInformationItem) -> bool:
        if self.sources and ItemSource(item.source) not in self.sources:
            return False
        if self.clause is not None and not (
            item.clause == self.clause or (item.clause or "").startswith(self.clause + ".")
        ):
            return False
        return self.control is None or item.control == self.control

    def wants_status(self, status: DocumentedStatus) -> bool:
        return not self.statuses or status in self.statuses


# --- Statuses ---------------------------------------------------------------------------------


def _system_state(system: SystemTallies | DocumentedSystem | None) -> SystemState | None:
    if system is None:
        return None
    return SystemState(in_scope=system.in_scope, tier=system.tier)


@dataclass
class _SystemItemCounts:
    counts: dict[str, Counter[DocumentedStatus]] = field(default_factory=dict)

    def of(self, item_id: str) -> SystemCounts:
        return _counts(self.counts.get(item_id, Counter()))


def _counts(counter: Counter[DocumentedStatus]) -> SystemCounts:
    return SystemCounts(
        required=sum(n for s, n in counter.items() if s != DocumentedStatus.NOT_REQUIRED),
        approved=counter[DocumentedStatus.APPROVED],
        stale=counter[DocumentedStatus.STALE],
        draft=counter[DocumentedStatus.DRAFT],
        missing=counter[DocumentedStatus.MISSING],
    )


def _count_in_scope(
    groups: Sequence[tuple[str, str | None, EvidenceClass | None, int]],
) -> _SystemItemCounts:
    """Status counts per SYS item over the in-scope systems, from groups of systems sharing
    (item, tier, best class): the rules decide once per group."""
    counts: dict[str, Counter[DocumentedStatus]] = {item.id: Counter() for item in SYSTEM_ITEMS}
    by_id = catalogue_by_id()
    for item_id, tier, best, systems in groups:
        item = by_id[item_id]
        required = required_of_system(item, SystemState(in_scope=True, tier=tier))
        counts[item_id][status_of_class(required, best)] += systems
    return _SystemItemCounts(counts)


def _system_item_summary(item: DocumentedInformationItem, counts: SystemCounts) -> ItemStatus:
    overall = worst(
        [
            status
            for status, n in (
                (DocumentedStatus.MISSING, counts.missing),
                (DocumentedStatus.STALE, counts.stale),
                (DocumentedStatus.DRAFT, counts.draft),
                (DocumentedStatus.APPROVED, counts.approved),
            )
            if n
        ]
    )
    if not counts.required:
        who = "high-risk system" if item.high_risk_only else "system"
        return ItemStatus(overall, f"No {who} in the current AIMS scope is asked for it.")
    return ItemStatus(
        overall,
        f"Asked of {counts.required} in-scope system{'s' if counts.required != 1 else ''}: "
        f"{counts.approved} approved, {counts.stale} stale, {counts.draft} draft, "
        f"{counts.missing} missing.",
    )


@dataclass(frozen=True)
class OrgView:
    soa_version: int | None
    scope_version: int | None
    items: list[DocumentedItemRead]
    system_counts: _SystemItemCounts | None


async def _org_view(
    session: AsyncSession, today: date, wanted: ItemFilter | None = None
) -> OrgView:
    repo = DocumentedRepository(session)
    soa_row = await repo.soa()
    scope_row = await repo.scope()
    soa = _soa_state(soa_row)
    wanted = wanted or ItemFilter()
    org_items = [item for item in _org_items() if wanted.wants_item(item)]
    sys_items = [item for item in SYSTEM_ITEMS if wanted.wants_item(item)]
    tallies = (
        await repo.org_tallies([i.id for i in org_items], _ax_controls(), today)
        if org_items
        else {}
    )
    items = [
        _read(item, item_status(requirement(item, soa=soa), tallies.get(item.id, EMPTY_TALLY)))
        for item in org_items
    ]
    system_counts = None
    if sys_items:
        system_counts = _count_in_scope(await repo.in_scope_best_classes(SYS_ITEM_IDS, today))
        for item in sys_items:
            counts = system_counts.of(item.id)
            items.append(_read(item, _system_item_summary(item, counts), counts))
    return OrgView(
        soa_version=soa_row.number if soa_row else None,
        scope_version=scope_row.number if scope_row else None,
        items=[i for i in items if wanted.wants_status(i.status)],
        system_counts=system_counts,
    )


async def list_documented(
    session: AsyncSession, today: date, wanted: ItemFilter
) -> DocumentedItemList:
    wanted.validate()
    view = await _org_view(session, today, wanted)
    return DocumentedItemList(
        items=view.items,
        count=len(view.items),
        as_of=today,
        soa_version=view.soa_version,
        scope_version=view.scope_version,
    )


async def get_documented(session: AsyncSession, item_id: str, today: date) -> DocumentedItemRead:
    if item_id not in catalogue_by_id():
        raise DocumentedItemNotFound(
            f"No documented-information item {item_id!r}; ids look like DI-01, CE-01, AX-01 or "
            "SYS-TECH-DOC."
        )
    view = await _org_view(session, today, ItemFilter())
    return next(item for item in view.items if item.id == item_id)


async def summary(session: AsyncSession, today: date) -> DocumentedSummary:
    view = await _org_view(session, today)
    org = [i for i in view.items if i.source != ItemSource.SYSTEM]
    counts = Counter(i.status for i in org)
    rank = {status: index for index, status in enumerate(SEVERITY)}
    attention = sorted(
        (
            i
            for i in org
            if i.status
            in (DocumentedStatus.MISSING, DocumentedStatus.STALE, DocumentedStatus.DRAFT)
        ),
        key=lambda i: rank[i.status],
    )
    pairs: Counter[DocumentedStatus] = Counter()
    if view.system_counts is not None:
        for counter in view.system_counts.counts.values():
            pairs.update(counter)
    system_items = _counts(pairs)
    return DocumentedSummary(
        as_of=today,
        soa_version=view.soa_version,
        scope_version=view.scope_version,
        counts={status: counts.get(status, 0) for status in DocumentedStatus},
        attention=[ItemRef(id=i.id, title=i.title, status=i.status) for i in attention],
        systems_in_scope=await DocumentedRepository(session).count_in_scope(),
        system_items=system_items,
        # Requests are opened and withdrawn in the same transactions as the projection the
        # statuses read, so the open, unsatisfied ones are the required pairs not approved.
        requests_open=system_items.required - system_items.approved,
    )


async def system_documented(
    session: AsyncSession, system_id: uuid.UUID, today: date
) -> SystemDocumentedRead:
    repo = DocumentedRepository(session)
    found = await repo.system_tallies(SYS_ITEM_IDS, today, system_ids=[system_id])
    if not found and not await repo.system_known(system_id):
        raise SystemNotKnown(
            f"The evidence service knows no AI system {system_id} in your organisation."
        )
    system = found[0] if found else None
    state = _system_state(system)
    tallies = system.tallies if system else {}
    return SystemDocumentedRead(
        system_id=system_id,
        in_scope=bool(state and state.in_scope),
        eu_ai_act_tier=state.tier if state else None,
        as_of=today,
        items=[
            _read(
                item,
                item_status(requirement(item, system=state), tallies.get(item.id, EMPTY_TALLY)),
            )
            for item in SYSTEM_ITEMS
        ],
    )


async def coverage(
    session: AsyncSession, system_ids: Sequence[uuid.UUID], today: date
) -> CoverageList:
    """Per system, its SYS items' counts, in one statement (for the gateway's DataLoader)."""
    unique = list(dict.fromkeys(system_ids))
    found = await DocumentedRepository(session).system_best_classes(
        SYS_ITEM_IDS, today, system_ids=unique
    )
    by_system: dict[uuid.UUID, SystemCounts] = {}
    for system in found:
        state = SystemState(in_scope=system.in_scope, tier=system.tier)
        counter: Counter[DocumentedStatus] = Counter(
            status_of_class(required_of_system(item, state), system.best.get(item.id))
            for item in SYSTEM_ITEMS
        )
        by_system[system.system_id] = _counts(counter)
    zero = SystemCounts()
    return CoverageList(
        items=[
            SystemCoverage(system_id=system_id, **by_system.get(system_id, zero).model_dump())
            for system_id in system_ids
        ]
    )


# --- Requests ---------------------------------------------------------------------------------


def request_read(row: EvidenceRequest, satisfied: bool = False) -> EvidenceRequestRead:
    status = RequestStatus(row.status)
    if status == RequestStatus.OPEN and satisfied:
        status = RequestStatus.SATISFIED
    return EvidenceRequestRead(
        id=row.id,
        org_id=row.org_id,
        system_id=row.system_id,
        item_id=row.item_id,
        item_title=catalogue_by_id()[row.item_id].title
        if row.item_id in catalogue_by_id()
        else row.item_id,
        status=status,
        requested_at=row.requested_at,
        withdrawn_at=row.withdrawn_at,
        version=row.version,
        updated_at=row.updated_at,
    )


async def list_requests(
    session: AsyncSession,
    *,
    limit: int,
    after: uuid.UUID | None,
    today: date,
    system_ids: Sequence[uuid.UUID],
    statuses: Sequence[RequestStatus],
    item_ids: Sequence[str],
    ids: Sequence[uuid.UUID],
) -> tuple[list[EvidenceRequestRead], int]:
    """A page of requests and how many rows were fetched (``limit + 1`` means more)."""
    sys_ids = set(SYS_ITEM_IDS)
    unknown = [i for i in item_ids if i not in sys_ids]
    if unknown:
        raise InvalidFilter(
            f"`item_id` must be a system item: {', '.join(SYS_ITEM_IDS)}.",
            errors=[{"location": ["query", "item_id"], "message": "no such system item"}],
        )
    rows = await DocumentedRepository(session).requests_page(
        limit=limit + 1,
        after=after,
        today=today,
        system_ids=system_ids,
        statuses=[s.value for s in statuses],
        item_ids=item_ids,
        ids=ids,
    )
    return [request_read(row, satisfied) for row, satisfied in rows[:limit]], len(rows)


async def _announce(
    repo: DocumentedRepository,
    opened: Sequence[EvidenceRequest],
    withdrawn: Sequence[EvidenceRequest],
) -> None:
    await repo.queue_events(
        [_request_event(EVIDENCE_REQUEST_OPENED, row) for row in opened]
        + [_request_event(EVIDENCE_REQUEST_WITHDRAWN, row) for row in withdrawn]
    )


def _request_event(event_type: EventType, row: EvidenceRequest) -> CloudEvent:
    return make_event(
        event_type, org_id=row.org_id, subject=row.id, version=row.version, data=request_read(row)
    )


# --- Consumers' use cases ---------------------------------------------------------------------


class SoAEntryData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    control_id: str
    applicable: bool | None = None


class SoAChangedData(BaseModel):
    """The part of ``aims.risk.soa.changed`` (``SoAVersionRead``) this domain reads."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    number: int
    entries: list[SoAEntryData]
    approved_at: datetime | None = None


class ScopeChangedData(BaseModel):
    """The part of ``aims.inventory.scope.changed`` (a summary of the version) this domain
    reads."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    org_id: uuid.UUID
    number: int


class SystemScopeData(BaseModel):
    """The part of ``aims.inventory.system_scope.changed`` this domain reads."""

    model_config = ConfigDict(extra="ignore")

    system_id: uuid.UUID
    org_id: uuid.UUID
    in_scope: bool
    scope_number: int


class ClassificationData(BaseModel):
    """The part of ``aims.risk.system.classified`` this domain reads."""

    model_config = ConfigDict(extra="ignore")

    system_id: uuid.UUID
    org_id: uuid.UUID
    tier: str | None = None


async def apply_soa(session: AsyncSession, data: SoAChangedData) -> bool:
    """Keep the approved SoA if newer than the one held (AX items follow it when read)."""
    return await DocumentedRepository(session).apply_soa(
        org_id=data.org_id,
        soa_version_id=data.id,
        number=data.number,
        included=sorted(e.control_id for e in data.entries if e.applicable is True),
        excluded=sorted(e.control_id for e in data.entries if e.applicable is False),
        approved_at=data.approved_at,
    )


async def apply_scope(session: AsyncSession, data: ScopeChangedData) -> bool:
    """Keep the number of the newer approved scope (systems follow their own events)."""
    repo = DocumentedRepository(session)
    return await repo.apply_scope(org_id=data.org_id, scope_version_id=data.id, number=data.number)


async def apply_system_scope(session: AsyncSession, data: SystemScopeData) -> bool:
    """Apply a system's newer membership: its requests are opened or withdrawn, with their
    events. Kept even before anything else is known of the system (order-independent)."""
    repo = DocumentedRepository(session)
    if not await repo.set_membership(
        org_id=data.org_id,
        number=data.scope_number,
        systems_in=[data.system_id] if data.in_scope else [],
        systems_out=[] if data.in_scope else [data.system_id],
    ):
        return False
    opened, withdrawn = await repo.reconcile_requests([data.system_id], items=SYS_ITEM_FLAGS)
    await _announce(repo, opened, withdrawn)
    return True


async def apply_classification(
    session: AsyncSession, data: ClassificationData, version: int
) -> bool:
    """Keep a newer tier; open or withdraw the high-risk-only requests it changes."""
    repo = DocumentedRepository(session)
    if not await repo.apply_classification(
        org_id=data.org_id, system_id=data.system_id, tier=data.tier, version=version
    ):
        return False
    opened, withdrawn = await repo.reconcile_requests([data.system_id], items=SYS_ITEM_FLAGS)
    await _announce(repo, opened, withdrawn)
    return True
