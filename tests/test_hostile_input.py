"""Hostile files and requests: each gets a clear 4xx problem+json with its code, and changes
nothing (what was stored before is read back the same afterwards).

The hostile spreadsheets are built here with :mod:`zipfile`; ``bench/hostile_files.py`` times how
long each takes to be refused.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import socket
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.test_bad_input import assert_problem

pytestmark = pytest.mark.engines

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
IMPORT = "/v1/ai-systems/import"

# --- Hostile spreadsheets ---------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = (
    '<?xml version="1.0"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def xlsx(
    sheet_data: str, *, dimension: str | None = None, shared: list[str] | None = None
) -> bytes:
    """A minimal workbook: one sheet with ``sheet_data`` (the ``<sheetData>`` children)."""
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f'<worksheet xmlns="{_MAIN}">{head}<sheetData>{sheet_data}</sheetData></worksheet>'
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared or [])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _TYPES)
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
            '<sheet name="Systems" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_RELS}">'
            f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{_MAIN}">{strings}</sst>')
    return out.getvalue()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def legit_xlsx(*names: str) -> bytes:
    rows = [f'<row r="1">{_inline("A1", "name")}</row>']
    rows += [f'<row r="{i}">{_inline(f"A{i}", n)}</row>' for i, n in enumerate(names, start=2)]
    return xlsx("".join(rows), dimension=f"A1:A{len(names) + 1}")


def dimension_bomb() -> bytes:
    """1.5 KB declaring ``A1:XFD20000``: a reader pads 327 million empty cells."""
    return xlsx(f'<row r="1">{_inline("A1", "name")}</row>', dimension="A1:XFD20000")


def shared_strings_bomb() -> bytes:
    """A few dozen KB whose shared strings unpack a thousandfold."""
    return xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=["A" * 4000] * 20_000)


def far_cell_bomb() -> bytes:
    """No dimension at all, but one cell in the last column of row 100,000 and one in A1."""
    return xlsx(
        f'<row r="1">{_inline("A1", "name")}</row><row r="100000">{_inline("XFD100000", "x")}</row>'
    )


def row_gap_bomb() -> bytes:
    """A row numbered a billion: a reader yields every empty row before it."""
    return xlsx(f'<row r="1">{_inline("A1", "name")}</row><row r="999999999"/>')


def cell_area_bomb() -> bytes:
    """Within the column and row limits, but 1,000 x 6,000 cells declared."""
    return xlsx(f'<row r="1">{_inline("A1", "name")}</row>', dimension="A1:ALL6000")


HOSTILE_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "dimension A1:XFD20000": (dimension_bomb, "max_columns"),
    "shared-strings zip bomb": (shared_strings_bomb, "max_compression_ratio"),
    "a cell at XFD100000": (far_cell_bomb, "max_columns"),
    "row 999,999,999": (row_gap_bomb, "max_rows"),
    "6 million cells declared": (cell_area_bomb, "max_cells"),
}


# --- Helpers ----------------------------------------------------------------------------------


async def _register(stack: Any, org: uuid.UUID) -> list[dict[str, Any]]:
    """What the organisation's register holds (to check that nothing changed)."""
    response = await stack.inventory.get(
        "/v1/ai-systems", params={"limit": 500}, headers=stack.headers(org)
    )
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda s: s["id"])


async def _seeded(stack: Any, org: uuid.UUID) -> list[dict[str, Any]]:
    created = await stack.inventory.post(
        "/v1/ai-systems", json={"name": "Existing system"}, headers=stack.headers(org)
    )
    assert created.status_code == 201, created.text
    return await _register(stack, org)


async def _import(
    stack: Any, org: uuid.UUID, data: bytes, media_type: str, *, dry_run: bool = False
) -> Any:
    return await stack.inventory.post(
        IMPORT,
        params={"dry_run": "true"} if dry_run else {},
        content=data,
        headers={**stack.headers(org, "contributor"), "Content-Type": media_type},
    )


# --- Spreadsheets -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
@pytest.mark.parametrize("dry_run", [True, False])
async def test_hostile_spreadsheets_are_refused_before_parsing(
    stack: Any, org: uuid.UUID, name: str, dry_run: bool
) -> None:
    before = await _seeded(stack, org)
    build, limit = HOSTILE_FILES[name]
    response = await _import(stack, org, build(), XLSX, dry_run=dry_run)
    problem = assert_problem(response, 413, "spreadsheet-too-large")
    assert problem["limit"] == limit, problem
    assert problem["found"] > problem["limit_value"]
    assert f"AIMS_IMPORT_{limit.upper()}" in problem["detail"]
    assert await _register(stack, org) == before


async def test_six_hostile_files_at_once_leave_other_imports_working(
    stack: Any, org: uuid.UUID
) -> None:
    before = await _seeded(stack, org)
    other = uuid.uuid4()
    hostile = [dimension_bomb(), shared_strings_bomb()] * 3
    results = await asyncio.gather(
        *(_import(stack, org, data, XLSX) for data in hostile),
        _import(stack, other, legit_xlsx("Fraud model", "Chatbot"), XLSX),
    )
    for response in results[:6]:
        assert_problem(response, 413, "spreadsheet-too-large")
    assert results[6].status_code == 201, results[6].text
    assert results[6].json()["created"] == 2
    assert await _register(stack, org) == before


async def test_an_ordinary_workbook_still_imports(stack: Any, org: uuid.UUID) -> None:
    response = await _import(stack, org, legit_xlsx("Credit scoring", "=1+1"), XLSX)
    assert response.status_code == 201, response.text
    names = sorted(s["name"] for s in await _register(stack, org))
    assert names == ["=1+1", "Credit scoring"]


@pytest.mark.parametrize(
    ("data", "media_type", "status", "code"),
    [
        (b"name\nx\n", XLSX, 400, "unreadable-file"),  # CSV sent as XLSX
        (b"PK\x03\x04truncated zip", XLSX, 400, "unreadable-file"),
        (legit_xlsx("x")[:-40], XLSX, 400, "unreadable-file"),  # cut short
        (legit_xlsx("x"), CSV, 400, "unreadable-file"),  # XLSX sent as CSV
        ("name\nCaf\u00e9 \u00e0 Paris\n".encode("latin-1"), CSV, 400, "unreadable-file"),
        (b"name\nx\n", "application/pdf", 415, "unsupported-media-type"),
        (b"name\nx\n", "application/json", 415, "unsupported-media-type"),
        (b"", CSV, 400, "unreadable-file"),
    ],
)
async def test_wrong_encodings_spoofed_types_and_truncated_files(
    stack: Any, org: uuid.UUID, data: bytes, media_type: str, status: int, code: str
) -> None:
    before = await _seeded(stack, org)
    assert_problem(await _import(stack, org, data, media_type), status, code)
    assert await _register(stack, org) == before


async def test_utf16_csv_is_decoded(stack: Any, org: uuid.UUID) -> None:
    data = codecs.BOM_UTF16_LE + "name\towner\nÉquipe IA\tzoë@example.com\n".encode("utf-16-le")
    response = await _import(stack, org, data, CSV)
    assert response.status_code == 201, response.text
    assert [s["name"] for s in await _register(stack, org)] == ["Équipe IA"]


async def test_nul_in_a_cell_is_a_problem_of_its_row_and_column(stack: Any, org: uuid.UUID) -> None:
    before = await _seeded(stack, org)
    data = b"name,owner\nGood,a@example.com\nBad\x00name,b@example.com\nOk,c\x00@x\n"
    for dry_run in (True, False):
        response = await _import(stack, org, data, CSV, dry_run=dry_run)
        if dry_run:
            assert response.status_code == 200, response.text
            problems = response.json()["problems"]
        else:
            problems = assert_problem(response, 422, "import-invalid")["errors"]
        nul = [(p["row"], p["column"]) for p in problems if "U+0000" in p["message"]]
        assert nul == [(3, "name"), (4, "owner")], problems
    header = await _import(stack, org, b"name,ow\x00ner\nx,y\n", CSV)
    assert any("U+0000" in p["message"] for p in assert_problem(header, 422)["errors"])
    assert await _register(stack, org) == before


async def test_formula_cells_are_stored_as_text_and_neutralised_on_export(
    stack: Any, org: uuid.UUID
) -> None:
    formulas = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]
    rows = "".join(f'"{f.replace(chr(34), chr(34) * 2)}",o\n' for f in formulas)
    response = await _import(stack, org, f"name,owner\n{rows}".encode(), CSV)
    assert response.status_code == 201, response.text
    assert sorted(s["name"] for s in await _register(stack, org)) == sorted(formulas)
    export = await stack.inventory.get("/v1/ai-systems/export.csv", headers=stack.headers(org))
    assert export.status_code == 200
    table = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    column = table[0].index("name")
    assert sorted(row[column] for row in table[1:]) == sorted("'" + f for f in formulas)


# --- NUL anywhere ------------------------------------------------------------------------------


NUL_REQUESTS: list[tuple[str, str, str, dict[str, Any], list[Any]]] = [
    # service, method, path, request keywords, the location the problem names
    ("inventory", "POST", "/v1/ai-systems", {"json": {"name": "a\x00b"}}, ["body", "name"]),
    (
        "inventory",
        "POST",
        "/v1/ai-systems",
        {"json": {"name": "ok", "data_inputs": ["fine", "bad\x00"]}},
        ["body", "data_inputs", 1],
    ),
    (
        "inventory",
        "POST",
        "/v1/ai-systems",
        {"json": {"name": "ok", "custom_fields": {"k\x00": "v"}}},
        ["body", "custom_fields", "k\x00"],
    ),
    (
        "inventory",
        "POST",
        "/v1/interested-parties",
        {"json": {"name": "x", "type": "regulator", "requirements": [{"text": "a\x00"}]}},
        ["body", "requirements", 0, "text"],
    ),
    ("inventory", "POST", "/v1/vendors", {"json": {"name": "v\x00"}}, ["body", "name"]),
    ("inventory", "GET", "/v1/ai-systems", {"params": {"q": "a\x00"}}, ["query", "q"]),
    ("inventory", "GET", "/v1/ai-systems", {"params": {"owner": "\x00"}}, ["query", "owner"]),
    ("inventory", "GET", "/v1/vendors", {"params": {"name": "\x00"}}, ["query", "name"]),
    ("risk", "GET", "/v1/crosswalk/eu-ai-act/2%006", {}, ["path", "article"]),
    ("risk", "GET", "/v1/risks", {"params": {"owner": "x\x00"}}, ["query", "owner"]),
    (
        "risk",
        "PUT",
        "/v1/risk-matrices",
        {"json": {"name": "m\x00", "likelihood": [], "impact": []}},
        ["body", "name"],
    ),
    ("evidence", "POST", "/v1/evidence", {"json": {"title": "t\x00"}}, ["body", "title"]),
    ("evidence", "GET", "/v1/evidence", {"params": {"q": "\x00"}}, ["query", "q"]),
    ("gateway", "GET", "/v1/webhook-subscriptions", {"params": {"x": "\x00"}}, ["query", "x"]),
]


@pytest.mark.parametrize(
    ("service", "method", "path", "sent", "location"),
    NUL_REQUESTS,
    ids=[f"{s}-{m}-{p}-{'.'.join(map(str, loc))}" for s, m, p, _, loc in NUL_REQUESTS],
)
async def test_nul_anywhere_is_a_422_naming_the_field(
    stack: Any,
    org: uuid.UUID,
    service: str,
    method: str,
    path: str,
    sent: dict[str, Any],
    location: list[Any],
) -> None:
    before = await _seeded(stack, org)
    response = await stack.clients[service].request(
        method, path, headers={**stack.headers(org, "admin"), "If-Match": "*"}, **sent
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert location in [e["location"] for e in problem["errors"]], problem
    assert await _register(stack, org) == before


async def test_nul_in_a_patch_changes_nothing(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org)
    created = await stack.inventory.post("/v1/ai-systems", json={"name": "x"}, headers=headers)
    url = f"/v1/ai-systems/{created.json()['id']}"
    response = await stack.inventory.patch(
        url,
        json={"description": "clean", "affected_stakeholders": [["deep\x00"]]},
        headers={**headers, "If-Match": created.headers["etag"]},
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert ["body", "affected_stakeholders", 0, 0] in [e["location"] for e in problem["errors"]]
    after = await stack.inventory.get(url, headers=headers)
    assert after.json() == created.json()


# --- Out-of-range integers and nulls ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "location"),
    [
        ("/risk-matrices/versions/170112049063", {}, ["path", "number"]),
        ("/risk-matrices/versions/-170112049063", {}, ["path", "number"]),
        ("/risk-matrices/versions/2147483648", {}, ["path", "number"]),
    ],
)
async def test_integers_past_the_column_range_are_422(
    stack: Any, org: uuid.UUID, path: str, params: dict[str, str], location: list[str]
) -> None:
    response = await stack.risk.get("/v1" + path, params=params, headers=stack.headers(org))
    problem = assert_problem(response, 422, "validation-failed")
    assert location in [e["location"] for e in problem["errors"]]
    # In range, the same route answers as it always did.
    in_range = await stack.risk.get(
        "/v1/risk-matrices/versions/2147483647", headers=stack.headers(org)
    )
    assert in_range.status_code == 404, in_range.text


async def test_query_integers_past_the_column_range_are_422(stack: Any, org: uuid.UUID) -> None:
    # ``before_version`` declares only a lower bound; the column's upper one is added.
    url = f"/v1/impact-assessments/{uuid.uuid4()}/history"
    headers = stack.headers(org)
    response = await stack.risk.get(url, params={"before_version": 10**12}, headers=headers)
    problem = assert_problem(response, 422, "validation-failed")
    assert ["query", "before_version"] in [e["location"] for e in problem["errors"]]
    in_range = await stack.risk.get(url, params={"before_version": 5}, headers=headers)
    assert in_range.status_code == 404, in_range.text


async def test_soa_version_past_the_range_is_not_a_500(stack: Any, org: uuid.UUID) -> None:
    response = await stack.risk.get("/v1/soa/versions/99999999999", headers=stack.headers(org))
    assert response.status_code in (404, 422), response.text


async def test_null_for_a_field_that_must_have_a_value_is_422(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "contributor")
    created = await stack.inventory.post(
        "/v1/interested-parties",
        json={"name": "Regulator", "type": "regulator", "description": "kept"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    url = f"/v1/interested-parties/{created.json()['id']}"
    response = await stack.inventory.patch(
        url, json={"description": None}, headers={**headers, "If-Match": created.headers["etag"]}
    )
    problem = assert_problem(response, 422, "null-not-allowed")
    assert problem["errors"][0]["location"] == ["body", "description"]
    assert (await stack.inventory.get(url, headers=headers)).json() == created.json()


# --- Uniqueness races --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Équipe IA", "Équipe IA"),
        ("Équipe IA", "équipe ia"),
        ("ΟΔΟΣ", "οδος"),  # Python folds the final sigma; SQL lower() does not
        ("Straße AI", "STRASSE AI"),
        ("Cafe\u0301 AI", "Café AI"),  # decomposed and composed é
    ],
)
async def test_unicode_vendor_names_are_unique_ignoring_case(
    stack: Any, org: uuid.UUID, first: str, second: str
) -> None:
    headers = stack.headers(org, "manager")
    created = await stack.inventory.post("/v1/vendors", json={"name": first}, headers=headers)
    assert created.status_code == 201, created.text
    again = await stack.inventory.post("/v1/vendors", json={"name": second}, headers=headers)
    assert_problem(again, 409, "vendor-name-taken")
    listed = await stack.inventory.get("/v1/vendors", headers=headers)
    assert [v["name"] for v in listed.json()["items"]] == [first]


async def test_concurrent_vendor_creates_end_in_one_201_and_409s(
    stack: Any, org: uuid.UUID
) -> None:
    headers = stack.headers(org, "manager")
    names = ["Équipe IA", "ÉQUIPE IA", "équipe ia", "Équipe  IA", " équipe IA "]
    responses = await asyncio.gather(
        *(stack.inventory.post("/v1/vendors", json={"name": n}, headers=headers) for n in names)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (len(names) - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    listed = await stack.inventory.get("/v1/vendors", headers=headers)
    assert len(listed.json()["items"]) == 1


async def test_concurrent_renames_to_one_name_end_in_409(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org, "manager")
    vendors = []
    for name in ("One", "Two", "Three", "Four"):
        vendors.append(
            await stack.inventory.post("/v1/vendors", json={"name": name}, headers=headers)
        )
    responses = await asyncio.gather(
        *(
            stack.inventory.patch(
                f"/v1/vendors/{v.json()['id']}",
                json={"name": "Équipe IA"},
                headers={**headers, "If-Match": v.headers["etag"]},
            )
            for v in vendors
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    listed = await stack.inventory.get("/v1/vendors", headers=headers)
    assert sum(v["name"] == "Équipe IA" for v in listed.json()["items"]) == 1


async def test_first_concurrent_write_of_ai_roles_ends_in_412(stack: Any, org: uuid.UUID) -> None:
    headers = {**stack.headers(org, "manager"), "If-Match": '"0"'}
    bodies = [{"roles": [role]} for role in ("provider", "partner", "customer", "producer")]
    responses = await asyncio.gather(
        *(stack.inventory.put("/v1/organisation/ai-roles", json=b, headers=headers) for b in bodies)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412, 412, 412], [r.text for r in responses]
    won = next(r for r in responses if r.status_code == 200).json()
    read = await stack.inventory.get("/v1/organisation/ai-roles", headers=headers)
    assert read.json()["roles"] == won["roles"] and read.json()["version"] == 1


# --- If-Match, filenames ----------------------------------------------------------------------


async def test_a_weak_etag_never_matches(stack: Any, org: uuid.UUID) -> None:
    headers = stack.headers(org)
    created = await stack.inventory.post("/v1/ai-systems", json={"name": "x"}, headers=headers)
    url = f"/v1/ai-systems/{created.json()['id']}"
    weak = "W/" + created.headers["etag"]
    response = await stack.inventory.patch(
        url, json={"name": "y"}, headers={**headers, "If-Match": weak}
    )
    assert_problem(response, 412, "precondition-failed")
    assert (await stack.inventory.get(url, headers=headers)).json()["name"] == "x"
    strong = await stack.inventory.patch(
        url, json={"name": "y"}, headers={**headers, "If-Match": created.headers["etag"]}
    )
    assert strong.status_code == 200


@pytest.mark.parametrize(
    "filename", [".", "..", " .. ", "../../etc/passwd", "a/b", "a\\b", "a\x00b", "", "   "]
)
async def test_evidence_file_names_that_are_paths_are_refused(
    stack: Any, org: uuid.UUID, filename: str
) -> None:
    headers = stack.headers(org, "contributor")
    item = await stack.evidence.post("/v1/evidence", json={"title": "Policy"}, headers=headers)
    assert item.status_code == 201, item.text
    url = f"/v1/evidence/{item.json()['id']}/versions/1/files"
    response = await stack.evidence.post(
        url,
        params={"filename": filename},
        content=b"%PDF-1.4 hostile",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert_problem(response, 422)
    read = await stack.evidence.get(f"/v1/evidence/{item.json()['id']}", headers=headers)
    assert read.json() == item.json()


# --- Huge, deep, truncated, spoofed requests ----------------------------------------------------


def _deep(depth: int) -> bytes:
    return b'{"name": "x", "custom_fields": {"k": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize("service", ["inventory", "risk", "evidence", "gateway"])
@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_deeply_nested_json_is_4xx_in_every_service(
    stack: Any, org: uuid.UUID, service: str, depth: int
) -> None:
    before = await _seeded(stack, org)
    method, path = {
        "inventory": ("POST", "/v1/ai-systems"),
        "risk": ("PUT", "/v1/risk-matrices"),
        "evidence": ("POST", "/v1/evidence"),
        "gateway": ("POST", "/v1/webhook-subscriptions"),
    }[service]
    response = await stack.clients[service].request(
        method,
        path,
        content=_deep(depth),
        headers={**stack.headers(org, "admin"), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _register(stack, org) == before


@pytest.mark.parametrize("service", ["inventory", "risk", "evidence", "gateway"])
async def test_bodies_past_the_limit_are_413_in_every_service(
    stack: Any, org: uuid.UUID, service: str
) -> None:
    before = await _seeded(stack, org)
    response = await stack.clients[service].post(
        "/v1/anything",
        content=json.dumps({"name": "x" * (2 * 1024 * 1024)}).encode(),
        headers={**stack.headers(org, "admin"), "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")
    assert await _register(stack, org) == before


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"name": "trunc', "application/json", 400),  # truncated
        (b'{"name": "x"', "application/json", 400),
        (b"\xff\xfe{\x00}\x00", "application/json", 422),  # UTF-16 JSON: read, but no name
        (b'{"name": "x"}', "text/plain", 422),  # spoofed: not declared JSON
        (b'{"name": "x"}', "application/xml", 422),
        (b"name=x", "application/x-www-form-urlencoded", 422),
    ],
)
async def test_truncated_and_spoofed_bodies_are_4xx(
    stack: Any, org: uuid.UUID, content: bytes, content_type: str, status: int
) -> None:
    before = await _seeded(stack, org)
    response = await stack.inventory.post(
        "/v1/ai-systems",
        content=content,
        headers={**stack.headers(org), "Content-Type": content_type},
    )
    assert_problem(response, status)
    assert await _register(stack, org) == before


# --- The database away ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_database_unreachable_is_503_with_retry_after(stack: Any, org: uuid.UUID) -> None:
    from services.inventory.config import InventorySettings
    from services.inventory.main import create_app

    env = stack.engines.settings_env("inventory")
    url = make_url(env["app_database_url"]).set(host="127.0.0.1", port=_closed_port())
    settings = InventorySettings(
        **{
            **env,
            "app_database_url": url.render_as_string(hide_password=False),
            "nats_url": None,
            "run_workers": False,
        }
    )
    app = create_app(settings)
    import httpx

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://down") as client:
            for method, path, body in (
                ("GET", "/v1/ai-systems", None),
                ("POST", "/v1/ai-systems", {"name": "lost?"}),
                ("GET", "/v1/vendors", None),
            ):
                response = await client.request(method, path, json=body, headers=stack.headers(org))
                assert_problem(response, 503, "database-unavailable")
                assert int(response.headers["retry-after"]) > 0
            ready = await client.get("/readyz")
            assert ready.status_code == 503


async def test_a_connection_the_server_ends_is_503_and_the_next_one_works(stack: Any) -> None:
    """PostgreSQL ends a backend mid-transaction (restart, failover, ``pg_terminate_backend``):
    the error is the client's 503, and the pool's next connection serves again."""
    import asyncpg
    import sqlalchemy as sa

    from shared.db import Database
    from shared.errors import DatabaseUnavailable, database_problem
    from shared.runtime.provision import asyncpg_dsn

    name = f"aims-hostile-{uuid.uuid4().hex[:8]}"
    db = Database(stack.engines.databases["inventory"].app_url, pool_size=1, application_name=name)
    admin = await asyncpg.connect(asyncpg_dsn(stack.engines.admin_url))
    try:
        async with db.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                name,
            )
            assert ended == 1
            with pytest.raises(sa.exc.DBAPIError) as raised:
                await connection.execute(sa.text("SELECT 1"))
        problem = database_problem(raised.value)
        assert isinstance(problem, DatabaseUnavailable), raised.value
        assert problem.status == 503 and problem.headers["Retry-After"]
        await db.ping()  # a fresh connection
    finally:
        await admin.close()
        await db.dispose()


async def test_legacy_upload_route_refuses_path_names(stack: Any, org: uuid.UUID) -> None:
    for filename in ("..", ".", "../x", "a/b"):
        response = await stack.evidence.post(
            f"/v1/systems/{uuid.uuid4()}/files",
            params={"filename": filename},
            content=b"x",
            headers={**stack.headers(org, "contributor"), "Content-Type": "text/plain"},
        )
        assert_problem(response, 422)
