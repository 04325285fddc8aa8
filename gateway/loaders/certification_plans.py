from __future__ import annotations

from strawberry.dataloader import DataLoader

from gateway.clients.readiness import ReadinessClient, UpstreamCertificationPlan
from shared.errors import NotFound


class CertificationPlanLoader(DataLoader[None, UpstreamCertificationPlan | None]):
    """The organisation's one certification plan (``GET /v1/certification-plan``), read once
    per request however many milestones are looked up; None while no plan is set."""

    def __init__(self, client: ReadinessClient) -> None:
        async def load(keys: list[None]) -> list[UpstreamCertificationPlan | None]:
            try:
                plan: UpstreamCertificationPlan | None = await client.certification_plan()
            except NotFound:
                plan = None
            return [plan for _ in keys]

        super().__init__(load_fn=load)
