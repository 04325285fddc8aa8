"""The organisation's risk policy: defaults, managers set it with If-Match, events, isolation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from services.risk.policy.service import get_policy
from shared.db import outbox_table, tenant_transaction, uuid7

pytestmark = pytest.mark.engines

URL = "/v1/risk-policy"
BOTH = {"require_impact_assessment_for_all_high_risk": True, "allow_self_acceptance": True}


async def test_defaults_until_set_then_managers_change_it_with_if_match(
    stack: Any, org: uuid.UUID
) -> None:
    reader = stack.headers(org, "auditor")
    manager = stack.headers(org, "manager", subject="mia")

    first = await stack.risk.get(URL, headers=reader)
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == '"0"'
    body = first.json()
    assert body["require_impact_assessment_for_all_high_risk"] is False
    assert body["allow_self_acceptance"] is False
    assert body["basis"] == "policy" and body["version"] == 0

    # No row yet: If-Match may be left out.
    created = await stack.risk.put(URL, json={"allow_self_acceptance": True}, headers=manager)
    assert created.status_code == 200, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.json()["allow_self_acceptance"] is True
    assert created.json()["require_impact_assessment_for_all_high_risk"] is False
    assert created.json()["updated_by"] == "mia"

    # Once it exists, If-Match is required and must be current.
    missing = await stack.risk.put(URL, json=BOTH, headers=manager)
    assert missing.status_code == 428
    stale = await stack.risk.put(URL, json=BOTH, headers={**manager, "If-Match": '"0"'})
    assert stale.status_code == 412
    changed = await stack.risk.put(URL, json=BOTH, headers={**manager, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2

    after = (await stack.risk.get(URL, headers=reader)).json()
    assert after["require_impact_assessment_for_all_high_risk"] is True
    assert after["allow_self_acceptance"] is True

    db = stack.apps["risk"].state.ctx.db
    async with db.sessions() as session:
        rows = (
            await session.execute(
                sa.select(outbox_table.c.type, outbox_table.c.envelope)
                .where(outbox_table.c.org_id == org)
                .where(outbox_table.c.type == "aims.risk.risk_policy.changed")
                .order_by(outbox_table.c.seq)
            )
        ).all()
    assert [r.envelope["dataversion"] for r in rows] == [1, 2]
    assert rows[1].envelope["data"]["allow_self_acceptance"] is True

    # The read function the other domains use sees the same settings; a fresh org the defaults.
    async with tenant_transaction(db, org) as session:
        policy = await get_policy(session)
    assert policy.require_impact_assessment_for_all_high_risk is True and policy.version == 2
    other = uuid7()
    async with tenant_transaction(db, other) as session:
        fresh = await get_policy(session)
    assert fresh.org_id == other and fresh.allow_self_acceptance is False and fresh.version == 0


async def test_only_admins_and_managers_set_it_and_bad_input_is_refused(
    stack: Any, org: uuid.UUID
) -> None:
    for role in ("contributor", "risk_owner", "auditor"):
        refused = await stack.risk.put(URL, json=BOTH, headers=stack.headers(org, role))
        assert refused.status_code == 403, role
    admin = stack.headers(org, "admin")
    bad_bodies: list[Any] = [
        {"allow_self_acceptance": "yes"},
        {"allow_self_acceptance": 1},
        {"allow_self_acceptance": None},
        {"unknown_setting": True},
        [],
    ]
    for bad in bad_bodies:
        response = await stack.risk.put(URL, json=bad, headers=admin)
        assert response.status_code == 422, bad
        assert response.headers["content-type"].startswith("application/problem+json")
    garbage = await stack.risk.put(
        URL, content=b"\x00{", headers={**admin, "Content-Type": "application/json"}
    )
    assert garbage.status_code == 400
    assert garbage.headers["content-type"].startswith("application/problem+json")
    nothing = (await stack.risk.get(URL, headers=admin)).json()
    assert nothing["version"] == 0 and nothing["allow_self_acceptance"] is False


async def test_one_organisation_never_sees_or_changes_another_ones_policy(
    stack: Any, org: uuid.UUID
) -> None:
    other = uuid7()
    await stack.risk.put(URL, json=BOTH, headers=stack.headers(org, "admin"))
    theirs = (await stack.risk.get(URL, headers=stack.headers(other, "auditor"))).json()
    assert theirs["org_id"] == str(other)
    assert theirs["allow_self_acceptance"] is False and theirs["version"] == 0
    # Their first PUT creates their own row; ours is untouched.
    own = await stack.risk.put(
        URL, json={"allow_self_acceptance": False}, headers=stack.headers(other, "admin")
    )
    assert own.status_code == 200 and own.json()["version"] == 1
    ours = (await stack.risk.get(URL, headers=stack.headers(org, "auditor"))).json()
    assert ours["allow_self_acceptance"] is True and ours["version"] == 1
