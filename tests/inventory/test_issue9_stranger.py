"""Issue 9 tried as a stranger: odd headers (duplicates, non-ASCII, NUL, byte order marks, XLSX),
identifiers of another organisation, list filters on real data (in scope, non-ASCII business
functions) and a 1.7 BOM with a byte order mark. Through the public REST interface only."""

from __future__ import annotations

import asyncio
import codecs
import io
import json
import uuid
from typing import Any

import openpyxl
import pytest

from shared.db import uuid7
from tests.inventory.test_bom_versions import BOM_1_7
from tests.inventory.test_import_upsert import define, export, post_import, register, systems

pytestmark = pytest.mark.engines

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def names(stack: Any, org: uuid.UUID, params: Any) -> list[str]:
    response = await stack.inventory.get(
        "/v1/ai-systems", params=params, headers=stack.headers(org)
    )
    assert response.status_code == 200, response.text
    return sorted(s["name"] for s in response.json()["items"])


async def test_duplicate_headers_are_a_problem_of_the_header_row(
    stack: Any, org: uuid.UUID
) -> None:
    for body, duplicate in (
        ("name,Name,owner\nA,B,x@example.com\n", "Name"),
        ("System name,name\nA,B\n", "name"),
        ("name,Owner,Owner email\nA,x,y\n", "Owner email"),
        ("name,id,System ID\nA,,\n", "System ID"),
    ):
        dry = await post_import(stack, org, body, dry_run=True)
        assert dry.status_code == 200, dry.text
        problems = dry.json()["problems"]
        assert [(p["row"], p["column"]) for p in problems] == [(1, duplicate)], (body, problems)
        assert "Duplicate column" in problems[0]["message"]
        real = await post_import(stack, org, body)
        assert real.status_code == 422, real.text
    assert await systems(stack, org) == {}


async def test_non_ascii_headers_map_or_are_reported_unknown(stack: Any, org: uuid.UUID) -> None:
    await define(stack, org, key="cost_centre", label="Centre de coût", type="text")
    await define(stack, org, key="region", label="Région", type="text")
    body = (
        "\ufeffSystem\u00a0name,CENTRE-DE-COÛT,région,Système d'origine,Ωmega,Owner email\n"
        "Tri des CV,RH-1,Île-de-France,ignored,ignored,rh@example.com\n"
    )
    dry = await post_import(stack, org, body.encode("utf-8"), dry_run=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["valid"] is True, report
    assert report["columns"] == {
        "System\u00a0name": "name",
        "CENTRE-DE-COÛT": "custom_fields.cost_centre",
        "région": "custom_fields.region",
        "Owner email": "owner",
    }
    assert report["unknown_columns"] == ["Système d'origine", "Ωmega"]
    # The same text saved again as Excel's "Unicode text" (UTF-16 with its byte order mark):
    # the UTF-8 mark the text already had stays in the first header, and is still ignored.
    utf16 = body.replace(",", "\t").encode("utf-16")
    assert utf16.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    created = await post_import(stack, org, utf16)
    assert created.status_code == 201, created.text
    [system] = (await systems(stack, org)).values()
    assert system["name"] == "Tri des CV" and system["owner"] == "rh@example.com"
    assert system["custom_fields"] == {"cost_centre": "RH-1", "region": "Île-de-France"}


async def test_nul_in_a_header_or_an_id_cell_is_reported_never_stored(
    stack: Any, org: uuid.UUID
) -> None:
    header = await post_import(stack, org, "name,own\x00er\nA,x\n", dry_run=True)
    assert header.status_code == 200, header.text
    [problem] = header.json()["problems"]
    assert problem["row"] == 1 and "NUL" in problem["message"]
    cell = await post_import(stack, org, "id,name\nab\x00cd,A\n")
    assert cell.status_code == 422, cell.text
    assert [(e["row"], e["column"]) for e in cell.json()["errors"]] == [(2, "id")]
    assert await systems(stack, org) == {}


async def test_an_xlsx_export_with_odd_headers_upserts(stack: Any, org: uuid.UUID) -> None:
    mine = await register(stack, org, name="Ledger AI", owner="cfo@example.com")
    book = workbook(
        [
            ["System ID", "System name", "Owner email", 2026, "Last reviewed"],
            [mine["id"], "Ledger AI", "new@example.com", "x", "2026-05-01"],
            [None, "Straße AI", None, None, None],
        ]
    )
    response = await stack.inventory.post(
        "/v1/ai-systems/import",
        params={"dry_run": "true"},
        content=book,
        headers={**stack.headers(org, "contributor"), "Content-Type": XLSX},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["valid"] is True, report
    assert report["unknown_columns"] == ["2026"]
    assert (report["created"], report["updated"], report["matched_by_id"]) == (1, 1, 1)
    for expected in (201, 200):  # the second run finds both: nothing to create
        real = await stack.inventory.post(
            "/v1/ai-systems/import",
            content=book,
            headers={**stack.headers(org, "contributor"), "Content-Type": XLSX},
        )
        assert real.status_code == expected, real.text
    register_now = await systems(stack, org)
    assert sorted(register_now) == ["Ledger AI", "Straße AI"]
    assert register_now["Ledger AI"]["owner"] == "new@example.com"
    assert register_now["Ledger AI"]["last_reviewed_at"] == "2026-05-01"


async def test_names_match_by_unicode_fold_so_a_reimport_never_duplicates(
    stack: Any, org: uuid.UUID
) -> None:
    """A name typed with a decomposed accent, a full-width letter or ``ß`` spelt ``SS`` is the
    same system: the natural key is the register's one Unicode fold (NFKC, case folding)."""
    await register(stack, org, name="Café scoring")
    await register(stack, org, name="Straße AI")
    body = "name,owner\nCafe\u0301 SCORING,a@example.com\nSTRASSE ai,b@example.com\n"
    response = await post_import(stack, org, body)
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["updated"]) == (0, 2)
    now = await systems(stack, org)
    assert sorted(now) == ["Café scoring", "Straße AI"]
    assert now["Café scoring"]["owner"] == "a@example.com"


async def test_an_id_and_version_of_another_organisation_touch_nothing_there(
    stack: Any, org: uuid.UUID
) -> None:
    stranger = uuid7()
    theirs = await register(stack, stranger, name="Their model", owner="them@example.com")
    exported = await export(stack, stranger)
    # Their export, imported here: a new system here, theirs untouched, a warning naming `id`.
    response = await post_import(stack, org, exported)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 1
    assert any(w["column"] == "id" for w in response.json()["warnings"])
    again = await post_import(stack, org, exported)
    assert again.status_code == 200 and again.json()["unchanged"] == 1  # matched by name now
    untouched = (await systems(stack, stranger))["Their model"]
    assert untouched["version"] == 1 and untouched["id"] == theirs["id"]
    assert (await systems(stack, org))["Their model"]["id"] != theirs["id"]


async def test_idempotency_key_is_per_organisation_and_ignored_by_dry_runs(
    stack: Any, org: uuid.UUID
) -> None:
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = "name\nOnly one\n"
    dry = await post_import(stack, org, body, dry_run=True, headers=key)
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    first = await post_import(stack, org, body, headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    other_org = uuid7()
    elsewhere = await post_import(stack, other_org, body, headers=key)
    assert elsewhere.status_code == 201 and "Idempotent-Replayed" not in elsewhere.headers
    assert len(await systems(stack, org)) == 1 and len(await systems(stack, other_org)) == 1


async def test_in_scope_and_non_ascii_business_function_filters_on_real_data(
    stack: Any, org: uuid.UUID
) -> None:
    inside = await register(stack, org, name="Inside", owner="a@example.com")
    outside = await register(stack, org, name="Outside", business_function="Équipe IA")
    await register(stack, org, name="Unscoped", business_function="ÉQUIPE ia")
    await register(stack, org, name="Greek", business_function="ΟΔΟΣ")
    draft = await stack.inventory.post(
        "/v1/scope-versions",
        json={
            "statement": "AI in operations",
            "activities": [{"name": "Ops"}],
            "systems": [
                {"system_id": inside["id"], "included": True},
                {
                    "system_id": outside["id"],
                    "included": False,
                    "justification": "Batch analytics with no effect on people; DPO reviewed.",
                },
            ],
        },
        headers=stack.headers(org, "contributor"),
    )
    assert draft.status_code == 201, draft.text
    approved = await stack.inventory.post(
        f"/v1/scope-versions/{draft.json()['id']}/approve",
        headers=stack.headers(org, "manager", subject="ceo"),
    )
    assert approved.status_code == 200, approved.text
    assert await names(stack, org, {"in_scope": "true"}) == ["Inside"]
    # Systems a scope does not list are out of it once a scope is approved.
    assert await names(stack, org, {"in_scope": "false"}) == ["Greek", "Outside", "Unscoped"]
    assert await names(stack, org, {"in_scope": "false", "business_function": "équipe ia"}) == [
        "Outside",
        "Unscoped",
    ]
    assert await names(stack, org, {"business_function": "οδος"}) == ["Greek"]
    assert await names(stack, org, {"business_function": "  Équipe   IA "}) == [
        "Outside",
        "Unscoped",
    ]
    for params in ({"in_scope": "maybe"}, {"tier": "HIGH-ish"}, {"business_function": "a\x00"}):
        refused = await stack.inventory.get(
            "/v1/ai-systems", params=params, headers=stack.headers(org)
        )
        assert refused.status_code == 422, (params, refused.text)
    for params in ({"businessFunction": "IT"}, {"vendor": "x"}, {"cf": "x"}):
        refused = await stack.inventory.get(
            "/v1/ai-systems", params=params, headers=stack.headers(org)
        )
        assert refused.status_code == 400, (params, refused.text)
        assert "business_function" in refused.json()["allowed"]


async def test_a_1_7_bom_with_a_byte_order_mark_imports_and_reimports(
    stack: Any, org: uuid.UUID
) -> None:
    system = await register(stack, org, name="Hiring")
    url = f"/v1/ai-systems/{system['id']}/bom"
    headers = {**stack.headers(org, "contributor"), "Content-Type": "application/json"}
    body = codecs.BOM_UTF8 + json.dumps(BOM_1_7, ensure_ascii=False).encode()
    first = await stack.inventory.post(url, content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["spec_version"] == "1.7"
    trimmed = {**BOM_1_7, "components": BOM_1_7["components"][:2]}
    trimmed["dependencies"] = [{"ref": "ranker", "dependsOn": ["cvs"]}]
    again = await stack.inventory.post(
        url, content=codecs.BOM_UTF8 + json.dumps(trimmed).encode(), headers=headers
    )
    assert again.status_code == 200, again.text
    assert [c["bom_ref"] for c in again.json()["removed"]] == ["torch"]
    for bad in (
        json.dumps({**BOM_1_7, "specVersion": 1.7}).encode(),  # a number, not the string
        json.dumps({**BOM_1_7, "specVersion": "1.7 "}).encode(),
        json.dumps(BOM_1_7).encode("utf-16"),
    ):
        refused = await stack.inventory.post(url, content=bad, headers=headers)
        assert 400 <= refused.status_code < 500, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    other = await stack.inventory.post(
        url,
        content=json.dumps(BOM_1_7).encode(),
        headers={**stack.headers(uuid7(), "contributor"), "Content-Type": "application/json"},
    )
    assert other.status_code == 404, other.text


async def test_a_sheet_of_ids_without_names_updates_only(stack: Any, org: uuid.UUID) -> None:
    """A bulk change of owners as a sheet of ``id`` and ``owner``: the name column may be left
    out (or blank) when the row names one of the organisation's systems; a row whose id is not
    one of them cannot register a system without a name, and says so."""
    a = await register(stack, org, name="Alpha", owner="old@example.com")
    b = await register(stack, org, name="Beta")
    body = f"System ID,Owner email\n{a['id']},new@example.com\n{b['id']},b@example.com\n"
    response = await post_import(stack, org, body)
    assert response.status_code == 200, response.text
    assert (response.json()["updated"], response.json()["created"]) == (2, 0)
    now = await systems(stack, org)
    assert sorted(now) == ["Alpha", "Beta"]
    assert now["Alpha"]["owner"] == "new@example.com" and now["Alpha"]["version"] == 2

    blank_name = await post_import(stack, org, f"id,name,version\n{a['id']},,2\n")
    assert blank_name.status_code == 200 and blank_name.json()["unchanged"] == 1
    assert (await systems(stack, org))["Alpha"]["name"] == "Alpha"

    stray, theirs = str(uuid7()), (await register(stack, uuid7(), name="Theirs"))["id"]
    refused = await post_import(
        stack, org, f"id,owner\n{a['id']},x@example.com\n{stray},y\n{theirs},z\n"
    )
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "id"), (4, "id")]
    assert all("no name" in e["message"] for e in errors)
    assert (await systems(stack, org))["Alpha"]["owner"] == "new@example.com"
    # Without an id column the name stays required.
    nameless = await post_import(stack, org, "owner\nx@example.com\n")
    assert nameless.status_code == 422
    assert nameless.json()["errors"][0]["column"] == "name"


async def test_a_double_submitted_import_never_duplicates(stack: Any, org: uuid.UUID) -> None:
    """The same file sent twice at once without an Idempotency-Key (a double click): real
    imports of one organisation are serialised, so the second finds what the first created."""
    body = "".join(f"System {i},owner{i}@example.com\n" for i in range(40))
    body = "name,owner\n" + body
    replies = await asyncio.gather(*(post_import(stack, org, body) for _ in range(3)))
    assert sorted(r.status_code for r in replies) == [200, 200, 201], [r.text for r in replies]
    assert sorted(r.json()["created"] for r in replies) == [0, 0, 40]
    assert len(await systems(stack, org)) == 40


async def test_concurrent_retries_with_one_key_get_the_first_answer(
    stack: Any, org: uuid.UUID
) -> None:
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = "name\n" + "".join(f"S{i}\n" for i in range(30))
    replies = await asyncio.gather(*(post_import(stack, org, body, headers=key) for _ in range(3)))
    assert [r.status_code for r in replies] == [201, 201, 201], [r.text for r in replies]
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in replies) == 2
    assert len({json.dumps(r.json(), sort_keys=True) for r in replies}) == 1
    assert len(await systems(stack, org)) == 30


async def test_the_vendor_column_takes_a_vendors_name_of_this_organisation(
    stack: Any, org: uuid.UUID
) -> None:
    """People's sheets say "Vendor: Acme AI", not a UUID: a name is matched among the
    organisation's vendors (the register's Unicode fold); another organisation's vendor of that
    name, or none, is a problem of the row, and nothing is written."""
    made = await stack.inventory.post(
        "/v1/vendors", json={"name": "Équipe IA GmbH"}, headers=stack.headers(org, "admin")
    )
    assert made.status_code == 201, made.text
    mine = made.json()["id"]
    elsewhere = await stack.inventory.post(
        "/v1/vendors", json={"name": "Globex"}, headers=stack.headers(uuid7(), "admin")
    )
    assert elsewhere.status_code == 201
    body = f"name,Vendor\nA,  équipe ia   gmbh \nB,{mine}\nC,Globex\nD,\n"
    dry = await post_import(stack, org, body, dry_run=True)
    assert dry.status_code == 200, dry.text
    [problem] = dry.json()["problems"]
    assert (problem["row"], problem["column"]) == (4, "Vendor")
    assert "No vendor named 'Globex'" in problem["message"]
    assert (await post_import(stack, org, body)).status_code == 422
    assert await systems(stack, org) == {}

    ok = await post_import(stack, org, body.replace("C,Globex\n", ""))
    assert ok.status_code == 201, ok.text
    now = await systems(stack, org)
    assert (now["A"]["vendor_id"], now["B"]["vendor_id"], now["D"]["vendor_id"]) == (
        mine,
        mine,
        None,
    )
    # An export (ids) imported back changes nothing; the name form again changes nothing.
    back = await post_import(stack, org, await export(stack, org))
    assert back.status_code == 200 and back.json()["unchanged"] == 3, back.text
    again = await post_import(stack, org, "name,Supplier\nA,ÉQUIPE IA GMBH\n")
    assert again.status_code == 200 and again.json()["unchanged"] == 1, again.text


async def test_a_quote_left_open_refuses_the_file_instead_of_merging_rows(
    stack: Any, org: uuid.UUID
) -> None:
    """A cell whose opening quote is never closed swallowed every following line: two rows
    became one system named 'Broken,x\\nNext,y' (201). Malformed quoting is now a 400 naming
    the row and line, for real runs and dry runs alike, and nothing is written."""
    await register(stack, org, name="Kept")
    for body, says in (
        ('name,owner\nFine,a@example.com\n"Broken,x\nNext,y\n', "row 3 (line 3) is never closed"),
        ('name,owner\n"Bro"ken,x\nNext,y\n', "row 2"),
    ):
        for dry_run in (True, False):
            response = await post_import(stack, org, body, dry_run=dry_run)
            assert response.status_code == 400, response.text
            problem = response.json()
            assert problem["code"] == "unreadable-file", problem
            assert says in problem["detail"], problem["detail"]
    # Properly quoted cells (delimiters, doubled quotes, line breaks) still import as written.
    good = 'name,description\n"Quoted, with comma","He said ""hi""\nthen left"\n'
    created = await post_import(stack, org, good)
    assert created.status_code == 201, created.text
    assert set(await systems(stack, org)) == {"Kept", "Quoted, with comma"}
    assert (await systems(stack, org))["Quoted, with comma"]["description"] == (
        'He said "hi"\nthen left'
    )


async def test_a_header_problem_is_not_counted_as_one_of_the_rows(
    stack: Any, org: uuid.UUID
) -> None:
    """The refusal said "1 of 0 rows have problems" for a file whose only problem was its
    header row; it now names the header row apart from the data rows."""
    header_only = await post_import(stack, org, "na\x00me\n")
    assert header_only.status_code == 422, header_only.text
    assert header_only.json()["detail"] == "The header row has problems; nothing was imported."
    # A header problem stops the rows from being read: the rows are not counted at all.
    both = await post_import(stack, org, "name,own\x00er\n,x\nB,y\n")
    assert both.status_code == 422, both.text
    assert both.json()["detail"] == "The header row has problems; nothing was imported."
    assert {e["row"] for e in both.json()["errors"]} == {1}
    rows_only = await post_import(stack, org, "name\nA\n" + "N" * 201 + "\n")
    assert rows_only.status_code == 422, rows_only.text
    assert rows_only.json()["detail"] == "1 of 2 rows have problems; nothing was imported."
    assert await systems(stack, org) == {}


async def test_a_custom_field_in_its_own_column_and_in_the_json_column_must_agree(
    stack: Any, org: uuid.UUID
) -> None:
    """A sheet with both a "Cost centre" column and a `custom_fields` JSON column saying
    another cost centre was imported with one of them silently winning; now the row has a
    problem naming the column, and the same value in both is fine."""
    await define(stack, org, key="cost_centre", label="Cost centre", type="text")
    header = "name,Cost centre,custom_fields\n"
    differ = header + 'A,CC-1,"{""cost_centre"": ""CC-2""}"\n'
    dry = await post_import(stack, org, differ, dry_run=True)
    assert dry.status_code == 200, dry.text
    [problem] = dry.json()["problems"]
    assert (problem["row"], problem["column"]) == (2, "Cost centre"), problem
    assert "'CC-2'" in problem["message"] and "one column only" in problem["message"]
    refused = await post_import(stack, org, differ)
    assert refused.status_code == 422, refused.text
    assert await systems(stack, org) == {}
    agree = header + 'A,CC-1,"{""cost_centre"": ""CC-1""}"\n'
    created = await post_import(stack, org, agree)
    assert created.status_code == 201, created.text
    assert (await systems(stack, org))["A"]["custom_fields"] == {"cost_centre": "CC-1"}
