"""Request and response bodies of the context API (and the data of its events)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.http import Page


class IssueKind(enum.StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class Framework(enum.StrEnum):
    PESTLE = "pestle"
    SWOT = "swot"


class Category(enum.StrEnum):
    POLITICAL = "political"
    ECONOMIC = "economic"
    SOCIAL = "social"
    TECHNOLOGICAL = "technological"
    LEGAL = "legal"
    ENVIRONMENTAL = "environmental"
    STRENGTH = "strength"
    WEAKNESS = "weakness"
    OPPORTUNITY = "opportunity"
    THREAT = "threat"


CATEGORIES: dict[Framework, frozenset[Category]] = {
    Framework.PESTLE: frozenset(
        {
            Category.POLITICAL,
            Category.ECONOMIC,
            Category.SOCIAL,
            Category.TECHNOLOGICAL,
            Category.LEGAL,
            Category.ENVIRONMENTAL,
        }
    ),
    Framework.SWOT: frozenset(
        {Category.STRENGTH, Category.WEAKNESS, Category.OPPORTUNITY, Category.THREAT}
    ),
}


def category_error(framework: Framework, category: Category) -> str | None:
    """Why ``category`` is not a tag of ``framework``, or None when it is."""
    if category in CATEGORIES[framework]:
        return None
    allowed = ", ".join(sorted(c.value for c in CATEGORIES[framework]))
    return f"`{category.value}` is not a {framework.value.upper()} category (one of: {allowed})."


class PartyType(enum.StrEnum):
    REGULATOR = "regulator"
    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    SUPPLIER = "supplier"
    PARTNER = "partner"
    INVESTOR = "investor"
    PUBLIC = "public"
    OTHER = "other"


class AIRole(enum.StrEnum):
    """The organisation's roles with respect to AI (ISO/IEC 42001, ISO/IEC 22989)."""

    PRODUCER = "producer"
    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
RequirementText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)
]

# --- Context issues (4.1) ---------------------------------------------------------------------


class ContextIssueCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "external",
                    "framework": "pestle",
                    "category": "legal",
                    "title": "EU AI Act obligations for high-risk systems apply from August 2026",
                    "description": "Our CV screening assistant is high-risk under Annex III.",
                    "impact": "Conformity assessment and post-market monitoring needed.",
                    "owner": "head-of-compliance@example.com",
                    "next_review_at": "2027-01-31T00:00:00Z",
                }
            ]
        },
    )

    kind: IssueKind
    framework: Framework
    category: Category
    title: Title
    description: LongText = ""
    impact: LongText = ""
    owner: ShortText | None = None
    next_review_at: datetime | None = None

    @model_validator(mode="after")
    def _category_belongs_to_framework(self) -> ContextIssueCreate:
        if (message := category_error(self.framework, self.category)) is not None:
            raise ValueError(message)
        return self


class ContextIssueUpdate(BaseModel):
    """A partial update: only the fields sent change (framework and category are checked
    together against the stored values)."""

    model_config = ConfigDict(extra="forbid")

    kind: IssueKind | None = None
    framework: Framework | None = None
    category: Category | None = None
    title: Title | None = None
    description: LongText | None = None
    impact: LongText | None = None
    owner: ShortText | None = None
    next_review_at: datetime | None = None


class ContextIssueRead(BaseModel):
    """The full state of an issue; also the data of ``aims.inventory.context_issue.*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    kind: IssueKind
    framework: Framework
    category: Category
    title: str
    description: str
    impact: str
    owner: str | None
    next_review_at: datetime | None
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


ContextIssuePage = Page[ContextIssueRead]

# --- Interested parties (4.2) -----------------------------------------------------------------


class Requirement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: RequirementText = Field(description="The need or expectation, in the party's terms")
    addressed: bool = Field(default=False, description="Whether the AIMS addresses it")
    note: LongText = Field(default="", description="How it is addressed, or why not yet")


class InterestedPartyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Data protection authority",
                    "type": "regulator",
                    "requirements": [
                        {"text": "DPIA for automated decision-making", "addressed": True},
                        {"text": "Explanation of decisions on request", "addressed": False},
                    ],
                    "next_review_at": "2027-03-01T00:00:00Z",
                }
            ]
        },
    )

    name: Title
    type: PartyType
    description: LongText = ""
    requirements: list[Requirement] = Field(default_factory=list, max_length=200)
    owner: ShortText | None = None
    next_review_at: datetime | None = None


class InterestedPartyUpdate(BaseModel):
    """A partial update; ``requirements`` replaces the whole list."""

    model_config = ConfigDict(extra="forbid")

    name: Title | None = None
    type: PartyType | None = None
    description: LongText | None = None
    requirements: list[Requirement] | None = Field(default=None, max_length=200)
    owner: ShortText | None = None
    next_review_at: datetime | None = None


class InterestedPartyRead(BaseModel):
    """The full state of a party; also the data of ``aims.inventory.interested_party.*``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    type: PartyType
    description: str
    requirements: list[Requirement]
    owner: str | None
    next_review_at: datetime | None
    version: int = Field(description="Increases by one on every change; the ETag")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


InterestedPartyPage = Page[InterestedPartyRead]

# --- Organisation AI roles --------------------------------------------------------------------


class AIRolesUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "roles": ["provider", "customer"],
                    "note": "We sell a scoring API and buy a foundation model.",
                }
            ]
        },
    )

    roles: list[AIRole] = Field(max_length=4)
    note: LongText = ""
    next_review_at: datetime | None = None

    @model_validator(mode="after")
    def _unique(self) -> AIRolesUpdate:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("Each role at most once.")
        return self


class AIRolesRead(BaseModel):
    """The organisation's AI roles; version 0 until they are first set."""

    model_config = ConfigDict(from_attributes=True)

    org_id: uuid.UUID
    roles: list[AIRole]
    note: str
    next_review_at: datetime | None
    version: int
    updated_at: datetime | None
    updated_by: str | None


# --- History ----------------------------------------------------------------------------------


class ContextChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    entity_type: str
    entity_id: uuid.UUID
    version: int
    action: str = Field(description="`created` or `updated`")
    changed_by: str
    changed_at: datetime
    changes: dict[str, Any] = Field(
        description="Each changed field with its `from` and `to` values"
    )


ContextChangePage = Page[ContextChangeRead]
