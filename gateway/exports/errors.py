"""Errors of the export routes."""

from __future__ import annotations

from shared.errors import BadRequest


class UnknownExportParameter(BadRequest):
    code, title = "unknown-query-parameter", "Unknown query parameter"
