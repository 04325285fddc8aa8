from __future__ import annotations

import uuid
from collections import defaultdict

from strawberry.dataloader import DataLoader

from gateway.clients.audits import MAX_AUDITS_PER_REQUEST, AuditsClient, UpstreamFinding


class FindingsByAuditLoader(DataLoader[uuid.UUID, list[UpstreamFinding]]):
    """Every finding of N audits, oldest first, in one upstream call per 100 audits and 500
    findings (``GET /v1/findings?audit_id=…``)."""

    def __init__(self, client: AuditsClient) -> None:
        async def load(audit_ids: list[uuid.UUID]) -> list[list[UpstreamFinding]]:
            found: defaultdict[uuid.UUID, list[UpstreamFinding]] = defaultdict(list)
            for finding in await client.findings_of_audits(list(dict.fromkeys(audit_ids))):
                found[finding.audit_id].append(finding)
            return [found[i] for i in audit_ids]

        super().__init__(load_fn=load, max_batch_size=MAX_AUDITS_PER_REQUEST)
