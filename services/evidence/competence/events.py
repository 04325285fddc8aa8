"""Events of competence and awareness (7.2, 7.3): the full state and version in each."""

from __future__ import annotations

from services.evidence.competence.schemas import (
    AIMSRoleRead,
    CompetenceRead,
    PersonRead,
    TrainingRead,
)
from services.evidence.events import catalogue

PERSON_CREATED = catalogue.register(
    "person.created", PersonRead, "A person working under the organisation's control was recorded."
)
PERSON_UPDATED = catalogue.register(
    "person.updated", PersonRead, "A person's record changed (name, department, active…)."
)
PERSON_DELETED = catalogue.register(
    "person.deleted", PersonRead, "A person's record was deleted (their last known state)."
)
COMPETENCE_CHANGED = catalogue.register(
    "competence.changed",
    CompetenceRead,
    "A competence (7.2) or awareness topic (7.3) was created or changed.",
)
AIMS_ROLE_CHANGED = catalogue.register(
    "aims_role.changed",
    AIMSRoleRead,
    "An AIMS role was created, changed, deleted (`deleted: true`), or its holders or required "
    "competences changed.",
)
TRAINING_RECORDED = catalogue.register(
    "training.recorded", TrainingRead, "A training or qualification was recorded for a person."
)
TRAINING_EVALUATED = catalogue.register(
    "training.evaluated",
    TrainingRead,
    "A training's record or its evaluation of effectiveness (7.2 c) changed.",
)
TRAINING_EXPIRING = catalogue.register(
    "training.expiring",
    TrainingRead,
    "A training expires within the configured notice (`AIMS_TRAINING_EXPIRING_DAYS`, default "
    "30 days) and has not been renewed.",
)
TRAINING_EXPIRED = catalogue.register(
    "training.expired", TrainingRead, "A training reached its expiry date."
)
