"""The evidence register (evidence service): items with their versions, files and links, and
the evidence of an AI system or an Annex A control.

File uploads and downloads stay on REST (``POST /v1/evidence/{id}/versions/{n}/files``,
``GET /v1/files/{id}/content``): GraphQL carries JSON, not streamed bytes. The types here carry
each file's metadata and its REST download path.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from gateway.clients.evidence_items import (
    UpstreamEvidence,
    UpstreamEvidenceFile,
    UpstreamEvidenceLink,
    UpstreamEvidenceVersion,
)
from gateway.loaders.children import ChildrenKey
from gateway.loaders.evidence_targets import EvidenceTarget
from gateway.schema.context import Info
from gateway.schema.errors import UserError, attempt
from gateway.schema.ids import parse_node_id, uuid_or_none
from gateway.schema.organisation_context import page_edges
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from gateway.schema.scalars import BigInt
from shared.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from gateway.schema.ai_systems import AISystem

# The evidence of a system or control listed with it, unless the field asks for another size.
TARGET_PAGE_SIZE = 10


@strawberry.enum(description="What an evidence item is.")
class EvidenceKind(enum.Enum):
    DOCUMENT = "document"
    RECORD = "record"
    SCREENSHOT = "screenshot"
    LOG = "log"
    EXPORT = "export"
    LINK = "link"


@strawberry.enum(
    description="Where an evidence item stands: draft → in_review → approved; expired when its "
    "effective period has ended, superseded when another item replaces it."
)
class EvidenceStatus(enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


@strawberry.enum(description="Where a version stands; an approved version never changes.")
class EvidenceVersionStatus(enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


@strawberry.enum(description="What an evidence item can serve.")
class EvidenceTargetType(enum.Enum):
    CLAUSE = "clause"
    CONTROL = "control"
    DOCUMENTED_INFORMATION = "documented_information"
    SYSTEM = "system"
    RISK = "risk"
    SOA_ENTRY = "soa_entry"


@strawberry.type(
    name="EvidenceFile",
    description="A file of an evidence version: its metadata. Upload and download it over REST.",
)
class EvidenceFile:
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: BigInt
    sha256: str = strawberry.field(description="SHA-256 of the content, lowercase hex.")
    system_id: uuid.UUID | None = strawberry.field(
        description="The system it was uploaded for through `/v1/systems/{id}/files`, if so."
    )
    created_by: str
    created_at: datetime
    download_path: str = strawberry.field(
        description="`GET` this path of the evidence service (with your credentials) for the "
        "bytes; `Range` is supported and the SHA-256 is verified."
    )

    @classmethod
    def from_upstream(cls, f: UpstreamEvidenceFile) -> EvidenceFile:
        return cls(
            id=f.id,
            filename=f.filename,
            content_type=f.content_type,
            size_bytes=BigInt(f.size_bytes),
            sha256=f.sha256,
            system_id=f.system_id,
            created_by=f.created_by,
            created_at=f.created_at,
            download_path=f"/v1/files/{f.id}/content",
        )


@strawberry.type(
    name="EvidenceVersion",
    description="One version of an evidence item. Files are uploaded into a draft version over "
    "REST (`POST /v1/evidence/{id}/versions/{number}/files`).",
)
class EvidenceVersion:
    id: uuid.UUID
    evidence_id: uuid.UUID = strawberry.field(description="The item's UUID.")
    number: int
    status: EvidenceVersionStatus
    url: str | None = strawberry.field(description="The URL (items of kind `LINK`).")
    note: str | None
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    files: list[EvidenceFile]

    @classmethod
    def from_upstream(cls, v: UpstreamEvidenceVersion) -> EvidenceVersion:
        return cls(
            id=v.id,
            evidence_id=v.item_id,
            number=v.number,
            status=EvidenceVersionStatus(v.status),
            url=v.url,
            note=v.note,
            created_by=v.created_by,
            created_at=v.created_at,
            submitted_by=v.submitted_by,
            submitted_at=v.submitted_at,
            approved_by=v.approved_by,
            approved_at=v.approved_at,
            files=[EvidenceFile.from_upstream(f) for f in v.files],
        )


@strawberry.type(name="EvidenceVersionEdge")
class EvidenceVersionEdge:
    cursor: str
    node: EvidenceVersion


@strawberry.type(name="EvidenceVersionConnection", description="Versions, oldest first.")
class EvidenceVersionConnection:
    page_info: relay.PageInfo
    edges: list[EvidenceVersionEdge]


@strawberry.type(name="EvidenceLink", description="Something an evidence item serves.")
class EvidenceLink:
    id: uuid.UUID = strawberry.field(description="The link's UUID (to unlink it).")
    target_type: EvidenceTargetType
    target_id: str = strawberry.field(
        description="A clause (`7.5.3`), an Annex A control (`A.6.2.8`), a documented-"
        "information item (`DI-01`), a system's or risk's UUID, or a SoA entry."
    )
    created_by: str
    created_at: datetime

    @classmethod
    def from_upstream(cls, link: UpstreamEvidenceLink) -> EvidenceLink:
        return cls(
            id=link.id,
            target_type=EvidenceTargetType(link.target_type),
            target_id=link.target_id,
            created_by=link.created_by,
            created_at=link.created_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystem",
        description="The AI system linked to (batched); null for other targets.",
    )
    async def ai_system(
        self, info: Info
    ) -> Annotated[AISystem, strawberry.lazy("gateway.schema.ai_systems")] | None:
        from gateway.schema.ai_systems import AISystem

        if self.target_type is not EvidenceTargetType.SYSTEM:
            return None
        if (system_id := uuid_or_none(self.target_id)) is None:
            return None
        system = await info.context.loaders.inventory_systems.load(system_id)
        return AISystem.from_upstream(system) if system is not None else None


@strawberry.type(name="Evidence", description="An evidence item of the register.")
class Evidence(relay.Node):
    evidence_id: relay.NodeID[uuid.UUID]
    title: str
    kind: EvidenceKind
    description: str | None
    owner: str | None
    status: EvidenceStatus
    effective_from: date | None
    effective_to: date | None
    review_by: date | None
    retention_until: date | None = strawberry.field(
        description="It cannot be deleted until the day after."
    )
    legal_hold: bool = strawberry.field(description="While held it cannot be deleted.")
    legal_hold_reason: str | None
    legal_hold_by: str | None
    legal_hold_at: datetime | None
    current_version: int | None = strawberry.field(
        description="Number of the approved version in force; null before the first approval."
    )
    latest_version: int = strawberry.field(description="Number of the newest version.")
    superseded_by: uuid.UUID | None = strawberry.field(description="The item replacing it.")
    links: list[EvidenceLink]
    link_count: int
    version: int = strawberry.field(
        description="Increases on every change; send it as `expectedVersion`."
    )
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @classmethod
    def from_upstream(cls, e: UpstreamEvidence) -> Evidence:
        return cls(
            evidence_id=e.id,
            title=e.title,
            kind=EvidenceKind(e.kind),
            description=e.description,
            owner=e.owner,
            status=EvidenceStatus(e.status),
            effective_from=e.effective_from,
            effective_to=e.effective_to,
            review_by=e.review_by,
            retention_until=e.retention_until,
            legal_hold=e.legal_hold,
            legal_hold_reason=e.legal_hold_reason,
            legal_hold_by=e.legal_hold_by,
            legal_hold_at=e.legal_hold_at,
            current_version=e.current_version,
            latest_version=e.latest_version,
            superseded_by=e.superseded_by,
            links=[EvidenceLink.from_upstream(link) for link in e.links],
            link_count=e.link_count,
            version=e.version,
            created_by=e.created_by,
            created_at=e.created_at,
            updated_by=e.updated_by,
            updated_at=e.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The item's versions with their files, oldest first; the first page of "
        f"every item on a page costs one upstream call together. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def versions(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> EvidenceVersionConnection:
        check_page_size(first)
        if after is None:
            found = await info.context.loaders.evidence_versions.load(
                ChildrenKey(self.evidence_id, first)
            )
            first_edges = [
                EvidenceVersionEdge(
                    cursor=Position(skip=index + 1).encode(),
                    node=EvidenceVersion.from_upstream(item),
                )
                for index, item in enumerate(found.items)
            ]
            return EvidenceVersionConnection(
                edges=first_edges,
                page_info=relay.PageInfo(
                    has_next_page=found.has_next,
                    has_previous_page=False,
                    start_cursor=first_edges[0].cursor if first_edges else None,
                    end_cursor=first_edges[-1].cursor if first_edges else None,
                ),
            )
        start = Position.decode(after)
        page = await info.context.clients.evidence_items.versions(
            self.evidence_id, limit=start.skip + first, after=start.upstream
        )
        items = list(page.items)[start.skip :]
        edges: list[EvidenceVersionEdge] = []
        for index, item in enumerate(items):
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(
                EvidenceVersionEdge(
                    cursor=position.encode(), node=EvidenceVersion.from_upstream(item)
                )
            )
        return EvidenceVersionConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="versionByNumber",
        description="One version by its number; null when there is no such version.",
    )
    async def version_by_number(self, info: Info, number: int) -> EvidenceVersion | None:
        if not 1 <= number <= 1_000_000:
            return None
        try:
            found = await info.context.clients.evidence_items.version(self.evidence_id, number)
        except NotFound:
            return None
        return EvidenceVersion.from_upstream(found)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Files of the approved version in force (of the latest version before the "
        "first approval); batched across a page with `versions`."
    )
    async def files(self, info: Info) -> list[EvidenceFile]:
        number = self.current_version or self.latest_version
        known = await info.context.loaders.evidence_versions.load(
            ChildrenKey(self.evidence_id, MAX_PAGE_SIZE)
        )
        version = next((v for v in known.items if v.number == number), None)
        if version is None:  # beyond the first versions: read it alone
            version = await info.context.clients.evidence_items.version(self.evidence_id, number)
        return [EvidenceFile.from_upstream(f) for f in version.files]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Evidence | None]:
        ids = [uuid_or_none(i) for i in node_ids]
        found = await info.context.loaders.evidence.load_many([i for i in ids if i is not None])
        by_id = {e.id: e for e in found if e is not None}
        nodes = [
            Evidence.from_upstream(by_id[i]) if i is not None and i in by_id else None for i in ids
        ]
        if required and any(n is None for n in nodes):
            raise NotFound("No such evidence item in your organisation.")
        return nodes


def parse_evidence_id(value: str) -> uuid.UUID:
    """An Evidence's global ID, or the evidence service's own UUID."""
    return parse_node_id(value, "Evidence")


async def load_evidence(info: Info, evidence_id: uuid.UUID) -> Evidence | None:
    """One item through the request's DataLoader (a page of ids costs one call)."""
    found = await info.context.loaders.evidence.load(evidence_id)
    return Evidence.from_upstream(found) if found is not None else None


@strawberry.type(name="EvidenceConnection", description="A page of evidence items.")
class EvidenceConnection(relay.Connection[Evidence]):
    target: strawberry.Private[tuple[str, str] | None]
    known_total: strawberry.Private[int | None]

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="totalCount",
        description="How many items a system's or control's evidence holds (deleted ones never); "
        "null for a search (`evidence(filter:)`).",
    )
    async def total_count(self, info: Info) -> int | None:
        if self.known_total is not None or self.target is None:
            return self.known_total
        target_type, target_id = self.target
        # first=1, not 0: the service counts a target's items only over the rows it returns.
        found = await info.context.loaders.evidence_by_target.load(
            EvidenceTarget(target_type, target_id, 1)
        )
        return found.total_count


def _connection(
    edges: list[relay.Edge[Evidence]],
    page_info: relay.PageInfo,
    *,
    target: tuple[str, str] | None = None,
    total: int | None = None,
) -> EvidenceConnection:
    return EvidenceConnection(edges=edges, page_info=page_info, target=target, known_total=total)


async def evidence_of_target(
    info: Info, target_type: str, target_id: str, first: int, after: str | None
) -> EvidenceConnection:
    """The evidence of one target. The first page of every target on a page of systems or
    controls comes from one batched upstream call (``/v1/evidence-by-target``); later pages
    (``after``) page through ``/v1/evidence`` with the same order (oldest first)."""
    check_page_size(first)
    loader = info.context.loaders.evidence
    if after is None:
        found = await info.context.loaders.evidence_by_target.load(
            EvidenceTarget(target_type, target_id, first)
        )
        edges: list[relay.Edge[Evidence]] = []
        for index, item in enumerate(found.items):
            loader.prime(item.id, item)
            # Resuming after the n-th item re-reads the first page and skips n: one call.
            cursor = Position(skip=index + 1).encode()
            edges.append(relay.Edge(cursor=cursor, node=Evidence.from_upstream(item)))
        page_info = relay.PageInfo(
            has_next_page=found.total_count > len(found.items),
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return _connection(
            edges, page_info, target=(target_type, target_id), total=found.total_count
        )
    start = Position.decode(after)
    page = await info.context.clients.evidence_items.list_evidence(
        limit=start.skip + first, after=start.upstream, filters=[(target_type, target_id)]
    )
    for item in page.items:
        loader.prime(item.id, item)
    edges, page_info = page_edges(
        page.items[start.skip :], page.next_cursor, start, after, Evidence.from_upstream
    )
    return _connection(edges, page_info, target=(target_type, target_id))


@strawberry.input(
    name="EvidenceFilter",
    description="Which evidence items to list. Several values of one field are alternatives; "
    "several fields must all hold.",
)
class EvidenceFilter:
    controls: list[str] | None = strawberry.field(
        default=None, description="Annex A controls (`A.6.2.8`)."
    )
    clauses: list[str] | None = strawberry.field(default=None, description="Clauses (`7.5.3`).")
    documented_information: list[str] | None = strawberry.field(
        default=None, description="Documented-information items (`DI-01`)."
    )
    system_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="AI systems (IDs or UUIDs)."
    )
    risk_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Risks (IDs or UUIDs)."
    )
    soa_entries: list[str] | None = strawberry.field(
        default=None, description="SoA entries (the control they are about, or their UUID)."
    )
    statuses: list[EvidenceStatus] | None = None
    kinds: list[EvidenceKind] | None = None
    query: str | None = strawberry.field(
        default=None, description="Words in the title or description."
    )

    def params(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = []
        out += [("control", v) for v in self.controls or []]
        out += [("clause", v) for v in self.clauses or []]
        out += [("documented_information", v) for v in self.documented_information or []]
        out += [
            ("system", str(parse_node_id(v, "AISystem", field="systemIds")))
            for v in self.system_ids or []
        ]
        out += [
            ("risk", str(parse_node_id(v, "Risk", field="riskIds"))) for v in self.risk_ids or []
        ]
        out += [("soa_entry", v) for v in self.soa_entries or []]
        out += [("status", s.value) for s in self.statuses or []]
        out += [("kind", k.value) for k in self.kinds or []]
        if self.query is not None:
            out.append(("q", self.query))
        return out


# --- Mutations --------------------------------------------------------------------------------

_NODE_TYPE_OF_TARGET = {EvidenceTargetType.SYSTEM: "AISystem", EvidenceTargetType.RISK: "Risk"}


def _target_id(target_type: EvidenceTargetType, value: str) -> str:
    """A system or risk may be named by its global ID; the service takes the UUID. Anything
    else goes as given: the service checks every target and names the bad ones."""
    if (node_type := _NODE_TYPE_OF_TARGET.get(target_type)) is not None:
        try:
            return str(parse_node_id(value, node_type))
        except BadRequest:
            return value
    return value


@strawberry.input(name="EvidenceLinkInput", description="Something an evidence item serves.")
class EvidenceLinkInput:
    target_type: EvidenceTargetType
    target_id: str = strawberry.field(
        description="A clause (`7.5.3`), a control (`A.6.2.8`), an item of documented "
        "information (`DI-01`), an AI system or risk (ID or UUID), or a SoA entry."
    )

    def body(self) -> dict[str, str]:
        return {
            "target_type": self.target_type.value,
            "target_id": _target_id(self.target_type, self.target_id),
        }


@strawberry.input(
    name="CreateEvidenceInput",
    description="A new evidence item; version 1 starts as a draft. Upload its files over REST.",
)
class CreateEvidenceInput:
    title: str
    kind: EvidenceKind = EvidenceKind.DOCUMENT
    description: str | None = None
    owner: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    review_by: date | None = None
    retention_until: date | None = None
    url: str | None = strawberry.field(
        default=None, description="The URL of version 1 (kind `LINK` only)."
    )
    note: str | None = strawberry.field(default=None, description="A note on version 1.")
    links: list[EvidenceLinkInput] = strawberry.field(
        default_factory=list, description="What it serves; every target is checked."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Send the same key when retrying: the item is created once."
    )


@strawberry.input(
    name="UpdateEvidenceInput",
    description="A change to an evidence item's fields; omitted fields keep their value, null "
    "clears an optional one. Content changes are new versions (`createEvidenceVersion`).",
)
class UpdateEvidenceInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    expected_version: int = strawberry.field(
        description="The version you read: a stale one is a `ConflictError`."
    )
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    effective_from: date | None = strawberry.UNSET
    effective_to: date | None = strawberry.UNSET
    review_by: date | None = strawberry.UNSET
    retention_until: date | None = strawberry.UNSET
    superseded_by: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The item replacing this one (its status becomes `SUPERSEDED`).",
    )


@strawberry.input(name="LinkEvidenceInput", description="Link an item to what it serves.")
class LinkEvidenceInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    target_type: EvidenceTargetType
    target_id: str


@strawberry.input(name="UnlinkEvidenceInput", description="Remove one link of an item.")
class UnlinkEvidenceInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    link_id: uuid.UUID = strawberry.field(description="The link's `id`.")


@strawberry.input(
    name="EvidenceTransitionInput",
    description="An item to submit for review or approve.",
)
class EvidenceTransitionInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    expected_version: int | None = strawberry.field(
        default=None, description="The version you read; a stale one is a `ConflictError`."
    )


@strawberry.input(name="DeleteEvidenceInput", description="An item to delete.")
class DeleteEvidenceInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    expected_version: int = strawberry.field(
        description="The version you read; a stale one is a `ConflictError`."
    )


@strawberry.input(name="SetLegalHoldInput", description="Put an item under a legal hold.")
class SetLegalHoldInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    reason: str = strawberry.field(description="Why (a matter, a request), 1–2000 characters.")
    expected_version: int | None = None


@strawberry.input(name="ReleaseLegalHoldInput", description="Lift an item's legal hold.")
class ReleaseLegalHoldInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    expected_version: int | None = None


@strawberry.input(
    name="CreateEvidenceVersionInput",
    description="Start a new draft version (the latest must be approved or superseded).",
)
class CreateEvidenceVersionInput:
    id: strawberry.ID = strawberry.field(description="An Evidence ID (or its UUID).")
    note: str | None = None
    url: str | None = strawberry.field(default=None, description="Kind `LINK` only.")
    copy_files: bool = strawberry.field(
        default=False, description="Start with the files of the previous version."
    )


@strawberry.type(name="EvidencePayload")
class EvidencePayload:
    evidence: Evidence | None = strawberry.field(description="Null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(name="LinkEvidencePayload")
class LinkEvidencePayload:
    link: EvidenceLink | None = strawberry.field(description="Null when `errors` is not empty.")
    evidence: Evidence | None = strawberry.field(description="The item with its links.")
    errors: list[UserError]


@strawberry.type(name="DeleteEvidencePayload")
class DeleteEvidencePayload:
    deleted_evidence_id: strawberry.ID | None = strawberry.field(
        description="The deleted item's ID; null when `errors` is not empty."
    )
    errors: list[UserError]


@strawberry.type(name="CreateEvidenceVersionPayload")
class CreateEvidenceVersionPayload:
    evidence_version: EvidenceVersion | None = strawberry.field(
        description="The new draft version; null when `errors` is not empty."
    )
    errors: list[UserError]


def _rest(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


UPDATE_FIELDS = (
    "title",
    "description",
    "owner",
    "effective_from",
    "effective_to",
    "review_by",
    "retention_until",
)


def _payload(
    info: Info, found: UpstreamEvidence | None, errors: list[UserError]
) -> EvidencePayload:
    if found is None:
        return EvidencePayload(evidence=None, errors=errors)
    info.context.loaders.evidence.prime(found.id, found)
    return EvidencePayload(evidence=Evidence.from_upstream(found), errors=[])


@strawberry.type
class EvidenceQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description=f"The evidence register, oldest first, filtered. `first` is at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def evidence(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: EvidenceFilter | None = None,
    ) -> EvidenceConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.evidence_items.list_evidence(
            limit=start.skip + first,
            after=start.upstream,
            filters=filter.params() if filter else [],
        )
        for item in page.items:
            info.context.loaders.evidence.prime(item.id, item)
        edges, page_info = page_edges(
            page.items[start.skip :], page.next_cursor, start, after, Evidence.from_upstream
        )
        return _connection(edges, page_info)

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="evidenceItem",
        description="One evidence item by its ID (or UUID); null when your organisation has no "
        "such item.",
    )
    async def evidence_item(self, info: Info, id: strawberry.ID) -> Evidence | None:
        return await load_evidence(info, parse_evidence_id(id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="evidenceFile",
        description="One evidence file's metadata; null when your organisation has no such file.",
    )
    async def evidence_file(self, info: Info, id: uuid.UUID) -> EvidenceFile | None:
        try:
            found = await info.context.clients.evidence_items.file(id)
        except NotFound:
            return None
        return EvidenceFile.from_upstream(found)


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createEvidence",
        description="Record an evidence item and what it serves (roles: admin, manager, "
        "risk_owner, contributor). An unknown target is a `ValidationError` naming it.",
    )
    async def create_evidence(self, info: Info, input: CreateEvidenceInput) -> EvidencePayload:
        body: dict[str, Any] = {
            "title": input.title,
            "kind": input.kind.value,
            "description": input.description,
            "owner": input.owner,
            "effective_from": _rest(input.effective_from),
            "effective_to": _rest(input.effective_to),
            "review_by": _rest(input.review_by),
            "retention_until": _rest(input.retention_until),
            "note": input.note,
            "links": [link.body() for link in input.links],
        }
        if input.url is not None:
            body["url"] = input.url
        client = info.context.clients.evidence_items
        found, errors = await attempt(client.create(body, idempotency_key=input.idempotency_key))
        return _payload(info, found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="updateEvidence",
        description="Change an item's fields (roles: admin, manager, risk_owner, contributor); "
        "a stale `expectedVersion` is a `ConflictError`.",
    )
    async def update_evidence(self, info: Info, input: UpdateEvidenceInput) -> EvidencePayload:
        item_id = parse_evidence_id(input.id)
        body = {
            f: _rest(getattr(input, f))
            for f in UPDATE_FIELDS
            if getattr(input, f) is not strawberry.UNSET
        }
        if input.superseded_by is not strawberry.UNSET:
            body["superseded_by"] = (
                None
                if input.superseded_by is None
                else str(parse_node_id(input.superseded_by, "Evidence", field="supersededBy"))
            )
        client = info.context.clients.evidence_items
        found, errors = await attempt(
            client.update(item_id, body, expected_version=input.expected_version),
            kind="Evidence",
            resource_id=input.id,
        )
        return _payload(info, found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="linkEvidence",
        description="Link an item to a clause, control, documented-information item, AI system, "
        "risk or SoA entry (already linked: the existing link).",
    )
    async def link_evidence(self, info: Info, input: LinkEvidenceInput) -> LinkEvidencePayload:
        item_id = parse_evidence_id(input.id)
        client = info.context.clients.evidence_items
        target = EvidenceLinkInput(target_type=input.target_type, target_id=input.target_id)
        link, errors = await attempt(
            client.add_link(item_id, target.target_type.value, target.body()["target_id"]),
            kind="Evidence",
            resource_id=input.id,
        )
        if link is None:
            return LinkEvidencePayload(link=None, evidence=None, errors=errors)
        item = await client.get(item_id)
        info.context.loaders.evidence.prime(item.id, item)
        return LinkEvidencePayload(
            link=EvidenceLink.from_upstream(link), evidence=Evidence.from_upstream(item), errors=[]
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="unlinkEvidence", description="Remove one link of an item."
    )
    async def unlink_evidence(self, info: Info, input: UnlinkEvidenceInput) -> EvidencePayload:
        item_id = parse_evidence_id(input.id)
        client = info.context.clients.evidence_items
        _, errors = await attempt(
            client.remove_link(item_id, input.link_id), kind="Evidence", resource_id=input.id
        )
        if errors:
            return EvidencePayload(evidence=None, errors=errors)
        return _payload(info, await client.get(item_id), [])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="submitEvidence",
        description="Submit the latest (draft) version for review; a draft without a file (or, "
        "for a link, a URL) is a `ConflictError`.",
    )
    async def submit_evidence(self, info: Info, input: EvidenceTransitionInput) -> EvidencePayload:
        client = info.context.clients.evidence_items
        found, errors = await attempt(
            lambda: client.submit(
                parse_evidence_id(input.id), expected_version=input.expected_version
            ),
            kind="Evidence",
            resource_id=input.id,
        )
        return _payload(info, found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="approveEvidence",
        description="Approve the version in review (roles: admin, manager): it becomes "
        "immutable and the previously approved one is superseded.",
    )
    async def approve_evidence(self, info: Info, input: EvidenceTransitionInput) -> EvidencePayload:
        client = info.context.clients.evidence_items
        found, errors = await attempt(
            lambda: client.approve(
                parse_evidence_id(input.id), expected_version=input.expected_version
            ),
            kind="Evidence",
            resource_id=input.id,
        )
        return _payload(info, found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="deleteEvidence",
        description="Delete an item (roles: admin, manager). Refused with a `ConflictError` "
        "while under a legal hold or within its retention period.",
    )
    async def delete_evidence(
        self, info: Info, input: DeleteEvidenceInput
    ) -> DeleteEvidencePayload:
        item_id = parse_evidence_id(input.id)
        client = info.context.clients.evidence_items
        _, errors = await attempt(
            client.delete(item_id, expected_version=input.expected_version),
            kind="Evidence",
            resource_id=input.id,
        )
        if errors:
            return DeleteEvidencePayload(deleted_evidence_id=None, errors=errors)
        global_id = relay.GlobalID("Evidence", str(item_id))
        return DeleteEvidencePayload(deleted_evidence_id=strawberry.ID(str(global_id)), errors=[])

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="setLegalHold",
        description="Put an item under a legal hold (roles: admin, manager): it cannot be "
        "deleted until the hold is lifted.",
    )
    async def set_legal_hold(self, info: Info, input: SetLegalHoldInput) -> EvidencePayload:
        client = info.context.clients.evidence_items
        found, errors = await attempt(
            lambda: client.set_legal_hold(
                parse_evidence_id(input.id), input.reason, expected_version=input.expected_version
            ),
            kind="Evidence",
            resource_id=input.id,
        )
        return _payload(info, found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="releaseLegalHold", description="Lift an item's legal hold (roles: admin, manager)."
    )
    async def release_legal_hold(self, info: Info, input: ReleaseLegalHoldInput) -> EvidencePayload:
        client = info.context.clients.evidence_items
        found, errors = await attempt(
            lambda: client.release_legal_hold(
                parse_evidence_id(input.id), expected_version=input.expected_version
            ),
            kind="Evidence",
            resource_id=input.id,
        )
        return _payload(info, found, errors)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="createEvidenceVersion",
        description="Start a new draft version of an item; while the latest is a draft or in "
        "review this is a `ConflictError`. Upload files into it over REST.",
    )
    async def create_evidence_version(
        self, info: Info, input: CreateEvidenceVersionInput
    ) -> CreateEvidenceVersionPayload:
        body: dict[str, Any] = {"note": input.note, "copy_files": input.copy_files}
        if input.url is not None:
            body["url"] = input.url
        client = info.context.clients.evidence_items
        found, errors = await attempt(
            lambda: client.create_version(parse_evidence_id(input.id), body),
            kind="Evidence",
            resource_id=input.id,
        )
        return CreateEvidenceVersionPayload(
            evidence_version=EvidenceVersion.from_upstream(found) if found else None,
            errors=errors,
        )
