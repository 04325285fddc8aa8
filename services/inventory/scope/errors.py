from __future__ import annotations

from typing import Any

from shared.errors import Conflict, DomainError, NotFound


class ScopeVersionNotFound(NotFound):
    code = "scope-version-not-found"
    title = "Scope version not found"


class NoApprovedScope(NotFound):
    code = "no-approved-scope"
    title = "No approved scope yet"


class ScopeVersionNotDraft(Conflict):
    code = "scope-version-not-draft"
    title = "Only a draft scope version can change"


class ScopeApprovalRefused(DomainError):
    """422 with every reason (``reasons``) and the warnings found on the way."""

    status, code, title = 422, "scope-approval-refused", "The scope cannot be approved"

    def __init__(
        self, detail: str, *, reasons: list[dict[str, Any]], warnings: list[dict[str, Any]]
    ) -> None:
        super().__init__(detail, reasons=reasons, warnings=warnings)
