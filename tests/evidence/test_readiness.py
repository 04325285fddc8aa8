"""Readiness through the public REST API: blockers appear and disappear as the organisation
fixes them (arranged through the inventory, risk and evidence APIs), ``readiness.changed`` on
NATS, snapshots and ``as_of``, the remediation plan, isolation and odd input."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import nats
import pytest

from shared.runtime.provision import asyncpg_dsn
from shared.testing import eventually
from tests.conftest import Stack
from tests.evidence.documented_helpers import (
    CV_SCREENING,
    add_evidence,
    approve_scope,
    approve_soa,
    classify,
    register,
)

pytestmark = pytest.mark.engines


@pytest.fixture
async def readiness_events(stack: Stack) -> AsyncIterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(stack.engines.subject_prefix + "aims.evidence.readiness.>", cb=collect)
    try:
        yield seen
    finally:
        await nc.close()


async def readiness(stack: Stack, org: uuid.UUID, **params: Any) -> dict[str, Any]:
    response = await stack.evidence.get(
        "/v1/readiness", params=params, headers=stack.headers(org, "auditor")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> set[str]:
    return {b["code"] for b in body["blockers"]}


async def test_an_empty_organisation_is_not_ready_with_the_expected_blockers(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await readiness(stack, org)
    assert body["source"] == "live" and body["as_of"]
    assert body["verdict"] == "not_ready" and body["verdict_label"] == "not ready"
    assert {
        "no_approved_scope",
        "no_approved_soa",
        "no_internal_audit",
        "no_management_review_since_audit",
        "control_without_evidence",
        "mandatory_documented_information_missing",
    } <= codes(body)
    assert len(body["clauses"]) == 32 and body["clauses"][0]["clause"] == "4.1"
    assert len(body["controls"]) == 38
    assert body["score"] < 50
    stage1 = [r for r in body["rules"] if r["stage"] == "stage1"]
    assert stage1 and not any(r["passed"] for r in stage1 if r["id"] == "stage1.scope")
    # The remediation plan puts what blocks Stage 1 first.
    plan = await stack.evidence.get("/v1/readiness/plan", headers=stack.headers(org, "viewer"))
    assert plan.status_code == 200, plan.text
    tasks = plan.json()["tasks"]
    assert [t["priority"] for t in tasks] == list(range(1, len(tasks) + 1))
    stages = [t["stage"] for t in tasks]
    assert stages[0] == "stage1" and stages == sorted(stages)
    assert all(t["owner"] and t["due_date"] for t in tasks)
    assert plan.json()["target_reachable"] is None


async def test_fixing_blockers_through_the_apis_moves_the_verdict_and_emits_readiness_changed(
    stack: Stack, org: uuid.UUID, readiness_events: list[dict[str, Any]]
) -> None:
    system = await register(stack, org, "CV screening")
    # Left out while it looked harmless; classified high-risk afterwards (the inventory refuses
    # to approve a scope that leaves out a system it already knows to be high-risk).
    await approve_scope(stack, org, {system: False})
    await classify(stack, org, system, CV_SCREENING)

    async def excluded() -> dict[str, Any] | None:
        body = await readiness(stack, org)
        return body if "high_risk_system_out_of_scope" in codes(body) else None

    body = await eventually(excluded)
    [blocker] = [b for b in body["blockers"] if b["code"] == "high_risk_system_out_of_scope"]
    assert blocker["subject"] == system and blocker["owner"] == "owner@example.com"
    assert blocker["stage"] == "stage1" and "scope-versions" in blocker["where_to_fix"]
    assert "no_approved_scope" not in codes(body)

    # The recompute runs after the events: a snapshot and readiness.changed.
    async def changed() -> list[dict[str, Any]] | None:
        mine = [e for e in readiness_events if e["orgid"] == str(org)]
        return (
            mine
            if any("high_risk_system_out_of_scope" in e["data"]["blocker_counts"] for e in mine)
            else None
        )

    first_events = await eventually(changed)
    assert first_events[-1]["type"] == "aims.evidence.readiness.changed"
    assert first_events[-1]["data"]["verdict"] == "not_ready"
    history = await stack.evidence.get(
        "/v1/readiness/history", headers=stack.headers(org, "viewer")
    )
    assert history.status_code == 200 and history.json()["items"]
    before_fix = history.json()["items"][0]

    await approve_scope(stack, org, {system: True})
    await approve_soa(stack, org, {"A.6.2.2": False})

    async def fixed() -> dict[str, Any] | None:
        body = await readiness(stack, org)
        found = codes(body)
        gone = not found & {"high_risk_system_out_of_scope", "no_approved_soa"}
        return body if gone and "impact_assessment_missing" in found else None

    body = await eventually(fixed)
    # In scope and high-risk: now it needs an approved impact assessment (Stage 2).
    [ia] = [b for b in body["blockers"] if b["code"] == "impact_assessment_missing"]
    assert ia["stage"] == "stage2" and ia["subject"] == system
    assert all(c["control"] != "A.6.2.2" for c in body["controls"])  # excluded in the SoA

    async def newer_snapshot() -> dict[str, Any] | None:
        h = await stack.evidence.get("/v1/readiness/history", headers=stack.headers(org, "viewer"))
        latest = h.json()["items"][0]
        counts = latest["blocker_counts"]
        return (
            latest
            if "no_approved_soa" not in counts and "impact_assessment_missing" in counts
            else None
        )

    latest = await eventually(newer_snapshot)
    assert latest["number"] > before_fix["number"]

    # The snapshot commits before its outbox row reaches NATS: wait for the event itself.
    async def soa_blocker_removed() -> list[dict[str, Any]] | None:
        mine = [e for e in readiness_events if e["orgid"] == str(org)]
        return mine if any("no_approved_soa:" in e["data"]["removed"] for e in mine) else None

    assert await eventually(soa_blocker_removed)

    # as_of an earlier time answers from the snapshot current then.
    old = await readiness(stack, org, as_of=before_fix["computed_at"])
    assert old["source"] == "snapshot" and old["snapshot_id"] == before_fix["id"]
    assert "high_risk_system_out_of_scope" in codes(old)
    assert old["rules"]
    # ...with the clause and control statuses of then: A.6.2.2 was still applicable.
    assert len(old["clauses"]) == 32
    assert any(c["control"] == "A.6.2.2" for c in old["controls"])
    # Before any snapshot: 404.
    missing = await stack.evidence.get(
        "/v1/readiness", params={"as_of": "2020-01-01"}, headers=stack.headers(org, "viewer")
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "readiness-snapshot-not-found"


async def test_approved_evidence_for_a_control_clears_its_blocker_and_shows_freshness(
    stack: Stack, org: uuid.UUID
) -> None:
    body = await readiness(stack, org)
    assert "control_without_evidence:A.2.2" in {b["key"] for b in body["blockers"]}
    item = await add_evidence(stack, org, [("control", "A.2.2"), ("clause", "5.2")])
    body = await readiness(stack, org)
    assert "control_without_evidence:A.2.2" not in {b["key"] for b in body["blockers"]}
    [control] = [c for c in body["controls"] if c["control"] == "A.2.2"]
    assert control["status"] == "evidenced"
    assert control["evidence"]["evidence_ids"] == [item]
    assert control["evidence"]["freshness"] == "current"
    [clause] = [c for c in body["clauses"] if c["clause"] == "5.2"]
    assert clause["evidence"]["approved"] == 1 and item in clause["evidence"]["evidence_ids"]


async def test_recompute_stores_a_snapshot_once_and_only_editors_may_ask(
    stack: Stack, org: uuid.UUID
) -> None:
    denied = await stack.evidence.post(
        "/v1/readiness/recompute", headers=stack.headers(org, "auditor")
    )
    assert denied.status_code == 403
    first = await stack.evidence.post(
        "/v1/readiness/recompute", headers=stack.headers(org, "contributor")
    )
    assert first.status_code == 200, first.text
    assert first.json()["source"] == "snapshot"
    again = await stack.evidence.post(
        "/v1/readiness/recompute", headers=stack.headers(org, "contributor")
    )
    assert again.json()["snapshot_id"] == first.json()["snapshot_id"]  # nothing changed
    # Another organisation sees none of it.
    other = uuid.uuid4()
    h = await stack.evidence.get("/v1/readiness/history", headers=stack.headers(other, "admin"))
    assert h.status_code == 200 and h.json()["items"] == []
    by_id = await stack.evidence.get(
        "/v1/readiness/history",
        params={"id": first.json()["snapshot_id"]},
        headers=stack.headers(other, "admin"),
    )
    assert by_id.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"as_of": "yesterday"}, 422, "invalid-as-of"),
        ({"as_of": "2026-13-45"}, 422, "invalid-as-of"),
        ({"as_of": "2026-01-01\x00"}, 422, None),
        ({"as_of": "x" * 41}, 422, None),
        # Outside what a UTC time holds: the end of 9999-12-31 was a 500, year 1 east of UTC
        # a database error.
        ({"as_of": "9999-12-31"}, 422, "invalid-as-of"),
        ({"as_of": "9999-12-31T23:59:59-12:00"}, 422, "invalid-as-of"),
        ({"as_of": "0001-01-01T00:00:00+14:00"}, 422, "invalid-as-of"),
        ({"asof": "2026-01-01"}, 400, "unknown-query-parameter"),
    ],
)
async def test_odd_queries_answer_4xx_problems(
    stack: Stack, org: uuid.UUID, params: dict[str, str], status: int, code: str | None
) -> None:
    response = await stack.evidence.get(
        "/v1/readiness", params=params, headers=stack.headers(org, "viewer")
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code:
        assert response.json()["code"] == code


async def test_history_pages_and_rejects_bad_cursors(stack: Stack, org: uuid.UUID) -> None:
    bad = await stack.evidence.get(
        "/v1/readiness/history", params={"after": "nonsense"}, headers=stack.headers(org)
    )
    assert bad.status_code == 400
    too_big = await stack.evidence.get(
        "/v1/readiness/history", params={"limit": 10_000}, headers=stack.headers(org)
    )
    assert too_big.status_code == 422


async def recompute(stack: Stack, org: uuid.UUID) -> dict[str, Any]:
    response = await stack.evidence.post(
        "/v1/readiness/recompute", headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_id(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``clause:4.1`` / ``control:A.2.2`` -> (status, reason)."""
    out = {f"clause:{c['clause']}": (c["status"], c["reason"]) for c in body["clauses"]}
    out |= {f"control:{c['control']}": (c["status"], c["reason"]) for c in body["controls"]}
    return out


async def test_a_snapshot_keeps_the_statuses_of_its_time_and_a_status_change_is_a_change(
    stack: Stack, org: uuid.UUID, readiness_events: list[dict[str, Any]]
) -> None:
    first = await recompute(stack, org)
    assert first["source"] == "snapshot"
    statuses = by_id(first)
    assert len(first["clauses"]) == 32 and len(first["controls"]) == 38
    assert statuses == by_id(await readiness(stack, org))  # what the live answer says
    assert statuses["control:A.2.2"][0] == "missing"

    # Draft evidence moves A.2.2 from "missing" to "draft" and leaves every blocker as it was
    # (a control needs approved evidence): a status-only change is still a change.
    await add_evidence(stack, org, [("control", "A.2.2")], status="draft")
    second = await recompute(stack, org)
    assert second["snapshot_id"] != first["snapshot_id"]
    assert {b["key"] for b in second["blockers"]} == {b["key"] for b in first["blockers"]}
    moved = by_id(second)
    assert moved["control:A.2.2"][0] == "draft"
    assert {k for k in moved if moved[k][0] != statuses[k][0]} == {"control:A.2.2"}

    async def announced() -> dict[str, Any] | None:
        mine = [e["data"] for e in readiness_events if e["orgid"] == str(org)]
        return next((d for d in mine if d["snapshot_id"] == second["snapshot_id"]), None)

    event = await eventually(announced)
    assert event["statuses_changed"] == ["control:A.2.2"]
    assert event["added"] == [] and event["removed"] == []
    assert event["score"] == event["previous_score"]

    # Asked as of the first snapshot, A.2.2 is missing again; live, it is draft.
    then = await readiness(stack, org, as_of=first["as_of"])
    assert then["snapshot_id"] == first["snapshot_id"] and by_id(then) == statuses
    assert (await recompute(stack, org))["snapshot_id"] == second["snapshot_id"]  # no change


async def test_a_snapshot_from_before_statuses_were_kept_is_not_a_change_by_itself(
    stack: Stack, org: uuid.UUID
) -> None:
    """After the upgrade that keeps statuses, an organisation whose readiness did not change
    gets no new snapshot (and no ``readiness.changed``) only because the format grew."""
    first = await recompute(stack, org)
    keys = sorted(b["key"] for b in first["blockers"])
    assert first["blockers_total"] == len(keys)  # every key is in the snapshot
    # The snapshot as the previous version stored it: no statuses, and the fingerprint of the
    # verdict, the score and the blocker keys only.
    old_print = hashlib.sha256(
        "\n".join([first["verdict"], str(first["score"]), *keys]).encode()
    ).hexdigest()
    conn = await asyncpg.connect(asyncpg_dsn(stack.engines.databases["evidence"].owner_url))
    try:
        await conn.execute("SELECT set_config('aims.org_id', $1, false)", str(org))
        updated = await conn.execute(
            "UPDATE readiness_snapshot SET clauses = '[]', controls = '[]', fingerprint = $1"
            " WHERE id = $2",
            old_print,
            uuid.UUID(first["snapshot_id"]),
        )
        assert updated == "UPDATE 1"
    finally:
        await conn.close()
    old = await readiness(stack, org, as_of=first["as_of"])
    assert old["clauses"] == [] and old["controls"] == []  # answered as it was stored

    again = await recompute(stack, org)
    assert again["snapshot_id"] == first["snapshot_id"]
    # A real change afterwards is stored with its statuses; nothing to compare them with.
    await add_evidence(stack, org, [("control", "A.2.2")])
    changed = await recompute(stack, org)
    assert changed["snapshot_id"] != first["snapshot_id"]
    assert by_id(changed)["control:A.2.2"][0] == "evidenced"
