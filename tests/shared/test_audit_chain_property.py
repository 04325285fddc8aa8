"""Properties of the audit chain's pure hashing and verification, over random trails."""

from __future__ import annotations

import collections
import dataclasses
import enum
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.audit import (
    GENESIS_HASH,
    REDACTED,
    SENSITIVE_KEYS,
    AuditRecord,
    canonical_json,
    canonical_value,
    redact,
    verify_records,
)

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
    assert canonical_json(json.loads(encoded)) == encoded
    assert b"\n" not in encoded and b": " not in encoded.replace(b'": "', b"")


# --- The short way of the canonical form and of redaction gives what the general one gives ----
# (shared.audit.canonical_value / redact take a short way for the exact types of decoded JSON;
# these are the general forms they had before, kept as the reference.)


def general_canonical(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(Decimal(repr(value))) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): general_canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [general_canonical(v) for v in value]
    raise TypeError(type(value).__name__)


def general_redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if k in SENSITIVE_KEYS and v is not None else general_redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [general_redact(v) for v in value]
    return value


class Level(enum.IntEnum):
    HIGH = 3


class Tier(enum.StrEnum):
    LIMITED = "limited"


def shape(value: Any) -> Any:
    """The value with each part's exact type beside it (``1 == 1.0 == True`` to ``==``)."""
    if isinstance(value, Mapping):
        return (type(value), [(shape(k), shape(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value), [shape(v) for v in value])
    return (type(value), repr(value))


python_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Level.HIGH, Tier.LIMITED])
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(
            st.sampled_from(sorted(SENSITIVE_KEYS)) | st.text(max_size=3) | st.integers(0, 3),
            inner,
            max_size=4,
        )
        | st.dictionaries(st.text(max_size=3), inner, max_size=3).map(collections.OrderedDict)
    ),
    max_leaves=12,
)


@settings(max_examples=500)
@given(python_values)
def test_the_short_way_gives_the_general_canonical_form(value: Any) -> None:
    assert shape(canonical_value(value)) == shape(general_canonical(value))
    assert shape(redact(value)) == shape(general_redact(value))
    both = canonical_value(redact(value))
    assert shape(both) == shape(general_canonical(general_redact(value)))
    # What is sealed is what verification recomputes from the stored JSON.
    assert canonical_json(json.loads(canonical_json(both))) == canonical_json(both)
