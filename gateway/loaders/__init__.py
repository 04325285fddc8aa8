"""Per-request DataLoaders, one per upstream batch endpoint (one loader per module).

A page of N systems asks each service once for all N, whatever N is, instead of N times. The
:class:`Loaders` of a request are built with its :class:`~gateway.clients.UpstreamClients`, so
no cache outlives the caller whose credentials filled it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clients import UpstreamClients
from gateway.loaders.aims_roles import AIMSRoleLoader
from gateway.loaders.audit_findings import FindingsByAuditLoader
from gateway.loaders.audit_programmes import AuditProgrammeLoader
from gateway.loaders.audits import AuditLoader
from gateway.loaders.base import MAX_BATCH_SIZE, ByIdLoader
from gateway.loaders.classifications import ClassificationLoader
from gateway.loaders.competences import CompetenceLoader
from gateway.loaders.components import ComponentLoader
from gateway.loaders.corrective_actions import CorrectiveActionLoader
from gateway.loaders.documented_coverage import DocumentedCoverageLoader
from gateway.loaders.evidence import EvidenceLoader
from gateway.loaders.evidence_systems import EvidenceSystemLoader
from gateway.loaders.evidence_targets import EvidenceByTargetLoader, EvidenceTarget
from gateway.loaders.findings import FindingLoader
from gateway.loaders.inventory_systems import InventorySystemLoader
from gateway.loaders.management_reviews import ManagementReviewLoader
from gateway.loaders.nonconformities import NonconformityLoader
from gateway.loaders.nonconformity_actions import ActionsByNonconformityLoader
from gateway.loaders.objective_measurements import LatestMeasurements, LatestMeasurementsLoader
from gateway.loaders.objectives import ObjectiveLoader
from gateway.loaders.people import PersonLoader
from gateway.loaders.review_actions import ReviewActionLoader
from gateway.loaders.risk_summaries import RiskSummaryLoader
from gateway.loaders.risk_systems import RiskSystemLoader
from gateway.loaders.risks import RiskLoader
from gateway.loaders.system_risks import SystemRisksKey, SystemRisksLoader
from gateway.loaders.trainings import TrainingLoader
from gateway.loaders.vendor_systems import VendorSystems, VendorSystemsKey, VendorSystemsLoader
from gateway.loaders.vendors import VendorLoader

__all__ = [
    "MAX_BATCH_SIZE",
    "AIMSRoleLoader",
    "ActionsByNonconformityLoader",
    "AuditLoader",
    "AuditProgrammeLoader",
    "ByIdLoader",
    "ClassificationLoader",
    "CompetenceLoader",
    "ComponentLoader",
    "CorrectiveActionLoader",
    "DocumentedCoverageLoader",
    "EvidenceByTargetLoader",
    "EvidenceLoader",
    "EvidenceSystemLoader",
    "EvidenceTarget",
    "FindingLoader",
    "FindingsByAuditLoader",
    "InventorySystemLoader",
    "LatestMeasurements",
    "LatestMeasurementsLoader",
    "Loaders",
    "ManagementReviewLoader",
    "NonconformityLoader",
    "ObjectiveLoader",
    "PersonLoader",
    "ReviewActionLoader",
    "RiskLoader",
    "RiskSummaryLoader",
    "RiskSystemLoader",
    "SystemRisksKey",
    "SystemRisksLoader",
    "TrainingLoader",
    "VendorLoader",
    "VendorSystems",
    "VendorSystemsKey",
    "VendorSystemsLoader",
]


@dataclass(frozen=True)
class Loaders:
    # inventory
    inventory_systems: InventorySystemLoader
    vendors: VendorLoader
    vendor_systems: VendorSystemsLoader
    components: ComponentLoader
    # risk
    risk_systems: RiskSystemLoader
    risks: RiskLoader
    risk_summaries: RiskSummaryLoader
    system_risks: SystemRisksLoader
    classifications: ClassificationLoader
    # evidence
    evidence_systems: EvidenceSystemLoader
    evidence: EvidenceLoader
    evidence_by_target: EvidenceByTargetLoader
    documented_coverage: DocumentedCoverageLoader
    people: PersonLoader
    competences: CompetenceLoader
    aims_roles: AIMSRoleLoader
    trainings: TrainingLoader
    objectives: ObjectiveLoader
    latest_measurements: LatestMeasurementsLoader
    management_reviews: ManagementReviewLoader
    review_actions: ReviewActionLoader
    audit_programmes: AuditProgrammeLoader
    audits: AuditLoader
    findings: FindingLoader
    findings_by_audit: FindingsByAuditLoader
    nonconformities: NonconformityLoader
    corrective_actions: CorrectiveActionLoader
    actions_by_nonconformity: ActionsByNonconformityLoader

    @classmethod
    def for_clients(cls, clients: UpstreamClients) -> Loaders:
        return cls(
            inventory_systems=InventorySystemLoader(clients.inventory),
            vendors=VendorLoader(clients.components),
            vendor_systems=VendorSystemsLoader(clients.inventory),
            components=ComponentLoader(clients.components),
            risk_systems=RiskSystemLoader(clients.risk),
            risks=RiskLoader(clients.risks),
            risk_summaries=RiskSummaryLoader(clients.risks),
            system_risks=SystemRisksLoader(clients.risks),
            classifications=ClassificationLoader(clients.classification),
            evidence_systems=EvidenceSystemLoader(clients.evidence),
            evidence=EvidenceLoader(clients.evidence_items),
            evidence_by_target=EvidenceByTargetLoader(clients.evidence_items),
            documented_coverage=DocumentedCoverageLoader(clients.documented),
            people=PersonLoader(clients.competence),
            competences=CompetenceLoader(clients.competence),
            aims_roles=AIMSRoleLoader(clients.competence),
            trainings=TrainingLoader(clients.competence),
            objectives=ObjectiveLoader(clients.objectives),
            latest_measurements=LatestMeasurementsLoader(clients.objectives),
            management_reviews=ManagementReviewLoader(clients.objectives),
            review_actions=ReviewActionLoader(clients.objectives),
            audit_programmes=AuditProgrammeLoader(clients.audits),
            audits=AuditLoader(clients.audits),
            findings=FindingLoader(clients.audits),
            findings_by_audit=FindingsByAuditLoader(clients.audits),
            nonconformities=NonconformityLoader(clients.audits),
            corrective_actions=CorrectiveActionLoader(clients.audits),
            actions_by_nonconformity=ActionsByNonconformityLoader(clients.audits),
        )
