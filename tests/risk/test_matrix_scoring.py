"""Scoring is a pure function of the matrix: properties over any valid matrix and any cells."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.risk.register.scoring import (
    PRESETS,
    MatrixDefinition,
    MatrixInvalid,
    level_for,
    problems_of,
    rank_of,
    validate_matrix,
)


@st.composite
def monotonic_matrices(draw: st.DrawFn) -> MatrixDefinition:
    rows = draw(st.integers(1, 10))
    columns = draw(st.integers(1, 10))
    n_levels = draw(st.integers(1, 6))
    levels = [f"L{i}" for i in range(n_levels)]
    ranks: list[list[int]] = []
    for li in range(rows):
        row: list[int] = []
        for si in range(columns):
            floor = max(ranks[li - 1][si] if li else 0, row[si - 1] if si else 0)
            row.append(draw(st.integers(floor, n_levels - 1)))
        ranks.append(row)
    return MatrixDefinition(
        likelihood_labels=[f"l{i}" for i in range(rows)],
        severity_labels=[f"s{i}" for i in range(columns)],
        levels=levels,
        cells=[[levels[r] for r in row] for row in ranks],
        tolerance=draw(st.sampled_from(levels)),
    )


@st.composite
def any_matrices(draw: st.DrawFn) -> MatrixDefinition:
    rows, columns = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    levels = ["low", "medium", "high"]
    cells = [[draw(st.sampled_from(levels)) for _ in range(columns)] for _ in range(rows)]
    return MatrixDefinition(
        likelihood_labels=[str(i) for i in range(rows)],
        severity_labels=[str(i) for i in range(columns)],
        levels=levels,
        cells=cells,
        tolerance="medium",
    )


def cells(matrix: MatrixDefinition) -> list[tuple[int, int]]:
    return [
        (li, si)
        for li in range(1, len(matrix.likelihood_labels) + 1)
        for si in range(1, len(matrix.severity_labels) + 1)
    ]


@given(monotonic_matrices(), st.data())
def test_a_higher_likelihood_or_severity_never_gives_a_lower_level(
    matrix: MatrixDefinition, data: st.DataObject
) -> None:
    validate_matrix(matrix)
    rows, columns = len(matrix.likelihood_labels), len(matrix.severity_labels)
    l1 = data.draw(st.integers(1, rows))
    l2 = data.draw(st.integers(l1, rows))
    s1 = data.draw(st.integers(1, columns))
    s2 = data.draw(st.integers(s1, columns))
    low = rank_of(matrix, level_for(matrix, l1, s1))
    high = rank_of(matrix, level_for(matrix, l2, s2))
    assert low <= high


@given(monotonic_matrices())
def test_every_cell_maps_to_exactly_one_known_level(matrix: MatrixDefinition) -> None:
    for li, si in cells(matrix):
        level = level_for(matrix, li, si)
        assert matrix.levels.count(level) == 1


@given(any_matrices())
def test_validation_accepts_exactly_the_monotonic_matrices(matrix: MatrixDefinition) -> None:
    monotonic = all(
        rank_of(matrix, level_for(matrix, l1, s1)) <= rank_of(matrix, level_for(matrix, l2, s2))
        for l1, s1 in cells(matrix)
        for l2, s2 in cells(matrix)
        if l1 <= l2 and s1 <= s2
    )
    assert (problems_of(matrix) == []) == monotonic


@pytest.mark.parametrize("preset", list(PRESETS))
def test_presets_are_valid(preset: object) -> None:
    matrix = PRESETS[preset]  # type: ignore[index]
    validate_matrix(matrix)
    assert {level_for(matrix, li, si) for li, si in cells(matrix)} == set(matrix.levels)


def test_default_and_semi_quantitative_presets() -> None:
    default = next(iter(PRESETS.values()))
    assert (len(default.likelihood_labels), len(default.severity_labels)) == (5, 5)
    assert level_for(default, 1, 1) == "very low"
    assert level_for(default, 5, 5) == "very high"
    semi = list(PRESETS.values())[1]
    assert len(semi.likelihood_labels) == 10
    assert level_for(semi, 10, 10) == "critical"


def test_a_non_monotonic_matrix_is_refused_with_the_cell_named() -> None:
    matrix = MatrixDefinition(
        likelihood_labels=["rare", "often"],
        severity_labels=["minor", "major"],
        levels=["low", "high"],
        cells=[["low", "high"], ["low", "low"]],
        tolerance="low",
    )
    with pytest.raises(MatrixInvalid) as raised:
        validate_matrix(matrix)
    assert ["cells", "1", "1"] in [p.location for p in raised.value.problems]
    assert "monotonic" in str(raised.value)


def test_unknown_levels_and_wrong_shapes_are_refused() -> None:
    matrix = MatrixDefinition(
        likelihood_labels=["a", "b"],
        severity_labels=["x"],
        levels=["low"],
        cells=[["low"], ["extreme"]],
        tolerance="none",
    )
    locations = [p.location for p in problems_of(matrix)]
    assert ["tolerance"] in locations
    assert ["cells", "1", "0"] in locations
    with pytest.raises(ValueError, match="likelihood"):
        level_for(PRESETS[next(iter(PRESETS))], 6, 1)
