"""Shared execution: one GraphQL execution per event for every identical subscription.

Executing a subscription's selection set costs far more than sending its result (about a
millisecond against tens of microseconds), and 200 dashboards mostly send the same few documents.
So operations with the same key — organisation, roles, document, operation name and variables,
everything the result can depend on — join one :class:`SharedStream`: one hub subscriber, one
Strawberry execution per event, one JSON encoding, whose text is copied into each member's
bounded queue. A member whose queue is full (its client stopped reading) is dropped with a
``subscriber-too-slow`` error; the others never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from strawberry.schema import BaseSchema
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.subscriptions.schema import SubscriptionContext
from gateway.subscriptions.service import QUEUE_SIZE

logger = logging.getLogger("aims.gateway.subscriptions")

#: Where the running gateway keeps the registry (``ctx.extras``).
STREAMS_KEY = "subscription_streams"

Kind = Literal["next", "error", "complete"]
StreamKey = tuple[str, tuple[str, ...], str, str | None, str]


class MemberTooSlow(Exception):
    """The member's queue overflowed; it was dropped."""


@dataclass(eq=False)
class Member:
    """One operation of one connection, fed by a shared stream."""

    queue: asyncio.Queue[tuple[Kind, str]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: bool = False

    def offer(self, kind: Kind, text: str) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait((kind, text))
        except asyncio.QueueFull:
            self.dropped = True

    async def next(self) -> tuple[Kind, str]:
        if self.dropped:
            raise MemberTooSlow
        return await self.queue.get()


def stream_key(
    context: SubscriptionContext,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> StreamKey:
    principal = context.principal
    assert principal is not None
    return (
        str(principal.org_id),
        tuple(sorted(role.value for role in principal.roles)),
        query,
        operation_name,
        json.dumps(variables or {}, sort_keys=True, default=str),
    )


class SharedStream:
    """One execution of one subscription document, for every member that sent it."""

    def __init__(
        self,
        registry: SharedStreams,
        key: StreamKey,
        schema: BaseSchema,
        context: SubscriptionContext,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
    ) -> None:
        self.registry = registry
        self.key = key
        self.members: set[Member] = set()
        self._args = (schema, context, query, operation_name, variables)
        self.task = asyncio.create_task(self._run(), name="subscription-stream")

    def _broadcast(self, kind: Kind, text: str) -> None:
        for member in list(self.members):
            member.offer(kind, text)
            if member.dropped:
                self.members.discard(member)

    async def _run(self) -> None:
        schema, context, query, operation_name, variables = self._args
        try:
            source = await schema.stream(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
            )
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError) or not isinstance(
                        result, ExecutionResult
                    ):
                        errors = getattr(result, "errors", None) or []
                        self._broadcast("error", json.dumps([e.formatted for e in errors]))
                        return
                    payload: dict[str, Any] = {"data": result.data}
                    if result.errors:
                        payload["errors"] = [e.formatted for e in result.errors]
                    if result.extensions:
                        payload["extensions"] = result.extensions
                    self._broadcast("next", json.dumps(payload, default=str))
            self._broadcast("complete", "")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("shared subscription stream failed")
            self._broadcast("error", json.dumps([{"message": "Unexpected error."}]))
        finally:
            self.registry.forget(self)


class SharedStreams:
    """The process's shared streams, by key."""

    def __init__(self) -> None:
        self._streams: dict[StreamKey, SharedStream] = {}

    def join(
        self,
        schema: BaseSchema,
        context: SubscriptionContext,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
    ) -> tuple[SharedStream, Member]:
        key = stream_key(context, query, operation_name, variables)
        stream = self._streams.get(key)
        if stream is None:
            # The stream's resolvers see the first member's context: the key holds everything
            # of the caller they read (organisation and roles).
            shared_context = SubscriptionContext(
                hub=context.hub, authenticator=context.authenticator, principal=context.principal
            )
            stream = SharedStream(
                self, key, schema, shared_context, query, operation_name, variables
            )
            self._streams[key] = stream
        member = Member()
        stream.members.add(member)
        return stream, member

    def leave(self, stream: SharedStream, member: Member) -> None:
        stream.members.discard(member)
        if not stream.members:
            self.forget(stream)
            stream.task.cancel()

    def forget(self, stream: SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]

    @property
    def count(self) -> int:
        return len(self._streams)

    @property
    def member_count(self) -> int:
        return sum(len(stream.members) for stream in self._streams.values())

    async def close(self) -> None:
        for stream in list(self._streams.values()):
            stream.task.cancel()
            with contextlib.suppress(BaseException):
                await stream.task
