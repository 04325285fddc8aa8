"""Reading the ``id`` arguments of GraphQL fields: a Relay global ID or a service's own UUID."""

from __future__ import annotations

import uuid

from strawberry import relay

from shared.errors import BadRequest


def uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def parse_node_id(value: str, type_name: str, *, field: str = "id") -> uuid.UUID:
    """A ``type_name`` global ID, or the service's own UUID (which REST clients hold)."""
    if (plain := uuid_or_none(value)) is not None:
        return plain
    try:
        global_id = relay.GlobalID.from_id(value)
    except relay.GlobalIDValueError as exc:
        raise BadRequest(f"`{field}` is neither a {type_name} ID nor a UUID.") from exc
    if global_id.type_name != type_name:
        raise BadRequest(f"`{field}` names a {global_id.type_name}, not a {type_name}.")
    if (parsed := uuid_or_none(global_id.node_id)) is None:
        raise BadRequest(f"`{field}` is not a {type_name} ID.")
    return parsed
