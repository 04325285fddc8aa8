"""Request and response bodies of the scope API (and the data of ``scope.changed``)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.http import Page

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Justification = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)]
Statement = Annotated[str, StringConstraints(max_length=20_000)]
MAX_ENTRIES = 1_000
# An excluded system in a sensitive sector needs a justification of some substance.
MIN_SENSITIVE_JUSTIFICATION = 20


class ScopeStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class Boundary(BaseModel):
    """A business activity, location or department, in or out of scope."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    included: bool = True
    justification: Justification = Field(
        default="", description="Why it is in or out; required when excluded"
    )

    @model_validator(mode="after")
    def _exclusion_is_justified(self) -> Boundary:
        if not self.included and not self.justification:
            raise ValueError(f"Excluding `{self.name}` needs a justification.")
        return self


class SystemEntry(BaseModel):
    """An AI system of the register, in or out of scope."""

    model_config = ConfigDict(extra="forbid")

    system_id: uuid.UUID
    included: bool = True
    justification: Justification = Field(
        default="", description="Why it is in or out; required when excluded"
    )

    @model_validator(mode="after")
    def _exclusion_is_justified(self) -> SystemEntry:
        if not self.included and not self.justification:
            raise ValueError(f"Excluding system {self.system_id} needs a justification.")
        return self


def _unique(entries: list[Any] | None, key: str, what: str) -> None:
    if not entries:
        return
    seen: set[Any] = set()
    for entry in entries:
        value = getattr(entry, key)
        value = value.casefold() if isinstance(value, str) else value
        if value in seen:
            raise ValueError(f"{what} `{getattr(entry, key)}` is listed twice.")
        seen.add(value)


class _ScopeContent(BaseModel):
    def _check_unique(self) -> None:
        _unique(getattr(self, "activities", None), "name", "Activity")
        _unique(getattr(self, "locations", None), "name", "Location")
        _unique(getattr(self, "departments", None), "name", "Department")
        _unique(getattr(self, "systems", None), "system_id", "System")


_EXAMPLE: dict[str, Any] = {
    "statement": "The AIMS covers the design, development and operation of AI systems used in "
    "lending and recruitment at our EU sites.",
    "activities": [{"name": "Credit decisioning", "included": True}],
    "locations": [
        {"name": "Berlin", "included": True},
        {"name": "Singapore", "included": False, "justification": "Sales office; no AI work"},
    ],
    "departments": [{"name": "Risk", "included": True}],
    "systems": [{"system_id": "01935c0e-8b1a-7c4e-9a6e-0d1f2a3b4c5d", "included": True}],
}


class ScopeVersionCreate(_ScopeContent):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"copy_from_current": True}, _EXAMPLE]}
    )

    copy_from_current: bool = Field(
        default=False,
        description="Start from the current approved version; fields sent here replace its",
    )
    statement: Statement | None = None
    activities: list[Boundary] | None = Field(default=None, max_length=MAX_ENTRIES)
    locations: list[Boundary] | None = Field(default=None, max_length=MAX_ENTRIES)
    departments: list[Boundary] | None = Field(default=None, max_length=MAX_ENTRIES)
    systems: list[SystemEntry] | None = Field(default=None, max_length=MAX_ENTRIES)

    @model_validator(mode="after")
    def _unique_entries(self) -> ScopeVersionCreate:
        self._check_unique()
        return self


class ScopeVersionUpdate(_ScopeContent):
    """A partial update of a draft; each list sent replaces the whole list."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    statement: Statement | None = None
    activities: list[Boundary] | None = Field(default=None, max_length=MAX_ENTRIES)
    locations: list[Boundary] | None = Field(default=None, max_length=MAX_ENTRIES)
    departments: list[Boundary] | None = Field(default=None, max_length=MAX_ENTRIES)
    systems: list[SystemEntry] | None = Field(default=None, max_length=MAX_ENTRIES)

    @model_validator(mode="after")
    def _unique_entries(self) -> ScopeVersionUpdate:
        self._check_unique()
        return self


class ScopeVersionRead(BaseModel):
    """The full state of a scope version."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    number: int = Field(description="1, 2, 3… in the order versions were created")
    status: ScopeStatus
    statement: str
    activities: list[Boundary]
    locations: list[Boundary]
    departments: list[Boundary]
    systems: list[SystemEntry]
    based_on_id: uuid.UUID | None = Field(description="The approved version this was copied from")
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    approved_by: str | None
    approved_at: datetime | None
    superseded_at: datetime | None


ScopeVersionPage = Page[ScopeVersionRead]


class ScopeChanged(BaseModel):
    """The data of ``aims.inventory.scope.changed``: a summary of the newly approved version,
    bounded in size whatever the register's size. Each system whose membership changed gets its
    own ``system_scope.changed``; the version's full content is ``GET /v1/scope-versions/{id}``."""

    id: uuid.UUID
    org_id: uuid.UUID
    number: int = Field(description="The approved version's number (also `dataversion`)")
    status: ScopeStatus
    version: int = Field(description="The scope version's ETag version")
    based_on_id: uuid.UUID | None
    approved_by: str | None
    approved_at: datetime | None
    previous_version_id: uuid.UUID | None = Field(
        description="The version this one supersedes, if any"
    )
    systems_listed: int = Field(description="Systems the version lists (in or out)")
    systems_in: int = Field(description="Systems now in scope (`in_scope` true)")
    systems_out: int = Field(description="Every other system of the register (`in_scope` false)")
    membership_changes: int = Field(
        description="Systems whose membership this approval changed: one `system_scope.changed` "
        "each, emitted in the same transaction"
    )
    activities: int = Field(description="Business activities the version lists")
    locations: int = Field(description="Locations the version lists")
    departments: int = Field(description="Departments the version lists")


class SystemScopeChanged(BaseModel):
    """The data of ``aims.inventory.system_scope.changed``: one system's scope membership as of
    an approved scope version (state-carrying; ``dataversion`` is the scope's number)."""

    system_id: uuid.UUID
    org_id: uuid.UUID
    in_scope: bool = Field(description="Whether the system is in the approved scope")
    scope_version_id: uuid.UUID = Field(description="The approved scope version")
    scope_number: int = Field(description="Its number; newer numbers win")


# --- Approval checks --------------------------------------------------------------------------


class ReasonCode(enum.StrEnum):
    EXCLUDED_HIGH_RISK = "excluded-high-risk-system"
    EXCLUDED_SENSITIVE_UNJUSTIFIED = "excluded-sensitive-system-unjustified"
    NO_BOUNDARIES = "no-boundaries"
    IN_SCOPE_WITHOUT_OWNER = "in-scope-system-without-owner"
    UNKNOWN_SYSTEM = "unknown-system"


class ScopeReason(BaseModel):
    """Why the version cannot be approved."""

    code: ReasonCode
    message: str
    system_id: uuid.UUID | None = None


class PathNodeRead(BaseModel):
    type: str = Field(description="`system` or `component`")
    id: uuid.UUID
    name: str


class ScopeWarning(BaseModel):
    """What an auditor will ask about, without blocking approval."""

    code: str = Field(description="`depends-outside-scope`")
    message: str
    system_id: uuid.UUID
    path: list[PathNodeRead] = Field(
        description="From the in-scope system to the first dependency outside the scope"
    )


class ScopeCheck(BaseModel):
    """The outcome approval would have now (a dry run)."""

    approvable: bool
    reasons: list[ScopeReason]
    warnings: list[ScopeWarning]


class ScopeVersionCheck(ScopeCheck):
    """The dry run of one version, in a batch."""

    scope_version_id: uuid.UUID


class ScopeCheckList(BaseModel):
    items: list[ScopeVersionCheck]


class ScopeApproval(BaseModel):
    scope_version: ScopeVersionRead
    warnings: list[ScopeWarning]


# --- Diff -------------------------------------------------------------------------------------


class BoundaryChange(BaseModel):
    name: str
    before: Boundary
    after: Boundary


class BoundaryDiff(BaseModel):
    added: list[Boundary]
    removed: list[Boundary]
    changed: list[BoundaryChange]


class SystemChange(BaseModel):
    system_id: uuid.UUID
    before: SystemEntry
    after: SystemEntry


class SystemsDiff(BaseModel):
    added: list[SystemEntry] = Field(description="Listed in the second version only")
    removed: list[SystemEntry] = Field(description="Listed in the first version only")
    changed: list[SystemChange]
    now_included: list[uuid.UUID] = Field(description="In scope in the second, not the first")
    now_excluded: list[uuid.UUID] = Field(description="In scope in the first, not the second")


class VersionRef(BaseModel):
    id: uuid.UUID
    number: int
    status: ScopeStatus


class ScopeDiff(BaseModel):
    from_version: VersionRef
    to_version: VersionRef
    statement_changed: bool
    statement_before: str
    statement_after: str
    activities: BoundaryDiff
    locations: BoundaryDiff
    departments: BoundaryDiff
    systems: SystemsDiff
