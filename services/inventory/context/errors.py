from __future__ import annotations

from shared.errors import NotFound


class ContextIssueNotFound(NotFound):
    code = "context-issue-not-found"
    title = "Context issue not found"


class InterestedPartyNotFound(NotFound):
    code = "interested-party-not-found"
    title = "Interested party not found"
