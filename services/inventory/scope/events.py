"""Events of the AIMS scope (4.3)."""

from __future__ import annotations

from services.inventory.events import catalogue
from services.inventory.scope.schemas import ScopeChanged

SCOPE_CHANGED = catalogue.register(
    "scope.changed",
    ScopeChanged,
    "A scope version was approved and is now the current scope of the AIMS; the previous "
    "approved version (if any) is superseded. Carries the version's full state, `systems_in` "
    "and `systems_out` (every system of the register: those not listed are out). The register "
    "sets each system's read-only `in_scope` flag in the same transaction but emits no "
    "`system.updated` for it: derive in/out from this event. `subject` is the scope version's "
    "id; `dataversion` is its `number`, which increases with each approval of an organisation.",
)
