"""Evidence item use cases. Services flush, never commit: the caller owns the transaction, so a
change and its event commit together or not at all."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.evidence.blobs import BlobState, BlobStore, StagedBlob
from services.evidence.documented.catalogue import documented_information_ids
from services.evidence.errors import EvidenceFileNotFound
from services.evidence.items.errors import (
    EvidenceNotFound,
    InvalidLinkTarget,
    KindMismatch,
    LegalHoldApplies,
    LinkNotFound,
    RetentionApplies,
    TooManyFiles,
    TooManyLinks,
    VersionEmpty,
    VersionImmutable,
    VersionNotFound,
    VersionOpen,
    WrongVersionStatus,
)
from services.evidence.items.events import (
    BLOB_INTEGRITY_FAILED,
    EVIDENCE_ADDED,
    EVIDENCE_APPROVED,
    EVIDENCE_CREATED,
    EVIDENCE_DELETED,
    EVIDENCE_EXPIRED,
    EVIDENCE_UPDATED,
)
from services.evidence.items.models import EvidenceItem, EvidenceLink, EvidenceVersion
from services.evidence.items.repository import (
    BlobRepository,
    FileRepository,
    ItemFilter,
    ItemRepository,
    LinkRepository,
    VersionRepository,
)
from services.evidence.items.schemas import (
    MAX_FILES_PER_VERSION,
    MAX_LINKS_PER_ITEM,
    BlobIntegrityRead,
    EvidenceCreate,
    EvidenceRead,
    EvidenceTimerData,
    EvidenceUpdate,
    ItemReference,
    LinkCreate,
    LinkRead,
    TargetEvidence,
    TargetType,
    VersionCreate,
    VersionRead,
    event_view,
)
from services.evidence.items.timers import arm_timers, clear_timers
from services.evidence.models import EvidenceFile
from services.evidence.reference import clause_ids, control_ids
from services.evidence.schemas import EvidenceFileRead
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.events import emit, make_event
from shared.events.envelope import EventType
from shared.http import check_version

MAX_FILES_IN_PROBLEM = 100
_CONTROL_ID = re.compile(r"a\.\d+(\.\d+)*", re.IGNORECASE)

# --- Pure decisions ---------------------------------------------------------------------------


def item_status(
    *,
    current_version: int | None,
    latest_status: str,
    superseded_by: uuid.UUID | None,
    effective_to: date | None,
    today: date,
) -> str:
    """An item's status from its versions and dates: superseded when replaced; once a version
    is approved, approved until its effective period ends (the day after ``effective_to``),
    then expired; before that, draft or in review as its latest version is."""
    if superseded_by is not None:
        return "superseded"
    if current_version is not None:
        if effective_to is not None and effective_to < today:
            return "expired"
        return "approved"
    return "in_review" if latest_status == "in_review" else "draft"


def normalise_target(target_type: str, target_id: str) -> str | None:
    """The canonical id of a link target whose form is checkable without the database, or None
    when it is not one. Systems are canonical UUIDs here; whether they exist is checked apart.

    A SoA entry is named by the Annex A control it is about (``A.6.2.8``: the Statement of
    Applicability holds one entry per control and organisation) or by the entry's UUID.
    """
    value = target_id.strip()
    if target_type == TargetType.CLAUSE:
        return value if value in clause_ids() else None
    if target_type in (TargetType.CONTROL, TargetType.SOA_ENTRY):
        if _CONTROL_ID.fullmatch(value):
            control = "A" + value[1:]
            if control in control_ids():
                return control
            return None
        if target_type == TargetType.CONTROL:
            return None
        return _uuid_text(value)
    if target_type == TargetType.DOCUMENTED_INFORMATION:
        upper = value.upper()
        return upper if upper in documented_information_ids() else None
    if target_type in (TargetType.SYSTEM, TargetType.RISK):
        return _uuid_text(value)
    return None


def _uuid_text(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


# --- Reading ----------------------------------------------------------------------------------


def _read(item: EvidenceItem, links: Sequence[EvidenceLink]) -> EvidenceRead:
    return EvidenceRead.model_validate(
        {
            **{c.key: getattr(item, c.key) for c in EvidenceItem.__table__.columns},
            "links": [LinkRead.model_validate(link) for link in links],
            "link_count": len(links),
        }
    )


async def read_item(session: AsyncSession, item: EvidenceItem) -> EvidenceRead:
    links = await LinkRepository(session).for_items([item.id])
    return _read(item, links[item.id])


async def _require_item(
    session: AsyncSession, item_id: uuid.UUID, *, for_update: bool = False
) -> EvidenceItem:
    item = await ItemRepository(session).get(item_id, for_update=for_update)
    if item is None:
        raise EvidenceNotFound(f"No evidence item {item_id} in your organisation.")
    return item


async def get_item(session: AsyncSession, item_id: uuid.UUID) -> EvidenceRead:
    return await read_item(session, await _require_item(session, item_id))


async def list_items(
    session: AsyncSession, filters: ItemFilter, *, limit: int, after: uuid.UUID | None
) -> tuple[list[EvidenceRead], list[EvidenceItem]]:
    rows = await ItemRepository(session).page(filters, limit=limit + 1, after=after)
    page = rows[:limit]
    links = await LinkRepository(session).for_items([r.id for r in page])
    return [_read(r, links[r.id]) for r in page], rows


async def evidence_by_target(
    session: AsyncSession, target_type: TargetType, target_ids: Sequence[str], *, first: int
) -> list[TargetEvidence]:
    """Each target's first items and total, in the order asked (one query for the items, one
    for their links)."""
    wanted = list(dict.fromkeys(t.strip() for t in target_ids))
    canonical = {t: normalise_target(target_type, t) or t for t in wanted}
    rows = await ItemRepository(session).by_target(
        target_type.value, list(set(canonical.values())), first=first
    )
    links = await LinkRepository(session).for_items(list({item.id for _, item, _ in rows}))
    grouped: dict[str, tuple[int, list[EvidenceRead]]] = {}
    for target_id, item, total in rows:
        _, items = grouped.setdefault(target_id, (total, []))
        items.append(_read(item, links[item.id]))
    result = []
    for target in wanted:
        total, items = grouped.get(canonical[target], (0, []))
        result.append(
            TargetEvidence(
                target_type=target_type, target_id=canonical[target], total_count=total, items=items
            )
        )
    return result


# --- Changing items ---------------------------------------------------------------------------


async def _validated_targets(
    session: AsyncSession, links: Sequence[LinkCreate], *, field: str = "links"
) -> list[tuple[str, str]]:
    """Canonical ``(type, id)`` pairs, once each; 422 naming every invalid one."""
    targets: list[tuple[str, str]] = []
    errors = []
    repo = LinkRepository(session)
    for index, link in enumerate(links):
        canonical = normalise_target(link.target_type, link.target_id)
        if (
            canonical is not None
            and link.target_type == TargetType.SYSTEM
            and not await repo.system_exists(uuid.UUID(canonical))
        ):
            canonical = None
        if canonical is None:
            errors.append(
                {
                    "location": ["body", field, index] if field else ["body", "target_id"],
                    "message": _target_hint(link.target_type, link.target_id),
                }
            )
            continue
        targets.append((link.target_type.value, canonical))
    if errors:
        raise InvalidLinkTarget(
            "Some link targets do not exist or are not in the expected form; see `errors`.",
            errors=errors,
        )
    return list(dict.fromkeys(targets))


def _target_hint(target_type: TargetType, target_id: str) -> str:
    shown = target_id[:80]
    hints = {
        TargetType.CLAUSE: "an ISO/IEC 42001 clause id such as `7.5.3`",
        TargetType.CONTROL: "an Annex A control id such as `A.6.2.8`",
        TargetType.DOCUMENTED_INFORMATION: "a documented-information id such as `DI-01`",
        TargetType.SYSTEM: "the id of an AI system of your organisation (a system registered "
        "moments ago may take a moment to arrive)",
        TargetType.RISK: "the UUID of a risk",
        TargetType.SOA_ENTRY: "an Annex A control id such as `A.6.2.8` or a SoA entry's UUID",
    }
    return f"{shown!r} is not {hints[target_type]}"


def _touch(item: EvidenceItem, principal: Principal) -> None:
    item.version += 1
    item.updated_by = principal.subject
    item.updated_at = utcnow()


async def _emit_item(
    session: AsyncSession, item: EvidenceItem, event_type: EventType
) -> EvidenceRead:
    await session.flush()
    state = await read_item(session, item)
    await emit(
        session,
        make_event(
            event_type,
            org_id=item.org_id,
            subject=item.id,
            version=item.version,
            data=event_view(state),
        ),
    )
    return state


async def create_item(
    session: AsyncSession,
    principal: Principal,
    body: EvidenceCreate,
    *,
    extra_targets: Sequence[tuple[str, str]] = (),
) -> tuple[EvidenceItem, EvidenceVersion, EvidenceRead]:
    """A new item with version 1 (a draft holding ``body.url`` for a link), linked to
    ``body.links`` (and ``extra_targets``, already validated)."""
    targets = await _validated_targets(session, body.links)
    targets = list(dict.fromkeys([*targets, *extra_targets]))
    now = utcnow()
    item = EvidenceItem(
        id=uuid7(),
        org_id=principal.org_id,
        version=1,
        title=body.title,
        kind=body.kind.value,
        description=body.description,
        owner=body.owner,
        status="draft",
        effective_from=body.effective_from,
        effective_to=body.effective_to,
        review_by=body.review_by,
        retention_until=body.retention_until,
        legal_hold=False,
        current_version=None,
        latest_version=1,
        created_by=principal.subject,
        updated_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    ItemRepository(session).add(item)
    version = EvidenceVersion(
        id=uuid7(),
        org_id=principal.org_id,
        item_id=item.id,
        number=1,
        status="draft",
        url=body.url,
        note=body.note,
        created_by=principal.subject,
        created_at=now,
    )
    VersionRepository(session).add(version)
    await session.flush()
    await LinkRepository(session).add_missing(principal.org_id, item.id, targets, principal.subject)
    await arm_timers(session, item)
    state = await _emit_item(session, item, EVIDENCE_CREATED)
    return item, version, state


async def update_item(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    body: EvidenceUpdate,
    if_match: str | None,
    *,
    today: date,
) -> EvidenceRead:
    item = await _require_item(session, item_id, for_update=True)
    check_version(if_match, item.version)
    changes = body.model_dump(exclude_unset=True)
    if "superseded_by" in changes and changes["superseded_by"] is not None:
        other = changes["superseded_by"]
        if other == item.id or not await ItemRepository(session).exists(other):
            raise InvalidLinkTarget(
                "`superseded_by` must name another evidence item of your organisation.",
                errors=[{"location": ["body", "superseded_by"], "message": "unknown item"}],
            )
    start = changes.get("effective_from", item.effective_from)
    end = changes.get("effective_to", item.effective_to)
    if start is not None and end is not None and end < start:
        raise InvalidLinkTarget(
            "effective_to must not be before effective_from.",
            errors=[{"location": ["body", "effective_to"], "message": "before effective_from"}],
        )
    for name, value in changes.items():
        setattr(item, name, value)
    latest = await VersionRepository(session).get(item.id, item.latest_version)
    before = item.status
    item.status = item_status(
        current_version=item.current_version,
        latest_status=latest.status if latest else "draft",
        superseded_by=item.superseded_by,
        effective_to=item.effective_to,
        today=today,
    )
    _touch(item, principal)
    await arm_timers(session, item)
    state = await _emit_item(session, item, EVIDENCE_UPDATED)
    await _emit_if_expired(session, item, before)
    return state


async def delete_item(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    if_match: str | None,
    *,
    today: date,
) -> None:
    """Soft delete: the row and its links stay (hidden), so the deletion is recorded. Refused
    while a legal hold is set or the retention period runs (through ``retention_until``)."""
    item = await _require_item(session, item_id, for_update=True)
    check_version(if_match, item.version)
    if item.legal_hold:
        raise LegalHoldApplies(
            f"The item is under a legal hold ({item.legal_hold_reason}); lift the hold first.",
            reason=item.legal_hold_reason,
        )
    if item.retention_until is not None and item.retention_until >= today:
        raise RetentionApplies(
            f"The item must be retained until {item.retention_until.isoformat()}; it can be "
            "deleted after that day.",
            retention_until=item.retention_until.isoformat(),
        )
    item.deleted_at = utcnow()
    item.deleted_by = principal.subject
    _touch(item, principal)
    await clear_timers(session, item)
    await _emit_item(session, item, EVIDENCE_DELETED)


async def set_legal_hold(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    reason: str | None,
    if_match: str | None,
) -> EvidenceRead:
    """Set (``reason``) or lift (None) the legal hold."""
    item = await _require_item(session, item_id, for_update=True)
    if if_match is not None:
        check_version(if_match, item.version)
    item.legal_hold = reason is not None
    item.legal_hold_reason = reason
    item.legal_hold_by = principal.subject if reason is not None else None
    item.legal_hold_at = utcnow() if reason is not None else None
    _touch(item, principal)
    return await _emit_item(session, item, EVIDENCE_UPDATED)


async def emit_timer_event(
    session: AsyncSession, item: EvidenceItem, event_type: EventType, when: date
) -> None:
    """A date of the item passed: say so (the item itself does not change)."""
    state = event_view(await read_item(session, item))
    await emit(
        session,
        make_event(
            event_type,
            org_id=item.org_id,
            subject=item.id,
            version=item.version,
            data=EvidenceTimerData(item=state, date=when),
        ),
    )


async def expire(
    session: AsyncSession, item: EvidenceItem, event_type: EventType, *, today: date
) -> None:
    """The effective period ended: an approved item becomes ``expired`` (with its event)."""
    if item.status != "approved":
        return
    item.status = "expired"
    item.version += 1
    item.updated_by = "aims-scheduler"
    item.updated_at = utcnow()
    await session.flush()
    assert item.effective_to is not None
    await emit_timer_event(session, item, event_type, item.effective_to)


# --- Links ------------------------------------------------------------------------------------


async def add_link(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, body: LinkCreate
) -> tuple[LinkRead, bool]:
    """Link an item to a target; linking again returns the existing link (``False``)."""
    item = await _require_item(session, item_id, for_update=True)
    [(target_type, target_id)] = await _validated_targets(session, [body], field="")
    links = LinkRepository(session)
    existing = await links.find(item.id, target_type, target_id)
    if existing is not None:
        return LinkRead.model_validate(existing), False
    if await links.count(item.id) >= MAX_LINKS_PER_ITEM:
        raise TooManyLinks(f"An item serves at most {MAX_LINKS_PER_ITEM} targets.")
    await links.add_missing(
        principal.org_id, item.id, [(target_type, target_id)], principal.subject
    )
    _touch(item, principal)
    await _emit_item(session, item, EVIDENCE_UPDATED)
    created = await links.find(item.id, target_type, target_id)
    assert created is not None
    return LinkRead.model_validate(created), True


async def remove_link(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, link_id: uuid.UUID
) -> None:
    item = await _require_item(session, item_id, for_update=True)
    links = LinkRepository(session)
    link = await links.get(item.id, link_id)
    if link is None:
        raise LinkNotFound(f"Evidence item {item_id} has no link {link_id}.")
    await links.delete(link)
    _touch(item, principal)
    await _emit_item(session, item, EVIDENCE_UPDATED)


# --- Versions ---------------------------------------------------------------------------------


async def _version_reads(
    session: AsyncSession, versions: Sequence[EvidenceVersion]
) -> list[VersionRead]:
    files = await FileRepository(session).for_versions([v.id for v in versions])
    return [
        VersionRead.model_validate(
            {
                **{c.key: getattr(v, c.key) for c in EvidenceVersion.__table__.columns},
                "files": [EvidenceFileRead.model_validate(f) for f in files[v.id]],
            }
        )
        for v in versions
    ]


async def list_versions(
    session: AsyncSession, item_id: uuid.UUID, *, limit: int, after_number: int | None
) -> tuple[list[VersionRead], bool]:
    await _require_item(session, item_id)
    rows = await VersionRepository(session).page(
        item_id, limit=limit + 1, after_number=after_number
    )
    return await _version_reads(session, rows[:limit]), len(rows) > limit


async def versions_of_items(
    session: AsyncSession, item_ids: Sequence[uuid.UUID], *, limit: int, after: uuid.UUID | None
) -> tuple[list[VersionRead], list[EvidenceVersion]]:
    """The versions (with files) of several items, oldest first, in one page."""
    rows = await VersionRepository(session).of_items(item_ids, limit=limit + 1, after=after)
    return await _version_reads(session, rows[:limit]), rows


async def _require_version(
    session: AsyncSession, item_id: uuid.UUID, number: int
) -> EvidenceVersion:
    version = await VersionRepository(session).get(item_id, number)
    if version is None:
        raise VersionNotFound(f"Evidence item {item_id} has no version {number}.")
    return version


async def get_version(session: AsyncSession, item_id: uuid.UUID, number: int) -> VersionRead:
    await _require_item(session, item_id)
    [read] = await _version_reads(session, [await _require_version(session, item_id, number)])
    return read


async def create_version(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, body: VersionCreate
) -> VersionRead:
    """A new draft version after the latest; refused while the latest is still a draft or in
    review (finish or approve it first: one open version at a time keeps review simple)."""
    item = await _require_item(session, item_id, for_update=True)
    versions = VersionRepository(session)
    latest = await _require_version(session, item.id, item.latest_version)
    if latest.status in ("draft", "in_review"):
        raise VersionOpen(
            f"Version {latest.number} is still {latest.status.replace('_', ' ')}; change it, "
            "or approve it before starting another.",
            open_version=latest.number,
        )
    _check_url_for_kind(item, body.url, required=True)
    version = EvidenceVersion(
        id=uuid7(),
        org_id=item.org_id,
        item_id=item.id,
        number=latest.number + 1,
        status="draft",
        url=body.url,
        note=body.note,
        created_by=principal.subject,
        created_at=utcnow(),
    )
    versions.add(version)
    await session.flush()
    if body.copy_files:
        previous = (await FileRepository(session).for_versions([latest.id]))[latest.id]
        for file in previous:
            FileRepository(session).add(
                EvidenceFile(
                    id=uuid7(),
                    org_id=file.org_id,
                    item_id=item.id,
                    version_id=version.id,
                    system_id=file.system_id,
                    filename=file.filename,
                    content_type=file.content_type,
                    size_bytes=file.size_bytes,
                    sha256=file.sha256,
                    blob_key=file.blob_key,
                    created_by=principal.subject,
                    created_at=utcnow(),
                )
            )
    item.latest_version = version.number
    _touch(item, principal)
    await _emit_item(session, item, EVIDENCE_UPDATED)
    [read] = await _version_reads(session, [version])
    return read


def _check_url_for_kind(item: EvidenceItem, url: str | None, *, required: bool) -> None:
    if item.kind == "link" and url is None and required:
        raise KindMismatch("A version of a `link` item needs a `url`.")
    if item.kind != "link" and url is not None:
        raise KindMismatch("Only `link` items have a URL; upload files to this item instead.")


async def require_open_version(
    session: AsyncSession, item_id: uuid.UUID, number: int
) -> tuple[EvidenceItem, EvidenceVersion]:
    """The item and version a file may be added to: a draft version of a file-holding item."""
    item = await _require_item(session, item_id)
    version = await _require_version(session, item_id, number)
    if item.kind == "link":
        raise KindMismatch("A `link` item holds a URL, not files.")
    if version.status != "draft":
        raise VersionImmutable(
            f"Version {number} is {version.status.replace('_', ' ')}; files can only be added "
            "to a draft. Start a new version (POST …/versions) to change the evidence.",
            version_status=version.status,
        )
    return item, version


async def record_file(
    session: AsyncSession,
    blobs: BlobStore,
    principal: Principal,
    *,
    item_id: uuid.UUID,
    number: int,
    filename: str,
    content_type: str,
    staged: StagedBlob,
    system_id: uuid.UUID | None = None,
) -> EvidenceFileRead:
    """Place a received upload at its content address and record it in a draft version, with
    its ``evidence.added`` event. The blob is placed before the row commits: a failed commit
    leaves an unreferenced blob (harmless, collectable), never a row whose content is missing.
    """
    item, version = await require_open_version(session, item_id, number)
    files = FileRepository(session)
    if await files.count_in_version(version.id) >= MAX_FILES_PER_VERSION:
        raise TooManyFiles(f"A version holds at most {MAX_FILES_PER_VERSION} files.")
    blob_key = await blobs.place(principal.org_id, staged)
    await BlobRepository(session).record_ok(
        principal.org_id, staged.sha256, staged.size_bytes, blob_key
    )
    file = EvidenceFile(
        id=uuid7(),
        org_id=principal.org_id,
        item_id=item.id,
        version_id=version.id,
        system_id=system_id,
        filename=filename,
        content_type=content_type,
        size_bytes=staged.size_bytes,
        sha256=staged.sha256,
        blob_key=blob_key,
        created_by=principal.subject,
        created_at=utcnow(),
    )
    files.add(file)
    await session.flush()
    state = EvidenceFileRead.model_validate(file)
    await emit(
        session,
        make_event(EVIDENCE_ADDED, org_id=file.org_id, subject=file.id, version=1, data=state),
    )
    return state


async def submit(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    if_match: str | None,
    *,
    today: date,
) -> EvidenceRead:
    """The latest version (a draft with content) goes into review."""
    item = await _require_item(session, item_id, for_update=True)
    if if_match is not None:
        check_version(if_match, item.version)
    version = await _require_version(session, item.id, item.latest_version)
    if version.status != "draft":
        raise WrongVersionStatus(
            f"Version {version.number} is {version.status.replace('_', ' ')}, not a draft.",
            version_status=version.status,
        )
    if item.kind == "link":
        if not version.url:
            raise VersionEmpty(f"Version {version.number} has no URL.")
    elif await FileRepository(session).count_in_version(version.id) == 0:
        raise VersionEmpty(
            f"Version {version.number} holds no file; upload one "
            f"(POST /v1/evidence/{item.id}/versions/{version.number}/files) first."
        )
    version.status = "in_review"
    version.submitted_by = principal.subject
    version.submitted_at = utcnow()
    item.status = item_status(
        current_version=item.current_version,
        latest_status=version.status,
        superseded_by=item.superseded_by,
        effective_to=item.effective_to,
        today=today,
    )
    _touch(item, principal)
    return await _emit_item(session, item, EVIDENCE_UPDATED)


async def approve(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    if_match: str | None,
    *,
    today: date,
) -> EvidenceRead:
    """The latest version (in review) becomes approved and immutable; the version approved
    before it is superseded; the item is approved (or expired, if its period already ended)."""
    item = await _require_item(session, item_id, for_update=True)
    if if_match is not None:
        check_version(if_match, item.version)
    versions = VersionRepository(session)
    version = await _require_version(session, item.id, item.latest_version)
    if version.status != "in_review":
        raise WrongVersionStatus(
            f"Version {version.number} is {version.status.replace('_', ' ')}; submit it for "
            "review (POST …/submit) before approving.",
            version_status=version.status,
        )
    if item.current_version is not None:
        previous = await versions.get(item.id, item.current_version)
        if previous is not None:
            previous.status = "superseded"
    version.status = "approved"
    version.approved_by = principal.subject
    version.approved_at = utcnow()
    item.current_version = version.number
    before = item.status
    item.status = item_status(
        current_version=item.current_version,
        latest_status=version.status,
        superseded_by=item.superseded_by,
        effective_to=item.effective_to,
        today=today,
    )
    _touch(item, principal)
    state = await _emit_item(session, item, EVIDENCE_APPROVED)
    await _emit_if_expired(session, item, before)
    return state


async def _emit_if_expired(session: AsyncSession, item: EvidenceItem, before: str) -> None:
    """A change that leaves an item expired (approved with a period already ended) says so
    at once; the expiry timer only fires for the day the period ends."""
    if item.status == "expired" and before != "expired":
        assert item.effective_to is not None
        await emit_timer_event(session, item, EVIDENCE_EXPIRED, item.effective_to)


# --- Files and blob integrity -----------------------------------------------------------------


async def get_file(session: AsyncSession, file_id: uuid.UUID) -> EvidenceFile:
    file = await FileRepository(session).get(file_id)
    if file is None:
        raise EvidenceFileNotFound(f"No evidence file {file_id} in your organisation.")
    return file


async def record_blob_check(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    sha256: str,
    size_bytes: int,
    key: str,
    state: BlobState,
    detected_by: str,
    always_emit: bool,
) -> BlobIntegrityRead | None:
    """Record what a check of one blob found. A problem emits ``blob.integrity_failed`` when
    it is new (or ``always_emit``: once per verification run); returns the problem."""
    previous = await BlobRepository(session).set_state(org_id, sha256, size_bytes, key, state)
    if state == "ok":
        return None
    total, affected = await FileRepository(session).affected_by_blob(
        sha256, limit=MAX_FILES_IN_PROBLEM
    )
    problem = BlobIntegrityRead(
        sha256=sha256,
        state=state,
        size_bytes=size_bytes,
        detected_by=detected_by,
        file_count=total,
        files=[
            ItemReference(
                file_id=file.id, filename=file.filename, item_id=file.item_id, version_number=n
            )
            for file, n in affected
        ],
    )
    if always_emit or previous != state:
        await emit(
            session,
            make_event(
                BLOB_INTEGRITY_FAILED, org_id=org_id, subject=sha256, version=1, data=problem
            ),
        )
    return problem
