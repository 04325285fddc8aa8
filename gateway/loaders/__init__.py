"""Per-request DataLoaders, one per upstream batch endpoint (one loader per module).

A page of N systems asks each service once for all N, whatever N is, instead of N times. The
:class:`Loaders` of a request are built with its :class:`~gateway.clients.UpstreamClients`, so
no cache outlives the caller whose credentials filled it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clients import UpstreamClients
from gateway.loaders.base import MAX_BATCH_SIZE, ByIdLoader
from gateway.loaders.classifications import ClassificationLoader
from gateway.loaders.components import ComponentLoader
from gateway.loaders.evidence_systems import EvidenceSystemLoader
from gateway.loaders.inventory_systems import InventorySystemLoader
from gateway.loaders.risk_summaries import RiskSummaryLoader
from gateway.loaders.risk_systems import RiskSystemLoader
from gateway.loaders.risks import RiskLoader
from gateway.loaders.vendors import VendorLoader

__all__ = [
    "MAX_BATCH_SIZE",
    "ByIdLoader",
    "ClassificationLoader",
    "ComponentLoader",
    "EvidenceSystemLoader",
    "InventorySystemLoader",
    "Loaders",
    "RiskLoader",
    "RiskSummaryLoader",
    "RiskSystemLoader",
    "VendorLoader",
]


@dataclass(frozen=True)
class Loaders:
    # inventory
    inventory_systems: InventorySystemLoader
    vendors: VendorLoader
    components: ComponentLoader
    # risk
    risk_systems: RiskSystemLoader
    risks: RiskLoader
    risk_summaries: RiskSummaryLoader
    classifications: ClassificationLoader
    # evidence
    evidence_systems: EvidenceSystemLoader

    @classmethod
    def for_clients(cls, clients: UpstreamClients) -> Loaders:
        return cls(
            inventory_systems=InventorySystemLoader(clients.inventory),
            vendors=VendorLoader(clients.components),
            components=ComponentLoader(clients.components),
            risk_systems=RiskSystemLoader(clients.risk),
            risks=RiskLoader(clients.risks),
            risk_summaries=RiskSummaryLoader(clients.risks),
            classifications=ClassificationLoader(clients.classification),
            evidence_systems=EvidenceSystemLoader(clients.evidence),
        )
