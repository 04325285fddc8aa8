"""The CloudEvents 1.0 envelope (JSON structured mode) every AIMS event travels in.

Types are ``aims.<service>.<entity>.<verb-past>``; ``dataschema`` names the data's schema version.
Events carry state: ``data`` is the full current state of the entity and ``dataversion`` its
version, so a consumer applies an event only when it is newer than what it holds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.db import utcnow, uuid7
from shared.observability import current_traceparent

SCHEMA_BASE = "https://aims.dev/schemas/events/"


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event with the AIMS extensions orgid, dataversion and traceparent."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    orgid: str
    dataversion: int = Field(ge=0)
    traceparent: str | None = None

    @property
    def short_type(self) -> str:
        """``system.registered`` for ``aims.inventory.system.registered``."""
        parts = self.type.split(".")
        return ".".join(parts[2:]) if len(parts) > 2 else self.type


@dataclass(frozen=True)
class EventType:
    """One entry of the event catalogue: a type, the model of its data, and what it means."""

    name: str
    data_model: type[BaseModel]
    description: str
    schema_version: int = 1

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_BASE}{self.name}/v{self.schema_version}"


@dataclass
class EventCatalogue:
    """The event types one service emits; used to validate, and to generate AsyncAPI."""

    service: str
    types: dict[str, EventType] = field(default_factory=dict)

    def register(
        self,
        entity_verb: str,
        data_model: type[BaseModel],
        description: str,
        *,
        schema_version: int = 1,
    ) -> EventType:
        """Add a type; ``schema_version`` goes up when the data changes incompatibly."""
        full = f"aims.{self.service}.{entity_verb}"
        event_type = EventType(full, data_model, description, schema_version)
        self.types[full] = event_type
        return event_type


def make_event(
    event_type: EventType,
    *,
    org_id: uuid.UUID | str,
    subject: uuid.UUID | str,
    version: int,
    data: BaseModel,
) -> CloudEvent:
    """Build a validated event: ``data`` must be an instance of the type's data model."""
    if not isinstance(data, event_type.data_model):
        raise TypeError(f"{event_type.name} carries {event_type.data_model.__name__}")
    service = event_type.name.split(".")[1]
    return CloudEvent(
        id=str(uuid7()),
        source=f"/aims/{service}",
        type=event_type.name,
        time=utcnow(),
        subject=str(subject),
        dataschema=event_type.dataschema,
        data=data.model_dump(mode="json"),
        orgid=str(org_id),
        dataversion=version,
        traceparent=current_traceparent(),
    )
