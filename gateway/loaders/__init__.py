"""Per-request DataLoaders, one per upstream batch endpoint.

A page of N systems asks each service once for all N, whatever N is, instead of N times.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clients import UpstreamClients
from gateway.loaders.base import MAX_BATCH_SIZE, ByIdLoader
from gateway.loaders.evidence_systems import EvidenceSystemLoader
from gateway.loaders.inventory_systems import InventorySystemLoader
from gateway.loaders.risk_systems import RiskSystemLoader

__all__ = [
    "MAX_BATCH_SIZE",
    "ByIdLoader",
    "EvidenceSystemLoader",
    "InventorySystemLoader",
    "Loaders",
    "RiskSystemLoader",
]


@dataclass(frozen=True)
class Loaders:
    inventory_systems: InventorySystemLoader
    risk_systems: RiskSystemLoader
    evidence_systems: EvidenceSystemLoader

    @classmethod
    def for_clients(cls, clients: UpstreamClients) -> Loaders:
        return cls(
            inventory_systems=InventorySystemLoader(clients.inventory),
            risk_systems=RiskSystemLoader(clients.risk),
            evidence_systems=EvidenceSystemLoader(clients.evidence),
        )
