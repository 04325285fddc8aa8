"""Metrics of the event pipeline (parked rows, outbox age, consumer lag, retention), registered
once on each app's own registry (:class:`shared.observability.Metrics`)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from shared.observability import Metrics


@dataclass(frozen=True)
class EventMetrics:
    parked: Counter
    outbox_unpublished: Gauge
    outbox_oldest_seconds: Gauge
    outbox_parked: Gauge
    consumer_pending: Gauge
    consumer_ack_pending: Gauge
    pruned: Counter


def event_metrics(metrics: Metrics) -> EventMetrics:
    """The event pipeline's metrics on ``metrics``' registry (created on first use)."""
    existing = getattr(metrics, "_event_metrics", None)
    if isinstance(existing, EventMetrics):
        return existing
    registry = metrics.registry
    created = EventMetrics(
        parked=Counter(
            "aims_outbox_parked_total",
            "Outbox rows the relay parked (could never be published); see dead letters",
            ["service"],
            registry=registry,
        ),
        outbox_unpublished=Gauge(
            "aims_outbox_unpublished",
            "Outbox rows waiting to be published (parked rows not counted)",
            ["service"],
            registry=registry,
        ),
        outbox_oldest_seconds=Gauge(
            "aims_outbox_oldest_unpublished_seconds",
            "Age of the oldest outbox row waiting to be published (0 when none)",
            ["service"],
            registry=registry,
        ),
        outbox_parked=Gauge(
            "aims_outbox_parked_rows",
            "Outbox rows parked and not replayed",
            ["service"],
            registry=registry,
        ),
        consumer_pending=Gauge(
            "aims_consumer_pending_messages",
            "Messages in the stream this consumer has not been delivered yet (its lag)",
            ["service", "consumer"],
            registry=registry,
        ),
        consumer_ack_pending=Gauge(
            "aims_consumer_ack_pending_messages",
            "Messages delivered to this consumer and not acknowledged yet",
            ["service", "consumer"],
            registry=registry,
        ),
        pruned=Counter(
            "aims_retention_pruned_total",
            "Rows deleted by the retention job",
            ["service", "table"],
            registry=registry,
        ),
    )
    object.__setattr__(metrics, "_event_metrics", created)
    return created
