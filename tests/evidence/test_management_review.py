"""Management reviews (ISO/IEC 42001 9.3): inputs pre-filled as of the review date, decisions
and tracked actions, through the REST API and NATS.

Rows with past timestamps (a nonconformity raised three weeks ago) cannot be made through the API,
which stamps "now"; the tests insert or back-date them in the database as the service's own role,
under the test organisation's row-level security.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import nats
import pytest

from shared.db import uuid7
from shared.runtime.provision import asyncpg_dsn
from shared.testing import eventually
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

NOW = datetime.now(UTC)
TODAY = NOW.date()


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


@pytest.fixture
async def review_events(evidence_stack: EvidenceStack) -> AsyncIterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    nc = await nats.connect(evidence_stack.engines.nats_url)

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data))

    await nc.subscribe(
        evidence_stack.engines.subject_prefix + "aims.evidence.management_review.>", cb=collect
    )
    try:
        yield seen
    finally:
        await nc.close()


class Rows:
    """Inserts and back-dates rows as the evidence service's role, scoped to one org."""

    def __init__(self, conn: asyncpg.Connection, org: uuid.UUID) -> None:
        self.conn, self.org = conn, org

    async def insert(self, table: str, **values: Any) -> uuid.UUID:
        row_id = uuid7()
        stamp = values.pop("created_at", NOW)
        values = {
            "id": row_id,
            "org_id": self.org,
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
            "created_by": "test",
            "updated_by": "test",
            **values,
        }
        columns = ", ".join(values)
        params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
        await self.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({params})", *values.values()
        )
        return row_id

    async def set(self, table: str, row_id: str | uuid.UUID, **values: Any) -> None:
        assignments = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
        status = await self.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE id = $1",
            uuid.UUID(str(row_id)),
            *values.values(),
        )
        assert status == "UPDATE 1", status


@pytest.fixture
async def rows(evidence_stack: EvidenceStack, org: uuid.UUID) -> AsyncIterator[Rows]:
    conn = await asyncpg.connect(asyncpg_dsn(evidence_stack.engines.databases["evidence"].app_url))
    await conn.execute("SELECT set_config('aims.org_id', $1, false)", str(org))
    try:
        yield Rows(conn, org)
    finally:
        await conn.close()


def editor(stack: EvidenceStack, org: uuid.UUID, **extra: str) -> dict[str, str]:
    return {**stack.headers(org, "contributor"), **extra}


def manager(stack: EvidenceStack, org: uuid.UUID, **extra: str) -> dict[str, str]:
    return {**stack.headers(org, "manager"), **extra}


async def plan(stack: EvidenceStack, org: uuid.UUID, **body: Any) -> dict[str, Any]:
    response = await stack.evidence.post(
        "/v1/management-reviews",
        json={"title": "Management review", "review_date": TODAY.isoformat(), **body},
        headers=editor(stack, org),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def get(stack: EvidenceStack, org: uuid.UUID, path: str) -> dict[str, Any]:
    response = await stack.evidence.get(path, headers=stack.headers(org))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_action(
    stack: EvidenceStack, org: uuid.UUID, review_id: str, title: str, due: date
) -> dict[str, Any]:
    response = await stack.evidence.post(
        f"/v1/management-reviews/{review_id}/actions",
        json={"title": title, "owner": "ciso@example.com", "due_date": due.isoformat()},
        headers=editor(stack, org),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def patch_action(
    stack: EvidenceStack, org: uuid.UUID, action: dict[str, Any], **body: Any
) -> dict[str, Any]:
    # The overdue timer of an action created past its due date stamps the notice (a new
    # version) at a moment of its own; like any client, read again on 412 and retry.
    for _ in range(5):
        current = await get(stack, org, f"/v1/management-review-actions/{action['id']}")
        response = await stack.evidence.patch(
            f"/v1/management-review-actions/{action['id']}",
            json=body,
            headers=editor(stack, org, **{"If-Match": f'"{current["version"]}"'}),
        )
        if response.status_code != 412:
            break
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_inputs_are_prefilled_as_of_the_review_date(
    evidence_stack: EvidenceStack, org: uuid.UUID, rows: Rows
) -> None:
    stack = evidence_stack
    # An earlier review, held 40 days ago, with two actions: one done today, one still open.
    earlier = await plan(
        stack, org, title="Review 1", review_date=day(40).isoformat(), prefill=False
    )
    held = await stack.evidence.post(
        f"/v1/management-reviews/{earlier['id']}/hold",
        json={"held_on": day(40).isoformat(), "attendees": ["CEO"]},
        headers=manager(stack, org, **{"If-Match": '"1"'}),
    )
    assert held.status_code == 200, held.text
    late = await add_action(stack, org, earlier["id"], "Write the AI policy", day(30))
    pending = await add_action(stack, org, earlier["id"], "Train the board", day(-60))
    for action in (late, pending):
        await rows.set("management_review_action", action["id"], created_at=ago(40))
    await patch_action(stack, org, late, status="done")  # done today, after "yesterday"

    # Nonconformities: one raised 20 days ago and closed today, one closed 15 days ago, one
    # raised today.
    closed_today = await rows.insert(
        "nonconformity",
        severity="major",
        title="No bias test",
        description="",
        status="closed",
        created_at=ago(20),
        closed_at=NOW,
    )
    await rows.insert(
        "nonconformity",
        severity="minor",
        title="Logs kept too briefly",
        description="",
        status="closed",
        created_at=ago(20),
        closed_at=ago(15),
    )
    raised_today = await rows.insert(
        "nonconformity", severity="minor", title="New gap", description="", status="open"
    )
    await rows.insert(
        "corrective_action",
        nonconformity_id=closed_today,
        description="Add a bias test suite",
        owner="ml-lead",
        due_date=day(10),
        status="verified_effective",
        implementation_notes="",
        verification_notes="",
        created_at=ago(18),
        implemented_at=ago(5),
        verified_at=NOW,
    )
    audit = await rows.insert(
        "audit",
        title="Internal audit 2026",
        criteria="ISO/IEC 42001",
        status="completed",
        planned_start=day(14),
        planned_end=day(12),
        completed_on=day(12),
        lead_auditor="Ida",
        conclusion="Two nonconformities.",
        created_at=ago(30),
    )
    ofi = await rows.insert(
        "finding",
        audit_id=audit,
        kind="opportunity_for_improvement",
        title="Automate evidence",
        description="",
        status="open",
        raised_by="Ida",
        raised_at=ago(12),
        created_at=ago(12),
    )

    # An objective set 30 days ago: on target 3 days ago, off target today.
    created = await stack.evidence.post(
        "/v1/objectives",
        json={
            "title": "Accuracy",
            "measure": "accuracy",
            "target_value": 0.9,
            "direction": "at_least",
            "owner": "ml-lead",
            "due_date": day(-90).isoformat(),
        },
        headers=editor(stack, org),
    )
    objective = created.json()
    await rows.set("objective", objective["id"], created_at=ago(30), status_changed_at=ago(30))
    for value, measured in ((0.93, day(3)), (0.85, TODAY)):
        measured_response = await stack.evidence.post(
            f"/v1/objectives/{objective['id']}/measurements",
            json={"value": value, "measured_on": measured.isoformat()},
            headers=editor(stack, org),
        )
        assert measured_response.status_code == 201

    yesterday = await plan(stack, org, title="Review 2", review_date=day(1).isoformat())
    assert yesterday["prefill_as_of"] == day(1).isoformat()
    inputs = yesterday["inputs"]

    previous = inputs["previous_actions"]["auto"]
    assert previous["counts"] == {"total": 2, "open": 2, "done": 0, "cancelled": 0, "overdue": 1}
    by_id = {a["id"]: a for a in previous["items"]}
    assert by_id[late["id"]]["status"] == "open" and by_id[late["id"]]["overdue"] is True
    assert by_id[pending["id"]]["overdue"] is False

    performance = inputs["performance"]["auto"]
    ncs = performance["nonconformities"]
    # Closed today, so still open yesterday; the one raised today did not exist yet.
    assert [n["id"] for n in ncs["items"]] == [str(closed_today)]
    assert ncs["counts"] == {
        "open": 1,
        "open_major": 1,
        "open_minor": 0,
        "raised_since": 2,
        "closed_since": 1,
    }
    [ca] = performance["corrective_actions"]["items"]
    assert ca["status"] == "implemented"  # verified only today
    assert [a["id"] for a in performance["audits"]["completed"]] == [str(audit)]
    assert performance["audits"]["findings_by_kind"] == {
        "opportunity_for_improvement": {"raised": 1, "open": 1}
    }
    assert [f["id"] for f in inputs["opportunities_for_improvement"]["auto"]["items"]] == [str(ofi)]

    [obj] = inputs["objectives"]["auto"]["items"]
    assert (obj["value"], obj["on_target"]) == (0.93, True)
    assert inputs["documented_information"]["auto"]["as_of"] == day(1).isoformat()
    assert inputs["risks"]["auto"]["counts"]["open"] == 0
    # No context recorded in the inventory: every input is still filled, with nothing in it.
    for section in ("changes_in_issues", "changes_in_needs"):
        assert inputs[section]["auto"]["counts"] == {
            "total": 0,
            "new": 0,
            "changed": 0,
            "unchanged": 0,
        }
        assert inputs[section]["auto_note"] is None
    assert all(i["auto"] is not None for i in inputs.values())

    # A review dated today sees today's data.
    current = await plan(stack, org, title="Review 3")
    now_inputs = current["inputs"]
    ncs_now = now_inputs["performance"]["auto"]["nonconformities"]
    assert [n["id"] for n in ncs_now["items"]] == [str(raised_today)]
    assert now_inputs["previous_actions"]["auto"]["counts"]["done"] == 1
    [obj_now] = now_inputs["objectives"]["auto"]["items"]
    assert (obj_now["value"], obj_now["on_target"]) == (0.85, False)
    assert now_inputs["performance"]["auto"]["corrective_actions"]["items"][0]["status"] == (
        "verified_effective"
    )

    # The earlier snapshot is stored: later changes do not rewrite it.
    await rows.set("nonconformity", raised_today, status="closed", closed_at=NOW)
    again = await get(stack, org, f"/v1/management-reviews/{yesterday['id']}")
    assert again["inputs"] == inputs
    # Pre-filling again rebuilds from the data as of the same day: the same picture.
    refreshed = await stack.evidence.post(
        f"/v1/management-reviews/{yesterday['id']}/prefill",
        headers=editor(stack, org, **{"If-Match": f'"{again["version"]}"'}),
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["inputs"]["performance"]["auto"]["nonconformities"] == ncs


async def test_a_review_is_planned_held_and_closed_and_its_record_is_then_final(
    evidence_stack: EvidenceStack, org: uuid.UUID, review_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    review = await plan(stack, org, notes={"changes_in_needs": "Customers ask for model cards."})
    url = f"/v1/management-reviews/{review['id']}"
    assert review["status"] == "planned"
    assert review["inputs"]["changes_in_needs"]["notes"] == "Customers ask for model cards."

    missing = await stack.evidence.patch(url, json={"title": "x"}, headers=editor(stack, org))
    assert missing.status_code == 428
    stale = await stack.evidence.patch(
        url, json={"title": "x"}, headers=editor(stack, org, **{"If-Match": '"7"'})
    )
    assert stale.status_code == 412
    noted = await stack.evidence.patch(
        url,
        json={
            "notes": {
                "changes_in_issues": "EU AI Act GPAI code of practice.",
                "changes_in_needs": "",
            }
        },
        headers=editor(stack, org, **{"If-Match": '"1"'}),
    )
    assert noted.status_code == 200, noted.text
    assert noted.headers["ETag"] == '"2"'
    assert noted.json()["inputs"]["changes_in_needs"]["notes"] == ""
    assert noted.json()["inputs"]["changes_in_issues"]["notes"].startswith("EU AI Act")

    # Holding: managers only, with attendees.
    hold = f"{url}/hold"
    refused = await stack.evidence.post(
        hold, json={}, headers=editor(stack, org, **{"If-Match": '"2"'})
    )
    assert refused.status_code == 403
    nobody = await stack.evidence.post(
        hold, json={}, headers=manager(stack, org, **{"If-Match": '"2"'})
    )
    assert nobody.status_code == 422
    held = await stack.evidence.post(
        hold,
        json={"attendees": ["CEO", "CISO"], "decisions": ["Extend the AIMS to the chatbot."]},
        headers=manager(stack, org, **{"If-Match": '"2"'}),
    )
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["held_on"]) == ("held", TODAY.isoformat())
    action = await add_action(stack, org, review["id"], "Scope the chatbot", day(-30))

    close = f"{url}/close"
    closed = await stack.evidence.post(close, headers=manager(stack, org, **{"If-Match": '"3"'}))
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["decisions"] == ["Extend the AIMS to the chatbot."]
    assert (body["action_count"], body["open_action_count"]) == (1, 1)

    v = f'"{body["version"]}"'
    assert (
        await stack.evidence.patch(
            url, json={"title": "y"}, headers=editor(stack, org, **{"If-Match": v})
        )
    ).status_code == 409
    assert (
        await stack.evidence.post(f"{url}/prefill", headers=editor(stack, org, **{"If-Match": v}))
    ).status_code == 409
    assert (
        await stack.evidence.post(close, headers=manager(stack, org, **{"If-Match": v}))
    ).status_code == 409
    late = await stack.evidence.post(
        f"{url}/actions",
        json={"title": "x", "owner": "y", "due_date": TODAY.isoformat()},
        headers=editor(stack, org),
    )
    assert late.status_code == 409
    # Its actions are still tracked.
    done = await patch_action(stack, org, action, status="done")
    assert done["status"] == "done" and done["closed_at"] is not None
    listed = await get(stack, org, f"{url}/actions")
    assert [a["status"] for a in listed["items"]] == ["done"]

    async def lifecycle() -> bool:
        kinds = {
            e["type"].rsplit(".", 1)[1]
            for e in review_events
            if e["subject"] in (review["id"], action["id"])
        }
        return {"planned", "updated", "held", "closed", "action_created", "action_done"} <= kinds

    await eventually(lifecycle)


async def test_an_overdue_action_is_listed_and_announced(
    evidence_stack: EvidenceStack, org: uuid.UUID, review_events: list[dict[str, Any]]
) -> None:
    stack = evidence_stack
    review = await plan(stack, org, prefill=False)
    overdue = await add_action(stack, org, review["id"], "Overdue", day(1))
    later = await add_action(stack, org, review["id"], "Later", day(-10))
    cancelled = await add_action(stack, org, review["id"], "Cancelled", day(-2))
    await patch_action(stack, org, cancelled, status="cancelled")
    # Past due once cancelled: nothing to announce.
    cancelled = await patch_action(stack, org, cancelled, due_date=day(2).isoformat())
    assert cancelled["overdue"] is False
    assert overdue["overdue"] is True and later["overdue"] is False

    async def announced() -> list[dict[str, Any]] | None:
        return [
            e
            for e in review_events
            if e["type"] == "aims.evidence.management_review.action_overdue"
            and e["subject"] == overdue["id"]
        ] or None

    [event] = await eventually(announced)
    assert event["data"]["overdue"] is True and event["data"]["overdue_notified_at"]
    stored = await get(stack, org, f"/v1/management-review-actions/{overdue['id']}")
    assert stored["version"] == event["dataversion"] == 2

    listed = await get(stack, org, "/v1/management-review-actions?status=open&overdue=true")
    assert [a["id"] for a in listed["items"]] == [overdue["id"]]
    others = await get(stack, org, "/v1/management-review-actions?overdue=false")
    assert {a["id"] for a in others["items"]} == {later["id"], cancelled["id"]}
    assert not [
        e
        for e in review_events
        if e["type"].endswith("action_overdue") and e["subject"] in (later["id"], cancelled["id"])
    ]

    await patch_action(stack, org, overdue, status="done")
    assert (await get(stack, org, "/v1/management-review-actions?overdue=true"))["items"] == []
    batch = await get(
        stack, org, f"/v1/management-review-actions?id={overdue['id']}&id={later['id']}"
    )
    assert {a["id"] for a in batch["items"]} == {overdue["id"], later["id"]}


async def test_other_orgs_see_nothing_and_bad_input_is_refused(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    review = await plan(stack, org, prefill=False)
    action = await add_action(stack, org, review["id"], "Mine", day(-5))
    intruder = uuid7()
    them = {**stack.headers(intruder, "admin"), "If-Match": '"1"'}
    url = f"/v1/management-reviews/{review['id']}"
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"title": "hijacked"}),
        ("POST", f"{url}/prefill", None),
        ("POST", f"{url}/hold", {"attendees": ["x"]}),
        ("POST", f"{url}/close", None),
        ("POST", f"{url}/actions", {"title": "x", "owner": "y", "due_date": TODAY.isoformat()}),
        ("GET", f"{url}/actions", None),
        ("GET", f"/v1/management-review-actions/{action['id']}", None),
        ("PATCH", f"/v1/management-review-actions/{action['id']}", {"status": "done"}),
    ):
        response = await stack.evidence.request(method, path, json=body, headers=them)
        assert response.status_code == 404, (method, path, response.text)
    assert (await get(stack, org, url))["title"] == "Management review"
    assert (await get(stack, org, f"/v1/management-review-actions/{action['id']}"))[
        "status"
    ] == "open"
    theirs = await stack.evidence.get(
        "/v1/management-reviews", params={"id": review["id"]}, headers=them
    )
    assert theirs.json()["items"] == []

    bad: dict[str, Any]
    for bad in (
        {"title": "Re\x00view", "review_date": TODAY.isoformat()},
        {"title": "Review", "review_date": TODAY.isoformat(), "attendees": ["C\x00EO"]},
        {"title": "Review", "review_date": TODAY.isoformat(), "notes": {"risks": "a\x00"}},
        {"title": "Review", "review_date": TODAY.isoformat(), "notes": {"weather": "sunny"}},
        {"title": "Review", "review_date": "2026-13-01"},
        {"title": "Review", "review_date": "0001-01-01"},
    ):
        response = await stack.evidence.post(
            "/v1/management-reviews", json=bad, headers=editor(stack, org)
        )
        assert response.status_code == 422, (bad, response.text)
    for bad in (
        {"title": "A\x00", "owner": "o", "due_date": TODAY.isoformat()},
        {"title": "A", "owner": "o\x00", "due_date": TODAY.isoformat()},
        {"title": "A", "owner": "o", "due_date": TODAY.isoformat(), "description": "\x00"},
        {"title": "A", "owner": "o", "due_date": "9999-12-31"},
    ):
        response = await stack.evidence.post(f"{url}/actions", json=bad, headers=editor(stack, org))
        assert response.status_code == 422, (bad, response.text)
    decisions = await stack.evidence.patch(
        url,
        json={"decisions": ["ok", "bad\x00"]},
        headers=editor(stack, org, **{"If-Match": '"1"'}),
    )
    assert decisions.status_code == 422
    assert (await get(stack, org, url))["decisions"] == []
    unknown = await stack.evidence.get(
        "/v1/management-review-actions", params={"overdu": "true"}, headers=stack.headers(org)
    )
    assert unknown.status_code == 400
    owner = await stack.evidence.get(
        "/v1/management-review-actions", params={"owner": "x\x00"}, headers=stack.headers(org)
    )
    assert owner.status_code == 422
    listed = await get(stack, org, "/v1/management-reviews")
    assert [r["id"] for r in listed["items"]] == [review["id"]]
    auditor = await stack.evidence.post(
        "/v1/management-reviews",
        json={"title": "x", "review_date": TODAY.isoformat()},
        headers=stack.headers(org, "auditor"),
    )
    assert auditor.status_code == 403
