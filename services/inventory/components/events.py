"""Events of components and vendors."""

from __future__ import annotations

from services.inventory.components.schemas import ComponentRead, VendorRead
from services.inventory.events import catalogue

COMPONENT_CREATED = catalogue.register(
    "component.created", ComponentRead, "A component (model, dataset, service…) was recorded."
)
COMPONENT_UPDATED = catalogue.register(
    "component.updated", ComponentRead, "A component's recorded facts changed."
)
COMPONENT_DELETED = catalogue.register(
    "component.deleted", ComponentRead, "A component was removed (its last state)."
)
VENDOR_CREATED = catalogue.register("vendor.created", VendorRead, "A vendor was recorded.")
VENDOR_UPDATED = catalogue.register(
    "vendor.updated", VendorRead, "A vendor's recorded facts changed."
)
VENDOR_DELETED = catalogue.register(
    "vendor.deleted", VendorRead, "A vendor was removed (its last state)."
)
