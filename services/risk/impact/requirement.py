"""When an AI system needs an impact assessment (ISO/IEC 42001 6.1.4, A.5.2; EU AI Act Art. 27).

Pure functions over the facts the risk service holds; no I/O, so they are tested with Hypothesis.

An assessment is **required** when at least one of these holds (each one is a reason, with the
basis it rests on, :data:`REASON_BASIS`):

* ``affects_individuals`` (ISO/IEC 42001 A.5.4) — the system names affected stakeholders, or one
  of its data inputs is personal data;
* ``eu_ai_act_art_27`` (law) — the system's current classification puts the Art. 27(1)
  fundamental rights impact assessment on the organisation: a deployer that is a body governed
  by public law or a private entity providing public services, or any deployer of an Annex III
  point 5(b)/5(c) system; never for Annex III point 2 (the classification procedure decides);
* ``high_risk_policy`` (organisation policy, not law) — the system is high-risk and the
  organisation's risk policy requires a full assessment for every high-risk system
  (``require_impact_assessment_for_all_high_risk``);
* ``sensitive_sector`` (ISO/IEC 42001 A.5.2) — it works in a sector other than ``general``;
* ``fundamental_rights_risk`` (ISO/IEC 42001 A.5.4) — a risk in the register flags fundamental
  rights.

The **Art. 27 fundamental-rights fields** are required before approval when Art. 27(1) binds the
organisation (law) or when the policy asks for a full assessment of a high-risk system (policy);
:func:`fundamental_rights_basis` says which.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GENERAL_SECTOR = "general"
HIGH_TIER = "high"


class RequirementReason(enum.StrEnum):
    AFFECTS_INDIVIDUALS = "affects_individuals"
    EU_AI_ACT_ART_27 = "eu_ai_act_art_27"
    HIGH_RISK_POLICY = "high_risk_policy"
    SENSITIVE_SECTOR = "sensitive_sector"
    FUNDAMENTAL_RIGHTS_RISK = "fundamental_rights_risk"


class RequirementBasis(enum.StrEnum):
    """What a requirement rests on: the law, the organisation's own policy, or ISO/IEC 42001."""

    LAW = "law"
    POLICY = "policy"
    ISO_42001 = "iso_42001"


REASON_BASIS: dict[RequirementReason, RequirementBasis] = {
    RequirementReason.AFFECTS_INDIVIDUALS: RequirementBasis.ISO_42001,
    RequirementReason.EU_AI_ACT_ART_27: RequirementBasis.LAW,
    RequirementReason.HIGH_RISK_POLICY: RequirementBasis.POLICY,
    RequirementReason.SENSITIVE_SECTOR: RequirementBasis.ISO_42001,
    RequirementReason.FUNDAMENTAL_RIGHTS_RISK: RequirementBasis.ISO_42001,
}


@dataclass(frozen=True)
class SystemFacts:
    """What the rule reads of one system.

    ``art_27`` comes from the system's current EU AI Act classification (its obligations list
    Art. 27(1) for the organisation); ``policy_all_high_risk`` from the organisation's risk
    policy. ``ai_roles`` and ``classification_roles`` are kept for callers and context: a
    deployer role alone never calls for the Art. 27 assessment.
    """

    sector: str | None = None
    affected_stakeholders: Sequence[str] = ()
    data_inputs: Sequence[Mapping[str, Any]] = ()
    ai_roles: Sequence[str] = ()
    tier: str | None = None
    fundamental_rights_risk: bool = False
    classification_roles: Sequence[str] = field(default_factory=tuple)
    art_27: bool = False
    policy_all_high_risk: bool = False


def _personal(data_input: Any) -> bool:
    if not isinstance(data_input, Mapping):
        return False
    return bool(data_input.get("personal")) or bool(data_input.get("special_category"))


def requirement_reasons(facts: SystemFacts) -> list[RequirementReason]:
    """Why ``facts`` call for an impact assessment, in a fixed order; empty when none is needed."""
    reasons: list[RequirementReason] = []
    stakeholders = [s for s in facts.affected_stakeholders if s and s.strip()]
    if stakeholders or any(_personal(d) for d in facts.data_inputs):
        reasons.append(RequirementReason.AFFECTS_INDIVIDUALS)
    if facts.art_27:
        reasons.append(RequirementReason.EU_AI_ACT_ART_27)
    if facts.policy_all_high_risk and facts.tier == HIGH_TIER:
        reasons.append(RequirementReason.HIGH_RISK_POLICY)
    if facts.sector is not None and facts.sector != GENERAL_SECTOR:
        reasons.append(RequirementReason.SENSITIVE_SECTOR)
    if facts.fundamental_rights_risk:
        reasons.append(RequirementReason.FUNDAMENTAL_RIGHTS_RISK)
    return reasons


def is_required(facts: SystemFacts) -> bool:
    return bool(requirement_reasons(facts))


def fundamental_rights_basis(facts: SystemFacts) -> RequirementBasis | None:
    """Why the Art. 27 fields are required: ``law`` when Art. 27(1) binds the organisation,
    ``policy`` when only the organisation's full-assessment policy asks for them; None when
    neither."""
    if facts.art_27:
        return RequirementBasis.LAW
    if facts.policy_all_high_risk and facts.tier == HIGH_TIER:
        return RequirementBasis.POLICY
    return None


def fundamental_rights_fields_required(facts: SystemFacts) -> bool:
    """The fundamental-rights fields (Art. 27(1)(a)-(f)) are required before approval."""
    return fundamental_rights_basis(facts) is not None
