"""Settings of the gateway process (GraphQL over the services, webhook delivery)."""

from __future__ import annotations

from pydantic import Field

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
    # Keys that encrypt webhook secrets at rest (AES-256-GCM): key id -> base64 of 32 random
    # bytes (``AIMS_WEBHOOK_SECRET_KEYS='{"2026-11": "…"}'``); ``webhook_secret_key_id`` names
    # the one new secrets use (the others only decrypt). Required in production; elsewhere a
    # key is generated once under ``var/keys/``. Rotation: docs/operations.md.
    webhook_secret_keys: dict[str, str] = {}
    webhook_secret_key_id: str | None = None
    # Finished webhook messages (delivered, failed, abandoned) and their delivery log are
    # deleted this many days after their last attempt.
    webhook_log_retention_days: float = Field(default=30.0, gt=0)
    # GraphQL limits, enforced before anything is resolved (gateway/protection/). Depth counts
    # nested fields; introspection fields (``__schema``, ``__type``) are counted too, against
    # their own bound, because the standard introspection query of GraphiQL and codegen tools is
    # 15 fields deep.
    graphql_max_depth: int = 10
    graphql_max_introspection_depth: int = Field(default=15, ge=1)
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 15
    # Static cost of an operation: every object field selected counts once per object it is
    # resolved for; a list multiplies what is below it by its ``first``/``last`` argument, or by
    # ``graphql_default_list_size`` when it takes none (the gateway's default page size).
    graphql_max_cost: int = Field(default=25_000, ge=1)
    graphql_default_list_size: int = Field(default=50, ge=1)
    # Most nesting levels of a JSON request body (variables included) or of the JSON value of a
    # ``GET`` parameter; deeper bodies are refused with 400 before anything else happens.
    graphql_max_json_depth: int = Field(default=64, ge=2)
    # Accept only documents registered with ``POST /v1/graphql-documents`` (production lock-down;
    # see docs/architecture.md, "GraphQL protection").
    graphql_trusted_documents_only: bool = False
    # Where browsers reach each service's docs, when not at the URL the gateway uses
    # (``AIMS_PUBLIC_SERVICE_URLS='{"inventory": "https://inventory.example.com"}'``); the root
    # page (``GET /``) links to ``<url>/docs``.
    public_service_urls: dict[str, str] = {}
    # Per upstream call (connect, read, write and pool wait each).
    upstream_timeout_seconds: float = 10
    # An idle pooled connection to a service is closed after this long. Keep it below the
    # services' ``AIMS_HTTP_KEEP_ALIVE_SECONDS`` (75 s): the gateway must close first, or a
    # mutation (never retried) can be sent on a connection the service is closing.
    upstream_keepalive_seconds: float = Field(default=30.0, gt=0)
    # Gateway resilience (docs/operations.md): one deadline for all the upstream calls of a
    # GraphQL request; a service's circuit opens after this many consecutive failures and lets
    # one call through again after the cool-down.
    upstream_request_deadline_seconds: float = 15
    upstream_breaker_failures: int = 5
    upstream_breaker_cooldown_seconds: float = 10
    # GraphQL response cache (gateway/cache.py, docs/architecture.md "GraphQL response cache"):
    # error-free query results per caller, invalidated by every event of the organisation and
    # every mutation through this gateway; bypassed while the event feed is down. A result is
    # also dropped after the TTL (results hold "as of now" values, e.g. overdue flags), and a
    # result computed within ``settle`` seconds of an event of its organisation is dropped once
    # that window ends (services apply each other's events a little after the event).
    graphql_response_cache_enabled: bool = True
    graphql_response_cache_ttl_seconds: float = Field(default=30.0, gt=0)
    graphql_response_cache_settle_seconds: float = Field(default=1.0, ge=0)
    graphql_response_cache_max_entries: int = Field(default=2000, ge=1)
    graphql_response_cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
