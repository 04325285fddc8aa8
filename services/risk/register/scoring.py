"""Risk matrices and scoring as pure functions (no I/O): levels of cells, presets, validation.

A matrix maps each (likelihood, severity) cell — 1-based positions on its two scales — to one of
its levels, named low → high. A valid matrix is monotonic: moving to a higher likelihood or a
higher severity never gives a lower level.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class MatrixDefinition(BaseModel):
    """A risk matrix: two scales, the ordered levels, each cell's level and the tolerance.

    ``cells[l - 1][s - 1]`` is the level of likelihood ``l`` and severity ``s``.
    """

    model_config = ConfigDict(frozen=True)

    likelihood_labels: list[str] = Field(min_length=1, max_length=10)
    severity_labels: list[str] = Field(min_length=1, max_length=10)
    levels: list[str] = Field(min_length=1, max_length=10, description="Level names, low → high")
    cells: list[list[str]] = Field(
        description="cells[likelihood-1][severity-1] = level name (rows: likelihood)"
    )
    tolerance: str = Field(description="The highest acceptable level")


class MatrixPreset(enum.StrEnum):
    DEFAULT_5X5 = "default_5x5"
    SEMI_QUANTITATIVE_10 = "semi_quantitative_10"


@dataclass(frozen=True)
class MatrixProblem:
    location: list[str]
    message: str


class MatrixInvalid(ValueError):
    """The matrix definition is not usable; ``problems`` says where and why."""

    def __init__(self, problems: list[MatrixProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _banded(
    likelihood: list[str],
    severity: list[str],
    levels: list[str],
    upper_bounds: list[int],
    tolerance: str,
) -> MatrixDefinition:
    """A matrix whose cell level is the band of likelihood × severity (monotonic by design)."""

    def level(product: int) -> str:
        for name, bound in zip(levels, upper_bounds, strict=True):
            if product <= bound:
                return name
        return levels[-1]

    cells = [
        [level(li * si) for si in range(1, len(severity) + 1)]
        for li in range(1, len(likelihood) + 1)
    ]
    return MatrixDefinition(
        likelihood_labels=likelihood,
        severity_labels=severity,
        levels=levels,
        cells=cells,
        tolerance=tolerance,
    )


FIVE = ["very low", "low", "medium", "high", "very high"]

PRESETS: dict[MatrixPreset, MatrixDefinition] = {
    MatrixPreset.DEFAULT_5X5: _banded(FIVE, FIVE, FIVE, [2, 4, 9, 16, 25], "medium"),
    # Semi-quantitative: both scales 1–10, the product 1–100 banded into four levels.
    MatrixPreset.SEMI_QUANTITATIVE_10: _banded(
        [str(i) for i in range(1, 11)],
        [str(i) for i in range(1, 11)],
        ["low", "medium", "high", "critical"],
        [10, 30, 60, 100],
        "medium",
    ),
}


def problems_of(matrix: MatrixDefinition) -> list[MatrixProblem]:
    """Everything wrong with ``matrix``; empty when it is valid."""
    problems: list[MatrixProblem] = []
    if len(set(matrix.levels)) != len(matrix.levels):
        problems.append(MatrixProblem(["levels"], "Level names must be distinct."))
    if any(not name.strip() for name in matrix.levels):
        problems.append(MatrixProblem(["levels"], "Level names must not be blank."))
    rank = {name: i for i, name in enumerate(matrix.levels)}
    if matrix.tolerance not in rank:
        problems.append(
            MatrixProblem(
                ["tolerance"], f"Tolerance `{matrix.tolerance}` is not one of the levels."
            )
        )
    rows, columns = len(matrix.likelihood_labels), len(matrix.severity_labels)
    if len(matrix.cells) != rows:
        problems.append(
            MatrixProblem(
                ["cells"], f"Give {rows} rows (one per likelihood), not {len(matrix.cells)}."
            )
        )
        return problems
    shape_ok = True
    for li, row in enumerate(matrix.cells):
        if len(row) != columns:
            shape_ok = False
            problems.append(
                MatrixProblem(
                    ["cells", str(li)], f"Give {columns} cells (one per severity), not {len(row)}."
                )
            )
            continue
        for si, name in enumerate(row):
            if name not in rank:
                shape_ok = False
                problems.append(
                    MatrixProblem(
                        ["cells", str(li), str(si)], f"`{name}` is not one of the levels."
                    )
                )
    if not shape_ok:
        return problems
    for li in range(rows):
        for si in range(columns):
            here = rank[matrix.cells[li][si]]
            if li > 0 and here < rank[matrix.cells[li - 1][si]]:
                problems.append(
                    MatrixProblem(
                        ["cells", str(li), str(si)],
                        f"Not monotonic: likelihood {li + 1} gives `{matrix.cells[li][si]}`, lower "
                        f"than `{matrix.cells[li - 1][si]}` at likelihood {li} "
                        f"(severity {si + 1}).",
                    )
                )
            if si > 0 and here < rank[matrix.cells[li][si - 1]]:
                problems.append(
                    MatrixProblem(
                        ["cells", str(li), str(si)],
                        f"Not monotonic: severity {si + 1} gives `{matrix.cells[li][si]}`, lower "
                        f"than `{matrix.cells[li][si - 1]}` at severity {si} "
                        f"(likelihood {li + 1}).",
                    )
                )
    return problems


def validate_matrix(matrix: MatrixDefinition) -> MatrixDefinition:
    """``matrix`` if it is valid; raises :class:`MatrixInvalid` otherwise."""
    problems = problems_of(matrix)
    if problems:
        raise MatrixInvalid(problems)
    return matrix


def level_for(matrix: MatrixDefinition, likelihood: int, severity: int) -> str:
    """The level of a cell (1-based positions); raises ValueError off the scales."""
    if not 1 <= likelihood <= len(matrix.likelihood_labels):
        raise ValueError(f"likelihood must be 1…{len(matrix.likelihood_labels)}")
    if not 1 <= severity <= len(matrix.severity_labels):
        raise ValueError(f"severity must be 1…{len(matrix.severity_labels)}")
    return matrix.cells[likelihood - 1][severity - 1]


def rank_of(matrix: MatrixDefinition, level: str) -> int:
    """The position of ``level`` low → high (0 = lowest)."""
    return matrix.levels.index(level)


def above_tolerance(matrix: MatrixDefinition, level: str) -> bool:
    return rank_of(matrix, level) > rank_of(matrix, matrix.tolerance)


def rescale(value: int, old_size: int, new_size: int) -> int:
    """A likelihood or severity position moved onto a scale of another size, by its position on
    the scale: ``(value - 1) / (old_size - 1)``, from 0 (lowest) to 1 (highest).

    Onto a coarser scale it takes the highest position at or below that place, onto a finer one
    the lowest position at or above it. So the lowest and highest positions stay the lowest and
    highest, a trip through a finer scale and back returns the same position, and a trip through
    a coarser scale and back never raises it (a coarser scale cannot hold every position, and a
    re-scoring must not make a risk look worse than anyone assessed it). A one-point scale has
    no places: every position maps from and to its lowest.
    """
    if not 1 <= value <= old_size:
        raise ValueError(f"position {value} is not on a scale of 1…{old_size}")
    if new_size < 1:
        raise ValueError("a scale has at least one position")
    if old_size == new_size:
        return value
    if old_size == 1 or new_size == 1:
        return 1
    steps = (value - 1) * (new_size - 1)
    if new_size < old_size:
        return 1 + steps // (old_size - 1)
    return 1 + -(-steps // (old_size - 1))


def carry_over(value: int, old_size: int, new_size: int) -> int:
    """A position (e.g. of a level) spread over a list of another size, keeping its relative
    place by the upper end of its band (used for default review cadences per level)."""
    if old_size == new_size:
        return value
    return max(1, min(new_size, math.ceil(value * new_size / old_size)))


def matrix_from_json(data: dict[str, Any]) -> MatrixDefinition:
    return MatrixDefinition.model_validate(data)
