"""Errors of the Statement of Applicability."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, ValidationFailed


class ControlNotFound(NotFound):
    code = "control-not-found"
    title = "No such Annex A control"


class CrosswalkKeyNotFound(NotFound):
    code = "crosswalk-key-not-found"
    title = "Not known to the reference data"


class SoAVersionNotFound(NotFound):
    code = "soa-version-not-found"
    title = "No such SoA version"


class JustificationRequired(ValidationFailed):
    code = "justification-required"
    title = "An excluded control needs a justification"


class ControlReliedOn(Conflict):
    """Excluding a control that a risk treatment relies on (the risks are in ``risks``)."""

    code = "control-relied-on"
    title = "Risk treatments rely on this control"


class SoAVersionNotDraft(Conflict):
    code = "soa-version-not-draft"
    title = "Only a draft version can be approved"


class SoANotApprovable(ValidationFailed):
    """Approval refused; every reason is in ``reasons``."""

    code = "soa-not-approvable"
    title = "The SoA version cannot be approved"
