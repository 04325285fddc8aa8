"""The events the gateway emits about webhook delivery.

Types follow ``aims.<service>.<entity>.<verb-past>`` with a multi-segment entity, and use only
``[a-z0-9_]`` segments so that subscription filters can name them exactly
(``webhook.delivery.failed``, ``webhook.endpoint.disabled``, or ``webhook.*``). Subscriptions
receive ``aims.gateway.webhook.*`` events only when a filter other than ``*`` asks for them, and
never an event about themselves (see consumers.py): no delivery loops.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.events import EventCatalogue


class DeliveryFailedData(BaseModel):
    message_id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    event_id: uuid.UUID
    event_type: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    abandoned_at: datetime


class EndpointDisabledData(BaseModel):
    subscription_id: uuid.UUID
    url: str
    reason: str
    disabled_at: datetime
    first_failure_at: datetime | None


catalogue = EventCatalogue("gateway")

DELIVERY_FAILED = catalogue.register(
    "webhook.delivery.failed",
    DeliveryFailedData,
    "A webhook message was abandoned after its whole retry schedule failed; replay it once "
    "the endpoint works again.",
)
ENDPOINT_DISABLED = catalogue.register(
    "webhook.endpoint.disabled",
    EndpointDisabledData,
    "A webhook endpoint was disabled: it answered 410 Gone or failed without a single success "
    "for days. Re-enable it and replay what it missed.",
)
