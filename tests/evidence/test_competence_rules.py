"""The pure competence rules: expiry, holding a competence, role gaps, awareness coverage."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.evidence.competence.models import fold
from services.evidence.competence.rules import (
    GapReason,
    PersonFacts,
    TrainingFacts,
    add_months,
    awareness_coverage,
    competence_status,
    derive_expiry,
    index_trainings,
    is_valid_on,
    role_gaps,
)

P1, P2, P3 = (uuid.UUID(int=i) for i in (1, 2, 3))
C1, C2 = (uuid.UUID(int=i) for i in (11, 12))
TODAY = date(2026, 11, 28)
RESULTS = ("effective", "partially_effective", "not_effective", "pending")

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
people = st.sampled_from([P1, P2, P3])
competences = st.sampled_from([C1, C2])


@st.composite
def trainings(draw: st.DrawFn) -> TrainingFacts:
    completed = draw(days)
    expires = draw(st.none() | st.integers(1, 4000).map(lambda n: completed + timedelta(days=n)))
    return TrainingFacts(
        person_id=draw(people),
        competence_id=draw(competences),
        completed_at=completed,
        expires_at=expires,
        result=draw(st.sampled_from(RESULTS)),
    )


def training(
    person: uuid.UUID = P1,
    competence: uuid.UUID = C1,
    *,
    completed: date = date(2026, 1, 10),
    expires: date | None = None,
    result: str = "effective",
) -> TrainingFacts:
    return TrainingFacts(person, competence, completed, expires, result)


# --- Expiry -----------------------------------------------------------------------------------


def test_add_months_clamps_to_the_end_of_shorter_months() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 28), 14) == date(2028, 1, 28)


@given(days, st.integers(1, 600))
def test_derived_expiry_is_after_completion_and_keeps_the_day_when_it_can(
    completed: date, months: int
) -> None:
    expires = derive_expiry(completed, months)
    assert expires is not None
    assert expires > completed
    months_between = (expires.year - completed.year) * 12 + expires.month - completed.month
    assert months_between == months
    assert expires.day == completed.day or expires.day < completed.day  # clamped only


@given(days, st.integers(1, 599))
def test_longer_validity_never_expires_sooner(completed: date, months: int) -> None:
    shorter, longer = derive_expiry(completed, months), derive_expiry(completed, months + 1)
    assert shorter is not None and longer is not None and longer > shorter


@given(days, st.none() | st.integers(1, 600), days)
def test_an_explicit_expiry_wins_and_no_validity_means_never(
    completed: date, months: int | None, explicit: date
) -> None:
    assert derive_expiry(completed, months, explicit) == explicit
    assert (derive_expiry(completed, None) is None) is True


# --- Holding a competence ---------------------------------------------------------------------


def test_reasons_for_each_kind_of_missing_competence() -> None:
    assert competence_status([], TODAY).reason is GapReason.NEVER_TRAINED
    expired = training(completed=date(2024, 1, 1), expires=date(2025, 1, 1))
    status = competence_status([expired], TODAY)
    assert status.reason is GapReason.EXPIRED and status.expired_on == date(2025, 1, 1)
    assert "expired on 2025-01-01" in status.describe("AI risk")
    for result, reason in (
        ("not_effective", GapReason.NOT_EFFECTIVE),
        ("partially_effective", GapReason.PARTIALLY_EFFECTIVE),
        ("pending", GapReason.EVALUATION_PENDING),
    ):
        assert competence_status([training(result=result)], TODAY).reason is reason
    assert competence_status([training()], TODAY).held


def test_expires_at_is_the_first_day_no_longer_valid() -> None:
    t = training(completed=date(2026, 1, 1), expires=TODAY)
    assert is_valid_on(t, TODAY - timedelta(days=1))
    assert not is_valid_on(t, TODAY)


def test_the_reason_closest_to_holding_it_is_shown() -> None:
    expired = training(completed=date(2023, 1, 1), expires=date(2024, 1, 1))
    pending = training(result="pending")
    assert competence_status([expired, pending], TODAY).reason is GapReason.EVALUATION_PENDING
    newer_expired = training(completed=date(2024, 1, 1), expires=date(2025, 6, 1))
    status = competence_status([expired, newer_expired], TODAY)
    assert status.expired_on == date(2025, 6, 1)


@given(st.lists(trainings(), max_size=6), days)
def test_held_exactly_when_one_training_is_valid_and_else_a_reason(
    items: list[TrainingFacts], today: date
) -> None:
    status = competence_status(items, today)
    assert status.held == any(is_valid_on(t, today) for t in items)
    assert (status.reason is None) == status.held
    if not items:
        assert status.reason is GapReason.NEVER_TRAINED
    if status.reason is GapReason.EXPIRED:
        assert status.expired_on is not None and status.expired_on <= today


@given(st.lists(trainings(), max_size=6), days)
def test_a_valid_effective_training_always_gives_the_competence(
    items: list[TrainingFacts], today: date
) -> None:
    fresh = training(completed=today, expires=today + timedelta(days=1))
    assert competence_status([*items, fresh], today).held


@given(st.lists(trainings(), max_size=6), days)
def test_order_of_trainings_does_not_change_the_status(
    items: list[TrainingFacts], today: date
) -> None:
    assert competence_status(items, today) == competence_status(list(reversed(items)), today)


# --- Role gaps --------------------------------------------------------------------------------


def test_role_requiring_two_competences_lists_each_missing_one_per_holder() -> None:
    index = index_trainings([training(P1, C1), training(P2, C1), training(P2, C2)])
    gaps = role_gaps(uuid.UUID(int=99), [P1, P2], [C1, C2], index, TODAY)
    assert gaps.is_gap and not gaps.unheld
    assert [(m.person_id, m.competence_id) for m in gaps.missing] == [(P1, C2)]
    assert gaps.missing[0].status.reason is GapReason.NEVER_TRAINED


def test_a_role_no_one_holds_is_a_gap_even_without_requirements() -> None:
    gaps = role_gaps(uuid.UUID(int=99), [], [], {}, TODAY)
    assert gaps.is_gap and gaps.unheld and gaps.missing == ()
    assert not role_gaps(uuid.UUID(int=99), [P1], [], {}, TODAY).is_gap


@given(
    st.lists(people, max_size=4),
    st.lists(competences, max_size=3),
    st.lists(trainings(), max_size=12),
    days,
)
def test_gaps_are_exactly_the_pairs_not_held(
    holders: list[uuid.UUID],
    required: list[uuid.UUID],
    items: list[TrainingFacts],
    today: date,
) -> None:
    index = index_trainings(items)
    gaps = role_gaps(uuid.UUID(int=99), holders, required, index, today)
    expected = {
        (p, c)
        for p in holders
        for c in required
        if not any(is_valid_on(t, today) for t in index.get((p, c), []))
    }
    listed = [(m.person_id, m.competence_id) for m in gaps.missing]
    assert set(listed) == expected
    assert len(listed) == len(set(listed))  # duplicates in the input never double a gap
    assert gaps.is_gap == (not holders or bool(expected))


# --- Awareness coverage -----------------------------------------------------------------------


def test_coverage_by_department_counts_active_people_only() -> None:
    staff = [
        PersonFacts(P1, "Sales", True),
        PersonFacts(P2, "Sales", True),
        PersonFacts(P3, "Sales", False),
    ]
    index = index_trainings([training(P1, C1), training(P2, C1, result="pending")])
    [sales] = awareness_coverage(staff, [C1], index, TODAY)
    assert (sales.department, sales.people, sales.covered, sales.ratio) == ("Sales", 2, 1, 0.5)
    assert list(sales.missing) == [P2]
    assert sales.missing[P2][0][1].reason is GapReason.EVALUATION_PENDING


@given(
    st.lists(
        st.tuples(people, st.sampled_from(["A", "B", None]), st.booleans()),
        max_size=3,
        unique_by=lambda t: t[0],
    ),
    st.lists(competences, max_size=2),
    st.lists(trainings(), max_size=10),
    days,
)
def test_coverage_adds_up(
    staff: list[tuple[uuid.UUID, str | None, bool]],
    topics: list[uuid.UUID],
    items: list[TrainingFacts],
    today: date,
) -> None:
    facts = [PersonFacts(*s) for s in staff]
    result = awareness_coverage(facts, topics, index_trainings(items), today)
    assert sum(c.people for c in result) == sum(1 for p in facts if p.active)
    for department in result:
        assert department.covered + len(department.missing) == department.people
        assert 0.0 <= department.ratio <= 1.0
        if not topics:
            assert department.ratio == 1.0
    assert [c.department for c in result] == sorted(
        (c.department for c in result), key=lambda d: (d is None, d or "")
    )


# --- Name folding -----------------------------------------------------------------------------


def test_fold_makes_case_and_unicode_forms_collide() -> None:
    assert fold("Équipe") == fold("équipe") == fold("E\u0301QUIPE")
    assert fold("Straße") == fold("STRASSE")
    assert fold("  AI   policy ") == fold("ai policy")
    assert fold("Équipe") != fold("Equipe")


@given(st.text(max_size=30))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
