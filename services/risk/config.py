from __future__ import annotations

from shared.settings import ServiceSettings


class RiskSettings(ServiceSettings):
    """Settings of the risk service (env prefix ``AIMS_``)."""
