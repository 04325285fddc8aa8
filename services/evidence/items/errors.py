"""Errors of the evidence item domain, each with a stable ``code``."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound, ValidationFailed


class EvidenceNotFound(NotFound):
    code = "evidence-not-found"
    title = "Evidence item not found"


class VersionNotFound(NotFound):
    code = "evidence-version-not-found"
    title = "Evidence version not found"


class LinkNotFound(NotFound):
    code = "evidence-link-not-found"
    title = "Evidence link not found"


class InvalidLinkTarget(ValidationFailed):
    code = "invalid-link-target"
    title = "Not a valid link target"


class VersionImmutable(Conflict):
    code = "evidence-version-immutable"
    title = "The version can no longer change"


class VersionOpen(Conflict):
    code = "evidence-version-open"
    title = "A version is already being prepared"


class WrongVersionStatus(Conflict):
    code = "evidence-version-status"
    title = "The version is not in the status this needs"


class VersionEmpty(Conflict):
    code = "evidence-version-empty"
    title = "The version holds no content"


class KindMismatch(Conflict):
    code = "evidence-kind-mismatch"
    title = "Not possible for this kind of evidence"


class TooManyLinks(Conflict):
    code = "evidence-too-many-links"
    title = "Too many links"


class TooManyFiles(Conflict):
    code = "evidence-too-many-files"
    title = "Too many files in one version"


class RetentionApplies(Conflict):
    code = "retention-applies"
    title = "A retention period applies"


class LegalHoldApplies(Conflict):
    code = "legal-hold-applies"
    title = "A legal hold applies"


class EvidenceDeleted(Conflict):
    code = "evidence-deleted"
    title = "The evidence item was deleted"


class BlobCorrupt(Conflict):
    code = "evidence-blob-corrupt"
    title = "Stored content does not match its SHA-256"


class BlobMissing(Conflict):
    code = "evidence-blob-missing"
    title = "Stored content is missing"


class RangeNotSatisfiable(DomainError):
    status, code, title = 416, "range-not-satisfiable", "Range not satisfiable"
