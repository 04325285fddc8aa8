"""Events of AI objectives (6.2, 9.1): the full state and version of the objective in each."""

from __future__ import annotations

from services.evidence.events import catalogue
from services.evidence.objectives.schemas import ObjectiveMeasured, ObjectiveRead

OBJECTIVE_CREATED = catalogue.register(
    "objective.created", ObjectiveRead, "An AI objective (6.2) was set."
)
OBJECTIVE_UPDATED = catalogue.register(
    "objective.updated",
    ObjectiveRead,
    "An AI objective changed (target, owner, due date, status set by hand …).",
)
OBJECTIVE_MEASURED = catalogue.register(
    "objective.measured",
    ObjectiveMeasured,
    "A measurement of an AI objective was recorded (9.1): the objective after it, and the "
    "measurement.",
)
OBJECTIVE_OFF_TARGET = catalogue.register(
    "objective.off_target",
    ObjectiveRead,
    "An AI objective went off target: its latest value no longer meets the target (it was on "
    "target or not yet measured before).",
)
OBJECTIVE_BACK_ON_TARGET = catalogue.register(
    "objective.back_on_target",
    ObjectiveRead,
    "An AI objective that was off target meets its target again.",
)
OBJECTIVE_ACHIEVED = catalogue.register(
    "objective.achieved",
    ObjectiveRead,
    "An AI objective's due date passed with its latest value meeting the target.",
)
OBJECTIVE_MISSED = catalogue.register(
    "objective.missed",
    ObjectiveRead,
    "An AI objective's due date passed without its target being met (or without a measurement).",
)
