"""Re-scoring through a coarser matrix and back never raises a score, and the report says what
moved: properties of the pure mapping, then the round trip over REST."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.risk.register.scoring import MatrixDefinition, level_for, rank_of, rescale
from tests.risk.test_matrix_scoring import monotonic_matrices
from tests.risk.test_register import create

sizes = st.integers(1, 10)


@st.composite
def position_and_sizes(draw: st.DrawFn) -> tuple[int, int, int]:
    n = draw(sizes)
    return draw(st.integers(1, n)), n, draw(sizes)


@given(position_and_sizes())
def test_rescaled_position_is_on_the_new_scale_and_ends_stay_ends(
    case: tuple[int, int, int],
) -> None:
    value, n, m = case
    moved = rescale(value, n, m)
    assert 1 <= moved <= m
    if value == 1:
        assert moved == 1
    if value == n and n > 1:
        assert moved == m


@given(position_and_sizes())
def test_a_round_trip_never_raises_a_position(case: tuple[int, int, int]) -> None:
    value, n, m = case
    back = rescale(rescale(value, n, m), m, n)
    assert back <= value
    if m >= n:  # nothing is lost on a finer scale: the trip returns the same position
        assert back == value


@given(sizes, sizes, st.data())
def test_rescaling_keeps_the_order_and_the_place_on_the_scale(
    n: int, m: int, data: st.DataObject
) -> None:
    a, b = sorted(data.draw(st.lists(st.integers(1, n), min_size=2, max_size=2)))
    assert rescale(a, n, m) <= rescale(b, n, m)
    if n > 1 and m > 1:
        place = (a - 1) / (n - 1)
        moved = (rescale(a, n, m) - 1) / (m - 1)
        # Never further than one step of the new scale from the same place on it.
        assert abs(moved - place) < 1 / (m - 1) + 1e-9
        if m < n:
            assert moved <= place + 1e-9  # coarser: at or below
        else:
            assert moved >= place - 1e-9  # finer: at or above


@given(monotonic_matrices(), monotonic_matrices(), st.data())
def test_a_round_trip_through_any_matrix_never_raises_the_level(
    start: MatrixDefinition, via: MatrixDefinition, data: st.DataObject
) -> None:
    ln, sn = len(start.likelihood_labels), len(start.severity_labels)
    lm, sm = len(via.likelihood_labels), len(via.severity_labels)
    likelihood = data.draw(st.integers(1, ln))
    severity = data.draw(st.integers(1, sn))
    back_l = rescale(rescale(likelihood, ln, lm), lm, ln)
    back_s = rescale(rescale(severity, sn, sm), sm, sn)
    before = rank_of(start, level_for(start, likelihood, severity))
    after = rank_of(start, level_for(start, back_l, back_s))
    assert after <= before


def test_five_to_three_and_back() -> None:
    there = [rescale(v, 5, 3) for v in range(1, 6)]
    assert there == [1, 1, 2, 2, 3]
    assert [rescale(v, 3, 5) for v in there] == [1, 1, 3, 3, 5]
    assert [rescale(v, 5, 10) for v in range(1, 6)] == [1, 4, 6, 8, 10]


# --- Over REST --------------------------------------------------------------------------------

THREE = {
    "likelihood_labels": ["unlikely", "possible", "likely"],
    "severity_labels": ["minor", "moderate", "major"],
    "levels": ["low", "medium", "high"],
    "cells": [
        ["low", "low", "medium"],
        ["low", "medium", "high"],
        ["medium", "high", "high"],
    ],
    "tolerance": "medium",
}
FIVE = ["very low", "low", "medium", "high", "very high"]
SCORES = ("likelihood", "severity", "residual_likelihood", "residual_severity")


@pytest.mark.engines
async def test_rescoring_through_a_coarser_matrix_and_back_never_raises_scores(
    stack: Any, org: uuid.UUID
) -> None:
    admin = stack.headers(org, "admin")
    originals = [
        await create(
            stack, org, likelihood=2, severity=4, residual_likelihood=2, residual_severity=2
        ),
        await create(stack, org, likelihood=4, severity=4),
        await create(stack, org, likelihood=5, severity=5),
        await create(stack, org, likelihood=1, severity=1),
    ]
    ids = [r["id"] for r in originals]
    put = await stack.risk.put(
        "/v1/risk-matrices", json={"definition": THREE}, headers={**admin, "If-Match": '"1"'}
    )
    assert put.status_code == 200, put.text
    coarse = await stack.risk.post("/v1/risk-matrices/rescore", headers=admin)
    assert coarse.status_code == 200, coarse.text
    report = coarse.json()
    assert (report["matrix_version"], report["examined"], report["rescored"]) == (2, 4, 4)
    by_id = {m["risk_id"]: m for m in report["moved"]}
    assert set(by_id) == set(ids)  # every one changed its level name at least
    first = by_id[ids[0]]
    assert (first["likelihood"], first["severity"]) == (
        {"before": 2, "after": 1},
        {"before": 4, "after": 2},
    )
    assert first["residual_likelihood"] == {"before": 2, "after": 1}
    assert (first["inherent_from"], first["inherent_to"]) == ("medium", "low")
    assert (first["from_matrix_version"], first["to_matrix_version"]) == (1, 2)
    assert first["title"] == originals[0]["title"]
    # The lowest cell keeps its positions: only its level's name moved.
    last = by_id[ids[3]]
    assert last["likelihood"] == {"before": 1, "after": 1}
    assert last["level_changed"] is True

    back = await stack.risk.put(
        "/v1/risk-matrices", json={"preset": "default_5x5"}, headers={**admin, "If-Match": '"2"'}
    )
    assert back.status_code == 200, back.text
    dry = (await stack.risk.post("/v1/risk-matrices/rescore?dry_run=true", headers=admin)).json()
    still = (await stack.risk.get(f"/v1/risks/{ids[0]}", headers=admin)).json()
    assert (still["matrix_version"], still["likelihood"]) == (2, 1)
    done = (await stack.risk.post("/v1/risk-matrices/rescore", headers=admin)).json()
    assert done["moved"] == dry["moved"] and done["dry_run"] is False
    moved = {m["risk_id"]: m for m in done["moved"]}
    assert moved[ids[0]]["severity"] == {"before": 2, "after": 3}
    assert moved[ids[1]]["likelihood"] == {"before": 2, "after": 3}

    for original in originals:
        now = (await stack.risk.get(f"/v1/risks/{original['id']}", headers=admin)).json()
        assert now["matrix_version"] == 3
        for field in SCORES:
            if original[field] is not None:
                assert now[field] <= original[field], (field, original, now)
        assert FIVE.index(now["inherent_level"]) <= FIVE.index(original["inherent_level"])
    ends = [(await stack.risk.get(f"/v1/risks/{i}", headers=admin)).json() for i in ids[2:]]
    assert [(r["likelihood"], r["severity"]) for r in ends] == [(5, 5), (1, 1)]
    first_now = (await stack.risk.get(f"/v1/risks/{ids[0]}", headers=admin)).json()
    assert (first_now["likelihood"], first_now["severity"]) == (1, 3)

    # Once everything is on the current matrix, nothing moves.
    again = (await stack.risk.post("/v1/risk-matrices/rescore", headers=admin)).json()
    assert (again["rescored"], again["moved"]) == (0, [])


@pytest.mark.engines
async def test_rescoring_voids_an_acceptance_whose_level_moves_and_says_so(
    stack: Any, org: uuid.UUID
) -> None:
    admin = stack.headers(org, "admin", subject="ada")
    risk = await create(stack, org, likelihood=4, severity=4)  # high: above tolerance
    accepted = await stack.risk.post(
        f"/v1/risks/{risk['id']}/accept",
        json={"rationale": "Offset by a human check of every single case."},
        headers={**admin, "If-Match": '"1"'},
    )
    assert accepted.status_code == 200, accepted.text
    await stack.risk.put(
        "/v1/risk-matrices", json={"definition": THREE}, headers={**admin, "If-Match": '"1"'}
    )
    dry = (await stack.risk.post("/v1/risk-matrices/rescore?dry_run=true", headers=admin)).json()
    (move,) = dry["moved"]
    assert (move["inherent_from"], move["inherent_to"], move["acceptance_voided"]) == (
        "high",
        "medium",
        True,
    )
    done = (await stack.risk.post("/v1/risk-matrices/rescore", headers=admin)).json()
    assert done["moved"][0]["acceptance_voided"] is True
    now = (await stack.risk.get(f"/v1/risks/{risk['id']}", headers=admin)).json()
    assert (now["status"], now["accepted_at"]) == ("open", None)
