"""Request and response bodies of webhook subscriptions and their delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.webhooks.filters import validate_filter
from gateway.webhooks.signing import decode_secret
from gateway.webhooks.ssrf import validate_url_syntax
from shared.http import Page

MAX_FILTERS = 50
DeliveryState = Literal["pending", "delivered", "failed", "abandoned"]


def _check_url(url: str) -> str:
    validate_url_syntax(url)  # UnsafeWebhookTarget is a ValueError: a 422 with its reason
    return url


def _check_filters(filters: list[str]) -> list[str]:
    for f in filters:
        validate_filter(f)
    return list(dict.fromkeys(filters))


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2048,
        description="http(s) endpoint of the receiver; private, loopback and link-local "
        "addresses are refused",
        examples=["https://grc.example.com/hooks/aims"],
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=MAX_FILTERS,
        description="Event filters: `*`, `system.registered`, `risk.*`, "
        "`aims.inventory.system.registered`, `aims.inventory.*`",
        examples=[["system.registered", "scope.changed", "risk.*"]],
    )
    description: str = Field(default="", max_length=1000)
    enabled: bool = True
    secret: str | None = Field(
        default=None,
        description="Optional `whsec_` secret to use (e.g. when migrating); one is generated "
        "when absent",
        max_length=200,
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("event_types")
    @classmethod
    def _filters(cls, value: list[str]) -> list[str]:
        return _check_filters(value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None:
            decode_secret(value)
        return value


class SubscriptionUpdate(BaseModel):
    """Fields to change; absent fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTERS)
    description: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @field_validator("event_types")
    @classmethod
    def _filters(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_filters(value)


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    first_failure_at: datetime | None = Field(
        description="Start of the current run of failed attempts; null while healthy"
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the previous secret also signs deliveries (after a rotation)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str | None = Field(
        description="The `whsec_` signing secret; shown only once. `null` when the answer is "
        "an `Idempotency-Key` replay (`Idempotent-Replayed: true`): secrets are not kept in the "
        "clear, so a client that lost the first answer rotates the secret "
        "(`POST …/rotate-secret`)"
    )


class SubscriptionPage(Page[SubscriptionRead]):
    pass


class SecretRotated(BaseModel):
    id: uuid.UUID
    secret: str = Field(description="The new `whsec_` secret; shown only once")
    previous_secret_expires_at: datetime = Field(
        description="Until then deliveries carry signatures by the new and the previous secret"
    )
    version: int


class MessageRead(BaseModel):
    """A message: one event for one subscription, with its delivery status."""

    id: uuid.UUID = Field(description="The `webhook-id` of every attempt of this message")
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    created_at: datetime
    state: DeliveryState
    attempts: int = Field(description="Attempts made so far (all schedules, replays included)")
    next_attempt_at: datetime | None
    payload: dict[str, Any] = Field(description="The CloudEvent sent as the request body")


class MessagePage(Page[MessageRead]):
    pass


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    message_id: uuid.UUID
    attempt: int
    attempted_at: datetime
    completed_at: datetime | None = Field(
        description="When the outcome was recorded; null while the attempt is in flight"
    )
    status_code: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int
    next_attempt_at: datetime | None


class AttemptPage(Page[AttemptRead]):
    pass


class ReplayQueued(BaseModel):
    queued: int = Field(description="How many messages were queued for delivery again")
    since: datetime | None = None
