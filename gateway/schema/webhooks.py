"""Webhook subscriptions over GraphQL: the same service functions as the REST API."""

from __future__ import annotations

import uuid
from datetime import datetime

import pydantic
import strawberry
from strawberry import relay

from gateway.schema.context import Info
from gateway.schema.errors import UserError, ValidationError, user_errors, validation_errors
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size
from gateway.webhooks import service
from gateway.webhooks.schemas import SubscriptionCreate, SubscriptionRead
from shared.auth import APPROVERS, Principal
from shared.db import tenant_transaction
from shared.errors import DomainError, Forbidden, InvalidCursor

# The same roles as the REST API: subscriptions decide where the organisation's events go, so
# admins and managers set them up; every role of the organisation may see them.
WEBHOOK_MANAGERS = APPROVERS


def _require_manager(principal: Principal) -> None:
    if not principal.has_any(WEBHOOK_MANAGERS):
        raise Forbidden("Managing webhook subscriptions needs the admin or manager role.")


@strawberry.type(description="An endpoint that receives the organisation's events.")
class WebhookSubscription:
    id: strawberry.ID
    url: str
    event_types: list[str] = strawberry.field(
        description="Event filters: `*`, `system.registered`, `risk.*`, "
        "`aims.inventory.system.registered`…"
    )
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    first_failure_at: datetime | None = strawberry.field(
        description="Start of the current run of failed deliveries; null while healthy."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until when the previous secret also signs deliveries (after a rotation)."
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_read(cls, read: SubscriptionRead) -> WebhookSubscription:
        return cls(
            id=strawberry.ID(str(read.id)),
            url=read.url,
            event_types=list(read.event_types),
            description=read.description,
            enabled=read.enabled,
            disabled_reason=read.disabled_reason,
            disabled_at=read.disabled_at,
            first_failure_at=read.first_failure_at,
            previous_secret_expires_at=read.previous_secret_expires_at,
            version=read.version,
            created_at=read.created_at,
            updated_at=read.updated_at,
        )


@strawberry.type
class WebhookSubscriptionEdge:
    cursor: str
    node: WebhookSubscription


@strawberry.type(description="A page of webhook subscriptions.")
class WebhookSubscriptionConnection:
    page_info: relay.PageInfo
    edges: list[WebhookSubscriptionEdge]


def _after_id(after: str | None) -> uuid.UUID | None:
    upstream = Position.decode(after).upstream
    if upstream is None:
        return None
    try:
        return uuid.UUID(upstream)
    except ValueError as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(
        description="http(s) endpoint; private, loopback and link-local addresses are refused."
    )
    event_types: list[str]
    description: str = ""
    enabled: bool = True
    secret: str | None = strawberry.field(
        default=None,
        description="A `whsec_` secret to use (e.g. when migrating); generated when absent.",
    )


@strawberry.type
class CreateWebhookSubscriptionPayload:
    subscription: WebhookSubscription | None
    secret: str | None = strawberry.field(
        description="The `whsec_` signing secret, shown only in this answer."
    )
    errors: list[UserError]


def _failed(errors: list[UserError]) -> CreateWebhookSubscriptionPayload:
    return CreateWebhookSubscriptionPayload(subscription=None, secret=None, errors=errors)


@strawberry.type
class WebhookQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The organisation's webhook subscriptions, oldest first (at most 500).",
        deprecation_reason="Use webhookSubscriptionsConnection: it pages, this list stops at 500.",
    )
    async def webhook_subscriptions(self, info: Info) -> list[WebhookSubscription]:
        principal = info.context.principal
        async with tenant_transaction(info.context.db, principal.org_id) as session:
            subscriptions = await service.list_subscriptions(session, principal)
        return [WebhookSubscription.from_read(s) for s in subscriptions]

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="webhookSubscriptionsConnection",
        description=f"The organisation's webhook subscriptions, oldest first; keyset-paged in "
        f"the gateway's database (one query per page). `first` is at most {MAX_PAGE_SIZE}.",
    )
    async def webhook_subscriptions_connection(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> WebhookSubscriptionConnection:
        check_page_size(first)
        after_id = _after_id(after)
        principal = info.context.principal
        async with tenant_transaction(info.context.db, principal.org_id) as session:
            page, rows = await service.list_subscriptions_page(session, limit=first, after=after_id)
        edges = [
            WebhookSubscriptionEdge(
                cursor=Position(upstream=str(s.id)).encode(),
                node=WebhookSubscription.from_read(s),
            )
            for s in page
        ]
        return WebhookSubscriptionConnection(
            page_info=relay.PageInfo(
                has_next_page=len(rows) > first,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            edges=edges,
        )


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Send the organisation's events to an endpoint (roles: admin, manager)."
    )
    async def create_webhook_subscription(
        self,
        info: Info,
        input: CreateWebhookSubscriptionInput,
    ) -> CreateWebhookSubscriptionPayload:
        principal = info.context.principal
        try:
            _require_manager(principal)
            body = SubscriptionCreate(
                url=input.url,
                event_types=input.event_types,
                description=input.description,
                enabled=input.enabled,
                secret=input.secret,
            )
        except Forbidden as error:
            return _failed(user_errors(error) or [])
        except pydantic.ValidationError as error:
            return _failed(validation_errors(error.errors()))
        try:
            async with tenant_transaction(info.context.db, principal.org_id) as session:
                created = await service.create_subscription(
                    session,
                    principal,
                    body,
                    allowed_targets=info.context.settings.webhook_allowed_targets,
                )
        except DomainError as error:
            errors = user_errors(error)
            if errors is None:
                raise
            if error.code == "unsafe-webhook-target":
                errors = [ValidationError(message=error.detail, code=error.code, field=["url"])]
            return _failed(errors)
        return CreateWebhookSubscriptionPayload(
            subscription=WebhookSubscription.from_read(created),
            secret=created.secret,
            errors=[],
        )
