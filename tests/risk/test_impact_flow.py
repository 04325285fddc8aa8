"""Impact assessments never dead-end: in review they can be sent back to draft, rejected with a
reason or withdrawn, and a rejected or withdrawn one can be reopened. Through REST; events and
history as every other change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext

from shared.db import outbox_table
from tests.risk.test_impact import BASE, COMPLETE, create, editor, js, manager, put_system

pytestmark = pytest.mark.engines
__all__ = ["js"]  # the fixture, re-used


def contributor(stack: Any, org: uuid.UUID, who: str) -> dict[str, str]:
    return dict(stack.headers(org, "contributor", subject=who))


async def post(stack: Any, url: str, headers: dict[str, str], body: Any = None) -> Any:
    if body is None:
        return await stack.risk.post(url, headers=headers)
    return await stack.risk.post(url, json=body, headers=headers)


async def in_review(stack: Any, js: JetStreamContext, org: uuid.UUID) -> dict[str, Any]:
    system_id = await put_system(stack, js, org, sector="education")
    draft = await create(stack, org, system_id, COMPLETE)
    submitted = await post(stack, f"{BASE}/{draft['id']}/submit", editor(stack, org))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_review"
    return dict(submitted.json())


async def test_send_back_edit_and_resubmit(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    assessment = await in_review(stack, js, org)
    url = f"{BASE}/{assessment['id']}"
    # Only a reviewer or the author may send it back.
    stranger = await post(stack, f"{url}/send-back", contributor(stack, org, "zoe"))
    assert stranger.status_code == 403, stranger.text
    assert stranger.json()["code"] == "impact-assessment-reviewer-or-author-only"
    stale = await post(
        stack, f"{url}/send-back", {**manager(stack, org), "If-Match": '"1"'}, {"reason": "x"}
    )
    assert stale.status_code == 412

    back = await post(
        stack, f"{url}/send-back", manager(stack, org), {"reason": "Cite the works council."}
    )
    assert back.status_code == 200, back.text
    body = back.json()
    assert body["status"] == "draft" and body["version"] == 3
    assert body["returned_by"] == "bob" and body["return_reason"] == "Cite the works council."
    assert back.headers["etag"] == '"3"'
    # Editable again, and submitted again.
    edited = await stack.risk.patch(
        url,
        json={"legal_context": "GDPR; works council agreement of 2026"},
        headers={**editor(stack, org), "If-Match": '"3"'},
    )
    assert edited.status_code == 200, edited.text
    again = await post(stack, f"{url}/submit", editor(stack, org))
    assert again.status_code == 200 and again.json()["status"] == "in_review"
    # The author may pull it back too (no reason needed).
    recalled = await post(stack, f"{url}/send-back", editor(stack, org))
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["returned_by"] == "alice" and recalled.json()["return_reason"] is None
    # A draft cannot be sent back.
    twice = await post(stack, f"{url}/send-back", manager(stack, org))
    assert twice.status_code == 409
    assert twice.json()["code"] == "impact-assessment-invalid-transition"

    history = (await stack.risk.get(f"{url}/history", headers=editor(stack, org))).json()
    assert [h["action"] for h in history["items"]] == [
        "sent_back",
        "submitted",
        "updated",
        "sent_back",
        "submitted",
        "created",
    ]
    assert history["items"][3]["changes"] == {
        "status": "draft",
        "reason": "Cite the works council.",
    }


async def test_reject_with_a_reason_then_reopen(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    assessment = await in_review(stack, js, org)
    url = f"{BASE}/{assessment['id']}"
    for body in (None, {}, {"reason": "  "}, {"reason": "a\x00b"}, {"reason": "x" * 4001}):
        missing = await post(stack, f"{url}/reject", manager(stack, org), body)
        assert missing.status_code == 422, (body, missing.text)
        assert missing.headers["content-type"].startswith("application/problem+json")
    # Rejecting is a reviewer's act, never the author's (separation of duties).
    author = await post(
        stack, f"{url}/reject", manager(stack, org, "alice"), {"reason": "Mine, but bad"}
    )
    assert author.status_code == 403 and author.json()["code"] == "separation-of-duties"
    editor_try = await post(stack, f"{url}/reject", editor(stack, org, "erin"), {"reason": "No"})
    assert editor_try.status_code == 403

    rejected = await post(
        stack, f"{url}/reject", manager(stack, org), {"reason": "Wrong system assessed."}
    )
    assert rejected.status_code == 200, rejected.text
    state = rejected.json()
    assert state["status"] == "rejected"
    assert state["rejected_by"] == "bob" and state["rejected_at"]
    assert state["rejection_reason"] == "Wrong system assessed."
    for action in ("approve", "submit", "reject", "send-back"):
        refused = await post(stack, f"{url}/{action}", manager(stack, org), {"reason": "x"})
        assert refused.status_code == 409, (action, refused.text)
    patch = await stack.risk.patch(
        url, json={"purpose": "x"}, headers={**editor(stack, org), "If-Match": '"3"'}
    )
    assert patch.status_code == 409

    listed = await stack.risk.get(
        BASE, params={"status": "rejected"}, headers=stack.headers(org, "viewer")
    )
    assert [a["id"] for a in listed.json()["items"]] == [assessment["id"]]

    reopened = await post(stack, f"{url}/reopen", editor(stack, org))
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "draft"
    assert reopened.json()["rejection_reason"] == "Wrong system assessed."  # kept on record
    approved_path = await post(stack, f"{url}/submit", editor(stack, org))
    assert approved_path.status_code == 200
    approved = await post(stack, f"{url}/approve", manager(stack, org))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    db = stack.apps["risk"].state.ctx.db
    async with db.sessions() as session:
        rows = (
            await session.execute(
                sa.select(outbox_table.c.type, outbox_table.c.envelope)
                .where(outbox_table.c.envelope["subject"].astext == assessment["id"])
                .order_by(outbox_table.c.seq)
            )
        ).all()
    assert [(r.type.rsplit(".", 1)[-1], r.envelope["data"]["status"]) for r in rows] == [
        ("created", "draft"),
        ("updated", "in_review"),
        ("updated", "rejected"),
        ("updated", "draft"),
        ("updated", "in_review"),
        ("approved", "approved"),
    ]
    assert [r.envelope["dataversion"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[2].envelope["data"]["rejection_reason"] == "Wrong system assessed."


async def test_withdraw_from_review_or_draft(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    assessment = await in_review(stack, js, org)
    url = f"{BASE}/{assessment['id']}"
    stranger = await post(stack, f"{url}/withdraw", contributor(stack, org, "zoe"))
    assert stranger.status_code == 403
    viewer = await post(stack, f"{url}/withdraw", stack.headers(org, "viewer"))
    assert viewer.status_code == 403
    withdrawn = await post(
        stack, f"{url}/withdraw", editor(stack, org), {"reason": "System dropped from the plan."}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawn_by"] == "alice"
    assert withdrawn.json()["withdrawal_reason"] == "System dropped from the plan."
    assert (await post(stack, f"{url}/withdraw", editor(stack, org))).status_code == 409
    assert (await post(stack, f"{url}/approve", manager(stack, org))).status_code == 409

    # A withdrawn one can be reopened; a draft can be withdrawn (by a reviewer, too).
    assert (await post(stack, f"{url}/reopen", editor(stack, org, "erin"))).status_code == 200
    by_reviewer = await post(stack, f"{url}/withdraw", manager(stack, org))
    assert by_reviewer.status_code == 200 and by_reviewer.json()["withdrawn_by"] == "bob"
    # Only rejected or withdrawn ones reopen.
    system_id = uuid.UUID(assessment["system_id"])
    fresh = await create(stack, org, system_id, COMPLETE)
    refused = await post(stack, f"{BASE}/{fresh['id']}/reopen", editor(stack, org))
    assert refused.status_code == 409


async def test_another_organisation_cannot_move_an_assessment(
    stack: Any, js: JetStreamContext, org: uuid.UUID
) -> None:
    assessment = await in_review(stack, js, org)
    other = stack.headers(uuid.uuid4(), "admin")
    url = f"{BASE}/{assessment['id']}"
    for action, body in (
        ("send-back", None),
        ("reject", {"reason": "no"}),
        ("withdraw", None),
        ("reopen", None),
    ):
        response = await post(stack, f"{url}/{action}", other, body)
        assert response.status_code == 404, (action, response.text)
    unchanged = (await stack.risk.get(url, headers=editor(stack, org))).json()
    assert unchanged["status"] == "in_review" and unchanged["version"] == 2
    unknown = await post(stack, f"{BASE}/{uuid.uuid4()}/send-back", manager(stack, org))
    assert unknown.status_code == 404
    bad_id = await post(stack, f"{BASE}/not-a-uuid/withdraw", manager(stack, org))
    assert bad_id.status_code == 422
