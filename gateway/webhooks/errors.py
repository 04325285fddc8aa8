"""Domain errors of webhook subscriptions (rendered as problem+json by shared.errors)."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound


class SubscriptionNotFound(NotFound):
    code = "webhook-subscription-not-found"
    title = "Webhook subscription not found"


class MessageNotFound(NotFound):
    code = "webhook-message-not-found"
    title = "Webhook message not found"


class UnsafeTarget(DomainError):
    """The URL is malformed or points at an address webhooks are never sent to (SSRF guard)."""

    status, code, title = 422, "unsafe-webhook-target", "Webhook target refused"


class SubscriptionDisabled(Conflict):
    code = "webhook-subscription-disabled"
    title = "Webhook subscription disabled"
