"""Typed HTTP clients of the services, bound per request to the caller's credentials.

:class:`UpstreamClients` is the one way a resolver reaches a service: every domain client is
built once per request, in :meth:`UpstreamClients.for_caller`, over the gateway's shared
connection pool and the caller's forwarded headers. Several clients talk to the same service
(the inventory's register, components, context and scope; the risk service's systems, register,
classification, impact assessments and SoA); they differ only in the endpoints they know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from gateway.clients.assurance import AssuranceClient
from gateway.clients.audit import (
    AuditTrailClient,
    EvidenceAuditClient,
    InventoryAuditClient,
    RiskAuditClient,
)
from gateway.clients.audits import AuditsClient
from gateway.clients.base import UpstreamClient, forwarded_headers, upstream_error
from gateway.clients.classification import ClassificationClient
from gateway.clients.competence import CompetenceClient
from gateway.clients.components import ComponentsClient
from gateway.clients.context import ContextClient
from gateway.clients.documented import DocumentedClient
from gateway.clients.evidence import EvidenceClient
from gateway.clients.evidence_items import EvidenceItemsClient
from gateway.clients.impact import ImpactClient
from gateway.clients.inventory import InventoryClient
from gateway.clients.objectives import ObjectivesClient
from gateway.clients.readiness import ReadinessClient
from gateway.clients.risk import RiskClient
from gateway.clients.risks import RiskRegisterClient
from gateway.clients.scope import ScopeClient
from gateway.clients.soa import SoAClient
from gateway.config import GatewaySettings

__all__ = [
    "AssuranceClient",
    "AuditTrailClient",
    "AuditsClient",
    "ClassificationClient",
    "CompetenceClient",
    "ComponentsClient",
    "ContextClient",
    "DocumentedClient",
    "EvidenceClient",
    "EvidenceItemsClient",
    "ImpactClient",
    "InventoryClient",
    "ObjectivesClient",
    "ReadinessClient",
    "RiskClient",
    "RiskRegisterClient",
    "ScopeClient",
    "SoAClient",
    "UpstreamClient",
    "UpstreamClients",
    "build_http_client",
    "forwarded_headers",
    "upstream_error",
]


def build_http_client(
    settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one connection pool the gateway shares across requests (built in the lifespan)."""
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(settings.upstream_timeout_seconds),
        # A redirect from a service is a misconfiguration; never follow it with credentials.
        follow_redirects=False,
        headers={"accept": "application/json"},
    )


@dataclass(frozen=True)
class UpstreamClients:
    """Every domain client of one request, all bound to the same caller and trace."""

    # inventory service
    inventory: InventoryClient
    components: ComponentsClient
    context: ContextClient
    scope: ScopeClient
    # risk service
    risk: RiskClient
    risks: RiskRegisterClient
    classification: ClassificationClient
    impact: ImpactClient
    soa: SoAClient
    # evidence service
    evidence: EvidenceClient
    evidence_items: EvidenceItemsClient
    documented: DocumentedClient
    competence: CompetenceClient
    assurance: AssuranceClient
    objectives: ObjectivesClient  # objectives and management reviews
    audits: AuditsClient  # internal audit, nonconformities and corrective actions
    readiness: ReadinessClient  # readiness verdict and certification plan
    # every service's audit trail, by service name (`inventory`, `risk`, `evidence`)
    audit_trails: Mapping[str, AuditTrailClient]

    @classmethod
    def for_caller(
        cls, http: httpx.AsyncClient, settings: GatewaySettings, authorization: str
    ) -> UpstreamClients:
        headers = forwarded_headers(authorization)
        inventory, risk = settings.inventory_url, settings.risk_url
        return cls(
            inventory=InventoryClient(http, inventory, headers),
            components=ComponentsClient(http, inventory, headers),
            context=ContextClient(http, inventory, headers),
            scope=ScopeClient(http, inventory, headers),
            risk=RiskClient(http, risk, headers),
            risks=RiskRegisterClient(http, risk, headers),
            classification=ClassificationClient(http, risk, headers),
            impact=ImpactClient(http, risk, headers),
            soa=SoAClient(http, risk, headers),
            evidence=EvidenceClient(http, settings.evidence_url, headers),
            evidence_items=EvidenceItemsClient(http, settings.evidence_url, headers),
            documented=DocumentedClient(http, settings.evidence_url, headers),
            competence=CompetenceClient(http, settings.evidence_url, headers),
            assurance=AssuranceClient(http, settings.evidence_url, headers),
            objectives=ObjectivesClient(http, settings.evidence_url, headers),
            audits=AuditsClient(http, settings.evidence_url, headers),
            readiness=ReadinessClient(http, settings.evidence_url, headers),
            audit_trails={
                "inventory": InventoryAuditClient(http, inventory, headers),
                "risk": RiskAuditClient(http, risk, headers),
                "evidence": EvidenceAuditClient(http, settings.evidence_url, headers),
            },
        )
