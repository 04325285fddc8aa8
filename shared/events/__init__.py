"""Events: CloudEvents envelope, transactional outbox, relay to JetStream, idempotent consumers."""

from shared.events.envelope import CloudEvent, EventCatalogue, EventType, make_event
from shared.events.outbox import emit

__all__ = ["CloudEvent", "EventCatalogue", "EventType", "emit", "make_event"]
