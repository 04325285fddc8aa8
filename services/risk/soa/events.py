"""Events of the Statement of Applicability, registered in the risk service's catalogue."""

from __future__ import annotations

from services.risk.events import catalogue
from services.risk.soa.schemas import SoAVersionRead

SOA_CHANGED = catalogue.register(
    "soa.changed",
    SoAVersionRead,
    "A version of the Statement of Applicability was approved; it is now the current one (the "
    "previous approved version is superseded). Carries the full version with every entry; "
    "`dataversion` is the version number.",
)
