"""The impact-assessment requirement follows EU AI Act Art. 27(1), through the public REST API.

A high-risk system alone no longer requires the fundamental rights impact assessment: only the
deployers Art. 27(1) names owe it (the classification decides); requiring a full assessment of
every high-risk system is the organisation's policy setting, labelled as policy.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import nats
import pytest

from shared.db import utcnow, uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines

REQUIRED = "/v1/impact-assessments/required"


async def put_system(stack: Any, org: uuid.UUID, **facts: Any) -> uuid.UUID:
    """A system the risk service knows (synthetic inventory event), with no ISO reasons of its
    own (general sector, no stakeholders, no personal data) unless ``facts`` give them."""
    system_id = uuid7()
    data = {
        "id": str(system_id),
        "org_id": str(org),
        "name": "Benefit eligibility scorer",
        "lifecycle_stage": "deployed",
        "intended_purpose": "Score files",
        "sector": "general",
        "data_inputs": [],
        "ai_roles": ["customer"],
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
    nc = await nats.connect(stack.engines.nats_url)
    try:
        await nc.jetstream().publish(
            stack.engines.subject_prefix + event["type"],
            json.dumps(event).encode(),
            headers={"Nats-Msg-Id": event["id"]},
        )
    finally:
        await nc.close()

    async def arrived() -> bool:
        response = await stack.risk.get(
            f"/v1/systems/{system_id}", headers=stack.headers(org, "viewer")
        )
        return response.status_code == 200

    await eventually(arrived)
    return system_id


async def required(stack: Any, org: uuid.UUID) -> dict[str, dict[str, Any]]:
    response = await stack.risk.get(REQUIRED, headers=stack.headers(org, "viewer"))
    assert response.status_code == 200, response.text
    return {i["system_id"]: i for i in response.json()["items"]}


async def test_art_27_binds_only_the_deployers_it_names_and_policy_is_labelled(
    stack: Any, org: uuid.UUID
) -> None:
    """Art. 27(1): a private deployer of an Annex III 4(a) system owes no FRIA; a public
    authority (Art. 27(1)) or any deployer of Annex III 5(b) does; never Annex III point 2. The
    organisation policy adds a `high_risk_policy` reason, not a legal one."""
    editor = stack.headers(org, "risk_owner")
    private, public, credit, critical = [await put_system(stack, org) for _ in range(4)]
    answers = {
        private: {"role": "deployer", "annex_iii_points": ["4(a)"]},
        public: {
            "role": "deployer",
            "annex_iii_points": ["5(a)"],
            "deployer_category": "public_authority",
        },
        credit: {"role": "deployer", "annex_iii_points": ["5(b)"]},
        critical: {
            "role": "deployer",
            "annex_iii_points": ["2"],
            "deployer_category": "public_authority",
        },
    }
    for system_id, body in answers.items():
        response = await stack.risk.post(
            f"/v1/systems/{system_id}/classifications", json=body, headers=editor
        )
        assert response.status_code == 201, response.text
        assert response.json()["tier"] == "high"

    listed = await required(stack, org)
    assert str(private) not in listed
    assert str(critical) not in listed
    for system_id in (public, credit):
        item = listed[str(system_id)]
        assert item["reasons"] == ["eu_ai_act_art_27"]
        assert item["fundamental_rights_fields_required"] is True

    manager = stack.headers(org, "manager")
    policy = await stack.risk.put(
        "/v1/risk-policy",
        json={"require_impact_assessment_for_all_high_risk": True},
        headers=manager,
    )
    assert policy.status_code == 200, policy.text

    listed = await required(stack, org)
    assert listed[str(private)]["reasons"] == ["high_risk_policy"]
    assert listed[str(private)]["fundamental_rights_fields_required"] is True
    assert listed[str(critical)]["reasons"] == ["high_risk_policy"]
    assert listed[str(public)]["reasons"] == ["eu_ai_act_art_27", "high_risk_policy"]
