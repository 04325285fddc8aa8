"""Webhook subscription use cases. Like every service module here, these flush and never
commit: the request (or GraphQL resolver) owns the transaction.

Deliveries are queued in the same transaction; :func:`wake_worker_after_commit` wakes the
delivery worker of this process once that transaction commits (it also polls every second,
so a worker in another process picks them up too).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.webhooks.errors import (
    MessageNotFound,
    SubscriptionDisabled,
    SubscriptionNotFound,
    UnsafeTarget,
)
from gateway.webhooks.models import WebhookMessage, WebhookSubscription
from gateway.webhooks.repository import (
    DeliveryQueue,
    MessageRepository,
    MessageRow,
    SubscriptionRepository,
)
from gateway.webhooks.schemas import (
    AttemptRead,
    MessageRead,
    ReplayQueued,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionUpdate,
)
from gateway.webhooks.secretbox import SecretKeyring
from gateway.webhooks.signing import generate_secret
from gateway.webhooks.ssrf import (
    UnresolvableWebhookTarget,
    UnsafeWebhookTarget,
    resolve_target,
    validate_url_syntax,
)
from shared.audit import PREVIOUS_STATE, append_audit
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.http import check_version
from shared.observability import current_traceparent

#: How long the previous secret keeps signing after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
#: DNS budget of the SSRF check when a URL is registered (deliveries re-check every attempt).
REGISTRATION_RESOLVE_TIMEOUT = 5.0
#: Most subscriptions :func:`list_subscriptions` returns (GraphQL; REST pages instead).
MAX_LIST = 500

# --- process-wide wiring (set by worker.start_delivery_worker) ---------------------------------

_wakers: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()
_allowed_targets: list[str] = []
_keyrings: list[SecretKeyring] = []


def configure(*, allowed_targets: Sequence[str], keyring: SecretKeyring | None = None) -> None:
    """Set the SSRF allow-list used when a caller passes none, and the keyring that encrypts
    webhook secrets at rest (from GatewaySettings at startup)."""
    _allowed_targets[:] = list(allowed_targets)
    if keyring is not None:
        _keyrings[:] = [keyring]


def current_keyring() -> SecretKeyring:
    """The keyring set by :func:`configure` (the gateway's startup)."""
    if not _keyrings:
        raise RuntimeError("webhook secret keys are not configured (start_delivery_worker)")
    return _keyrings[0]


def store_secret(sub: WebhookSubscription, secret: str) -> None:
    """Encrypt ``secret`` into ``sub`` as its current secret."""
    sub.secret_key_id, sub.secret_encrypted = current_keyring().encrypt(secret, sub.id)


def active_secrets(sub: WebhookSubscription, now: datetime) -> list[str]:
    """The plaintext secrets that sign a delivery now: the current one, and the previous one
    during a rotation's overlap."""
    keyring = current_keyring()
    secrets = [keyring.decrypt(sub.secret_key_id, sub.secret_encrypted, sub.id)]
    if (
        sub.previous_secret_encrypted is not None
        and sub.previous_secret_key_id is not None
        and sub.previous_secret_expires_at is not None
        and sub.previous_secret_expires_at > now
    ):
        secrets.append(
            keyring.decrypt(sub.previous_secret_key_id, sub.previous_secret_encrypted, sub.id)
        )
    return secrets


def register_waker(event: asyncio.Event) -> None:
    _wakers.add(event)


def wake_worker_after_commit(session: AsyncSession) -> None:
    """Wake this process's delivery worker(s) once ``session``'s transaction commits."""

    def _wake(_session: Any) -> None:
        for event in list(_wakers):
            event.set()

    sa.event.listen(session.sync_session, "after_commit", _wake, once=True)


def _allow(allowed_targets: Sequence[str] | None) -> list[str]:
    return list(_allowed_targets if allowed_targets is None else allowed_targets)


async def check_target(url: str, allowed_targets: Sequence[str] | None = None) -> None:
    """Refuse a URL the delivery worker would refuse (SSRF guard), before it is stored.

    A name that does not resolve now is accepted (DNS may be set up later); every delivery
    attempt resolves and checks again.
    """
    allow = _allow(allowed_targets)
    try:
        validate_url_syntax(url, allow=allow)
        await resolve_target(url, allow=allow, resolve_timeout=REGISTRATION_RESOLVE_TIMEOUT)
    except UnsafeWebhookTarget as exc:
        raise UnsafeTarget(exc.reason, url=url) from exc
    except UnresolvableWebhookTarget:
        return


# --- subscriptions ----------------------------------------------------------------------------


async def _audit(
    session: AsyncSession, sub: WebhookSubscription, verb: str, *, gone: bool = False
) -> None:
    """Record a subscription change in the org's audit trail (no event is emitted for these).

    The state recorded is :class:`SubscriptionRead`, which never carries a secret.
    """
    await append_audit(
        session,
        org_id=sub.org_id,
        action=f"aims.gateway.webhook_subscription.{verb}",
        entity_type="webhook_subscription",
        entity_id=sub.id,
        before=None if verb == "created" else PREVIOUS_STATE,
        after=None if gone else SubscriptionRead.model_validate(sub).model_dump(mode="json"),
    )


async def _get(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookSubscription:
    sub = await SubscriptionRepository(session).get(subscription_id, for_update=True)
    if sub is None:
        raise SubscriptionNotFound(
            f"No webhook subscription {subscription_id} in your organisation."
        )
    return sub


async def create_subscription(
    session: AsyncSession,
    principal: Principal,
    body: SubscriptionCreate,
    *,
    allowed_targets: Sequence[str] | None = None,
) -> SubscriptionCreated:
    """Register an endpoint; the result carries the ``whsec_`` secret, shown this once."""
    await check_target(body.url, allowed_targets)
    now = utcnow()
    secret = body.secret or generate_secret()
    sub = WebhookSubscription(
        id=uuid7(),
        org_id=principal.org_id,
        url=body.url,
        event_types=list(body.event_types),
        description=body.description,
        previous_secret_encrypted=None,
        previous_secret_key_id=None,
        previous_secret_expires_at=None,
        enabled=body.enabled,
        disabled_reason=None if body.enabled else f"created disabled by {principal.subject}",
        disabled_at=None if body.enabled else now,
        first_failure_at=None,
        created_by=principal.subject,
        version=1,
        created_at=now,
        updated_at=now,
    )
    store_secret(sub, secret)
    SubscriptionRepository(session).add(sub)
    await session.flush()
    await _audit(session, sub, "created")
    read = SubscriptionRead.model_validate(sub)
    return SubscriptionCreated(**read.model_dump(), secret=secret)


async def list_subscriptions(session: AsyncSession, principal: Principal) -> list[SubscriptionRead]:
    """Every subscription of the caller's organisation (at most 500), oldest first."""
    rows = await SubscriptionRepository(session).list(limit=MAX_LIST)
    return [SubscriptionRead.model_validate(r) for r in rows]


async def list_subscriptions_page(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, ids: Sequence[uuid.UUID] = ()
) -> tuple[list[SubscriptionRead], list[WebhookSubscription]]:
    rows = await SubscriptionRepository(session).list(limit=limit + 1, after=after, ids=ids)
    return [SubscriptionRead.model_validate(r) for r in rows[:limit]], rows


async def get_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> SubscriptionRead:
    sub = await SubscriptionRepository(session).get(subscription_id)
    if sub is None:
        raise SubscriptionNotFound(
            f"No webhook subscription {subscription_id} in your organisation."
        )
    return SubscriptionRead.model_validate(sub)


def _enable(sub: WebhookSubscription) -> None:
    sub.enabled = True
    sub.disabled_reason = None
    sub.disabled_at = None
    sub.first_failure_at = None


async def _disable_by_user(
    session: AsyncSession, principal: Principal, sub: WebhookSubscription, now: datetime
) -> None:
    sub.enabled = False
    sub.disabled_reason = f"disabled by {principal.subject}"
    sub.disabled_at = now
    await DeliveryQueue(session).fail_outstanding(
        org_id=sub.org_id, subscription_id=sub.id, now=now
    )


async def update_subscription(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    body: SubscriptionUpdate,
    if_match: str | None,
    *,
    allowed_targets: Sequence[str] | None = None,
) -> SubscriptionRead:
    sub = await _get(session, subscription_id)
    check_version(if_match, sub.version)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    now = utcnow()
    changed = False
    if "url" in changes and changes["url"] != sub.url:
        await check_target(changes["url"], allowed_targets)
        sub.url = changes["url"]
        changed = True
    if "event_types" in changes and changes["event_types"] != sub.event_types:
        sub.event_types = list(changes["event_types"])
        changed = True
    if "description" in changes and changes["description"] != sub.description:
        sub.description = changes["description"]
        changed = True
    if "enabled" in changes and changes["enabled"] != sub.enabled:
        if changes["enabled"]:
            _enable(sub)
        else:
            await _disable_by_user(session, principal, sub, now)
        changed = True
    if changed:
        sub.version += 1
        sub.updated_at = now
        await session.flush()
        await _audit(session, sub, "updated")
    return SubscriptionRead.model_validate(sub)


async def delete_subscription(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, if_match: str | None
) -> None:
    """Delete a subscription with its messages and delivery log. ``If-Match`` is optional."""
    sub = await _get(session, subscription_id)
    if if_match is not None:
        check_version(if_match, sub.version)
    await _audit(session, sub, "deleted", gone=True)
    await SubscriptionRepository(session).delete(sub)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> SecretRotated:
    """A new secret signs from now on; the current one keeps signing for 24 h as well."""
    sub = await _get(session, subscription_id)
    now = utcnow()
    # The ciphertext moves as it is: the associated data is the subscription id, not the column.
    sub.previous_secret_encrypted = sub.secret_encrypted
    sub.previous_secret_key_id = sub.secret_key_id
    sub.previous_secret_expires_at = now + ROTATION_OVERLAP
    secret = generate_secret()
    store_secret(sub, secret)
    sub.version += 1
    sub.updated_at = now
    await session.flush()
    await _audit(session, sub, "secret_rotated")
    return SecretRotated(
        id=sub.id,
        secret=secret,
        previous_secret_expires_at=sub.previous_secret_expires_at,
        version=sub.version,
    )


async def enable_subscription(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> SubscriptionRead:
    """Re-enable a disabled endpoint (replay what it missed with ``replay?since=``)."""
    sub = await _get(session, subscription_id)
    if not sub.enabled:
        _enable(sub)
        sub.version += 1
        sub.updated_at = utcnow()
        await session.flush()
        await _audit(session, sub, "enabled")
    return SubscriptionRead.model_validate(sub)


# --- messages and the delivery log ------------------------------------------------------------


def _message_read(row: MessageRow) -> MessageRead:
    m = row.message
    return MessageRead(
        id=m.id,
        subscription_id=m.subscription_id,
        event_id=m.event_id,
        event_type=m.event_type,
        created_at=m.created_at,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.state == "pending" else None,
        payload=m.payload,
    )


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
    state: str | None = None,
) -> tuple[list[MessageRead], list[MessageRow]]:
    """Messages of a subscription, newest first, with their delivery state."""
    if await SubscriptionRepository(session).get(subscription_id) is None:
        raise SubscriptionNotFound(
            f"No webhook subscription {subscription_id} in your organisation."
        )
    rows = await MessageRepository(session).list_with_status(
        principal.org_id, subscription_id, limit=limit + 1, after=after, state=state
    )
    return [_message_read(r) for r in rows[:limit]], rows


async def get_message(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> MessageRead:
    row = await MessageRepository(session).get_with_status(principal.org_id, message_id)
    if row is None:
        raise MessageNotFound(f"No webhook message {message_id} in your organisation.")
    return _message_read(row)


async def list_attempts(
    session: AsyncSession,
    principal: Principal,
    message_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
) -> tuple[list[AttemptRead], list[Any]]:
    repo = MessageRepository(session)
    if await repo.get(message_id) is None:
        raise MessageNotFound(f"No webhook message {message_id} in your organisation.")
    rows = await repo.attempts(message_id, limit=limit + 1, after=after)
    return [AttemptRead.model_validate(r) for r in rows[:limit]], rows


async def _enabled_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    sub = await SubscriptionRepository(session).get(subscription_id)
    if sub is None:
        raise SubscriptionNotFound(
            f"No webhook subscription {subscription_id} in your organisation."
        )
    if not sub.enabled:
        raise SubscriptionDisabled(
            "The subscription is disabled; enable it first "
            f"(POST /v1/webhook-subscriptions/{subscription_id}/enable).",
            disabled_reason=sub.disabled_reason,
        )


async def replay_message(
    session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> MessageRead:
    """Send one message again, with the same ``webhook-id``, on a fresh retry schedule."""
    message: WebhookMessage | None = await MessageRepository(session).get(message_id)
    if message is None:
        raise MessageNotFound(f"No webhook message {message_id} in your organisation.")
    await _enabled_subscription(session, message.subscription_id)
    await DeliveryQueue(session).enqueue(
        message_id=message.id,
        subscription_id=message.subscription_id,
        org_id=principal.org_id,
        now=utcnow(),
        traceparent=current_traceparent(),
    )
    wake_worker_after_commit(session)
    return await get_message(session, principal, message_id)


async def replay_since(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, since: datetime
) -> ReplayQueued:
    """Queue again every message of a subscription created at or after ``since``."""
    await _enabled_subscription(session, subscription_id)
    queued = await DeliveryQueue(session).enqueue_since(
        org_id=principal.org_id,
        subscription_id=subscription_id,
        since=since,
        now=utcnow(),
        traceparent=current_traceparent(),
    )
    if queued:
        wake_worker_after_commit(session)
    return ReplayQueued(queued=queued, since=since)
