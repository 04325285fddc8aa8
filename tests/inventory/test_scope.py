"""The AIMS scope (ISO/IEC 42001 4.3): drafts, approval rules, the current version, diffs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import nats
import pytest
import sqlalchemy as sa

from services.inventory.components.graph import Reach, breadth_first
from services.inventory.scope.checks import dependency_warnings
from shared.db import tenant_transaction

pytestmark = pytest.mark.engines

JUSTIFIED = "Batch analytics with no effect on individuals; reviewed by the DPO."


async def register(stack: Any, org: uuid.UUID, name: str, **fields: Any) -> str:
    response = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name, **fields}, headers=stack.headers(org, "manager")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def set_tier(stack: Any, org: uuid.UUID, system_id: str, tier: str) -> None:
    """The tier mirrors the risk service's classification; set it as its consumer would."""
    db = stack.apps["inventory"].state.ctx.db
    async with tenant_transaction(db, org) as session:
        await session.execute(
            sa.text("UPDATE ai_system SET eu_ai_act_tier = :tier WHERE id = :id"),
            {"tier": tier, "id": uuid.UUID(system_id)},
        )


async def create_draft(stack: Any, org: uuid.UUID, **body: Any) -> dict[str, Any]:
    response = await stack.inventory.post(
        "/v1/scope-versions", json=body, headers=stack.headers(org, "contributor")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def approve(stack: Any, org: uuid.UUID, version_id: str, role: str = "manager") -> Any:
    return await stack.inventory.post(
        f"/v1/scope-versions/{version_id}/approve",
        headers=stack.headers(org, role, subject="ceo"),
    )


async def in_scope(stack: Any, org: uuid.UUID, system_id: str) -> bool | None:
    response = await stack.inventory.get(f"/v1/ai-systems/{system_id}", headers=stack.headers(org))
    value: bool | None = response.json()["in_scope"]
    return value


async def test_exclusion_needs_a_justification(stack: Any, org: uuid.UUID) -> None:
    for body in (
        {"locations": [{"name": "Singapore", "included": False}]},
        {"systems": [{"system_id": str(uuid.uuid4()), "included": False, "justification": " "}]},
    ):
        response = await stack.inventory.post(
            "/v1/scope-versions", json=body, headers=stack.headers(org, "contributor")
        )
        assert response.status_code == 422, body
        assert "justification" in response.text


async def test_approval_lists_every_reason_then_succeeds_once_fixed(
    stack: Any, org: uuid.UUID
) -> None:
    high = await register(stack, org, "CV ranker", owner="hr@example.com", sector="general")
    await set_tier(stack, org, high, "high")
    hiring = await register(stack, org, "Interview scheduler", sector="hiring_employment")
    ownerless = await register(stack, org, "Chatbot")
    unlisted = await register(stack, org, "Forgotten script", owner="it@example.com")
    unknown = str(uuid.uuid4())
    draft = await create_draft(
        stack,
        org,
        statement="AI in recruitment",
        locations=[{"name": "Remote", "included": False, "justification": "No AI work there"}],
        systems=[
            {"system_id": high, "included": False, "justification": "legacy"},
            {"system_id": hiring, "included": False, "justification": "too short"},
            {"system_id": ownerless, "included": True},
            {"system_id": unknown, "included": True},
        ],
    )
    assert draft["status"] == "draft" and draft["number"] == 1

    check = await stack.inventory.get(
        f"/v1/scope-versions/{draft['id']}/check", headers=stack.headers(org, "auditor")
    )
    assert check.status_code == 200 and check.json()["approvable"] is False

    refused = await approve(stack, org, draft["id"])
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "scope-approval-refused"
    reasons = {(r["code"], r.get("system_id")) for r in problem["reasons"]}
    assert reasons == {
        ("excluded-high-risk-system", high),
        ("excluded-sensitive-system-unjustified", hiring),
        ("in-scope-system-without-owner", ownerless),
        ("unknown-system", unknown),
        ("no-boundaries", None),
    }
    assert {(r["code"], r.get("system_id")) for r in check.json()["reasons"]} == reasons
    # Nothing changed: still a draft, no system flagged.
    assert (
        await stack.inventory.get(f"/v1/scope-versions/{draft['id']}", headers=stack.headers(org))
    ).json()["status"] == "draft"
    assert await in_scope(stack, org, ownerless) is None

    owner = await stack.inventory.patch(
        f"/v1/ai-systems/{ownerless}",
        json={"owner": "cx@example.com"},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert owner.status_code == 200, owner.text
    fixed = await stack.inventory.patch(
        f"/v1/scope-versions/{draft['id']}",
        json={
            "activities": [{"name": "Recruitment"}],
            "systems": [
                {"system_id": high, "included": True},
                {"system_id": hiring, "included": False, "justification": JUSTIFIED},
                {"system_id": ownerless, "included": True},
            ],
        },
        headers={**stack.headers(org, "contributor"), "If-Match": f'"{draft["version"]}"'},
    )
    assert fixed.status_code == 200, fixed.text

    nc = await nats.connect(stack.engines.nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(
            stack.engines.subject_prefix + "aims.inventory.*.changed",
            stream=stack.engines.stream,
            ordered_consumer=True,
        )
        approved = await approve(stack, org, draft["id"])
        assert approved.status_code == 200, approved.text
        body = approved.json()
        assert body["warnings"] == []
        version = body["scope_version"]
        assert version["status"] == "approved" and version["approved_by"] == "ceo"
        assert version["approved_at"] is not None

        # Each system's membership comes first (same transaction, outbox order), then the
        # scope's summary.
        event: dict[str, Any] = {}
        membership: dict[str, bool] = {}
        while not (event.get("orgid") == str(org) and event["type"].endswith(".scope.changed")):
            msg = await sub.next_msg(timeout=15)
            event = json.loads(msg.data)
            if event.get("orgid") == str(org) and event["type"].endswith("system_scope.changed"):
                assert event["dataversion"] == 1 and event["subject"] == event["data"]["system_id"]
                membership[event["data"]["system_id"]] = event["data"]["in_scope"]
    finally:
        await nc.close()
    data = event["data"]
    assert event["type"] == "aims.inventory.scope.changed"
    assert event["subject"] == draft["id"] and event["dataversion"] == 1
    assert membership == {high: True, ownerless: True, hiring: False, unlisted: False}
    assert data["systems_in"] == 2 and data["systems_out"] == 2
    assert data["systems_listed"] == 3 and data["membership_changes"] == 4
    assert data["status"] == "approved" and data["previous_version_id"] is None

    assert await in_scope(stack, org, high) is True
    assert await in_scope(stack, org, ownerless) is True
    assert await in_scope(stack, org, hiring) is False
    assert await in_scope(stack, org, unlisted) is False

    again = await approve(stack, org, draft["id"])
    assert again.status_code == 409
    frozen = await stack.inventory.patch(
        f"/v1/scope-versions/{draft['id']}",
        json={"statement": "changed"},
        headers={**stack.headers(org, "contributor"), "If-Match": f'"{version["version"]}"'},
    )
    assert frozen.status_code == 409
    assert frozen.json()["code"] == "scope-version-not-draft"


async def test_one_current_version_supersedes_and_diffs(stack: Any, org: uuid.UUID) -> None:
    a = await register(stack, org, "Scoring", owner="cro@example.com")
    b = await register(stack, org, "Chat", owner="cx@example.com")
    headers = stack.headers(org)
    assert (
        await stack.inventory.get("/v1/scope-versions/current", headers=headers)
    ).status_code == 404
    assert (
        await stack.inventory.post(
            "/v1/scope-versions",
            json={"copy_from_current": True},
            headers=stack.headers(org, "contributor"),
        )
    ).status_code == 404

    first = await create_draft(
        stack,
        org,
        statement="Lending",
        activities=[{"name": "Lending"}],
        locations=[{"name": "Berlin"}],
        systems=[{"system_id": a}, {"system_id": b, "included": False, "justification": "Pilot"}],
    )
    assert (await approve(stack, org, first["id"], role="admin")).status_code == 200

    second = await create_draft(stack, org, copy_from_current=True)
    assert second["number"] == 2 and second["based_on_id"] == first["id"]
    assert second["systems"] == [
        {"system_id": a, "included": True, "justification": ""},
        {"system_id": b, "included": False, "justification": "Pilot"},
    ]
    patched = await stack.inventory.patch(
        f"/v1/scope-versions/{second['id']}",
        json={
            "statement": "Lending and support",
            "locations": [{"name": "Berlin", "included": False, "justification": "Moved"}],
            "departments": [{"name": "Support"}],
            "systems": [{"system_id": a}, {"system_id": b}],
        },
        headers={**stack.headers(org, "contributor"), "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert (await approve(stack, org, second["id"])).status_code == 200

    current = (await stack.inventory.get("/v1/scope-versions/current", headers=headers)).json()
    assert current["id"] == second["id"]
    listed = (await stack.inventory.get("/v1/scope-versions", headers=headers)).json()["items"]
    assert [(v["number"], v["status"]) for v in listed] == [(1, "superseded"), (2, "approved")]
    assert listed[0]["superseded_at"] is not None
    approved_only = (
        await stack.inventory.get("/v1/scope-versions?status=approved", headers=headers)
    ).json()["items"]
    assert [v["id"] for v in approved_only] == [second["id"]]
    assert await in_scope(stack, org, b) is True

    diff = await stack.inventory.get(
        f"/v1/scope-versions/{first['id']}/diff/{second['id']}", headers=headers
    )
    assert diff.status_code == 200, diff.text
    d = diff.json()
    assert d["from_version"]["number"] == 1 and d["to_version"]["number"] == 2
    assert d["statement_changed"] is True
    assert d["departments"]["added"] == [{"name": "Support", "included": True, "justification": ""}]
    assert d["locations"]["changed"][0]["after"]["included"] is False
    assert d["activities"] == {"added": [], "removed": [], "changed": []}
    assert d["systems"]["now_included"] == [b] and d["systems"]["now_excluded"] == []
    assert d["systems"]["changed"][0]["system_id"] == b

    # The database itself refuses a second approved version.
    db = stack.apps["inventory"].state.ctx.db
    with pytest.raises(sa.exc.IntegrityError):
        async with tenant_transaction(db, org) as session:
            await session.execute(
                sa.text("UPDATE scope_version SET status = 'approved' WHERE id = :id"),
                {"id": uuid.UUID(first["id"])},
            )


async def test_only_admins_and_managers_approve(stack: Any, org: uuid.UUID) -> None:
    draft = await create_draft(stack, org, activities=[{"name": "Everything"}])
    for role in ("auditor", "viewer", "contributor", "risk_owner"):
        response = await approve(stack, org, draft["id"], role=role)
        assert response.status_code == 403, role
    assert (await approve(stack, org, draft["id"], role="admin")).status_code == 200


async def test_another_organisation_sees_nothing(stack: Any, org: uuid.UUID) -> None:
    draft = await create_draft(stack, org, activities=[{"name": "Everything"}])
    assert (await approve(stack, org, draft["id"])).status_code == 200
    stranger = uuid.uuid4()
    other = stack.headers(stranger, "admin")
    assert (await stack.inventory.get("/v1/scope-versions", headers=other)).json()["items"] == []
    assert (
        await stack.inventory.get("/v1/scope-versions/current", headers=other)
    ).status_code == 404
    for path in (f"/v1/scope-versions/{draft['id']}", f"/v1/scope-versions/{draft['id']}/check"):
        assert (await stack.inventory.get(path, headers=other)).status_code == 404
    assert (await approve(stack, stranger, draft["id"], role="admin")).status_code == 404
    # A system of another organisation is unknown here.
    theirs = await register(stack, stranger, "Their system", owner="x@example.com")
    mine = await create_draft(
        stack, org, activities=[{"name": "Everything"}], systems=[{"system_id": theirs}]
    )
    refused = await approve(stack, org, mine["id"])
    assert [r["code"] for r in refused.json()["reasons"]] == ["unknown-system"]


def test_dependency_warnings_show_the_path_to_what_is_outside() -> None:
    inside, outside = uuid.uuid4(), uuid.uuid4()
    own, foreign, orphan, vendor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start = ("system", inside)
    edges = [
        (start, ("component", own)),
        (("component", own), ("component", foreign)),
        (("component", foreign), ("system", outside)),
        (("system", outside), start),  # a cycle back to the start
        (start, ("component", orphan)),
        (("component", own), ("vendor", vendor)),
    ]
    names = {
        start: "Scoring",
        ("component", own): "ranker",
        ("component", foreign): "geo-api",
        ("system", outside): "Legacy CRM",
        ("component", orphan): "shared-db",
        ("vendor", vendor): "V",
    }
    reach = Reach.build(start, breadth_first(start, edges), names)
    warnings = dependency_warnings(
        {inside: reach},
        in_scope={inside},
        component_system={own: inside, foreign: outside, orphan: None},
        names={inside: "Scoring"},
    )
    # Nearest first; Legacy CRM is only reached through geo-api, which is warned about instead.
    assert [[n.name for n in w.path] for w in warnings] == [
        ["Scoring", "shared-db"],
        ["Scoring", "ranker", "geo-api"],
    ]
    assert all(w.code == "depends-outside-scope" and w.system_id == inside for w in warnings)
    assert "Scoring → ranker → geo-api" in warnings[1].message


def test_reach_gives_each_node_once_with_depth_via_and_path() -> None:
    a, b, c, d = (("component", uuid.uuid4()) for _ in range(4))
    start = ("system", uuid.uuid4())
    # start → a → b → c → a (cycle), start → c (shortcut), c → d, d → start (cycle to start).
    edges = [(start, a), (a, b), (b, c), (c, a), (start, c), (c, d), (d, start)]
    names = {start: "S", a: "a", b: "b", c: "c", d: "d"}
    reach = Reach.build(start, breadth_first(start, edges), names)
    got = {i.node.name: (i.depth, i.via.name) for i in reach.items}
    assert got == {"a": (1, "S"), "c": (1, "S"), "b": (2, "a"), "d": (2, "c")}
    assert [i.depth for i in reach.items] == sorted(i.depth for i in reach.items)
    assert [n.name for n in reach.path_to(d)] == ["S", "c", "d"]
    assert [n.name for n in reach.path_to(b)] == ["S", "a", "b"]
    assert [[n.name for n in p] for p in reach.all_paths()] == [
        [n.name for n in reach.path_to((i.node.type, i.node.id))] for i in reach.items
    ]


async def test_approval_warns_about_a_dependency_outside_the_scope(
    stack: Any, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "manager")
    scoring = await register(stack, org, "Scoring", owner="cro@example.com")
    crm = await register(stack, org, "Legacy CRM", owner="it@example.com")

    async def component(name: str, system_id: str) -> str:
        response = await stack.inventory.post(
            "/v1/components",
            json={"kind": "model", "name": name, "system_id": system_id},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    ranker = await component("ranker", scoring)
    export = await component("customer-export", crm)
    edge = await stack.inventory.post(
        "/v1/dependencies",
        json={"from_type": "component", "from_id": ranker, "to_type": "component", "to_id": export},
        headers=headers,
    )
    assert edge.status_code == 201, edge.text

    draft = await create_draft(
        stack,
        org,
        activities=[{"name": "Lending"}],
        systems=[
            {"system_id": scoring},
            {"system_id": crm, "included": False, "justification": "Not AI"},
        ],
    )
    check = (
        await stack.inventory.get(f"/v1/scope-versions/{draft['id']}/check", headers=headers)
    ).json()
    assert check["approvable"] is True and check["reasons"] == []
    approved = await approve(stack, org, draft["id"])
    assert approved.status_code == 200, approved.text
    for warnings in (check["warnings"], approved.json()["warnings"]):
        assert len(warnings) == 1
        warning = warnings[0]
        assert warning["code"] == "depends-outside-scope" and warning["system_id"] == scoring
        assert [(n["type"], n["name"]) for n in warning["path"]] == [
            ("system", "Scoring"),
            ("component", "ranker"),
            ("component", "customer-export"),
        ]
