from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from gateway.clients.evidence_items import EvidenceItemsClient, UpstreamTargetEvidence
from gateway.loaders.base import MAX_BATCH_SIZE


class EvidenceTarget(NamedTuple):
    """What a page of evidence belongs to, and how many of its items to load."""

    target_type: str  # `system`, `control`, …
    target_id: str  # as the evidence service spells it (a UUID, `A.6.2.8`, …)
    first: int


class EvidenceByTargetLoader(DataLoader[EvidenceTarget, UpstreamTargetEvidence]):
    """The first items and the total of N targets' evidence in one upstream call per target type
    and page size (``GET /v1/evidence-by-target?target_type=…&target_id=…&first=…``)."""

    def __init__(self, client: EvidenceItemsClient) -> None:
        async def load(keys: list[EvidenceTarget]) -> list[UpstreamTargetEvidence]:
            groups: defaultdict[tuple[str, int], list[str]] = defaultdict(list)
            for key in keys:
                groups[(key.target_type, key.first)].append(key.target_id)
            found: dict[EvidenceTarget, UpstreamTargetEvidence] = {}
            for (target_type, first), ids in groups.items():
                answers = await client.evidence_by_target(target_type, ids, first=first)
                # One answer per target asked, in the order asked (duplicates answered once).
                for target_id, answer in zip(dict.fromkeys(ids), answers, strict=True):
                    found[EvidenceTarget(target_type, target_id, first)] = answer
            return [found[key] for key in keys]

        super().__init__(load_fn=load, max_batch_size=MAX_BATCH_SIZE)
