"""Errors of the risk policy (none of its own yet besides the shared 412/428)."""

from __future__ import annotations

from shared.errors import ValidationFailed


class InvalidRiskPolicy(ValidationFailed):
    code = "invalid-risk-policy"
    title = "The risk policy is not valid"
