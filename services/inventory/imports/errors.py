"""Errors of the imports domain."""

from __future__ import annotations

from typing import Any

from shared.errors import DomainError, ServiceUnavailable


class ImportInvalid(DomainError):
    status, code, title = 422, "import-invalid", "The file has rows that cannot be imported"


class TooManyRows(DomainError):
    status, code, title = 422, "too-many-rows", "The file has too many rows"


class ImportConflict(DomainError):
    status, code, title = 409, "import-conflict", "The rows conflict with the register"


class ImportsBusy(ServiceUnavailable):
    """Every import parser is busy and the queue is full: retry after ``Retry-After``."""

    code, title = "imports-busy", "Too many imports at once"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, headers={"Retry-After": "10"}, **kw)
