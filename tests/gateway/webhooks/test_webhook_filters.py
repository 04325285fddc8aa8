"""Subscription event-type filters."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.webhooks.filters import matches, matches_any, short_type, validate_filter

REGISTERED = "aims.inventory.system.registered"
CLASSIFIED = "aims.risk.system.classified"
ASSESSED = "aims.risk.risk.assessed"
EVIDENCE = "aims.evidence.evidence.added"
DELIVERY_FAILED = "aims.gateway.webhook.delivery.failed"
ALL = [REGISTERED, CLASSIFIED, ASSESSED, EVIDENCE, DELIVERY_FAILED]

CASES: list[tuple[str, set[str]]] = [
    ("*", set(ALL)),
    ("system.registered", {REGISTERED}),
    ("system.classified", {CLASSIFIED}),
    ("system.*", {REGISTERED, CLASSIFIED}),  # same entity, different services
    ("risk.*", {ASSESSED}),
    ("risk.assessed", {ASSESSED}),
    ("evidence.*", {EVIDENCE}),
    ("webhook.*", {DELIVERY_FAILED}),
    ("webhook.delivery.*", {DELIVERY_FAILED}),
    ("webhook.delivery.failed", {DELIVERY_FAILED}),
    (REGISTERED, {REGISTERED}),
    ("aims.risk.*", {CLASSIFIED, ASSESSED}),
    ("aims.risk.system.*", {CLASSIFIED}),
    ("aims.*", set(ALL)),
    ("aims.inventory.system.retired", set()),
    ("system.retired", set()),
    ("registered.*", set()),  # a verb is not an entity
    ("inventory.*", set()),  # the short form has no service segment
    ("sys.*", set()),  # prefixes are matched segment-wise
    ("system.register", set()),
]


@pytest.mark.parametrize(("f", "expected"), CASES)
def test_filter_matches_exactly_the_expected_types(f: str, expected: set[str]) -> None:
    validate_filter(f)
    assert {t for t in ALL if matches(t, f)} == expected


def test_short_type() -> None:
    assert short_type(REGISTERED) == "system.registered"
    assert short_type(DELIVERY_FAILED) == "webhook.delivery.failed"
    assert short_type("aims.inventory.system") is None
    assert short_type("com.example.system.registered") is None
    assert short_type("aims..system.registered") is None


def test_short_filters_do_not_match_foreign_types() -> None:
    assert not matches("com.example.system.registered", "system.registered")
    assert not matches("system.registered", "system.registered")  # not a CloudEvents type
    assert matches("com.example.system.registered", "*")


def test_matches_any() -> None:
    assert matches_any(ASSESSED, ["system.*", "risk.*"])
    assert not matches_any(EVIDENCE, ["system.*", "risk.*"])
    assert not matches_any(EVIDENCE, [])


INVALID = [
    ("", "must not be empty"),
    (" system.*", "whitespace"),
    ("system.* ", "whitespace"),
    ("system", "names no event; write 'system.*'"),
    ("aims.inventory", "a full event type has the form"),
    ("aims.inventory.system", "a full event type has the form"),
    ("aims", "a full event type has the form"),
    (".system.registered", "empty segment"),
    ("system..registered", "empty segment"),
    ("system.", "empty segment"),
    ("*.registered", "only allowed as the last segment"),
    ("system.*.x", "only allowed as the last segment"),
    ("risk*", "must be a whole segment"),
    ("risk.assess*", "must be a whole segment"),
    ("**", "must be a whole segment"),
    ("System.Registered", "lower-case"),
    ("system-registered.x", "lower-case"),
    ("system.registered/v1", "lower-case"),
    ("a." * 150 + "b", "longer than 200"),
]


@pytest.mark.parametrize(("f", "message"), INVALID)
def test_invalid_filters_are_rejected_with_clear_messages(f: str, message: str) -> None:
    with pytest.raises(ValueError, match="event filter") as excinfo:
        validate_filter(f)
    assert message in str(excinfo.value)


def test_non_string_filter_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        validate_filter(None)  # type: ignore[arg-type]


segment = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s != "aims")


# Generation time depends on the machine's load (the regex strategy), not on the code under test.
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(service=segment, entity=segment, verb=segment)
def test_every_event_matches_its_own_forms(service: str, entity: str, verb: str) -> None:
    event_type = f"aims.{service}.{entity}.{verb}"
    for f in ("*", f"{entity}.{verb}", f"{entity}.*", event_type, f"aims.{service}.*", "aims.*"):
        validate_filter(f)
        assert matches(event_type, f), f
