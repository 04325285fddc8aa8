"""The spreadsheet parser and row validator on arbitrary input: a problem, never a crash."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inventory.imports.cells import neutralise, restore, to_cell
from services.inventory.imports.parser import UnreadableFile, parse_csv, sniff_delimiter
from services.inventory.imports.validation import map_columns, normalise_header, validate_sheet
from services.inventory.systems.schemas import AISystemCreate

FIELDS = list(AISystemCreate.model_fields)
cell_text = st.text(max_size=40) | st.sampled_from(
    [
        "",
        " ",
        "[",
        "{",
        "[{]",
        "null",
        "[1, 2]",
        '{"a": 1}',
        "2027-02-30",
        "idea",
        "CUSTOMER",
        "a;b;;c",
        "'=1",
        "-1",
        "1e400",
        "\x00",
        "[" * 2000,
    ]
)


def to_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.sampled_from(FIELDS) | st.text(max_size=10), min_size=1, max_size=8),
    rows=st.lists(st.lists(cell_text, max_size=10), max_size=6),
)
def test_arbitrary_cells_yield_bodies_or_row_problems(
    headers: list[str], rows: list[list[str]]
) -> None:
    try:
        sheet = parse_csv(to_csv([headers, *rows]))
    except UnreadableFile:
        return  # e.g. a header row of blanks: a clear 400, not a crash
    report = validate_sheet(sheet)
    assert len(report.bodies) + report.invalid_rows >= (report.rows if report.valid else 0)
    for problem in report.problems:
        assert isinstance(problem.message, str) and problem.message
        assert problem.row >= 1
    if report.valid:
        assert len(report.bodies) == report.rows


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_csv_parser(data: bytes) -> None:
    try:
        sheet = parse_csv(data)
    except UnreadableFile:
        return
    validate_sheet(sheet)


@given(st.text(max_size=30))
def test_neutralise_is_undone_by_restore_and_defuses_formulas(text: str) -> None:
    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.lists(st.text(min_size=1, max_size=10), max_size=5))
def test_lists_survive_a_cell(items: list[str]) -> None:
    from services.inventory.imports.validation import _converter

    cell = to_cell(items)
    parsed = _converter(list[str])(restore(cell)) if cell else []
    assert parsed == items


def test_header_matching_ignores_case_spaces_underscores_and_hyphens() -> None:
    assert normalise_header(" Next Review-at ") == normalise_header("next_review_at")
    columns = map_columns(["NAME", "Lifecycle Stage", "ai-roles", "colour"])
    assert sorted(columns.fields.values()) == ["ai_roles", "lifecycle_stage", "name"]
    assert [w["column"] for w in columns.warnings] == ["colour"]


def test_delimiter_is_read_from_the_header_not_the_data() -> None:
    assert sniff_delimiter('name;data_inputs\nA;"[{""a"": 1, ""b"": 2}]"\n') == ";"
    assert sniff_delimiter("name,description\nA,x;y;z\n") == ","
    assert sniff_delimiter("name\nA\n") == ","
