"""Event-type filters of webhook subscriptions.

Events carry CloudEvents types ``aims.<service>.<entity>.<verb>`` (the entity may itself have
several segments, e.g. ``aims.gateway.webhook.delivery.failed``). Their *short form* drops the
``aims.<service>.`` prefix: ``system.registered``, ``webhook.delivery.failed``; it is the form
the product documents and the ``type`` shown to GRC platforms.

A subscription filter is one of:

========================================  ==============================================
``*``                                     every event
``system.registered``                     that short type, from whichever service
``system.*`` / ``webhook.delivery.*``     every short type under that prefix
``aims.inventory.system.registered``      exactly that full type
``aims.inventory.*``                      every full type under that prefix
========================================  ==============================================

Segments are lower-case letters, digits and ``_``; ``*`` is only allowed as a whole, final
segment (no ``risk*``, no ``*.assessed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_FILTER_LENGTH", "matches", "matches_any", "short_type", "validate_filter"]

MAX_FILTER_LENGTH = 200
_SEGMENT = re.compile(r"^[a-z0-9_]+$")
_PREFIX = "aims"


def short_type(event_type: str) -> str | None:
    """``aims.<service>.<rest>`` -> ``<rest>``; ``None`` when not of the form with 4+ segments."""
    parts = event_type.split(".")
    if len(parts) < 4 or parts[0] != _PREFIX or not all(parts):
        return None
    return ".".join(parts[2:])


def validate_filter(f: str) -> None:
    """Raise :class:`ValueError` with a message fit for an API client when ``f`` is malformed."""
    if not isinstance(f, str):
        raise ValueError("event filter must be a string")
    if not f:
        raise ValueError("event filter must not be empty; use '*' for every event")
    if f != f.strip():
        raise ValueError(f"event filter {f!r} must not have surrounding whitespace")
    if len(f) > MAX_FILTER_LENGTH:
        raise ValueError(f"event filter is longer than {MAX_FILTER_LENGTH} characters")
    if f == "*":
        return
    segments = f.split(".")
    if any(not s for s in segments):
        raise ValueError(
            f"event filter {f!r} has an empty segment (leading, trailing or doubled '.')"
        )
    for i, segment in enumerate(segments):
        if segment == "*":
            if i != len(segments) - 1:
                raise ValueError(
                    f"event filter {f!r}: '*' is only allowed as the last segment, as in 'risk.*'"
                )
            continue
        if "*" in segment:
            raise ValueError(
                f"event filter {f!r}: '*' must be a whole segment ('risk.*', not 'risk*')"
            )
        if not _SEGMENT.match(segment):
            raise ValueError(
                f"event filter {f!r}: segment {segment!r} may only contain lower-case "
                "letters, digits and '_'"
            )
    wildcard = segments[-1] == "*"
    names = segments[:-1] if wildcard else segments
    if names[0] == _PREFIX:
        if not wildcard and len(names) < 4:
            raise ValueError(
                f"event filter {f!r}: a full event type has the form "
                f"aims.<service>.<entity>.<verb>; to match a prefix write '{f}.*'"
            )
    elif not wildcard and len(names) < 2:
        raise ValueError(
            f"event filter {f!r} names no event; write '{f}.*' for every {f} event "
            f"or '{f}.<verb>' for one"
        )


def matches(event_type: str, f: str) -> bool:
    """Whether an event of CloudEvents type ``event_type`` passes filter ``f``.

    ``f`` is assumed valid (:func:`validate_filter` at subscription time); a malformed filter
    simply matches nothing it does not literally equal.
    """
    if f == "*":
        return True
    if f.startswith(_PREFIX + "."):
        candidate = event_type
    else:
        short = short_type(event_type)
        if short is None:
            return False
        candidate = short
    if f.endswith(".*"):
        return candidate.startswith(f[:-1])  # keep the '.': 'risk.*' must not match 'risks.x'
    return candidate == f


def matches_any(event_type: str, filters: Iterable[str]) -> bool:
    """Whether ``event_type`` passes at least one of ``filters`` (an empty list matches none)."""
    return any(matches(event_type, f) for f in filters)
