"""The impact assessment requirement rule: table cases and a monotonicity property.

The EU AI Act part follows Art. 27(1): the fundamental rights impact assessment binds only the
deployers it names (the classification decides; ``art_27``); a full assessment of every
high-risk system is an organisation policy setting, labelled as policy.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.risk.impact.requirement import (
    REASON_BASIS,
    RequirementBasis,
    RequirementReason,
    SystemFacts,
    fundamental_rights_basis,
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
        # Art. 27(1): a high tier alone does not call for an assessment…
        (SystemFacts(tier="high"), []),
        (SystemFacts(tier="high", classification_roles=("deployer",)), []),
        # …the Art. 27(1) duty the classification lists does (law)…
        (SystemFacts(tier="high", art_27=True), [R.EU_AI_ACT_ART_27]),
        # …and so does the organisation's full-assessment policy (policy, high tier only).
        (SystemFacts(tier="high", policy_all_high_risk=True), [R.HIGH_RISK_POLICY]),
        (SystemFacts(tier="limited", policy_all_high_risk=True), []),
        (SystemFacts(tier="limited"), []),
        (SystemFacts(sector="healthcare"), [R.SENSITIVE_SECTOR]),
        (SystemFacts(fundamental_rights_risk=True), [R.FUNDAMENTAL_RIGHTS_RISK]),
        (
            SystemFacts(
                sector="hiring_employment",
                affected_stakeholders=("applicants",),
                tier="high",
                fundamental_rights_risk=True,
                art_27=True,
                policy_all_high_risk=True,
            ),
            [
                R.AFFECTS_INDIVIDUALS,
                R.EU_AI_ACT_ART_27,
                R.HIGH_RISK_POLICY,
                R.SENSITIVE_SECTOR,
                R.FUNDAMENTAL_RIGHTS_RISK,
            ],
        ),
    ],
)
def test_reasons(facts: SystemFacts, reasons: list[RequirementReason]) -> None:
    assert requirement_reasons(facts) == reasons
    assert is_required(facts) is bool(reasons)


@pytest.mark.parametrize(
    ("facts", "basis"),
    [
        # Art. 27(1): being a deployer (customer) of a high-risk system is not enough.
        (SystemFacts(tier="high", ai_roles=("customer",)), None),
        (SystemFacts(tier="high", classification_roles=("deployer",)), None),
        (SystemFacts(tier="high", ai_roles=("provider",)), None),
        (SystemFacts(tier="limited", ai_roles=("customer",)), None),
        # Art. 27(1) binds the organisation (the classification lists it): law.
        (SystemFacts(tier="high", classification_roles=("deployer",), art_27=True), "law"),
        # The organisation's policy asks for a full assessment of every high-risk system.
        (SystemFacts(tier="high", policy_all_high_risk=True), "policy"),
        (SystemFacts(tier="minimal", policy_all_high_risk=True), None),
        (SystemFacts(tier="high", art_27=True, policy_all_high_risk=True), "law"),
    ],
)
def test_art_27_fields(facts: SystemFacts, basis: str | None) -> None:
    """Art. 27(1): the fundamental-rights fields follow the law, or the policy labelled as
    such."""
    assert fundamental_rights_basis(facts) == basis
    assert fundamental_rights_fields_required(facts) is (basis is not None)


def test_every_reason_names_its_basis() -> None:
    """Reasons say whether they rest on the law (Art. 27(1)), on policy or on ISO/IEC 42001."""
    assert set(REASON_BASIS) == set(RequirementReason)
    assert REASON_BASIS[R.EU_AI_ACT_ART_27] is RequirementBasis.LAW
    assert REASON_BASIS[R.HIGH_RISK_POLICY] is RequirementBasis.POLICY


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
    art_27=st.booleans(),
    policy_all_high_risk=st.booleans(),
)


def _add(facts: SystemFacts, reason: RequirementReason) -> SystemFacts:
    table: dict[RequirementReason, dict[str, Any]] = {
        R.AFFECTS_INDIVIDUALS: {"affected_stakeholders": (*facts.affected_stakeholders, "people")},
        R.EU_AI_ACT_ART_27: {"art_27": True},
        R.HIGH_RISK_POLICY: {"tier": "high", "policy_all_high_risk": True},
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


@given(facts_strategy)
def test_a_high_tier_without_art_27_or_policy_never_requires_the_fria_fields(
    facts: SystemFacts,
) -> None:
    """Art. 27(1): without the Art. 27 duty or the policy, the tier alone never requires the
    fundamental-rights fields."""
    plain = replace(facts, art_27=False, policy_all_high_risk=False)
    assert not fundamental_rights_fields_required(plain)
    assert R.EU_AI_ACT_ART_27 not in requirement_reasons(plain)
    assert R.HIGH_RISK_POLICY not in requirement_reasons(plain)
