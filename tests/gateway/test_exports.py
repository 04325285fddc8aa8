"""Exports through the gateway: the audit package, OSCAL documents and the HTML reports.

Everything is arranged through the services' REST APIs (scope, SoA, risks, evidence with
files) and read back through the gateway's export routes with the caller's own token.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from trestle.oscal import assessment_results as oscal_ar
from trestle.oscal import poam as oscal_poam
from trestle.oscal import ssp as oscal_ssp

from tests.evidence.documented_helpers import approve_scope, approve_soa, register
from tests.risk.test_register import risk_body

pytestmark = pytest.mark.engines

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_TITLE = "<script>alert('owned')</script> AI policy"
ROUTES = (
    "/v1/exports/audit-package",
    "/v1/exports/oscal/ssp",
    "/v1/exports/oscal/assessment-results",
    "/v1/exports/oscal/poam",
    "/v1/exports/readiness-report.html",
    "/v1/exports/soa.html",
)


async def evidence_with_file(
    stack: Any,
    org: uuid.UUID,
    title: str,
    content: bytes,
    *,
    filename: str = "policy.pdf",
    links: list[dict[str, str]] | None = None,
    approve: bool = False,
) -> dict[str, Any]:
    headers = stack.headers(org, "contributor")
    created = await stack.evidence.post(
        "/v1/evidence", json={"title": title, "links": links or []}, headers=headers
    )
    assert created.status_code == 201, created.text
    item = created.json()
    uploaded = await stack.evidence.post(
        f"/v1/evidence/{item['id']}/versions/1/files",
        params={"filename": filename},
        content=content,
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    if approve:
        submitted = await stack.evidence.post(f"/v1/evidence/{item['id']}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
        approved = await stack.evidence.post(
            f"/v1/evidence/{item['id']}/approve", headers=stack.headers(org, "manager")
        )
        assert approved.status_code == 200, approved.text
    return {**item, "file": uploaded.json()}


async def arrange(stack: Any, org: uuid.UUID) -> dict[str, Any]:
    """An organisation with an approved scope and SoA, a risk and two evidence items."""
    system = await register(stack, org, "CV screening")
    await approve_scope(stack, org, {system: True})
    soa_version = await approve_soa(stack, org, {"A.2.2": True, "A.10.4": False})
    risk = await stack.risk.post(
        "/v1/risks",
        json=risk_body(title="Biased CV ranking"),
        headers=stack.headers(org, "risk_owner"),
    )
    assert risk.status_code == 201, risk.text
    policy = await evidence_with_file(
        stack,
        org,
        SCRIPT_TITLE,
        b"%PDF-1.7 our AI policy " * 500,
        links=[{"target_type": "control", "target_id": "A.2.2"}],
        approve=True,
    )
    log = await evidence_with_file(
        stack, org, "Monitoring log", b"day,drift\n1,0.01\n", filename="monitoring log.csv"
    )
    return {"system": system, "soa_version": soa_version, "policy": policy, "log": log}


def aims_offline(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMS_")}
    env["COLUMNS"] = "250"
    return subprocess.run(
        [sys.executable, "-m", "aims", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_audit_package_holds_every_part_and_verifies_offline(
    stack: Any, org: uuid.UUID, tmp_path: Path
) -> None:
    arranged = await arrange(stack, org)
    other = uuid.uuid4()
    await evidence_with_file(stack, other, "Other org secret", b"OTHER-ORG-SECRET-CONTENT")

    # A viewer reads everything and changes nothing: they may export.
    response = await stack.gateway.get(
        "/v1/exports/audit-package", headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["cache-control"] == "no-store"

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["org_id"] == str(org)
    assert manifest["soa_version"] == arranged["soa_version"]
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == names - {"manifest.json"}
    for path, entry in listed.items():
        content = archive.read(path)
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], path
        assert len(content) == entry["size_bytes"]

    for part in ("scope.json", "soa.json", "soa.html", "risk-register.json"):
        assert part in names
    assert "impact-assessments.json" in names
    assert "evidence/index.json" in names
    for part in ("readiness/readiness", "audits/audits", "audits/findings"):
        assert f"{part}.json" in names or f"{part}.unavailable.txt" in names
    for placeholder in manifest["unavailable"]:
        assert placeholder["path"] in names
        assert b"not available" in archive.read(placeholder["path"])

    scope = json.loads(archive.read("scope.json"))["approved_scope"]
    assert scope["systems"][0]["system_id"] == arranged["system"]
    soa = json.loads(archive.read("soa.json"))
    decided = {e["control_id"]: e["applicable"] for e in soa["entries"]}
    assert decided["A.2.2"] is True
    assert decided["A.10.4"] is False
    risks = json.loads(archive.read("risk-register.json"))["items"]
    assert [r["title"] for r in risks] == ["Biased CV ranking"]

    evidence = {f["file_id"]: (p, f) for p, f in listed.items() if f["kind"] == "evidence"}
    policy_path, policy = evidence[arranged["policy"]["file"]["id"]]
    assert archive.read(policy_path) == b"%PDF-1.7 our AI policy " * 500
    assert policy["version_status"] == "approved"
    assert policy["source_sha256"] == policy["sha256"]
    log_path, log = evidence[arranged["log"]["file"]["id"]]
    assert log["filename"] == "monitoring log.csv"
    assert log["version_status"] == "draft"
    assert log_path.endswith("monitoring_log.csv")
    assert manifest["counts"]["evidence_files"] == 2
    # Another organisation's evidence is nowhere in the package.
    for name in names:
        assert b"OTHER-ORG-SECRET-CONTENT" not in archive.read(name)
        assert b"Other org secret" not in archive.read(name)

    package = tmp_path / "package.zip"
    package.write_bytes(response.content)
    ok = aims_offline("verify-package", str(package))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] == len(listed)

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            if info.filename == log_path:
                continue  # removed
            data = zin.read(info.filename)
            zout.writestr(info.filename, b"forged" if info.filename == policy_path else data)
    bad = aims_offline("verify-package", str(tampered))
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert [a["path"] for a in report["altered"]] == [policy_path]
    assert report["missing"] == [log_path]


async def test_oscal_documents_validate_against_the_official_models(
    stack: Any, org: uuid.UUID
) -> None:
    await arrange(stack, org)
    headers = stack.headers(org, "auditor")
    documents = {}
    for name in ("ssp", "assessment-results", "poam"):
        response = await stack.gateway.get(f"/v1/exports/oscal/{name}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        documents[name] = response.json()

    # compliance-trestle's models are generated from NIST's OSCAL JSON schemas (1.2.x) and
    # forbid unknown fields: an invalid document does not load.
    ssp = oscal_ssp.Model.model_validate(documents["ssp"]).system_security_plan
    oscal_ar.Model.model_validate(documents["assessment-results"])
    oscal_poam.Model.model_validate(documents["poam"])

    requirements = {r.control_id: r for r in ssp.control_implementation.implemented_requirements}
    applicable = {p.name: p.value for p in requirements["A.2.2"].props or []}
    assert applicable["applicable"] == "yes"
    excluded = requirements["A.10.4"]
    assert {p.name: p.value for p in excluded.props or []}["applicable"] == "no"
    statement = (excluded.statements or [])[0]
    component = (statement.by_components or [])[0]
    assert "develop nor specify" in component.description
    assert component.implementation_status is not None
    assert component.implementation_status.state == "not-applicable"
    titles = {c.title for c in ssp.system_implementation.components}
    assert "CV screening" in titles

    broken = copy.deepcopy(documents["ssp"])
    del broken["system-security-plan"]["control-implementation"]
    with pytest.raises(ValidationError):
        oscal_ssp.Model.model_validate(broken)
    broken = copy.deepcopy(documents["poam"])
    broken["plan-of-action-and-milestones"]["poam-items"][0]["unknown-field"] = 1
    with pytest.raises(ValidationError):
        oscal_poam.Model.model_validate(broken)


async def test_html_reports_list_the_controls_and_escape_what_users_typed(
    stack: Any, org: uuid.UUID
) -> None:
    await arrange(stack, org)
    headers = stack.headers(org, "viewer")
    soa = await stack.gateway.get("/v1/exports/soa.html", headers=headers)
    assert soa.status_code == 200, soa.text
    assert soa.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in soa.headers["content-security-policy"]
    page = soa.text
    assert "A.2.2" in page
    assert "A.10.4" in page
    assert "We neither develop nor specify AI systems ourselves." in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt; AI policy" in page

    readiness = await stack.gateway.get("/v1/exports/readiness-report.html", headers=headers)
    assert readiness.status_code == 200, readiness.text
    assert "<script>" not in readiness.text
    assert "CV screening" in readiness.text  # the scope section names the systems


async def test_exports_need_credentials_and_take_no_unknown_options(
    stack: Any, org: uuid.UUID
) -> None:
    for route in ROUTES:
        refused = await stack.gateway.get(route)
        assert refused.status_code == 401, route
        assert refused.headers["content-type"].startswith("application/problem+json")
        odd = await stack.gateway.get(
            route, params={"org": str(uuid.uuid4())}, headers=stack.headers(org, "viewer")
        )
        assert odd.status_code == 400, route
        assert odd.json()["code"] == "unknown-query-parameter"


async def test_an_empty_organisation_exports_valid_documents(stack: Any, org: uuid.UUID) -> None:
    """No scope, no SoA decisions, no audits: still a valid package and valid OSCAL."""
    headers = stack.headers(org, "viewer")
    response = await stack.gateway.get("/v1/exports/audit-package", headers=headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["scope_version"] is None
    assert manifest["counts"]["evidence_files"] == 0
    assert json.loads(archive.read("scope.json")) == {"approved_scope": None}
    oscal_ssp.Model.model_validate(json.loads(archive.read("oscal/system-security-plan.json")))
    oscal_ar.Model.model_validate(json.loads(archive.read("oscal/assessment-results.json")))
    oscal_poam.Model.model_validate(
        json.loads(archive.read("oscal/plan-of-action-and-milestones.json"))
    )


async def test_audits_findings_and_corrective_actions_reach_oscal_and_the_package(
    stack: Any, org: uuid.UUID
) -> None:
    await arrange(stack, org)
    manager = stack.headers(org, "manager", subject="boss")
    audit = await stack.evidence.post(
        "/v1/audits",
        json={
            "title": "Internal audit 2026",
            "criteria": "ISO/IEC 42001 clause 9.2 and control A.2.2",
            "planned_start": "2026-10-01",
            "planned_end": "2026-10-02",
            "clauses": ["9.2"],
            "controls": ["A.2.2"],
            "lead_auditor": "auditor@example.com",
        },
        headers=manager,
    )
    assert audit.status_code == 201, audit.text
    audit_id = audit.json()["id"]
    started = await stack.evidence.post(f"/v1/audits/{audit_id}/start", headers=manager)
    assert started.status_code == 200, started.text
    finding = await stack.evidence.post(
        f"/v1/audits/{audit_id}/findings",
        json={
            "kind": "minor_nonconformity",
            "title": "AI policy not communicated",
            "links": [{"target_type": "control", "target_id": "A.2.2"}],
        },
        headers=stack.headers(org, "auditor", subject="auditor@example.com"),
    )
    assert finding.status_code == 201, finding.text
    nc_id = finding.json()["nonconformity_id"]
    assert nc_id is not None
    action = await stack.evidence.post(
        f"/v1/nonconformities/{nc_id}/actions",
        json={
            "description": "Brief every team on the AI policy",
            "owner": "hr@example.com",
            "due_date": "2027-01-31",
        },
        headers=manager,
    )
    assert action.status_code == 201, action.text

    headers = stack.headers(org, "viewer")
    sar = (await stack.gateway.get("/v1/exports/oscal/assessment-results", headers=headers)).json()
    results = oscal_ar.Model.model_validate(sar).assessment_results.results
    assert [r.title for r in results] == ["Internal audit 2026"]
    (found,) = results[0].findings or []
    assert found.title == "AI policy not communicated"
    assert found.target.target_id == "A.2.2"
    assert found.target.status is not None
    assert found.target.status.state.value == "not-satisfied"

    plan = (await stack.gateway.get("/v1/exports/oscal/poam", headers=headers)).json()
    poam = oscal_poam.Model.model_validate(plan).plan_of_action_and_milestones
    assert [i.title for i in poam.poam_items] == ["AI policy not communicated"]
    (risk,) = poam.risks or []
    (remediation,) = risk.remediations or []
    assert remediation.description == "Brief every team on the AI policy"
    assert getattr(remediation.lifecycle, "value", remediation.lifecycle) == "planned"
    assert (remediation.tasks or [])[0].timing is not None

    package = await stack.gateway.get("/v1/exports/audit-package", headers=headers)
    assert package.status_code == 200, package.text
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    audits = json.loads(archive.read("audits/audits.json"))["items"]
    assert [a["id"] for a in audits] == [audit_id]
    findings = json.loads(archive.read("audits/findings.json"))["items"]
    assert [f["title"] for f in findings] == ["AI policy not communicated"]
    actions = json.loads(archive.read("corrective/corrective-actions.json"))["items"]
    assert [a["owner"] for a in actions] == ["hr@example.com"]
    readiness = json.loads(archive.read("readiness/readiness.json"))
    assert "verdict" in readiness
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["unavailable"] == []


async def test_the_export_routes_are_documented_in_openapi(stack: Any) -> None:
    document = (await stack.gateway.get("/openapi.json")).json()
    assert set(ROUTES) <= set(document["paths"])
    package = document["paths"]["/v1/exports/audit-package"]["get"]
    assert "application/zip" in package["responses"]["200"]["content"]
