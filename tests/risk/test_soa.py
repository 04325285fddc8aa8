"""The Statement of Applicability over REST: proposals, decisions, consistency, versions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import nats
import pytest

from shared.db import uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines


async def add_risk(
    stack: Any,
    org: uuid.UUID,
    control_ids: list[str],
    *,
    treatment: str | None = "mitigate",
) -> uuid.UUID:
    """A risk added through the register's REST API (``POST /v1/risks``)."""
    body: dict[str, Any] = {
        "title": "Biased ranking",
        "domain_id": "1",
        "subdomain_id": "1.1",
        "entity": "ai",
        "intent": "unintentional",
        "timing": "post_deployment",
        "likelihood": 3,
        "severity": 3,
        "treatment": treatment,
        "control_ids": control_ids,
    }
    response = await stack.risk.post(
        "/v1/risks", json=body, headers=stack.headers(org, "risk_owner")
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def propose(
    stack: Any, org: uuid.UUID, roles: list[str] | None, role: str = "risk_owner"
) -> Any:
    body = {"roles": roles} if roles is not None else {}
    response = await stack.risk.post("/v1/soa/propose", json=body, headers=stack.headers(org, role))
    assert response.status_code == 200, response.text
    return response.json()


async def entry(stack: Any, org: uuid.UUID, control_id: str) -> tuple[dict[str, Any], str]:
    response = await stack.risk.get(
        f"/v1/soa/entries/{control_id}", headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    return response.json(), response.headers["etag"]


async def decide(
    stack: Any, org: uuid.UUID, control_id: str, body: dict[str, Any], role: str = "manager"
) -> Any:
    _, tag = await entry(stack, org, control_id)
    return await stack.risk.patch(
        f"/v1/soa/entries/{control_id}",
        json=body,
        headers={**stack.headers(org, role), "If-Match": tag},
    )


async def test_control_catalogue_and_crosswalk_both_ways(stack: Any, org: uuid.UUID) -> None:
    h = stack.headers(org, "auditor")
    controls = (await stack.risk.get("/v1/controls", headers=h)).json()
    assert controls["count"] == 38
    one = (await stack.risk.get("/v1/controls/A.4.2", headers=h)).json()
    subs = [s["id"] for s in one["crosswalk"]["nist_ai_rmf"]]
    assert "GOVERN 1.6" in subs
    # Art. 11 (technical documentation) from the editorial crosswalk, labelled as guidance.
    assert [a["citation"] for a in one["crosswalk"]["eu_ai_act"]] == ["Art. 11"]
    assert one["crosswalk"]["eu_ai_act"][0]["guidance"] is True
    assert one["crosswalk"]["eu_ai_act_guidance"] is True
    back = (await stack.risk.get("/v1/crosswalk/nist/GOVERN 1.6", headers=h)).json()
    assert "A.4.2" in [c["id"] for c in back["controls"]]
    eu = await stack.risk.get("/v1/crosswalk/eu-ai-act/26", headers=h)
    assert eu.status_code == 200, eu.text
    assert [c["id"] for c in eu.json()["controls"]] == [
        "A.6.2.6",
        "A.6.2.8",
        "A.8.5",
        "A.9.2",
        "A.9.3",
        "A.9.4",
    ]
    assert eu.json()["guidance"] is True and "not legal advice" in eu.json()["note"]
    assert (await stack.risk.get("/v1/controls/A.1.1", headers=h)).status_code == 404
    assert (await stack.risk.get("/v1/crosswalk/nist/GOVERN 9.9", headers=h)).status_code == 404


async def test_proposals_from_roles_never_overwrite_decisions(stack: Any, org: uuid.UUID) -> None:
    listed = (await stack.risk.get("/v1/soa/entries", headers=stack.headers(org))).json()
    assert len(listed["items"]) == 38
    assert {e["decision"] for e in listed["items"]} == {"undecided"}

    result = await propose(stack, org, ["customer"])
    assert result["roles_from"] == "request"
    by_id = {e["control_id"]: e for e in result["items"]}
    assert by_id["A.10.3"]["applicable"] is True
    assert by_id["A.6.2.2"]["applicable"] is False
    assert by_id["A.6.2.2"]["justification"]
    assert by_id["A.6.2.2"]["implementation_status"] == "not_applicable"
    assert {e["decision"] for e in result["items"]} == {"proposed"}

    response = await decide(
        stack, org, "A.6.2.2", {"applicable": True, "implementation_status": "planned"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["decision"] == "decided"
    assert response.headers["etag"] == '"2"'

    again = await propose(stack, org, ["customer"])
    assert "A.6.2.2" in again["kept_decided"]
    kept = {e["control_id"]: e for e in again["items"]}["A.6.2.2"]
    assert kept["applicable"] is True and kept["implementation_status"] == "planned"


async def test_exclusion_needs_a_justification(stack: Any, org: uuid.UUID) -> None:
    response = await decide(stack, org, "A.9.4", {"applicable": False})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "justification-required"
    blank = await decide(stack, org, "A.9.4", {"applicable": False, "justification": "  "})
    assert blank.status_code == 422
    ok = await decide(
        stack, org, "A.9.4", {"applicable": False, "justification": "We use no AI systems."}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["implementation_status"] == "not_applicable"
    stale = await stack.risk.patch(
        "/v1/soa/entries/A.9.4",
        json={"notes": "x"},
        headers={**stack.headers(org, "manager"), "If-Match": '"0"'},
    )
    assert stale.status_code == 412


async def test_excluding_a_relied_on_control_is_refused(stack: Any, org: uuid.UUID) -> None:
    risk_id = await add_risk(stack, org, ["A.6.2.6"])
    untreated = await add_risk(stack, org, [])
    response = await decide(
        stack, org, "A.6.2.6", {"applicable": False, "justification": "Not ours."}
    )
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "control-relied-on"
    assert problem["risks"] == [str(risk_id)]
    assert str(risk_id) in problem["detail"]

    current, _ = await entry(stack, org, "A.6.2.6")
    assert current["selected_by_risks"] == [str(risk_id)]

    # A proposal for a producer-less customer still keeps the relied-on control applicable.
    result = await propose(stack, org, ["customer"])
    assert {e["control_id"]: e for e in result["items"]}["A.6.2.6"]["applicable"] is True

    check = (await stack.risk.get("/v1/soa/check", headers=stack.headers(org, "auditor"))).json()
    assert check["consistent"] is True
    flagged = [f for f in check["flags"] if f["code"] == "treated_risk_without_control"]
    assert [f["risk_ids"] for f in flagged] == [[str(untreated)]]


async def test_versions_approval_diff_and_soa_changed(stack: Any, org: uuid.UUID) -> None:
    nc = await nats.connect(stack.engines.nats_url)
    js = nc.jetstream()
    seen: list[dict[str, Any]] = []

    async def on_message(msg: Any) -> None:
        event = json.loads(msg.data)
        if event.get("orgid") == str(org):
            seen.append(event)

    subject = stack.engines.subject_prefix + "aims.risk.soa.changed"
    sub = await js.subscribe(subject, cb=on_message, ordered_consumer=True)
    try:
        manager = stack.headers(org, "manager")
        # Nothing proposed yet: approval is refused with one reason per control.
        empty = await stack.risk.post("/v1/soa/versions", json={}, headers=manager)
        assert empty.status_code == 201, empty.text
        refused = await stack.risk.post(
            f"/v1/soa/versions/{empty.json()['id']}/approve", headers=manager
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "soa-not-approvable"
        assert len(refused.json()["reasons"]) == 38

        await propose(stack, org, ["provider"])
        accepted = await stack.risk.post(
            "/v1/soa/entries/accept-proposals", json={}, headers=manager
        )
        assert accepted.status_code == 200, accepted.text
        first = (await stack.risk.post("/v1/soa/versions", json={}, headers=manager)).json()
        assert first["number"] == 2 and first["status"] == "draft"
        assert len(first["entries"]) == 38
        approved = await stack.risk.post(f"/v1/soa/versions/{first['id']}/approve", headers=manager)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        again = await stack.risk.post(f"/v1/soa/versions/{first['id']}/approve", headers=manager)
        assert again.status_code == 409

        changed = await decide(
            stack, org, "A.9.2", {"applicable": True, "owner": "Head of Ops"}, role="risk_owner"
        )
        assert changed.status_code == 200, changed.text
        second = (await stack.risk.post("/v1/soa/versions", json={}, headers=manager)).json()
        ok = await stack.risk.post(f"/v1/soa/versions/{second['number']}/approve", headers=manager)
        assert ok.status_code == 200, ok.text

        versions = (await stack.risk.get("/v1/soa/versions", headers=manager)).json()["items"]
        assert [(v["number"], v["status"]) for v in versions] == [
            (3, "approved"),
            (2, "superseded"),
            (1, "draft"),
        ]
        diff = (
            await stack.risk.get(f"/v1/soa/versions/2/diff/{second['id']}", headers=manager)
        ).json()
        assert [d["control_id"] for d in diff["changed"]] == ["A.9.2"]
        changes = diff["changed"][0]["changes"]
        assert changes["applicable"] == {"before": False, "after": True}
        assert changes["owner"] == {"before": None, "after": "Head of Ops"}

        events = await eventually(lambda: _when(len(seen) >= 2, seen))
        assert [e["dataversion"] for e in events] == [2, 3]
        assert events[1]["type"] == "aims.risk.soa.changed"
        assert events[1]["data"]["number"] == 3
        assert len(events[1]["data"]["entries"]) == 38
    finally:
        await sub.unsubscribe()
        await nc.close()


async def _when(condition: bool, value: Any) -> Any:
    return value if condition else None


async def test_auditor_and_viewer_cannot_decide_or_approve(stack: Any, org: uuid.UUID) -> None:
    for role in ("auditor", "viewer", "contributor"):
        response = await stack.risk.patch(
            "/v1/soa/entries/A.2.2",
            json={"applicable": True},
            headers={**stack.headers(org, role), "If-Match": '"0"'},
        )
        assert response.status_code == 403, (role, response.text)
        assert (
            await stack.risk.post("/v1/soa/propose", json={}, headers=stack.headers(org, role))
        ).status_code == 403
    draft = await stack.risk.post("/v1/soa/versions", json={}, headers=stack.headers(org, "admin"))
    refused = await stack.risk.post(
        f"/v1/soa/versions/{draft.json()['id']}/approve",
        headers=stack.headers(org, "risk_owner"),
    )
    assert refused.status_code == 403


async def test_another_org_sees_nothing(stack: Any, org: uuid.UUID) -> None:
    await propose(stack, org, ["customer"])
    await decide(stack, org, "A.2.2", {"applicable": True, "owner": "CISO"})
    version = (
        await stack.risk.post("/v1/soa/versions", json={}, headers=stack.headers(org, "admin"))
    ).json()
    other = uuid7()
    h = stack.headers(other, "admin")
    entries = (await stack.risk.get("/v1/soa/entries", headers=h)).json()["items"]
    assert {e["decision"] for e in entries} == {"undecided"}
    assert (await stack.risk.get("/v1/soa/versions", headers=h)).json()["items"] == []
    assert (await stack.risk.get(f"/v1/soa/versions/{version['id']}", headers=h)).status_code == 404
    assert (
        await stack.risk.post(f"/v1/soa/versions/{version['id']}/approve", headers=h)
    ).status_code == 404


async def graphql(stack: Any, org: uuid.UUID, role: str, query: str, **variables: Any) -> Any:
    response = await stack.gateway.post(
        "/graphql", json={"query": query, "variables": variables}, headers=stack.headers(org, role)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_graphql_controls_entries_and_typed_errors(stack: Any, org: uuid.UUID) -> None:
    data = await graphql(
        stack,
        org,
        "viewer",
        "{ controls { id nistSubcategories { id } euAiActArticles { article } }"
        "  soaEntries { controlId decision applicable } }",
    )
    assert len(data["controls"]) == 38
    a42 = next(c for c in data["controls"] if c["id"] == "A.4.2")
    assert {"id": "GOVERN 1.6"} in a42["nistSubcategories"]
    assert len(data["soaEntries"]) == 38

    risk_id = await add_risk(stack, org, ["A.7.4"])
    decide_doc = """
      mutation($input: DecideControlInput!) {
        decideControl(input: $input) {
          entry { controlId decision applicable version }
          errors { __typename code message }
          reliedOnBy
        }
      }"""
    refused = await graphql(
        stack,
        org,
        "risk_owner",
        decide_doc,
        input={
            "controlId": "A.7.4",
            "expectedVersion": 0,
            "applicable": False,
            "justification": "no data",
        },
    )
    payload = refused["decideControl"]
    assert payload["entry"] is None
    assert payload["errors"][0]["__typename"] == "ConflictError"
    assert payload["errors"][0]["code"] == "control-relied-on"
    assert payload["reliedOnBy"] == [str(risk_id)]

    missing = await graphql(
        stack,
        org,
        "manager",
        decide_doc,
        input={"controlId": "A.2.2", "expectedVersion": 0, "applicable": False},
    )
    assert missing["decideControl"]["errors"][0]["__typename"] == "ValidationError"
    assert missing["decideControl"]["errors"][0]["code"] == "justification-required"

    forbidden = await graphql(
        stack,
        org,
        "auditor",
        decide_doc,
        input={"controlId": "A.2.2", "expectedVersion": 0, "applicable": True},
    )
    assert forbidden["decideControl"]["errors"][0]["__typename"] == "ForbiddenError"

    draft = (
        await stack.risk.post("/v1/soa/versions", json={}, headers=stack.headers(org, "admin"))
    ).json()
    approve = await graphql(
        stack,
        org,
        "manager",
        "mutation($id: String!) { approveSoAVersion(id: $id) {"
        "  version { number } errors { code } reasons { code controlId } } }",
        id=str(draft["id"]),
    )
    assert approve["approveSoAVersion"]["version"] is None
    assert approve["approveSoAVersion"]["errors"][0]["code"] == "soa-not-approvable"
    assert len(approve["approveSoAVersion"]["reasons"]) == 38

    await propose(stack, org, ["customer", "provider"])
    accepted = await stack.risk.post(
        "/v1/soa/entries/accept-proposals", json={}, headers=stack.headers(org, "admin")
    )
    assert accepted.status_code == 200, accepted.text
    second = (
        await stack.risk.post("/v1/soa/versions", json={}, headers=stack.headers(org, "admin"))
    ).json()
    ok = await graphql(
        stack,
        org,
        "admin",
        "mutation($id: String!) { approveSoAVersion(id: $id) {"
        "  version { number status entries { controlId } } errors { code } } }",
        id=str(second["number"]),
    )
    assert ok["approveSoAVersion"]["version"]["status"] == "APPROVED"
    assert len(ok["approveSoAVersion"]["version"]["entries"]) == 38
    listed = await graphql(
        stack,
        org,
        "auditor",
        "{ soaVersions(first: 1) { edges { node { number status } } pageInfo { hasNextPage } }"
        '  soaDiff(from: "1", to: "2") { fromVersion toVersion changed { controlId } } }',
    )
    assert listed["soaVersions"]["edges"][0]["node"] == {"number": 2, "status": "APPROVED"}
    assert listed["soaVersions"]["pageInfo"]["hasNextPage"] is True
    assert len(listed["soaDiff"]["changed"]) == 38
