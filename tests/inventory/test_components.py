"""Components, vendors, dependencies and interfaces through the inventory REST API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.engines


async def post(stack: Any, org: uuid.UUID, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.inventory.post(path, json=body, headers=stack.headers(org, "manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def system(stack: Any, org: uuid.UUID, name: str) -> dict[str, Any]:
    return await post(stack, org, "/v1/ai-systems", {"name": name})


async def component(stack: Any, org: uuid.UUID, name: str, **fields: Any) -> dict[str, Any]:
    return await post(stack, org, "/v1/components", {"kind": "software", "name": name, **fields})


async def edge(
    stack: Any, org: uuid.UUID, source: tuple[str, str], target: tuple[str, str]
) -> None:
    await post(
        stack,
        org,
        "/v1/dependencies",
        {"from_type": source[0], "from_id": source[1], "to_type": target[0], "to_id": target[1]},
    )


async def test_vendor_crud_with_etags_and_idempotent_create(stack: Any, org: uuid.UUID) -> None:
    headers = {**stack.headers(org, "manager"), "Idempotency-Key": "vendor-1"}
    body = {"name": "Acme AI", "services": ["LLM API"], "next_review_at": "2027-01-01T00:00:00Z"}
    first = await stack.inventory.post("/v1/vendors", json=body, headers=headers)
    again = await stack.inventory.post("/v1/vendors", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    vendor = first.json()
    listed = await stack.inventory.get("/v1/vendors", headers=stack.headers(org))
    assert [v["id"] for v in listed.json()["items"]] == [vendor["id"]]

    duplicate = await stack.inventory.post(
        "/v1/vendors", json={"name": "acme ai"}, headers=stack.headers(org, "manager")
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "vendor-name-taken"

    url = f"/v1/vendors/{vendor['id']}"
    change = {"services": ["LLM API", "Embeddings"]}
    no_etag = await stack.inventory.patch(url, json=change, headers=stack.headers(org, "manager"))
    assert no_etag.status_code == 428
    stale = await stack.inventory.patch(
        url, json=change, headers={**stack.headers(org, "manager"), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    updated = await stack.inventory.patch(
        url, json=change, headers={**stack.headers(org, "manager"), "If-Match": '"1"'}
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert updated.headers["etag"] == '"2"'

    reader = await stack.inventory.post(
        "/v1/vendors", json={"name": "Other"}, headers=stack.headers(org, "viewer")
    )
    assert reader.status_code == 403

    deleted = await stack.inventory.delete(
        url, headers={**stack.headers(org, "manager"), "If-Match": '"2"'}
    )
    assert deleted.status_code == 204
    assert (await stack.inventory.get(url, headers=stack.headers(org))).status_code == 404


async def test_component_crud_validates_references(stack: Any, org: uuid.UUID) -> None:
    ai = await system(stack, org, "Chatbot")
    vendor = await post(stack, org, "/v1/vendors", {"name": "ModelCo"})
    model = await component(
        stack,
        org,
        "gpt-x",
        kind="third_party_ai_service",
        system_id=ai["id"],
        vendor_id=vendor["id"],
        model_card={"considerations": {"useCases": ["chat"]}},
    )
    assert model["kind"] == "third_party_ai_service" and model["version"] == 1

    missing = await stack.inventory.post(
        "/v1/components",
        json={"kind": "model", "name": "x", "system_id": str(uuid.uuid4())},
        headers=stack.headers(org, "manager"),
    )
    assert missing.status_code == 422 and missing.json()["code"] == "reference-not-found"
    bad_kind = await stack.inventory.post(
        "/v1/components", json={"kind": "robot", "name": "x"}, headers=stack.headers(org, "manager")
    )
    assert bad_kind.status_code == 422

    listed = await stack.inventory.get(
        "/v1/components", params={"system_id": ai["id"]}, headers=stack.headers(org)
    )
    assert [c["id"] for c in listed.json()["items"]] == [model["id"]]

    in_use = await stack.inventory.delete(
        f"/v1/vendors/{vendor['id']}", headers={**stack.headers(org, "manager"), "If-Match": "*"}
    )
    assert in_use.status_code == 409

    url = f"/v1/components/{model['id']}"
    updated = await stack.inventory.patch(
        url,
        json={"component_version": "2", "vendor_id": None},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["vendor_id"] is None and updated.json()["version"] == 2
    deleted = await stack.inventory.delete(
        url, headers={**stack.headers(org, "manager"), "If-Match": '"2"'}
    )
    assert deleted.status_code == 204
    assert (await stack.inventory.get(url, headers=stack.headers(org))).status_code == 404


async def test_transitive_dependencies_survive_a_cycle(stack: Any, org: uuid.UUID) -> None:
    ai = await system(stack, org, "Scoring")
    other = await system(stack, org, "Feature store")
    vendor = await post(stack, org, "/v1/vendors", {"name": "CloudCo"})
    a = await component(stack, org, "a", system_id=ai["id"])
    b = await component(stack, org, "b")
    c = await component(stack, org, "c", vendor_id=vendor["id"])
    await edge(stack, org, ("component", a["id"]), ("component", b["id"]))
    await edge(stack, org, ("component", b["id"]), ("component", c["id"]))
    await edge(stack, org, ("component", c["id"]), ("component", a["id"]))  # the cycle
    await edge(stack, org, ("component", c["id"]), ("system", other["id"]))

    response = await stack.inventory.get(
        f"/v1/ai-systems/{ai['id']}/dependencies",
        params={"paths": "true"},
        headers=stack.headers(org),
    )
    assert response.status_code == 200, response.text
    graph = response.json()
    paths = {i["node"]["name"]: [n["name"] for n in i["path"]] for i in graph["items"]}
    assert paths == {
        "a": ["Scoring", "a"],
        "b": ["Scoring", "a", "b"],
        "c": ["Scoring", "a", "b", "c"],
        "Feature store": ["Scoring", "a", "b", "c", "Feature store"],
        "CloudCo": ["Scoring", "a", "b", "c", "CloudCo"],
    }
    # By default: each node once, with its depth and the node it is reached from; no paths.
    default = await stack.inventory.get(
        f"/v1/ai-systems/{ai['id']}/dependencies", headers=stack.headers(org)
    )
    items = default.json()["items"]
    assert all(i["path"] is None for i in items)
    ids = {ai["id"]: "Scoring", a["id"]: "a", b["id"]: "b", c["id"]: "c"}
    assert {i["node"]["name"]: (i["depth"], ids[i["via"]["id"]]) for i in items} == {
        "a": (1, "Scoring"),
        "b": (2, "a"),
        "c": (3, "b"),
        "Feature store": (4, "c"),
        "CloudCo": (4, "c"),
    }
    assert [i["depth"] for i in items] == [1, 2, 3, 4, 4]
    direct = await stack.inventory.get(
        f"/v1/ai-systems/{ai['id']}/dependencies",
        params={"transitive": "false"},
        headers=stack.headers(org),
    )
    assert [i["node"]["name"] for i in direct.json()["items"]] == ["a"]

    self_edge = await stack.inventory.post(
        "/v1/dependencies",
        json={
            "from_type": "component",
            "from_id": a["id"],
            "to_type": "component",
            "to_id": a["id"],
        },
        headers=stack.headers(org, "manager"),
    )
    assert self_edge.status_code == 422
    twice = await stack.inventory.post(
        "/v1/dependencies",
        json={
            "from_type": "component",
            "from_id": a["id"],
            "to_type": "component",
            "to_id": b["id"],
        },
        headers=stack.headers(org, "manager"),
    )
    assert twice.status_code == 409


async def test_dependents_of_a_vendor_reach_every_system_using_it(
    stack: Any, org: uuid.UUID
) -> None:
    vendor = await post(stack, org, "/v1/vendors", {"name": "DataBroker"})
    hr = await system(stack, org, "HR bot")
    finance = await system(stack, org, "Finance bot")
    await system(stack, org, "Unrelated")
    dataset = await component(stack, org, "people-data", kind="dataset", vendor_id=vendor["id"])
    model = await component(stack, org, "hr-model", kind="model", system_id=hr["id"])
    await edge(stack, org, ("component", model["id"]), ("component", dataset["id"]))
    await edge(stack, org, ("system", finance["id"]), ("system", hr["id"]))

    response = await stack.inventory.get(
        f"/v1/vendors/{vendor['id']}/dependents",
        params={"paths": "true"},
        headers=stack.headers(org),
    )
    assert response.status_code == 200
    paths = {i["node"]["name"]: [n["name"] for n in i["path"]] for i in response.json()["items"]}
    assert paths == {
        "people-data": ["DataBroker", "people-data"],
        "hr-model": ["DataBroker", "people-data", "hr-model"],
        "HR bot": ["DataBroker", "people-data", "hr-model", "HR bot"],
        "Finance bot": ["DataBroker", "people-data", "hr-model", "HR bot", "Finance bot"],
    }
    of_component = await stack.inventory.get(
        f"/v1/components/{model['id']}/dependents", headers=stack.headers(org)
    )
    assert {i["node"]["name"] for i in of_component.json()["items"]} == {"HR bot", "Finance bot"}
    by_default = await stack.inventory.get(
        f"/v1/vendors/{vendor['id']}/dependents", headers=stack.headers(org)
    )
    ids = {vendor["id"]: "DataBroker", dataset["id"]: "people-data", model["id"]: "hr-model"}
    ids[hr["id"]] = "HR bot"
    assert {
        i["node"]["name"]: (i["depth"], ids[i["via"]["id"]], i["path"])
        for i in by_default.json()["items"]
    } == {
        "people-data": (1, "DataBroker", None),
        "hr-model": (2, "people-data", None),
        "HR bot": (3, "hr-model", None),
        "Finance bot": (4, "HR bot", None),
    }


async def test_interfaces_record_data_flows(stack: Any, org: uuid.UUID) -> None:
    ai = await system(stack, org, "Chatbot")
    svc = await component(stack, org, "auth-service", kind="service")
    created = await post(
        stack,
        org,
        "/v1/interfaces",
        {
            "from_type": "system",
            "from_id": ai["id"],
            "to_type": "component",
            "to_id": svc["id"],
            "direction": "both",
            "data_exchanged": ["user tokens"],
            "protocol": "OIDC",
        },
    )
    listed = await stack.inventory.get(
        "/v1/interfaces", params={"node_id": svc["id"]}, headers=stack.headers(org)
    )
    assert [i["id"] for i in listed.json()["items"]] == [created["id"]]
    changed = await stack.inventory.patch(
        f"/v1/interfaces/{created['id']}",
        json={"direction": "out"},
        headers={**stack.headers(org, "manager"), "If-Match": '"1"'},
    )
    assert changed.status_code == 200 and changed.json()["direction"] == "out"


async def test_another_organisation_can_neither_see_nor_reference(
    stack: Any, org: uuid.UUID
) -> None:
    ai = await system(stack, org, "Mine")
    vendor = await post(stack, org, "/v1/vendors", {"name": "Secret vendor"})
    comp = await component(stack, org, "mine", system_id=ai["id"], vendor_id=vendor["id"])
    intruder = uuid.uuid4()
    theirs = await system(stack, intruder, "Theirs")
    for path in (
        f"/v1/components/{comp['id']}",
        f"/v1/vendors/{vendor['id']}",
        f"/v1/ai-systems/{ai['id']}/dependencies",
        f"/v1/vendors/{vendor['id']}/dependents",
        f"/v1/components/{comp['id']}/dependents",
    ):
        response = await stack.inventory.get(path, headers=stack.headers(intruder))
        assert response.status_code == 404, path
    borrowed = await stack.inventory.post(
        "/v1/components",
        json={"kind": "model", "name": "x", "system_id": ai["id"], "vendor_id": vendor["id"]},
        headers=stack.headers(intruder, "manager"),
    )
    assert borrowed.status_code == 422
    linked = await stack.inventory.post(
        "/v1/dependencies",
        json={
            "from_type": "system",
            "from_id": theirs["id"],
            "to_type": "component",
            "to_id": comp["id"],
        },
        headers=stack.headers(intruder, "manager"),
    )
    assert linked.status_code == 422
    assert (await stack.inventory.get("/v1/components", headers=stack.headers(intruder))).json()[
        "items"
    ] == []


async def test_component_events_carry_full_state(stack: Any, org: uuid.UUID) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    comp = await component(stack, org, "evented")
    engine = create_async_engine(stack.engines.databases["inventory"].owner_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT type, envelope FROM outbox "
                        "WHERE envelope->>'subject' = :s ORDER BY seq"
                    ),
                    {"s": comp["id"]},
                )
            ).all()
    finally:
        await engine.dispose()
    assert [r.type for r in rows] == ["aims.inventory.component.created"]
    assert rows[0].envelope["data"]["name"] == "evented"
