"""Request and response models of the Statement of Applicability and the control catalogue."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.http import Page
from shared.text import no_nul


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
    """An EU AI Act article related to a control by the editorial crosswalk (guidance only)."""

    article: str = Field(examples=["26"])
    title: str
    citation: str = Field("", examples=["Art. 26"])
    roles: list[str] = Field(
        default_factory=list, description="The operators the article binds (provider, deployer…)"
    )
    guidance: Literal[True] = Field(
        True, description="Always true: an editorial crosswalk, not legal advice"
    )


class RelatedEUAIAct(BaseModel):
    """Related EU AI Act articles of one control, from the editorial crosswalk."""

    guidance: Literal[True] = Field(
        True, description="Always true: an editorial crosswalk, not legal advice"
    )
    notice: str
    articles: list[EUAIActArticleRef] = Field(default_factory=list)


class ControlCrosswalk(BaseModel):
    nist_ai_rmf: list[NistSubcategoryRef]
    eu_ai_act: list[EUAIActArticleRef] = Field(
        description="Related articles from the editorial crosswalk: guidance, not legal advice"
    )
    eu_ai_act_guidance: Literal[True] = True
    notes: list[str]


class ControlDetail(ControlRead):
    crosswalk: ControlCrosswalk


class ControlList(BaseModel):
    items: list[ControlDetail]
    count: int


class CrosswalkNistResult(BaseModel):
    subcategory: NistSubcategoryRef
    controls: list[ControlRead]
    clauses: list[ClauseRef] = Field(
        default_factory=list, description="Main clauses the crosswalk pairs with the subcategory"
    )
    note: str


class CrosswalkEUResult(BaseModel):
    article: EUAIActArticleRef
    controls: list[ControlRead]
    note: str
    guidance: Literal[True] = True


class ClauseRef(BaseModel):
    id: str = Field(examples=["6.1.4"])
    title: str


class ControlRef(BaseModel):
    id: str = Field(examples=["A.6.2.8"])
    title: str


class EUAIActMapping(BaseModel):
    """One article of the editorial EU AI Act ↔ ISO/IEC 42001 crosswalk."""

    article: str = Field(examples=["26"])
    citation: str = Field(examples=["Art. 26"])
    title: str
    roles: list[str] = Field(description="The operators the article binds")
    clauses: list[ClauseRef]
    controls: list[ControlRef]


class EUAIActNoCounterpart(BaseModel):
    citation: str = Field(examples=["Art. 49"])
    articles: list[str]
    why: str


class EUAIActCrosswalk(BaseModel):
    """``GET /v1/crosswalks/eu-ai-act``: guidance, never evidence of conformity with the Act."""

    guidance: Literal[True] = Field(
        True, description="Always true: an editorial crosswalk, not legal advice"
    )
    notice: str
    status: str = Field(description="The crosswalk's own statement of what it is")
    query: dict[str, str] = Field(description="The filter applied (normalised)")
    items: list[EUAIActMapping]
    no_counterpart: list[EUAIActNoCounterpart] = Field(
        description="Articles (asked for, or all when unfiltered) with no ISO/IEC 42001 counterpart"
    )


class NistPairRead(BaseModel):
    """One pair of the NIST AI RMF ↔ ISO/IEC 42001 crosswalk: a clause or an Annex A control."""

    subcategory: NistSubcategoryRef
    iso_ref: str = Field(description="As the crosswalk prints it", examples=["6.1.2", "B.6.2.6"])
    iso_ref_type: Literal["clause", "annex_b_guidance"]
    clause: ClauseRef | None = None
    control: ControlRef | None = None


class NistCrosswalk(BaseModel):
    """``GET /v1/crosswalks/nist-ai-rmf``: every pair, clause-level ones included."""

    note: str
    query: dict[str, str]
    items: list[NistPairRead]


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
    related_eu_ai_act: RelatedEUAIAct | None = Field(
        default=None,
        description="EU AI Act articles related to the control by the editorial crosswalk: "
        "guidance, not legal advice; always the packaged crosswalk, also in old versions",
    )


SoAEntryPage = Page[SoAEntryRead]


class AcceptProposals(BaseModel):
    """Accept proposed entries as they stand: each becomes a decision by the caller."""

    model_config = ConfigDict(extra="forbid")

    control_ids: (
        list[Annotated[str, StringConstraints(max_length=16), AfterValidator(no_nul)]] | None
    ) = Field(
        default=None,
        max_length=38,
        description="Controls to accept; default: every entry that is still only proposed",
    )


class AcceptProposalsResult(BaseModel):
    accepted: list[str] = Field(description="Proposals that became decisions")
    not_proposed: list[str] = Field(
        description="Asked-for controls that were not proposed (decided or undecided): unchanged"
    )
    items: list[SoAEntryRead]


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
        description="The organisation's AI roles; default: its organisation-level AI roles (from "
        "the inventory) with the roles of its in-scope, live AI systems",
    )


class ProposeResult(BaseModel):
    roles: list[AIRole]
    roles_from: str = Field(
        description="`request`, or `inventory` (organisation-level roles and in-scope, live "
        "systems)"
    )
    organisation_roles: list[AIRole] = Field(
        default_factory=list, description="The organisation-level AI roles the inventory holds"
    )
    systems_considered: list[uuid.UUID] = Field(
        default_factory=list,
        description="In-scope, live (deployed) systems whose roles, data, vendors count",
    )
    processes_data: bool
    operates_systems: bool = Field(
        False, description="At least one in-scope system is live (deployed): the AIMS operates it"
    )
    has_suppliers: bool = Field(
        False,
        description="An in-scope, live system has a vendor or is built by a third party (hybrid)",
    )
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
