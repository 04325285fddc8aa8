"""What approval of a scope version requires (reasons) and what it flags (warnings).

Pure functions over facts the service loads, so that each rule is testable on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.inventory.components.graph import Reach
from services.inventory.scope.schemas import (
    MIN_SENSITIVE_JUSTIFICATION,
    Boundary,
    PathNodeRead,
    ReasonCode,
    ScopeReason,
    ScopeWarning,
    SystemEntry,
)

# A prohibited system cannot be left out quietly either.
HIGH_RISK_TIERS = frozenset({"high", "prohibited"})
NON_SENSITIVE_SECTORS = frozenset({"general"})
DEPENDS_OUTSIDE_SCOPE = "depends-outside-scope"


@dataclass(frozen=True)
class SystemFacts:
    """What the rules read of one registered system."""

    id: uuid.UUID
    name: str
    owner: str | None
    sector: str | None
    eu_ai_act_tier: str | None


def is_sensitive(sector: str | None) -> bool:
    return sector is not None and sector.strip().lower() not in NON_SENSITIVE_SECTORS


def approval_reasons(
    *,
    activities: Sequence[Boundary],
    locations: Sequence[Boundary],
    departments: Sequence[Boundary],
    systems: Sequence[SystemEntry],
    facts: Mapping[uuid.UUID, SystemFacts],
) -> list[ScopeReason]:
    """Every reason the version cannot be approved (empty when it can)."""
    reasons: list[ScopeReason] = []
    if not any(b.included for b in (*activities, *locations, *departments)):
        reasons.append(
            ScopeReason(
                code=ReasonCode.NO_BOUNDARIES,
                message="The scope names no boundary: include at least one business activity, "
                "location or department.",
            )
        )
    for entry in systems:
        system = facts.get(entry.system_id)
        if system is None:
            reasons.append(
                ScopeReason(
                    code=ReasonCode.UNKNOWN_SYSTEM,
                    message=f"System {entry.system_id} is not in your organisation's register.",
                    system_id=entry.system_id,
                )
            )
            continue
        label = f"`{system.name}`"
        if entry.included:
            if not (system.owner or "").strip():
                reasons.append(
                    ScopeReason(
                        code=ReasonCode.IN_SCOPE_WITHOUT_OWNER,
                        message=f"{label} is in scope but has no owner.",
                        system_id=system.id,
                    )
                )
            continue
        if (system.eu_ai_act_tier or "").lower() in HIGH_RISK_TIERS:
            reasons.append(
                ScopeReason(
                    code=ReasonCode.EXCLUDED_HIGH_RISK,
                    message=f"{label} is high-risk under the EU AI Act and cannot be left "
                    "out of scope.",
                    system_id=system.id,
                )
            )
        if (
            is_sensitive(system.sector)
            and len(entry.justification.strip()) < MIN_SENSITIVE_JUSTIFICATION
        ):
            reasons.append(
                ScopeReason(
                    code=ReasonCode.EXCLUDED_SENSITIVE_UNJUSTIFIED,
                    message=f"{label} works in a sensitive sector ({system.sector}); excluding it "
                    f"needs a justification of at least {MIN_SENSITIVE_JUSTIFICATION} "
                    "characters.",
                    system_id=system.id,
                )
            )
    return reasons


def dependency_warnings(
    reach_by_system: Mapping[uuid.UUID, Reach],
    *,
    in_scope: set[uuid.UUID],
    component_system: Mapping[uuid.UUID, uuid.UUID | None],
    names: Mapping[uuid.UUID, str],
) -> list[ScopeWarning]:
    """A warning for each in-scope system's dependency outside the scope, with its path.

    A system is outside when it is not included; a component when the system it belongs to is
    not included (or it belongs to none). Each shortest path is cut at its first node outside
    the scope; what lies beyond is reached through that node and reported once, through it.
    Only the paths of the nodes warned about are built (walking ``via`` back to the start).
    """
    warnings: list[ScopeWarning] = []
    for system_id, reach in reach_by_system.items():
        start = PathNodeRead(type="system", id=system_id, name=names.get(system_id, ""))
        # Nodes at or beyond an outside node on their shortest path. Items come nearest first,
        # so a node's ``via`` is decided before the node.
        cut: set[tuple[str, uuid.UUID]] = set()
        for item in reach.items:
            node = item.node
            key = (node.type, node.id)
            if (item.via.type, item.via.id) in cut:
                cut.add(key)
                continue
            if node.type == "system":
                outside = node.id not in in_scope
            elif node.type == "component":
                owner = component_system.get(node.id)
                outside = owner is None or owner not in in_scope
            else:
                continue
            if not outside:
                continue
            cut.add(key)
            shown = [start] + [
                PathNodeRead(type=n.type, id=n.id, name=n.name) for n in reach.path_to(key)[1:]
            ]
            route = " → ".join(n.name or str(n.id) for n in shown)
            warnings.append(
                ScopeWarning(
                    code=DEPENDS_OUTSIDE_SCOPE,
                    message=f"In-scope `{start.name}` depends on {node.type} "
                    f"`{node.name}`, which is outside the scope: {route}.",
                    system_id=system_id,
                    path=shown,
                )
            )
    return warnings
