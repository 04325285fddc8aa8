"""The organisation's custom fields of the AI system register: what a registration form shows."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from gateway.clients.inventory import UpstreamCustomField
from gateway.schema.context import Info
from gateway.schema.improvement import plain_edges
from gateway.schema.pagination import Position, check_page_size


@strawberry.enum(name="CustomFieldType")
class CustomFieldType(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    PERSON = "person"


@strawberry.type(
    name="CustomField",
    description="A field the organisation added to the register; values live in "
    "`AISystem.customFields` under `key`.",
)
class CustomField:
    id: uuid.UUID
    key: str
    label: str
    type: CustomFieldType
    choices: list[str] = strawberry.field(description="The allowed values of a `CHOICE` field.")
    required: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, item: UpstreamCustomField) -> CustomField:
        return cls(
            id=item.id,
            key=item.key,
            label=item.label,
            type=CustomFieldType(item.type),
            choices=list(item.choices),
            required=item.required,
            version=item.version,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


@strawberry.type(name="CustomFieldEdge")
class CustomFieldEdge:
    cursor: str
    node: CustomField


@strawberry.type(name="CustomFieldConnection")
class CustomFieldConnection:
    page_info: relay.PageInfo
    edges: list[CustomFieldEdge]


async def custom_fields(info: Info, first: int, after: str | None) -> CustomFieldConnection:
    """A page of the custom fields, in key order."""
    check_page_size(first)
    start = Position.decode(after)
    page = await info.context.clients.inventory.custom_fields(
        limit=start.skip + first, after=start.upstream
    )
    edges, page_info = plain_edges(page.items[start.skip :], page.next_cursor, start, after)
    return CustomFieldConnection(
        page_info=page_info,
        edges=[CustomFieldEdge(cursor=c, node=CustomField.from_upstream(f)) for c, f in edges],
    )
