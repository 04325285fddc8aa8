"""Deleting evidence: roles, retention, legal hold, soft delete; time-based events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.evidence.conftest import EvidenceStack
from tests.evidence.items_api import approved_item, create_item, get_item, listen

pytestmark = pytest.mark.engines


def is_event(type_: str, subject: str, event: dict[str, Any]) -> bool:
    return bool(event["type"] == type_ and event["subject"] == subject)


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def test_deleting_needs_a_manager_and_is_refused_during_retention(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org, retention_until=day(0))
    path = f"/v1/evidence/{item['id']}"

    by_contributor = await stack.evidence.delete(
        path, headers={**stack.headers(org, "contributor"), "If-Match": '"1"'}
    )
    retained = await stack.evidence.delete(
        path, headers={**stack.headers(org, "manager"), "If-Match": '"1"'}
    )

    assert by_contributor.status_code == 403
    assert retained.status_code == 409
    assert retained.json()["code"] == "retention-applies"
    assert retained.json()["retention_until"] == day(0)
    assert day(0) in retained.json()["detail"]
    assert (await get_item(stack, org, item["id"])).status_code == 200


async def test_a_legal_hold_blocks_deletion_until_lifted(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    item = await create_item(stack, org, retention_until=day(-1))
    path = f"/v1/evidence/{item['id']}"
    manager = stack.headers(org, "manager", subject="legal")

    refused_role = await stack.evidence.put(
        f"{path}/legal-hold", json={"reason": "x"}, headers=stack.headers(org, "contributor")
    )
    no_reason = await stack.evidence.put(f"{path}/legal-hold", json={}, headers=manager)
    held = await stack.evidence.put(
        f"{path}/legal-hold", json={"reason": "Litigation 2026-17"}, headers=manager
    )
    blocked = await stack.evidence.delete(
        path, headers={**manager, "If-Match": held.headers["etag"]}
    )

    assert refused_role.status_code == 403
    assert no_reason.status_code == 422
    assert held.status_code == 200
    assert (held.json()["legal_hold"], held.json()["legal_hold_reason"]) == (
        True,
        "Litigation 2026-17",
    )
    assert held.json()["legal_hold_by"] == "legal"
    assert blocked.status_code == 409
    assert blocked.json()["code"] == "legal-hold-applies"
    assert "Litigation 2026-17" in blocked.json()["detail"]

    lifted = await stack.evidence.delete(f"{path}/legal-hold", headers=manager)
    assert lifted.status_code == 200 and lifted.json()["legal_hold"] is False
    async with listen(stack, "aims.evidence.evidence.deleted") as events:
        deleted = await stack.evidence.delete(
            path, headers={**manager, "If-Match": lifted.headers["etag"]}
        )
        assert deleted.status_code == 204
        event = await events.wait_for(lambda e: e["subject"] == item["id"])
    assert event["data"]["deleted_by"] == "legal"
    assert event["data"]["deleted_at"] is not None


async def test_a_deleted_item_is_hidden_but_its_record_and_links_stay(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    system = await stack.register_system(org)
    item = await approved_item(
        stack, org, links=[{"target_type": "system", "target_id": system["id"]}]
    )
    version = await stack.evidence.get(
        f"/v1/evidence/{item['id']}/versions/1", headers=stack.headers(org)
    )
    file_id = version.json()["files"][0]["id"]

    stale = await stack.evidence.delete(
        f"/v1/evidence/{item['id']}", headers={**stack.headers(org, "admin"), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    deleted = await stack.evidence.delete(
        f"/v1/evidence/{item['id']}",
        headers={**stack.headers(org, "admin"), "If-Match": f'"{item["version"]}"'},
    )
    assert deleted.status_code == 204

    assert (await get_item(stack, org, item["id"])).status_code == 404
    listed = await stack.evidence.get(
        "/v1/evidence", params={"system": system["id"]}, headers=stack.headers(org)
    )
    assert listed.json()["items"] == []
    assert (
        await stack.evidence.get(f"/v1/files/{file_id}", headers=stack.headers(org))
    ).status_code == 404
    by_target = await stack.evidence.get(
        "/v1/evidence-by-target",
        params={"target_type": "system", "target_id": system["id"]},
        headers=stack.headers(org),
    )
    assert by_target.json()["items"][0]["total_count"] == 0
    summary = await stack.evidence.get(f"/v1/systems/{system['id']}", headers=stack.headers(org))
    assert summary.json()["file_count"] == 0
    # The blob stays: the deletion is soft and the record is kept.
    assert len(stack.org_blobs(org)) == 1


async def test_passing_dates_emit_review_due_expired_and_retention_ended(
    evidence_stack: EvidenceStack, org: uuid.UUID
) -> None:
    stack = evidence_stack
    types = (
        "aims.evidence.evidence.review_due",
        "aims.evidence.evidence.expired",
        "aims.evidence.evidence.retention_ended",
    )
    async with listen(stack, *types) as events:
        item = await approved_item(
            stack,
            org,
            effective_from=day(-30),
            effective_to=day(-1),
            review_by=day(-1),
            retention_until=day(-1),
        )
        future = await create_item(stack, org, review_by=day(1), retention_until=day(0))
        for type_ in types:
            await events.wait_for(partial(is_event, type_, item["id"]))

    expired = (await get_item(stack, org, item["id"])).json()
    assert expired["status"] == "expired"
    [event] = events.of("aims.evidence.evidence.expired", item["id"])
    assert event["data"]["item"]["status"] == "expired"
    assert event["data"]["date"] == day(-1)
    assert events.of("aims.evidence.evidence.review_due", future["id"]) == []
    assert events.of("aims.evidence.evidence.retention_ended", future["id"]) == []
