"""Properties of the audit chain's pure hashing and verification, over random trails."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.audit import GENESIS_HASH, AuditRecord, canonical_json, verify_records

ORG = uuid.UUID("01890000-0000-7000-8000-000000000001")
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def chain(afters: list[Any]) -> tuple[list[AuditRecord], tuple[int, str]]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    start = datetime(2026, 11, 28, tzinfo=UTC)
    for index, after in enumerate(afters, start=1):
        record = AuditRecord(
            org_id=ORG,
            seq=index,
            id=uuid.UUID(int=index),
            recorded_at=start + timedelta(microseconds=index),
            actor=f"user-{index % 3}",
            actor_kind="user",
            action="aims.test.thing.changed",
            entity_type="thing",
            entity_id=str(index % 4),
            before=None,
            after=after,
            prev_hash=prev,
        )
        record = dataclasses.replace(record, hash=record.compute_hash())
        records.append(record)
        prev = record.hash
    return records, (len(records), prev)


def found(records: list[AuditRecord], head: tuple[int, str] | None) -> list[tuple[int, str]]:
    return [(p.seq, p.problem) for p in verify_records(str(ORG), records, head).problems]


def renumbered(records: list[AuditRecord]) -> list[AuditRecord]:
    return [dataclasses.replace(r, seq=n) for n, r in enumerate(records, start=1)]


trails = st.lists(json_values, min_size=1, max_size=12)


@given(trails)
def test_an_untouched_chain_is_valid(afters: list[Any]) -> None:
    records, head = chain(afters)
    result = verify_records(str(ORG), records, head)
    assert result.valid and result.entries == len(afters) and result.head_seq == len(afters)


@given(trails, st.data())
def test_an_edited_entry_is_reported_at_its_seq(afters: list[Any], data: st.DataObject) -> None:
    records, head = chain(afters)
    index = data.draw(st.integers(0, len(records) - 1))
    field = data.draw(st.sampled_from(["after", "actor", "recorded_at", "entity_id", "before"]))
    original = records[index]
    forged: Any = {
        "after": {"forged": original.after},
        "actor": original.actor + "x",
        "recorded_at": original.recorded_at + timedelta(seconds=1),
        "entity_id": original.entity_id + "9",
        "before": ["forged"],
    }[field]
    records[index] = dataclasses.replace(original, **{field: forged})
    assert found(records, head) == [(index + 1, "edited")]


@given(trails, st.data())
def test_a_rehashed_edit_breaks_the_next_link(afters: list[Any], data: st.DataObject) -> None:
    records, head = chain(afters)
    index = data.draw(st.integers(0, len(records) - 1))
    records[index] = dataclasses.replace(records[index], actor="mallory", hash="f" * 64)
    expected = [(index + 1, "edited")]
    expected.append(
        (index + 2, "broken-link") if index + 1 < len(records) else (len(records), "head-mismatch")
    )
    assert found(records, head) == expected


@given(trails, st.data())
def test_a_deleted_entry_is_reported(afters: list[Any], data: st.DataObject) -> None:
    records, head = chain(afters)
    index = data.draw(st.integers(0, len(records) - 1))
    del records[index]
    assert found(records, head) == [(index + 1, "deleted")]


@given(trails, st.data())
def test_a_deleted_and_renumbered_entry_is_still_seen(
    afters: list[Any], data: st.DataObject
) -> None:
    records, head = chain(afters)
    index = data.draw(st.integers(0, len(records) - 1))
    del records[index]
    problems = found(renumbered(records), head)
    assert problems, "a removed entry must not go unnoticed"
    assert problems[0][0] == index + 1 or problems[0] == (len(records) + 1, "deleted")


@given(st.lists(json_values, min_size=2, max_size=12), st.data())
def test_swapped_entries_are_reported_as_reordered(afters: list[Any], data: st.DataObject) -> None:
    records, head = chain(afters)
    i = data.draw(st.integers(0, len(records) - 2))
    j = data.draw(st.integers(i + 1, len(records) - 1))
    records[i], records[j] = records[j], records[i]
    problems = found(renumbered(records), head)
    seqs = {seq for seq, _ in problems}
    assert {kind for _, kind in problems} == {"reordered"}
    assert {i + 1, j + 1} <= seqs <= set(range(i + 1, j + 2))


@settings(max_examples=200)
@given(json_values)
def test_canonical_json_is_stable_and_compact(value: Any) -> None:
    encoded = canonical_json(value)
    import json

    assert canonical_json(json.loads(encoded)) == encoded
    assert b"\n" not in encoded and b": " not in encoded.replace(b'": "', b"")
