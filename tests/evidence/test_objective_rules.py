"""The pure rules of AI objectives: on target, transitions, latest value, status at due date."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.evidence.objectives.rules import (
    Direction,
    MeasurementFacts,
    ObjectiveStatus,
    Transition,
    latest,
    on_target,
    status_at_due,
    transition,
)

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
directions = st.sampled_from(list(Direction))
states = st.sampled_from([True, False, None])
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(value=finite, target=finite)
def test_at_least_and_at_most_agree_only_on_the_target_itself(value: float, target: float) -> None:
    up = on_target(value, target, Direction.AT_LEAST)
    down = on_target(value, target, Direction.AT_MOST)
    assert up is not None and down is not None
    if value == target:
        assert up and down
    else:
        assert up != down  # exactly one side meets it


@given(target=finite, direction=directions, a=finite, b=finite)
def test_a_better_value_never_falls_off_target(
    target: float, direction: Direction, a: float, b: float
) -> None:
    better, worse = (
        (max(a, b), min(a, b)) if direction is Direction.AT_LEAST else (min(a, b), max(a, b))
    )
    if on_target(worse, target, direction):
        assert on_target(better, target, direction)


@given(target=finite, direction=directions)
def test_nothing_measured_is_unknown(target: float, direction: Direction) -> None:
    assert on_target(None, target, direction) is None


def test_examples() -> None:
    assert on_target(0.95, 0.95, "at_least") is True
    assert on_target(0.94, 0.95, "at_least") is False
    assert on_target(3, 2, "at_most") is False
    assert on_target(2, 2, "at_most") is True


@given(before=states, after=states)
def test_off_target_is_announced_exactly_when_entering_off_target(
    before: bool | None, after: bool | None
) -> None:
    moved = transition(before, after)
    assert (moved is Transition.OFF_TARGET) == (after is False and before is not False)
    assert (moved is Transition.BACK_ON_TARGET) == (before is False and after is True)
    if before == after:
        assert moved is Transition.NONE


@given(
    values=st.lists(st.tuples(days, finite), min_size=0, max_size=30),
    as_of=st.one_of(st.none(), days),
)
def test_latest_is_the_latest_by_date_then_by_recording(
    values: list[tuple[date, float]], as_of: date | None
) -> None:
    facts = [MeasurementFacts(d, i, v) for i, (d, v) in enumerate(values)]
    eligible = [f for f in facts if as_of is None or f.measured_on <= as_of]
    got = latest(facts, as_of)
    if not eligible:
        assert got is None
        return
    newest_day = max(f.measured_on for f in eligible)
    last_recorded = max(
        (f for f in eligible if f.measured_on == newest_day), key=lambda f: f.sequence
    )
    assert got == last_recorded.value
    # The order the facts arrive in does not matter.
    assert latest(list(reversed(facts)), as_of) == got


@given(
    status=st.sampled_from(list(ObjectiveStatus)),
    met=states,
    due=days,
    offset=st.integers(min_value=-400, max_value=400),
)
def test_status_at_due(status: ObjectiveStatus, met: bool | None, due: date, offset: int) -> None:
    today = due + timedelta(days=offset)
    outcome = status_at_due(status, met, due, today)
    if status is not ObjectiveStatus.ACTIVE or offset <= 0:
        assert outcome is None  # not past due yet (the due day itself counts), or settled
    elif met is True:
        assert outcome is ObjectiveStatus.ACHIEVED
    else:
        assert outcome is ObjectiveStatus.MISSED  # off target or never measured
