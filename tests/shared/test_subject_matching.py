"""NATS wildcard matching used by consumers to refuse events outside their filter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.events.consumer import subject_matches


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("aims.inventory.system.>", "aims.inventory.system.registered", True),
        ("aims.inventory.system.>", "aims.inventory.system", False),
        ("aims.inventory.system.>", "aims.inventory.systems.registered", False),
        ("aims.>", "aims.gateway.webhook.delivery.failed", True),
        ("aims.*.system.registered", "aims.inventory.system.registered", True),
        ("aims.*.system.registered", "aims.inventory.system.updated", False),
        ("t1.aims.>", "aims.inventory.system.registered", False),
        ("aims.inventory.apikey.created", "aims.inventory.apikey.created", True),
        ("aims.inventory.apikey.created", "aims.inventory.apikey.created.x", False),
    ],
)
def test_subject_matches(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


tokens = st.lists(st.sampled_from(["aims", "inventory", "system", "x"]), min_size=1, max_size=5)


@given(tokens)
def test_a_subject_matches_itself_and_its_full_wildcard(parts: list[str]) -> None:
    subject = ".".join(parts)
    assert subject_matches(subject, subject)
    assert subject_matches(">", subject)
    assert subject_matches(".".join(["*"] * len(parts)), subject)
    assert not subject_matches(subject + ".more", subject)
