"""Competence and awareness (ISO/IEC 42001 7.2, 7.3) through the REST API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.db import uuid7
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()


async def post(
    stack: EvidenceStack, org: uuid.UUID, path: str, body: dict[str, Any], role: str = "contributor"
) -> Any:
    return await stack.evidence.post(path, json=body, headers=stack.headers(org, role))


async def create(
    stack: EvidenceStack, org: uuid.UUID, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await post(stack, org, path, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def person(
    stack: EvidenceStack, org: uuid.UUID, name: str, department: str | None = None, **kw: Any
) -> dict[str, Any]:
    return await create(stack, org, "/v1/people", {"name": name, "department": department, **kw})


async def competence(stack: EvidenceStack, org: uuid.UUID, name: str, **kw: Any) -> dict[str, Any]:
    return await create(stack, org, "/v1/competences", {"name": name, **kw})


async def train(
    stack: EvidenceStack,
    org: uuid.UUID,
    who: dict[str, Any],
    what: dict[str, Any],
    *,
    completed: date = TODAY - timedelta(days=10),
    result: str = "effective",
    **kw: Any,
) -> dict[str, Any]:
    body = {
        "person_id": who["id"],
        "competence_id": what["id"],
        "title": f"Course in {what['name']}",
        "completed_at": completed.isoformat(),
        "evaluation_result": result,
        **kw,
    }
    return await create(stack, org, "/v1/trainings", body)


async def role(
    stack: EvidenceStack, org: uuid.UUID, name: str, *required: dict[str, Any]
) -> dict[str, Any]:
    body = {"name": name, "required_competence_ids": [c["id"] for c in required]}
    return await create(stack, org, "/v1/aims-roles", body)


async def assign(
    stack: EvidenceStack, org: uuid.UUID, the_role: dict[str, Any], who: dict[str, Any]
) -> None:
    await create(
        stack, org, f"/v1/aims-roles/{the_role['id']}/assignments", {"person_id": who["id"]}
    )


async def gaps(stack: EvidenceStack, org: uuid.UUID, role: str = "auditor") -> dict[str, Any]:
    response = await stack.evidence.get("/v1/competence/gaps", headers=stack.headers(org, role))
    assert response.status_code == 200, response.text
    return {g["role_name"]: g for g in response.json()["items"]}


# --- Gaps -------------------------------------------------------------------------------------


async def test_holders_missing_one_of_two_required_competences_show_as_gaps_with_reasons(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    risk = await competence(stack, org, "AI risk assessment")
    audit = await competence(stack, org, "ISO/IEC 42001 auditing")
    owner = await role(stack, org, "Risk owner", risk, audit)
    ada = await person(stack, org, "Ada", "Data science")
    bob = await person(stack, org, "Bob", "Compliance")
    cy = await person(stack, org, "Cy", "Compliance")
    for who in (ada, bob, cy):
        await assign(stack, org, owner, who)
    await train(stack, org, ada, risk)
    await train(stack, org, ada, audit)  # Ada holds both
    await train(stack, org, bob, risk)  # Bob never trained in auditing
    await train(stack, org, cy, risk, result="pending")
    await train(stack, org, cy, audit, result="not_effective")

    found = (await gaps(stack, org))["Risk owner"]

    assert found["holder_count"] == 3 and found["no_holders"] is False
    reasons = {(g["person_name"], g["competence_name"]): g["reason"] for g in found["gaps"]}
    assert reasons == {
        ("Bob", "ISO/IEC 42001 auditing"): "never_trained",
        ("Cy", "AI risk assessment"): "evaluation_pending",
        ("Cy", "ISO/IEC 42001 auditing"): "evaluated_not_effective",
    }
    detail = next(g["detail"] for g in found["gaps"] if g["person_name"] == "Bob")
    assert "Never trained in ISO/IEC 42001 auditing" in detail


async def test_an_expired_training_is_a_gap_and_a_role_no_one_holds_is_one_too(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    policy = await competence(stack, org, "AI policy", validity_months=12)
    owner = await role(stack, org, "AI system owner", policy)
    await role(stack, org, "Internal auditor")
    eve = await person(stack, org, "Eve")
    await assign(stack, org, owner, eve)
    long_ago = date(2020, 3, 15)
    old = await train(stack, org, eve, policy, completed=long_ago)
    assert old["expires_at"] == "2021-03-15" and old["expires_at_explicit"] is False
    assert old["valid"] is False

    found = await gaps(stack, org)

    [gap] = found["AI system owner"]["gaps"]
    assert gap["reason"] == "expired" and gap["expired_on"] == "2021-03-15"
    assert "expired on 2021-03-15" in gap["detail"]
    unheld = found["Internal auditor"]
    assert unheld["no_holders"] is True and unheld["detail"] == "No one holds this role."

    # Renewing the training closes the gap; the role with no holders stays listed.
    await train(stack, org, eve, policy, completed=TODAY)
    after = await gaps(stack, org)
    assert "AI system owner" not in after and "Internal auditor" in after


async def test_ending_an_assignment_or_deactivating_a_person_removes_them_as_holder(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Model validation")
    validator = await role(stack, org, "Validator", skill)
    ann, ben = await person(stack, org, "Ann"), await person(stack, org, "Ben")
    await assign(stack, org, validator, ann)
    await assign(stack, org, validator, ben)
    again = await post(
        stack, org, f"/v1/aims-roles/{validator['id']}/assignments", {"person_id": ann["id"]}
    )
    assert again.status_code == 409, again.text

    ended = await stack.evidence.delete(
        f"/v1/aims-roles/{validator['id']}/assignments/{ann['id']}",
        headers=stack.headers(org, "contributor"),
    )
    assert ended.status_code == 204
    read = await stack.evidence.get(
        f"/v1/aims-roles/{validator['id']}", headers=stack.headers(org, "viewer")
    )
    assert read.json()["holder_ids"] == [ben["id"]]

    current = await stack.evidence.get(f"/v1/people/{ben['id']}", headers=stack.headers(org))
    off = await stack.evidence.patch(
        f"/v1/people/{ben['id']}",
        json={"active": False},
        headers={**stack.headers(org, "contributor"), "If-Match": current.headers["ETag"]},
    )
    assert off.status_code == 200, off.text
    assert (await gaps(stack, org))["Validator"]["no_holders"] is True


# --- Awareness --------------------------------------------------------------------------------


async def test_awareness_coverage_by_department_lists_who_misses_what(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    policy = await competence(stack, org, "AI policy awareness", awareness=True)
    ethics = await competence(stack, org, "AI ethics awareness", awareness=True)
    await competence(stack, org, "Python")  # not an awareness topic: never required
    sales = [await person(stack, org, f"Sales {i}", "Sales") for i in range(4)]
    eng = [await person(stack, org, f"Eng {i}", "Engineering") for i in range(2)]
    await person(stack, org, "Gone", "Sales", active=False)
    for who in (*sales[:3], *eng):
        await train(stack, org, who, policy)
    for who in (*sales[:2], eng[0]):
        await train(stack, org, who, ethics)
    await train(stack, org, eng[1], ethics, result="partially_effective")

    response = await stack.evidence.get(
        "/v1/competence/awareness", headers=stack.headers(org, "viewer")
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert {t["name"] for t in report["topics"]} == {"AI policy awareness", "AI ethics awareness"}
    by_department = {d["department"]: d for d in report["departments"]}
    assert (by_department["Sales"]["people"], by_department["Sales"]["covered"]) == (4, 2)
    assert by_department["Sales"]["coverage"] == 0.5
    assert (by_department["Engineering"]["people"], by_department["Engineering"]["covered"]) == (
        2,
        1,
    )
    assert (report["people"], report["covered"]) == (6, 3)
    missing = {m["person_name"]: m["missing"] for m in by_department["Sales"]["missing"]}
    assert set(missing) == {"Sales 2", "Sales 3"}
    assert [t["reason"] for t in missing["Sales 3"]] == ["never_trained", "never_trained"]
    [eng_missing] = by_department["Engineering"]["missing"]
    assert eng_missing["person_name"] == "Eng 1"
    assert eng_missing["missing"][0]["reason"] == "evaluated_partially_effective"


# --- Names and conflicts ----------------------------------------------------------------------


async def test_competence_names_collide_ignoring_case_including_non_ascii(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    await competence(stack, org, "Équipe de gouvernance IA")
    for clash in (
        "équipe de gouvernance ia",
        "ÉQUIPE DE GOUVERNANCE IA",
        "E\u0301quipe de gouvernance IA",
    ):
        response = await post(stack, org, "/v1/competences", {"name": clash})
        assert response.status_code == 409, (clash, response.text)
        assert response.json()["code"] == "name-taken"
    # Accents are not case: a different name.
    assert (
        await post(stack, org, "/v1/competences", {"name": "Equipe de gouvernance IA"})
    ).status_code == 201
    # Another organisation may use the name.
    assert (
        await post(stack, uuid7(), "/v1/competences", {"name": "équipe de gouvernance ia"})
    ).status_code == 201


async def test_concurrent_creates_of_one_name_give_one_201_and_409s_never_500(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    names = ["Straße-Kompetenz", "STRASSE-KOMPETENZ", "straße-kompetenz", "Strasse-Kompetenz"]
    responses = await asyncio.gather(
        *(post(stack, org, "/v1/competences", {"name": n}) for n in names)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409], [r.text for r in responses]

    roles = await asyncio.gather(
        *(
            post(stack, org, "/v1/aims-roles", {"name": n})
            for n in ("Risk Owner", "risk owner", "RISK OWNER")
        )
    )
    assert sorted(r.status_code for r in roles) == [201, 409, 409]

    emails = await asyncio.gather(
        *(
            post(stack, org, "/v1/people", {"name": f"P{i}", "email": e})
            for i, e in enumerate(("Zoë@Example.com", "zoë@example.com", "ZOË@EXAMPLE.COM"))
        )
    )
    assert sorted(r.status_code for r in emails) == [201, 409, 409]
    listed = await stack.evidence.get("/v1/people", headers=stack.headers(org))
    assert len(listed.json()["items"]) == 1


async def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_result(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    headers = {**stack.headers(org, "contributor"), "Idempotency-Key": "create-ada"}
    first = await stack.evidence.post("/v1/people", json={"name": "Ada"}, headers=headers)
    second = await stack.evidence.post("/v1/people", json={"name": "Ada"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"


# --- Concurrency control, validation, tenancy, roles ------------------------------------------


async def test_updates_need_if_match_428_and_a_stale_one_is_412(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Data quality")
    path = f"/v1/competences/{skill['id']}"
    headers = stack.headers(org, "contributor")

    missing = await stack.evidence.patch(path, json={"validity_months": 6}, headers=headers)
    assert missing.status_code == 428
    ok = await stack.evidence.patch(
        path, json={"validity_months": 6}, headers={**headers, "If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = await stack.evidence.patch(
        path, json={"validity_months": 9}, headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    read = await stack.evidence.get(path, headers=headers)
    assert read.json()["validity_months"] == 6

    # The evaluation of a training is recorded the same way.
    ada = await person(stack, org, "Ada")
    t = await train(stack, org, ada, skill, result="pending")
    t_path = f"/v1/trainings/{t['id']}"
    assert (
        await stack.evidence.patch(t_path, json={"evaluation_result": "effective"}, headers=headers)
    ).status_code == 428
    evaluated = await stack.evidence.patch(
        t_path,
        json={
            "evaluation_result": "effective",
            "evaluation_method": "test",
            "evaluated_at": TODAY.isoformat(),
            "evaluated_by": "head of compliance",
        },
        headers={**headers, "If-Match": '"1"'},
    )
    assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json()["valid"] is True and evaluated.json()["evaluation_method"] == "test"


async def test_nul_characters_and_bad_input_answer_4xx_and_store_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    for path, body in (
        ("/v1/people", {"name": "Ada\x00"}),
        ("/v1/people", {"name": "Ada", "email": "a\x00@example.com"}),
        ("/v1/people", {"name": "Ada", "department": "R&D\x00"}),
        ("/v1/competences", {"name": "AI\x00 policy"}),
        ("/v1/competences", {"name": "AI policy", "description": "x\x00"}),
        ("/v1/aims-roles", {"name": "Owner\x00"}),
    ):
        response = await post(stack, org, path, body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    invalid: list[dict[str, Any]] = [
        {"name": "x", "validity_months": 0},
        {"name": "x", "validity_months": 10**12},
        {"name": ""},
        {"name": "x", "unknown": 1},
    ]
    for invalid_body in invalid:
        response = await post(stack, org, "/v1/competences", invalid_body)
        assert response.status_code == 422, invalid_body
    headers = stack.headers(org)
    for path in ("/v1/people", "/v1/competences", "/v1/aims-roles"):
        listed = await stack.evidence.get(path, headers=headers)
        assert listed.json()["items"] == [], path

    nul_query = await stack.evidence.get(
        "/v1/people", params={"department": "a\x00"}, headers=headers
    )
    assert nul_query.status_code == 422
    unknown = await stack.evidence.get("/v1/trainings", params={"persn_id": "x"}, headers=headers)
    assert unknown.status_code == 400 and "person_id" in unknown.json()["detail"]
    bad_limit = await stack.evidence.get("/v1/people", params={"limit": 10**9}, headers=headers)
    assert bad_limit.status_code == 422
    bad_cursor = await stack.evidence.get("/v1/people", params={"after": "!!"}, headers=headers)
    assert bad_cursor.status_code == 400

    ada = await person(stack, org, "Ada")
    skill = await competence(stack, org, "Skill", validity_months=12)
    future = await post(
        stack,
        org,
        "/v1/trainings",
        {
            "person_id": ada["id"],
            "competence_id": skill["id"],
            "title": "Future",
            "completed_at": (TODAY + timedelta(days=3)).isoformat(),
        },
    )
    assert future.status_code == 422 and "future" in future.text
    backwards = await post(
        stack,
        org,
        "/v1/trainings",
        {
            "person_id": ada["id"],
            "competence_id": skill["id"],
            "title": "Backwards",
            "completed_at": "2026-01-10",
            "expires_at": "2026-01-01",
        },
    )
    assert backwards.status_code == 422
    nobody = await post(
        stack,
        org,
        "/v1/trainings",
        {
            "person_id": str(uuid7()),
            "competence_id": skill["id"],
            "title": "x",
            "completed_at": "2026-01-10",
        },
    )
    assert nobody.status_code == 422 and nobody.json()["code"] == "unknown-reference"
    listed = await stack.evidence.get("/v1/trainings", headers=headers)
    assert listed.json()["items"] == []


async def test_another_organisation_sees_nothing_and_gets_404(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Secret skill")
    ada = await person(stack, org, "Ada")
    owner = await role(stack, org, "Owner", skill)
    t = await train(stack, org, ada, skill)
    other = uuid7()
    oh = stack.headers(other, "admin")
    for path in (
        f"/v1/people/{ada['id']}",
        f"/v1/people/{ada['id']}/trainings",
        f"/v1/competences/{skill['id']}",
        f"/v1/aims-roles/{owner['id']}",
        f"/v1/aims-roles/{owner['id']}/assignments",
        f"/v1/trainings/{t['id']}",
    ):
        assert (await stack.evidence.get(path, headers=oh)).status_code == 404, path
    patched = await stack.evidence.patch(
        f"/v1/people/{ada['id']}", json={"name": "Mallory"}, headers={**oh, "If-Match": '"1"'}
    )
    assert patched.status_code == 404
    # Referring to another org's person or competence is an unknown reference.
    mine = await person(stack, other, "Mine")
    foreign = await post(
        stack,
        other,
        "/v1/trainings",
        {
            "person_id": mine["id"],
            "competence_id": skill["id"],
            "title": "x",
            "completed_at": "2026-01-10",
        },
    )
    assert foreign.status_code == 422
    assigned = await post(
        stack, other, f"/v1/aims-roles/{owner['id']}/assignments", {"person_id": mine["id"]}
    )
    assert assigned.status_code == 404
    listed = await stack.evidence.get("/v1/trainings", params={"id": t["id"]}, headers=oh)
    assert listed.json()["items"] == []
    assert (await gaps(stack, other)) == {}


async def test_the_auditor_reads_everything_and_can_change_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Auditing")
    ada = await person(stack, org, "Ada")
    owner = await role(stack, org, "Internal auditor", skill)
    t = await train(stack, org, ada, skill)
    auditor = stack.headers(org, "auditor")
    for path in (
        "/v1/people",
        f"/v1/people/{ada['id']}/trainings",
        "/v1/competences",
        "/v1/aims-roles",
        f"/v1/aims-roles/{owner['id']}/assignments",
        "/v1/trainings",
        "/v1/competence/gaps",
        "/v1/competence/awareness",
    ):
        assert (await stack.evidence.get(path, headers=auditor)).status_code == 200, path
    writes = [
        stack.evidence.post("/v1/people", json={"name": "Bob"}, headers=auditor),
        stack.evidence.post("/v1/competences", json={"name": "New"}, headers=auditor),
        stack.evidence.post("/v1/aims-roles", json={"name": "New"}, headers=auditor),
        stack.evidence.post(
            f"/v1/aims-roles/{owner['id']}/assignments",
            json={"person_id": ada["id"]},
            headers=auditor,
        ),
        stack.evidence.patch(
            f"/v1/trainings/{t['id']}",
            json={"evaluation_result": "not_effective"},
            headers={**auditor, "If-Match": '"1"'},
        ),
        stack.evidence.delete(f"/v1/people/{ada['id']}", headers={**auditor, "If-Match": '"1"'}),
    ]
    for response in await asyncio.gather(*writes):
        assert response.status_code == 403, response.text
    people = await stack.evidence.get("/v1/people", headers=auditor)
    assert [p["name"] for p in people.json()["items"]] == ["Ada"]


async def test_deletes_are_for_admins_and_managers_and_refused_while_referenced(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    skill = await competence(stack, org, "Skill")
    ada, bob = await person(stack, org, "Ada"), await person(stack, org, "Bob")
    owner = await role(stack, org, "Owner", skill)
    await assign(stack, org, owner, ada)
    manager = {**stack.headers(org, "manager"), "If-Match": '"1"'}

    by_contributor = await stack.evidence.delete(
        f"/v1/people/{bob['id']}", headers={**stack.headers(org, "contributor"), "If-Match": '"1"'}
    )
    assert by_contributor.status_code == 403
    held = await stack.evidence.delete(f"/v1/people/{ada['id']}", headers=manager)
    assert held.status_code == 409 and held.json()["code"] == "still-referenced"
    role_held = await stack.evidence.delete(
        f"/v1/aims-roles/{owner['id']}", headers={**manager, "If-Match": "*"}
    )
    assert role_held.status_code == 409
    required = await stack.evidence.delete(f"/v1/competences/{skill['id']}", headers=manager)
    assert required.status_code == 409

    assert (
        await stack.evidence.delete(f"/v1/people/{bob['id']}", headers=manager)
    ).status_code == 204
    assert (await stack.evidence.get(f"/v1/people/{bob['id']}", headers=manager)).status_code == 404
    await stack.evidence.delete(
        f"/v1/aims-roles/{owner['id']}/assignments/{ada['id']}", headers=manager
    )
    gone = await stack.evidence.delete(
        f"/v1/aims-roles/{owner['id']}", headers={**manager, "If-Match": "*"}
    )
    assert gone.status_code == 204
    assert (
        await stack.evidence.delete(f"/v1/competences/{skill['id']}", headers=manager)
    ).status_code == 204


async def test_lists_paginate_batch_and_filter_trainings(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    headers = stack.headers(org)
    skills = [await competence(stack, org, f"Skill {i}", validity_months=12) for i in range(3)]
    ada = await person(stack, org, "Ada")
    bob = await person(stack, org, "Bob")
    recent = TODAY - timedelta(days=30)
    made = [await train(stack, org, ada, s, completed=recent) for s in skills]
    forever = await competence(stack, org, "Skill without validity")
    no_expiry = await train(stack, org, bob, forever, completed=recent)
    assert no_expiry["expires_at"] is None

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": cursor} if cursor else {})}
        page = (await stack.evidence.get("/v1/trainings", params=params, headers=headers)).json()
        seen += [t["id"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [*(t["id"] for t in made), no_expiry["id"]]

    batch = await stack.evidence.get(
        "/v1/competences",
        params=[("id", skills[0]["id"]), ("id", skills[2]["id"])],
        headers=headers,
    )
    assert [c["name"] for c in batch.json()["items"]] == ["Skill 0", "Skill 2"]
    of_bob = await stack.evidence.get(f"/v1/people/{bob['id']}/trainings", headers=headers)
    assert [t["id"] for t in of_bob.json()["items"]] == [no_expiry["id"]]
    by_filter = await stack.evidence.get(
        "/v1/trainings",
        params={"person_id": ada["id"], "competence_id": skills[1]["id"]},
        headers=headers,
    )
    assert [t["id"] for t in by_filter.json()["items"]] == [made[1]["id"]]
    expiring = await stack.evidence.get(
        "/v1/trainings",
        params={"expiring_before": (recent + timedelta(days=400)).isoformat()},
        headers=headers,
    )
    assert {t["id"] for t in expiring.json()["items"]} == {t["id"] for t in made}
