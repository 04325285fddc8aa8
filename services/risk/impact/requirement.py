"""When an AI system needs an impact assessment (ISO/IEC 42001 6.1.4, A.5.2; EU AI Act Art. 27).

Pure functions over the facts the risk service holds; no I/O, so they are tested with Hypothesis.

An assessment is **required** when at least one of these holds (each one is a reason):

* ``affects_individuals`` — the system names affected stakeholders, or one of its data inputs is
  personal data (A.5.4);
* ``high_risk`` — its current EU AI Act tier is ``high``;
* ``sensitive_sector`` — it works in a sector other than ``general`` (Annex III areas and kin);
* ``fundamental_rights_risk`` — a risk in the register flags fundamental rights.

The **Art. 27 fundamental-rights fields** are required before approval when the system is
high-risk *and* the organisation deploys it: ``customer`` is among its ISO/IEC 42001 AI roles
(a customer of an AI system is its deployer in EU AI Act terms), or its classification records
the organisation's role as ``deployer``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GENERAL_SECTOR = "general"
HIGH_TIER = "high"
DEPLOYER_AI_ROLES = frozenset({"customer"})
DEPLOYER_CLASSIFICATION_ROLES = frozenset({"deployer"})


class RequirementReason(enum.StrEnum):
    AFFECTS_INDIVIDUALS = "affects_individuals"
    HIGH_RISK = "high_risk"
    SENSITIVE_SECTOR = "sensitive_sector"
    FUNDAMENTAL_RIGHTS_RISK = "fundamental_rights_risk"


@dataclass(frozen=True)
class SystemFacts:
    """What the rule reads of one system."""

    sector: str | None = None
    affected_stakeholders: Sequence[str] = ()
    data_inputs: Sequence[Mapping[str, Any]] = ()
    ai_roles: Sequence[str] = ()
    tier: str | None = None
    fundamental_rights_risk: bool = False
    classification_roles: Sequence[str] = field(default_factory=tuple)


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
    if facts.tier == HIGH_TIER:
        reasons.append(RequirementReason.HIGH_RISK)
    if facts.sector is not None and facts.sector != GENERAL_SECTOR:
        reasons.append(RequirementReason.SENSITIVE_SECTOR)
    if facts.fundamental_rights_risk:
        reasons.append(RequirementReason.FUNDAMENTAL_RIGHTS_RISK)
    return reasons


def is_required(facts: SystemFacts) -> bool:
    return bool(requirement_reasons(facts))


def fundamental_rights_fields_required(facts: SystemFacts) -> bool:
    """Art. 27: a high-risk system the organisation deploys needs the fundamental-rights fields."""
    if facts.tier != HIGH_TIER:
        return False
    return bool(DEPLOYER_AI_ROLES & set(facts.ai_roles)) or bool(
        DEPLOYER_CLASSIFICATION_ROLES & set(facts.classification_roles)
    )
