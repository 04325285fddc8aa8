"""OSCAL 1.2 JSON documents (NIST's formats) built from one export's data.

- The SoA is a **system security plan** (SSP). OSCAL has no SoA model; an SSP's
  ``control-implementation`` holds, per control, *implemented requirements* with
  *statements* of how the organisation's own system implements them, and that is what an SoA
  states for one management system (applicability, justification, implementation status and
  owner). A *component definition* describes what a product or service *can* contribute to any
  system that uses it (a vendor's claim), not one organisation's decisions, so it does not fit.
  The "system" is the AIMS within its approved scope; the AI systems in scope are components.
- Internal audits are **assessment results**: one result per audit, with the controls it
  reviewed, and its findings (nonconformities as ``not-satisfied``).
- Nonconformities and their corrective actions are a **plan of action and milestones**: one
  item and one risk per nonconformity, each corrective action a remediation (planned or
  completed) with its due date as a milestone.

OSCAL UUIDs must be version 4 or 5, and this product's ids are UUIDv7, so every OSCAL uuid is
a UUIDv5 derived from the entity's own id (stable across exports); the entity's id travels in
an ``aims-id`` property. Names of this product's own properties are in the :data:`NS`
namespace. Control ids are Annex A ids (``A.6.2.8``, valid OSCAL tokens); clauses become
``clause-9.2``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from gateway.exports.service import ExportData

OSCAL_VERSION = "1.2.1"
NS = "urn:aims:oscal"
_NAMESPACE = uuid.UUID("8c2d2f0e-5d0b-5a62-9f39-0f4f3c6f2a11")


def oscal_uuid(*parts: object) -> str:
    """A stable UUIDv5 for an OSCAL object (the product's own ids are UUIDv7)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _prop(name: str, value: object, *, ns: str | None = NS) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": name, "value": str(value)}
    if ns is not None:
        prop["ns"] = ns
    return prop


def _text(value: object, fallback: str) -> str:
    text = str(value).strip() if value is not None else ""
    return text or fallback


def _instant(value: object) -> str | None:
    """An OSCAL date-time (with time zone) from a date, date-time or their ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=UTC)
    else:
        return None
    return moment.isoformat()


def _control_token(control_or_clause: str) -> str:
    """``A.6.2.8`` as it is; a clause ``9.2`` as ``clause-9.2`` (a token starts with a letter)."""
    text = control_or_clause.strip()
    return text if text[:1].isalpha() else f"clause-{text}"


def _metadata(data: ExportData, title: str, version: str) -> dict[str, Any]:
    party = oscal_uuid(data.org_id, "party")
    return {
        "title": title,
        "last-modified": data.generated_at.isoformat(),
        "version": version,
        "oscal-version": OSCAL_VERSION,
        "props": [_prop("generated-by", data.generated_by)],
        "parties": [
            {
                "uuid": party,
                "type": "organization",
                "name": f"Organisation {data.org_id}",
                "props": [_prop("aims-id", data.org_id)],
            }
        ],
    }


def _catalogue_resource(data: ExportData) -> dict[str, Any]:
    return {
        "uuid": oscal_uuid(data.org_id, "annex-a"),
        "title": "ISO/IEC 42001:2023 Annex A reference controls (identifiers only)",
        "description": "The AI management system controls the Statement of Applicability "
        "decides on. The standard's text is not reproduced; obtain it from ISO.",
    }


# --- System security plan (the SoA) ---------------------------------------------------------

_IMPLEMENTATION_STATE = {
    "implemented": "implemented",
    "partially_implemented": "partial",
    "partial": "partial",
    "planned": "planned",
    "not_started": "planned",
    "in_progress": "partial",
    "not_applicable": "not-applicable",
}


def system_security_plan(data: ExportData) -> dict[str, Any]:
    """The SoA as an SSP: one implemented requirement (with its statement) per control."""
    this_system = oscal_uuid(data.org_id, "aims")
    components: list[dict[str, Any]] = [
        {
            "uuid": this_system,
            "type": "this-system",
            "title": "AI management system (AIMS)",
            "description": "The organisation's AI management system within its approved "
            "scope (ISO/IEC 42001 4.3).",
            "status": {"state": "operational" if data.scope else "under-development"},
        }
    ]
    if data.scope is not None:
        for member in data.scope.systems:
            if not member.included:
                continue
            system = data.systems.get(member.system_id)
            components.append(
                {
                    "uuid": oscal_uuid("system", member.system_id),
                    "type": "system",
                    "title": data.system_name(member.system_id),
                    "description": _text(
                        system.description if system else None, "AI system in the AIMS scope."
                    ),
                    "props": [_prop("aims-id", member.system_id)],
                    "status": {"state": "operational"},
                }
            )
    requirements = []
    for entry in data.soa.entries:
        control = _control_token(entry.control_id)
        applicable = entry.applicable
        state = (
            "not-applicable"
            if applicable is False
            else _IMPLEMENTATION_STATE.get(entry.implementation_status or "", "planned")
        )
        props = [
            _prop(
                "applicable",
                "yes" if applicable else "no" if applicable is False else "undecided",
            ),
            _prop("decision", entry.decision),
        ]
        if entry.implementation_status:
            props.append(_prop("implementation-status", entry.implementation_status))
        if entry.owner:
            props.append(_prop("owner", entry.owner))
        evidence = data.control_evidence.get(entry.control_id, [])
        by_component: dict[str, Any] = {
            "component-uuid": this_system,
            "uuid": oscal_uuid(data.org_id, "soa", entry.control_id, "by-component"),
            "description": _text(
                entry.justification or entry.notes,
                f"{entry.control_title}: no justification recorded.",
            ),
            "implementation-status": {"state": state},
        }
        if entry.owner:
            by_component["props"] = [_prop("owner", entry.owner)]
        if evidence:
            by_component["links"] = [
                {"href": f"#{oscal_uuid('evidence', item.id)}", "rel": "reference"}
                for item in evidence
            ]
        requirement: dict[str, Any] = {
            "uuid": oscal_uuid(data.org_id, "soa", entry.control_id),
            "control-id": control,
            "props": props,
            "statements": [
                {
                    "statement-id": f"{control}_smt",
                    "uuid": oscal_uuid(data.org_id, "soa", entry.control_id, "statement"),
                    "by-components": [by_component],
                }
            ],
        }
        if entry.notes:
            requirement["remarks"] = entry.notes
        requirements.append(requirement)
    if not requirements:
        # OSCAL needs one; an SoA with no decisions yet still says so explicitly.
        requirements.append(
            {
                "uuid": oscal_uuid(data.org_id, "soa", "none"),
                "control-id": "A.2.2",
                "props": [_prop("applicable", "undecided")],
                "remarks": "The Statement of Applicability has no entries yet.",
            }
        )
    resources = [_catalogue_resource(data)]
    seen: set[str] = set()
    for items in data.control_evidence.values():
        for item in items:
            ref = oscal_uuid("evidence", item.id)
            if ref in seen:
                continue
            seen.add(ref)
            resources.append(
                {
                    "uuid": ref,
                    "title": item.title,
                    "props": [_prop("aims-id", item.id), _prop("status", item.status)],
                }
            )
    scope = data.scope
    boundary = _text(scope.statement, "The approved AIMS scope.") if scope else "No approved scope."
    version = (
        f"soa-{data.soa.version_number}" if data.soa.version_number is not None else "soa-draft"
    )
    return {
        "system-security-plan": {
            "uuid": oscal_uuid(data.org_id, "ssp", data.generated_at.isoformat()),
            "metadata": _metadata(data, "Statement of Applicability (ISO/IEC 42001)", version),
            "import-profile": {
                "href": f"#{oscal_uuid(data.org_id, 'annex-a')}",
                "remarks": "The Annex A controls tailored by this SoA's applicability decisions.",
            },
            "system-characteristics": {
                "system-ids": [
                    {"identifier-type": "https://ietf.org/rfc/rfc4122", "id": str(data.org_id)}
                ],
                "system-name": "AI management system",
                "description": boundary,
                "props": [
                    _prop("scope-version", scope.number if scope else "none"),
                    _prop("soa-approved", "yes" if data.soa.version_number else "no"),
                ],
                "system-information": {
                    "information-types": [
                        {
                            "uuid": oscal_uuid(data.org_id, "information-type"),
                            "title": "AI systems and their data",
                            "description": "The AI systems in scope, their inputs, outputs "
                            "and the records of the AI management system.",
                        }
                    ]
                },
                "status": {"state": "operational" if scope else "under-development"},
                "authorization-boundary": {"description": boundary},
            },
            "system-implementation": {"components": components},
            "control-implementation": {
                "description": "Statement of Applicability: for each ISO/IEC 42001 Annex A "
                "control, whether it applies, why, and how far it is implemented.",
                "implemented-requirements": requirements,
            },
            "back-matter": {"resources": resources},
        }
    }


# --- Assessment results (internal audits) ----------------------------------------------------

_NONCONFORMITY_KINDS = {"major_nonconformity", "minor_nonconformity"}


def _finding_target(finding: dict[str, Any], audit: dict[str, Any] | None) -> str:
    for link in finding.get("links") or []:
        if isinstance(link, dict) and link.get("target_type") in ("control", "clause"):
            return _control_token(str(link.get("target_id")))
    for key in ("controls", "clauses"):
        listed = (audit or {}).get(key) or []
        if listed:
            return _control_token(str(listed[0]))
    return "clause-9.2"


def assessment_results(data: ExportData) -> dict[str, Any]:
    """Each internal audit as a result, its findings (nonconformities not satisfied)."""
    audits = data.audits or []
    findings_by_audit: dict[str, list[dict[str, Any]]] = {}
    for finding in data.findings or []:
        findings_by_audit.setdefault(str(finding.get("audit_id")), []).append(finding)
    results = []
    for audit in audits:
        audit_id = str(audit.get("id"))
        selected = [
            *(_control_token(str(c)) for c in audit.get("clauses") or []),
            *(_control_token(str(c)) for c in audit.get("controls") or []),
        ]
        selection: dict[str, Any] = (
            {"include-controls": [{"control-id": c} for c in selected]}
            if selected
            else {"include-all": {}}
        )
        findings = []
        for finding in findings_by_audit.get(audit_id, []):
            kind = str(finding.get("kind") or "")
            nonconformity = kind in _NONCONFORMITY_KINDS
            findings.append(
                {
                    "uuid": oscal_uuid("finding", finding.get("id")),
                    "title": _text(finding.get("title"), "Finding"),
                    "description": _text(finding.get("description"), _text(kind, "Finding")),
                    "props": [
                        _prop("aims-id", finding.get("id")),
                        _prop("finding-kind", kind or "unknown"),
                        _prop("status", finding.get("status") or "unknown"),
                    ],
                    "target": {
                        "type": "objective-id",
                        "target-id": _finding_target(finding, audit),
                        "status": {
                            "state": "not-satisfied" if nonconformity else "satisfied",
                            "reason": "fail" if nonconformity else "other",
                        },
                    },
                }
            )
        start = _instant(audit.get("started_on") or audit.get("planned_start"))
        result: dict[str, Any] = {
            "uuid": oscal_uuid("audit", audit_id),
            "title": _text(audit.get("title"), "Internal audit"),
            "description": _text(audit.get("criteria"), "Internal audit (ISO/IEC 42001 9.2)."),
            "start": start or data.generated_at.isoformat(),
            "props": [
                _prop("aims-id", audit_id),
                _prop("status", audit.get("status") or "unknown"),
                _prop("lead-auditor", _text(audit.get("lead_auditor"), "unknown")),
            ],
            "reviewed-controls": {"control-selections": [selection]},
        }
        end = _instant(audit.get("completed_on"))
        if end:
            result["end"] = end
        if findings:
            result["findings"] = findings
        if audit.get("conclusion"):
            result["remarks"] = str(audit["conclusion"])
        results.append(result)
    if not results:
        results.append(
            {
                "uuid": oscal_uuid(data.org_id, "no-audit"),
                "title": "No internal audit recorded",
                "description": "The organisation has not recorded an internal audit (9.2)"
                + (" (the evidence service offers no audits yet)." if data.audits is None else "."),
                "start": data.generated_at.isoformat(),
                "reviewed-controls": {"control-selections": [{"include-all": {}}]},
            }
        )
    programme = oscal_uuid(data.org_id, "audit-programme")
    return {
        "assessment-results": {
            "uuid": oscal_uuid(data.org_id, "sar", data.generated_at.isoformat()),
            "metadata": _metadata(data, "Internal audit results (ISO/IEC 42001 9.2)", "1"),
            "import-ap": {"href": f"#{programme}"},
            "results": results,
            "back-matter": {
                "resources": [
                    {
                        "uuid": programme,
                        "title": "Internal audit programme",
                        "description": "The organisation's internal audit programme, kept in "
                        "AIMS (GET /v1/audits).",
                    }
                ]
            },
        }
    }


# --- Plan of action and milestones (corrective action) ---------------------------------------

_RISK_STATUS = {
    "open": "open",
    "correction_done": "investigating",
    "action_planned": "remediating",
    "awaiting_verification": "remediating",
    "closed": "closed",
}
_DONE = {"implemented", "verified_effective", "verified_ineffective", "closed"}


def poam(data: ExportData) -> dict[str, Any]:
    """Each nonconformity as a POA&M item and risk; its corrective actions as remediations."""
    actions_by_nc: dict[str, list[dict[str, Any]]] = {}
    for action in data.corrective_actions or []:
        actions_by_nc.setdefault(str(action.get("nonconformity_id")), []).append(action)
    items: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    for nc in data.nonconformities or []:
        nc_id = str(nc.get("id"))
        risk_uuid = oscal_uuid("nonconformity-risk", nc_id)
        remediations = []
        for action in actions_by_nc.get(nc_id, []):
            status = str(action.get("status") or "")
            response: dict[str, Any] = {
                "uuid": oscal_uuid("corrective-action", action.get("id")),
                "lifecycle": "completed" if status in _DONE else "planned",
                "title": "Corrective action",
                "description": _text(action.get("description"), "Corrective action."),
                "props": [
                    _prop("aims-id", action.get("id")),
                    _prop("status", status or "unknown"),
                    _prop("owner", _text(action.get("owner"), "unassigned")),
                ],
            }
            due = _instant(action.get("due_date"))
            if due:
                response["tasks"] = [
                    {
                        "uuid": oscal_uuid("corrective-action", action.get("id"), "due"),
                        "type": "milestone",
                        "title": "Due",
                        "timing": {"on-date": {"date": due}},
                    }
                ]
            remediations.append(response)
        risk: dict[str, Any] = {
            "uuid": risk_uuid,
            "title": _text(nc.get("title"), "Nonconformity"),
            "description": _text(nc.get("description"), "Nonconformity (ISO/IEC 42001 10.2)."),
            "statement": _text(nc.get("root_cause"), "Root cause not yet determined (10.2 b)."),
            "status": _RISK_STATUS.get(str(nc.get("status")), "open"),
            "props": [
                _prop("aims-id", nc_id),
                _prop("severity", nc.get("severity") or "unknown"),
                _prop("owner", _text(nc.get("owner"), "unassigned")),
            ],
        }
        deadline = _instant(nc.get("due_date"))
        if deadline:
            risk["deadline"] = deadline
        if remediations:
            risk["remediations"] = remediations
        risks.append(risk)
        item: dict[str, Any] = {
            "uuid": oscal_uuid("nonconformity", nc_id),
            "title": _text(nc.get("title"), "Nonconformity"),
            "description": _text(nc.get("description"), "Nonconformity (ISO/IEC 42001 10.2)."),
            "props": [_prop("aims-id", nc_id), _prop("status", nc.get("status") or "open")],
            "related-risks": [{"risk-uuid": risk_uuid}],
        }
        if nc.get("correction"):
            item["remarks"] = f"Correction: {nc['correction']}"
        items.append(item)
    if not items:
        items.append(
            {
                "uuid": oscal_uuid(data.org_id, "no-nonconformity"),
                "title": "No nonconformity recorded",
                "description": "The organisation has no nonconformity to correct"
                + (
                    " (the evidence service offers none yet)."
                    if data.nonconformities is None
                    else "."
                ),
            }
        )
    document: dict[str, Any] = {
        "uuid": oscal_uuid(data.org_id, "poam", data.generated_at.isoformat()),
        "metadata": _metadata(data, "Corrective actions (ISO/IEC 42001 10.2)", "1"),
        "system-id": {"identifier-type": "https://ietf.org/rfc/rfc4122", "id": str(data.org_id)},
        "poam-items": items,
    }
    if risks:
        document["risks"] = risks
    return {"plan-of-action-and-milestones": document}
