"""Events of the AIMS scope (4.3)."""

from __future__ import annotations

from services.inventory.events import catalogue
from services.inventory.scope.schemas import ScopeChanged, SystemScopeChanged

SCOPE_CHANGED = catalogue.register(
    "scope.changed",
    ScopeChanged,
    "A scope version was approved and is now the current scope of the AIMS; the previous "
    "approved version (if any) is superseded. A summary bounded in size whatever the register's "
    "size: the version's identity, who approved it and counts. The version's full content is "
    "`GET /v1/scope-versions/{id}`; each system whose membership changed gets its own "
    "`system_scope.changed` in the same transaction. `subject` is the scope version's id; "
    "`dataversion` is its `number`, which increases with each approval of an organisation.",
    schema_version=2,
)

SYSTEM_SCOPE_CHANGED = catalogue.register(
    "system_scope.changed",
    SystemScopeChanged,
    "A system's scope membership changed with the approval of a scope version (in or out; the "
    "register sets its read-only `in_scope` flag in the same transaction but emits no "
    "`system.updated` for it). State-carrying: `subject` is the system's id and `dataversion` "
    "the scope version's `number`, so a consumer keeps the membership of the highest number "
    "whatever the order events arrive in, even before it knows the system itself.",
)
