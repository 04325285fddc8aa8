"""Spreadsheet import and CSV export of the register, through the inventory REST API."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import openpyxl
import pytest

from services.inventory.systems.schemas import AISystemCreate
from shared.db import uuid7
from shared.testing import eventually

pytestmark = pytest.mark.engines

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT = "/v1/ai-systems/import"


async def post_import(
    stack: Any, org: uuid.UUID, body: bytes | str, *, dry_run: bool = False, media: str = CSV
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return await stack.inventory.post(
        IMPORT,
        params={"dry_run": str(dry_run).lower()},
        content=content,
        headers={**stack.headers(org, "contributor"), "Content-Type": media},
    )


async def all_systems(stack: Any, org: uuid.UUID) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["after"] = cursor
        response = await stack.inventory.get(
            "/v1/ai-systems", params=params, headers=stack.headers(org)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


async def export(stack: Any, org: uuid.UUID) -> httpx.Response:
    response = await stack.inventory.get(
        "/v1/ai-systems/export.csv", headers=stack.headers(org, "viewer")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


GOOD = (
    "Name,Description,Lifecycle Stage,AI roles,affected-stakeholders,next_review_at,sector\n"
    "CV screening,Ranks applicants,Deployed,customer;PROVIDER,applicants; recruiters,"
    "2027-06-30,hiring_employment\n"
    "Chatbot,,idea,,,,\n"
)


async def test_valid_csv_imports_every_row_with_converted_values(
    stack: Any, org: uuid.UUID
) -> None:
    response = await post_import(stack, org, GOOD)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2 and response.json()["rows"] == 2

    systems = {s["name"]: s for s in await all_systems(stack, org)}
    assert set(systems) == {"CV screening", "Chatbot"}
    cv = systems["CV screening"]
    assert cv["lifecycle_stage"] == "deployed"  # enums match case-insensitively
    assert sorted(cv["ai_roles"]) == ["customer", "provider"]
    assert cv["affected_stakeholders"] == ["applicants", "recruiters"]
    assert cv["next_review_at"] == "2027-06-30"
    assert cv["created_by"] == "tester" and cv["version"] == 1
    chatbot = systems["Chatbot"]
    assert chatbot["description"] == "" and chatbot["lifecycle_stage"] == "idea"  # blank: default


async def test_dry_run_reports_every_rows_problems_and_writes_nothing(
    stack: Any, org: uuid.UUID
) -> None:
    body = (
        "name,lifecycle_stage,ai_roles,next_review_at,data_inputs\n"
        "Fine,idea,,,\n"
        ",sometime,customer,,\n"  # row 3: no name and a bad stage
        "Bad roles,idea,overlord;customer,31/12/2027,\n"  # row 4: bad role and bad date
        'Bad JSON,idea,,,"[{""category"": ""CVs"""\n'  # row 5: truncated JSON
    )
    response = await post_import(stack, org, body, dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True and report["valid"] is False
    assert report["rows"] == 4 and report["valid_rows"] == 1 and report["invalid_rows"] == 3
    by_row: dict[int, set[str]] = {}
    for problem in report["problems"]:
        by_row.setdefault(problem["row"], set()).add(problem["column"])
    assert by_row == {
        3: {"name", "lifecycle_stage"},
        4: {"ai_roles", "next_review_at"},
        5: {"data_inputs"},
    }
    assert await all_systems(stack, org) == []

    clean = await post_import(stack, org, GOOD, dry_run=True)
    assert clean.status_code == 200 and clean.json()["valid"] is True
    assert await all_systems(stack, org) == []  # a valid dry run writes nothing either


async def test_one_bad_row_means_nothing_is_written(stack: Any, org: uuid.UUID) -> None:
    rows = "".join(f"System {i},idea\n" for i in range(50))
    response = await post_import(stack, org, "name,lifecycle_stage\n" + rows + "Broken,nope\n")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "import-invalid"
    assert problem["errors"] == [
        {"row": 52, "column": "lifecycle_stage", "message": problem["errors"][0]["message"]}
    ]
    assert "idea" in problem["errors"][0]["message"]  # it names the allowed values
    assert await all_systems(stack, org) == []


async def test_xlsx_first_sheet_imports(stack: Any, org: uuid.UUID) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Owner", "Lifecycle stage", "Next review at"])
    sheet.append(["Fraud model", "risk@example.com", "Validation", None])
    sheet.append([None, None, None, None])  # blank rows are skipped
    sheet.append(["Forecaster", None, "deployed", "2027-01-15"])
    workbook.create_sheet("Ignored").append(["name"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = await post_import(stack, org, buffer.getvalue(), media=XLSX)
    assert response.status_code == 201, response.text
    systems = {s["name"]: s for s in await all_systems(stack, org)}
    assert set(systems) == {"Fraud model", "Forecaster"}
    assert systems["Fraud model"]["owner"] == "risk@example.com"
    assert systems["Fraud model"]["lifecycle_stage"] == "validation"
    assert systems["Forecaster"]["next_review_at"] == "2027-01-15"


async def test_bom_and_semicolon_csv_from_excel(stack: Any, org: uuid.UUID) -> None:
    body = "\ufeffName;Business function\r\nKünstliche Intelligenz;Vertrieb\r\n".encode()
    response = await post_import(stack, org, body)
    assert response.status_code == 201, response.text
    [system] = await all_systems(stack, org)
    assert system["name"] == "Künstliche Intelligenz"  # the BOM did not become part of "Name"
    assert system["business_function"] == "Vertrieb"


async def test_unknown_column_is_a_warning_and_missing_name_column_a_problem(
    stack: Any, org: uuid.UUID
) -> None:
    response = await post_import(stack, org, "name,colour\nA,blue\n", dry_run=True)
    report = response.json()
    assert report["valid"] is True
    assert [w["column"] for w in report["warnings"]] == ["colour"]

    missing = await post_import(stack, org, "title,owner\nA,b\n")
    assert missing.status_code == 422
    assert any(e["column"] == "name" and e["row"] == 1 for e in missing.json()["errors"])


async def test_refused_files(stack: Any, org: uuid.UUID) -> None:
    too_large = await stack.inventory.post(
        IMPORT,
        content=b"name\n" + b"x" * (20 * 1024 * 1024 + 1),
        headers={**stack.headers(org, "contributor"), "Content-Type": CSV},
    )
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "payload-too-large"

    too_many = await post_import(stack, org, "name\n" + "x\n" * 50_001)
    assert too_many.status_code == 422 and too_many.json()["code"] == "too-many-rows"

    wrong_type = await post_import(stack, org, b"{}", media="application/json")
    assert wrong_type.status_code == 415

    not_xlsx = await post_import(stack, org, b"name\nA\n", media=XLSX)
    assert not_xlsx.status_code == 400 and not_xlsx.json()["code"] == "unreadable-file"

    not_utf8 = await post_import(stack, org, "name\nMüller\n".encode("latin-1"))
    assert not_utf8.status_code == 400

    viewer = await stack.inventory.post(
        IMPORT, content=b"name\nA\n", headers={**stack.headers(org, "viewer"), "Content-Type": CSV}
    )
    assert viewer.status_code == 403
    assert await all_systems(stack, org) == []


async def test_imported_systems_are_published_as_events(stack: Any, org: uuid.UUID) -> None:
    response = await post_import(stack, org, "name,sector\nA,biometrics\nB,\n")
    assert response.status_code == 201
    systems = {s["name"]: s["id"] for s in await all_systems(stack, org)}
    assert set(systems) == {"A", "B"}
    ids = list(systems.values())

    async def projected() -> bool:
        for system_id in ids:
            got = await stack.risk.get(f"/v1/systems/{system_id}", headers=stack.headers(org))
            if got.status_code != 200:
                return False
        return True

    await eventually(projected)
    history = await stack.inventory.get(
        f"/v1/ai-systems/{systems['A']}/history", headers=stack.headers(org)
    )
    assert history.status_code == 200, history.text
    [first] = history.json()["items"]
    assert first["version"] == 1 and first["changes"]["sector"] == {
        "from": None,
        "to": "biometrics",
    }


async def test_export_then_import_recreates_the_same_systems(stack: Any, org: uuid.UUID) -> None:
    tricky = {
        "name": '=HYPERLINK("http://evil")',
        "description": 'line one\nline two, with "quotes"; and semicolons',
        "owner": "-owner",
        "business_function": "@sales",
        "lifecycle_stage": "deployed",
        "intended_purpose": "'=already quoted",
        "affected_stakeholders": ["a;b", "c"],  # an item with ';' goes out as a JSON array
        "ai_roles": ["producer", "partner"],
        "data_inputs": [{"category": "CVs", "personal": True, "special_category": False}],
        "sector": "credit_finance",
        "next_review_at": "2027-03-01",
    }
    plain = {"name": "Plain", "affected_stakeholders": ["staff"]}
    for body in (tricky, plain):
        created = await stack.inventory.post(
            "/v1/ai-systems", json=body, headers=stack.headers(org, "contributor")
        )
        assert created.status_code == 201, created.text

    exported = (await export(stack, org)).content
    other = uuid7()
    response = await post_import(stack, other, exported)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2 and response.json()["updated"] == 0
    # The ids are the other organisation's: said once, and the rows were created.
    assert {w["message"] for w in response.json()["warnings"]} == {
        "Read-only column; ignored.",
        "2 row(s) name an id that is not a system of your organisation; they were matched by "
        "name or created.",
    }

    def facts(system: dict[str, Any]) -> dict[str, Any]:
        return {k: system[k] for k in AISystemCreate.model_fields}

    originals = sorted((facts(s) for s in await all_systems(stack, org)), key=str)
    copies = sorted((facts(s) for s in await all_systems(stack, other)), key=str)
    assert copies == originals
    assert any(s["name"] == tricky["name"] for s in copies)


async def test_export_neutralises_formulas(stack: Any, org: uuid.UUID) -> None:
    names = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tTab", "Safe = fine"]
    for name in names:
        response = await stack.inventory.post(
            "/v1/ai-systems",
            json={"name": "x", "description": name},
            headers=stack.headers(org, "contributor"),
        )
        assert response.status_code == 201
    rows = csv_rows((await export(stack, org)).text)
    descriptions = sorted(row["description"] for row in rows)
    assert descriptions == sorted(["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "'\tTab", "Safe = fine"])


async def test_another_organisations_export_is_empty(stack: Any, org: uuid.UUID) -> None:
    assert (await post_import(stack, org, GOOD)).status_code == 201
    mine = csv_rows((await export(stack, org)).text)
    assert len(mine) == 2
    theirs = (await export(stack, uuid7())).text
    assert csv_rows(theirs) == []
    assert theirs.lstrip("\ufeff").startswith("id,org_id,name")
