"""The full AI system register through REST: fields, custom fields, history, search, sorting,
completeness, the classification mirror, and isolation between organisations."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from typing import Any

import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inventory.systems.consumers import HANDLERS
from shared.db import Database, utcnow, uuid7
from shared.events import CloudEvent
from shared.events.consumer import ConsumerRunner
from shared.events.relay import ensure_stream
from shared.observability import Metrics
from shared.testing import eventually

pytestmark = pytest.mark.engines

FULL: dict[str, Any] = {
    "name": "CV screening assistant",
    "description": "Ranks job applications for recruiters",
    "intended_purpose": "Shortlist applicants for human review",
    "owner": "head-of-talent@example.com",
    "business_function": "Human resources",
    "lifecycle_stage": "deployed",
    "provenance": "third_party",
    "data_inputs": [
        {"category": "CVs", "personal": True, "special_category": False},
        {"category": "Disability disclosures", "personal": True, "special_category": True},
    ],
    "sector": "hiring_employment",
    "affected_stakeholders": ["applicants", "recruiters"],
    "human_oversight": "A recruiter reviews every rejection",
    "ai_roles": ["customer", "partner"],
    "next_review_at": "2027-06-30",
}


async def register(stack: Any, org: uuid.UUID, **fields: Any) -> dict[str, Any]:
    body = {"name": "System", **fields}
    response = await stack.inventory.post(
        "/v1/ai-systems", json=body, headers=stack.headers(org, "contributor", subject="carol")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def patch(
    stack: Any, org: uuid.UUID, system: dict[str, Any], subject: str = "dave", **fields: Any
) -> Any:
    return await stack.inventory.patch(
        f"/v1/ai-systems/{system['id']}",
        json=fields,
        headers={
            **stack.headers(org, "manager", subject=subject),
            "If-Match": f'"{system["version"]}"',
        },
    )


async def listed(stack: Any, org: uuid.UUID, **params: Any) -> list[dict[str, Any]]:
    response = await stack.inventory.get(
        "/v1/ai-systems", params={"limit": 500, **params}, headers=stack.headers(org)
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def vendor(stack: Any, org: uuid.UUID, name: str = "Acme AI") -> str:
    response = await stack.inventory.post(
        "/v1/vendors", json={"name": name}, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# --- Fields -----------------------------------------------------------------------------------


async def test_every_field_round_trips(stack: Any, org: uuid.UUID) -> None:
    vendor_id = await vendor(stack, org)
    created = await register(stack, org, **FULL, vendor_id=vendor_id)
    for field, value in FULL.items():
        assert created[field] == value, field
    assert created["vendor_id"] == vendor_id
    # Read-only mirrors start empty.
    assert created["in_scope"] is None
    assert created["eu_ai_act_tier"] is None and created["risk_level"] is None
    fetched = await stack.inventory.get(
        f"/v1/ai-systems/{created['id']}", headers=stack.headers(org)
    )
    assert fetched.json() == created

    changed: dict[str, Any] = {
        "intended_purpose": "Rank applicants",
        "provenance": "hybrid",
        "vendor_id": None,
        "data_inputs": [{"category": "Names", "personal": True, "special_category": False}],
        "sector": "general",
        "affected_stakeholders": ["staff"],
        "human_oversight": None,
        "ai_roles": ["producer"],
        "next_review_at": "2028-01-01",
        "lifecycle_stage": "retired",
    }
    updated = await patch(stack, org, created, **changed)
    assert updated.status_code == 200, updated.text
    for field, value in changed.items():
        assert updated.json()[field] == value, field
    assert updated.json()["version"] == 2


async def test_roles_are_deduplicated_and_special_category_implies_personal(
    stack: Any, org: uuid.UUID
) -> None:
    created = await register(
        stack,
        org,
        ai_roles=["provider", "producer", "provider"],
        data_inputs=[{"category": "Health records", "special_category": True}],
    )
    assert created["ai_roles"] == ["producer", "provider"]
    assert created["data_inputs"] == [
        {"category": "Health records", "personal": True, "special_category": True}
    ]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"sector": "gambling"}, ["body", "sector"]),
        ({"provenance": "bought"}, ["body", "provenance"]),
        ({"ai_roles": ["deployer"]}, ["body", "ai_roles", "0"]),
        (
            {"affected_stakeholders": [f"s{i}" for i in range(51)]},
            ["body", "affected_stakeholders"],
        ),
        ({"data_inputs": [{"personal": True}]}, ["body", "data_inputs", "0", "category"]),
        ({"next_review_at": "soon"}, ["body", "next_review_at"]),
        ({"in_scope": True}, ["body", "in_scope"]),
        ({"eu_ai_act_tier": "minimal"}, ["body", "eu_ai_act_tier"]),
    ],
)
async def test_invalid_fields_are_422_with_location(
    stack: Any, org: uuid.UUID, body: dict[str, Any], location: list[str]
) -> None:
    response = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "x", **body}, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert location in [e["location"] for e in response.json()["errors"]]


async def test_unknown_vendor_is_refused(stack: Any, org: uuid.UUID) -> None:
    other_orgs_vendor = await vendor(stack, uuid7())
    for vendor_id in (str(uuid7()), other_orgs_vendor):
        response = await stack.inventory.post(
            "/v1/ai-systems",
            json={"name": "x", "vendor_id": vendor_id},
            headers=stack.headers(org, "admin"),
        )
        assert response.status_code == 422
        assert response.json()["code"] == "unknown-vendor"
        assert response.json()["errors"][0]["location"] == ["body", "vendor_id"]


# --- Custom fields ----------------------------------------------------------------------------


async def define(stack: Any, org: uuid.UUID, **body: Any) -> dict[str, Any]:
    response = await stack.inventory.post(
        "/v1/custom-fields", json=body, headers=stack.headers(org, "admin")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_custom_fields_crud_and_roles(stack: Any, org: uuid.UUID) -> None:
    appetite = await define(
        stack, org, key="risk_appetite", label="Risk appetite", type="choice", choices=["low"]
    )
    await define(stack, org, key="cost_centre", label="Cost centre", type="text")
    refused = await stack.inventory.post(
        "/v1/custom-fields",
        json={"key": "x", "label": "X", "type": "text"},
        headers=stack.headers(org, "contributor"),
    )
    assert refused.status_code == 403
    duplicate = await stack.inventory.post(
        "/v1/custom-fields",
        json={"key": "cost_centre", "label": "Again", "type": "number"},
        headers=stack.headers(org, "manager"),
    )
    assert duplicate.status_code == 409
    no_choices = await stack.inventory.post(
        "/v1/custom-fields",
        json={"key": "c", "label": "C", "type": "choice"},
        headers=stack.headers(org, "manager"),
    )
    assert no_choices.status_code == 422

    url = f"/v1/custom-fields/{appetite['id']}"
    updated = await stack.inventory.patch(
        url,
        json={"choices": ["low", "high"], "required": True},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["choices"] == ["low", "high"] and updated.json()["version"] == 2
    page = (await stack.inventory.get("/v1/custom-fields", headers=stack.headers(org))).json()
    assert [f["key"] for f in page["items"]] == ["cost_centre", "risk_appetite"]
    assert (await stack.inventory.get("/v1/custom-fields", headers=stack.headers(uuid7()))).json()[
        "items"
    ] == []

    deleted = await stack.inventory.delete(
        url, headers={**stack.headers(org, "admin"), "If-Match": '"2"'}
    )
    assert deleted.status_code == 204
    assert (await stack.inventory.get(url, headers=stack.headers(org))).status_code == 404


async def test_custom_field_values_are_validated(stack: Any, org: uuid.UUID) -> None:
    await define(stack, org, key="tier", label="Tier", type="choice", choices=["gold", "silver"])
    await define(stack, org, key="budget", label="Budget", type="number", required=True)
    await define(stack, org, key="go_live", label="Go-live", type="date")
    await define(stack, org, key="sponsor", label="Sponsor", type="person")

    bad = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": "x", "custom_fields": {"tier": "bronze", "go_live": "May", "colour": "red"}},
        headers=stack.headers(org, "admin"),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    locations = sorted(tuple(e["location"]) for e in bad.json()["errors"])
    assert locations == [
        ("body", "custom_fields", "budget"),  # required, missing
        ("body", "custom_fields", "colour"),  # unknown
        ("body", "custom_fields", "go_live"),  # not a date
        ("body", "custom_fields", "tier"),  # not an allowed choice
    ]
    wrong_type = await stack.inventory.post(
        "/v1/ai-systems",
        json={"name": "x", "custom_fields": {"budget": "lots"}},
        headers=stack.headers(org, "admin"),
    )
    assert wrong_type.status_code == 422

    values = {"tier": "gold", "budget": 1200.5, "go_live": "2027-01-15", "sponsor": "cfo@x.io"}
    created = await register(stack, org, custom_fields=values)
    assert created["custom_fields"] == values

    # A patch merges; null removes a key; a required one cannot be removed.
    merged = await patch(stack, org, created, custom_fields={"tier": "silver", "sponsor": None})
    assert merged.status_code == 200, merged.text
    assert merged.json()["custom_fields"] == {
        "tier": "silver",
        "budget": 1200.5,
        "go_live": "2027-01-15",
    }
    removal = await patch(stack, org, merged.json(), custom_fields={"budget": None})
    assert removal.status_code == 422
    assert removal.json()["errors"][0]["location"] == ["body", "custom_fields", "budget"]


# --- History ----------------------------------------------------------------------------------


async def test_history_shows_who_changed_what(stack: Any, org: uuid.UUID) -> None:
    system = await register(stack, org, name="Chatbot", owner="a@example.com")
    first = await patch(stack, org, system, subject="dave", owner="b@example.com", sector="general")
    second = await patch(stack, org, first.json(), subject="erin", name="Support chatbot")
    assert second.status_code == 200
    # An update that changes nothing is no new version.
    same = await patch(stack, org, second.json(), name="Support chatbot")
    assert same.json()["version"] == 3

    url = f"/v1/ai-systems/{system['id']}/history"
    page = await stack.inventory.get(url, params={"limit": 2}, headers=stack.headers(org))
    assert page.status_code == 200
    body = page.json()
    assert [(c["version"], c["changed_by"]) for c in body["items"]] == [(3, "erin"), (2, "dave")]
    assert body["items"][0]["changes"] == {"name": {"from": "Chatbot", "to": "Support chatbot"}}
    assert body["items"][1]["changes"] == {
        "owner": {"from": "a@example.com", "to": "b@example.com"},
        "sector": {"from": None, "to": "general"},
    }
    rest = await stack.inventory.get(
        url, params={"after": body["next_cursor"]}, headers=stack.headers(org)
    )
    (created,) = rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert created["version"] == 1 and created["changed_by"] == "carol"
    assert created["changes"]["name"] == {"from": None, "to": "Chatbot"}

    # A stale write leaves no trace in the history.
    stale = await patch(stack, org, system, owner="x")
    assert stale.status_code == 412
    again = await stack.inventory.get(url, headers=stack.headers(org))
    assert len(again.json()["items"]) == 3


# --- Search, filters and sorting ----------------------------------------------------------------


async def test_search_and_filters(stack: Any, org: uuid.UUID) -> None:
    today = date.today()
    a = await register(
        stack,
        org,
        name="Loan scoring",
        description="Scores credit applications",
        sector="credit_finance",
        ai_roles=["provider"],
        owner="cro@example.com",
        lifecycle_stage="deployed",
        next_review_at=(today - timedelta(days=1)).isoformat(),
    )
    b = await register(
        stack,
        org,
        name="Triage",
        intended_purpose="Screening patients in the emergency department",
        sector="healthcare",
        ai_roles=["customer", "partner"],
        next_review_at=(today + timedelta(days=30)).isoformat(),
    )
    c = await register(stack, org, name="Route planner", ai_roles=["producer"])

    def names(items: list[dict[str, Any]]) -> set[str]:
        return {i["name"] for i in items}

    assert names(await listed(stack, org, q="credit")) == {"Loan scoring"}
    assert names(await listed(stack, org, q="screen patient")) == {"Triage"}  # stemmed, all words
    assert names(await listed(stack, org, q="planner")) == {"Route planner"}
    assert names(await listed(stack, org, q="nothing-like-this")) == set()
    assert names(await listed(stack, org, sector="healthcare")) == {"Triage"}
    assert names(await listed(stack, org, role="partner")) == {"Triage"}
    assert names(await listed(stack, org, role=["producer", "provider"])) == {
        "Loan scoring",
        "Route planner",
    }
    assert names(await listed(stack, org, owner="cro@example.com")) == {"Loan scoring"}
    assert names(await listed(stack, org, lifecycle_stage="deployed")) == {"Loan scoring"}
    assert names(await listed(stack, org, review_overdue="true")) == {"Loan scoring"}
    assert names(await listed(stack, org, review_overdue="false")) == {"Triage", "Route planner"}
    assert names(await listed(stack, org, name="tri", sector="healthcare")) == {"Triage"}
    assert await listed(stack, org, in_scope="true") == []
    assert await listed(stack, org, tier="high") == []
    bad = await stack.inventory.get(
        "/v1/ai-systems", params={"sector": "gambling"}, headers=stack.headers(org)
    )
    assert bad.status_code == 422
    assert {a["id"], b["id"], c["id"]} == {s["id"] for s in await listed(stack, org)}


async def test_cursor_of_another_sort_is_refused(stack: Any, org: uuid.UUID) -> None:
    for name in ("a", "b", "c"):
        await register(stack, org, name=name)
    headers = stack.headers(org)
    page = await stack.inventory.get(
        "/v1/ai-systems", params={"limit": 1, "sort": "name"}, headers=headers
    )
    cursor = page.json()["next_cursor"]
    other = await stack.inventory.get(
        "/v1/ai-systems", params={"sort": "-created_at", "after": cursor}, headers=headers
    )
    assert other.status_code == 400
    assert other.json()["code"] == "invalid-cursor"
    garbage = await stack.inventory.get(
        "/v1/ai-systems", params={"after": "bm90LWpzb24"}, headers=headers
    )
    assert garbage.status_code == 400


SORTS = ["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at",
         "next_review_at", "-next_review_at"]  # fmt: skip


@pytest.fixture(scope="module")
def paging_org() -> uuid.UUID:
    return uuid7()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    sort=st.sampled_from(SORTS),
    limit=st.integers(min_value=1, max_value=7),
    sector=st.sampled_from([None, "general", "healthcare"]),
)
async def test_paging_returns_every_row_once_in_order(
    stack: Any, paging_org: uuid.UUID, sort: str, limit: int, sector: str | None
) -> None:
    org = paging_org
    headers = stack.headers(org)
    if not await listed(stack, org):
        # Duplicate names and review dates (and missing ones) so ties and nulls are exercised.
        for i in range(17):
            await register(
                stack,
                org,
                name=f"System {i % 5}",
                sector=["general", "healthcare", None][i % 3],
                next_review_at=None if i % 4 == 0 else f"2027-0{1 + i % 3}-01",
            )
    params: dict[str, Any] = {"sort": sort}
    if sector:
        params["sector"] = sector
    everything = await listed(stack, org, **params)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page_params = {**params, "limit": limit, **({"after": cursor} if cursor else {})}
        response = await stack.inventory.get("/v1/ai-systems", params=page_params, headers=headers)
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert [s["id"] for s in seen] == [s["id"] for s in everything]
    assert len({s["id"] for s in seen}) == len(seen)
    field = sort.lstrip("-")
    keys = [s[field] for s in seen]
    present = [k for k in keys if k is not None]
    assert keys == present + [None] * (len(keys) - len(present))  # nulls last
    if field != "name":  # names follow the database's collation
        assert present == sorted(present, reverse=sort.startswith("-"))
    if sector:
        assert {s["sector"] for s in seen} <= {sector}


# --- Completeness -------------------------------------------------------------------------------


async def test_completeness_lists_gaps_with_counts(stack: Any, org: uuid.UUID) -> None:
    complete = await register(stack, org, **{**FULL, "name": "Complete"})
    bare = await register(stack, org, name="Bare")
    overdue = await register(
        stack,
        org,
        **{
            **FULL,
            "name": "Overdue",
            "next_review_at": (date.today() - timedelta(days=3)).isoformat(),
        },
    )
    await register(stack, org, name="Retired", lifecycle_stage="retired")

    response = await stack.inventory.get(
        "/v1/ai-systems/completeness", params={"limit": 1}, headers=stack.headers(org, "auditor")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {
        "systems": 3,
        "with_gaps": 2,
        "owner": 1,
        "next_review_at": 1,
        "intended_purpose": 1,
        "data_inputs": 1,
        "sector": 1,
        "ai_roles": 1,
        "review_overdue": 1,
    }
    items = body["items"]
    rest = await stack.inventory.get(
        "/v1/ai-systems/completeness",
        params={"after": body["next_cursor"]},
        headers=stack.headers(org),
    )
    items += rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    by_name = {i["name"]: i for i in items}
    assert set(by_name) == {"Bare", "Overdue"}
    assert complete["id"] not in {i["id"] for i in items}
    assert by_name["Bare"]["missing"] == [
        "owner", "next_review_at", "intended_purpose", "data_inputs", "sector", "ai_roles"
    ]  # fmt: skip
    assert by_name["Bare"]["id"] == bare["id"] and not by_name["Bare"]["review_overdue"]
    assert by_name["Overdue"]["missing"] == [] and by_name["Overdue"]["review_overdue"]
    assert by_name["Overdue"]["id"] == overdue["id"]


# --- Classification mirror ---------------------------------------------------------------------


def classified(org: uuid.UUID, system_id: str, version: int, tier: str, level: str) -> CloudEvent:
    return CloudEvent(
        id=str(uuid7()),
        source="/aims/risk",
        type="aims.risk.system.classified",
        time=utcnow(),
        subject=system_id,
        data={"system_id": system_id, "org_id": str(org), "tier": tier, "risk_level": level},
        orgid=str(org),
        dataversion=version,
    )


async def test_classification_mirror_follows_newer_events_only(stack: Any, org: uuid.UUID) -> None:
    engines = stack.engines
    system = await register(stack, org, name="Credit model")
    nc = await nats.connect(engines.nats_url)
    db = Database(engines.databases["inventory"].app_url, pool_size=2)
    (handler,) = HANDLERS
    js = nc.jetstream()
    await ensure_stream(js, engines.stream, engines.subject_prefix)
    runner = ConsumerRunner(
        db,
        js,
        handler,
        stream=engines.stream,
        durable_prefix=f"{engines.prefix}-t{uuid7().hex[:6]}",
        metrics=Metrics("test"),
        subject_prefix=engines.subject_prefix,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))

    async def publish(event: CloudEvent) -> None:
        await js.publish(
            engines.subject_prefix + event.type,
            json.dumps(event.model_dump(mode="json")).encode(),
            headers={"Nats-Msg-Id": event.id},
        )

    async def mirror(tier: str) -> dict[str, Any] | None:
        got = await stack.inventory.get(
            f"/v1/ai-systems/{system['id']}", headers=stack.headers(org)
        )
        return dict(got.json()) if got.json()["eu_ai_act_tier"] == tier else None

    try:
        await publish(classified(org, system["id"], 2, "high", "severe"))
        state = await eventually(lambda: mirror("high"))
        assert state["risk_level"] == "severe"
        # The register's own version and update time do not move.
        assert state["version"] == 1 and state["updated_at"] == system["updated_at"]
        assert (await listed(stack, org, tier="high"))[0]["id"] == system["id"]

        await publish(classified(org, system["id"], 1, "minimal", "low"))  # older: ignored
        await publish(classified(org, system["id"], 3, "limited", "medium"))
        state = await eventually(lambda: mirror("limited"))
        assert state["risk_level"] == "medium"
        # Another org's event naming this system changes nothing (row-level security).
        await publish(classified(uuid7(), system["id"], 9, "prohibited", "x"))
        await asyncio.sleep(1.0)
        again = await stack.inventory.get(
            f"/v1/ai-systems/{system['id']}", headers=stack.headers(org)
        )
        assert again.json()["eu_ai_act_tier"] == "limited"
    finally:
        stop.set()
        await task
        await nc.close()
        await db.dispose()


# --- Isolation -----------------------------------------------------------------------------------


async def test_another_organisation_sees_nothing(stack: Any, org: uuid.UUID) -> None:
    system = await register(stack, org, **FULL)
    other = uuid7()
    headers = stack.headers(other, "admin")
    base = f"/v1/ai-systems/{system['id']}"
    assert (await stack.inventory.get(base, headers=headers)).status_code == 404
    assert (await stack.inventory.get(f"{base}/history", headers=headers)).status_code == 404
    assert (
        await stack.inventory.patch(
            base, json={"name": "x"}, headers={**headers, "If-Match": '"1"'}
        )
    ).status_code == 404
    assert await listed(stack, other, q="screening") == []
    assert await listed(stack, other) == []
    completeness = await stack.inventory.get("/v1/ai-systems/completeness", headers=headers)
    assert completeness.json()["items"] == [] and completeness.json()["counts"]["systems"] == 0


async def test_scope_membership_is_mirrored_and_filterable(stack: Any, org: uuid.UUID) -> None:
    from services.inventory.systems.service import set_scope_membership
    from shared.db import tenant_transaction

    inside = await register(stack, org, name="Inside")
    outside = await register(stack, org, name="Outside")
    await register(stack, org, name="Unknown")
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1)
    try:
        async with tenant_transaction(db, org) as session:
            await set_scope_membership(
                session, included=[uuid.UUID(inside["id"])], excluded=[uuid.UUID(outside["id"])]
            )
    finally:
        await db.dispose()
    assert [s["name"] for s in await listed(stack, org, in_scope="true")] == ["Inside"]
    assert [s["name"] for s in await listed(stack, org, in_scope="false")] == ["Outside"]
    fetched = await stack.inventory.get(
        f"/v1/ai-systems/{inside['id']}", headers=stack.headers(org)
    )
    assert fetched.json()["in_scope"] is True
    assert fetched.json()["version"] == 1 and fetched.json()["updated_at"] == inside["updated_at"]
