"""The ``Subscription`` root: live changes, fed by the event stream, for the caller's organisation.

Payloads carry the facts of the event itself (no upstream call per event and subscriber) and the
Relay IDs of what changed, so a client that needs more asks ``node(id:)`` over HTTP. Every
payload implements :class:`LiveEvent` (the event's id, type, time and version).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext
from strawberry.types.graphql import OperationType

from gateway.subscriptions.service import EventHub, SubscriberTooSlow
from gateway.subscriptions.topics import (
    AI_SYSTEMS,
    CLASSIFICATIONS,
    EVIDENCE_ADDED,
    READINESS,
    RISK_LEVELS,
    Topic,
)
from shared.auth import Authenticator, Principal
from shared.errors import BadRequest, Forbidden
from shared.events import CloudEvent

if TYPE_CHECKING:
    from gateway.subscriptions.streams import SharedStreams


@dataclass
class SubscriptionContext(BaseContext):
    """The context of one WebSocket connection; ``principal`` is set on ``connection_init``."""

    hub: EventHub | None = None
    authenticator: Authenticator | None = None
    #: The process's shared streams (one execution per event for identical operations).
    streams: SharedStreams | None = None
    principal: Principal | None = None
    connection_params: Any | None = None

    def __post_init__(self) -> None:
        super().__init__()


Info: TypeAlias = strawberry.Info[SubscriptionContext, None]

NOT_OVER_WEBSOCKET = (
    "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql; "
    "authenticate in connection_init."
)


class WebSocketOnlySubscriptions(SchemaExtension):
    """Refuses a subscription operation sent over HTTP with a clear error.

    Strawberry's HTTP view accepts subscription documents; executed as a query they would fail
    with a masked, unexpected error. Only the WebSocket endpoint builds a
    :class:`SubscriptionContext`.
    """

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.operation_type is OperationType.SUBSCRIPTION and not isinstance(
            execution.context, SubscriptionContext
        ):
            raise GraphQLError(NOT_OVER_WEBSOCKET, extensions={"code": "websocket-required"})
        yield


def _global_id(type_name: str, value: object) -> relay.GlobalID | None:
    if value is None:
        return None
    return relay.GlobalID(type_name, str(value))


def _system_filter(value: strawberry.ID | None) -> uuid.UUID | None:
    """An ``AISystem`` global ID or the system's UUID (as REST clients hold it)."""
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        pass
    try:
        global_id = relay.GlobalID.from_id(str(value))
        if global_id.type_name != "AISystem":
            raise BadRequest(f"`systemId` names a {global_id.type_name}, not an AISystem.")
        return uuid.UUID(global_id.node_id)
    except (relay.GlobalIDValueError, ValueError) as exc:
        raise BadRequest("`systemId` is neither an AISystem ID nor a UUID.") from exc


T = TypeVar("T")


def _opened(info: Info, topic: Topic) -> tuple[EventHub, Principal]:
    """The connection's hub and caller; raises at once (an ``error`` message, not a stream)."""
    context = info.context
    if not isinstance(context, SubscriptionContext) or context.hub is None:
        raise GraphQLError(NOT_OVER_WEBSOCKET, extensions={"code": "websocket-required"})
    if context.principal is None:  # the handler refuses operations before connection_ack
        raise GraphQLError("Not authenticated.", extensions={"code": "unauthenticated"})
    if not context.principal.has_any(topic.roles):
        wanted = ", ".join(sorted(r.value for r in topic.roles))
        raise Forbidden(f"Subscribing to {topic.name} needs one of the roles: {wanted}.")
    return context.hub, context.principal


async def _stream(
    info: Info,
    topic: Topic,
    convert: Callable[[CloudEvent], T],
    system_id: strawberry.ID | None = None,
) -> AsyncGenerator[T, None]:
    """Check the caller now; then the events of ``topic`` for them, until the client stops.

    The checks run when the field is resolved, so a refused subscription gets an ``error``
    message (and a query over HTTP a clear error) rather than a stream that fails later.
    """
    hub, principal = _opened(info, topic)
    wanted_system = _system_filter(system_id)
    return _events(hub, principal, topic, convert, wanted_system)


async def _events(
    hub: EventHub,
    principal: Principal,
    topic: Topic,
    convert: Callable[[CloudEvent], T],
    system_id: uuid.UUID | None,
) -> AsyncGenerator[T, None]:
    # Registered on the first iteration, so the ``finally`` always runs for a registered one.
    subscriber = hub.subscribe(principal, topic, system_id=system_id)
    try:
        while True:
            try:
                event = await subscriber.next()
            except SubscriberTooSlow:
                raise GraphQLError(
                    "This subscription fell too far behind the event stream and was ended; "
                    "read the current state and subscribe again.",
                    extensions={"code": "subscriber-too-slow"},
                ) from None
            yield convert(event)
    finally:
        hub.unsubscribe(subscriber)


@strawberry.interface(description="One change, as it happened: an AIMS event.")
class LiveEvent:
    event_id: strawberry.ID = strawberry.field(
        description="The event's id (CloudEvent `id`): the same across gateways and webhooks."
    )
    event_type: str = strawberry.field(
        description="The CloudEvent type, e.g. `aims.inventory.system.registered`."
    )
    occurred_at: datetime = strawberry.field(
        description="When the change was committed (CloudEvent `time`)."
    )
    version: int = strawberry.field(
        description="The changed entity's version after the change (CloudEvent `dataversion`)."
    )


def _base(event: CloudEvent) -> dict[str, Any]:
    return {
        "event_id": strawberry.ID(event.id),
        "event_type": event.type,
        "occurred_at": event.time,
        "version": event.dataversion,
    }


@strawberry.enum(description="What happened to an AI system.")
class AISystemEventKind(enum.Enum):
    REGISTERED = "registered"
    UPDATED = "updated"
    RETIRED = "retired"


@strawberry.type(description="An AI system was registered, changed or retired.")
class AISystemEvent(LiveEvent):
    kind: AISystemEventKind
    system_id: relay.GlobalID = strawberry.field(description="The AISystem (`node(id:)`).")
    name: str
    lifecycle_stage: str
    eu_ai_act_tier: str | None
    risk_level: str | None

    @classmethod
    def from_event(cls, event: CloudEvent) -> AISystemEvent:
        data = event.data
        return cls(
            **_base(event),
            kind=AISystemEventKind(event.type.rsplit(".", 1)[1]),
            system_id=relay.GlobalID("AISystem", str(data.get("id"))),
            name=str(data.get("name", "")),
            lifecycle_stage=str(data.get("lifecycle_stage", "")),
            eu_ai_act_tier=data.get("eu_ai_act_tier"),
            risk_level=data.get("risk_level"),
        )


@strawberry.type(description="A risk was added or re-scored: its inherent and residual levels.")
class RiskLevelEvent(LiveEvent):
    risk_id: relay.GlobalID = strawberry.field(description="The Risk (`node(id:)`).")
    system_id: relay.GlobalID | None = strawberry.field(description="Its AISystem, if any.")
    title: str
    inherent_level: str
    residual_level: str | None
    above_tolerance: bool
    status: str

    @classmethod
    def from_event(cls, event: CloudEvent) -> RiskLevelEvent:
        data = event.data
        return cls(
            **_base(event),
            risk_id=relay.GlobalID("Risk", str(data.get("id"))),
            system_id=_global_id("AISystem", data.get("system_id")),
            title=str(data.get("title", "")),
            inherent_level=str(data.get("inherent_level", "")),
            residual_level=data.get("residual_level"),
            above_tolerance=bool(data.get("above_tolerance", False)),
            status=str(data.get("status", "")),
        )


@strawberry.type(description="An AI system was classified (again) under the EU AI Act.")
class ClassificationEvent(LiveEvent):
    system_id: relay.GlobalID = strawberry.field(description="The classified AISystem.")
    tier: str = strawberry.field(description="EU AI Act tier, e.g. `high`.")
    risk_level: str | None
    route: str = strawberry.field(description="How the tier was reached.")

    @classmethod
    def from_event(cls, event: CloudEvent) -> ClassificationEvent:
        data = event.data
        return cls(
            **_base(event),
            system_id=relay.GlobalID("AISystem", str(data.get("system_id"))),
            tier=str(data.get("tier", "")),
            risk_level=data.get("risk_level"),
            route=str(data.get("route", "")),
        )


@strawberry.type(description="An evidence file was uploaded (metadata only, never content).")
class EvidenceAddedEvent(LiveEvent):
    evidence_id: relay.GlobalID = strawberry.field(description="The Evidence item (`node(id:)`).")
    file_id: strawberry.ID
    system_id: relay.GlobalID | None = strawberry.field(
        description="The AISystem it was uploaded for, if any."
    )
    filename: str
    content_type: str
    size_bytes: float = strawberry.field(description="Bytes (exact up to 2^53).")
    sha256: str

    @classmethod
    def from_event(cls, event: CloudEvent) -> EvidenceAddedEvent:
        data = event.data
        return cls(
            **_base(event),
            evidence_id=relay.GlobalID("Evidence", str(data.get("item_id"))),
            file_id=strawberry.ID(str(data.get("id"))),
            system_id=_global_id("AISystem", data.get("system_id")),
            filename=str(data.get("filename", "")),
            content_type=str(data.get("content_type", "")),
            size_bytes=float(data.get("size_bytes") or 0),
            sha256=str(data.get("sha256", "")),
        )


@strawberry.type(description="The organisation's certification readiness changed.")
class ReadinessEvent(LiveEvent):
    score: int
    verdict: str
    previous_score: int | None
    previous_verdict: str | None
    blockers_total: int
    added_blockers: list[str] = strawberry.field(description="Blocker keys that appeared (≤20).")
    removed_blockers: list[str] = strawberry.field(description="Blocker keys that went (≤20).")

    @classmethod
    def from_event(cls, event: CloudEvent) -> ReadinessEvent:
        data = event.data
        return cls(
            **_base(event),
            score=int(data.get("score", 0)),
            verdict=str(data.get("verdict", "")),
            previous_score=data.get("previous_score"),
            previous_verdict=data.get("previous_verdict"),
            blockers_total=int(data.get("blockers_total", 0)),
            added_blockers=[str(k) for k in data.get("added", [])],
            removed_blockers=[str(k) for k in data.get("removed", [])],
        )


SystemFilter: TypeAlias = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Only changes about this AISystem (global ID or UUID); all when omitted."
    ),
]


@strawberry.type(
    description="Live changes over WebSocket (graphql-transport-ws at /graphql), for the "
    "caller's organisation."
)
class Subscription:
    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="AI systems registered, changed or retired."
    )
    async def ai_system_changed(
        self,
        info: Info,
        system_id: SystemFilter = None,
    ) -> AsyncGenerator[AISystemEvent, None]:
        return await _stream(info, AI_SYSTEMS, AISystemEvent.from_event, system_id)

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="Risks added or re-scored (their levels)."
    )
    async def risk_level_changed(
        self,
        info: Info,
        system_id: SystemFilter = None,
    ) -> AsyncGenerator[RiskLevelEvent, None]:
        return await _stream(info, RISK_LEVELS, RiskLevelEvent.from_event, system_id)

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="AI systems classified under the EU AI Act."
    )
    async def classification_changed(
        self,
        info: Info,
        system_id: SystemFilter = None,
    ) -> AsyncGenerator[ClassificationEvent, None]:
        return await _stream(info, CLASSIFICATIONS, ClassificationEvent.from_event, system_id)

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="Evidence files uploaded."
    )
    async def evidence_added(
        self,
        info: Info,
        system_id: SystemFilter = None,
    ) -> AsyncGenerator[EvidenceAddedEvent, None]:
        return await _stream(info, EVIDENCE_ADDED, EvidenceAddedEvent.from_event, system_id)

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="The organisation's readiness verdict or score changed."
    )
    async def readiness_changed(self, info: Info) -> AsyncGenerator[ReadinessEvent, None]:
        return await _stream(info, READINESS, ReadinessEvent.from_event)


#: Payload types for ``strawberry.Schema(types=…)`` (reached through the fields anyway).
LIVE_EVENT_TYPES: tuple[type, ...] = (
    AISystemEvent,
    RiskLevelEvent,
    ClassificationEvent,
    EvidenceAddedEvent,
    ReadinessEvent,
)
