"""Every capability of the services is in the GraphQL schema, or deliberately REST-only.

Each service's OpenAPI (its app built in-process, no database needed) is compared with the
gateway's schema: every operation is either mapped to the schema field that serves it
(:data:`GRAPHQL`) or listed in :data:`REST_ONLY` with the reason it stays REST-only. A new
service operation in neither table fails the test, so the schema cannot silently fall behind.
"""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI
from graphql import GraphQLObjectType

from gateway.schema import build_schema

# `service METHOD path` → the `Type.field` that serves it (`Query.x`, `Mutation.x`, or a field
# of a type when the operation is a DataLoader's batch read behind it).
GRAPHQL: dict[str, str] = {
    # every service
    "* GET /v1/audit-trail": "Query.auditTrail",
    "* GET /v1/audit-trail/verify": "Query.auditTrailVerification",
    # inventory: register
    "inventory POST /v1/ai-systems": "Mutation.registerAISystem",
    "inventory GET /v1/ai-systems": "Query.aiSystems",
    "inventory GET /v1/ai-systems/completeness": "Query.aiSystemsCompleteness",
    "inventory GET /v1/ai-systems/{system_id}": "Query.aiSystem",
    "inventory PATCH /v1/ai-systems/{system_id}": "Mutation.updateAISystem",
    "inventory GET /v1/ai-systems/{system_id}/history": "Query.aiSystemHistory",
    "inventory GET /v1/custom-fields": "Query.customFields",
    "inventory GET /v1/custom-fields/{field_id}": "Query.customFields",
    # inventory: components
    "inventory POST /v1/vendors": "Mutation.createVendor",
    "inventory GET /v1/vendors": "Query.vendors",
    "inventory GET /v1/vendors/{vendor_id}": "Query.node",
    "inventory PATCH /v1/vendors/{vendor_id}": "Mutation.updateVendor",
    "inventory DELETE /v1/vendors/{vendor_id}": "Mutation.deleteVendor",
    "inventory POST /v1/components": "Mutation.createComponent",
    "inventory GET /v1/components": "Query.components",
    "inventory GET /v1/components-by-system": "AISystem.components",
    "inventory GET /v1/components/{component_id}": "Query.node",
    "inventory PATCH /v1/components/{component_id}": "Mutation.updateComponent",
    "inventory DELETE /v1/components/{component_id}": "Mutation.deleteComponent",
    "inventory GET /v1/ai-systems/{system_id}/dependencies": "Query.systemDependenciesConnection",
    "inventory POST /v1/ai-systems/{system_id}/bom": "Mutation.importBom",
    # inventory: context and scope
    "inventory POST /v1/context-issues": "Mutation.createContextIssue",
    "inventory GET /v1/context-issues": "Query.contextIssues",
    "inventory GET /v1/context-issues/{issue_id}": "Query.node",
    "inventory PATCH /v1/context-issues/{issue_id}": "Mutation.updateContextIssue",
    "inventory POST /v1/interested-parties": "Mutation.createInterestedParty",
    "inventory GET /v1/interested-parties": "Query.interestedParties",
    "inventory GET /v1/interested-parties/{party_id}": "Query.node",
    "inventory PATCH /v1/interested-parties/{party_id}": "Mutation.updateInterestedParty",
    "inventory GET /v1/organisation/ai-roles": "Query.organisationAiRoles",
    "inventory PUT /v1/organisation/ai-roles": "Mutation.setOrganisationAiRoles",
    "inventory POST /v1/scope-versions": "Mutation.createScopeVersion",
    "inventory GET /v1/scope-versions": "Query.scopeVersions",
    "inventory GET /v1/scope-versions/current": "Query.currentScope",
    "inventory GET /v1/scope-versions/checks": "ScopeVersion.approvalCheck",
    "inventory GET /v1/scope-versions/{version_id}": "Query.node",
    "inventory PATCH /v1/scope-versions/{version_id}": "Mutation.updateScopeVersion",
    "inventory GET /v1/scope-versions/{a}/diff/{b}": "Query.scopeDiff",
    "inventory GET /v1/scope-versions/{version_id}/check": "ScopeVersion.approvalCheck",
    "inventory POST /v1/scope-versions/{version_id}/approve": "Mutation.approveScopeVersion",
    # risk: systems, register, policy
    "risk GET /v1/systems": "AISystem.riskView",
    "risk GET /v1/systems/{system_id}": "AISystem.riskView",
    "risk GET /v1/risk-matrices": "Query.riskMatrix",
    "risk POST /v1/risks": "Mutation.createRisk",
    "risk GET /v1/risks": "Query.risks",
    "risk GET /v1/risks-by-system": "AISystem.risks",
    "risk GET /v1/risks/summary": "AISystem.riskSummary",
    "risk GET /v1/risks/{risk_id}": "Query.node",
    "risk PATCH /v1/risks/{risk_id}": "Mutation.assessRisk",
    "risk POST /v1/risks/{risk_id}/accept": "Mutation.acceptRisk",
    "risk GET /v1/risk-dashboard": "Query.riskDashboard",
    "risk GET /v1/risk-policy": "Query.riskPolicy",
    "risk PUT /v1/risk-policy": "Mutation.setRiskPolicy",
    # risk: classification and impact assessments
    "risk GET /v1/eu-ai-act/questionnaire": "Query.euAiActQuestionnaire",
    "risk POST /v1/systems/{system_id}/classifications": "Mutation.classifyAISystem",
    "risk GET /v1/systems/{system_id}/classification": "AISystem.classification",
    "risk GET /v1/classifications": "AISystem.classification",
    "risk GET /v1/classifications/needed": "Query.classificationsNeeded",
    "risk GET /v1/impact-assessments/required": "Query.impactAssessmentsRequired",
    "risk POST /v1/impact-assessments": "Mutation.createImpactAssessment",
    "risk GET /v1/impact-assessments": "Query.impactAssessments",
    "risk GET /v1/impact-assessments/{assessment_id}": "Query.node",
    "risk PATCH /v1/impact-assessments/{assessment_id}": "Mutation.updateImpactAssessment",
    "risk POST /v1/impact-assessments/{assessment_id}/submit": "Mutation.submitImpactAssessment",
    "risk POST /v1/impact-assessments/{assessment_id}/send-back": (
        "Mutation.sendBackImpactAssessment"
    ),
    "risk POST /v1/impact-assessments/{assessment_id}/reject": "Mutation.rejectImpactAssessment",
    "risk POST /v1/impact-assessments/{assessment_id}/withdraw": (
        "Mutation.withdrawImpactAssessment"
    ),
    "risk POST /v1/impact-assessments/{assessment_id}/reopen": "Mutation.reopenImpactAssessment",
    "risk POST /v1/impact-assessments/{assessment_id}/approve": (
        "Mutation.approveImpactAssessment"
    ),
    # risk: controls and SoA
    "risk GET /v1/controls": "Query.controls",
    "risk GET /v1/controls/{control_id}": "Query.control",
    "risk GET /v1/crosswalks/eu-ai-act": "Query.euAiActCrosswalk",
    "risk GET /v1/crosswalks/nist-ai-rmf": "Query.nistCrosswalk",
    "risk GET /v1/soa/entries": "Query.soaEntries",
    "risk GET /v1/soa/entries/{control_id}": "Query.soaEntries",
    "risk PATCH /v1/soa/entries/{control_id}": "Mutation.decideControl",
    "risk POST /v1/soa/propose": "Mutation.proposeSoAEntries",
    "risk POST /v1/soa/entries/accept-proposals": "Mutation.acceptSoAProposals",
    "risk GET /v1/soa/check": "Query.soaCheck",
    "risk POST /v1/soa/versions": "Mutation.createSoAVersion",
    "risk GET /v1/soa/versions": "Query.soaVersions",
    "risk GET /v1/soa/versions/{version}": "Query.soaVersion",
    "risk POST /v1/soa/versions/{version}/approve": "Mutation.approveSoAVersion",
    "risk GET /v1/soa/versions/{a}/diff/{b}": "Query.soaDiff",
    # evidence: system projection and evidence items
    "evidence GET /v1/systems": "AISystem.evidenceSummary",
    "evidence GET /v1/systems/{system_id}": "AISystem.evidenceSummary",
    "evidence POST /v1/evidence": "Mutation.createEvidence",
    "evidence GET /v1/evidence": "Query.evidence",
    "evidence GET /v1/evidence-by-target": "AISystem.evidence",
    "evidence GET /v1/evidence/{item_id}": "Query.evidenceItem",
    "evidence PATCH /v1/evidence/{item_id}": "Mutation.updateEvidence",
    "evidence DELETE /v1/evidence/{item_id}": "Mutation.deleteEvidence",
    "evidence PUT /v1/evidence/{item_id}/legal-hold": "Mutation.setLegalHold",
    "evidence DELETE /v1/evidence/{item_id}/legal-hold": "Mutation.releaseLegalHold",
    "evidence POST /v1/evidence/{item_id}/links": "Mutation.linkEvidence",
    "evidence DELETE /v1/evidence/{item_id}/links/{link_id}": "Mutation.unlinkEvidence",
    "evidence POST /v1/evidence/{item_id}/submit": "Mutation.submitEvidence",
    "evidence POST /v1/evidence/{item_id}/approve": "Mutation.approveEvidence",
    "evidence GET /v1/evidence/{item_id}/versions": "Evidence.versions",
    "evidence GET /v1/evidence-versions": "Evidence.versions",
    "evidence POST /v1/evidence/{item_id}/versions": "Mutation.createEvidenceVersion",
    "evidence GET /v1/evidence/{item_id}/versions/{number}": "Evidence.versionByNumber",
    "evidence GET /v1/files/{file_id}": "Query.evidenceFile",
    # evidence: documented information
    "evidence GET /v1/documented-information": "Query.documentedInformation",
    "evidence GET /v1/documented-information/summary": "Query.documentedInformationSummary",
    "evidence GET /v1/documented-information/coverage": "AISystem.evidenceCoverage",
    "evidence GET /v1/documented-information/{item_id}": "Query.documentedInformationItem",
    "evidence GET /v1/systems/{system_id}/documented-information": (
        "Query.systemDocumentedInformation"
    ),
    "evidence GET /v1/evidence-requests": "Query.evidenceRequests",
    # evidence: competence
    "evidence POST /v1/people": "Mutation.createPerson",
    "evidence GET /v1/people": "Query.people",
    "evidence GET /v1/people/{person_id}": "Query.node",
    "evidence PATCH /v1/people/{person_id}": "Mutation.updatePerson",
    "evidence DELETE /v1/people/{person_id}": "Mutation.deletePerson",
    "evidence GET /v1/people/{person_id}/trainings": "Person.trainings",
    "evidence POST /v1/competences": "Mutation.createCompetence",
    "evidence GET /v1/competences": "Query.competences",
    "evidence GET /v1/competences/{competence_id}": "Query.node",
    "evidence PATCH /v1/competences/{competence_id}": "Mutation.updateCompetence",
    "evidence DELETE /v1/competences/{competence_id}": "Mutation.deleteCompetence",
    "evidence POST /v1/aims-roles": "Mutation.createAIMSRole",
    "evidence GET /v1/aims-roles": "Query.aimsRoles",
    "evidence GET /v1/aims-roles/{role_id}": "Query.node",
    "evidence PATCH /v1/aims-roles/{role_id}": "Mutation.updateAIMSRole",
    "evidence DELETE /v1/aims-roles/{role_id}": "Mutation.deleteAIMSRole",
    "evidence POST /v1/aims-roles/{role_id}/assignments": "Mutation.assignAIMSRole",
    "evidence GET /v1/aims-roles/{role_id}/assignments": "AIMSRole.assignments",
    "evidence GET /v1/aims-role-assignments": "AIMSRole.assignments",
    "evidence DELETE /v1/aims-roles/{role_id}/assignments/{person_id}": (
        "Mutation.unassignAIMSRole"
    ),
    "evidence POST /v1/trainings": "Mutation.recordTraining",
    "evidence GET /v1/trainings": "Query.trainings",
    "evidence GET /v1/trainings/{training_id}": "Query.node",
    "evidence PATCH /v1/trainings/{training_id}": "Mutation.updateTraining",
    "evidence GET /v1/competence/gaps": "Query.competenceGaps",
    "evidence GET /v1/competence/awareness": "Query.competenceAwareness",
    # evidence: objectives and management reviews
    "evidence POST /v1/objectives": "Mutation.createObjective",
    "evidence GET /v1/objectives": "Query.objectives",
    "evidence GET /v1/objectives/{objective_id}": "Query.node",
    "evidence PATCH /v1/objectives/{objective_id}": "Mutation.updateObjective",
    "evidence POST /v1/objectives/{objective_id}/measurements": "Mutation.recordMeasurement",
    "evidence GET /v1/objectives/{objective_id}/measurements": "Objective.measurements",
    "evidence GET /v1/objective-measurements": "Objective.latestMeasurements",
    "evidence GET /v1/measurements-by-objective": "Objective.measurements",
    "evidence POST /v1/management-reviews": "Mutation.createManagementReview",
    "evidence GET /v1/management-reviews": "Query.managementReviews",
    "evidence GET /v1/management-reviews/{review_id}": "Query.node",
    "evidence PATCH /v1/management-reviews/{review_id}": "Mutation.updateManagementReview",
    "evidence POST /v1/management-reviews/{review_id}/prefill": (
        "Mutation.prefillManagementReview"
    ),
    "evidence POST /v1/management-reviews/{review_id}/hold": "Mutation.holdManagementReview",
    "evidence POST /v1/management-reviews/{review_id}/close": "Mutation.closeManagementReview",
    "evidence POST /v1/management-reviews/{review_id}/actions": (
        "Mutation.addManagementReviewAction"
    ),
    "evidence GET /v1/management-reviews/{review_id}/actions": "ManagementReview.actions",
    "evidence GET /v1/management-review-actions": "Query.managementReviewActions",
    "evidence GET /v1/management-review-actions/{action_id}": "Query.node",
    "evidence PATCH /v1/management-review-actions/{action_id}": (
        "Mutation.updateManagementReviewAction"
    ),
    # evidence: internal audit, nonconformities, corrective actions
    "evidence POST /v1/audit-programmes": "Mutation.createAuditProgramme",
    "evidence GET /v1/audit-programmes": "Query.auditProgrammes",
    "evidence GET /v1/audit-programmes/{programme_id}": "Query.node",
    "evidence PATCH /v1/audit-programmes/{programme_id}": "Mutation.updateAuditProgramme",
    "evidence GET /v1/audit-programmes/{programme_id}/coverage": "AuditProgramme.coverage",
    "evidence GET /v1/coverage-by-programme": "AuditProgramme.coverage",
    "evidence POST /v1/audits": "Mutation.planAudit",
    "evidence GET /v1/audits": "Query.audits",
    "evidence GET /v1/audits/{audit_id}": "Query.node",
    "evidence PATCH /v1/audits/{audit_id}": "Mutation.updateAudit",
    "evidence POST /v1/audits/{audit_id}/start": "Mutation.startAudit",
    "evidence POST /v1/audits/{audit_id}/complete": "Mutation.completeAudit",
    "evidence POST /v1/audits/{audit_id}/cancel": "Mutation.cancelAudit",
    "evidence POST /v1/audits/{audit_id}/findings": "Mutation.raiseFinding",
    "evidence GET /v1/audits/{audit_id}/findings": "Audit.findings",
    "evidence GET /v1/findings": "Query.findings",
    "evidence GET /v1/findings/{finding_id}": "Query.node",
    "evidence PATCH /v1/findings/{finding_id}": "Mutation.updateFinding",
    "evidence POST /v1/nonconformities": "Mutation.recordNonconformity",
    "evidence GET /v1/nonconformities": "Query.nonconformities",
    "evidence GET /v1/nonconformities/{nc_id}": "Query.node",
    "evidence PATCH /v1/nonconformities/{nc_id}": "Mutation.updateNonconformity",
    "evidence POST /v1/nonconformities/{nc_id}/close": "Mutation.closeNonconformity",
    "evidence POST /v1/nonconformities/{nc_id}/actions": "Mutation.addCorrectiveAction",
    "evidence GET /v1/corrective-actions": "Query.correctiveActions",
    "evidence GET /v1/corrective-actions/{action_id}": "Query.node",
    "evidence PATCH /v1/corrective-actions/{action_id}": "Mutation.updateCorrectiveAction",
    "evidence POST /v1/corrective-actions/{action_id}/implement": (
        "Mutation.implementCorrectiveAction"
    ),
    "evidence POST /v1/corrective-actions/{action_id}/verify": "Mutation.verifyCorrectiveAction",
    # evidence: readiness and certification plan
    "evidence GET /v1/readiness": "Query.readiness",
    "evidence GET /v1/readiness/history": "Query.readinessHistory",
    "evidence POST /v1/readiness/recompute": "Mutation.recomputeReadiness",
    "evidence GET /v1/readiness/plan": "Query.remediationPlan",
    "evidence GET /v1/certification-plan": "Query.certificationPlan",
    "evidence PUT /v1/certification-plan": "Mutation.setCertificationPlan",
    "evidence PATCH /v1/certification-plan/milestones/{milestone_id}": (
        "Mutation.markMilestoneDone"
    ),
}

_PROBES = "a process probe or metrics scrape for the orchestrator and Prometheus, not data"
_OPS = "operator tooling of the event pipeline (ops role, runbooks in docs/operations.md)"
_BYTES = "moves file bytes (multipart upload or download); GraphQL carries JSON, not files"
_HISTORY = (
    "one record's change log for auditors; the same changes are in `auditTrail`, and a "
    "dashboard shows the record's current state"
)
_CONFIG = (
    "organisation configuration changed rarely by an administrator (with its own review), "
    "not a dashboard or everyday form"
)
_EDGES = (
    "raw rows of the dependency graph, maintained by CycloneDX import (`importBom`) and "
    "integration tooling; a dashboard reads the graph through `systemDependenciesConnection`"
)

# `service METHOD path` → why it stays REST-only.
REST_ONLY: dict[str, str] = {
    "* GET /healthz": _PROBES,
    "* GET /readyz": _PROBES,
    "* GET /metrics": _PROBES,
    "* GET /asyncapi.json": "the AsyncAPI event catalogue, a document for integrators",
    "* GET /v1/ops/dead-letters": _OPS,
    "* POST /v1/ops/dead-letters/{dead_letter_id}/replay": _OPS,
    # inventory
    "inventory POST /v1/ai-systems/import": _BYTES + " (CSV/XLSX register import)",
    "inventory GET /v1/ai-systems/export.csv": _BYTES + " (CSV export)",
    "inventory POST /v1/custom-fields": _CONFIG,
    "inventory PATCH /v1/custom-fields/{field_id}": _CONFIG,
    "inventory DELETE /v1/custom-fields/{field_id}": _CONFIG,
    "inventory GET /v1/vendors/{vendor_id}/dependents": (
        "impact analysis of a vendor over the whole graph (nearest first, with paths); "
        "`Vendor.systems` and `systemDependenciesConnection` serve the dashboard views"
    ),
    "inventory GET /v1/components/{component_id}/dependents": (
        "impact analysis of a component over the whole graph (nearest first, with paths); "
        "`systemDependenciesConnection` serves the dashboard view"
    ),
    "inventory POST /v1/dependencies": _EDGES,
    "inventory GET /v1/dependencies": _EDGES,
    "inventory GET /v1/dependencies/{dependency_id}": _EDGES,
    "inventory DELETE /v1/dependencies/{dependency_id}": _EDGES,
    "inventory POST /v1/interfaces": _EDGES,
    "inventory GET /v1/interfaces": _EDGES,
    "inventory GET /v1/interfaces/{interface_id}": _EDGES,
    "inventory PATCH /v1/interfaces/{interface_id}": _EDGES,
    "inventory DELETE /v1/interfaces/{interface_id}": _EDGES,
    "inventory GET /v1/context-issues/{issue_id}/history": _HISTORY,
    "inventory GET /v1/interested-parties/{party_id}/history": _HISTORY,
    "inventory GET /v1/organisation/ai-roles/history": _HISTORY,
    "inventory GET /v1/api-keys": (
        "credential management: API keys are issued, listed and revoked by administrators "
        "over REST/CLI, and a secret is shown once, never through a shared GraphQL layer"
    ),
    "inventory POST /v1/api-keys": "credential management (see `GET /v1/api-keys`)",
    "inventory DELETE /v1/api-keys/{key_id}": "credential management (see `GET /v1/api-keys`)",
    # risk
    "risk PUT /v1/risk-matrices": (
        _CONFIG + "; a new matrix version rescales every risk (with `/rescore`)"
    ),
    "risk GET /v1/risk-matrices/versions": _HISTORY,
    "risk GET /v1/risk-matrices/versions/{number}": _HISTORY,
    "risk POST /v1/risk-matrices/rescore": _CONFIG + " (rescoring after a matrix change)",
    "risk GET /v1/risk-review-cadences": _CONFIG,
    "risk PUT /v1/risk-review-cadences": _CONFIG,
    "risk GET /v1/risks/{risk_id}/history": _HISTORY,
    "risk GET /v1/systems/{system_id}/classifications": _HISTORY,
    "risk GET /v1/impact-assessments/{assessment_id}/history": _HISTORY,
    "risk GET /v1/crosswalk/nist/{subcategory}": (
        "a one-row lookup of the crosswalk; `nistCrosswalk` holds every pair"
    ),
    "risk GET /v1/crosswalk/eu-ai-act/{article}": (
        "a one-row lookup of the crosswalk; `euAiActCrosswalk` holds every article"
    ),
    # evidence
    "evidence POST /v1/systems/{system_id}/files": _BYTES,
    "evidence GET /v1/systems/{system_id}/files": (
        "the legacy per-system file list; evidence items (`AISystem.evidence`, "
        "`Evidence.files`) supersede it"
    ),
    "evidence POST /v1/evidence/{item_id}/versions/{number}/files": _BYTES,
    "evidence GET /v1/files/{file_id}/content": _BYTES
    + " (`EvidenceFile.contentPath` names the REST path)",
    "evidence POST /v1/blobs/verify": (
        "integrity sweep of the blob store by an operator (docs/operations.md)"
    ),
}


@cache
def operations() -> frozenset[tuple[str, str]]:
    """``(service, "METHOD path")`` of every operation of the three services."""
    from services.evidence.config import EvidenceSettings
    from services.evidence.main import create_app as create_evidence
    from services.inventory.config import InventorySettings
    from services.inventory.main import create_app as create_inventory
    from services.risk.config import RiskSettings
    from services.risk.main import create_app as create_risk

    apps: dict[str, FastAPI] = {
        "inventory": create_inventory(InventorySettings()),
        "risk": create_risk(RiskSettings()),
        "evidence": create_evidence(EvidenceSettings()),
    }
    found: set[tuple[str, str]] = set()
    for service, app in apps.items():
        for path, item in app.openapi()["paths"].items():
            for method in item:
                if method in {"get", "post", "put", "patch", "delete"}:
                    found.add((service, f"{method.upper()} {path}"))
    return frozenset(found)


def _entry(table: dict[str, str], service: str, operation: str) -> str | None:
    return table.get(f"{service} {operation}") or table.get(f"* {operation}")


def schema_fields() -> set[str]:
    schema = build_schema()._schema
    return {
        f"{name}.{field}"
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType)
        for field in t.fields
    }


def test_every_service_operation_is_in_the_schema_or_declared_rest_only() -> None:
    missing = sorted(
        f"{service} {operation}"
        for service, operation in operations()
        if _entry(GRAPHQL, service, operation) is None
        and _entry(REST_ONLY, service, operation) is None
    )
    assert not missing, (
        "service operations with no GraphQL counterpart: add them to the schema (and to "
        f"GRAPHQL) or to REST_ONLY with the reason: {missing}"
    )


def test_no_operation_is_both_mapped_and_rest_only() -> None:
    assert not set(GRAPHQL) & set(REST_ONLY)


def test_every_mapped_field_is_in_the_schema() -> None:
    fields = schema_fields()
    absent = sorted(f"{op} → {field}" for op, field in GRAPHQL.items() if field not in fields)
    assert not absent, f"mapped to fields the schema does not have: {absent}"


def test_the_tables_name_only_operations_that_exist() -> None:
    known = operations()
    services = {service for service, _ in known}
    stale: list[str] = []
    for key in (*GRAPHQL, *REST_ONLY):
        service, operation = key.split(" ", 1)
        candidates = services if service == "*" else {service}
        if not any((s, operation) in known for s in candidates):
            stale.append(key)
    assert not stale, f"no such service operation (renamed or removed?): {sorted(stale)}"


def test_every_rest_only_operation_has_a_reason() -> None:
    assert all(len(reason) > 20 for reason in REST_ONLY.values())
