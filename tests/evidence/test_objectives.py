"""AI objectives and their measurements (ISO/IEC 42001 6.2, 9.1) through the REST API and NATS."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest

from shared.db import uuid7
from shared.testing import eventually
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()


@pytest.fixture
async def objective_events(evidence_stack: EvidenceStack) -> AsyncIterator[list[dict[str, Any]]]:
    """Every ``aims.evidence.objective.*`` event the relay publishes while the test runs."""
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(evidence_stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(
        evidence_stack.engines.subject_prefix + "aims.evidence.objective.>", cb=collect
    )
    try:
        yield seen
    finally:
        await nc.close()


def of(events: list[dict[str, Any]], kind: str, subject: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == f"aims.evidence.{kind}" and e["subject"] == subject]


async def objective(stack: EvidenceStack, org: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Low false-negative rate",
        "measure": "False-negative rate on the monthly sample",
        "unit": "%",
        "target_value": 2.0,
        "direction": "at_most",
        "owner": "head-of-ml@example.com",
        "due_date": (TODAY + timedelta(days=90)).isoformat(),
        "clauses": ["6.2"],
        "controls": ["a.6.2.6"],
        **overrides,
    }
    response = await stack.evidence.post(
        "/v1/objectives", json=body, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == '"1"'
    result: dict[str, Any] = response.json()
    return result


async def measure(
    stack: EvidenceStack, org: uuid.UUID, objective_id: str, value: float, **kw: Any
) -> dict[str, Any]:
    response = await stack.evidence.post(
        f"/v1/objectives/{objective_id}/measurements",
        json={"value": value, **kw},
        headers=stack.headers(org, "contributor"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def read(stack: EvidenceStack, org: uuid.UUID, objective_id: str) -> dict[str, Any]:
    response = await stack.evidence.get(
        f"/v1/objectives/{objective_id}", headers=stack.headers(org)
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_an_objective_going_off_target_is_listed_and_announced_once(
    evidence_stack: EvidenceStack, org: uuid.UUID, objective_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    fnr = await objective(stack, org)
    other = await objective(stack, org, title="Accuracy", direction="at_least", target_value=0.9)
    assert fnr["on_target"] is None and fnr["status"] == "active"
    assert fnr["controls"] == ["A.6.2.6"]  # canonical id

    first = await measure(
        stack, org, fnr["id"], 1.5, measured_on=(TODAY - timedelta(days=2)).isoformat()
    )
    assert first["on_target"] is True
    assert (await read(stack, org, fnr["id"]))["on_target"] is True

    await measure(stack, org, fnr["id"], 3.2, note="Drift after the retrain")
    await measure(stack, org, other["id"], 0.95)
    state = await read(stack, org, fnr["id"])
    assert (state["latest_value"], state["on_target"], state["measurement_count"]) == (
        3.2,
        False,
        2,
    )

    off = await stack.evidence.get(
        "/v1/objectives", params={"off_target": "true"}, headers=stack.headers(org)
    )
    assert [o["id"] for o in off.json()["items"]] == [fnr["id"]]
    fine = await stack.evidence.get(
        "/v1/objectives", params={"off_target": "false"}, headers=stack.headers(org)
    )
    assert [o["id"] for o in fine.json()["items"]] == [other["id"]]

    async def announced() -> list[dict[str, Any]] | None:
        return of(objective_events, "objective.off_target", fnr["id"]) or None

    [event] = await eventually(announced)
    assert event["orgid"] == str(org)
    assert event["data"]["latest_value"] == 3.2 and event["data"]["on_target"] is False
    assert event["dataversion"] == state["version"]

    # Still off target: no second announcement; back on target: announced.
    await measure(stack, org, fnr["id"], 4.0)
    await measure(stack, org, fnr["id"], 1.0)

    async def back() -> list[dict[str, Any]] | None:
        return of(objective_events, "objective.back_on_target", fnr["id"]) or None

    await eventually(back)
    assert len(of(objective_events, "objective.off_target", fnr["id"])) == 1
    assert len(of(objective_events, "objective.measured", fnr["id"])) == 4
    assert of(objective_events, "objective.off_target", other["id"]) == []


async def test_changing_the_target_can_put_an_objective_off_target(
    evidence_stack: EvidenceStack, org: uuid.UUID, objective_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    acc = await objective(stack, org, direction="at_least", target_value=0.9)
    await measure(stack, org, acc["id"], 0.92)
    current = await read(stack, org, acc["id"])
    raised = await stack.evidence.patch(
        f"/v1/objectives/{acc['id']}",
        json={"target_value": 0.95},
        headers={**stack.headers(org, "contributor"), "If-Match": f'"{current["version"]}"'},
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["on_target"] is False
    assert raised.headers["ETag"] == f'"{current["version"] + 1}"'

    async def announced() -> list[dict[str, Any]] | None:
        return of(objective_events, "objective.off_target", acc["id"]) or None

    await eventually(announced)


async def test_measurements_are_listed_in_time_order_and_a_backdated_one_is_not_latest(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    obj = await objective(stack, org, direction="at_least", target_value=10)
    dates = [TODAY - timedelta(days=d) for d in (3, 10, 1, 7, 5)]
    for i, day in enumerate(dates):
        await measure(stack, org, obj["id"], float(i * 5), measured_on=day.isoformat())
    state = await read(stack, org, obj["id"])
    # The latest by date (1 day ago, value 10) — not the last recorded (5 days ago, value 20).
    assert state["latest_value"] == 10.0 and state["latest_measured_on"] == dates[2].isoformat()
    assert state["on_target"] is True

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["after"] = cursor
        page = await stack.evidence.get(
            f"/v1/objectives/{obj['id']}/measurements", params=params, headers=stack.headers(org)
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [m["measured_on"] for m in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(d.isoformat() for d in dates)

    window = await stack.evidence.get(
        f"/v1/objectives/{obj['id']}/measurements",
        params={"since": dates[3].isoformat(), "until": dates[0].isoformat()},
        headers=stack.headers(org),
    )
    assert [m["measured_on"] for m in window.json()["items"]] == [
        dates[3].isoformat(),
        dates[4].isoformat(),
        dates[0].isoformat(),
    ]

    future = await stack.evidence.post(
        f"/v1/objectives/{obj['id']}/measurements",
        json={"value": 1, "measured_on": (TODAY + timedelta(days=1)).isoformat()},
        headers=stack.headers(org, "contributor"),
    )
    assert future.status_code == 422
    bad_cursor = await stack.evidence.get(
        f"/v1/objectives/{obj['id']}/measurements",
        params={"after": "bm90LWEtY3Vyc29y"},
        headers=stack.headers(org),
    )
    assert bad_cursor.status_code == 400


async def test_an_objective_past_due_becomes_missed_or_achieved(
    evidence_stack: EvidenceStack, org: uuid.UUID, objective_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    never = await objective(stack, org, due_date=yesterday)
    met = await objective(stack, org)
    await measure(stack, org, met["id"], 1.0)
    state = await read(stack, org, met["id"])
    moved = await stack.evidence.patch(
        f"/v1/objectives/{met['id']}",
        json={"due_date": yesterday},
        headers={**stack.headers(org, "contributor"), "If-Match": f'"{state["version"]}"'},
    )
    assert moved.status_code == 200, moved.text

    async def settled() -> bool:
        return (await read(stack, org, never["id"]))["status"] == "missed" and (
            await read(stack, org, met["id"])
        )["status"] == "achieved"

    await eventually(settled)

    async def events() -> bool:
        return bool(
            of(objective_events, "objective.missed", never["id"])
            and of(objective_events, "objective.achieved", met["id"])
        )

    await eventually(events)
    # Reactivating with a past due date would leave it active forever: refused.
    current = await read(stack, org, never["id"])
    again = await stack.evidence.patch(
        f"/v1/objectives/{never['id']}",
        json={"status": "active"},
        headers={**stack.headers(org, "contributor"), "If-Match": f'"{current["version"]}"'},
    )
    assert again.status_code == 422
    assert (await read(stack, org, never["id"]))["status"] == "missed"


async def test_updates_need_if_match_and_other_orgs_see_nothing(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    obj = await objective(stack, org)
    url = f"/v1/objectives/{obj['id']}"
    editor = stack.headers(org, "contributor")
    missing = await stack.evidence.patch(url, json={"owner": "x"}, headers=editor)
    assert missing.status_code == 428
    stale = await stack.evidence.patch(
        url, json={"owner": "x"}, headers={**editor, "If-Match": '"9"'}
    )
    assert stale.status_code == 412
    assert (await read(stack, org, obj["id"]))["owner"] == "head-of-ml@example.com"

    intruder = stack.headers(uuid7(), "admin")
    assert (await stack.evidence.get(url, headers=intruder)).status_code == 404
    hijack = await stack.evidence.patch(
        url, json={"owner": "x"}, headers={**intruder, "If-Match": '"1"'}
    )
    assert hijack.status_code == 404
    sneak = await stack.evidence.post(f"{url}/measurements", json={"value": 1}, headers=intruder)
    assert sneak.status_code == 404
    assert (await stack.evidence.get(f"{url}/measurements", headers=intruder)).status_code == 404
    listed = await stack.evidence.get("/v1/objectives", params={"id": obj["id"]}, headers=intruder)
    assert listed.json()["items"] == []
    assert (await read(stack, org, obj["id"]))["measurement_count"] == 0

    auditor = await stack.evidence.post(
        "/v1/objectives", json={"title": "x"}, headers=stack.headers(org, "auditor")
    )
    assert auditor.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Fair\x00ness"},
        {"measure": "rate\x00"},
        {"unit": "%\x00"},
        {"owner": "\x00"},
        {"description": "a\x00b"},
        {"clauses": ["6.2\x00"]},
        {"clauses": ["99.9"]},
        {"controls": ["A.99"]},
        {"target_value": "NaN"},
        {"target_value": 1e300},
        {"direction": "sideways"},
        {"due_date": "2026-02-30"},
        {"due_date": "9999-12-31"},
    ],
)
async def test_bad_objectives_are_refused_with_422(
    evidence_stack: EvidenceStack, org: uuid.UUID, body: dict[str, Any]
) -> None:
    base = {
        "title": "t",
        "measure": "m",
        "target_value": 1,
        "direction": "at_least",
        "owner": "o",
        "due_date": TODAY.isoformat(),
    }
    response = await evidence_stack.evidence.post(
        "/v1/objectives", json={**base, **body}, headers=evidence_stack.headers(org, "contributor")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = await evidence_stack.evidence.get(
        "/v1/objectives", headers=evidence_stack.headers(org)
    )
    assert listed.json()["items"] == []


async def test_measurement_and_list_input_are_checked(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    obj = await objective(stack, org)
    url = f"/v1/objectives/{obj['id']}/measurements"
    editor = stack.headers(org, "contributor")
    for body in ({"value": 1, "note": "x\x00"}, {"value": "Infinity"}, {"value": 1, "extra": 1}):
        assert (await stack.evidence.post(url, json=body, headers=editor)).status_code == 422
    malformed = await stack.evidence.post(
        url, content=b"{", headers={**editor, "content-type": "application/json"}
    )
    assert malformed.status_code == 400
    reader = stack.headers(org)
    for params in (
        {"owner": "a\x00"},
        {"status": "nope"},
        {"limit": "100000"},
        {"off_target": "maybe"},
    ):
        got = await stack.evidence.get("/v1/objectives", params=params, headers=reader)
        assert got.status_code == 422, (params, got.text)
    unknown = await stack.evidence.get("/v1/objectives", params={"offtarget": "1"}, headers=reader)
    assert unknown.status_code == 400
    assert "off_target" in unknown.json()["detail"]
    assert (
        await stack.evidence.get("/v1/objectives/not-a-uuid", headers=reader)
    ).status_code == 422

    # Withdrawn objectives take no more measurements.
    withdrawn = await stack.evidence.patch(
        f"/v1/objectives/{obj['id']}",
        json={"status": "withdrawn"},
        headers={**editor, "If-Match": '"1"'},
    )
    assert withdrawn.status_code == 200
    assert (await stack.evidence.post(url, json={"value": 1}, headers=editor)).status_code == 409


async def test_a_retried_create_returns_the_first_objective(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    body = {
        "title": "Idempotent",
        "measure": "m",
        "target_value": 1,
        "direction": "at_least",
        "owner": "o",
        "due_date": TODAY.isoformat(),
    }
    headers = {**stack.headers(org, "contributor"), "Idempotency-Key": "objective-1"}
    first = await stack.evidence.post("/v1/objectives", json=body, headers=headers)
    again = await stack.evidence.post("/v1/objectives", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    listed = await stack.evidence.get("/v1/objectives", headers=stack.headers(org))
    assert len(listed.json()["items"]) == 1
