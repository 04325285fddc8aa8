"""The status rules of documented information (pure): properties over any evidence."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.evidence.documented.catalogue import (
    SYSTEM_ITEMS,
    DocumentedInformationItem,
    catalogue,
    catalogue_by_id,
)
from services.evidence.documented.rules import (
    CLASS_OF_RANK,
    CLASS_RANK,
    EVIDENCE_IDS_SHOWN,
    DocumentedStatus,
    LinkedEvidence,
    SoAState,
    SystemState,
    best_class,
    classify,
    item_status,
    required_of_system,
    requirement,
    status_of,
    status_of_class,
    tally,
    worst,
)

TODAY = date(2026, 11, 28)
STATUSES = ("draft", "in_review", "approved", "expired", "superseded")

evidence_st = st.builds(
    LinkedEvidence,
    id=st.uuids(),
    status=st.sampled_from(STATUSES),
    review_by=st.none() | st.dates(TODAY - timedelta(days=400), TODAY + timedelta(days=400)),
    deleted=st.booleans(),
)
evidence_lists = st.lists(evidence_st, max_size=30, unique_by=lambda e: e.id)
items_st = st.sampled_from(catalogue())
controls = sorted({i.control for i in catalogue() if i.control})
soa_st = st.none() | st.builds(
    SoAState,
    number=st.integers(1, 50),
    included=st.frozensets(st.sampled_from(controls)),
    excluded=st.frozensets(st.sampled_from(controls)),
)
system_st = st.none() | st.builds(
    SystemState,
    in_scope=st.booleans(),
    tier=st.none() | st.sampled_from(["high", "prohibited", "limited", "minimal", "HIGH"]),
)


def current_approved(e: LinkedEvidence) -> bool:
    return (
        not e.deleted and e.status == "approved" and (e.review_by is None or e.review_by >= TODAY)
    )


def lapsed(e: LinkedEvidence) -> bool:
    return not e.deleted and (
        e.status == "expired"
        or (e.status == "approved" and e.review_by is not None and e.review_by < TODAY)
    )


def drafted(e: LinkedEvidence) -> bool:
    return not e.deleted and e.status in ("draft", "in_review")


@given(items_st, soa_st, system_st, evidence_lists)
def test_status_is_the_best_evidence_of_a_required_item(
    item: DocumentedInformationItem,
    soa: SoAState | None,
    system: SystemState | None,
    evidence: list[LinkedEvidence],
) -> None:
    needed = requirement(item, soa=soa, system=system)
    result = item_status(needed, tally(evidence, TODAY))
    assert result.status == status_of(needed.required, tally(evidence, TODAY))
    assert result.reason
    if not needed.required:
        assert result.status == DocumentedStatus.NOT_REQUIRED
        assert result.evidence_ids == ()
        return
    if any(map(current_approved, evidence)):
        expected, behind = DocumentedStatus.APPROVED, [e for e in evidence if current_approved(e)]
    elif any(map(lapsed, evidence)):
        expected, behind = DocumentedStatus.STALE, [e for e in evidence if lapsed(e)]
    elif any(map(drafted, evidence)):
        expected, behind = DocumentedStatus.DRAFT, [e for e in evidence if drafted(e)]
    else:
        expected, behind = DocumentedStatus.MISSING, []
    assert result.status == expected
    assert result.evidence_count == len(behind)
    assert len(result.evidence_ids) == min(len(behind), EVIDENCE_IDS_SHOWN)
    assert set(result.evidence_ids) <= {e.id for e in behind}
    # Deleted and superseded evidence never stands behind a status.
    ignored = {e.id for e in evidence if e.deleted or e.status == "superseded"}
    assert not ignored & set(result.evidence_ids)
    if expected == DocumentedStatus.APPROVED:
        dates = [e.review_by for e in behind]
        best = None if None in dates else max(d for d in dates if d is not None)
        assert result.review_by == best
        assert result.review_by is None or result.review_by >= TODAY
    if expected == DocumentedStatus.STALE:
        dated = [e.review_by for e in behind if e.review_by is not None]
        assert result.review_by == (max(dated) if dated else None)


@given(evidence_lists, st.uuids(), st.none() | st.dates(TODAY, TODAY + timedelta(days=900)))
def test_adding_approved_current_evidence_always_approves(
    evidence: list[LinkedEvidence], new_id: uuid.UUID, review_by: date | None
) -> None:
    item = catalogue_by_id()["DI-01"]
    needed = requirement(item)
    fresh = LinkedEvidence(new_id, "approved", review_by)
    result = item_status(needed, tally([e for e in evidence if e.id != new_id] + [fresh], TODAY))
    assert result.status == DocumentedStatus.APPROVED
    # Linked twice (through the item and its control) it still counts once.
    twice = tally([fresh, fresh], TODAY)
    assert twice.approved.count == 1


@given(soa_st)
def test_annex_a_items_follow_the_approved_soa(soa: SoAState | None) -> None:
    for item in catalogue():
        if item.source != "annex_a":
            continue
        needed = requirement(item, soa=soa)
        if soa is None:
            assert needed.required and "No Statement of Applicability" in needed.reason
        elif item.control in soa.excluded:
            assert not needed.required and "excluded" in needed.reason
        else:
            assert needed.required
    # A clause item never depends on the SoA.
    assert all(requirement(i, soa=soa).required for i in catalogue() if i.source == "clause")


@given(system_st)
def test_system_items_need_scope_and_high_risk_only_for_the_impact_assessment(
    system: SystemState | None,
) -> None:
    for item in SYSTEM_ITEMS:
        needed = requirement(item, system=system)
        in_scope = system is not None and system.in_scope
        high = system is not None and (system.tier or "").lower() in {"high", "prohibited"}
        assert needed.required == (in_scope and (high or not item.high_risk_only))
        assert required_of_system(item, system) == needed.required


@given(st.lists(st.sampled_from(list(DocumentedStatus)), max_size=10))
def test_worst_prefers_missing_then_stale_then_draft(statuses: list[DocumentedStatus]) -> None:
    result = worst(statuses)
    if not statuses:
        assert result == DocumentedStatus.NOT_REQUIRED
    order = [
        DocumentedStatus.MISSING,
        DocumentedStatus.STALE,
        DocumentedStatus.DRAFT,
        DocumentedStatus.APPROVED,
        DocumentedStatus.NOT_REQUIRED,
    ]
    assert all(order.index(result) <= order.index(s) for s in statuses)


def test_catalogue_has_the_documented_ids() -> None:
    ids = [i.id for i in catalogue()]
    assert len(ids) == len(set(ids)) == 58
    assert [i.id for i in SYSTEM_ITEMS if i.high_risk_only] == ["SYS-IMPACT-ASSESSMENT"]


@given(evidence_lists)
def test_the_best_class_is_the_lowest_rank(evidence: list[LinkedEvidence]) -> None:
    """What the SQL computes for many systems (``min`` of the class ranks) is the best class."""
    ranks = [CLASS_RANK[c] for e in evidence if (c := classify(e, TODAY)) is not None]
    expected = CLASS_OF_RANK[min(ranks)] if ranks else None
    assert best_class(tally(evidence, TODAY)) == expected
    for required in (True, False):
        assert status_of_class(required, expected) == status_of(required, tally(evidence, TODAY))
