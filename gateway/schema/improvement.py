"""What the objectives, internal audit, corrective action and readiness schemas share: their typed
mutation errors, node resolution through a DataLoader, and request bodies built from inputs.

Besides the general ``ValidationError`` / ``ForbiddenError`` / ``ConflictError`` /
``NotFoundError``, their mutations answer two refusals a form acts on:
``AuditorNotIndependentError`` with every reason, and ``VerificationRequiredError`` with what a
nonconformity still lacks before it may close.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date
from typing import Any, Protocol, TypeVar

import strawberry
from strawberry import relay

from gateway.loaders.base import ByIdLoader
from gateway.schema.errors import UserError, user_errors
from gateway.schema.errors import attempt as attempt_with
from gateway.schema.ids import uuid_or_none
from gateway.schema.pagination import Position
from shared.errors import DomainError, NotFound


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


T = TypeVar("T")
U = TypeVar("U", bound=_HasId)
N = TypeVar("N")


@strawberry.type(
    name="IndependenceConflict",
    description="Why an auditor may not audit a scope (ISO/IEC 42001 9.2.2 c).",
)
class IndependenceConflict:
    auditor: str = strawberry.field(description="The lead auditor or team member concerned.")
    kind: str = strawberry.field(
        description="What they own: `system_owner`, `control_owner`, `process_owner`, …"
    )
    target_type: str = strawberry.field(description="`system`, `control` or `clause`.")
    target_id: str
    detail: str = strawberry.field(description="The reason, for a person to read.")


@strawberry.type(
    name="AuditorNotIndependentError",
    description="An auditor owns a system, control or process in the audit's scope; `reasons` "
    "lists every conflict (code `auditor-not-independent`). Nothing was stored.",
)
class AuditorNotIndependentError(UserError):
    reasons: list[IndependenceConflict]


@strawberry.type(
    name="VerificationRequiredError",
    description="The nonconformity cannot close yet (code `verification-required`): `missing` "
    "lists what is not recorded (`correction`, `root_cause`, `corrective_action`, "
    "`action_not_verified_effective`).",
)
class VerificationRequiredError(UserError):
    missing: list[str]
    unverified_action_ids: list[uuid.UUID] = strawberry.field(
        description="The corrective actions not verified effective yet."
    )


IMPROVEMENT_ERROR_TYPES: tuple[type, ...] = (AuditorNotIndependentError, VerificationRequiredError)


def _extension_list(error: DomainError, key: str) -> list[Any]:
    value = error.extensions.get(key)
    return list(value) if isinstance(value, list) else []


def typed_errors(
    error: DomainError, *, kind: str | None = None, resource_id: object = None
) -> list[UserError] | None:
    """The payload errors ``error`` stands for, or None when it is not the caller's to fix
    (:func:`user_errors` with the refusals of these services)."""
    if error.code == "auditor-not-independent":
        return [
            AuditorNotIndependentError(
                message=error.detail,
                code=error.code,
                reasons=[
                    IndependenceConflict(
                        auditor=str(r.get("auditor", "")),
                        kind=str(r.get("kind", "")),
                        target_type=str(r.get("target_type", "")),
                        target_id=str(r.get("target_id", "")),
                        detail=str(r.get("detail", "")),
                    )
                    for r in _extension_list(error, "reasons")
                    if isinstance(r, dict)
                ],
            )
        ]
    if error.code == "verification-required":
        return [
            VerificationRequiredError(
                message=error.detail,
                code=error.code,
                missing=[str(m) for m in _extension_list(error, "missing")],
                unverified_action_ids=[
                    i
                    for i in (
                        uuid_or_none(str(v))
                        for v in _extension_list(error, "unverified_action_ids")
                    )
                    if i is not None
                ],
            )
        ]
    return user_errors(error, kind=kind, resource_id=resource_id)


async def attempt(
    call: Awaitable[T] | Callable[[], Awaitable[T]],
    *,
    kind: str | None = None,
    resource_id: object = None,
) -> tuple[T | None, list[UserError]]:
    """:func:`gateway.schema.errors.attempt` with these services' refusals."""
    return await attempt_with(call, kind=kind, resource_id=resource_id, mapping=typed_errors)


async def resolve_nodes(
    loader: ByIdLoader[U],
    node_ids: Iterable[str],
    convert: Callable[[U], N],
    required: bool,
    what: str,
) -> list[N | None]:
    """``relay.Node.resolve_nodes`` through a request's DataLoader: one upstream call for any
    number of ids; ids of other organisations resolve to None."""
    ids = [uuid_or_none(i) for i in node_ids]
    found = await loader.load_many([i for i in ids if i is not None])
    by_id = {f.id: f for f in found if f is not None}
    nodes = [convert(by_id[i]) if i is not None and i in by_id else None for i in ids]
    if required and any(n is None for n in nodes):
        raise NotFound(f"No such {what} in your organisation.")
    return nodes


async def load_all(
    loader: ByIdLoader[U], ids: Sequence[uuid.UUID], convert: Callable[[U], N]
) -> list[N]:
    """The objects of ``ids`` that exist, in order, through ``loader``."""
    found = await loader.load_many(list(ids))
    return [convert(f) for f in found if f is not None]


def rest(value: Any) -> Any:
    """A GraphQL input value as the REST body spells it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [rest(v) for v in value]
    return value


def sent(input: object, fields: Sequence[str]) -> dict[str, Any]:
    """The fields of a partial-update input that were sent (``UNSET`` ones are left out)."""
    return {f: rest(getattr(input, f)) for f in fields if getattr(input, f) is not strawberry.UNSET}


def plain_edges(
    items: Sequence[T], next_cursor: str | None, start: Position, after: str | None
) -> tuple[list[tuple[str, T]], relay.PageInfo]:
    """(cursor, item) pairs of an upstream page read from ``start`` (see ``pagination``), for
    connections whose items are not nodes."""
    out: list[tuple[str, T]] = []
    for index, item in enumerate(items):
        is_last = index == len(items) - 1
        position = (
            Position(upstream=next_cursor)
            if is_last and next_cursor
            else Position(upstream=start.upstream, skip=start.skip + index + 1)
        )
        out.append((position.encode(), item))
    return out, relay.PageInfo(
        has_next_page=next_cursor is not None,
        has_previous_page=after is not None,
        start_cursor=out[0][0] if out else None,
        end_cursor=out[-1][0] if out else None,
    )
