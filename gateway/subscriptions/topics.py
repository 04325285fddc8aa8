"""What a client can subscribe to: the event types behind each subscription and who may see it.

Every subscription is scoped to the caller's organisation (the CloudEvent ``orgid``); a topic
also names the roles that may subscribe to it. Today every AIMS role reads all of these through
the services' REST APIs, so each topic admits :data:`shared.auth.READERS`; a topic that carries
something narrower must say so here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.auth import READERS, Role
from shared.events import CloudEvent

#: Revocation of an API key: ends every connection authenticated with that key.
API_KEY_REVOKED = "aims.inventory.apikey.revoked"


@dataclass(frozen=True)
class Topic:
    """A subscribable stream: events of ``event_types``, for callers holding one of ``roles``."""

    name: str
    event_types: frozenset[str]
    roles: frozenset[Role]
    #: The data field naming the AI system the event is about (``None``: not about one system).
    system_field: str | None = "system_id"

    def system_of(self, event: CloudEvent) -> uuid.UUID | None:
        if self.system_field is None:
            return None
        try:
            return uuid.UUID(str(event.data.get(self.system_field)))
        except ValueError:
            return None


AI_SYSTEMS = Topic(
    name="aiSystemChanged",
    event_types=frozenset(
        {
            "aims.inventory.system.registered",
            "aims.inventory.system.updated",
            "aims.inventory.system.retired",
        }
    ),
    roles=READERS,
    system_field="id",
)
RISK_LEVELS = Topic(
    name="riskLevelChanged",
    # Created with its first levels, or re-scored (likelihood, severity, residual levels).
    event_types=frozenset({"aims.risk.risk.created", "aims.risk.risk.assessed"}),
    roles=READERS,
)
CLASSIFICATIONS = Topic(
    name="classificationChanged",
    event_types=frozenset({"aims.risk.system.classified"}),
    roles=READERS,
)
EVIDENCE_ADDED = Topic(
    name="evidenceAdded",
    event_types=frozenset({"aims.evidence.evidence.added"}),
    roles=READERS,
)
READINESS = Topic(
    name="readinessChanged",
    event_types=frozenset({"aims.evidence.readiness.changed"}),
    roles=READERS,
    system_field=None,
)

TOPICS: tuple[Topic, ...] = (AI_SYSTEMS, RISK_LEVELS, CLASSIFICATIONS, EVIDENCE_ADDED, READINESS)
#: Event type → the topic it feeds (each type feeds one topic).
TOPIC_OF: dict[str, Topic] = {t: topic for topic in TOPICS for t in topic.event_types}
