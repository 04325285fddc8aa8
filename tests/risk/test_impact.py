"""AI system impact assessments: requirement list, workflow, approval rules, isolation."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext

from shared.db import outbox_table, utcnow, uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines

BASE = "/v1/impact-assessments"
REVIEW = (date.today() + timedelta(days=180)).isoformat()
IMPACT = {
    "description": "Qualified applicants rejected",
    "severity": "high",
    "likelihood": "possible",
}
COMPLETE: dict[str, Any] = {
    "purpose": "Rank job applications for recruiter review",
    "stakeholders": [{"name": "Applicants", "how_affected": "Ranked; may be filtered out"}],
    "legal_context": "GDPR Art. 22, EU AI Act Annex III 4(a), national labour law",
    "social_context": "High unemployment region; many career changers",
    "impacts_on_individuals": [IMPACT],
    "impacts_on_groups": [{"description": "Older applicants ranked lower", "severity": "high"}],
    "impacts_on_society": [{"description": "Homogenised workforce", "severity": "medium"}],
    "fairness_and_bias": "Disparate impact tested per age band and gender each quarter",
    "mitigation_measures": ["Recruiter reviews every rejection", "Quarterly bias audit"],
    "human_oversight": "A recruiter decides; the ranking only orders the queue",
    "monitoring": "Monthly selection-rate dashboard",
    "next_review_at": REVIEW,
}
FRIA = {
    "deployer_process": "Initial screening step of hiring",
    "period_and_frequency_of_use": "Continuously, for every vacancy, from 2027",
    "affected_person_categories": ["Job applicants"],
    "specific_risks_of_harm": [IMPACT],
    "human_oversight_measures": "Two recruiters trained on automation bias",
    "measures_if_risks_materialise": "Suspend ranking; complaints desk; works council review",
}
ART_27_FIELDS = {
    "deployer_process",
    "period_and_frequency_of_use",
    "affected_person_categories",
    "specific_risks_of_harm",
    "human_oversight_measures",
    "measures_if_risks_materialise",
}
BASE_FIELDS = {
    "purpose",
    "stakeholders",
    "legal_context",
    "social_context",
    "impacts_on_individuals",
    "impacts_on_groups",
    "impacts_on_society",
    "fairness_and_bias",
    "mitigation_measures",
    "human_oversight",
    "monitoring",
    "next_review_at",
}


@pytest.fixture
async def js(stack: Any) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(stack.engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def put_system(stack: Any, js: JetStreamContext, org: uuid.UUID, **facts: Any) -> uuid.UUID:
    """Publish a synthetic inventory event and wait until the risk service holds the system."""
    system_id = uuid7()
    data = {
        "id": str(system_id),
        "org_id": str(org),
        "name": facts.pop("name", "CV ranker"),
        "lifecycle_stage": "deployed",
        "intended_purpose": "Rank applications",
        "sector": "general",
        "data_inputs": [],
        "ai_roles": ["provider"],
        "affected_stakeholders": [],
        **facts,
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid7()),
        "source": "/aims/inventory",
        "type": "aims.inventory.system.registered",
        "time": utcnow().isoformat(),
        "subject": str(system_id),
        "orgid": str(org),
        "dataversion": 1,
        "data": data,
    }
    await js.publish(
        stack.engines.subject_prefix + event["type"],
        json.dumps(event).encode(),
        headers={"Nats-Msg-Id": event["id"]},
    )
    headers = stack.headers(org, "viewer")

    async def known() -> bool:
        return bool((await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)).is_success)

    await eventually(known)
    return system_id


async def classify(stack: Any, org: uuid.UUID, system_id: uuid.UUID, **answers: Any) -> None:
    """Record the EU AI Act classification of ``system_id`` through REST."""
    response = await stack.risk.post(
        f"/v1/systems/{system_id}/classifications", json=answers, headers=editor(stack, org)
    )
    assert response.status_code == 201, response.text


# A deployer of an Annex III 4(a) (employment) system: high-risk. Art. 27(1) binds it only when
# it is a body governed by public law or a private entity providing public services.
PUBLIC_DEPLOYER = {
    "role": "deployer",
    "annex_iii_points": ["4(a)"],
    "deployer_category": "body_governed_by_public_law",
}
PRIVATE_DEPLOYER = {"role": "deployer", "annex_iii_points": ["4(a)"]}


def editor(stack: Any, org: uuid.UUID, who: str = "alice") -> dict[str, str]:
    return dict(stack.headers(org, "risk_owner", subject=who))


def manager(stack: Any, org: uuid.UUID, who: str = "bob") -> dict[str, str]:
    return dict(stack.headers(org, "manager", subject=who))


async def create(
    stack: Any, org: uuid.UUID, system_id: uuid.UUID, body: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    headers = kw.pop("headers", None) or editor(stack, org)
    response = await stack.risk.post(
        BASE, json={"system_id": str(system_id), **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def submit_and_approve(
    stack: Any, org: uuid.UUID, assessment_id: str, approver: str = "bob"
) -> dict[str, Any]:
    submitted = await stack.risk.post(f"{BASE}/{assessment_id}/submit", headers=editor(stack, org))
    assert submitted.status_code == 200, submitted.text
    approved = await stack.risk.post(
        f"{BASE}/{assessment_id}/approve", headers=manager(stack, org, approver)
    )
    assert approved.status_code == 200, approved.text
    return dict(approved.json())


async def test_required_list_with_missing_filter(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    """A high tier alone is no reason (EU AI Act Art. 27(1) names the deployers who owe the
    assessment); a public-law deployer of a high-risk system is (`eu_ai_act_art_27`)."""
    people = await put_system(stack, js, org, affected_stakeholders=["applicants"])
    plain = await put_system(stack, js, org, name="Log compressor")
    clinic = await put_system(stack, js, org, sector="healthcare")
    personal = await put_system(
        stack, js, org, data_inputs=[{"category": "contact", "personal": True}]
    )
    high = await put_system(stack, js, org)
    await classify(stack, org, high, **PUBLIC_DEPLOYER)
    private_high = await put_system(stack, js, org, name="Shift planner")
    await classify(stack, org, private_high, **PRIVATE_DEPLOYER)
    retired = await put_system(stack, js, org, sector="healthcare", lifecycle_stage="retired")
    headers = stack.headers(org, "viewer")

    listed = await stack.risk.get(f"{BASE}/required", headers=headers)
    assert listed.status_code == 200, listed.text
    by_id = {uuid.UUID(i["system_id"]): i for i in listed.json()["items"]}
    assert set(by_id) == {people, clinic, personal, high}
    assert plain not in by_id and retired not in by_id and private_high not in by_id
    assert by_id[people]["reasons"] == ["affects_individuals"]
    assert by_id[clinic]["reasons"] == ["sensitive_sector"]
    assert by_id[personal]["reasons"] == ["affects_individuals"]
    assert by_id[high]["reasons"] == ["eu_ai_act_art_27"]
    assert not any(i["has_current_assessment"] for i in by_id.values())

    created = await create(stack, org, people, COMPLETE)
    await submit_and_approve(stack, org, created["id"])

    missing = await stack.risk.get(f"{BASE}/required", params={"missing": "true"}, headers=headers)
    assert {uuid.UUID(i["system_id"]) for i in missing.json()["items"]} == {clinic, personal, high}
    everything = await stack.risk.get(f"{BASE}/required", headers=headers)
    row = next(i for i in everything.json()["items"] if i["system_id"] == str(people))
    assert row["has_current_assessment"] is True
    assert row["approved_assessment_id"] == created["id"]
    assert row["latest_status"] == "approved"

    # Paging: one at a time, every system once.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1, "missing": "true"}
        if cursor:
            params["after"] = cursor
        page = (await stack.risk.get(f"{BASE}/required", params=params, headers=headers)).json()
        seen += [i["system_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(str(s) for s in (clinic, personal, high))


async def test_create_update_submit_approve_and_supersede(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await put_system(stack, js, org, sector="hiring_employment")
    headers = {**editor(stack, org), "Idempotency-Key": "ia-1"}
    body = {"system_id": str(system_id), "purpose": "Rank applications"}
    first = await stack.risk.post(BASE, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await stack.risk.post(BASE, json=body, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    draft = first.json()
    assert draft["status"] == "draft" and draft["version"] == 1 and draft["created_by"] == "alice"
    url = f"{BASE}/{draft['id']}"

    assert (
        await stack.risk.patch(url, json=COMPLETE, headers=editor(stack, org))
    ).status_code == 428
    stale = await stack.risk.patch(
        url, json=COMPLETE, headers={**editor(stack, org), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    updated = await stack.risk.patch(
        url, json=COMPLETE, headers={**editor(stack, org), "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == '"2"'
    assert updated.json()["impacts_on_individuals"][0]["likelihood"] == "possible"
    assert updated.json()["next_review_at"] == REVIEW

    # Not in review yet: cannot approve.
    early = await stack.risk.post(f"{url}/approve", headers=manager(stack, org))
    assert early.status_code == 409
    approved = await submit_and_approve(stack, org, draft["id"])
    assert approved["status"] == "approved"
    assert approved["approved_by"] == "bob" and approved["approved_at"]
    assert approved["submitted_by"] == "alice"
    assert approved["version"] == 4

    # Only a draft can be changed.
    late = await stack.risk.patch(
        url, json={"purpose": "x"}, headers={**editor(stack, org), "If-Match": '"4"'}
    )
    assert late.status_code == 409
    assert late.json()["code"] == "impact-assessment-not-editable"

    # A newer approved assessment supersedes it.
    second = await create(stack, org, system_id, COMPLETE)
    await submit_and_approve(stack, org, second["id"], approver="carol")
    old = (await stack.risk.get(url, headers=editor(stack, org))).json()
    assert old["status"] == "superseded" and old["superseded_by"] == second["id"]
    approved_list = await stack.risk.get(
        BASE, params={"system_id": str(system_id), "status": "approved"}, headers=editor(stack, org)
    )
    assert [a["id"] for a in approved_list.json()["items"]] == [second["id"]]

    history = (await stack.risk.get(f"{url}/history", headers=editor(stack, org))).json()
    assert [h["action"] for h in history["items"]] == [
        "superseded",
        "approved",
        "submitted",
        "updated",
        "created",
    ]
    assert history["items"][1]["changed_by"] == "bob"

    # Every change went out as an event with the full state and version.
    db = stack.apps["risk"].state.ctx.db
    async with db.sessions() as session:
        rows = (
            await session.execute(
                sa.select(outbox_table.c.type, outbox_table.c.envelope)
                .where(outbox_table.c.envelope["subject"].astext == draft["id"])
                .order_by(outbox_table.c.seq)
            )
        ).all()
    assert [r.type for r in rows] == [
        "aims.risk.impact_assessment.created",
        "aims.risk.impact_assessment.updated",
        "aims.risk.impact_assessment.updated",
        "aims.risk.impact_assessment.approved",
        "aims.risk.impact_assessment.updated",
    ]
    assert [r.envelope["dataversion"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[3].envelope["data"]["status"] == "approved"


async def test_submitting_an_incomplete_assessment_lists_every_missing_item(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    """Refused at submission, not only at approval: a reviewer never receives an assessment
    that cannot be approved as it stands. (Submission and approval run the same completeness
    check, so the EU AI Act Art. 27 fields are listed here too whenever they are required.)"""
    system_id = await put_system(stack, js, org, affected_stakeholders=["applicants"])
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    draft = await create(
        stack, org, system_id, {"mitigation_measures": [], "next_review_at": yesterday}
    )
    refused = await stack.risk.post(f"{BASE}/{draft['id']}/submit", headers=editor(stack, org))
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "impact-assessment-incomplete"
    assert {tuple(e["location"]) for e in problem["errors"]} == {("body", f) for f in BASE_FIELDS}
    assert set(problem["missing"]) == BASE_FIELDS
    dated = next(e for e in problem["errors"] if e["location"] == ["body", "next_review_at"])
    assert dated["type"] == "in_past"
    # Refused means unchanged: still a draft at version 1, nothing for a reviewer to see.
    kept = (await stack.risk.get(f"{BASE}/{draft['id']}", headers=editor(stack, org))).json()
    assert kept["status"] == "draft" and kept["version"] == 1

    # One item short: exactly that item is listed.
    almost = await create(
        stack, org, system_id, {k: v for k, v in COMPLETE.items() if k != "monitoring"}
    )
    one = await stack.risk.post(f"{BASE}/{almost['id']}/submit", headers=editor(stack, org))
    assert one.status_code == 422
    assert one.json()["missing"] == ["monitoring"]
    complete = await create(stack, org, system_id, COMPLETE)
    approved = await submit_and_approve(stack, org, complete["id"])
    assert approved["status"] == "approved"


async def test_author_cannot_approve_and_roles_apply(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await put_system(stack, js, org, sector="education")
    own = await create(stack, org, system_id, COMPLETE, headers=manager(stack, org, "dana"))
    await stack.risk.post(f"{BASE}/{own['id']}/submit", headers=manager(stack, org, "dana"))
    refused = await stack.risk.post(
        f"{BASE}/{own['id']}/approve", headers=manager(stack, org, "dana")
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "separation-of-duties"
    # An editor who is not a manager or admin cannot approve at all.
    editor_try = await stack.risk.post(
        f"{BASE}/{own['id']}/approve", headers=editor(stack, org, "erin")
    )
    assert editor_try.status_code == 403

    viewer = stack.headers(org, "viewer")
    denied = await stack.risk.post(BASE, json={"system_id": str(system_id)}, headers=viewer)
    assert denied.status_code == 403
    assert (await stack.risk.get(f"{BASE}/{own['id']}", headers=viewer)).status_code == 200


async def test_another_organisation_sees_nothing(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await put_system(stack, js, org, affected_stakeholders=["patients"])
    created = await create(stack, org, system_id, {"purpose": "Triage"})
    other = uuid7()
    headers = stack.headers(other, "admin")
    assert (await stack.risk.get(f"{BASE}/{created['id']}", headers=headers)).status_code == 404
    assert (await stack.risk.get(BASE, headers=headers)).json()["items"] == []
    assert (await stack.risk.get(f"{BASE}/required", headers=headers)).json()["items"] == []
    patch = await stack.risk.patch(
        f"{BASE}/{created['id']}", json={"purpose": "x"}, headers={**headers, "If-Match": '"1"'}
    )
    assert patch.status_code == 404
    # Nor can it start an assessment of this organisation's system.
    foreign = await stack.risk.post(BASE, json={"system_id": str(system_id)}, headers=headers)
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["location"] == ["body", "system_id"]


async def test_bad_input_is_a_422_problem_with_locations(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await put_system(stack, js, org)
    bad = {
        "system_id": str(system_id),
        "impacts_on_society": [{"description": "x", "severity": "huge"}],
        "stakeholders": [{"name": ""}],
        "surprise": 1,
    }
    response = await stack.risk.post(BASE, json=bad, headers=editor(stack, org))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    locations = [e["location"] for e in response.json()["errors"]]
    assert ["body", "impacts_on_society", "0", "severity"] in locations
    assert ["body", "stakeholders", "0", "name"] in locations
    assert ["body", "stakeholders", "0", "how_affected"] in locations
    assert ["body", "surprise"] in locations

    missing_system = await stack.risk.post(BASE, json={}, headers=editor(stack, org))
    assert ["body", "system_id"] in [e["location"] for e in missing_system.json()["errors"]]
    created = await create(stack, org, system_id, {})
    null_list = await stack.risk.patch(
        f"{BASE}/{created['id']}",
        json={"stakeholders": None},
        headers={**editor(stack, org), "If-Match": '"1"'},
    )
    assert null_list.status_code == 422
    assert null_list.json()["errors"][0]["location"] == ["body", "stakeholders"]


async def test_fundamental_rights_risk_and_classification_role_count(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    """Reasons from real rows: a register risk flagging fundamental rights (ISO/IEC 42001
    A.5.4), a classification that puts Art. 27(1) on the organisation (law), and the
    organisation's full-assessment policy (policy). The missing Art. 27(1)(a)-(f) items say
    which of law or policy asks for them."""
    flagged = await put_system(stack, js, org)
    risk = await stack.risk.post(
        "/v1/risks",
        json={
            "system_id": str(flagged),
            "title": "Applicants denied a fair hearing",
            "domain_id": "1",
            "subdomain_id": "1.1",
            "entity": "ai",
            "intent": "unintentional",
            "timing": "post_deployment",
            "likelihood": 2,
            "severity": 3,
            "fundamental_rights": True,
        },
        headers=editor(stack, org),
    )
    assert risk.status_code == 201, risk.text
    deployed = await put_system(stack, js, org)
    await classify(stack, org, deployed, **PUBLIC_DEPLOYER)
    private = await put_system(stack, js, org)
    await classify(stack, org, private, **PRIVATE_DEPLOYER)

    listed = await stack.risk.get(f"{BASE}/required", headers=editor(stack, org))
    by_id = {i["system_id"]: i for i in listed.json()["items"]}
    assert by_id[str(flagged)]["reasons"] == ["fundamental_rights_risk"]
    assert by_id[str(flagged)]["fundamental_rights_fields_required"] is False
    assert by_id[str(deployed)]["reasons"] == ["eu_ai_act_art_27"]
    assert by_id[str(deployed)]["fundamental_rights_fields_required"] is True
    assert str(private) not in by_id  # high-risk, but Art. 27(1) does not name it

    policy = await stack.risk.put(
        "/v1/risk-policy",
        json={"require_impact_assessment_for_all_high_risk": True},
        headers=manager(stack, org),
    )
    assert policy.status_code == 200, policy.text
    listed = await stack.risk.get(f"{BASE}/required", headers=editor(stack, org))
    by_id = {i["system_id"]: i for i in listed.json()["items"]}
    assert by_id[str(private)]["reasons"] == ["high_risk_policy"]
    assert by_id[str(private)]["fundamental_rights_fields_required"] is True
    assert by_id[str(deployed)]["reasons"] == ["eu_ai_act_art_27", "high_risk_policy"]
    assert str(flagged) in by_id and by_id[str(flagged)]["reasons"] == ["fundamental_rights_risk"]

    # Submitting without the Art. 27(1)(a)-(f) fields lists them, naming the basis.
    expected = {"fundamental_rights." + f for f in ART_27_FIELDS}
    for system_id, basis in (
        (deployed, "Art. 27(1) binds your organisation"),
        (
            private,
            "your organisation's risk policy requires a full assessment of every high-risk system",
        ),
    ):
        draft = await create(stack, org, system_id, COMPLETE)
        refused = await stack.risk.post(f"{BASE}/{draft['id']}/submit", headers=editor(stack, org))
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert set(problem["missing"]) == expected
        messages = [e["message"] for e in problem["errors"]]
        assert all(basis in m for m in messages), messages
        assert not any("deploys it" in m for m in messages)
