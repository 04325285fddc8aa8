"""Request and response models of the Statement of Applicability and the control catalogue."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.http import Page


class ImplementationStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    NOT_APPLICABLE = "not_applicable"


class Decision(enum.StrEnum):
    UNDECIDED = "undecided"  # no entry yet: neither proposed nor decided
    PROPOSED = "proposed"
    DECIDED = "decided"


class AIRole(enum.StrEnum):
    """ISO/IEC 42001 roles an organisation holds for its AI systems."""

    PRODUCER = "producer"
    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


# --- Catalogue --------------------------------------------------------------------------------


class ControlRead(BaseModel):
    """An Annex A control in our own short wording (paraphrase, not ISO text)."""

    id: str = Field(examples=["A.6.2.6"])
    title: str
    summary: str
    domain_id: str
    domain: str
    objective_id: str
    objective: str


class NistSubcategoryRef(BaseModel):
    id: str = Field(examples=["GOVERN 1.6"])
    title: str


class EUAIActArticleRef(BaseModel):
    article: str = Field(examples=["26"])
    title: str


class ControlCrosswalk(BaseModel):
    nist_ai_rmf: list[NistSubcategoryRef]
    eu_ai_act: list[EUAIActArticleRef]
    notes: list[str]


class ControlDetail(ControlRead):
    crosswalk: ControlCrosswalk


class ControlList(BaseModel):
    items: list[ControlDetail]
    count: int


class CrosswalkNistResult(BaseModel):
    subcategory: NistSubcategoryRef
    controls: list[ControlRead]
    note: str


class CrosswalkEUResult(BaseModel):
    article: EUAIActArticleRef
    controls: list[ControlRead]
    note: str


# --- Entries ----------------------------------------------------------------------------------


class SoAEntryRead(BaseModel):
    """One line of the SoA. ``version`` 0 and decision ``undecided``: no entry stored yet."""

    model_config = ConfigDict(from_attributes=True)

    control_id: str
    control_title: str
    domain_id: str
    applicable: bool | None
    justification: str | None = None
    implementation_status: ImplementationStatus | None = None
    owner: str | None = None
    notes: str | None = None
    decision: Decision
    proposal_reason: str | None = None
    selected_by_risks: list[uuid.UUID] = Field(
        default_factory=list,
        description="Non-closed risks whose treatment relies on this control (from the register)",
    )
    decided_by: str | None = None
    decided_at: datetime | None = None
    version: int = 0
    updated_at: datetime | None = None


SoAEntryPage = Page[SoAEntryRead]


class SoAEntryDecide(BaseModel):
    """Decide one control. Absent fields keep their value; ``applicable`` is required the first
    time a control is decided without a proposal."""

    model_config = ConfigDict(extra="forbid")

    applicable: bool | None = None
    justification: str | None = Field(default=None, max_length=4000)
    implementation_status: ImplementationStatus | None = None
    owner: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=4000)


class ProposeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[AIRole] | None = Field(
        default=None,
        description="The organisation's AI roles; default: the union of the roles recorded on "
        "its AI systems",
    )


class ProposeResult(BaseModel):
    roles: list[AIRole]
    roles_from: str = Field(description="`request` or `systems`")
    processes_data: bool
    proposed: list[str] = Field(description="Controls whose proposal was created or refreshed")
    kept_decided: list[str] = Field(description="Decided controls the proposal left alone")
    items: list[SoAEntryRead]


# --- Consistency ------------------------------------------------------------------------------


class SoAIssue(BaseModel):
    code: str
    message: str
    control_id: str | None = None
    risk_ids: list[uuid.UUID] = []


class SoACheck(BaseModel):
    consistent: bool = Field(description="No inconsistency that would refuse an approval")
    inconsistencies: list[SoAIssue]
    flags: list[SoAIssue]


# --- Versions ---------------------------------------------------------------------------------


class SoAVersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=4000)


class SoAVersionRead(BaseModel):
    """A version with its full snapshot of entries (also the data of ``soa.changed``)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    number: int
    status: VersionStatus
    note: str | None = None
    entries: list[SoAEntryRead]
    created_at: datetime
    created_by: str
    approved_at: datetime | None = None
    approved_by: str | None = None
    superseded_at: datetime | None = None


class SoAVersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    status: VersionStatus
    note: str | None = None
    created_at: datetime
    created_by: str
    approved_at: datetime | None = None
    approved_by: str | None = None
    superseded_at: datetime | None = None


SoAVersionPage = Page[SoAVersionSummary]


class FieldChange(BaseModel):
    before: Any = None
    after: Any = None


class SoAEntryDiff(BaseModel):
    control_id: str
    changes: dict[str, FieldChange]


class SoADiff(BaseModel):
    from_version: int
    to_version: int
    changed: list[SoAEntryDiff]
    added: list[str]
    removed: list[str]
