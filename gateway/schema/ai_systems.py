"""AI systems: the register (inventory) with what risk and evidence know of each system."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from gateway.clients.schemas import InventorySystem
from gateway.schema.context import Info
from gateway.schema.errors import UserError, user_errors
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from gateway.schema.scalars import BigInt
from shared.errors import BadRequest, DomainError, NotFound


@strawberry.enum(description="Where an AI system is in its life cycle.")
class LifecycleStage(enum.Enum):
    IDEA = "idea"
    DESIGN = "design"
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    DEPLOYED = "deployed"
    RETIRED = "retired"


@strawberry.type(description="An AI system as the risk service holds it.")
class RiskSystemView:
    source_version: int = strawberry.field(
        description="The register version of the system this view reflects."
    )
    synced_at: datetime = strawberry.field(description="When the risk service last synced it.")


@strawberry.type(description="The evidence recorded for an AI system.")
class EvidenceSummary:
    file_count: int = strawberry.field(description="Evidence files recorded for the system.")
    total_bytes: BigInt = strawberry.field(description="Sum of the sizes of those files.")
    source_version: int = strawberry.field(
        description="The register version of the system the evidence service reflects."
    )


@strawberry.type(name="AISystem", description="An AI system in the organisation's register.")
class AISystem(relay.Node):
    system_id: relay.NodeID[uuid.UUID]
    name: str
    description: str
    owner: str | None
    business_function: str | None
    lifecycle_stage: LifecycleStage
    version: int = strawberry.field(description="Increases by one on every change.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_upstream(cls, system: InventorySystem) -> AISystem:
        return cls(
            system_id=system.id,
            name=system.name,
            description=system.description,
            owner=system.owner,
            business_function=system.business_function,
            lifecycle_stage=LifecycleStage(system.lifecycle_stage),
            version=system.version,
            created_at=system.created_at,
            updated_at=system.updated_at,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The risk service's view of this system; null until it has been synced."
    )
    async def risk_view(self, info: Info) -> RiskSystemView | None:
        view = await info.context.loaders.risk_systems.load(self.system_id)
        if view is None:
            return None
        return RiskSystemView(source_version=view.source_version, synced_at=view.synced_at)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Evidence recorded for this system; null until the evidence service knows it."
    )
    async def evidence_summary(self, info: Info) -> EvidenceSummary | None:
        summary = await info.context.loaders.evidence_systems.load(self.system_id)
        if summary is None:
            return None
        return EvidenceSummary(
            file_count=summary.file_count,
            total_bytes=BigInt(summary.total_bytes),
            source_version=summary.source_version,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AISystem | None]:
        ids = [_uuid_or_none(i) for i in node_ids]
        loader = info.context.loaders.inventory_systems
        found = await loader.load_many([i for i in ids if i is not None])
        by_id = {s.id: s for s in found if s is not None}
        nodes = [
            AISystem.from_upstream(by_id[i]) if i is not None and i in by_id else None for i in ids
        ]
        if required and any(n is None for n in nodes):
            raise NotFound("No such AI system in your organisation.")
        return nodes


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@strawberry.type(name="AISystemConnection", description="A page of AI systems.")
class AISystemConnection(relay.Connection[AISystem]):
    pass


@strawberry.input(name="AISystemFilter", description="Which AI systems to list.")
class AISystemFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the name."
    )


@strawberry.input(name="RegisterAISystemInput", description="A new AI system for the register.")
class RegisterAISystemInput:
    name: str
    description: str = ""
    owner: str | None = None
    business_function: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.IDEA
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Send the same key when retrying: the system is registered once and the "
        "first result returned.",
    )


@strawberry.type(name="RegisterAISystemPayload")
class RegisterAISystemPayload:
    ai_system: AISystem | None = strawberry.field(
        description="The registered system; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was registered; empty on success."
    )


def parse_ai_system_id(value: str) -> uuid.UUID:
    """An AISystem's global ID, or the register's own UUID (which REST clients already hold)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        global_id = relay.GlobalID.from_id(value)
    except relay.GlobalIDValueError as exc:
        raise BadRequest("`id` is neither an AISystem ID nor a UUID.") from exc
    if global_id.type_name != "AISystem":
        raise BadRequest(f"`id` names a {global_id.type_name}, not an AISystem.")
    try:
        return uuid.UUID(global_id.node_id)
    except ValueError as exc:
        raise BadRequest("`id` is not an AISystem ID.") from exc


@strawberry.type
class AISystemQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystems",
        description=f"The organisation's AI systems, oldest first. `first` is at most "
        f"{MAX_PAGE_SIZE}.",
    )
    async def ai_systems(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: AISystemFilter | None = None,
    ) -> AISystemConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.inventory.list_systems(
            limit=start.skip + first,
            after=start.upstream,
            name_contains=filter.name_contains if filter else None,
        )
        items = page.items[start.skip :]
        loader = info.context.loaders.inventory_systems
        edges: list[relay.Edge[AISystem]] = []
        for index, item in enumerate(items):
            loader.prime(item.id, item)  # so node/aiSystem lookups in this request are free
            is_last = index == len(items) - 1
            position = (
                Position(upstream=page.next_cursor)
                if is_last and page.next_cursor
                else Position(upstream=start.upstream, skip=start.skip + index + 1)
            )
            edges.append(relay.Edge(cursor=position.encode(), node=AISystem.from_upstream(item)))
        return AISystemConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=page.next_cursor is not None,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="aiSystem",
        description="One AI system by its ID (or register UUID); null when your organisation "
        "has no such system.",
    )
    async def ai_system(self, info: Info, id: strawberry.ID) -> AISystem | None:
        system = await info.context.loaders.inventory_systems.load(parse_ai_system_id(id))
        return AISystem.from_upstream(system) if system is not None else None


@strawberry.type
class AISystemMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="registerAISystem",
        description="Add an AI system to the register (roles: admin, manager, risk_owner, "
        "contributor).",
    )
    async def register_ai_system(
        self, info: Info, input: RegisterAISystemInput
    ) -> RegisterAISystemPayload:
        body: dict[str, Any] = {
            "name": input.name,
            "description": input.description,
            "owner": input.owner,
            "business_function": input.business_function,
            "lifecycle_stage": input.lifecycle_stage.value,
        }
        try:
            created = await info.context.clients.inventory.register_system(
                body, idempotency_key=input.idempotency_key
            )
        except DomainError as error:
            errors = user_errors(error)
            if errors is None:
                raise
            return RegisterAISystemPayload(ai_system=None, errors=errors)
        info.context.loaders.inventory_systems.prime(created.id, created)
        return RegisterAISystemPayload(ai_system=AISystem.from_upstream(created), errors=[])
