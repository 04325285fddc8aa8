"""Per-request DataLoaders, one per upstream batch endpoint (one loader per module).

A page of N systems asks each service once for all N, whatever N is, instead of N times. The
:class:`Loaders` of a request are built with its :class:`~gateway.clients.UpstreamClients`, so
no cache outlives the caller whose credentials filled it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.clients import UpstreamClients
from gateway.clients.audits import UpstreamAudit
from gateway.clients.competence import UpstreamAssignment, UpstreamTraining
from gateway.clients.evidence_items import UpstreamEvidenceVersion
from gateway.clients.objectives import UpstreamReviewAction
from gateway.loaders.aims_roles import AIMSRoleLoader
from gateway.loaders.audit_findings import FindingsByAuditLoader
from gateway.loaders.audit_programmes import AuditProgrammeLoader
from gateway.loaders.audits import AuditLoader
from gateway.loaders.base import MAX_BATCH_SIZE, ByIdLoader
from gateway.loaders.certification_plans import CertificationPlanLoader
from gateway.loaders.children import ChildrenKey, FirstChildren, FirstChildrenLoader
from gateway.loaders.classifications import ClassificationLoader, ClassificationSummaryLoader
from gateway.loaders.competences import CompetenceLoader
from gateway.loaders.components import ComponentLoader
from gateway.loaders.context_issues import ContextIssueLoader
from gateway.loaders.corrective_actions import CorrectiveActionLoader
from gateway.loaders.documented_coverage import DocumentedCoverageLoader
from gateway.loaders.evidence import EvidenceLoader
from gateway.loaders.evidence_systems import EvidenceSystemLoader
from gateway.loaders.evidence_targets import EvidenceByTargetLoader, EvidenceTarget
from gateway.loaders.findings import FindingLoader
from gateway.loaders.interested_parties import InterestedPartyLoader
from gateway.loaders.inventory_systems import InventorySystemLoader
from gateway.loaders.management_reviews import ManagementReviewLoader
from gateway.loaders.nonconformities import NonconformityLoader
from gateway.loaders.nonconformity_actions import ActionsByNonconformityLoader
from gateway.loaders.objective_measurement_pages import MeasurementPageKey, MeasurementPageLoader
from gateway.loaders.objective_measurements import LatestMeasurements, LatestMeasurementsLoader
from gateway.loaders.objectives import ObjectiveLoader
from gateway.loaders.people import PersonLoader
from gateway.loaders.programme_coverage import ProgrammeCoverageLoader
from gateway.loaders.review_actions import ReviewActionLoader
from gateway.loaders.risk_summaries import RiskSummaryLoader
from gateway.loaders.risk_systems import RiskSystemLoader
from gateway.loaders.risks import RiskLoader
from gateway.loaders.scope_versions import ScopeCheckLoader, ScopeVersionLoader
from gateway.loaders.system_components import SystemComponentsKey, SystemComponentsLoader
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
    "CertificationPlanLoader",
    "ChildrenKey",
    "ClassificationLoader",
    "CompetenceLoader",
    "ComponentLoader",
    "ContextIssueLoader",
    "CorrectiveActionLoader",
    "DocumentedCoverageLoader",
    "EvidenceByTargetLoader",
    "EvidenceLoader",
    "EvidenceSystemLoader",
    "EvidenceTarget",
    "FindingLoader",
    "FindingsByAuditLoader",
    "FirstChildren",
    "FirstChildrenLoader",
    "InterestedPartyLoader",
    "InventorySystemLoader",
    "LatestMeasurements",
    "LatestMeasurementsLoader",
    "Loaders",
    "ManagementReviewLoader",
    "MeasurementPageKey",
    "MeasurementPageLoader",
    "NonconformityLoader",
    "ObjectiveLoader",
    "PersonLoader",
    "ProgrammeCoverageLoader",
    "ReviewActionLoader",
    "RiskLoader",
    "RiskSummaryLoader",
    "RiskSystemLoader",
    "ScopeCheckLoader",
    "ScopeVersionLoader",
    "SystemComponentsKey",
    "SystemComponentsLoader",
    "SystemRisksKey",
    "SystemRisksLoader",
    "TrainingLoader",
    "VendorLoader",
    "VendorSystems",
    "VendorSystemsKey",
    "VendorSystemsLoader",
]


def _programme_of(audit: UpstreamAudit) -> uuid.UUID:
    assert audit.programme_id is not None  # listed by programme
    return audit.programme_id


@dataclass(frozen=True)
class Loaders:
    # inventory
    inventory_systems: InventorySystemLoader
    vendors: VendorLoader
    vendor_systems: VendorSystemsLoader
    components: ComponentLoader
    system_components: SystemComponentsLoader
    context_issues: ContextIssueLoader
    interested_parties: InterestedPartyLoader
    scope_versions: ScopeVersionLoader
    scope_checks: ScopeCheckLoader
    # risk
    risk_systems: RiskSystemLoader
    risks: RiskLoader
    risk_summaries: RiskSummaryLoader
    system_risks: SystemRisksLoader
    classifications: ClassificationLoader
    classification_summaries: ClassificationSummaryLoader
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
    measurement_pages: MeasurementPageLoader
    management_reviews: ManagementReviewLoader
    review_actions: ReviewActionLoader
    audit_programmes: AuditProgrammeLoader
    programme_coverage: ProgrammeCoverageLoader
    audits: AuditLoader
    findings: FindingLoader
    findings_by_audit: FindingsByAuditLoader
    nonconformities: NonconformityLoader
    corrective_actions: CorrectiveActionLoader
    actions_by_nonconformity: ActionsByNonconformityLoader
    certification_plan: CertificationPlanLoader
    # first children of many parents (one list call filtering by all of them)
    person_trainings: FirstChildrenLoader[UpstreamTraining]
    role_assignments: FirstChildrenLoader[UpstreamAssignment]
    evidence_versions: FirstChildrenLoader[UpstreamEvidenceVersion]
    review_actions_by_review: FirstChildrenLoader[UpstreamReviewAction]
    audits_by_programme: FirstChildrenLoader[UpstreamAudit]

    @classmethod
    def for_clients(cls, clients: UpstreamClients) -> Loaders:
        return cls(
            inventory_systems=InventorySystemLoader(clients.inventory),
            vendors=VendorLoader(clients.components),
            vendor_systems=VendorSystemsLoader(clients.inventory),
            components=ComponentLoader(clients.components),
            system_components=SystemComponentsLoader(clients.components),
            context_issues=ContextIssueLoader(clients.context),
            interested_parties=InterestedPartyLoader(clients.context),
            scope_versions=ScopeVersionLoader(clients.scope),
            scope_checks=ScopeCheckLoader(clients.scope),
            risk_systems=RiskSystemLoader(clients.risk),
            risks=RiskLoader(clients.risks),
            risk_summaries=RiskSummaryLoader(clients.risks),
            system_risks=SystemRisksLoader(clients.risks),
            classifications=ClassificationLoader(clients.classification),
            classification_summaries=ClassificationSummaryLoader(clients.classification),
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
            measurement_pages=MeasurementPageLoader(clients.objectives),
            management_reviews=ManagementReviewLoader(clients.objectives),
            review_actions=ReviewActionLoader(clients.objectives),
            audit_programmes=AuditProgrammeLoader(clients.audits),
            programme_coverage=ProgrammeCoverageLoader(clients.audits),
            audits=AuditLoader(clients.audits),
            findings=FindingLoader(clients.audits),
            findings_by_audit=FindingsByAuditLoader(clients.audits),
            nonconformities=NonconformityLoader(clients.audits),
            corrective_actions=CorrectiveActionLoader(clients.audits),
            actions_by_nonconformity=ActionsByNonconformityLoader(clients.audits),
            certification_plan=CertificationPlanLoader(clients.readiness),
            person_trainings=FirstChildrenLoader(
                lambda ids, limit, after: clients.competence.trainings(
                    limit=limit, after=after, filters=[("person_id", str(i)) for i in ids]
                ),
                lambda parent, limit: clients.competence.person_trainings(parent, limit=limit),
                lambda training: training.person_id,
            ),
            role_assignments=FirstChildrenLoader(
                lambda ids, limit, after: clients.competence.assignments_of_roles(
                    ids, limit=limit, after=after
                ),
                lambda parent, limit: clients.competence.assignments(parent, limit=limit),
                lambda assignment: assignment.role_id,
            ),
            evidence_versions=FirstChildrenLoader(
                lambda ids, limit, after: clients.evidence_items.versions_of_items(
                    ids, limit=limit, after=after
                ),
                lambda parent, limit: clients.evidence_items.versions(parent, limit=limit),
                lambda version: version.item_id,
            ),
            review_actions_by_review=FirstChildrenLoader(
                lambda ids, limit, after: clients.objectives.review_actions(
                    limit=limit, after=after, filters=[("review_id", str(i)) for i in ids]
                ),
                lambda parent, limit: clients.objectives.review_actions(
                    limit=limit, filters=[("review_id", str(parent))]
                ),
                lambda action: action.review_id,
            ),
            audits_by_programme=FirstChildrenLoader(
                lambda ids, limit, after: clients.audits.audits(
                    limit=limit, after=after, filters=[("programme_id", str(i)) for i in ids]
                ),
                lambda parent, limit: clients.audits.audits(
                    limit=limit, filters=[("programme_id", str(parent))]
                ),
                _programme_of,
            ),
        )
