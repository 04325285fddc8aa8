"""The impact assessment requirement rule: table cases and a monotonicity property."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.risk.impact.requirement import (
    RequirementReason,
    SystemFacts,
    fundamental_rights_fields_required,
    is_required,
    requirement_reasons,
)

R = RequirementReason
PERSONAL = {"category": "contact", "personal": True, "special_category": False}
NOT_PERSONAL = {"category": "telemetry", "personal": False, "special_category": False}


@pytest.mark.parametrize(
    ("facts", "reasons"),
    [
        (SystemFacts(), []),
        (SystemFacts(sector="general", data_inputs=(NOT_PERSONAL,)), []),
        (SystemFacts(affected_stakeholders=("applicants",)), [R.AFFECTS_INDIVIDUALS]),
        (SystemFacts(affected_stakeholders=("  ",)), []),
        (SystemFacts(data_inputs=(NOT_PERSONAL, PERSONAL)), [R.AFFECTS_INDIVIDUALS]),
        (
            SystemFacts(data_inputs=({"category": "health", "special_category": True},)),
            [R.AFFECTS_INDIVIDUALS],
        ),
        (SystemFacts(tier="high"), [R.HIGH_RISK]),
        (SystemFacts(tier="limited"), []),
        (SystemFacts(sector="healthcare"), [R.SENSITIVE_SECTOR]),
        (SystemFacts(fundamental_rights_risk=True), [R.FUNDAMENTAL_RIGHTS_RISK]),
        (
            SystemFacts(
                sector="hiring_employment",
                affected_stakeholders=("applicants",),
                tier="high",
                fundamental_rights_risk=True,
            ),
            [R.AFFECTS_INDIVIDUALS, R.HIGH_RISK, R.SENSITIVE_SECTOR, R.FUNDAMENTAL_RIGHTS_RISK],
        ),
    ],
)
def test_reasons(facts: SystemFacts, reasons: list[RequirementReason]) -> None:
    assert requirement_reasons(facts) == reasons
    assert is_required(facts) is bool(reasons)


@pytest.mark.parametrize(
    ("facts", "required"),
    [
        (SystemFacts(tier="high", ai_roles=("customer",)), True),
        (SystemFacts(tier="high", classification_roles=("deployer",)), True),
        (SystemFacts(tier="high", ai_roles=("provider",)), False),
        (SystemFacts(tier="limited", ai_roles=("customer",)), False),
        (SystemFacts(ai_roles=("customer",)), False),
    ],
)
def test_art_27_fields(facts: SystemFacts, required: bool) -> None:
    assert fundamental_rights_fields_required(facts) is required


data_input = st.fixed_dictionaries(
    {"category": st.text(max_size=5), "personal": st.booleans(), "special_category": st.booleans()}
)
facts_strategy = st.builds(
    SystemFacts,
    sector=st.none() | st.sampled_from(["general", "healthcare", "insurance", "education"]),
    affected_stakeholders=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    data_inputs=st.lists(data_input, max_size=3).map(tuple),
    ai_roles=st.lists(st.sampled_from(["producer", "provider", "customer"]), max_size=3).map(tuple),
    tier=st.none() | st.sampled_from(["prohibited", "high", "limited", "minimal"]),
    fundamental_rights_risk=st.booleans(),
)


def _add(facts: SystemFacts, reason: RequirementReason) -> SystemFacts:
    table: dict[RequirementReason, dict[str, Any]] = {
        R.AFFECTS_INDIVIDUALS: {"affected_stakeholders": (*facts.affected_stakeholders, "people")},
        R.HIGH_RISK: {"tier": "high"},
        R.SENSITIVE_SECTOR: {"sector": "law_enforcement"},
        R.FUNDAMENTAL_RIGHTS_RISK: {"fundamental_rights_risk": True},
    }
    return replace(facts, **table[reason])


@given(facts_strategy, st.sampled_from(list(RequirementReason)))
def test_adding_a_reason_never_removes_the_requirement(
    facts: SystemFacts, reason: RequirementReason
) -> None:
    before = requirement_reasons(facts)
    after = requirement_reasons(_add(facts, reason))
    assert reason in after
    assert set(before) <= set(after)
    assert is_required(_add(facts, reason))
    if is_required(facts):
        assert is_required(_add(facts, reason))


@given(facts_strategy)
def test_required_exactly_when_there_is_a_reason(facts: SystemFacts) -> None:
    reasons = requirement_reasons(facts)
    assert is_required(facts) is bool(reasons)
    assert len(set(reasons)) == len(reasons)
