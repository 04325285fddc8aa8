"""Management review inputs b) and c) of ISO/IEC 42001 9.3.2 — changes in external and internal
issues, and in the needs and expectations of interested parties — pre-filled from the inventory's
context register as it stood on the review date; and the risks (6.1) as they stood then.

Issues and parties are recorded through the inventory's REST API and reach the evidence service
as events; versions with past timestamps (an issue recorded 100 days ago) cannot be made through
the API, so they are inserted as the evidence service's role under the test organisation's
row-level security, as tests/evidence/test_management_review.py does for its rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from shared.db import uuid7
from shared.runtime.provision import asyncpg_dsn
from shared.testing import eventually
from tests.conftest import Stack
from tests.evidence.conftest import EvidenceStack

pytestmark = pytest.mark.engines

NOW = datetime.now(UTC)
TODAY = NOW.date()


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


@pytest.fixture
async def conn(stack: Stack, org: uuid.UUID) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_dsn(stack.engines.databases["evidence"].app_url))
    await connection.execute("SELECT set_config('aims.org_id', $1, false)", str(org))
    try:
        yield connection
    finally:
        await connection.close()


async def version(
    conn: asyncpg.Connection,
    org: uuid.UUID,
    entity_type: str,
    entity_id: uuid.UUID,
    number: int,
    recorded: datetime,
    changed: datetime,
    title: str,
    data: str = "{}",
) -> None:
    await conn.execute(
        "INSERT INTO review_source_version (id, org_id, entity_type, entity_id, source_version,"
        " recorded_at, changed_at, title, data, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, now())",
        uuid7(),
        org,
        entity_type,
        entity_id,
        number,
        recorded,
        changed,
        title,
        data,
    )


async def received(conn: asyncpg.Connection, entity_id: str, versions: int) -> None:
    """Wait until the evidence service has ``versions`` versions of the inventory's entry."""

    async def arrived() -> bool:
        count = await conn.fetchval(
            "SELECT count(*) FROM review_source_version WHERE entity_id = $1",
            uuid.UUID(entity_id),
        )
        return bool(count == versions)

    await eventually(arrived, timeout=30)


async def plan(
    stack: EvidenceStack | Stack, org: uuid.UUID, review_date: date, **body: Any
) -> dict[str, Any]:
    response = await stack.evidence.post(
        "/v1/management-reviews",
        json={"title": "Management review", "review_date": review_date.isoformat(), **body},
        headers=stack.headers(org, "contributor"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_changes_in_issues_and_needs_are_prefilled_as_of_the_review_date(
    evidence_stack: EvidenceStack, org: uuid.UUID, conn: asyncpg.Connection
) -> None:
    stack = evidence_stack
    inventory = stack.headers(org, "contributor")
    # An issue and a party recorded today, through the inventory; the issue changed today too.
    issue = await stack.inventory.post(
        "/v1/context-issues",
        json={
            "kind": "external",
            "framework": "pestle",
            "category": "legal",
            "title": "Règlement IA : obligations GPAI ✓",
            "impact": "Model cards for every GPAI model we integrate.",
        },
        headers=inventory,
    )
    assert issue.status_code == 201, issue.text
    party = await stack.inventory.post(
        "/v1/interested-parties",
        json={
            "name": "Customers' works council",
            "type": "employee",
            "requirements": [{"text": "Explain automated CV screening decisions"}],
        },
        headers=inventory,
    )
    assert party.status_code == 201, party.text
    changed = await stack.inventory.patch(
        f"/v1/context-issues/{issue.json()['id']}",
        json={"impact": "Model cards and a GPAI register."},
        headers={**inventory, "If-Match": issue.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    await received(conn, issue.json()["id"], 2)
    await received(conn, party.json()["id"], 1)

    # Older history: an issue recorded 100 days ago and changed 10 days ago (then again today),
    # one recorded 100 days ago and never changed, a party recorded 20 days ago.
    moved, steady, regulator = uuid7(), uuid7(), uuid7()
    await version(conn, org, "context_issue", moved, 1, ago(100), ago(100), "Talent shortage")
    await version(conn, org, "context_issue", moved, 2, ago(100), ago(10), "Talent shortage: ML")
    await version(conn, org, "context_issue", moved, 3, ago(100), NOW, "Talent shortage: all")
    await version(conn, org, "context_issue", steady, 1, ago(100), ago(100), "Cloud lock-in")
    await version(
        conn,
        org,
        "interested_party",
        regulator,
        1,
        ago(20),
        ago(20),
        "Data protection authority",
        '{"type": "regulator", "requirements_total": 2, "requirements_unaddressed": 1}',
    )

    # The previous review was held 40 days ago; this one is dated yesterday.
    earlier = await plan(stack, org, day(40), prefill=False)
    held = await stack.evidence.post(
        f"/v1/management-reviews/{earlier['id']}/hold",
        json={"held_on": day(40).isoformat(), "attendees": ["CEO"]},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert held.status_code == 200, held.text
    yesterday = await plan(stack, org, day(1))
    issues = yesterday["inputs"]["changes_in_issues"]
    assert issues["auto_note"] is None
    # As of yesterday: today's issue did not exist; "moved" changed 10 days ago (its version of
    # today is not shown); "steady" did not change since the previous review.
    assert issues["auto"]["counts"] == {"total": 2, "new": 0, "changed": 1, "unchanged": 1}
    [item] = issues["auto"]["items"]
    assert (item["id"], item["change"], item["title"]) == (
        str(moved),
        "changed",
        "Talent shortage: ML",
    )
    assert issues["auto"]["since"].startswith(day(39).isoformat())
    needs = yesterday["inputs"]["changes_in_needs"]["auto"]
    assert needs["counts"] == {"total": 1, "new": 1, "changed": 0, "unchanged": 0}
    [new_party] = needs["items"]
    assert new_party["id"] == str(regulator) and new_party["change"] == "new"
    assert new_party["requirements_unaddressed"] == 1

    # A review dated today sees today's issue (as changed today) and party, with what the
    # inventory recorded of them.
    today = await plan(stack, org, TODAY)
    now_issues = today["inputs"]["changes_in_issues"]["auto"]
    assert now_issues["counts"] == {"total": 3, "new": 1, "changed": 1, "unchanged": 1}
    by_id = {i["id"]: i for i in now_issues["items"]}
    fresh = by_id[issue.json()["id"]]
    assert fresh["change"] == "new" and fresh["title"] == "Règlement IA : obligations GPAI ✓"
    assert fresh["impact"] == "Model cards and a GPAI register."
    assert (fresh["kind"], fresh["category"]) == ("external", "legal")
    assert by_id[str(moved)]["title"] == "Talent shortage: all"
    now_needs = today["inputs"]["changes_in_needs"]["auto"]
    assert now_needs["counts"]["total"] == 2 and now_needs["counts"]["new"] == 2
    council = next(p for p in now_needs["items"] if p["id"] == party.json()["id"])
    assert council["requirements"] == [
        {"text": "Explain automated CV screening decisions", "addressed": False}
    ]
    assert council["requirements_unaddressed"] == 1

    # The stored snapshot stays as it was; another organisation sees none of this.
    again = await stack.evidence.get(
        f"/v1/management-reviews/{yesterday['id']}", headers=stack.headers(org)
    )
    assert again.json()["inputs"]["changes_in_issues"] == issues
    stranger = await plan(stack, uuid7(), TODAY)
    assert stranger["inputs"]["changes_in_issues"]["auto"]["counts"]["total"] == 0
    assert stranger["inputs"]["changes_in_needs"]["auto"]["items"] == []


def risk_data(status: str, level: str, review: datetime | None) -> str:
    return json.dumps(
        {
            "system_id": None,
            "status": status,
            "inherent_level": level,
            "residual_level": None,
            "owner": "risk.owner@example.com",
            "next_review_at": review.isoformat() if review else None,
        }
    )


async def test_risks_are_prefilled_as_they_stood_on_the_review_date(
    stack: Stack, org: uuid.UUID, conn: asyncpg.Connection
) -> None:
    # A risk registered today through the risk service.
    created = await stack.risk.post(
        "/v1/risks",
        json={
            "title": "Biais de sélection ✓",
            "domain_id": "1",
            "subdomain_id": "1.1",
            "entity": "ai",
            "intent": "unintentional",
            "timing": "post_deployment",
            "likelihood": 3,
            "severity": 4,
        },
        headers=stack.headers(org, "risk_owner"),
    )
    assert created.status_code == 201, created.text
    today_risk = created.json()
    await received(conn, today_risk["id"], 1)
    # History: one open 30 days, its review due 5 days ago, closed today; one closed 10 days ago.
    closed_today, closed_earlier = uuid7(), uuid7()
    data = risk_data("open", "high", ago(5))
    await version(conn, org, "risk", closed_today, 1, ago(30), ago(30), "Drift", data)
    closed = risk_data("closed", "high", None)
    await version(conn, org, "risk", closed_today, 2, ago(30), NOW, "Drift", closed)
    await version(conn, org, "risk", closed_earlier, 1, ago(60), ago(60), "Leak", data)
    await version(conn, org, "risk", closed_earlier, 2, ago(60), ago(10), "Leak", closed)

    yesterday = (await plan(stack, org, day(1)))["inputs"]["risks"]["auto"]
    assert yesterday["state"].startswith("as of the as-of moment")
    assert yesterday["counts"] == {
        "open": 1,
        "by_status": {"open": 1},
        "by_level": {"high": 1},
        "review_overdue": 1,
    }
    [drift] = yesterday["items"]
    assert (drift["id"], drift["status"], drift["review_overdue"]) == (
        str(closed_today),
        "open",
        True,
    )

    now = (await plan(stack, org, TODAY))["inputs"]["risks"]["auto"]
    assert [r["id"] for r in now["items"]] == [today_risk["id"]]
    [fresh] = now["items"]
    assert fresh["title"] == "Biais de sélection ✓"
    assert fresh["status"] == today_risk["status"]
    assert fresh["inherent_level"] == today_risk["inherent_level"]
    assert now["counts"]["open"] == 1 and now["counts"]["review_overdue"] == 0
