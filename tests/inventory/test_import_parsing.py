"""The spreadsheet parser and row validator on arbitrary input: a problem, never a crash."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inventory.imports.cells import neutralise, restore, to_cell
from services.inventory.imports.parser import UnreadableFile, parse_csv, sniff_delimiter
from services.inventory.imports.validation import (
    HEADER_ALIASES,
    map_columns,
    normalise_header,
    resolve_header,
    validate_sheet,
)
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


# --- Header names (issue 9): spellings people use map to the same field --------------------


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    type: str = "text"


CUSTOM = [Definition("cost_centre", "Cost centre"), Definition("risk_appetite", "Risk appetite")]
TARGETS = {
    **{name: name for name in FIELDS},
    **HEADER_ALIASES,
    **{d.key: f"custom_fields.{d.key}" for d in CUSTOM},
    **{d.label: f"custom_fields.{d.key}" for d in CUSTOM},
    "id": "id",
    "version": "version",
}


@st.composite
def spelling(draw: st.DrawFn, name: str) -> str:
    """``name`` as a person might type it: any case, words joined by spaces, underscores or
    hyphens (one or several), surrounded by spaces."""
    words = name.replace("-", " ").replace("_", " ").split()
    cased = [
        draw(st.sampled_from([w, w.upper(), w.capitalize(), w.lower(), w.swapcase()]))
        for w in words
    ]
    joined = cased[0]
    for word in cased[1:]:
        joined += draw(st.sampled_from([" ", "_", "-", "  ", " - ", "__"])) + word
    return draw(st.sampled_from(["", " ", "\t"])) + joined + draw(st.sampled_from(["", "  "]))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(TARGETS)).flatmap(lambda n: st.tuples(st.just(n), spelling(n))))
def test_any_spelling_of_a_known_header_resolves_to_its_field(pair: tuple[str, str]) -> None:
    name, written = pair
    assert resolve_header(written, custom_fields=CUSTOM) == TARGETS[name]


def test_common_spellings_and_custom_fields() -> None:
    assert resolve_header("System name") == "name"
    assert resolve_header("Owner email") == "owner"
    assert resolve_header("Owner e-mail") == "owner"
    assert resolve_header("Last reviewed") == "last_reviewed_at"
    assert resolve_header("cf.cost_centre", custom_fields=CUSTOM) == "custom_fields.cost_centre"
    assert resolve_header("Cost centre") is None  # without the definition it is unknown
    assert resolve_header("title") is None
    # A field's own name wins over a custom field that reuses it as a label.
    assert resolve_header("Owner", custom_fields=[Definition("boss", "Owner")]) == "owner"


@given(st.text(max_size=40))
def test_resolving_any_header_never_fails(text: str) -> None:
    target = resolve_header(text, custom_fields=CUSTOM)
    assert target is None or target in set(TARGETS.values())
