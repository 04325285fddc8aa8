"""Errors of the imports domain."""

from __future__ import annotations

from shared.errors import DomainError


class ImportInvalid(DomainError):
    status, code, title = 422, "import-invalid", "The file has rows that cannot be imported"


class TooManyRows(DomainError):
    status, code, title = 422, "too-many-rows", "The file has too many rows"


class ImportConflict(DomainError):
    status, code, title = 409, "import-conflict", "The rows conflict with the register"
