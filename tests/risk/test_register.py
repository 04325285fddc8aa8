"""The AI risk register over REST: matrices, scoring, acceptance, reviews, dashboard, tenancy."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import uuid7
from shared.testing import eventually
from tests.risk.test_system_facts import send, system_state

pytestmark = pytest.mark.engines


@pytest.fixture
async def js(stack: Any) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(stack.engines.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


@pytest.fixture
async def risk_events(stack: Any) -> AsyncIterator[list[dict[str, Any]]]:
    """Every ``aims.risk.*`` event the relay publishes while the test runs."""
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(stack.engines.subject_prefix + "aims.risk.>", cb=collect)
    try:
        yield seen
    finally:
        await nc.close()


async def known_system(stack: Any, js: JetStreamContext, org: uuid.UUID, **facts: Any) -> uuid.UUID:
    """A system the risk service has projected (from a synthetic inventory event)."""
    system_id = uuid7()
    await send(
        stack, js, "aims.inventory.system.registered", org, 1, system_state(system_id, org, **facts)
    )

    async def projected() -> bool:
        r = await stack.risk.get(f"/v1/systems/{system_id}", headers=stack.headers(org, "viewer"))
        return r.status_code == 200

    await eventually(projected)
    return system_id


def risk_body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Biased triage of claims",
        "description": "The model ranks claims from some groups lower.",
        "domain_id": "1",
        "subdomain_id": "1.1",
        "entity": "ai",
        "intent": "unintentional",
        "timing": "post_deployment",
        "affected_stakeholders": ["individuals", "groups"],
        "lifecycle_stage": "deployed",
        "likelihood": 4,
        "severity": 4,
        **overrides,
    }


async def create(stack: Any, org: uuid.UUID, role: str = "risk_owner", **body: Any) -> Any:
    response = await stack.risk.post(
        "/v1/risks", json=risk_body(**body), headers=stack.headers(org, role)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_matrix_versions_keep_assessments_until_rescored(stack: Any, org: uuid.UUID) -> None:
    admin = stack.headers(org, "admin")
    current = await stack.risk.get("/v1/risk-matrices", headers=admin)
    assert current.status_code == 200
    assert current.headers["ETag"] == '"1"'
    assert current.json()["preset"] == "default_5x5"
    risk = await create(stack, org)  # 4 × 4 = 16 → high on the default 5×5
    assert (risk["inherent_level"], risk["matrix_version"]) == ("high", 1)

    bad = {
        "definition": {
            "likelihood_labels": ["rare", "often"],
            "severity_labels": ["minor", "major"],
            "levels": ["low", "high"],
            "cells": [["low", "high"], ["low", "low"]],
            "tolerance": "low",
        }
    }
    refused = await stack.risk.put(
        "/v1/risk-matrices", json=bad, headers={**admin, "If-Match": '"1"'}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert ["body", "definition", "cells", "1", "1"] in [
        e["location"] for e in refused.json()["errors"]
    ]
    assert "monotonic" in refused.json()["errors"][0]["message"]

    preset = {"preset": "semi_quantitative_10"}
    assert (
        await stack.risk.put("/v1/risk-matrices", json=preset, headers=admin)
    ).status_code == 428
    owner = stack.headers(org, "risk_owner")
    forbidden = await stack.risk.put(
        "/v1/risk-matrices", json=preset, headers={**owner, "If-Match": '"1"'}
    )
    assert forbidden.status_code == 403
    second = await stack.risk.put(
        "/v1/risk-matrices", json=preset, headers={**admin, "If-Match": '"1"'}
    )
    assert second.status_code == 200, second.text
    assert second.json()["number"] == 2

    # The assessment keeps the version it was scored on.
    kept = (await stack.risk.get(f"/v1/risks/{risk['id']}", headers=admin)).json()
    assert (kept["inherent_level"], kept["matrix_version"]) == ("high", 1)
    first = await stack.risk.get("/v1/risk-matrices/versions/1", headers=admin)
    assert first.json()["definition"]["levels"][-1] == "very high"

    assert (await stack.risk.post("/v1/risk-matrices/rescore", headers=owner)).status_code == 403
    dry = await stack.risk.post("/v1/risk-matrices/rescore?dry_run=true", headers=admin)
    assert dry.status_code == 200
    moves = dry.json()["moved"]
    # 4/5 → 8/10 on both scales: 64 → critical.
    assert moves == [
        {
            "risk_id": risk["id"],
            "title": risk["title"],
            "from_matrix_version": 1,
            "to_matrix_version": 2,
            "inherent_from": "high",
            "inherent_to": "critical",
            "residual_from": None,
            "residual_to": None,
            "likelihood": {"before": 4, "after": 8},
            "severity": {"before": 4, "after": 8},
            "residual_likelihood": {"before": None, "after": None},
            "residual_severity": {"before": None, "after": None},
            "level_changed": True,
            "acceptance_voided": False,
        }
    ]
    unchanged = (await stack.risk.get(f"/v1/risks/{risk['id']}", headers=admin)).json()
    assert unchanged["matrix_version"] == 1

    done = await stack.risk.post("/v1/risk-matrices/rescore", headers=admin)
    assert done.json()["moved"] == moves
    rescored = (await stack.risk.get(f"/v1/risks/{risk['id']}", headers=admin)).json()
    assert (rescored["matrix_version"], rescored["likelihood"], rescored["inherent_level"]) == (
        2,
        8,
        "critical",
    )
    again = await stack.risk.post("/v1/risk-matrices/rescore", headers=admin)
    assert again.json()["moved"] == []
    versions = await stack.risk.get("/v1/risk-matrices/versions", headers=admin)
    assert [v["number"] for v in versions.json()["items"]] == [1, 2]


async def test_risk_crud_validation_and_tenancy(
    stack: Any, js: JetStreamContext, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    owner = stack.headers(org, "risk_owner")
    invalid = risk_body(
        system_id=str(uuid7()),
        domain_id="1",
        subdomain_id="2.1",
        likelihood=6,
        control_ids=["A.6.2.4", "A.99.1"],
    )
    refused = await stack.risk.post("/v1/risks", json=invalid, headers=owner)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    locations = {tuple(e["location"]) for e in refused.json()["errors"]}
    assert {
        ("body", "system_id"),
        ("body", "subdomain_id"),
        ("body", "likelihood"),
        ("body", "control_ids", "1"),
    } <= {tuple(str(p) for p in loc) for loc in locations}
    schema = await stack.risk.post("/v1/risks", json=risk_body(entity="robot"), headers=owner)
    assert schema.status_code == 422
    assert ["body", "entity"] in [e["location"] for e in schema.json()["errors"]]
    viewer = await stack.risk.post(
        "/v1/risks", json=risk_body(), headers=stack.headers(org, "viewer")
    )
    assert viewer.status_code == 403

    system_id = await known_system(stack, js, org)
    body = risk_body(
        system_id=str(system_id),
        treatment="mitigate",
        control_ids=["A.6.2.4"],
        owner="alice",
        fundamental_rights=True,
    )
    key = {"Idempotency-Key": f"create-{org}"}
    first = await stack.risk.post("/v1/risks", json=body, headers={**owner, **key})
    assert first.status_code == 201, first.text
    replay = await stack.risk.post("/v1/risks", json=body, headers={**owner, **key})
    assert replay.json()["id"] == first.json()["id"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    risk = first.json()
    assert risk["missing_controls"] is False
    assert risk["next_review_at"] is not None

    url = f"/v1/risks/{risk['id']}"
    read = await stack.risk.get(url, headers=owner)
    assert read.headers["ETag"] == '"1"'
    assert (await stack.risk.patch(url, json={"title": "x y"}, headers=owner)).status_code == 428
    stale = await stack.risk.patch(url, json={"title": "x y"}, headers={**owner, "If-Match": '"7"'})
    assert stale.status_code == 412
    changed = await stack.risk.patch(
        url,
        json={"title": "Unequal triage", "control_ids": []},
        headers={**owner, "If-Match": '"1"'},
    )
    assert changed.status_code == 200
    assert changed.json()["missing_controls"] is True  # mitigate without a control
    assert changed.headers["ETag"] == '"2"'
    assessed = await stack.risk.patch(
        url,
        json={"residual_likelihood": 1, "residual_severity": 2},
        headers={**owner, "If-Match": '"2"'},
    )
    assert assessed.json()["residual_level"] == "very low"
    history = (await stack.risk.get(f"{url}/history", headers=owner)).json()["items"]
    assert [h["action"] for h in history] == ["created", "updated", "assessed"]
    assert history[0]["state"]["title"] == "Biased triage of claims"

    other_risk = await create(stack, org, domain_id="2", subdomain_id="2.1")
    by_system = await stack.risk.get(
        "/v1/risks", params={"system_id": str(system_id)}, headers=owner
    )
    assert [r["id"] for r in by_system.json()["items"]] == [risk["id"]]
    by_domain = await stack.risk.get("/v1/risks", params={"domain_id": "2"}, headers=owner)
    assert [r["id"] for r in by_domain.json()["items"]] == [other_risk["id"]]
    by_owner = await stack.risk.get("/v1/risks", params={"owner": "alice"}, headers=owner)
    assert [r["id"] for r in by_owner.json()["items"]] == [risk["id"]]
    by_level = await stack.risk.get(
        "/v1/risks", params={"residual_level": "very low"}, headers=owner
    )
    assert [r["id"] for r in by_level.json()["items"]] == [risk["id"]]
    page = await stack.risk.get("/v1/risks", params={"limit": 1}, headers=owner)
    assert page.json()["next_cursor"]
    rest = await stack.risk.get(
        "/v1/risks", params={"limit": 1, "after": page.json()["next_cursor"]}, headers=owner
    )
    assert [r["id"] for r in rest.json()["items"]] == [other_risk["id"]]
    batch = await stack.risk.get("/v1/risks", params={"id": [other_risk["id"]]}, headers=owner)
    assert len(batch.json()["items"]) == 1

    async def emitted() -> list[str] | None:
        types = [e["type"] for e in risk_events if e["subject"] == risk["id"]]
        return types if len(types) >= 3 else None

    types = await eventually(emitted)
    assert types[:3] == [
        "aims.risk.risk.created",
        "aims.risk.risk.updated",
        "aims.risk.risk.assessed",
    ]
    created_event = next(e for e in risk_events if e["subject"] == risk["id"])
    assert created_event["dataversion"] == 1
    assert created_event["data"]["title"] == "Biased triage of claims"

    # Another organisation sees nothing of it.
    stranger = stack.headers(uuid7(), "admin")
    assert (await stack.risk.get(url, headers=stranger)).status_code == 404
    assert (await stack.risk.get("/v1/risks", headers=stranger)).json()["items"] == []
    dash = (await stack.risk.get("/v1/risk-dashboard", headers=stranger)).json()
    assert dash["total"] == 0


async def test_residual_above_tolerance_needs_an_acceptance(stack: Any, org: uuid.UUID) -> None:
    owner = stack.headers(org, "risk_owner")
    manager = stack.headers(org, "manager", subject="mia")
    risk = await create(
        stack, org, treatment="mitigate", residual_likelihood=4, residual_severity=3
    )
    assert risk["residual_level"] == "high"
    assert risk["above_tolerance"] is True  # tolerance of the default matrix: medium
    assert risk["missing_controls"] is True
    url = f"/v1/risks/{risk['id']}"
    rationale = {"rationale": "Residual risk is offset by human review of every decision."}
    denied = await stack.risk.post(
        f"{url}/accept", json=rationale, headers={**owner, "If-Match": '"1"'}
    )
    assert denied.status_code == 403
    short = await stack.risk.post(
        f"{url}/accept", json={"rationale": "fine"}, headers={**manager, "If-Match": '"1"'}
    )
    assert short.status_code == 422
    accepted = await stack.risk.post(
        f"{url}/accept", json=rationale, headers={**manager, "If-Match": '"1"'}
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["above_tolerance"], body["status"], body["accepted_by"]) == (
        False,
        "accepted",
        "mia",
    )
    assert body["accepted_at"] is not None
    flagged = await stack.risk.get("/v1/risks", params={"above_tolerance": "true"}, headers=owner)
    assert flagged.json()["items"] == []

    # A new residual scoring voids the acceptance.
    rescored = await stack.risk.patch(
        url,
        json={"residual_likelihood": 5, "residual_severity": 3},
        headers={**owner, "If-Match": '"2"'},
    )
    body = rescored.json()
    assert (body["above_tolerance"], body["status"], body["accepted_at"]) == (True, "open", None)
    flagged = await stack.risk.get("/v1/risks", params={"above_tolerance": "true"}, headers=owner)
    assert [r["id"] for r in flagged.json()["items"]] == [risk["id"]]
    low = await create(stack, org, residual_likelihood=1, residual_severity=1)
    assert low["above_tolerance"] is False


async def test_a_changed_system_fact_marks_its_risks_for_review(
    stack: Any, js: JetStreamContext, org: uuid.UUID, risk_events: list[dict[str, Any]]
) -> None:
    owner = stack.headers(org, "risk_owner")
    system_id = await known_system(stack, js, org)
    treated = await create(stack, org, system_id=str(system_id))
    treated_url = f"/v1/risks/{treated['id']}"
    await stack.risk.patch(
        treated_url, json={"status": "treated"}, headers={**owner, "If-Match": '"1"'}
    )
    closed = await create(stack, org, system_id=str(system_id))
    await stack.risk.patch(
        f"/v1/risks/{closed['id']}", json={"status": "closed"}, headers={**owner, "If-Match": '"1"'}
    )
    elsewhere = await create(stack, org)

    changed = system_state(system_id, org, sector="healthcare")
    await send(stack, js, "aims.inventory.system.updated", org, 2, changed)

    async def due() -> list[dict[str, Any]] | None:
        page = await stack.risk.get("/v1/risks", params={"status": "review_due"}, headers=owner)
        return page.json()["items"] or None

    items = await eventually(due)
    assert [r["id"] for r in items] == [treated["id"]]

    async def review_event() -> dict[str, Any] | None:
        return next(
            (
                e
                for e in risk_events
                if e["type"] == "aims.risk.review.due" and e["orgid"] == str(org)
            ),
            None,
        )

    event = await eventually(review_event)
    assert event["data"] == {
        "system_id": str(system_id),
        "risk_ids": [treated["id"]],
        "changed_facts": ["sector"],
        "reason": "system_facts_changed",
        "due_at": None,
    }
    other = (await stack.risk.get(f"/v1/risks/{elsewhere['id']}", headers=owner)).json()
    assert other["status"] == "open"

    # Re-assessing restores the status it had before the review fell due.
    current = (await stack.risk.get(treated_url, headers=owner)).json()
    reassessed = await stack.risk.patch(
        treated_url,
        json={"likelihood": 2},
        headers={**owner, "If-Match": f'"{current["version"]}"'},
    )
    assert reassessed.json()["status"] == "treated"


async def test_dashboard_summary_cadences_and_overdue_reviews(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    admin = stack.headers(org, "admin")
    first, second = await known_system(stack, js, org), await known_system(stack, js, org)
    a = await create(stack, org, system_id=str(first), likelihood=5, severity=5)
    await create(
        stack,
        org,
        system_id=str(first),
        likelihood=2,
        severity=2,
        residual_likelihood=1,
        residual_severity=1,
    )
    await create(
        stack,
        org,
        system_id=str(second),
        likelihood=2,
        severity=2,
        domain_id="2",
        subdomain_id="2.2",
    )
    await create(stack, org, likelihood=1, severity=1)

    inherent = (await stack.risk.get("/v1/risk-dashboard?basis=inherent", headers=admin)).json()
    assert inherent["total"] == 4
    assert {(c["likelihood"], c["severity"]): c["count"] for c in inherent["cells"]} == {
        (5, 5): 1,
        (2, 2): 2,
        (1, 1): 1,
    }
    assert [(lv["level"], lv["count"]) for lv in inherent["levels"]] == [
        ("very low", 1),
        ("low", 2),
        ("very high", 1),
    ]
    assert {d["domain_id"]: d["count"] for d in inherent["domains"]} == {"1": 3, "2": 1}
    assert {s["system_id"]: s["count"] for s in inherent["systems"]} == {
        str(first): 2,
        str(second): 1,
        None: 1,
    }
    residual = (await stack.risk.get("/v1/risk-dashboard?basis=residual", headers=admin)).json()
    assert {(c["likelihood"], c["severity"]): c["count"] for c in residual["cells"]} == {
        (5, 5): 1,
        (2, 2): 1,
        (1, 1): 2,
    }

    summary = await stack.risk.get(
        "/v1/risks/summary",
        params={"system_id": [str(first), str(second), str(uuid7())]},
        headers=admin,
    )
    items = summary.json()["items"]
    assert [(i["open_count"], i["highest_residual_level"]) for i in items] == [
        (2, "very high"),
        (1, "low"),
        (0, None),
    ]

    cadences = await stack.risk.get("/v1/risk-review-cadences", headers=admin)
    assert cadences.json()["days_by_level"]["very high"] == 30
    assert cadences.json()["days_by_level"]["very low"] == 365
    put = await stack.risk.put(
        "/v1/risk-review-cadences",
        json={"days_by_level": {"very high": 7}},
        headers={**admin, "If-Match": '"0"'},
    )
    assert put.status_code == 200, put.text
    assert put.json()["days_by_level"]["very high"] == 7
    unknown = await stack.risk.put(
        "/v1/risk-review-cadences",
        json={"days_by_level": {"apocalyptic": 1}},
        headers={**admin, "If-Match": '"1"'},
    )
    assert unknown.status_code == 422

    # Make one review overdue as time would (no API moves the clock); the owner role is under
    # FORCE ROW LEVEL SECURITY too, hence the org setting.
    engine = create_async_engine(stack.engines.databases["risk"].owner_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("SELECT set_config('aims.org_id', :org, true)"), {"org": str(org)}
            )
            await conn.execute(
                sa.text("UPDATE risk SET next_review_at = now() - interval '1 day' WHERE id = :id"),
                {"id": a["id"]},
            )
    finally:
        await engine.dispose()
    overdue = await stack.risk.get("/v1/risks", params={"review_overdue": "true"}, headers=admin)
    assert [r["id"] for r in overdue.json()["items"]] == [a["id"]]
