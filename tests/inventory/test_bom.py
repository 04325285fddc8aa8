"""CycloneDX ML-BOM import: the pure parser (property-based) and the REST import."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inventory.components.cyclonedx import parse_bom
from services.inventory.components.errors import BomError

BOM: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "metadata": {"component": {"bom-ref": "app", "type": "application", "name": "Hiring"}},
    "components": [
        {
            "bom-ref": "ranker",
            "type": "machine-learning-model",
            "name": "resume-ranker",
            "version": "2.0",
            "supplier": {"name": "Acme AI"},
            "modelCard": {
                "modelParameters": {"task": "ranking", "approach": {"type": "supervised"}},
                "quantitativeAnalysis": {"performanceMetrics": [{"type": "auc", "value": "0.91"}]},
                "considerations": {"useCases": ["shortlisting"]},
            },
        },
        {"bom-ref": "cvs", "type": "data", "name": "applications-2025"},
        {
            "bom-ref": "torch",
            "type": "library",
            "name": "torch",
            "version": "2.4",
            "manufacturer": {"name": "PyTorch Foundation"},
            "purl": "pkg:pypi/torch@2.4",
        },
    ],
    "dependencies": [
        {"ref": "app", "dependsOn": ["ranker"]},
        {"ref": "ranker", "dependsOn": ["cvs", "torch"]},
    ],
}


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- The parser -------------------------------------------------------------------------------


def test_parser_maps_types_vendors_model_card_and_edges() -> None:
    parsed = parse_bom(encode(BOM))
    by_ref = {c.bom_ref: c for c in parsed.components}
    assert {r: c.kind for r, c in by_ref.items()} == {
        "ranker": "model",
        "cvs": "dataset",
        "torch": "software",
    }
    assert by_ref["ranker"].vendor == "Acme AI" and by_ref["torch"].vendor == "PyTorch Foundation"
    card = by_ref["ranker"].model_card
    assert card is not None
    assert set(card) == {"modelParameters", "quantitativeAnalysis", "considerations"}
    assert by_ref["torch"].properties["purl"] == "pkg:pypi/torch@2.4"
    # The BOM's own subject is the system: its edges are implied, not recorded.
    assert parsed.dependencies == [("ranker", "cvs"), ("ranker", "torch")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not json", "bom-not-json"),
        (b"\xff\xfe", "bom-not-json"),
        (encode([]), "bom-invalid"),
        (encode({**BOM, "bomFormat": "SPDX"}), "bom-invalid"),
        (encode({**BOM, "specVersion": "1.3"}), "bom-spec-version-unsupported"),
        (encode({**BOM, "specVersion": 1.6}), "bom-spec-version-unsupported"),
        (encode({**BOM, "components": {"a": 1}}), "bom-invalid"),
        (
            encode({**BOM, "dependencies": [{"ref": "ranker", "dependsOn": ["ghost"]}]}),
            "bom-invalid",
        ),
        (b"[" * 65 + b"]" * 65, "bom-invalid"),
        (b"[" * 100_000 + b"]" * 100_000, "bom-too-large"),
        (b"[" * 50_000, "bom-invalid"),
        (b" " * (5 * 1024 * 1024 + 1), "bom-too-large"),
    ],
)
def test_hostile_or_malformed_input_is_a_bom_error(data: bytes, code: str) -> None:
    with pytest.raises(BomError) as raised:
        parse_bom(data)
    assert raised.value.code == code or (code == "bom-too-large" and len(data) <= 5 * 2**20)


def test_more_than_ten_thousand_components_are_refused() -> None:
    bom = {**BOM, "dependencies": [], "components": []}
    bom["components"] = [{"type": "library", "name": f"c{i}"} for i in range(10_001)]
    with pytest.raises(BomError, match="more than 10000"):
        parse_bom(encode(bom))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=40,
)
component_like = st.fixed_dictionaries(
    {},
    optional={
        "bom-ref": json_values | st.sampled_from(["a", "b"]),
        "type": json_values | st.sampled_from(["machine-learning-model", "data", "library"]),
        "name": json_values | st.text(min_size=1, max_size=5),
        "supplier": json_values | st.fixed_dictionaries({"name": json_values}),
        "modelCard": json_values,
        "properties": json_values,
        "components": json_values,
    },
)
bom_like = st.fixed_dictionaries(
    {"bomFormat": st.just("CycloneDX"), "specVersion": st.sampled_from(["1.5", "1.6", "2"])},
    optional={
        "components": st.lists(component_like, max_size=4) | json_values,
        "dependencies": st.lists(
            st.fixed_dictionaries(
                {}, optional={"ref": json_values | st.just("a"), "dependsOn": json_values}
            ),
            max_size=3,
        )
        | json_values,
        "metadata": json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values.map(encode), bom_like.map(encode), st.binary(max_size=200)))
def test_arbitrary_input_only_ever_raises_bom_error(data: bytes) -> None:
    try:
        parsed = parse_bom(data)
    except BomError:
        return
    refs = {c.bom_ref for c in parsed.components}
    assert len(refs) == len(parsed.components)
    assert all(a in refs and b in refs for a, b in parsed.dependencies)


# --- The REST import --------------------------------------------------------------------------


async def _import(stack: Any, org: uuid.UUID, system_id: str, bom: Any) -> Any:
    content = bom if isinstance(bom, bytes) else encode(bom)
    return await stack.inventory.post(
        f"/v1/ai-systems/{system_id}/bom",
        content=content,
        headers={**stack.headers(org, "manager"), "Content-Type": "application/vnd.cyclonedx+json"},
    )


async def _state(stack: Any, org: uuid.UUID) -> tuple[list[Any], list[Any], list[Any]]:
    h = stack.headers(org)
    components = (await stack.inventory.get("/v1/components", headers=h)).json()["items"]
    vendors = (await stack.inventory.get("/v1/vendors", headers=h)).json()["items"]
    edges = (await stack.inventory.get("/v1/dependencies", headers=h)).json()["items"]
    return components, vendors, edges


@pytest.mark.engines
async def test_import_then_reimport_updates_by_bom_ref_and_never_duplicates(
    stack: Any, org: uuid.UUID
) -> None:
    system = (
        await stack.inventory.post(
            "/v1/ai-systems", json={"name": "Hiring"}, headers=stack.headers(org, "manager")
        )
    ).json()
    first = await _import(stack, org, system["id"], BOM)
    assert first.status_code == 200, first.text
    summary = first.json()
    assert summary["components"] == {"created": 3, "updated": 0, "unchanged": 0, "removed": 0}
    assert summary["vendors"] == {"created": 2, "updated": 0, "unchanged": 0, "removed": 0}
    assert summary["dependencies"] == {"created": 2, "updated": 0, "unchanged": 0, "removed": 0}

    components, vendors, edges = await _state(stack, org)
    model = next(c for c in components if c["bom_ref"] == "ranker")
    assert model["kind"] == "model" and model["system_id"] == system["id"]
    assert model["model_card"]["modelParameters"]["task"] == "ranking"
    assert {v["name"] for v in vendors} == {"Acme AI", "PyTorch Foundation"}

    again = await _import(stack, org, system["id"], BOM)
    assert again.json()["components"] == {"created": 0, "updated": 0, "unchanged": 3, "removed": 0}
    assert again.json()["dependencies"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "removed": 0,
    }
    assert await _state(stack, org) == (components, vendors, edges)

    changed = copy.deepcopy(BOM)
    changed["components"][0]["version"] = "2.1"
    third = await _import(stack, org, system["id"], changed)
    assert third.json()["components"] == {"created": 0, "updated": 1, "unchanged": 2, "removed": 0}
    after, _, _ = await _state(stack, org)
    assert len(after) == 3
    assert next(c for c in after if c["bom_ref"] == "ranker")["component_version"] == "2.1"

    deps = await stack.inventory.get(
        f"/v1/ai-systems/{system['id']}/dependencies", headers=stack.headers(org)
    )
    names = {i["node"]["name"] for i in deps.json()["items"]}
    assert names == {"resume-ranker", "applications-2025", "torch", "Acme AI", "PyTorch Foundation"}


@pytest.mark.engines
async def test_a_bad_bom_changes_nothing(stack: Any, org: uuid.UUID) -> None:
    system = (
        await stack.inventory.post(
            "/v1/ai-systems", json={"name": "Hiring"}, headers=stack.headers(org, "manager")
        )
    ).json()
    broken = copy.deepcopy(BOM)
    broken["dependencies"].append({"ref": "torch", "dependsOn": ["nowhere"]})
    for bad, status in (
        (b"{oops", 400),
        ({**BOM, "specVersion": "1.2"}, 422),
        (broken, 422),
        (b"[" * 70 + b"]" * 70, 422),
    ):
        response = await _import(stack, org, system["id"], bad)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await _state(stack, org) == ([], [], [])

    viewer = await stack.inventory.post(
        f"/v1/ai-systems/{system['id']}/bom",
        content=encode(BOM),
        headers=stack.headers(org, "viewer"),
    )
    assert viewer.status_code == 403
    elsewhere = await _import(stack, uuid.uuid4(), system["id"], BOM)
    assert elsewhere.status_code == 404
    huge = await _import(stack, org, system["id"], b" " * (6 * 1024 * 1024))
    assert huge.status_code == 413


async def test_bom_between_one_and_five_megabytes_is_accepted(stack: Any, org: uuid.UUID) -> None:
    """BOMs stream past the 1 MiB JSON limit of other endpoints; the route caps them at 5 MB."""
    headers = stack.headers(org, "admin")
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "Big BOM"}, headers=headers
    )
    system_id = created.json()["id"]
    components = [
        {
            "bom-ref": f"lib-{i}",
            "type": "library",
            "name": f"library-{i}",
            "version": "1.0.0",
            "description": "x" * 400,
        }
        for i in range(3000)
    ]
    body = json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}
    ).encode()
    assert 1024 * 1024 < len(body) < 5 * 1024 * 1024
    response = await stack.inventory.post(
        f"/v1/ai-systems/{system_id}/bom",
        content=body,
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text[:500]
    # Other JSON endpoints keep the 1 MiB limit.
    too_big = await stack.inventory.post(
        "/v1/ai-systems",
        content=b'{"name": "x", "description": "' + b"y" * (2 * 1024 * 1024) + b'"}',
        headers={**headers, "content-type": "application/json"},
    )
    assert too_big.status_code == 413
