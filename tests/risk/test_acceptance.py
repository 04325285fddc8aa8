"""Separation of duties in risk acceptance: whoever created or owns a risk cannot accept it,
unless the organisation's risk policy allows self-acceptance."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.risk.test_register import risk_body

pytestmark = pytest.mark.engines

RATIONALE = {"rationale": "Residual risk is offset by human review of every decision."}


async def _create(stack: Any, org: uuid.UUID, subject: str, role: str, **body: Any) -> Any:
    response = await stack.risk.post(
        "/v1/risks", json=risk_body(**body), headers=stack.headers(org, role, subject=subject)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _accept(stack: Any, org: uuid.UUID, risk: Any, subject: str, version: int = 1) -> Any:
    return await stack.risk.post(
        f"/v1/risks/{risk['id']}/accept",
        json=RATIONALE,
        headers={**stack.headers(org, "manager", subject=subject), "If-Match": f'"{version}"'},
    )


async def test_the_creator_or_owner_cannot_accept_a_risk_someone_else_can(
    stack: Any, org: uuid.UUID
) -> None:
    mine = await _create(stack, org, "mia", "manager")
    refused = await _accept(stack, org, mine, "mia")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "separation-of-duties"
    assert "created" in problem["detail"] and "allow_self_acceptance" in problem["detail"]

    owned = await _create(stack, org, "carl", "risk_owner", owner="Olaf@Example.com")
    by_owner = await _accept(stack, org, owned, "olaf@example.com")
    assert by_owner.status_code == 403
    assert by_owner.json()["code"] == "separation-of-duties"
    assert "own" in by_owner.json()["detail"]

    # Nothing changed: still open, not accepted, same version.
    for risk in (mine, owned):
        now = await stack.risk.get(f"/v1/risks/{risk['id']}", headers=stack.headers(org, "viewer"))
        assert now.headers["ETag"] == '"1"'
        assert (now.json()["status"], now.json()["accepted_at"]) == ("open", None)

    other = await _accept(stack, org, mine, "olaf@example.com")
    assert other.status_code == 200, other.text
    assert (other.json()["status"], other.json()["accepted_by"]) == ("accepted", "olaf@example.com")
    by_mia = await _accept(stack, org, owned, "mia")
    assert by_mia.status_code == 200, by_mia.text
    history = await stack.risk.get(
        f"/v1/risks/{mine['id']}/history", headers=stack.headers(org, "viewer")
    )
    assert [h["action"] for h in history.json()["items"]][-1] == "accepted"


async def test_self_acceptance_only_when_the_organisation_policy_allows_it(
    stack: Any, org: uuid.UUID
) -> None:
    admin = stack.headers(org, "admin")
    mine = await _create(stack, org, "mia", "manager", owner="mia")
    assert (await _accept(stack, org, mine, "mia")).status_code == 403

    allowed = await stack.risk.put(
        "/v1/risk-policy", json={"allow_self_acceptance": True}, headers=admin
    )
    assert allowed.status_code == 200, allowed.text
    accepted = await _accept(stack, org, mine, "mia")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_by"] == "mia"
    # The trail labels it as an acceptance the organisation's policy made possible.
    history = await stack.risk.get(
        f"/v1/risks/{mine['id']}/history", headers=stack.headers(org, "viewer")
    )
    assert history.json()["items"][-1]["action"] == "self_accepted_by_policy"

    # The policy of one organisation does not reach another.
    other_org = uuid.uuid4()
    theirs = await _create(stack, other_org, "mia", "manager")
    assert (await _accept(stack, other_org, theirs, "mia")).status_code == 403

    # Switching the policy back off restores separation of duties.
    off = await stack.risk.put(
        "/v1/risk-policy",
        json={"allow_self_acceptance": False},
        headers={**admin, "If-Match": '"1"'},
    )
    assert off.status_code == 200
    again = await _create(stack, org, "mia", "manager")
    assert (await _accept(stack, org, again, "mia")).status_code == 403


async def test_handing_a_risk_to_someone_else_does_not_let_its_owner_accept_it(
    stack: Any, org: uuid.UUID
) -> None:
    owned = await _create(stack, org, "carl", "risk_owner", owner="olaf@example.com")
    handed = await stack.risk.patch(
        f"/v1/risks/{owned['id']}",
        json={"owner": "nina@example.com"},
        headers={**stack.headers(org, "manager", subject="olaf@example.com"), "If-Match": '"1"'},
    )
    assert handed.status_code == 200, handed.text
    refused = await _accept(stack, org, owned, "olaf@example.com", version=2)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "separation-of-duties"
    assert "owned" in refused.json()["detail"]
    # Someone who never created or owned it still can.
    assert (await _accept(stack, org, owned, "mia", version=2)).status_code == 200
