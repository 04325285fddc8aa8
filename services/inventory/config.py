from __future__ import annotations

from shared.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    """Settings of the inventory service (env prefix ``AIMS_``)."""
