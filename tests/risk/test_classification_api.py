"""EU AI Act classification through the risk service's REST API, its events and reclassification."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from shared.db import utcnow, uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines

CV_SCREENING = {"role": "provider", "annex_iii_area": "4", "annex_iii_point": "4(a)"}
CHATBOT = {"role": "deployer", "transparency": ["interacts_with_people"]}


@pytest.fixture
async def js(stack: Any) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(stack.engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


def state(system_id: uuid.UUID, org: uuid.UUID, **facts: Any) -> dict[str, Any]:
    return {
        "id": str(system_id),
        "org_id": str(org),
        "name": "CV screening",
        "lifecycle_stage": "deployed",
        "intended_purpose": "Rank job applications",
        "sector": "employment",
        "data_inputs": [],
        "ai_roles": ["provider"],
        "affected_stakeholders": ["applicants"],
        **facts,
    }


async def publish(
    stack: Any, js: JetStreamContext, type_: str, org: uuid.UUID, version: int, data: dict[str, Any]
) -> None:
    event = {
        "specversion": "1.0",
        "id": str(uuid7()),
        "source": "/aims/inventory",
        "type": type_,
        "time": utcnow().isoformat(),
        "subject": data["id"],
        "orgid": str(org),
        "dataversion": version,
        "data": data,
    }
    await js.publish(
        stack.engines.subject_prefix + type_,
        json.dumps(event).encode(),
        headers={"Nats-Msg-Id": event["id"]},
    )


async def known_system(stack: Any, js: JetStreamContext, org: uuid.UUID) -> uuid.UUID:
    """A system the risk service knows (through a synthetic inventory event)."""
    system_id = uuid7()
    await publish(stack, js, "aims.inventory.system.registered", org, 1, state(system_id, org))
    headers = stack.headers(org, "viewer")

    async def arrived() -> bool:
        response = await stack.risk.get(f"/v1/systems/{system_id}", headers=headers)
        return response.status_code == 200

    await eventually(arrived)
    return system_id


async def test_questionnaire_lists_questions_from_the_reference(stack: Any, org: uuid.UUID) -> None:
    response = await stack.risk.get(
        "/v1/eu-ai-act/questionnaire", headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200
    questions = {q["id"]: q for q in response.json()["questions"]}
    assert {o["value"] for o in questions["role"]["options"]} == {
        "provider",
        "deployer",
        "importer",
        "distributor",
    }
    assert len(questions["prohibited_practices"]["options"]) == 8
    assert len(questions["annex_iii_points"]["options"]) == 25
    assert questions["annex_iii_points"]["kind"] == "multiple"
    assert len(questions["exemption"]["options"]) == 4
    # Issue 9: the Art. 5 exceptions, Art. 2 exits, Art. 27/49(3) deployers, Annex I
    # legislation, Annex III carve-outs and the provider's Art. 6(3) assessment are asked.
    assert {o["ref"] for o in questions["art5_exceptions"]["options"]} == {
        "Art. 5(1)(d)",
        "Art. 5(1)(f)",
        "Art. 5(1)(g)",
        "Art. 5(1)(h)(i)",
        "Art. 5(1)(h)(ii)",
        "Art. 5(1)(h)(iii)",
    }
    assert {o["ref"] for o in questions["rbi_conditions"]["options"]} == {
        "Art. 5(2)",
        "Art. 5(3)",
        "Art. 5(5)",
    }
    assert {o["ref"] for o in questions["scope_exclusion"]["options"]} == {
        "Art. 2(3)",
        "Art. 2(6)",
        "Art. 2(8)",
        "Art. 2(10)",
    }
    assert len(questions["annex_i_legislation"]["options"]) == 20
    assert {o["group"] for o in questions["annex_i_legislation"]["options"]} == {"A", "B"}
    assert len(questions["annex_iii_carve_outs"]["options"]) == 4
    assert questions["deployer_category"]["shown_when"] == "role=deployer"
    assert questions["provider_documented_exemption"]["refs"] == ["Art. 6(4)", "Art. 49(2)"]
    assert {"gpai_open_source", "established_in_union", "value_chain_trigger"} <= set(questions)


SUMMARY_FIELDS = (
    "id",
    "system_id",
    "version",
    "current",
    "tier",
    "risk_level",
    "route",
    "articles",
    "classified_at",
    "classified_by",
    "reclassification_requested",
)


async def assert_summary_view_agrees(
    stack: Any, headers: dict[str, str], system_ids: list[uuid.UUID]
) -> None:
    """``view=summary`` of the batch answers the full view's values for its fields (``role``
    from the answers), and none of the rest."""
    params: dict[str, Any] = {"system_id": [str(i) for i in system_ids]}
    full = await stack.risk.get("/v1/classifications", params=params, headers=headers)
    summary = await stack.risk.get(
        "/v1/classifications", params={**params, "view": "summary"}, headers=headers
    )
    assert full.status_code == summary.status_code == 200, summary.text
    expected = [
        {**{k: item[k] for k in SUMMARY_FIELDS}, "role": item["answers"]["role"]}
        for item in full.json()["items"]
    ]
    assert summary.json()["items"] == expected
    assert len(expected) == len(system_ids)
    bad = await stack.risk.get(
        "/v1/classifications", params={**params, "view": "everything"}, headers=headers
    )
    assert bad.status_code == 422


async def test_classify_store_history_and_batch(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await known_system(stack, js, org)
    other_id = await known_system(stack, js, org)
    editor = stack.headers(org, "risk_owner", subject="rita")
    url = f"/v1/systems/{system_id}"

    missing = await stack.risk.get(f"{url}/classification", headers=editor)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    needed = await stack.risk.get("/v1/classifications/needed", headers=editor)
    assert {i["system_id"] for i in needed.json()["items"]} >= {str(system_id), str(other_id)}

    first = await stack.risk.post(f"{url}/classifications", json=CV_SCREENING, headers=editor)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["tier"], body["route"], body["version"]) == ("high", "annex_iii", 1)
    assert body["risk_level"] == "high"
    assert body["classified_by"] == "rita"
    assert body["answers"]["annex_iii_point"] == "4(a)"
    assert {"9", "16", "43"} <= {o["article"] for o in body["obligations"]}
    assert first.headers["etag"] == '"1"'

    second = await stack.risk.post(f"{url}/classifications", json=CHATBOT, headers=editor)
    assert (second.json()["tier"], second.json()["version"]) == ("limited", 2)

    current = await stack.risk.get(f"{url}/classification", headers=editor)
    assert (current.json()["version"], current.json()["current"]) == (2, True)

    page = await stack.risk.get(f"{url}/classifications?limit=1", headers=editor)
    assert [i["version"] for i in page.json()["items"]] == [2]
    cursor = page.json()["next_cursor"]
    rest = await stack.risk.get(f"{url}/classifications?limit=1&after={cursor}", headers=editor)
    assert [i["version"] for i in rest.json()["items"]] == [1]
    assert rest.json()["items"][0]["current"] is False
    assert rest.json()["next_cursor"] is None

    await stack.risk.post(
        f"/v1/systems/{other_id}/classifications", json=CV_SCREENING, headers=editor
    )
    batch = await stack.risk.get(
        "/v1/classifications",
        params={"system_id": [str(system_id), str(other_id), str(uuid7())]},
        headers=editor,
    )
    assert batch.status_code == 200
    assert {(i["system_id"], i["tier"]) for i in batch.json()["items"]} == {
        (str(system_id), "limited"),
        (str(other_id), "high"),
    }
    await assert_summary_view_agrees(stack, editor, [system_id, other_id])
    needed = await stack.risk.get("/v1/classifications/needed", headers=editor)
    assert not {i["system_id"] for i in needed.json()["items"]} & {str(system_id), str(other_id)}

    # The impact-assessment contract.
    from services.risk.classification.queries import current_tiers
    from shared.db import tenant_transaction

    db = stack.apps["risk"].state.ctx.db
    async with tenant_transaction(db, org) as session:
        assert await current_tiers(session) == {system_id: "limited", other_id: "high"}
        assert await current_tiers(session, [other_id]) == {other_id: "high"}
        assert await current_tiers(session, []) == {}


async def test_roles_unknown_systems_bad_answers_and_other_orgs(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await known_system(stack, js, org)
    url = f"/v1/systems/{system_id}/classifications"

    viewer = await stack.risk.post(url, json=CHATBOT, headers=stack.headers(org, "viewer"))
    assert viewer.status_code == 403

    unknown = await stack.risk.post(
        f"/v1/systems/{uuid7()}/classifications",
        json=CHATBOT,
        headers=stack.headers(org, "manager"),
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "system-not-known"

    bad = await stack.risk.post(
        url,
        json={
            "role": "provider",
            "annex_iii_point": "4(a)",
            "exemption": "preparatory_task",
            "prohibited_practices": ["5(1)(z)"],
        },
        headers=stack.headers(org, "manager"),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    locations = [e["location"] for e in bad.json()["errors"]]
    assert ["body", "prohibited_practices"] in locations

    no_rationale = await stack.risk.post(
        url,
        json={"role": "provider", "annex_iii_point": "4(a)", "exemption": "preparatory_task"},
        headers=stack.headers(org, "manager"),
    )
    assert no_rationale.status_code == 422
    assert "rationale" in json.dumps(no_rationale.json()["errors"])

    ok = await stack.risk.post(url, json=CHATBOT, headers=stack.headers(org, "manager"))
    assert ok.status_code == 201

    stranger = stack.headers(uuid7(), "admin")
    for path in (f"/v1/systems/{system_id}/classification", url):
        assert (await stack.risk.get(path, headers=stranger)).status_code == 404
    batch = await stack.risk.get(
        "/v1/classifications", params={"system_id": str(system_id)}, headers=stranger
    )
    assert batch.json()["items"] == []
    posted = await stack.risk.post(url, json=CHATBOT, headers=stack.headers(uuid7(), "admin"))
    assert posted.status_code == 404


async def test_facts_change_requests_reclassification(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    system_id = await known_system(stack, js, org)
    headers = stack.headers(org, "risk_owner")
    url = f"/v1/systems/{system_id}"
    created = await stack.risk.post(f"{url}/classifications", json=CV_SCREENING, headers=headers)
    assert created.json()["reclassification_requested"] is None

    # A name change is not a fact the classification relied on.
    await publish(
        stack, js, "aims.inventory.system.updated", org, 2, state(system_id, org, name="CV v2")
    )
    changed = state(system_id, org, name="CV v2", sector="education")
    await publish(stack, js, "aims.inventory.system.updated", org, 3, changed)

    async def requested() -> dict[str, Any] | None:
        response = await stack.risk.get(f"{url}/classification", headers=headers)
        flag = response.json()["reclassification_requested"]
        return dict(flag) if flag else None

    flag = await eventually(requested)
    assert flag["changed_facts"] == ["sector"]
    await assert_summary_view_agrees(stack, headers, [system_id])
    needed = await stack.risk.get("/v1/classifications/needed", headers=headers)
    mine = [i for i in needed.json()["items"] if i["system_id"] == str(system_id)]
    assert mine[0]["reason"] == "reclassification_requested"
    assert mine[0]["current_version"] == 1

    again = await stack.risk.post(f"{url}/classifications", json=CV_SCREENING, headers=headers)
    assert again.json()["version"] == 2
    assert again.json()["reclassification_requested"] is None


async def test_classified_event_is_published_and_mirrored(stack: Any, org: uuid.UUID) -> None:
    contributor = stack.headers(org, "contributor")
    registered = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": "Support chatbot", "intended_purpose": "Answer customer questions"},
        headers=contributor,
    )
    assert registered.status_code == 201, registered.text
    system_id = registered.json()["id"]

    async def projected() -> bool:
        response = await stack.risk.get(f"/v1/systems/{system_id}", headers=contributor)
        return response.status_code == 200

    await eventually(projected)

    nc = await nats.connect(stack.engines.nats_url)
    seen: list[dict[str, Any]] = []

    async def on_message(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    try:
        await nc.subscribe(
            stack.engines.subject_prefix + "aims.risk.system.classified", cb=on_message
        )
        classified = await stack.risk.post(
            f"/v1/systems/{system_id}/classifications", json=CHATBOT, headers=contributor
        )
        assert classified.status_code == 201, classified.text

        async def published() -> dict[str, Any] | None:
            mine = [e for e in seen if e["subject"] == system_id]
            return mine[0] if mine else None

        event = await eventually(published)
    finally:
        await nc.close()
    assert event["type"] == "aims.risk.system.classified"
    assert event["orgid"] == str(org)
    assert event["dataversion"] == 1
    data = event["data"]
    assert (data["system_id"], data["org_id"]) == (system_id, str(org))
    assert (data["tier"], data["risk_level"], data["route"]) == ("limited", "limited", "art50")
    assert data["answers"]["role"] == "deployer"
    assert data["version"] == 1
    assert {"articles", "obligations", "gpai_model", "gpai_systemic_risk"} <= set(data)
    assert {"annex_iii_area", "annex_iii_point", "exemption", "transparency"} <= set(data)
    assert {"annex_iii_points", "warnings", "art5_exceptions", "scope_exclusion"} <= set(data)
    assert [o["ref"] for o in data["obligations"]] == ["Art. 4"]  # 50(1) is the provider's

    runners = stack.apps["inventory"].state.ctx.runners
    if not any(r.handler.name == "risk-classification" for r in runners):
        pytest.skip("the inventory does not consume aims.risk.system.classified yet")

    async def mirrored() -> dict[str, Any] | None:
        response = await stack.inventory.get(f"/v1/ai-systems/{system_id}", headers=contributor)
        body = response.json()
        return dict(body) if body.get("eu_ai_act_tier") == "limited" else None

    system = await eventually(mirrored)
    assert system["risk_level"] == "limited"


async def test_duties_go_to_the_party_the_law_names(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    """Art. 27(1), 49(3), 86(1), 26 for deployers; 6(4) for the Art. 6(3) derogation; 5(1)(f)
    medical exception routed to Annex III 1(c); Art. 2(3) exit; GPAI route (Arts. 53-54)."""
    system_id = await known_system(stack, js, org)
    headers = stack.headers(org, "risk_owner")
    url = f"/v1/systems/{system_id}/classifications"

    async def classify(answers: dict[str, Any]) -> dict[str, Any]:
        response = await stack.risk.post(url, json=answers, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def refs(body: dict[str, Any]) -> set[str]:
        return {o["ref"] for o in body["obligations"]}

    private = await classify({"role": "deployer", "annex_iii_points": ["4(a)"]})
    assert (private["tier"], private["route"]) == ("high", "annex_iii")
    assert {"Art. 26", "Art. 86(1)"} <= refs(private)
    assert not {"Art. 27(1)", "Art. 49(3)"} & refs(private)

    public = await classify(
        {"role": "deployer", "annex_iii_points": ["4(a)"], "deployer_category": "public_authority"}
    )
    assert {"Art. 27(1)", "Art. 49(3)"} <= refs(public)

    critical = await classify(
        {"role": "deployer", "annex_iii_points": ["2"], "deployer_category": "public_authority"}
    )
    assert not {"Art. 27(1)", "Art. 49(3)", "Art. 86(1)"} & refs(critical)

    several = await classify({"role": "provider", "annex_iii_points": ["4(a)", "5(b)"]})
    assert several["annex_iii_points"] == ["4(a)", "5(b)"]
    assert {"Annex III point 4(a)", "Annex III point 5(b)"} <= set(several["articles"])
    assert several["answers"]["annex_iii_points"] == ["4(a)", "5(b)"]

    refused = await stack.risk.post(
        url,
        json={"role": "deployer", "annex_iii_points": ["4(a)"], "exemption": "preparatory_task"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "provider" in json.dumps(refused.json()["errors"])
    relied = await classify(
        {"role": "deployer", "annex_iii_points": ["4(a)"], "provider_documented_exemption": True}
    )
    assert (relied["tier"], relied["route"]) == ("minimal", "art6_3_exempt")
    assert relied["exemption_documented_by_provider"] is True

    medical = await classify(
        {
            "role": "provider",
            "prohibited_practices": ["5(1)(f)"],
            "art5_exceptions": ["emotion_recognition_medical_or_safety"],
        }
    )
    assert (medical["tier"], medical["route"]) == ("high", "annex_iii")
    assert medical["prohibited_practices"] == []
    assert {"Art. 5(1)(f)", "Annex III point 1(c)"} <= set(medical["articles"])

    prohibited = await classify(
        {
            "role": "deployer",
            "prohibited_practices": ["5(1)(f)"],
            "transparency": ["emotion_recognition_or_biometric_categorisation"],
        }
    )
    assert prohibited["tier"] == "prohibited"
    assert prohibited["obligations"] == [] and prohibited["transparency"] == []

    military = await classify(
        {"role": "provider", "scope_exclusion": "military_defence_national_security"}
    )
    assert (military["tier"], military["route"], military["articles"]) == (
        "minimal",
        "art2_excluded",
        ["Art. 2(3)"],
    )

    model = await classify({"role": "provider", "gpai_model": True, "established_in_union": False})
    assert model["route"] == "gpai"
    assert {"Art. 53(1)(a)", "Art. 53(1)(d)", "Art. 54(1)"} <= refs(model)


async def test_inventory_facts_pointing_to_annex_iii_give_a_warning(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    """Annex III area 4: the inventory's intended purpose ("Rank job applications") and sector
    point to employment, the answers name no Annex III point: the result warns."""
    system_id = await known_system(stack, js, org)
    headers = stack.headers(org, "risk_owner")
    url = f"/v1/systems/{system_id}/classifications"
    warned = await stack.risk.post(url, json=CHATBOT, headers=headers)
    assert warned.status_code == 201, warned.text
    warnings = warned.json()["warnings"]
    assert [(w["code"], w["annex_iii_area"]) for w in warnings] == [
        ("annex_iii_area_indicated", "4")
    ]
    assert "Annex III" in warnings[0]["message"]
    quiet = await stack.risk.post(url, json=CV_SCREENING, headers=headers)
    assert quiet.json()["warnings"] == []


async def test_classifications_stored_by_the_former_procedure_stay_readable(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    """Stored answers of the former questionnaire (a deployer's own Art. 6(3) claim, one
    Annex III point) still read back through the API after the Art. 6(4) rule."""
    from services.risk.classification.models import ClassificationRecord
    from shared.db import tenant_transaction

    system_id = await known_system(stack, js, org)
    old_answers = {
        "role": "deployer",
        "prohibited_practices": [],
        "annex_i_product": False,
        "annex_i_third_party_assessment": False,
        "annex_iii_area": "4",
        "annex_iii_point": "4(a)",
        "profiles_natural_persons": False,
        "exemption": "preparatory_task",
        "exemption_rationale": "Sorts applications",
        "transparency": [],
        "gpai_model": False,
        "gpai_systemic_risk": False,
    }
    old_result = {
        "tier": "minimal",
        "route": "art6_3_exempt",
        "articles": ["Art. 6(3)", "Art. 6(4)", "Annex III point 4(a)", "Art. 4"],
        "obligations": [
            {
                "article": "4",
                "title": "AI literacy",
                "role": "provider and deployer (all AI systems)",
                "kind": "obligation",
                "summary": "Ensure sufficient AI literacy",
            }
        ],
        "reasons": ["Exempt."],
        "prohibited_practices": [],
        "annex_iii_area": "4",
        "annex_iii_point": "4(a)",
        "exemption": "preparatory_task",
        "transparency": [],
        "gpai_model": False,
        "gpai_systemic_risk": False,
    }
    db = stack.apps["risk"].state.ctx.db
    async with tenant_transaction(db, org) as session:
        session.add(
            ClassificationRecord(
                org_id=org,
                system_id=system_id,
                version=1,
                is_current=True,
                role="deployer",
                tier="minimal",
                route="art6_3_exempt",
                answers=old_answers,
                result=old_result,
                classified_by="before-v2",
                reclassification_requested_at=None,
                reclassification_facts=[],
            )
        )
    response = await stack.risk.get(
        f"/v1/systems/{system_id}/classification", headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tier"], body["exemption"], body["annex_iii_point"]) == (
        "minimal",
        "preparatory_task",
        "4(a)",
    )
    assert body["answers"]["annex_iii_points"] == ["4(a)"]
    assert body["obligations"][0]["ref"] is None
