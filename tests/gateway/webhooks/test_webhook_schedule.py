"""Retry schedule, Retry-After parsing, response classification, automatic disabling."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.webhooks.schedule import (
    DISABLE_AFTER,
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    classify_response,
    next_attempt_delay,
    parse_retry_after,
    should_disable,
)

NOMINAL = {1: 0, 2: 5, 3: 300, 4: 1800, 5: 7200, 6: 18000, 7: 36000, 8: 50400, 9: 72000, 10: 86400}
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

attempts = st.integers(min_value=1, max_value=10)
seeds = st.integers(min_value=0, max_value=2**32)


def test_schedule_is_the_standard_webhooks_recommendation() -> None:
    assert dict(enumerate(RETRY_SCHEDULE, start=1)) == NOMINAL
    assert MAX_ATTEMPTS == 10
    # "cumulative ~75 h 35 min"
    assert timedelta(seconds=sum(RETRY_SCHEDULE)) == timedelta(hours=75, minutes=35, seconds=5)


@given(attempt=attempts, seed=seeds)
def test_delay_is_non_negative_and_within_ten_percent(attempt: int, seed: int) -> None:
    delay = next_attempt_delay(attempt, rng=random.Random(seed))
    assert delay is not None
    assert delay >= 0
    nominal = NOMINAL[attempt]
    assert nominal * 0.9 <= delay <= nominal * 1.1


@given(seed=seeds)
def test_first_attempt_is_immediate_without_jitter(seed: int) -> None:
    assert next_attempt_delay(1, rng=random.Random(seed)) == 0.0


def test_jitter_actually_spreads_delays() -> None:
    rng = random.Random(42)
    delays = {next_attempt_delay(5, rng=rng) or 0.0 for _ in range(200)}
    assert len(delays) > 150
    assert min(delays) < 7200 * 0.95
    assert max(delays) > 7200 * 1.05
    assert next_attempt_delay(5) is not None  # default RNG works too


@given(
    attempt=st.integers(min_value=MAX_ATTEMPTS + 1, max_value=10_000),
    retry_after=st.none() | st.floats(min_value=0, max_value=1e6),
)
def test_exhausted_after_ten_attempts(attempt: int, retry_after: float | None) -> None:
    assert next_attempt_delay(attempt, retry_after=retry_after) is None


@given(
    attempt=attempts,
    seed=seeds,
    retry_after=st.floats(min_value=0, max_value=10 * 86400, allow_nan=False),
)
def test_retry_after_is_honoured_when_longer_and_capped_at_a_day(
    attempt: int, seed: int, retry_after: float
) -> None:
    scheduled = next_attempt_delay(attempt, rng=random.Random(seed))
    delay = next_attempt_delay(attempt, rng=random.Random(seed), retry_after=retry_after)
    assert scheduled is not None
    assert delay is not None
    assert delay == max(scheduled, min(retry_after, 86400.0))
    assert delay >= min(retry_after, 86400.0)
    assert delay >= scheduled
    assert delay <= max(scheduled, 86400.0)


def test_retry_after_examples() -> None:
    rng = random.Random(1)
    assert next_attempt_delay(2, rng=rng, retry_after=120) == 120.0  # longer than ~5 s
    assert next_attempt_delay(3, rng=random.Random(1), retry_after=1) == next_attempt_delay(
        3, rng=random.Random(1)
    )  # shorter than ~5 min: the schedule wins
    assert next_attempt_delay(2, retry_after=7 * 86400) == 86400.0


@pytest.mark.parametrize("bad", [-5.0, math.nan, math.inf, -math.inf])
def test_nonsense_retry_after_is_ignored(bad: float) -> None:
    assert next_attempt_delay(2, rng=random.Random(3), retry_after=bad) == next_attempt_delay(
        2, rng=random.Random(3)
    )


@pytest.mark.parametrize("bad", [0, -1])
def test_attempt_numbers_are_one_based(bad: int) -> None:
    with pytest.raises(ValueError, match="1-based"):
        next_attempt_delay(bad)


# ------------------------------------------------------------------ Retry-After


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("  0 ", 0.0),
        ("86400", 86400.0),
        ("Sun, 01 Mar 2026 12:02:00 GMT", 120.0),  # IMF-fixdate
        ("Sunday, 01-Mar-26 12:00:30 GMT", 30.0),  # obsolete RFC 850
        ("Sun Mar  1 13:00:00 2026", 3600.0),  # obsolete asctime
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("120 seconds", None),
        ("Sun, 32 Mar 2026 12:00:00 GMT", None),
        ("١٢٠", None),  # non-ASCII digits
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_naive_now_is_utc() -> None:
    assert parse_retry_after("Sun, 01 Mar 2026 12:02:00 GMT", NOW.replace(tzinfo=None)) == 120.0


@given(seconds=st.integers(min_value=0, max_value=10**9))
def test_delta_seconds_round_trip(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == float(seconds)


@given(offset=st.integers(min_value=-(10**7), max_value=10**7))
def test_http_date_round_trip(offset: int) -> None:
    when = NOW + timedelta(seconds=offset)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == max(0.0, float(offset))


# ------------------------------------------------------------------ classification


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"),
        (201, "delivered"),
        (202, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (410, "disable"),
        (100, "retry"),
        (301, "retry"),
        (302, "retry"),
        (307, "retry"),
        (308, "retry"),
        (400, "retry"),
        (401, "retry"),
        (404, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
    ],
)
def test_classify_response(status: int, outcome: str) -> None:
    assert classify_response(status) == outcome


@given(status=st.integers(min_value=100, max_value=599))
def test_classification_is_total(status: int) -> None:
    outcome = classify_response(status)
    assert (outcome == "delivered") == (200 <= status < 300)
    assert (outcome == "disable") == (status == 410)


# ------------------------------------------------------------------ disabling


def test_disable_after_five_days_of_failure() -> None:
    assert timedelta(days=5) == DISABLE_AFTER
    assert timedelta(seconds=sum(RETRY_SCHEDULE) * 1.1) < DISABLE_AFTER  # > one full schedule
    assert should_disable(None, NOW) is False
    assert should_disable(NOW, NOW) is False
    assert should_disable(NOW - timedelta(days=5) + timedelta(seconds=1), NOW) is False
    assert should_disable(NOW - timedelta(days=5), NOW) is True
    assert should_disable(NOW - timedelta(days=30), NOW) is True
    naive = (NOW - timedelta(days=6)).replace(tzinfo=None)
    assert should_disable(naive, NOW) is True
