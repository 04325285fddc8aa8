"""Settings shared by every AIMS process.

Every process reads its configuration from environment variables prefixed ``AIMS_``.
A service adds its own fields by subclassing :class:`ServiceSettings`.

Zero-setup mode: when ``AIMS_DATABASE_URL`` / ``AIMS_NATS_URL`` are absent, ``aims up`` starts
embedded engines and passes each child process the URLs it computed, so a service process never
guesses: it is always given explicit URLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ServiceName = Literal["inventory", "risk", "evidence", "gateway"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("inventory", "risk", "evidence", "gateway")
DEFAULT_PORTS: dict[ServiceName, int] = {
    "gateway": 8000,
    "inventory": 8001,
    "risk": 8002,
    "evidence": 8003,
}


class AIMSSettings(BaseSettings):
    """Settings every AIMS process understands."""

    model_config = SettingsConfigDict(env_prefix="AIMS_", extra="ignore", env_file=None)

    # Where zero-setup mode keeps engine data, keys and blobs.
    var_dir: Path = Path("var")
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    log_json: bool = True

    # Server-level (admin) PostgreSQL URL: used by ``aims up`` / ``aims migrate`` to create each
    # service's database and roles, and by ``aims serve`` to derive the app role's URL when
    # ``AIMS_<SERVICE>_DATABASE_URL`` is not given. Absent: zero-setup embedded PostgreSQL.
    database_url: str | None = None
    # Database and role names are ``{prefix}_{service}``; tests use a random prefix.
    database_prefix: str = "aims"
    # Secret from which role passwords are derived (HMAC). Generated under var/ in zero-setup
    # mode; required in production.
    secret_key: str | None = None
    nats_url: str | None = None
    # Zero-setup engines (``aims up`` without the URLs above): preferred ports on 127.0.0.1; a
    # free port is used instead when the preferred one is taken.
    embedded_pg_port: int = 54329
    embedded_nats_port: int = 42229
    # JetStream stream that carries every AIMS event (subjects ``aims.>``).
    nats_stream: str = "AIMS"
    # Prepended to every subject (``{prefix}aims.inventory.system.registered``), so that
    # several stacks (tests, staging) can share one NATS without seeing each other's events.
    nats_subject_prefix: str = ""
    # Prefix for durable consumer names, so two stacks can share one NATS (tests do).
    nats_consumer_prefix: str = "aims"

    # JWT verification. Local mode: an Ed25519 public key (PEM) written by ``aims up``.
    # Production: an OIDC issuer and its JWKS URL.
    jwt_public_key_file: Path | None = None
    jwt_private_key_file: Path | None = None
    jwt_issuer: str = "aims-local"
    jwt_audience: str = "aims"
    oidc_jwks_url: str | None = None
    # The JWKS is cached this long; a token naming an unknown `kid` refreshes it at once, but at
    # most once per cooldown (a flood of made-up kids cannot hammer the IdP). A key removed from
    # the JWKS is refused from the next refresh on (no per-key cache outlives the set).
    oidc_jwks_cache_seconds: float = 300
    oidc_jwks_refresh_cooldown_seconds: float = 30
    # Claim names, so an IdP's own claims can be mapped without code.
    jwt_org_claim: str = "org_id"
    jwt_roles_claim: str = "roles"


class ServiceSettings(AIMSSettings):
    """Settings of one FastAPI service process (inventory, risk, evidence, gateway)."""

    # The URL this service's app role connects with (``postgresql+asyncpg://…``). Subject to
    # row-level security: it must not be a superuser or a role with BYPASSRLS. ``aims serve``
    # fills it from ``AIMS_<SERVICE>_DATABASE_URL`` or derives it from ``AIMS_DATABASE_URL``.
    app_database_url: str = Field(default="", description="SQLAlchemy URL of the app role")
    database_pool_size: int = 10
    host: str = "127.0.0.1"
    port: int = 0
    # How long uvicorn keeps an idle keep-alive connection open, in seconds. It must exceed the
    # idle expiry of every client and proxy in front (the gateway's pool:
    # ``AIMS_UPSTREAM_KEEPALIVE_SECONDS``, 30 s; load balancers: usually 60 s), so that the
    # client always closes first. When both sides expire together (uvicorn's and httpx's
    # default are both 5 s), a request written as the server closes the connection is lost.
    http_keep_alive_seconds: float = Field(default=75.0, gt=0)
    # Bodies larger than this are refused with 413 before they are parsed.
    max_json_body_bytes: int = 1_048_576
    # Run the outbox relay and event consumers in this process (turn off to scale APIs apart).
    run_workers: bool = True
    # How many times a consumer sees one event before it is dead-lettered.
    consumer_max_deliver: int = 5
    # Back-off between redeliveries, in seconds (JetStream ``backoff``).
    consumer_backoff_seconds: list[float] = [1.0, 5.0, 30.0, 120.0]
    # How often the scheduler looks for due timers (review dates, expiries), in seconds. A timer
    # armed already due wakes it at once (``NOTIFY``); this is the bound on everything else.
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)
    # Back-off before a failed timer job is tried again, in seconds (the last value repeats).
    scheduler_backoff_seconds: list[float] = [10.0, 60.0, 300.0, 1800.0, 3600.0]
    # Back-off before a crashed background worker is restarted: the first delay, doubled per
    # crash in a row up to the maximum.
    worker_restart_initial_seconds: float = Field(default=1.0, gt=0)
    worker_restart_max_seconds: float = Field(default=60.0, gt=0)

    # Events (docs/operations.md "Events: parking, retention, stream limits").
    # The bound on one event's envelope: tests raise past it, production logs an error.
    max_event_bytes: int = Field(default=65_536, gt=0)
    # JetStream stream limits, set where the stream is created. ``max_age`` must exceed any
    # consumer's allowed downtime: a message older than it is gone for a consumer not yet there.
    nats_stream_max_age_seconds: float = Field(default=14 * 86_400.0, gt=0)
    nats_stream_max_bytes: int = Field(default=10 * 1024**3, gt=0)
    nats_stream_max_msg_bytes: int = Field(default=1_048_576, gt=0)
    # Retention of the event bookkeeping, pruned by a scheduled job every interval.
    outbox_retention_hours: float = Field(default=168.0, gt=0)
    inbox_retention_days: float = Field(default=30.0, gt=0)
    idempotency_retention_hours: float = Field(default=72.0, gt=0)
    dead_letter_retention_days: float = Field(default=30.0, gt=0)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    # Lag: sampled every interval for /metrics and /readyz; past a threshold it is "lagging".
    lag_sample_interval_seconds: float = Field(default=5.0, gt=0)
    outbox_lag_alert_seconds: float = Field(default=60.0, gt=0)
    consumer_lag_alert_messages: int = Field(default=1000, gt=0)
