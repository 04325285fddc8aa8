"""Retry schedule and response classification (Standard Webhooks recommendations).

Attempts of one message are made immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h and 24 h after the previous attempt (10 attempts, about 75 h 35 min in all), each delay
with +/-10 % jitter so that a receiver coming back from an outage is not hit by every queued
message in the same second. A ``Retry-After`` longer than the scheduled delay is honoured, up
to 24 h. ``410 Gone`` disables the endpoint; any 2xx is a delivery; everything else (3xx
included, since redirects are never followed) is retried.

An endpoint is disabled automatically once it has failed without a single success for
:data:`DISABLE_AFTER` (5 days, longer than one message's whole schedule, so a failing endpoint
has exhausted at least one full schedule first).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = [
    "DISABLE_AFTER",
    "JITTER",
    "MAX_ATTEMPTS",
    "MAX_RETRY_AFTER",
    "RETRY_SCHEDULE",
    "Outcome",
    "classify_response",
    "next_attempt_delay",
    "parse_retry_after",
    "should_disable",
]

#: Nominal delay in seconds before attempt ``n`` (index ``n - 1``), counted from attempt n-1.
RETRY_SCHEDULE: tuple[float, ...] = (
    0.0,
    5.0,
    5 * 60.0,
    30 * 60.0,
    2 * 3600.0,
    5 * 3600.0,
    10 * 3600.0,
    14 * 3600.0,
    20 * 3600.0,
    24 * 3600.0,
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
JITTER = 0.10
MAX_RETRY_AFTER = 24 * 3600.0
DISABLE_AFTER = timedelta(days=5)

Outcome = Literal["delivered", "retry", "disable"]


def next_attempt_delay(
    attempt_number: int,
    *,
    rng: random.Random | None = None,
    retry_after: float | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt_number`` (1-based), or ``None`` when exhausted.

    Attempt 1 is immediate (0, no jitter). Attempts 2..10 wait the nominal delay scaled by a
    uniform factor in [0.9, 1.1]. ``retry_after`` (seconds, from the previous response's
    ``Retry-After``) replaces that delay when it is longer, capped at 24 h; negative or
    non-finite values are ignored. Attempt 11 and later return ``None`` whatever
    ``retry_after`` says: the message has had its 10 attempts.
    """
    if isinstance(attempt_number, bool) or not isinstance(attempt_number, int):
        raise TypeError("attempt_number must be an int")
    if attempt_number < 1:
        raise ValueError("attempt_number is 1-based")
    if attempt_number > MAX_ATTEMPTS:
        return None
    nominal = RETRY_SCHEDULE[attempt_number - 1]
    if nominal == 0.0:
        delay = 0.0
    else:
        uniform = rng.uniform if rng is not None else random.uniform
        factor = 1.0 + uniform(-JITTER, JITTER)
        delay = max(0.0, nominal * factor)
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header into seconds from ``now`` (RFC 9110 section 10.2.3).

    Accepts delta-seconds (``"120"``) and HTTP-dates (``"Wed, 21 Oct 2015 07:28:00 GMT"``, also
    the obsolete RFC 850 and asctime forms). Dates in the past give ``0.0``. Returns ``None``
    for a missing or unparseable value. A naive ``now`` (or date) is taken as UTC.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify_response(status: int) -> Outcome:
    """``delivered`` for 2xx, ``disable`` for 410 Gone, ``retry`` for anything else.

    3xx is a failure (redirects are never followed); 429/502/503/504 are retried like any
    other failure, honouring ``Retry-After`` through :func:`next_attempt_delay`.
    """
    if 200 <= status <= 299:
        return "delivered"
    if status == 410:
        return "disable"
    return "retry"


def should_disable(first_failure_at: datetime | None, now: datetime) -> bool:
    """Whether an endpoint failing since ``first_failure_at`` should be disabled now.

    ``first_failure_at`` is the start of the current unbroken run of failed attempts (reset to
    ``None`` by any delivered attempt); ``None`` means the endpoint is healthy.
    """
    if first_failure_at is None:
        return False
    if first_failure_at.tzinfo is None:
        first_failure_at = first_failure_at.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now - first_failure_at >= DISABLE_AFTER
