"""The register's timer jobs (``shared.scheduler``): review dates of risks and of systems."""

from __future__ import annotations

from services.risk.register.service import (
    RISK_REVIEW_TIMER,
    SYSTEM_REVIEW_TIMER,
    review_date_passed,
    system_review_date_passed,
)
from shared.scheduler import TimerJob

TIMER_JOBS = [
    TimerJob(kind=RISK_REVIEW_TIMER, fire=review_date_passed),
    TimerJob(kind=SYSTEM_REVIEW_TIMER, fire=system_review_date_passed),
]
