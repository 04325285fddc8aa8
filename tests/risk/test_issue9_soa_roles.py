"""Issue 9, SoA proposals: the roles of in-scope, live systems do count (beside the
organisation's own), while a live system the approved scope does not cover (registered after
it) does not; odd proposal requests are refused. Through REST and real events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.testing import eventually
from tests.risk.test_soa_proposals import (
    approve_scope,
    by_control,
    propose,
    register,
    set_org_roles,
)

pytestmark = pytest.mark.engines


async def test_an_in_scope_live_systems_roles_join_the_organisations(
    stack: Any, org: uuid.UUID
) -> None:
    await set_org_roles(stack, org, ["customer"])
    provided = await register(
        stack, org, "Credit API we sell", lifecycle_stage="deployed", ai_roles=["provider"]
    )
    await approve_scope(stack, org, included=[provided], excluded=[])
    # Registered after the scope was approved: live, but not (yet) in the approved scope.
    late = await register(
        stack, org, "Lab model", lifecycle_stage="deployed", ai_roles=["producer"]
    )
    seen = await stack.risk.get(f"/v1/systems/{late}", headers=stack.headers(org, "viewer"))
    assert seen.json()["in_scope"] is not True

    async def ready() -> Any:
        result = await propose(stack, org)
        return result if result["organisation_roles"] == ["customer"] else None

    result = await eventually(ready)
    assert result["roles_from"] == "inventory"
    assert result["roles"] == ["customer", "provider"]  # not producer: Lab model is outside
    assert result["systems_considered"] == [provided]
    entries = by_control(result)
    assert entries["A.6.2.2"]["applicable"] is True  # the provider role of the in-scope system
    assert entries["A.10.4"]["applicable"] is True
    assert entries["A.9.2"]["applicable"] is True  # the organisation's customer role

    # Roles named in the request replace the inventory's roles for this proposal only.
    asked = await propose(stack, org, {"roles": ["customer"]})
    assert asked["roles"] == ["customer"] and asked["roles_from"] == "request"
    assert by_control(asked)["A.10.4"]["applicable"] is False
    # A.6.2.6 / A.6.2.8 stay: the customer operates an in-scope, live system.
    assert by_control(asked)["A.6.2.6"]["applicable"] is True
    assert by_control(asked)["A.6.2.8"]["applicable"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"roles": ["deployer"]},
        {"roles": ["Provider"]},
        {"roles": "provider"},
        {"roles": ["provider\x00"]},
        {"role": ["provider"]},
    ],
)
async def test_odd_proposal_requests_are_refused(
    stack: Any, org: uuid.UUID, body: dict[str, Any]
) -> None:
    response = await stack.risk.post(
        "/v1/soa/propose", json=body, headers=stack.headers(org, "risk_owner")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    entries = await stack.risk.get("/v1/soa/entries", headers=stack.headers(org, "viewer"))
    assert all(e["decision"] != "proposed" for e in entries.json()["items"])
