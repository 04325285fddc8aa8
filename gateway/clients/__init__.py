"""Typed HTTP clients of the services, bound per request to the caller's credentials."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from gateway.clients.base import UpstreamClient, upstream_error
from gateway.clients.evidence import EvidenceClient
from gateway.clients.inventory import InventoryClient
from gateway.clients.risk import RiskClient
from gateway.config import GatewaySettings

__all__ = [
    "EvidenceClient",
    "InventoryClient",
    "RiskClient",
    "UpstreamClient",
    "UpstreamClients",
    "build_http_client",
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
    inventory: InventoryClient
    risk: RiskClient
    evidence: EvidenceClient

    @classmethod
    def for_caller(
        cls, http: httpx.AsyncClient, settings: GatewaySettings, authorization: str
    ) -> UpstreamClients:
        return cls(
            inventory=InventoryClient(http, settings.inventory_url, authorization),
            risk=RiskClient(http, settings.risk_url, authorization),
            evidence=EvidenceClient(http, settings.evidence_url, authorization),
        )
