"""Settings of the gateway process (GraphQL over the services, webhook delivery)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Environment ``AIMS_*``; e.g. ``AIMS_INVENTORY_URL``, ``AIMS_GRAPHQL_MAX_DEPTH``."""

    # Base URLs of the services the gateway reads from and writes to (no trailing ``/v1``).
    inventory_url: str = "http://127.0.0.1:8001"
    risk_url: str = "http://127.0.0.1:8002"
    evidence_url: str = "http://127.0.0.1:8003"
    # Hosts and CIDRs the webhook SSRF guard admits even though they are private, loopback or
    # link-local (``AIMS_WEBHOOK_ALLOWED_TARGETS='["10.0.0.0/8", "grc.internal"]'``).
    webhook_allowed_targets: list[str] = []
    # GraphQL limits, enforced while validating a document, before anything is resolved.
    graphql_max_depth: int = 10
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 15
    # Per upstream call (connect, read, write and pool wait each).
    upstream_timeout_seconds: float = 10
