"""Pure decisions of the competence domain: expiry, who holds a competence, gaps, coverage.

No database and no clock here: callers pass ``today``. Everything is tested with Hypothesis.

**What counts as holding a competence.** A person holds a competence on day D when they have a
training for it completed on or before D, not expired on D (``expires_at`` is the first day it is
no longer valid, so it holds while ``D < expires_at``), and evaluated ``effective``. Only
``effective`` counts: ISO/IEC 42001 7.2 c) asks for actions whose effectiveness was *evaluated*,
so a ``pending`` evaluation is not yet evidence of competence, and ``partially_effective`` means
the evaluation found the competence not fully acquired. Both show as gaps, with their own reason,
so the gap list says what to do next (evaluate, or retrain).
"""

from __future__ import annotations

import calendar
import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


class GapReason(enum.StrEnum):
    NEVER_TRAINED = "never_trained"
    EXPIRED = "expired"
    NOT_EFFECTIVE = "evaluated_not_effective"
    PARTIALLY_EFFECTIVE = "evaluated_partially_effective"
    EVALUATION_PENDING = "evaluation_pending"
    NOT_YET_COMPLETED = "completed_in_future"


# When a person has several trainings for a competence and none is valid, the reason shown is the
# one closest to holding it: an evaluation to finish beats a retraining to book.
_REASON_RANK = {
    GapReason.EVALUATION_PENDING: 0,
    GapReason.PARTIALLY_EFFECTIVE: 1,
    GapReason.NOT_EFFECTIVE: 2,
    GapReason.NOT_YET_COMPLETED: 3,
    GapReason.EXPIRED: 4,
    GapReason.NEVER_TRAINED: 5,
}
_RESULT_REASON = {
    "pending": GapReason.EVALUATION_PENDING,
    "partially_effective": GapReason.PARTIALLY_EFFECTIVE,
    "not_effective": GapReason.NOT_EFFECTIVE,
}


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day (31 Jan + 1 →
    28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def derive_expiry(
    completed_at: date, validity_months: int | None, explicit: date | None = None
) -> date | None:
    """When a training stops being valid: the explicit date when given, else ``completed_at``
    plus the competence's validity, else never (None)."""
    if explicit is not None:
        return explicit
    if validity_months is None:
        return None
    return add_months(completed_at, validity_months)


@dataclass(frozen=True)
class TrainingFacts:
    """What the rules need of one training."""

    person_id: uuid.UUID
    competence_id: uuid.UUID
    completed_at: date
    expires_at: date | None
    result: str  # effective | partially_effective | not_effective | pending


@dataclass(frozen=True)
class CompetenceStatus:
    held: bool
    reason: GapReason | None = None
    # The expiry date for ``expired`` (the latest one among the person's trainings).
    expired_on: date | None = None

    def describe(self, competence: str) -> str:
        if self.held:
            return f"Holds {competence}."
        match self.reason:
            case GapReason.NEVER_TRAINED:
                return f"Never trained in {competence}."
            case GapReason.EXPIRED:
                return f"Training in {competence} expired on {self.expired_on}."
            case GapReason.NOT_EFFECTIVE:
                return f"Training in {competence} was evaluated not effective."
            case GapReason.PARTIALLY_EFFECTIVE:
                return (
                    f"Training in {competence} was evaluated only partially effective "
                    "(only an effective evaluation counts)."
                )
            case GapReason.EVALUATION_PENDING:
                return (
                    f"Training in {competence} has not been evaluated yet "
                    "(only an effective evaluation counts)."
                )
            case _:
                return f"Training in {competence} is dated in the future."


def is_valid_on(training: TrainingFacts, today: date) -> bool:
    """Whether ``training`` gives its competence on ``today``."""
    return (
        training.result == "effective"
        and training.completed_at <= today
        and (training.expires_at is None or today < training.expires_at)
    )


def competence_status(trainings: Iterable[TrainingFacts], today: date) -> CompetenceStatus:
    """Whether one person holds one competence on ``today``, given their trainings for it; when
    not, the reason closest to holding it."""
    best: GapReason = GapReason.NEVER_TRAINED
    expired_on: date | None = None
    for training in trainings:
        if is_valid_on(training, today):
            return CompetenceStatus(held=True)
        if training.completed_at > today:
            reason = GapReason.NOT_YET_COMPLETED
        elif training.expires_at is not None and today >= training.expires_at:
            reason = GapReason.EXPIRED
            if expired_on is None or training.expires_at > expired_on:
                expired_on = training.expires_at
        else:
            reason = _RESULT_REASON[training.result]
        if _REASON_RANK[reason] < _REASON_RANK[best]:
            best = reason
    return CompetenceStatus(
        held=False, reason=best, expired_on=expired_on if best is GapReason.EXPIRED else None
    )


def index_trainings(
    trainings: Iterable[TrainingFacts],
) -> dict[tuple[uuid.UUID, uuid.UUID], list[TrainingFacts]]:
    """Trainings by ``(person_id, competence_id)``."""
    out: dict[tuple[uuid.UUID, uuid.UUID], list[TrainingFacts]] = {}
    for training in trainings:
        out.setdefault((training.person_id, training.competence_id), []).append(training)
    return out


# --- Gaps (7.2) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingCompetence:
    person_id: uuid.UUID
    competence_id: uuid.UUID
    status: CompetenceStatus


@dataclass(frozen=True)
class RoleGaps:
    role_id: uuid.UUID
    holders: tuple[uuid.UUID, ...]
    missing: tuple[MissingCompetence, ...] = ()

    @property
    def unheld(self) -> bool:
        """No one holds the role: a gap by itself."""
        return not self.holders

    @property
    def is_gap(self) -> bool:
        return self.unheld or bool(self.missing)


def role_gaps(
    role_id: uuid.UUID,
    holders: Sequence[uuid.UUID],
    required: Sequence[uuid.UUID],
    trainings: Mapping[tuple[uuid.UUID, uuid.UUID], Sequence[TrainingFacts]],
    today: date,
) -> RoleGaps:
    """Each (holder, required competence) the holder lacks on ``today``, holders in the order
    given and competences in the order required."""
    missing = []
    for person in dict.fromkeys(holders):
        for competence in dict.fromkeys(required):
            status = competence_status(trainings.get((person, competence), ()), today)
            if not status.held:
                missing.append(MissingCompetence(person, competence, status))
    return RoleGaps(role_id, tuple(dict.fromkeys(holders)), tuple(missing))


# --- Awareness coverage (7.3) -----------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    id: uuid.UUID
    department: str | None
    active: bool


@dataclass
class DepartmentCoverage:
    department: str | None
    people: int = 0
    covered: int = 0
    # Each active person lacking at least one awareness topic, with the topics they lack.
    missing: dict[uuid.UUID, list[tuple[uuid.UUID, CompetenceStatus]]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Covered ÷ people; 1.0 for a department without active people (nothing to cover)."""
        return self.covered / self.people if self.people else 1.0


def awareness_coverage(
    people: Iterable[PersonFacts],
    topics: Sequence[uuid.UUID],
    trainings: Mapping[tuple[uuid.UUID, uuid.UUID], Sequence[TrainingFacts]],
    today: date,
) -> list[DepartmentCoverage]:
    """Per department (None: people without one), the active people holding every awareness
    topic out of all its active people. Inactive people count nowhere. Departments sorted by
    name, the one without a name last."""
    by_department: dict[str | None, DepartmentCoverage] = {}
    for person in people:
        if not person.active:
            continue
        coverage = by_department.setdefault(
            person.department, DepartmentCoverage(person.department)
        )
        coverage.people += 1
        lacking = []
        for topic in dict.fromkeys(topics):
            status = competence_status(trainings.get((person.id, topic), ()), today)
            if not status.held:
                lacking.append((topic, status))
        if lacking:
            coverage.missing[person.id] = lacking
        else:
            coverage.covered += 1
    return sorted(by_department.values(), key=lambda c: (c.department is None, c.department or ""))
