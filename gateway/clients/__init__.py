"""Typed HTTP clients of the services, bound per request to the caller's credentials.

:class:`UpstreamClients` is the one way a resolver reaches a service: every domain client is
built once per request, in :meth:`UpstreamClients.for_caller`, over the gateway's shared
connection pool and the caller's forwarded headers. Several clients talk to the same service
(the inventory's register, components, context and scope; the risk service's systems, register,
classification, impact assessments and SoA); they differ only in the endpoints they know.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx

from gateway.clients.assurance import AssuranceClient
from gateway.clients.audit import (
    AuditTrailClient,
    EvidenceAuditClient,
    InventoryAuditClient,
    RiskAuditClient,
)
from gateway.clients.audits import AuditsClient
from gateway.clients.base import (
    CircuitBreaker,
    CircuitBreakers,
    Deadline,
    Resilience,
    UpstreamClient,
    UpstreamUnavailable,
    forwarded_headers,
    upstream_error,
)
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
    "CircuitBreaker",
    "CircuitBreakers",
    "ClassificationClient",
    "CompetenceClient",
    "ComponentsClient",
    "ContextClient",
    "Deadline",
    "DocumentedClient",
    "EvidenceClient",
    "EvidenceItemsClient",
    "ImpactClient",
    "InventoryClient",
    "ObjectivesClient",
    "ReadinessClient",
    "Resilience",
    "RiskClient",
    "RiskRegisterClient",
    "ScopeClient",
    "SoAClient",
    "UpstreamClient",
    "UpstreamClients",
    "UpstreamUnavailable",
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
        limits=httpx.Limits(
            max_connections=100,  # httpx's defaults, but for the expiry
            max_keepalive_connections=20,
            keepalive_expiry=settings.upstream_keepalive_seconds,
        ),
        # A redirect from a service is a misconfiguration; never follow it with credentials.
        follow_redirects=False,
        headers={"accept": "application/json"},
    )


C = TypeVar("C", bound=UpstreamClient)

# The circuit breakers of each connection pool, i.e. of each gateway process (the pool is built
# in the lifespan), so that every request, GraphQL or export, sees the same breaker state.
_BREAKERS: weakref.WeakKeyDictionary[httpx.AsyncClient, CircuitBreakers] = (
    weakref.WeakKeyDictionary()
)


def circuit_breakers(http: httpx.AsyncClient, settings: GatewaySettings) -> CircuitBreakers:
    """The breakers shared by every request over the pool ``http``."""
    breakers = _BREAKERS.get(http)
    if breakers is None:
        breakers = CircuitBreakers(
            threshold=settings.upstream_breaker_failures,
            cooldown=settings.upstream_breaker_cooldown_seconds,
        )
        _BREAKERS[http] = breakers
    return breakers


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
        cls,
        http: httpx.AsyncClient,
        settings: GatewaySettings,
        authorization: str,
        *,
        deadline: Deadline | None = None,
    ) -> UpstreamClients:
        """``deadline``: the one deadline of every call these clients make (none by default:
        each call then has only ``upstream_timeout_seconds``)."""
        resilience = Resilience(
            deadline=deadline or Deadline(), breakers=circuit_breakers(http, settings)
        )

        def bind(client: type[C], base_url: str) -> C:
            return client(http, base_url, headers, resilience)

        headers = forwarded_headers(authorization)
        inventory, risk = settings.inventory_url, settings.risk_url
        return cls(
            inventory=bind(InventoryClient, inventory),
            components=bind(ComponentsClient, inventory),
            context=bind(ContextClient, inventory),
            scope=bind(ScopeClient, inventory),
            risk=bind(RiskClient, risk),
            risks=bind(RiskRegisterClient, risk),
            classification=bind(ClassificationClient, risk),
            impact=bind(ImpactClient, risk),
            soa=bind(SoAClient, risk),
            evidence=bind(EvidenceClient, settings.evidence_url),
            evidence_items=bind(EvidenceItemsClient, settings.evidence_url),
            documented=bind(DocumentedClient, settings.evidence_url),
            competence=bind(CompetenceClient, settings.evidence_url),
            assurance=bind(AssuranceClient, settings.evidence_url),
            objectives=bind(ObjectivesClient, settings.evidence_url),
            audits=bind(AuditsClient, settings.evidence_url),
            readiness=bind(ReadinessClient, settings.evidence_url),
            audit_trails={
                "inventory": bind(InventoryAuditClient, inventory),
                "risk": bind(RiskAuditClient, risk),
                "evidence": bind(EvidenceAuditClient, settings.evidence_url),
            },
        )
