"""Internal audit (ISO/IEC 42001 9.2) through the REST API: programmes and their coverage,
audits, auditor independence, findings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.testing import eventually
from tests.evidence.audit_helpers import (
    PERIOD,
    TODAY,
    audit,
    audit_body,
    created,
    events_of,
    evidence_events,
    evidence_item,
    finding,
    manager,
    programme,
    started_audit,
    system_with_owner,
)
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines
__all__ = ["evidence_events"]


async def coverage(stack: EvidenceStack, org: uuid.UUID, programme_id: str) -> dict[str, Any]:
    response = await stack.evidence.get(
        f"/v1/audit-programmes/{programme_id}/coverage", headers=stack.headers(org, "auditor")
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_programme_coverage_lists_the_clauses_and_controls_no_live_audit_covers(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    plan = await programme(stack, org)
    empty = await coverage(stack, org, plan["id"])
    assert empty["audits_counted"] == 0
    assert empty["complete"] is False
    # No SoA approved yet: every Annex A control counts as applicable.
    assert empty["controls_basis"] == "no_approved_soa"
    assert empty["controls_applicable"] == 38 == len(empty["control_gaps"])
    assert empty["clauses_assessable"] == len(empty["clause_gaps"]) > 20
    assert empty["clauses_assessable"] == 32
    gap = next(g for g in empty["clause_gaps"] if g["id"] == "9.2.1")
    assert gap["title"]

    await audit(stack, org, programme_id=plan["id"], clauses=["4", "9.2"], controls=["a.5.2"])
    cancelled = await audit(stack, org, programme_id=plan["id"], clauses=["5"])
    response = await stack.evidence.post(
        f"/v1/audits/{cancelled['id']}/cancel", headers=manager(stack, org)
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"

    result = await coverage(stack, org, plan["id"])
    gaps = {g["id"] for g in result["clause_gaps"]}
    assert result["audits_counted"] == 1
    assert not {"4.1", "4.2", "4.3", "4.4"} & gaps  # clause 4 covers its sub-clauses
    assert not any(g.startswith("9.2") for g in gaps)
    assert "5.1" in gaps  # only the cancelled audit covered it
    assert "A.5.2" not in {g["id"] for g in result["control_gaps"]}
    assert result["controls_covered"] == 1
    assert result["clauses_covered"] == result["clauses_assessable"] - len(gaps)


async def test_an_audit_covering_everything_closes_every_gap(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    plan = await programme(stack, org)
    controls = [f"A.{n}" for n in ("2.2", "2.3", "2.4")]
    everything = ["4", "5", "6", "7", "8", "9", "10"]
    await audit(stack, org, programme_id=plan["id"], clauses=everything, controls=controls)
    result = await coverage(stack, org, plan["id"])
    assert result["clause_gaps"] == []
    assert len(result["control_gaps"]) == 35


async def test_an_owner_of_a_system_in_scope_cannot_audit_it(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system_id = await system_with_owner(stack, org, "Owner@Example.com")
    refused = await stack.evidence.post(
        "/v1/audits",
        json=audit_body(
            systems=[system_id],
            lead_auditor="lead.auditor@example.com",
            auditors=["owner@example.com"],
        ),
        headers=manager(stack, org),
    )
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "auditor-not-independent"
    [reason] = problem["reasons"]
    assert reason["auditor"] == "owner@example.com"
    assert reason["kind"] == "system_owner"
    assert reason["target_type"] == "system" and reason["target_id"] == system_id
    assert "owner@example.com" in problem["detail"]
    listed = await stack.evidence.get("/v1/audits", headers=manager(stack, org))
    assert listed.json()["items"] == []  # nothing was stored

    # An independent team may audit the same scope.
    fine = await audit(stack, org, systems=[system_id], auditors=["other@example.com"])
    assert fine["systems"] == [system_id]
    # …and bringing the owner into the team later is refused as well, leaving it unchanged.
    read = await stack.evidence.get(f"/v1/audits/{fine['id']}", headers=manager(stack, org))
    patched = await stack.evidence.patch(
        f"/v1/audits/{fine['id']}",
        json={"lead_auditor": "OWNER@example.com"},
        headers={**manager(stack, org), "If-Match": read.headers["etag"]},
    )
    assert patched.status_code == 409 and patched.json()["code"] == "auditor-not-independent"
    again = await stack.evidence.get(f"/v1/audits/{fine['id']}", headers=manager(stack, org))
    assert again.json()["lead_auditor"] == "lead.auditor@example.com"


@pytest.mark.parametrize(
    "disguised",
    [
        "owner@example.com\u200b",  # a zero-width space pasted along
        "\u2066Owner@Example.com\u2069",  # direction isolates
        "ow\u00adner@example.com",  # a soft hyphen
    ],
)
async def test_an_owner_written_with_invisible_characters_is_still_refused(
    evidence_stack: EvidenceStack, org: uuid.UUID, disguised: str
) -> None:
    stack = evidence_stack
    system_id = await system_with_owner(stack, org, "Owner@Example.com")
    refused = await stack.evidence.post(
        "/v1/audits",
        json=audit_body(systems=[system_id], lead_auditor=disguised),
        headers=manager(stack, org),
    )
    assert refused.status_code == 409, refused.text
    [reason] = refused.json()["reasons"]
    assert reason["kind"] == "system_owner" and reason["target_id"] == system_id
    listed = await stack.evidence.get("/v1/audits", headers=manager(stack, org))
    assert listed.json()["items"] == []


async def test_an_owner_of_a_process_or_control_in_scope_cannot_audit_it(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    await evidence_item(stack, org, [("clause", "6.1.2")], owner="risk.lead@example.com")
    await evidence_item(stack, org, [("control", "A.6.2.8")], owner="ops@example.com")
    refused = await stack.evidence.post(
        "/v1/audits",
        json=audit_body(
            clauses=["6"],
            controls=["A.6.2.8"],
            lead_auditor="Risk.Lead@example.com",
            auditors=["ops@example.com", "independent@example.com"],
        ),
        headers=manager(stack, org),
    )
    assert refused.status_code == 409, refused.text
    reasons = {(r["auditor"], r["kind"], r["target_id"]) for r in refused.json()["reasons"]}
    assert reasons == {
        ("Risk.Lead@example.com", "process_owner", "6.1.2"),
        ("ops@example.com", "control_owner", "A.6.2.8"),
    }
    # Owning evidence of a clause outside the scope is no conflict.
    await audit(stack, org, clauses=["9.2"], lead_auditor="risk.lead@example.com")


async def test_audit_lifecycle_with_sampled_evidence_and_events(
    evidence_stack: EvidenceStack, org: uuid.UUID, evidence_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    item = await evidence_item(stack, org, [("clause", "9.2")])
    unknown = await stack.evidence.post(
        "/v1/audits",
        json=audit_body(evidence_sampled=[str(uuid.uuid4())], clauses=["9.9"]),
        headers=manager(stack, org),
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown-reference"
    planned = await audit(stack, org, evidence_sampled=[item], clauses=["9.2"])
    assert planned["status"] == "planned" and planned["evidence_sampled"] == [item]
    early = await stack.evidence.post(
        f"/v1/audits/{planned['id']}/complete", headers=manager(stack, org)
    )
    assert early.status_code == 409 and early.json()["code"] == "invalid-audit-transition"
    await stack.evidence.post(f"/v1/audits/{planned['id']}/start", headers=manager(stack, org))
    done = await stack.evidence.post(
        f"/v1/audits/{planned['id']}/complete",
        json={"conclusion": "Conforms, one minor finding."},
        headers=manager(stack, org),
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["completed_on"] == TODAY.isoformat()
    stale = await stack.evidence.patch(
        f"/v1/audits/{planned['id']}",
        json={"title": "Renamed"},
        headers={**manager(stack, org), "If-Match": '"1"'},
    )
    assert stale.status_code == 412

    async def completed_event() -> list[dict[str, Any]] | None:
        return events_of(evidence_events, "audit.completed", planned["id"]) or None

    [event] = await eventually(completed_event)
    assert event["data"]["completed_on"] == TODAY.isoformat()
    assert event["orgid"] == str(org)


async def test_auditors_raise_findings_but_do_not_plan_audits(
    evidence_stack: EvidenceStack, org: uuid.UUID, evidence_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    auditor = stack.headers(org, "auditor", subject="quinn")
    refused = await stack.evidence.post("/v1/audits", json=audit_body(), headers=auditor)
    assert refused.status_code == 403
    refused = await stack.evidence.post(
        "/v1/audit-programmes", json={"title": "Mine", **PERIOD}, headers=auditor
    )
    assert refused.status_code == 403

    planned = await audit(stack, org, clauses=["8"])
    too_early = await stack.evidence.post(
        f"/v1/audits/{planned['id']}/findings",
        json={
            "kind": "observation",
            "title": "x",
            "links": [{"target_type": "clause", "target_id": "8.4"}],
        },
        headers=auditor,
    )
    assert too_early.status_code == 409 and too_early.json()["code"] == "audit-not-in-progress"
    await stack.evidence.post(f"/v1/audits/{planned['id']}/start", headers=manager(stack, org))

    system_id = await system_with_owner(stack, org, "someone@example.com", name="Chatbot")
    raised = await finding(
        stack, org, planned["id"], links=[("clause", "8.4"), ("system", system_id)]
    )
    assert raised["raised_by"] == "quinn" and raised["status"] == "open"
    assert raised["links"] == [
        {"target_type": "clause", "target_id": "8.4"},
        {"target_type": "system", "target_id": system_id},
    ]
    nc_id = raised["nonconformity_id"]
    assert nc_id is not None
    nc = await stack.evidence.get(f"/v1/nonconformities/{nc_id}", headers=auditor)
    assert nc.json()["severity"] == "minor" and nc.json()["finding_id"] == raised["id"]
    assert nc.json()["status"] == "open"

    observation = await finding(stack, org, planned["id"], kind="observation")
    assert observation["nonconformity_id"] is None
    viewer = await stack.evidence.post(
        f"/v1/audits/{planned['id']}/findings",
        json={
            "kind": "observation",
            "title": "x",
            "links": [{"target_type": "clause", "target_id": "8.4"}],
        },
        headers=stack.headers(org, "viewer"),
    )
    assert viewer.status_code == 403

    # Findings by target; a nonconformity cannot be lowered to an observation.
    by_system = await stack.evidence.get(
        "/v1/findings", params={"target": f"system:{system_id}"}, headers=auditor
    )
    assert [f["id"] for f in by_system.json()["items"]] == [raised["id"]]
    by_kind = await stack.evidence.get(
        "/v1/findings", params={"kind": "observation", "audit_id": planned["id"]}, headers=auditor
    )
    assert [f["id"] for f in by_kind.json()["items"]] == [observation["id"]]
    lowered = await stack.evidence.patch(
        f"/v1/findings/{raised['id']}",
        json={"kind": "observation"},
        headers={**auditor, "If-Match": '"1"'},
    )
    assert lowered.status_code == 409 and lowered.json()["code"] == "finding-kind-locked"
    # An observation raised to a major nonconformity opens one.
    upgraded = await stack.evidence.patch(
        f"/v1/findings/{observation['id']}",
        json={"kind": "major_nonconformity"},
        headers={**auditor, "If-Match": '"1"'},
    )
    assert upgraded.status_code == 200, upgraded.text
    major = await stack.evidence.get(
        f"/v1/nonconformities/{upgraded.json()['nonconformity_id']}", headers=auditor
    )
    assert major.json()["severity"] == "major"

    async def raised_event() -> list[dict[str, Any]] | None:
        return events_of(evidence_events, "finding.raised", raised["id"]) or None

    [event] = await eventually(raised_event)
    assert event["data"]["nonconformity_id"] == nc_id
    opened = events_of(evidence_events, "nonconformity.opened", nc_id)
    assert opened and opened[0]["data"]["finding_id"] == raised["id"]


async def test_findings_link_only_to_what_exists(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    running = await started_audit(stack, org, clauses=["9"])
    bad = await stack.evidence.post(
        f"/v1/audits/{running['id']}/findings",
        json={
            "kind": "observation",
            "title": "Links",
            "links": [
                {"target_type": "clause", "target_id": "11.1"},
                {"target_type": "evidence", "target_id": str(uuid.uuid4())},
                {"target_type": "system", "target_id": "not-a-uuid"},
            ],
        },
        headers=stack.headers(org, "auditor"),
    )
    assert bad.status_code == 422, bad.text
    assert [e["location"][-1] for e in bad.json()["errors"]] == [0, 1, 2]
    none = await stack.evidence.post(
        f"/v1/audits/{running['id']}/findings",
        json={"kind": "observation", "title": "Links", "links": []},
        headers=stack.headers(org, "auditor"),
    )
    assert none.status_code == 422
    listed = await stack.evidence.get(
        "/v1/findings", params={"audit_id": running["id"]}, headers=stack.headers(org)
    )
    assert listed.json()["items"] == []


async def test_other_organisations_see_nothing_and_bad_input_is_a_4xx(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    plan = await programme(stack, org)
    running = await started_audit(stack, org, programme_id=plan["id"], clauses=["9.2"])
    raised = await finding(stack, org, running["id"])
    other = uuid.uuid4()
    outsider = stack.headers(other, "manager")
    for path in (
        f"/v1/audit-programmes/{plan['id']}",
        f"/v1/audit-programmes/{plan['id']}/coverage",
        f"/v1/audits/{running['id']}",
        f"/v1/findings/{raised['id']}",
        f"/v1/nonconformities/{raised['nonconformity_id']}",
    ):
        response = await stack.evidence.get(path, headers=outsider)
        assert response.status_code == 404, path
    foreign = await stack.evidence.post(
        f"/v1/audits/{running['id']}/findings",
        json={
            "kind": "observation",
            "title": "x",
            "links": [{"target_type": "clause", "target_id": "9.2"}],
        },
        headers=stack.headers(other, "auditor"),
    )
    assert foreign.status_code == 404
    in_other = await stack.evidence.post(
        "/v1/audits", json=audit_body(programme_id=plan["id"]), headers=outsider
    )
    assert in_other.status_code == 422 and in_other.json()["code"] == "unknown-reference"
    assert (await stack.evidence.get("/v1/findings", headers=outsider)).json()["items"] == []

    nul = await stack.evidence.post(
        "/v1/audits", json=audit_body(title="Bad\x00title"), headers=manager(stack, org)
    )
    assert nul.status_code == 422
    assert nul.json()["errors"][0]["location"][-1] == "title"
    nul_query = await stack.evidence.get(
        "/v1/findings", params={"target": "clause:9\x00"}, headers=manager(stack, org)
    )
    assert nul_query.status_code == 422
    bad_target = await stack.evidence.get(
        "/v1/findings", params={"target": "nothing"}, headers=manager(stack, org)
    )
    assert bad_target.status_code == 400 and bad_target.json()["code"] == "invalid-target"
    unknown = await stack.evidence.get(
        "/v1/audits", params={"programme": plan["id"]}, headers=manager(stack, org)
    )
    assert unknown.status_code == 400 and "programme_id" in unknown.json()["allowed"]
    backwards = await stack.evidence.post(
        "/v1/audit-programmes",
        json={"title": "x", "period_start": "2027-12-31", "period_end": "2027-01-01"},
        headers=manager(stack, org),
    )
    assert backwards.status_code == 422
    outside = await stack.evidence.post(
        "/v1/audits",
        json=audit_body(
            programme_id=plan["id"], planned_end=(TODAY + timedelta(days=900)).isoformat()
        ),
        headers=manager(stack, org),
    )
    assert outside.status_code == 422 and outside.json()["code"] == "invalid-dates"
    huge = await stack.evidence.get(
        "/v1/audits", params={"limit": 10**12}, headers=manager(stack, org)
    )
    assert huge.status_code == 422
    weird = await stack.evidence.post(
        "/v1/audits",
        json=audit_body(title="Audit ünïcødé ✓", lead_auditor="ærø@exämple.com"),
        headers=manager(stack, org),
    )
    assert weird.status_code == 201 and weird.json()["title"] == "Audit ünïcødé ✓"


async def test_batch_pagination_and_idempotent_creates(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    headers = {**manager(stack, org), "Idempotency-Key": "plan-2027"}
    body = {"title": "Programme", **PERIOD}
    first = await created(
        await stack.evidence.post("/v1/audit-programmes", json=body, headers=headers)
    )
    replay = await stack.evidence.post("/v1/audit-programmes", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json()["id"] == first["id"]
    assert replay.headers["idempotent-replayed"] == "true"

    audits = [await audit(stack, org, title=f"Audit {n}") for n in range(3)]
    page = await stack.evidence.get("/v1/audits", params={"limit": 2}, headers=manager(stack, org))
    assert len(page.json()["items"]) == 2 and page.json()["next_cursor"]
    rest = await stack.evidence.get(
        "/v1/audits",
        params={"limit": 2, "after": page.json()["next_cursor"]},
        headers=manager(stack, org),
    )
    assert [a["id"] for a in page.json()["items"] + rest.json()["items"]] == [
        a["id"] for a in audits
    ]
    batch = await stack.evidence.get(
        "/v1/audits",
        params=[("id", audits[0]["id"]), ("id", audits[2]["id"])],
        headers=manager(stack, org),
    )
    assert [a["id"] for a in batch.json()["items"]] == [audits[0]["id"], audits[2]["id"]]
    by_status = await stack.evidence.get(
        "/v1/audits", params={"status": "completed"}, headers=manager(stack, org)
    )
    assert by_status.json()["items"] == []


async def test_coverage_counts_only_the_controls_the_approved_soa_includes(
    stack: Any, org: uuid.UUID
) -> None:
    """With the risk service's SoA approved (excluding A.10.2 and A.10.3), the programme's
    applicable controls are those the SoA includes."""
    from tests.evidence.documented_helpers import approve_soa

    number = await approve_soa(stack, org, {"A.10.2": False, "A.10.3": False})
    headers = stack.headers(org, "manager")
    plan = await created(
        await stack.evidence.post(
            "/v1/audit-programmes", json={"title": "Cycle", **PERIOD}, headers=headers
        )
    )
    await created(
        await stack.evidence.post(
            "/v1/audits",
            json=audit_body(programme_id=plan["id"], controls=["A.2.2"]),
            headers=headers,
        )
    )

    async def by_soa() -> dict[str, Any] | None:
        response = await stack.evidence.get(
            f"/v1/audit-programmes/{plan['id']}/coverage", headers=headers
        )
        body: dict[str, Any] = response.json()
        return body if body["controls_basis"] == "soa" else None

    result = await eventually(by_soa)
    assert result["soa_number"] == number
    gaps = {g["id"] for g in result["control_gaps"]}
    assert {"A.10.2", "A.10.3", "A.2.2"}.isdisjoint(gaps)
    assert result["controls_covered"] == 1
    assert result["controls_applicable"] == len(gaps) + 1 <= 36
