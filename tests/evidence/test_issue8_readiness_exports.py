"""Issue 8, what leaves the product: the readiness report a CEO can forward (verdict, score,
rules, every blocker with what to do, owner and where to fix it, the remediation plan and the
certification timeline), the same in the audit package (checked against its manifest), and
``milestone.overdue`` delivered to a GRC platform as a signed webhook.

Arranged through the services' REST APIs, read back through the gateway with the caller's own
token, as an auditor or a CEO would get them.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.exports.verify import verify_package
from shared.testing import eventually
from tests.conftest import Stack
from tests.evidence.documented_helpers import approve_scope, register
from tests.gateway.webhooks.test_delivery_webhooks import (
    Receiver,
    subscribe,
    verify,
)

pytestmark = pytest.mark.engines

TODAY = datetime.now(UTC).date()


async def set_plan(stack: Stack, org: uuid.UUID, days_ahead: int) -> dict[str, Any]:
    response = await stack.evidence.put(
        "/v1/certification-plan",
        json={
            "target_date": (TODAY + timedelta(days=days_ahead)).isoformat(),
            "aims_lead": "lead@example.com",
        },
        headers=stack.headers(org, "manager"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_readiness_report_and_the_package_show_blockers_plan_and_timeline(
    stack: Stack, org: uuid.UUID, tmp_path: Path
) -> None:
    system = await register(stack, org, "Loan <approval> model")
    await approve_scope(stack, org, {system: True})
    plan = await set_plan(stack, org, 30)  # too near: no longer reachable
    assert plan["reachable"] is False

    viewer = stack.headers(org, "viewer")

    async def scoped() -> dict[str, Any] | None:
        body: dict[str, Any] = (await stack.evidence.get("/v1/readiness", headers=viewer)).json()
        return body if "no_approved_scope" not in body["blocker_counts"] else None

    readiness = await eventually(scoped)
    tasks = (await stack.evidence.get("/v1/readiness/plan", headers=viewer)).json()["tasks"]
    report = await stack.gateway.get("/v1/exports/readiness-report.html", headers=viewer)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("text/html")
    page = report.text

    assert "Verdict:" in page and "not ready" in page
    assert f"Score {readiness['score']} / 100" in page
    assert html.escape(readiness["verdict_reason"], quote=True) in page
    # Every blocker with what to do, who owns it and where to fix it (escaped, never markup).
    for blocker in readiness["blockers"]:
        for key in ("title", "what_to_do", "owner", "where_to_fix"):
            assert html.escape(str(blocker[key]), quote=True) in page, (blocker["key"], key)
    for rule in readiness["rules"]:
        assert html.escape(rule["description"], quote=True) in page
    assert "Loan &lt;approval&gt; model" in page and "<approval>" not in page
    # The remediation plan, Stage 1 first, each task with its owner and due date.
    assert "Remediation plan" in page
    assert tasks and tasks[0]["stage"] == "stage1"
    first = page.index(html.escape(tasks[0]["title"], quote=True))
    last = page.index(html.escape(tasks[-1]["title"], quote=True), first)
    assert first < last
    assert "lead@example.com" in page and tasks[0]["due_date"] in page
    # The certification timeline, with the target no longer reachable and why.
    assert "Certification timeline" in page and "not reachable" in page
    assert "no longer reachable" in page
    for milestone in plan["milestones"]:
        assert html.escape(milestone["title"], quote=True) in page
        assert milestone["planned_end"] in page
    # Clauses and controls with their status.
    assert "Clauses 4–10" in page and "Annex A controls" in page
    assert "<strong>4.1</strong>" in page and "<strong>A.2.2</strong>" in page

    package = await stack.gateway.get("/v1/exports/audit-package", headers=viewer)
    assert package.status_code == 200, package.text
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["path"]: f for f in manifest["files"]}
    for path in (
        "readiness/readiness.json",
        "readiness/readiness-report.html",
        "readiness/remediation-plan.json",
        "readiness/certification-plan.json",
    ):
        assert path in listed, path
        content = archive.read(path)
        assert hashlib.sha256(content).hexdigest() == listed[path]["sha256"]
    packed_tasks = json.loads(archive.read("readiness/remediation-plan.json"))["tasks"]
    assert [t["code"] for t in packed_tasks] == [t["code"] for t in tasks]
    packed_plan = json.loads(archive.read("readiness/certification-plan.json"))
    assert packed_plan["certification_plan"]["reachable"] is False
    assert [m["kind"] for m in packed_plan["certification_plan"]["milestones"]] == [
        m["kind"] for m in plan["milestones"]
    ]
    assert manifest["unavailable"] == []
    saved = tmp_path / "package.zip"
    saved.write_bytes(package.content)
    check = verify_package(saved)
    assert check.valid and check.ok == len(listed)


async def test_without_a_certification_plan_the_report_says_so_and_the_package_holds_null(
    stack: Stack, org: uuid.UUID
) -> None:
    viewer = stack.headers(org, "viewer")
    report = await stack.gateway.get("/v1/exports/readiness-report.html", headers=viewer)
    assert report.status_code == 200, report.text
    assert "No certification plan is set" in report.text
    package = await stack.gateway.get("/v1/exports/audit-package", headers=viewer)
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    assert json.loads(archive.read("readiness/certification-plan.json")) == {
        "certification_plan": None
    }
    # No plan is not a part missing from the package.
    assert json.loads(archive.read("manifest.json"))["unavailable"] == []


async def test_milestone_overdue_reaches_a_grc_platform_as_a_signed_webhook(
    stack: Stack,
    org: uuid.UUID,
    receiver: Receiver,
) -> None:
    sub = await subscribe(stack, org, receiver.url, ["milestone.overdue"])
    plan = await set_plan(stack, org, 30)
    first = plan["milestones"][0]
    assert first["status"] == "overdue"  # its planned end is already past

    async def delivered() -> dict[str, Any] | None:
        # Every milestone already past its end is announced; find the first one's.
        for delivery in receiver.received:
            event = verify(sub["secret"], delivery)
            if event["subject"] == first["id"]:
                return event
        return None

    event = await eventually(delivered, timeout=30)
    assert event["type"] == "aims.evidence.milestone.overdue"
    assert event["orgid"] == str(org)
    assert event["data"]["kind"] == "readiness_assessment"
    assert event["data"]["status"] == "overdue"
    assert event["data"]["overdue_notified_at"] is not None
    # Only the subscribed type is delivered (no certification_plan.updated).
    types = {verify(sub["secret"], d)["type"] for d in receiver.received}
    assert types == {"aims.evidence.milestone.overdue"}
