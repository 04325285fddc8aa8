"""CycloneDX 1.4 – 1.7 import, and re-import removing what the new BOM no longer lists.

The example BOMs follow the shapes of the official CycloneDX examples of each version: 1.4 with
the legacy `metadata.tools` array and `author` strings; 1.7 with `metadata.tools` as an object,
an external component carrying a `versionRange`, license expressions beside licenses, patent
assertions and a model card.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from services.inventory.components.cyclonedx import parse_bom
from services.inventory.components.errors import BomError

BOM_1_4: dict[str, Any] = {
    "$schema": "http://cyclonedx.org/schema/bom-1.4.schema.json",
    "bomFormat": "CycloneDX",
    "specVersion": "1.4",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {
        "timestamp": "2023-03-14T10:12:00Z",
        "tools": [{"vendor": "CycloneDX", "name": "cyclonedx-python", "version": "3.11.0"}],
        "component": {
            "bom-ref": "pkg:pypi/claims-triage@1.2.0",
            "type": "application",
            "name": "claims-triage",
            "version": "1.2.0",
        },
    },
    "components": [
        {
            "bom-ref": "pkg:pypi/scikit-learn@1.2.2",
            "type": "library",
            "author": "scikit-learn developers",
            "name": "scikit-learn",
            "version": "1.2.2",
            "description": "A set of python modules for machine learning and data mining",
            "licenses": [{"license": {"id": "BSD-3-Clause"}}],
            "purl": "pkg:pypi/scikit-learn@1.2.2",
            "hashes": [{"alg": "SHA-256", "content": "8f3ac2" + "0" * 58}],
            "externalReferences": [
                {"type": "vcs", "url": "https://github.com/scikit-learn/scikit-learn"}
            ],
        },
        {
            "bom-ref": "pkg:pypi/numpy@1.24.2",
            "type": "library",
            "supplier": {"name": "NumPy Developers", "url": ["https://numpy.org"]},
            "name": "numpy",
            "version": "1.24.2",
            "purl": "pkg:pypi/numpy@1.24.2",
        },
    ],
    "dependencies": [
        {"ref": "pkg:pypi/claims-triage@1.2.0", "dependsOn": ["pkg:pypi/scikit-learn@1.2.2"]},
        {"ref": "pkg:pypi/scikit-learn@1.2.2", "dependsOn": ["pkg:pypi/numpy@1.24.2"]},
        {"ref": "pkg:pypi/numpy@1.24.2", "dependsOn": []},
    ],
}

BOM_1_7: dict[str, Any] = {
    "$schema": "http://cyclonedx.org/schema/bom-1.7.schema.json",
    "bomFormat": "CycloneDX",
    "specVersion": "1.7",
    "serialNumber": "urn:uuid:5f6f1e3c-2c61-4b3e-9d1a-0c8b3f4a2e10",
    "version": 3,
    "metadata": {
        "timestamp": "2026-10-01T08:00:00Z",
        "tools": {"components": [{"type": "application", "name": "cdxgen", "version": "11.9.0"}]},
        "component": {"bom-ref": "hiring", "type": "application", "name": "Hiring assistant"},
        "distributionConstraints": {"tlp": "CLEAR"},
    },
    "components": [
        {
            "bom-ref": "ranker",
            "type": "machine-learning-model",
            "name": "resume-ranker",
            "version": "3.0",
            "manufacturer": {"name": "Acme AI"},
            "authors": [{"name": "Model team"}],
            "licenses": [
                {"expression": "Apache-2.0 OR MIT"},
                {"license": {"id": "BSD-3-Clause"}},
            ],
            "patentAssertions": [
                {"assertionType": "ownership", "patentRefs": ["patent-1"], "asserter": "acme"}
            ],
            "modelCard": {
                "modelParameters": {
                    "approach": {"type": "supervised"},
                    "task": "ranking",
                    "datasets": [{"ref": "cvs"}],
                },
                "considerations": {
                    "environmentalConsiderations": {
                        "energyConsumptions": [
                            {
                                "activity": "training",
                                "energyProviders": [],
                                "activityEnergyCost": {"value": 12.5, "unit": "kWh"},
                            }
                        ]
                    }
                },
            },
        },
        {
            "bom-ref": "cvs",
            "type": "data",
            "name": "applications-2026",
            "data": [{"type": "dataset", "name": "applications-2026", "classification": "PII"}],
        },
        {
            "bom-ref": "torch",
            "type": "framework",
            "name": "torch",
            "isExternal": True,
            "versionRange": "vers:pypi/>=2.4|<3",
            "purl": "pkg:pypi/torch",
        },
    ],
    "dependencies": [
        {"ref": "hiring", "dependsOn": ["ranker"]},
        {"ref": "ranker", "dependsOn": ["cvs", "torch"]},
    ],
    "citations": [
        {
            "bom-ref": "citation-1",
            "pointers": ["/components/0/modelCard"],
            "timestamp": "2026-10-01T08:00:00Z",
            "attributedTo": "model-team",
        }
    ],
}


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- The parser -------------------------------------------------------------------------------


def test_a_1_4_bom_is_read_with_plain_components() -> None:
    parsed = parse_bom(encode(BOM_1_4))
    assert parsed.spec_version == "1.4"
    by_ref = {c.bom_ref: c for c in parsed.components}
    assert {c.kind for c in parsed.components} == {"software"}
    assert by_ref["pkg:pypi/numpy@1.24.2"].vendor == "NumPy Developers"
    sklearn = by_ref["pkg:pypi/scikit-learn@1.2.2"]
    assert sklearn.properties["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    assert parsed.dependencies == [("pkg:pypi/scikit-learn@1.2.2", "pkg:pypi/numpy@1.24.2")]


def test_a_1_7_bom_keeps_what_1_7_added() -> None:
    parsed = parse_bom(encode(BOM_1_7))
    assert parsed.spec_version == "1.7"
    by_ref = {c.bom_ref: c for c in parsed.components}
    assert by_ref["ranker"].kind == "model" and by_ref["cvs"].kind == "dataset"
    assert by_ref["ranker"].vendor == "Acme AI"
    card = by_ref["ranker"].model_card
    assert card is not None and card["modelParameters"]["task"] == "ranking"
    torch = by_ref["torch"]
    assert torch.version is None
    assert torch.properties["versionRange"] == "vers:pypi/>=2.4|<3"
    assert torch.properties["isExternal"] is True
    assert by_ref["ranker"].properties["licenses"][0] == {"expression": "Apache-2.0 OR MIT"}
    assert parsed.dependencies == [("ranker", "cvs"), ("ranker", "torch")]


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6", "1.7"])
def test_every_supported_version_is_read(version: str) -> None:
    assert parse_bom(encode({**BOM_1_7, "specVersion": version})).spec_version == version


@pytest.mark.parametrize("version", ["1.3", "2.0", "1.8", "1.7.1", "", None, 1.7, ["1.7"]])
def test_other_versions_are_refused_naming_the_supported_ones(version: Any) -> None:
    with pytest.raises(BomError) as raised:
        parse_bom(encode({**BOM_1_7, "specVersion": version}))
    assert raised.value.status == 422
    assert raised.value.code == "bom-spec-version-unsupported"
    assert "1.4, 1.5, 1.6, 1.7" in raised.value.detail
    assert raised.value.extensions["supported"] == ["1.4", "1.5", "1.6", "1.7"]


def _with_name(name: str) -> bytes:
    bom = copy.deepcopy(BOM_1_4)
    bom["components"][1]["name"] = name
    return encode(bom)


@pytest.mark.parametrize(
    "data",
    [
        _with_name("num\u0000py"),
        encode({**BOM_1_4, "metadata": {"component": {"name": "a\u0000"}}}),
        encode({**BOM_1_4, "x\u0000": 1}),
        _with_name("\ud800"),
        encode({**BOM_1_4, "version": float("nan")}),
        encode({**BOM_1_4, "version": float("inf")}),
        encode(BOM_1_4).replace(b'"version": 1,', b'"version": 1e400,'),
    ],
    ids=["nul-name", "nul-nested", "nul-key", "lone-surrogate", "nan", "infinity", "overflow"],
)
def test_values_the_database_cannot_store_are_refused(data: bytes) -> None:
    with pytest.raises(BomError) as raised:
        parse_bom(data)
    assert raised.value.status in (400, 422)


# --- The REST import --------------------------------------------------------------------------


async def _system(stack: Any, org: uuid.UUID, name: str = "Hiring") -> str:
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": name}, headers=stack.headers(org, "manager")
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _import(stack: Any, org: uuid.UUID, system_id: str, bom: Any) -> Any:
    return await stack.inventory.post(
        f"/v1/ai-systems/{system_id}/bom",
        content=bom if isinstance(bom, bytes) else encode(bom),
        headers={**stack.headers(org, "manager"), "Content-Type": "application/vnd.cyclonedx+json"},
    )


async def _post(stack: Any, org: uuid.UUID, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.inventory.post(path, json=body, headers=stack.headers(org, "manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _items(stack: Any, org: uuid.UUID, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await stack.inventory.get(path, params=params, headers=stack.headers(org))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.mark.engines
async def test_1_4_and_1_7_boms_import(stack: Any, org: uuid.UUID) -> None:
    for bom, refs in (
        (BOM_1_4, {"pkg:pypi/scikit-learn@1.2.2", "pkg:pypi/numpy@1.24.2"}),
        (BOM_1_7, {"ranker", "cvs", "torch"}),
    ):
        system_id = await _system(stack, org, f"System {bom['specVersion']}")
        response = await _import(stack, org, system_id, bom)
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["spec_version"] == bom["specVersion"]
        assert {c["bom_ref"] for c in summary["created"]} == refs
        stored = await _items(stack, org, "/v1/components", system_id=system_id)
        assert {c["bom_ref"] for c in stored} == refs
        assert {c["source"] for c in stored} == {"bom"}
    torch = next(c for c in stored if c["bom_ref"] == "torch")
    assert torch["properties"]["versionRange"] == "vers:pypi/>=2.4|<3"


@pytest.mark.engines
async def test_1_3_and_2_0_are_refused_with_the_supported_versions(
    stack: Any, org: uuid.UUID
) -> None:
    system_id = await _system(stack, org)
    for version in ("1.3", "2.0"):
        response = await _import(stack, org, system_id, {**BOM_1_7, "specVersion": version})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "bom-spec-version-unsupported"
        assert problem["supported"] == ["1.4", "1.5", "1.6", "1.7"]
        assert version in problem["detail"]
    assert await _items(stack, org, "/v1/components") == []


@pytest.mark.engines
async def test_odd_input_answers_4xx_and_stores_nothing(stack: Any, org: uuid.UUID) -> None:
    system_id = await _system(stack, org)
    deep = copy.deepcopy(BOM_1_7)
    deep["components"][0]["properties"] = json.loads("[" * 80 + "]" * 80)
    many_edges = copy.deepcopy(BOM_1_7)
    many_edges["dependencies"] = [{"ref": "ranker", "dependsOn": ["cvs"] * 100_001}]
    for bad in (
        _with_name("num\u0000py"),
        _with_name("\ud800"),
        encode(BOM_1_4).replace(b'"version": 1,', b'"version": NaN,'),
        encode(BOM_1_4).replace(b'"version": 1,', b'"version": 1e400,'),
        encode(deep),
        encode(many_edges),
        encode({**BOM_1_7, "components": [{"type": "library", "name": "x"}] * 10_001}),
    ):
        response = await _import(stack, org, system_id, bad)
        assert 400 <= response.status_code < 500, response.text[:300]
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await _items(stack, org, "/v1/components") == []


def _without_torch(bom: dict[str, Any]) -> dict[str, Any]:
    """The 1.7 BOM with torch gone and the ranker no longer depending on the CVs."""
    trimmed = copy.deepcopy(bom)
    trimmed["components"] = [c for c in trimmed["components"] if c["bom-ref"] != "torch"]
    trimmed["dependencies"] = [{"ref": "hiring", "dependsOn": ["ranker"]}]
    return trimmed


@pytest.mark.engines
async def test_reimport_removes_what_the_bom_no_longer_lists_and_keeps_hand_made(
    stack: Any, org: uuid.UUID
) -> None:
    system_id = await _system(stack, org)
    first = await _import(stack, org, system_id, BOM_1_7)
    assert first.status_code == 200, first.text
    ids = {c["bom_ref"]: c["id"] for c in first.json()["created"]}

    # Recorded by hand: a component of the system (one with a bom-ref of its own too), an edge
    # from it to torch, an edge between two BOM components the BOM does not list, an interface.
    store = await _post(
        stack,
        org,
        "/v1/components",
        {"kind": "service", "name": "feature-store", "system_id": system_id},
    )
    tagged = await _post(
        stack,
        org,
        "/v1/components",
        {"kind": "software", "name": "glue", "system_id": system_id, "bom_ref": "glue"},
    )

    def link(a: str, b: str) -> dict[str, Any]:
        return {"from_type": "component", "from_id": a, "to_type": "component", "to_id": b}

    to_torch = await _post(stack, org, "/v1/dependencies", link(store["id"], ids["torch"]))
    kept_edge = await _post(stack, org, "/v1/dependencies", link(ids["cvs"], ids["ranker"]))
    interface = await _post(
        stack,
        org,
        "/v1/interfaces",
        {**link(store["id"], ids["torch"]), "direction": "out", "data_exchanged": ["features"]},
    )

    # Another system imports the same BOM: its components are its own and stay.
    other_id = await _system(stack, org, "Other")
    assert (await _import(stack, org, other_id, BOM_1_7)).status_code == 200

    second = await _import(stack, org, system_id, _without_torch(BOM_1_7))
    assert second.status_code == 200, second.text
    summary = second.json()
    assert summary["removed"] == [{"id": ids["torch"], "bom_ref": "torch", "name": "torch"}]
    assert summary["components"] == {"created": 0, "updated": 0, "unchanged": 2, "removed": 1}
    removed_edges = {
        (e["from_bom_ref"] or e["from_id"], e["to_bom_ref"], e["source"])
        for e in summary["removed_dependencies"]
    }
    assert removed_edges == {
        ("ranker", "cvs", "bom"),
        ("ranker", "torch", "bom"),
        (store["id"], "torch", "manual"),
    }
    assert to_torch["id"] in {e["id"] for e in summary["removed_dependencies"]}
    assert summary["dependencies"]["removed"] == 3
    assert summary["removed_interfaces"] == [interface["id"]]

    # What a user sees afterwards.
    left = await _items(stack, org, "/v1/components", system_id=system_id)
    assert {c["name"] for c in left} == {
        "resume-ranker",
        "applications-2026",
        "feature-store",
        "glue",
    }
    assert {c["source"] for c in left if c["id"] in (store["id"], tagged["id"])} == {"manual"}
    gone = await stack.inventory.get(f"/v1/components/{ids['torch']}", headers=stack.headers(org))
    assert gone.status_code == 404
    edges = await _items(stack, org, "/v1/dependencies", from_id=ids["cvs"])
    assert [e["id"] for e in edges] == [kept_edge["id"]]
    assert await _items(stack, org, "/v1/dependencies", from_id=ids["ranker"]) == []
    assert await _items(stack, org, "/v1/interfaces", node_id=store["id"]) == []
    graph = await stack.inventory.get(
        f"/v1/ai-systems/{system_id}/dependencies", headers=stack.headers(org)
    )
    assert "torch" not in {i["node"]["name"] for i in graph.json()["items"]}
    other = await _items(stack, org, "/v1/components", system_id=other_id)
    assert {c["bom_ref"] for c in other} == {"ranker", "cvs", "torch"}

    # The removal is recorded: a component.deleted event with the last state (audit trail).
    trail = await stack.inventory.get(
        "/v1/audit-trail", params={"entity_id": ids["torch"]}, headers=stack.headers(org, "admin")
    )
    assert trail.status_code == 200, trail.text
    entries = trail.json()["items"]
    assert [e["action"] for e in entries] == [
        "aims.inventory.component.created",
        "aims.inventory.component.deleted",
    ]
    assert entries[-1]["after"]["bom_ref"] == "torch" and entries[-1]["after"]["version"] == 2

    # Importing the same BOM again removes nothing more; bringing torch back creates it anew.
    again = (await _import(stack, org, system_id, _without_torch(BOM_1_7))).json()
    assert again["removed"] == [] and again["removed_dependencies"] == []
    back = (await _import(stack, org, system_id, BOM_1_7)).json()
    assert [c["bom_ref"] for c in back["created"]] == ["torch"]
    assert back["created"][0]["id"] != ids["torch"]
    assert back["dependencies"]["created"] == 2


@pytest.mark.engines
async def test_a_refused_reimport_removes_nothing(stack: Any, org: uuid.UUID) -> None:
    system_id = await _system(stack, org)
    assert (await _import(stack, org, system_id, BOM_1_4)).status_code == 200
    before = await _items(stack, org, "/v1/components", system_id=system_id)
    emptied = {**BOM_1_4, "specVersion": "1.3", "components": [], "dependencies": []}
    assert (await _import(stack, org, system_id, emptied)).status_code == 422
    broken = {**BOM_1_4, "components": [], "dependencies": [{"ref": "x", "dependsOn": ["y"]}]}
    assert (await _import(stack, org, system_id, broken)).status_code == 422
    assert await _items(stack, org, "/v1/components", system_id=system_id) == before
    # An empty BOM of a supported version is a real statement: everything it kept goes.
    empty = {**BOM_1_4, "components": [], "dependencies": []}
    summary = (await _import(stack, org, system_id, empty)).json()
    assert {c["bom_ref"] for c in summary["removed"]} == {c["bom_ref"] for c in before}
    assert await _items(stack, org, "/v1/components", system_id=system_id) == []
