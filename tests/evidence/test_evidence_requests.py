"""Evidence requests: what a system needs is asked for when it enters the scope, released when it
leaves, and followed per system (REST, events, coverage for the dashboard)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from shared.db import uuid7
from shared.testing import eventually
from tests.evidence.documented_helpers import (
    CHATBOT,
    CV_SCREENING,
    add_evidence,
    approve_scope,
    classify,
    register,
)

pytestmark = pytest.mark.engines

BASE_ITEMS = {"SYS-TECH-DOC", "SYS-DATA-PROVENANCE", "SYS-MONITORING-PLAN", "SYS-EVENT-LOG"}
IA = "SYS-IMPACT-ASSESSMENT"


@pytest.fixture
async def request_events(stack: Any, org: uuid.UUID) -> AsyncIterator[list[dict[str, Any]]]:
    """Every ``evidence_request.*`` event of this test's organisation, as published."""
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(stack.engines.nats_url)

    async def on_message(msg: Any) -> None:
        event = json.loads(msg.data)
        if event.get("orgid") == str(org):
            seen.append(event)

    subject = stack.engines.subject_prefix + "aims.evidence.evidence_request.>"
    sub = await nc.jetstream().subscribe(subject, cb=on_message, ordered_consumer=True)
    try:
        yield seen
    finally:
        await sub.unsubscribe()
        await nc.close()


async def requests(stack: Any, org: uuid.UUID, **params: Any) -> list[dict[str, Any]]:
    response = await stack.evidence.get(
        "/v1/evidence-requests", params=params, headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def settled(stack: Any, org: uuid.UUID, expected: set[tuple[str, str, str]]) -> None:
    """Wait until the requests are exactly ``expected`` (system, item, status)."""

    async def check() -> bool:
        found = {
            (r["system_id"], r["item_id"], r["status"])
            for r in await requests(stack, org, limit=500)
        }
        return found == expected

    await eventually(check)


async def test_scope_opens_and_withdraws_requests(
    stack: Any, org: uuid.UUID, request_events: list[dict[str, Any]]
) -> None:
    ranker = await register(stack, org, "CV ranker")
    chatbot = await register(stack, org, "Chatbot")
    await approve_scope(stack, org, {ranker: True, chatbot: True})
    await settled(
        stack,
        org,
        {(s, i, "open") for s in (ranker, chatbot) for i in BASE_ITEMS},
    )
    opened = await requests(stack, org, system_id=chatbot)
    assert all(r["requested_at"] and r["withdrawn_at"] is None for r in opened)
    assert {r["item_title"] for r in opened} >= {"Technical documentation of the system"}

    # High-risk: the impact-assessment record is asked for as well.
    await classify(stack, org, ranker, CV_SCREENING)
    await settled(
        stack,
        org,
        {(s, i, "open") for s in (ranker, chatbot) for i in BASE_ITEMS} | {(ranker, IA, "open")},
    )

    # Evidence for the chatbot's technical documentation satisfies its request.
    doc = await add_evidence(
        stack, org, [("documented_information", "SYS-TECH-DOC"), ("system", chatbot)]
    )
    satisfied = await requests(stack, org, system_id=chatbot, item_id="SYS-TECH-DOC")
    assert [r["status"] for r in satisfied] == ["satisfied"]
    assert await requests(stack, org, system_id=chatbot, status="satisfied") == satisfied
    assert len(await requests(stack, org, system_id=chatbot, status="open")) == 3

    # A new scope without the chatbot withdraws its requests; the evidence stays.
    await approve_scope(stack, org, {ranker: True, chatbot: False})
    await settled(
        stack,
        org,
        {(ranker, i, "open") for i in BASE_ITEMS | {IA}}
        | {(chatbot, i, "withdrawn") for i in BASE_ITEMS},
    )
    withdrawn = await requests(stack, org, status="withdrawn")
    assert len(withdrawn) == 4 and all(r["withdrawn_at"] for r in withdrawn)
    kept = await stack.evidence.get(f"/v1/evidence/{doc}", headers=stack.headers(org))
    assert kept.status_code == 200 and kept.json()["status"] == "approved"
    view = await stack.evidence.get(
        f"/v1/systems/{chatbot}/documented-information", headers=stack.headers(org, "auditor")
    )
    assert view.status_code == 200
    assert view.json()["in_scope"] is False
    assert {i["status"] for i in view.json()["items"]} == {"not_required"}

    # No longer high-risk: the impact-assessment request is withdrawn.
    await classify(stack, org, ranker, CHATBOT)
    await settled(
        stack,
        org,
        {(ranker, i, "open") for i in BASE_ITEMS}
        | {(ranker, IA, "withdrawn")}
        | {(chatbot, i, "withdrawn") for i in BASE_ITEMS},
    )

    # Back in scope: the same requests re-open (no duplicates), with a newer version.
    await approve_scope(stack, org, {ranker: True, chatbot: True})
    await settled(
        stack,
        org,
        {(ranker, i, "open") for i in BASE_ITEMS}
        | {(chatbot, i, "open") for i in BASE_ITEMS - {"SYS-TECH-DOC"}}
        | {(chatbot, "SYS-TECH-DOC", "satisfied"), (ranker, IA, "withdrawn")},
    )
    again = await requests(stack, org, system_id=chatbot, item_id="SYS-MONITORING-PLAN")
    assert again[0]["version"] == 3

    # Each change was announced with the request's state: opened 8 + 1 + 4, withdrawn 4 + 1.
    async def all_events() -> list[dict[str, Any]] | None:
        return request_events if len(request_events) >= 18 else None

    events = await eventually(all_events)
    kinds = [e["type"].rsplit(".", 1)[1] for e in events]
    assert kinds.count("opened") == 13 and kinds.count("withdrawn") == 5
    last = events[-1]
    assert last["data"]["status"] == "open" and last["dataversion"] == last["data"]["version"]
    assert last["subject"] == last["data"]["id"]


async def test_per_system_status_and_coverage(stack: Any, org: uuid.UUID) -> None:
    ranker = await register(stack, org, "CV ranker")
    chatbot = await register(stack, org, "Chatbot")
    outside = await register(stack, org, "Forecasting")
    await classify(stack, org, ranker, CV_SCREENING)
    await approve_scope(stack, org, {ranker: True, chatbot: True, outside: False})
    await settled(
        stack,
        org,
        {(s, i, "open") for s in (ranker, chatbot) for i in BASE_ITEMS} | {(ranker, IA, "open")},
    )
    await add_evidence(stack, org, [("documented_information", IA), ("system", ranker)])
    await add_evidence(
        stack,
        org,
        [("documented_information", "SYS-EVENT-LOG"), ("system", ranker)],
        status="draft",
    )
    # Linked to the item but to another system: it does not count for the ranker.
    await add_evidence(
        stack, org, [("documented_information", "SYS-TECH-DOC"), ("system", chatbot)]
    )

    h = stack.headers(org, "viewer")
    view = await stack.evidence.get(f"/v1/systems/{ranker}/documented-information", headers=h)
    assert view.status_code == 200, view.text
    body = view.json()
    assert (body["in_scope"], body["eu_ai_act_tier"]) == (True, "high")
    statuses = {i["id"]: i["status"] for i in body["items"]}
    assert statuses == {
        "SYS-TECH-DOC": "missing",
        "SYS-DATA-PROVENANCE": "missing",
        "SYS-MONITORING-PLAN": "missing",
        "SYS-EVENT-LOG": "draft",
        IA: "approved",
    }

    unknown = str(uuid7())
    coverage = await stack.evidence.get(
        "/v1/documented-information/coverage",
        params={"system_id": [ranker, chatbot, outside, unknown, ranker]},
        headers=h,
    )
    assert coverage.status_code == 200, coverage.text
    rows = coverage.json()["items"]
    assert [r["system_id"] for r in rows] == [ranker, chatbot, outside, unknown, ranker]
    strip = [{k: v for k, v in r.items() if k != "system_id"} for r in rows]
    assert strip[0] == {"required": 5, "approved": 1, "missing": 3, "draft": 1, "stale": 0}
    assert strip[1] == {"required": 4, "approved": 1, "missing": 3, "draft": 0, "stale": 0}
    zero = {"required": 0, "approved": 0, "missing": 0, "draft": 0, "stale": 0}
    assert strip[2] == strip[3] == zero and strip[4] == strip[0]

    # The organisation's list summarises the system items over the in-scope systems.
    listing = await stack.evidence.get("/v1/documented-information", headers=h)
    sys_rows = {i["id"]: i for i in listing.json()["items"] if i["source"] == "system"}
    assert sys_rows["SYS-TECH-DOC"]["systems"] == {
        "required": 2,
        "approved": 1,
        "stale": 0,
        "draft": 0,
        "missing": 1,
    }
    assert sys_rows["SYS-TECH-DOC"]["status"] == "missing"
    assert sys_rows[IA]["status"] == "approved" and sys_rows[IA]["systems"]["required"] == 1
    summary = (await stack.evidence.get("/v1/documented-information/summary", headers=h)).json()
    assert summary["systems_in_scope"] == 2
    assert summary["system_items"]["required"] == 9
    assert summary["system_items"]["approved"] == 2
    assert summary["requests_open"] == 7


async def test_requests_are_private_and_odd_input_is_refused(stack: Any, org: uuid.UUID) -> None:
    system = await register(stack, org, "Chatbot")
    await approve_scope(stack, org, {system: True})
    await settled(stack, org, {(system, i, "open") for i in BASE_ITEMS})

    other = uuid7()
    assert await requests(stack, other) == []
    h_other = stack.headers(other, "admin")
    hidden = await stack.evidence.get(
        f"/v1/systems/{system}/documented-information", headers=h_other
    )
    assert hidden.status_code == 404 and hidden.json()["code"] == "system-not-known"
    cover = await stack.evidence.get(
        "/v1/documented-information/coverage", params={"system_id": system}, headers=h_other
    )
    assert cover.json()["items"][0]["required"] == 0

    h = stack.headers(org, "viewer")
    page = await stack.evidence.get("/v1/evidence-requests", params={"limit": 3}, headers=h)
    first = page.json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = await stack.evidence.get(
        "/v1/evidence-requests", params={"limit": 3, "after": first["next_cursor"]}, headers=h
    )
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    ids = [r["id"] for r in first["items"]]
    assert ids == sorted(ids)
    batch = await stack.evidence.get(
        "/v1/evidence-requests", params={"id": [ids[0], str(uuid7())]}, headers=h
    )
    assert [r["id"] for r in batch.json()["items"]] == [ids[0]]

    for path, params, code in (
        ("/v1/evidence-requests", {"status": "closed"}, 422),
        ("/v1/evidence-requests", {"item_id": "DI-01"}, 422),
        ("/v1/evidence-requests", {"item_id": "SYS\x00"}, 422),
        ("/v1/evidence-requests", {"system_id": "not-a-uuid"}, 422),
        ("/v1/evidence-requests", {"limit": 10**12}, 422),
        ("/v1/evidence-requests", {"after": "garbage!"}, 400),
        ("/v1/evidence-requests", {"sort": "name"}, 400),
        ("/v1/documented-information/coverage", {}, 422),
        ("/v1/documented-information/coverage", {"system_id": ["x"]}, 422),
        (
            "/v1/documented-information/coverage",
            {"system_id": [str(uuid7()) for _ in range(501)]},
            422,
        ),
        (f"/v1/systems/{uuid7()}/documented-information", {}, 404),
        ("/v1/systems/not-a-uuid/documented-information", {}, 422),
    ):
        response = await stack.evidence.get(path, params=params, headers=h)
        assert response.status_code == code, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
