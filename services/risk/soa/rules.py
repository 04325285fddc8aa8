"""Default applicability from the organisation's AI roles (ISO/IEC 42001 roles, 6.1.3).

A pure rule table: each row names the controls it covers, when they are proposed as applicable,
and why. A control no row selects is proposed as excluded, with the reason as its justification.
Proposals are only proposals: someone decides each control (``PATCH /v1/soa/entries/{id}``).

The context is what the AIMS covers: the organisation-level AI roles and, of its AI systems, only
those in the approved scope and live (lifecycle ``deployed``): their roles, data inputs and
suppliers. Two facts beyond the roles matter:

* ``operates_systems``: a live system is in scope, so a deployer (``customer``) operates it and
  keeps operation and monitoring (A.6.2.6) and event logs (A.6.2.8), although it runs no
  development life cycle of its own (EU AI Act Art. 26(1), 26(5), 26(6) ask the same of it).
* ``has_suppliers``: an in-scope, live system has a vendor or is built by a third party (in part),
  so suppliers (A.10.3) apply whatever the role: a producer building on a vendor's model too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from services.risk.soa.catalogue import Catalogue


@dataclass(frozen=True)
class Context:
    roles: frozenset[str]
    processes_data: bool  # an in-scope, live AI system records data inputs
    operates_systems: bool = False  # an in-scope AI system is live (deployed)
    has_suppliers: bool = False  # an in-scope, live AI system has a vendor or third-party build


@dataclass(frozen=True)
class Rule:
    prefix: str  # a domain (``A.6``), sub-objective (``A.6.1``) or control (``A.10.3``)
    applies: Callable[[Context], bool]
    reason: str
    exclusion: str


# The inventory's lifecycle stages (idea, design, development, validation, deployed, retired):
# only ``deployed`` is live, i.e. operated.
LIVE_STAGES = frozenset({"deployed"})
KNOWN_ROLES = frozenset({"producer", "provider", "customer", "partner"})
# Provenance values that mean a third party builds (part of) the system.
THIRD_PARTY_PROVENANCE = frozenset({"third_party", "hybrid"})


def has_supplier(vendor_id: object | None, provenance: str | None) -> bool:
    """A system has a supplier when it names a vendor or a third party builds (part of) it."""
    return vendor_id is not None or provenance in THIRD_PARTY_PROVENANCE


def _any(*roles: str) -> Callable[[Context], bool]:
    return lambda ctx: bool(ctx.roles & set(roles))


RULES: tuple[Rule, ...] = (
    # Everyone: an AIMS needs an AI policy, its alignment and its review.
    Rule("A.2", lambda _: True, "Every organisation with an AIMS sets an AI policy.", ""),
    # Everyone: roles, responsibilities and a way to raise concerns.
    Rule("A.3", lambda _: True, "Every AIMS assigns AI roles and a way to report concerns.", ""),
    # Everyone: the resources (data, tools, compute, people) of each AI system are recorded.
    Rule("A.4", lambda _: True, "Every organisation records the resources of its AI systems.", ""),
    # Everyone: AI system impact assessments (6.1.4) apply whatever the role.
    Rule("A.5", lambda _: True, "Impact assessment (6.1.4) applies to every role.", ""),
    # Producers and providers design, develop and release AI systems: life-cycle controls.
    Rule(
        "A.6",
        _any("producer", "provider"),
        "Producers and providers run the AI system life cycle.",
        "The organisation neither produces nor provides AI systems (roles: {roles}); it runs no "
        "design and development life cycle of its own.",
    ),
    # Deployers operate the live systems they use: operation and monitoring, and event logs.
    Rule(
        "A.6.2.6",
        lambda ctx: (
            bool(ctx.roles & {"producer", "provider"})
            or ("customer" in ctx.roles and ctx.operates_systems)
        ),
        "Producers and providers run the life cycle; a deployer (customer) operates and monitors "
        "the in-scope AI systems it uses.",
        "The organisation neither produces nor provides AI systems, and operates no in-scope, "
        "live AI system as a deployer (roles: {roles}).",
    ),
    Rule(
        "A.6.2.8",
        lambda ctx: (
            bool(ctx.roles & {"producer", "provider"})
            or ("customer" in ctx.roles and ctx.operates_systems)
        ),
        "Producers and providers build event logging in; a deployer (customer) keeps the logs of "
        "the in-scope AI systems it operates.",
        "The organisation neither produces nor provides AI systems, and operates no in-scope, "
        "live AI system as a deployer (roles: {roles}).",
    ),
    # Data controls when systems process data (recorded data inputs), or a producer trains models.
    Rule(
        "A.7",
        lambda ctx: ctx.processes_data or "producer" in ctx.roles,
        "The organisation's AI systems process data (recorded data inputs) or it produces models.",
        "No AI system records data inputs and the organisation produces no models (roles: "
        "{roles}).",
    ),
    # Everyone informs interested parties: user information, external reporting, incidents.
    Rule("A.8", lambda _: True, "Interested parties need information on the AI systems.", ""),
    # Responsible use: customers (deployers/users) of AI systems, and partners operating them.
    Rule(
        "A.9",
        _any("customer", "partner"),
        "The organisation uses AI systems (customer/deployer) and must use them responsibly.",
        "The organisation does not use AI systems as a customer or partner (roles: {roles}).",
    ),
    # Allocating responsibilities: whenever another party shares the life cycle.
    Rule(
        "A.10.2",
        _any("customer", "partner", "provider"),
        "Other parties (suppliers, partners or customers) share the AI life cycle.",
        "No other party shares the AI life cycle (roles: {roles}).",
    ),
    # Suppliers: customers of third-party AI and partners rely on what suppliers deliver.
    Rule(
        "A.10.3",
        lambda ctx: bool(ctx.roles & {"customer", "partner"}) or ctx.has_suppliers,
        "The organisation acquires AI systems, components or services from third parties.",
        "The organisation acquires no AI from third parties (roles: {roles}; no in-scope, live "
        "AI system has a vendor or a third-party build).",
    ),
    # Customers: producers and providers serve customers with their AI systems.
    Rule(
        "A.10.4",
        _any("producer", "provider"),
        "The organisation provides AI systems or products to customers.",
        "The organisation provides no AI systems to customers (roles: {roles}).",
    ),
)


@dataclass(frozen=True)
class Proposal:
    control_id: str
    applicable: bool
    reason: str


def _rule_for(control_id: str) -> Rule | None:
    """The most specific rule whose prefix covers ``control_id``."""
    best: Rule | None = None
    for rule in RULES:
        covers = control_id == rule.prefix or control_id.startswith(rule.prefix + ".")
        if covers and (best is None or len(rule.prefix) > len(best.prefix)):
            best = rule
    return best


def propose(
    catalogue: Catalogue, ctx: Context, relied_on: Mapping[str, Collection[object]] | None = None
) -> list[Proposal]:
    """One proposal per control. A control a risk treatment relies on is always applicable."""
    relied_on = relied_on or {}
    roles = ", ".join(sorted(ctx.roles)) or "none recorded"
    out: list[Proposal] = []
    for control in catalogue.controls:
        rule = _rule_for(control.id)
        if control.id in relied_on:
            out.append(Proposal(control.id, True, "Risk treatments in the register rely on it."))
        elif rule is None or rule.applies(ctx):
            reason = rule.reason if rule else "No rule excludes it."
            out.append(Proposal(control.id, True, reason))
        else:
            out.append(Proposal(control.id, False, rule.exclusion.format(roles=roles)))
    return out
