"""Request and response bodies of the evidence item API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.evidence.schemas import EvidenceFileRead
from shared.http import Page
from shared.text import Name, Prose, no_nul

MAX_LINKS_PER_REQUEST = 200
MAX_LINKS_PER_ITEM = 1_000
# Links carried in an event's data; the rest are counted (``link_count``).
MAX_LINKS_IN_EVENT = 50
MAX_FILES_PER_VERSION = 1_000


class EvidenceKind(enum.StrEnum):
    DOCUMENT = "document"
    RECORD = "record"
    SCREENSHOT = "screenshot"
    LOG = "log"
    EXPORT = "export"
    LINK = "link"


class EvidenceStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class TargetType(enum.StrEnum):
    CLAUSE = "clause"
    CONTROL = "control"
    DOCUMENTED_INFORMATION = "documented_information"
    SYSTEM = "system"
    RISK = "risk"
    SOA_ENTRY = "soa_entry"


def _http_url(value: str) -> str:
    if not value.lower().startswith(("https://", "http://")) or any(
        c.isspace() or ord(c) < 32 for c in value
    ):
        raise ValueError("must be an http(s) URL without spaces or control characters")
    return value


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=2048),
    AfterValidator(no_nul),
    AfterValidator(_http_url),
]
TargetId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
Person = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
    AfterValidator(no_nul),
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(no_nul),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkCreate(_Strict):
    """What an item serves: a clause (``7.5.3``), an Annex A control (``A.6.2.8``), a
    documented-information item (``DI-01``), an AI system (its id), a risk (its UUID), or a
    Statement of Applicability entry (the control id it is about, or the entry's UUID)."""

    target_type: TargetType
    target_id: TargetId


class LinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    target_type: str
    target_id: str
    created_by: str
    created_at: datetime


class _Dates(_Strict):
    @model_validator(mode="after")
    def _period_in_order(self) -> _Dates:
        start = getattr(self, "effective_from", None)
        end = getattr(self, "effective_to", None)
        if start is not None and end is not None and end < start:
            raise ValueError("effective_to must not be before effective_from")
        return self


class EvidenceCreate(_Dates):
    title: Name
    kind: EvidenceKind = EvidenceKind.DOCUMENT
    description: Prose | None = None
    owner: Person | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    review_by: date | None = None
    retention_until: date | None = None
    url: Url | None = Field(None, description="The URL of version 1 (kind `link` only)")
    note: Prose | None = Field(None, description="A note on version 1")
    links: list[LinkCreate] = Field(default_factory=list, max_length=MAX_LINKS_PER_REQUEST)

    @model_validator(mode="after")
    def _url_only_for_links(self) -> EvidenceCreate:
        if self.kind is EvidenceKind.LINK and self.url is None:
            raise ValueError("an item of kind `link` needs a `url`")
        if self.kind is not EvidenceKind.LINK and self.url is not None:
            raise ValueError("only an item of kind `link` has a `url`; upload files instead")
        return self


class EvidenceUpdate(_Dates):
    """Fields to change; absent fields stay, ``null`` clears an optional one. The content of
    an approved version never changes: a new version does (``POST …/versions``)."""

    title: Name | None = None
    description: Prose | None = None
    owner: Person | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    review_by: date | None = None
    retention_until: date | None = None
    superseded_by: uuid.UUID | None = Field(
        None, description="The item that replaces this one (status becomes `superseded`)"
    )

    @model_validator(mode="after")
    def _title_not_cleared(self) -> EvidenceUpdate:
        if "title" in self.model_fields_set and self.title is None:
            raise ValueError("title cannot be cleared")
        return self


class EvidenceRead(BaseModel):
    """An evidence item; also the data of its events (there ``links`` holds at most
    50 links and ``link_count`` counts them all)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    title: str
    kind: EvidenceKind
    description: str | None
    owner: str | None
    status: EvidenceStatus
    effective_from: date | None
    effective_to: date | None
    review_by: date | None
    retention_until: date | None
    legal_hold: bool
    legal_hold_reason: str | None
    legal_hold_by: str | None
    legal_hold_at: datetime | None
    current_version: int | None = Field(description="Number of the approved version in force")
    latest_version: int = Field(description="Number of the newest version")
    superseded_by: uuid.UUID | None
    links: list[LinkRead]
    link_count: int
    version: int = Field(description="Changes with every update; the ETag")
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    deleted_at: datetime | None = None
    deleted_by: str | None = None


EvidencePage = Page[EvidenceRead]


class VersionCreate(_Strict):
    note: Prose | None = None
    url: Url | None = Field(None, description="The URL of the new version (kind `link` only)")
    copy_files: bool = Field(
        False, description="Start with the files of the previous version (same blobs, no copy)"
    )


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    item_id: uuid.UUID
    number: int
    status: VersionStatus
    url: str | None
    note: str | None
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    files: list[EvidenceFileRead]


class VersionPage(BaseModel):
    items: list[VersionRead]
    next_cursor: str | None = None


class LegalHoldSet(_Strict):
    reason: Reason


class TargetEvidence(BaseModel):
    """One target's evidence: the first items (oldest first) and how many there are."""

    target_type: TargetType
    target_id: str
    total_count: int
    items: list[EvidenceRead]


class TargetEvidenceList(BaseModel):
    items: list[TargetEvidence]


class ItemReference(BaseModel):
    """An item a blob problem affects (bounded lists in reports and events)."""

    file_id: uuid.UUID
    filename: str
    item_id: uuid.UUID
    version_number: int | None


class BlobIntegrityRead(BaseModel):
    """A blob whose stored content no longer matches its SHA-256 (``corrupt``) or is gone
    (``missing``); data of ``aims.evidence.blob.integrity_failed``. At most 100 affected files
    are listed; ``file_count`` counts them all."""

    sha256: str
    state: str
    size_bytes: int
    detected_by: str = Field(description="`download` or `verify`")
    file_count: int
    files: list[ItemReference]


class BlobVerifyReport(BaseModel):
    """The result of verifying every blob of an organisation."""

    checked: int
    ok: int
    corrupt: int
    missing: int
    bytes_checked: int
    duration_ms: int
    problems: list[BlobIntegrityRead]


class EvidenceTimerData(BaseModel):
    """Data of the time-based events: the item's state when the date passed."""

    item: EvidenceRead
    date: date


def event_view(read: EvidenceRead) -> EvidenceRead:
    """``read`` with its links capped for an event's data (``link_count`` keeps the total)."""
    if len(read.links) <= MAX_LINKS_IN_EVENT:
        return read
    return read.model_copy(update={"links": read.links[:MAX_LINKS_IN_EVENT]})


def problem_errors(field: str, message: str) -> list[dict[str, Any]]:
    return [{"location": ["body", field], "message": message}]
