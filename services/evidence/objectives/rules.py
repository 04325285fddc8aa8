"""Pure decisions about AI objectives (ISO/IEC 42001 6.2, 9.1): whether a value meets a target,
what a new measurement changes, and what an objective becomes when its due date passes.

No database and no clock: callers pass the values and ``today``. Tested with Hypothesis.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


class Direction(enum.StrEnum):
    AT_LEAST = "at_least"  # the value must reach the target or more (e.g. accuracy ≥ 0.95)
    AT_MOST = "at_most"  # the value must stay at or below the target (e.g. incidents ≤ 2)


class ObjectiveStatus(enum.StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    MISSED = "missed"
    WITHDRAWN = "withdrawn"


class Transition(enum.StrEnum):
    """How a new latest value moves the objective relative to its target."""

    NONE = "none"  # same side as before
    OFF_TARGET = "off_target"  # from on target or unknown to off target
    BACK_ON_TARGET = "back_on_target"  # from off target to on target
    FIRST_ON_TARGET = "first_on_target"  # from unknown to on target


def on_target(value: float | None, target: float, direction: Direction | str) -> bool | None:
    """Whether ``value`` meets ``target`` in ``direction``; None when nothing was measured.

    The target itself counts as met in both directions ("at least 95 %" is met by 95 %).
    """
    if value is None:
        return None
    if Direction(direction) is Direction.AT_LEAST:
        return value >= target
    return value <= target


def transition(before: bool | None, after: bool | None) -> Transition:
    """What moving from ``before`` to ``after`` (each: on target, off target, unknown) means.

    Only a move *to* off target from anything else is ``OFF_TARGET`` (an event the owner must
    act on); a further measurement that stays off target announces nothing new.
    """
    if after is False and before is not False:
        return Transition.OFF_TARGET
    if after is True and before is False:
        return Transition.BACK_ON_TARGET
    if after is True and before is None:
        return Transition.FIRST_ON_TARGET
    return Transition.NONE


@dataclass(frozen=True, order=True)
class MeasurementFacts:
    """What the rules need of a measurement: its date and the order it was recorded in."""

    measured_on: date
    sequence: int  # larger = recorded later (ties on the same day: the later record wins)
    value: float


def latest(measurements: Iterable[MeasurementFacts], as_of: date | None = None) -> float | None:
    """The value of the measurement with the latest ``measured_on`` (on or before ``as_of``
    when given), ties broken by the later record; None when there is none."""
    best: MeasurementFacts | None = None
    for m in measurements:
        if as_of is not None and m.measured_on > as_of:
            continue
        if best is None or (m.measured_on, m.sequence) > (best.measured_on, best.sequence):
            best = m
    return None if best is None else best.value


def status_at_due(
    status: ObjectiveStatus | str, met: bool | None, due_date: date, today: date
) -> ObjectiveStatus | None:
    """The status an objective takes once its due date has passed (``today > due_date``):
    ``achieved`` when its latest value meets the target, ``missed`` otherwise (including when it
    was never measured). None when nothing changes: not yet past due, or no longer active."""
    if ObjectiveStatus(status) is not ObjectiveStatus.ACTIVE or today <= due_date:
        return None
    return ObjectiveStatus.ACHIEVED if met is True else ObjectiveStatus.MISSED
