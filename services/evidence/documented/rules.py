"""The status of one item of documented information: a pure decision, no I/O.

For each catalogue item:

1. **Is it asked for?** An Annex A item (``AX-*``) is not asked for when its control is excluded
   in the organisation's current approved SoA (with no approved SoA yet it is expected). A system
   item (``SYS-*``) is asked of a system only while the system is in scope, and a high-risk-only
   item only while the system is high-risk. Clause items (``DI-*``, ``CE-*``) always are.
2. **What does its evidence say?** Each linked, non-deleted evidence item falls in one class:
   *approved* (approved and its ``review_by``, if any, is today or later), *stale* (approved but
   past ``review_by``, or expired), *draft* (draft or in review); superseded evidence counts for
   nothing. The item's status is the best class present: ``approved`` > ``stale`` > ``draft``,
   else ``missing``.

The repository computes the same classes and orders in SQL (one aggregate per item); this
module is what both must agree with, and what the property tests check.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.evidence.documented.catalogue import DocumentedInformationItem

# EU AI Act tiers that make a system "high-risk" for the system items (the inventory's scope
# checks use the same set: a prohibited practice is at least as demanding as a high-risk one).
HIGH_RISK_TIERS = frozenset({"high", "prohibited"})
# How many evidence ids a status lists (``evidence_count`` says how many there are).
EVIDENCE_IDS_SHOWN = 10


class DocumentedStatus(enum.StrEnum):
    MISSING = "missing"
    DRAFT = "draft"
    APPROVED = "approved"
    STALE = "stale"
    NOT_REQUIRED = "not_required"


class EvidenceClass(enum.StrEnum):
    APPROVED = "approved"
    STALE = "stale"
    DRAFT = "draft"


@dataclass(frozen=True)
class LinkedEvidence:
    """One evidence item linked to a catalogue item (as the rules need it)."""

    id: uuid.UUID
    status: str  # draft | in_review | approved | expired | superseded
    review_by: date | None = None
    deleted: bool = False


def classify(evidence: LinkedEvidence, today: date) -> EvidenceClass | None:
    """The class one evidence item falls in, or None when it counts for nothing."""
    if evidence.deleted:
        return None
    if evidence.status == "approved":
        if evidence.review_by is None or evidence.review_by >= today:
            return EvidenceClass.APPROVED
        return EvidenceClass.STALE
    if evidence.status == "expired":
        return EvidenceClass.STALE
    if evidence.status in ("draft", "in_review"):
        return EvidenceClass.DRAFT
    return None


@dataclass(frozen=True)
class Bucket:
    """The evidence of one class: how many, the first ids (best first), the best review date."""

    count: int = 0
    ids: tuple[uuid.UUID, ...] = ()
    review_by: date | None = None


EMPTY = Bucket()


@dataclass(frozen=True)
class EvidenceTally:
    approved: Bucket = EMPTY
    stale: Bucket = EMPTY
    draft: Bucket = EMPTY


def _approved_order(e: LinkedEvidence) -> tuple[bool, int, int]:
    # Best first: no review date (in force until changed), then the latest review date, then the
    # newest id. SQL: ORDER BY review_by DESC NULLS FIRST, id DESC.
    return (e.review_by is not None, -e.review_by.toordinal() if e.review_by else 0, -e.id.int)


def _stale_order(e: LinkedEvidence) -> tuple[bool, int, int]:
    # The most recently lapsed first. SQL: ORDER BY review_by DESC NULLS LAST, id DESC.
    return (e.review_by is None, -e.review_by.toordinal() if e.review_by else 0, -e.id.int)


def _draft_order(e: LinkedEvidence) -> tuple[bool, int, int]:
    # Newest first. SQL: ORDER BY id DESC.
    return (False, 0, -e.id.int)


def tally(
    evidence: Iterable[LinkedEvidence], today: date, *, shown: int = EVIDENCE_IDS_SHOWN
) -> EvidenceTally:
    """Sort linked evidence into its classes (an id linked twice counts once)."""
    unique = {e.id: e for e in evidence}
    classes: dict[EvidenceClass, list[LinkedEvidence]] = {c: [] for c in EvidenceClass}
    for e in unique.values():
        cls = classify(e, today)
        if cls is not None:
            classes[cls].append(e)

    def bucket(
        items: list[LinkedEvidence],
        order: Callable[[LinkedEvidence], tuple[bool, int, int]],
        review_by: date | None,
    ) -> Bucket:
        ranked = sorted(items, key=order)
        return Bucket(len(ranked), tuple(e.id for e in ranked[:shown]), review_by)

    approved = classes[EvidenceClass.APPROVED]
    stale = classes[EvidenceClass.STALE]
    best_approved = min(approved, key=_approved_order).review_by if approved else None
    dated_stale = [e.review_by for e in stale if e.review_by is not None]
    return EvidenceTally(
        approved=bucket(approved, _approved_order, best_approved),
        stale=bucket(stale, _stale_order, max(dated_stale) if dated_stale else None),
        draft=bucket(classes[EvidenceClass.DRAFT], _draft_order, None),
    )


# --- Is the item asked for? -------------------------------------------------------------------


@dataclass(frozen=True)
class SoAState:
    """The current approved SoA: its number and its decisions."""

    number: int
    included: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SystemState:
    in_scope: bool
    tier: str | None = None

    @property
    def high_risk(self) -> bool:
        return (self.tier or "").lower() in HIGH_RISK_TIERS


@dataclass(frozen=True)
class Requirement:
    required: bool
    reason: str


def required_of_system(item: DocumentedInformationItem, system: SystemState | None) -> bool:
    """Whether a ``SYS-*`` item is asked of ``system`` (the fast form of :func:`requirement`)."""
    if system is None or not system.in_scope:
        return False
    return system.high_risk or not item.high_risk_only


def requirement(
    item: DocumentedInformationItem,
    *,
    soa: SoAState | None = None,
    system: SystemState | None = None,
) -> Requirement:
    """Whether ``item`` is asked for, and why (for a ``SYS-*`` item: of ``system``)."""
    if item.source == "annex_a":
        control = item.control or "?"
        if soa is None:
            return Requirement(
                True,
                f"No Statement of Applicability is approved yet: expected until an approved SoA "
                f"excludes control {control}.",
            )
        if control in soa.excluded:
            return Requirement(
                False, f"Control {control} is excluded in the approved SoA (version {soa.number})."
            )
        if control in soa.included:
            return Requirement(
                True, f"Control {control} is included in the approved SoA (version {soa.number})."
            )
        return Requirement(
            True,
            f"Control {control} has no decision in the approved SoA (version {soa.number}): "
            "expected until it is excluded.",
        )
    if item.source == "system":
        if system is None or not system.in_scope:
            return Requirement(False, "The system is not in the current AIMS scope.")
        if item.high_risk_only and not system.high_risk:
            tier = system.tier or "not classified"
            return Requirement(
                False, f"Asked only of high-risk systems; this one's EU AI Act tier is {tier}."
            )
        if item.high_risk_only:
            return Requirement(
                True, f"The system is in scope and high-risk (EU AI Act tier {system.tier})."
            )
        return Requirement(True, "The system is in the current AIMS scope.")
    if item.source == "clause":
        form = f" ({item.form})" if item.form else ""
        return Requirement(True, f"Required by clause {item.clause}{form}.")
    return Requirement(
        True, f"Commonly expected for clause {item.clause}, though not phrased as required."
    )


def satisfied_by(item: DocumentedInformationItem) -> str:
    """What evidence counts for ``item``."""
    if item.source == "annex_a":
        return f"Evidence linked to documented information {item.id} or to control {item.control}."
    if item.source == "system":
        return f"Evidence linked to documented information {item.id} and to the system."
    return f"Evidence linked to documented information {item.id}."


# --- The status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemStatus:
    status: DocumentedStatus
    reason: str
    evidence_ids: tuple[uuid.UUID, ...] = ()
    evidence_count: int = 0
    review_by: date | None = None


def _plural(n: int) -> str:
    return "item" if n == 1 else "items"


def best_class(evidence: EvidenceTally) -> EvidenceClass | None:
    """The best class present (approved, then stale, then draft), None when none is."""
    if evidence.approved.count:
        return EvidenceClass.APPROVED
    if evidence.stale.count:
        return EvidenceClass.STALE
    if evidence.draft.count:
        return EvidenceClass.DRAFT
    return None


# The status an item has when the best class of its evidence is the key.
_STATUS_OF_CLASS = {
    EvidenceClass.APPROVED: DocumentedStatus.APPROVED,
    EvidenceClass.STALE: DocumentedStatus.STALE,
    EvidenceClass.DRAFT: DocumentedStatus.DRAFT,
    None: DocumentedStatus.MISSING,
}
# Ranks of the classes, best first (the SQL computes ``min`` of these per item).
CLASS_RANK = {EvidenceClass.APPROVED: 1, EvidenceClass.STALE: 2, EvidenceClass.DRAFT: 3}
CLASS_OF_RANK = {rank: cls for cls, rank in CLASS_RANK.items()}


def status_of_class(required: bool, best: EvidenceClass | None) -> DocumentedStatus:
    """The status alone, from the best class of the evidence (what counts over many systems
    need; :func:`item_status` agrees)."""
    if not required:
        return DocumentedStatus.NOT_REQUIRED
    return _STATUS_OF_CLASS[best]


def status_of(required: bool, evidence: EvidenceTally) -> DocumentedStatus:
    return status_of_class(required, best_class(evidence))


def item_status(required: Requirement, evidence: EvidenceTally) -> ItemStatus:
    """The status of one item from whether it is asked for and its evidence, with the reason."""
    if not required.required:
        return ItemStatus(DocumentedStatus.NOT_REQUIRED, required.reason)
    if evidence.approved.count:
        b = evidence.approved
        until = f"review by {b.review_by.isoformat()}" if b.review_by else "no review date"
        return ItemStatus(
            DocumentedStatus.APPROVED,
            f"{required.reason} {b.count} approved evidence {_plural(b.count)} in force "
            f"(best: {until}).",
            b.ids,
            b.count,
            b.review_by,
        )
    if evidence.stale.count:
        b = evidence.stale
        since = f" (review was due {b.review_by.isoformat()})" if b.review_by else ""
        return ItemStatus(
            DocumentedStatus.STALE,
            f"{required.reason} The approved evidence is past its review-by date or expired"
            f"{since}: review it.",
            b.ids,
            b.count,
            b.review_by,
        )
    if evidence.draft.count:
        b = evidence.draft
        return ItemStatus(
            DocumentedStatus.DRAFT,
            f"{required.reason} Only draft or in-review evidence is linked "
            f"({b.count} {_plural(b.count)}).",
            b.ids,
            b.count,
        )
    return ItemStatus(DocumentedStatus.MISSING, f"{required.reason} No evidence is linked.")


# Worst first: what a summary over several systems reports.
SEVERITY = (
    DocumentedStatus.MISSING,
    DocumentedStatus.STALE,
    DocumentedStatus.DRAFT,
    DocumentedStatus.APPROVED,
    DocumentedStatus.NOT_REQUIRED,
)


def worst(statuses: Sequence[DocumentedStatus]) -> DocumentedStatus:
    """The worst of several statuses (``not_required`` when there are none)."""
    present = set(statuses)
    return next((s for s in SEVERITY if s in present), DocumentedStatus.NOT_REQUIRED)
