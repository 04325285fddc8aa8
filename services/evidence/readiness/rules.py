"""Certification readiness: a pure decision over the facts an auditor would look at, no I/O.

:func:`assess` takes :class:`ReadinessFacts` (gathered for one day by the repository, with
date-dependent sets — overdue reviews, stale evidence — already computed for that day) and
returns each assessable clause's and each applicable Annex A control's status with its reason
and evidence, the blockers an auditor would raise, a score and a stage verdict with the rules
that decided it.

- **Stage 1** (document review) needs: an approved scope, an approved SoA, every mandatory item
  of documented information approved, and no high-risk system left out of the scope.
- **Stage 2** (operation) needs Stage 1 and: an internal audit completed in the last 12 months
  covering every clause, a management review held since, no open major nonconformity, no
  overdue corrective action, approved evidence for every applicable control, an approved impact
  assessment for every high-risk system in scope, no evidence past its review-by date, no
  overdue risk review.

The verdict depends only on which blockers exist; the score only on how many of each code (each
code's penalty is capped), so removing a blocker never lowers either.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from services.evidence.reference import load_reference

HIGH_RISK_TIERS = frozenset({"high", "prohibited"})
AUDIT_WINDOW = timedelta(days=365)
DUE_SOON = timedelta(days=30)
MAX_SUBJECT_IDS = 10
AIMS_LEAD = "AIMS lead"


class Stage(enum.StrEnum):
    STAGE1 = "stage1"
    STAGE2 = "stage2"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}
# Penalty per counted item and the cap per blocker code (so one bad area cannot hide the rest).
PENALTY = {
    Severity.CRITICAL: (15, 30),
    Severity.HIGH: (5, 20),
    Severity.MEDIUM: (2, 10),
    Severity.LOW: (1, 5),
}


class Verdict(enum.StrEnum):
    NOT_READY = "not_ready"
    READY_FOR_STAGE_1 = "ready_for_stage_1"
    READY_FOR_STAGE_2 = "ready_for_stage_2"


VERDICT_LABEL = {
    Verdict.NOT_READY: "not ready",
    Verdict.READY_FOR_STAGE_1: "ready for Stage 1",
    Verdict.READY_FOR_STAGE_2: "ready for Stage 2",
}
VERDICT_RANK = {Verdict.NOT_READY: 0, Verdict.READY_FOR_STAGE_1: 1, Verdict.READY_FOR_STAGE_2: 2}


class ClauseState(enum.StrEnum):
    MET = "met"
    PARTIALLY_MET = "partially_met"
    NOT_MET = "not_met"


class ControlState(enum.StrEnum):
    EVIDENCED = "evidenced"
    STALE = "stale"
    DRAFT = "draft"
    MISSING = "missing"


class Freshness(enum.StrEnum):
    CURRENT = "current"
    DUE_SOON = "due_soon"
    STALE = "stale"
    NONE = "none"


# --- Facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The evidence behind one clause or control, sorted into classes for the day assessed."""

    approved: int = 0
    stale: int = 0
    draft: int = 0
    evidence_ids: tuple[uuid.UUID, ...] = ()  # best first (approved, then stale, then draft)
    review_by: date | None = None  # review-by of the best approved evidence (None: undated)
    last_approved_at: datetime | None = None  # newest change of approved evidence


@dataclass(frozen=True)
class SystemFact:
    id: uuid.UUID
    name: str
    owner: str | None
    in_scope: bool
    tier: str | None
    has_approved_impact_assessment: bool = False

    @property
    def high_risk(self) -> bool:
        return (self.tier or "").lower() in HIGH_RISK_TIERS


@dataclass(frozen=True)
class DocumentedFact:
    """A mandatory item of documented information (``DI-*``) and its status that day."""

    id: str
    clause: str
    title: str
    status: str  # approved | stale | draft | missing
    evidence_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class AuditFact:
    id: uuid.UUID
    title: str
    completed_on: date
    clauses: frozenset[str]


@dataclass(frozen=True)
class NonconformityFact:
    id: uuid.UUID
    title: str
    owner: str | None
    due_date: date | None = None
    source: str = "nonconformity"  # or "finding" (a major finding with no nonconformity yet)


@dataclass(frozen=True)
class OwnedGroup:
    """Items of one kind (overdue risks, overdue actions, stale evidence) held by one owner."""

    owner: str | None
    count: int
    ids: tuple[uuid.UUID, ...] = ()
    oldest: date | None = None


@dataclass(frozen=True)
class ReadinessFacts:
    scope_number: int | None = None
    soa_number: int | None = None
    soa_excluded: frozenset[str] = frozenset()
    systems: tuple[SystemFact, ...] = ()  # high-risk systems (others are ignored)
    systems_in_scope: int = 0
    risks_total: int = 0
    documented: tuple[DocumentedFact, ...] = ()
    clause_evidence: Mapping[str, Tally] = field(default_factory=dict)
    control_evidence: Mapping[str, Tally] = field(default_factory=dict)
    audits: tuple[AuditFact, ...] = ()  # completed internal audits
    last_review_held_on: date | None = None
    open_major_nonconformities: tuple[NonconformityFact, ...] = ()
    open_major_count: int = 0
    overdue_risk_reviews: tuple[OwnedGroup, ...] = ()
    overdue_corrective_actions: tuple[OwnedGroup, ...] = ()
    stale_evidence: tuple[OwnedGroup, ...] = ()
    aims_lead: str | None = None


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    code: str
    title: str
    what_to_do: str
    owner: str
    where_to_fix: str
    stage: Stage
    severity: Severity
    subject: str | None = None
    count: int = 1
    subject_ids: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.code}:{self.subject or ''}"


@dataclass(frozen=True)
class EvidenceView:
    approved: int
    stale: int
    draft: int
    evidence_ids: tuple[uuid.UUID, ...]
    review_by: date | None
    last_approved_at: datetime | None
    freshness: Freshness


@dataclass(frozen=True)
class ClauseStatus:
    clause: str
    title: str
    status: ClauseState
    reason: str
    evidence: EvidenceView
    documented_information: tuple[str, ...]


@dataclass(frozen=True)
class ControlStatus:
    control: str
    title: str
    status: ControlState
    applicability: str
    reason: str
    evidence: EvidenceView


@dataclass(frozen=True)
class Rule:
    id: str
    stage: Stage
    description: str
    passed: bool
    blocker_codes: tuple[str, ...]


@dataclass(frozen=True)
class Readiness:
    as_of: date
    verdict: Verdict
    verdict_reason: str
    score: int
    rules: tuple[Rule, ...]
    blockers: tuple[Blocker, ...]
    clauses: tuple[ClauseStatus, ...]
    controls: tuple[ControlStatus, ...]

    @property
    def blocker_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for b in self.blockers:
            counts[b.code] = counts.get(b.code, 0) + 1
        return counts


# --- Reference ------------------------------------------------------------------------------


@cache
def assessable_clauses() -> tuple[tuple[str, str], ...]:
    """(id, title) of the 32 assessable clauses, in the standard's order."""
    return tuple(
        (str(c["id"]), str(c["title"]))
        for c in load_reference("iso42001_clauses")["clauses"]
        if c["assessable"]
    )


@cache
def annex_a_controls() -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(c["id"]), str(c["title"])) for c in load_reference("iso42001_annex_a")["controls"]
    )


def covers(listed: str, clause: str) -> bool:
    """Whether an audit listing ``listed`` (``9`` or ``9.2``) covers ``clause`` (``9.2.1``)."""
    return clause == listed or clause.startswith(listed + ".")


def clause_of(target: str, clause: str) -> bool:
    """Whether evidence or an item for ``target`` counts for assessable ``clause``: the clause
    itself, one of its sub-clauses, or a parent that is not itself assessed (``7.5``, ``9``)."""
    return covers(clause, target) or covers(target, clause)


# --- Blocker catalogue ----------------------------------------------------------------------

INVENTORY_SCOPE = (
    "inventory: POST /v1/scope-versions then POST /v1/scope-versions/{id}/approve "
    "(GraphQL: mutation approveScopeVersion)"
)
RISK_SOA = (
    "risk: POST /v1/soa/versions then POST /v1/soa/versions/{id}/approve (GraphQL: mutation "
    "approveSoaVersion)"
)


def _subjects(ids: Sequence[object]) -> tuple[str, ...]:
    return tuple(str(i) for i in ids[:MAX_SUBJECT_IDS])


def _owner(owner: str | None, facts: ReadinessFacts) -> str:
    return owner or facts.aims_lead or AIMS_LEAD


def _stage1_blockers(facts: ReadinessFacts) -> list[Blocker]:
    out: list[Blocker] = []
    lead = _owner(None, facts)
    if facts.scope_number is None:
        out.append(
            Blocker(
                "no_approved_scope",
                "No approved AIMS scope (4.3)",
                "Draft the scope (activities, boundaries, the AI systems in and out with "
                "justifications) and have top management approve it.",
                lead,
                INVENTORY_SCOPE,
                Stage.STAGE1,
                Severity.CRITICAL,
            )
        )
    if facts.soa_number is None:
        out.append(
            Blocker(
                "no_approved_soa",
                "No approved Statement of Applicability (6.1.3)",
                "Decide every Annex A control (applicable, or excluded with a justification) and "
                "approve the SoA.",
                lead,
                RISK_SOA,
                Stage.STAGE1,
                Severity.CRITICAL,
            )
        )
    for system in facts.systems:
        if system.high_risk and not system.in_scope:
            out.append(
                Blocker(
                    "high_risk_system_out_of_scope",
                    f"High-risk AI system '{system.name}' is outside the AIMS scope",
                    "Bring the system into the scope (a high-risk system cannot be excluded "
                    "credibly), or correct its EU AI Act classification if it is wrong.",
                    _owner(system.owner, facts),
                    INVENTORY_SCOPE + f"; or risk: POST /v1/systems/{system.id}/classifications",
                    Stage.STAGE1,
                    Severity.CRITICAL,
                    subject=str(system.id),
                )
            )
    for item in facts.documented:
        if item.status in ("missing", "draft"):
            state = "has only draft evidence" if item.status == "draft" else "is missing"
            out.append(
                Blocker(
                    "mandatory_documented_information_missing",
                    f"{item.id} {item.title} (clause {item.clause}) {state}",
                    f"Create the document or record, link it to {item.id}, and have it approved.",
                    lead,
                    f"evidence: POST /v1/evidence with a link documented_information → "
                    f"{item.id}, then /submit and /approve (status: GET "
                    f"/v1/documented-information/{item.id})",
                    Stage.STAGE1,
                    Severity.HIGH,
                    subject=item.id,
                )
            )
    return out


def _audits_in_window(facts: ReadinessFacts, as_of: date) -> list[AuditFact]:
    return [a for a in facts.audits if as_of - AUDIT_WINDOW < a.completed_on <= as_of]


def uncovered_clauses(audits: Sequence[AuditFact]) -> list[str]:
    listed = {c for a in audits for c in a.clauses}
    return [cid for cid, _ in assessable_clauses() if not any(covers(item, cid) for item in listed)]


def _last_audit(facts: ReadinessFacts, as_of: date) -> date | None:
    done = [a.completed_on for a in facts.audits if a.completed_on <= as_of]
    return max(done) if done else None


def _review_missing(facts: ReadinessFacts, as_of: date) -> bool:
    held = facts.last_review_held_on
    if held is None or held > as_of or held <= as_of - AUDIT_WINDOW:
        return True
    last_audit = _last_audit(facts, as_of)
    return last_audit is not None and held < last_audit


def _grouped(
    groups: Sequence[OwnedGroup],
    facts: ReadinessFacts,
    *,
    code: str,
    noun: str,
    what: str,
    where: str,
    severity: Severity,
) -> list[Blocker]:
    out = []
    for g in groups:
        if g.count <= 0:
            continue
        since = f", the oldest due {g.oldest.isoformat()}" if g.oldest else ""
        owner = _owner(g.owner, facts)
        out.append(
            Blocker(
                code,
                f"{g.count} {noun} held by {owner}{since}",
                what,
                owner,
                where,
                Stage.STAGE2,
                severity,
                subject=g.owner or "",
                count=g.count,
                subject_ids=_subjects(g.ids),
            )
        )
    return out


def applicable_controls(facts: ReadinessFacts) -> list[tuple[str, str, str]]:
    """(control, title, why applicable): every control not excluded by the approved SoA."""
    out = []
    for cid, title in annex_a_controls():
        if facts.soa_number is None:
            out.append((cid, title, "No approved SoA yet: expected until an SoA excludes it."))
        elif cid not in facts.soa_excluded:
            out.append(
                (cid, title, f"Applicable in the approved SoA (version {facts.soa_number}).")
            )
    return out


def _stage2_blockers(facts: ReadinessFacts, as_of: date) -> list[Blocker]:
    out: list[Blocker] = []
    lead = _owner(None, facts)
    audits = _audits_in_window(facts, as_of)
    if not audits:
        out.append(
            Blocker(
                "no_internal_audit",
                "No internal audit completed in the last 12 months (9.2)",
                "Plan and complete an internal audit covering every clause 4–10 and the "
                "applicable Annex A controls.",
                lead,
                "evidence: POST /v1/audits, then complete it (GraphQL: mutation planAudit)",
                Stage.STAGE2,
                Severity.CRITICAL,
            )
        )
    else:
        missing = uncovered_clauses(audits)
        if missing:
            out.append(
                Blocker(
                    "internal_audit_incomplete",
                    f"Internal audits of the last 12 months leave {len(missing)} clause(s) "
                    f"unaudited: {', '.join(missing[:MAX_SUBJECT_IDS])}",
                    "Audit the clauses not yet covered (add them to a planned audit).",
                    lead,
                    "evidence: POST /v1/audits with `clauses`",
                    Stage.STAGE2,
                    Severity.HIGH,
                    count=len(missing),
                    subject_ids=_subjects(missing),
                )
            )
    if _review_missing(facts, as_of):
        out.append(
            Blocker(
                "no_management_review_since_audit",
                "No management review held since the last internal audit, or in the last 12 "
                "months (9.3)",
                "Hold a management review that considers the audit results, and record it.",
                lead,
                "evidence: POST /v1/management-reviews (GraphQL: mutation "
                "scheduleManagementReview)",
                Stage.STAGE2,
                Severity.HIGH,
            )
        )
    for nc in facts.open_major_nonconformities:
        out.append(
            Blocker(
                "open_major_nonconformity",
                f"Open major nonconformity: {nc.title}",
                "Correct it, plan and implement the corrective action, verify its "
                "effectiveness and close the nonconformity.",
                _owner(nc.owner, facts),
                f"evidence: /v1/nonconformities/{nc.id}"
                if nc.source == "nonconformity"
                else f"evidence: /v1/findings/{nc.id} (raise a nonconformity for it)",
                Stage.STAGE2,
                Severity.CRITICAL,
                subject=str(nc.id),
            )
        )
    hidden = facts.open_major_count - len(facts.open_major_nonconformities)
    if hidden > 0:
        out.append(
            Blocker(
                "open_major_nonconformity",
                f"{hidden} more open major nonconformities",
                "Close them (see the nonconformity list).",
                lead,
                "evidence: GET /v1/nonconformities?severity=major&status=open",
                Stage.STAGE2,
                Severity.CRITICAL,
                subject="more",
                count=hidden,
            )
        )
    out += _grouped(
        facts.overdue_corrective_actions,
        facts,
        code="corrective_action_overdue",
        noun="overdue corrective action(s)",
        what="Implement the actions or re-plan them with a justified new due date.",
        where="evidence: /v1/corrective-actions (filter by owner)",
        severity=Severity.HIGH,
    )
    for cid, title, _ in applicable_controls(facts):
        tally = facts.control_evidence.get(cid, Tally())
        if tally.approved:
            continue
        state = (
            "only stale evidence"
            if tally.stale
            else "only draft evidence"
            if tally.draft
            else "no evidence"
        )
        out.append(
            Blocker(
                "control_without_evidence",
                f"Applicable control {cid} {title} has {state}",
                "Link approved, current evidence of the control's operation to it.",
                lead,
                f"evidence: POST /v1/evidence with a link control → {cid}, then approve it",
                Stage.STAGE2,
                Severity.HIGH,
                subject=cid,
            )
        )
    for system in facts.systems:
        if system.high_risk and system.in_scope and not system.has_approved_impact_assessment:
            out.append(
                Blocker(
                    "impact_assessment_missing",
                    f"High-risk AI system '{system.name}' has no approved impact assessment",
                    "Carry out the AI system impact assessment (6.1.4, 8.4) and have it approved "
                    "by someone other than its author.",
                    _owner(system.owner, facts),
                    f"risk: POST /v1/systems/{system.id}/impact-assessments, then submit and "
                    "approve it",
                    Stage.STAGE2,
                    Severity.HIGH,
                    subject=str(system.id),
                )
            )
    out += _grouped(
        facts.overdue_risk_reviews,
        facts,
        code="risk_review_overdue",
        noun="risk(s) past their review date",
        what="Review the risks (re-assess or confirm them) and set the next review date.",
        where="risk: PATCH /v1/risks/{id} (list: GET /v1/risks?status=review_due)",
        severity=Severity.MEDIUM,
    )
    out += _grouped(
        facts.stale_evidence,
        facts,
        code="evidence_past_review",
        noun="approved evidence item(s) past their review-by date",
        what="Review each item: approve a new version or move its review-by date.",
        where="evidence: GET /v1/evidence?status=approved (review_by passed), then PATCH "
        "/v1/evidence/{id}",
        severity=Severity.MEDIUM,
    )
    return out


# --- Clause and control statuses --------------------------------------------------------------


def freshness(tally: Tally, as_of: date) -> Freshness:
    if tally.approved:
        if tally.review_by is not None and tally.review_by < as_of + DUE_SOON:
            return Freshness.DUE_SOON
        return Freshness.CURRENT
    if tally.stale:
        return Freshness.STALE
    return Freshness.NONE


def _view(tally: Tally, as_of: date) -> EvidenceView:
    return EvidenceView(
        tally.approved,
        tally.stale,
        tally.draft,
        tally.evidence_ids[:MAX_SUBJECT_IDS],
        tally.review_by,
        tally.last_approved_at,
        freshness(tally, as_of),
    )


@dataclass(frozen=True)
class _Condition:
    passed: bool
    text: str
    positive: bool  # a fact that proves something (an approved scope), not an absence


def _conditions(
    clause: str, facts: ReadinessFacts, blockers: Sequence[Blocker]
) -> list[_Condition]:
    codes = {b.code for b in blockers}
    out: list[_Condition] = []

    def absent(code: str, text_ok: str, text_bad: str) -> None:
        out.append(_Condition(code not in codes, text_ok if code not in codes else text_bad, False))

    if clause == "4.3":
        out.append(
            _Condition(
                facts.scope_number is not None,
                f"Scope version {facts.scope_number} is approved."
                if facts.scope_number is not None
                else "No scope is approved.",
                True,
            )
        )
        absent(
            "high_risk_system_out_of_scope",
            "No high-risk system is left out.",
            "A high-risk system is left out of the scope.",
        )
    elif clause == "6.1.3":
        out.append(
            _Condition(
                facts.soa_number is not None,
                f"SoA version {facts.soa_number} is approved."
                if facts.soa_number is not None
                else "No SoA is approved.",
                True,
            )
        )
    elif clause in ("6.1.2", "8.2"):
        out.append(
            _Condition(
                facts.risks_total > 0,
                f"{facts.risks_total} risk(s) are assessed in the register."
                if facts.risks_total
                else "The risk register is empty.",
                True,
            )
        )
        absent("risk_review_overdue", "No risk review is overdue.", "Risk reviews are overdue.")
    elif clause in ("6.1.4", "8.4"):
        absent(
            "impact_assessment_missing",
            "Every high-risk system in scope has an approved impact assessment.",
            "A high-risk system in scope has no approved impact assessment.",
        )
    elif clause in ("9.2.1", "9.2.2"):
        has_audit = "no_internal_audit" not in codes
        out.append(
            _Condition(
                has_audit,
                "An internal audit was completed in the last 12 months."
                if has_audit
                else "No internal audit was completed in the last 12 months.",
                True,
            )
        )
        absent(
            "internal_audit_incomplete",
            "The audits cover every clause.",
            "The audits leave clauses unaudited.",
        )
    elif clause.startswith("9.3."):
        ok = "no_management_review_since_audit" not in codes
        out.append(
            _Condition(
                ok,
                "A management review was held since the last audit."
                if ok
                else "No management review was held since the last audit.",
                True,
            )
        )
    elif clause == "10.2":
        absent(
            "open_major_nonconformity",
            "No major nonconformity is open.",
            "A major nonconformity is open.",
        )
        absent(
            "corrective_action_overdue",
            "No corrective action is overdue.",
            "Corrective actions are overdue.",
        )
    elif clause == "7.5.2":
        absent(
            "evidence_past_review",
            "No approved evidence is past its review-by date.",
            "Approved evidence is past its review-by date.",
        )
    return out


def _clause_status(
    clause: str, title: str, facts: ReadinessFacts, blockers: Sequence[Blocker], as_of: date
) -> ClauseStatus:
    tally = facts.clause_evidence.get(clause, Tally())
    items = [d for d in facts.documented if clause_of(d.clause, clause)]
    conditions = _conditions(clause, facts, blockers)
    problems = [c.text for c in conditions if not c.passed]
    problems += [f"{d.id} is {d.status}." for d in items if d.status != "approved"]
    proofs = [c.text for c in conditions if c.passed and c.positive]
    proofs += [f"{d.id} is approved." for d in items if d.status == "approved"]
    if tally.approved:
        proofs.append(f"{tally.approved} approved evidence item(s) in force.")
    notes = [c.text for c in conditions if c.passed and not c.positive]
    if tally.stale:
        problems.append(f"{tally.stale} evidence item(s) past review-by or expired.")
    if proofs and not problems:
        status = ClauseState.MET
    elif not proofs and not tally.stale and not tally.draft:
        status = ClauseState.NOT_MET
    else:
        status = ClauseState.PARTIALLY_MET
    if status == ClauseState.NOT_MET and not problems:
        problems.append("No approved evidence is linked to the clause.")
    if tally.draft and not tally.approved:
        problems.append(f"{tally.draft} evidence item(s) still in draft or review.")
    reason = " ".join([*proofs, *notes, *problems]) or "No evidence is linked to the clause."
    return ClauseStatus(
        clause, title, status, reason, _view(tally, as_of), tuple(d.id for d in items)
    )


def _control_status(
    cid: str, title: str, why: str, facts: ReadinessFacts, as_of: date
) -> ControlStatus:
    tally = facts.control_evidence.get(cid, Tally())
    if tally.approved:
        until = f"review by {tally.review_by.isoformat()}" if tally.review_by else "no review date"
        status, reason = (
            ControlState.EVIDENCED,
            f"{tally.approved} approved evidence item(s) in force (best: {until}).",
        )
    elif tally.stale:
        status, reason = (
            ControlState.STALE,
            f"Its {tally.stale} approved evidence item(s) are past review-by or expired.",
        )
    elif tally.draft:
        status, reason = (
            ControlState.DRAFT,
            f"Only draft or in-review evidence ({tally.draft} item(s)).",
        )
    else:
        status, reason = ControlState.MISSING, "No evidence is linked to the control."
    return ControlStatus(cid, title, status, why, reason, _view(tally, as_of))


# --- Score and verdict ------------------------------------------------------------------------


def score(blockers: Sequence[Blocker]) -> int:
    """100 minus each code's penalty (per counted item, capped per code)."""
    by_code: dict[str, tuple[Severity, int]] = {}
    for b in blockers:
        severity, n = by_code.get(b.code, (b.severity, 0))
        by_code[b.code] = (min(severity, b.severity, key=SEVERITY_RANK.__getitem__), n + b.count)
    penalty = 0
    for severity, n in by_code.values():
        each, cap = PENALTY[severity]
        penalty += min(cap, each * n)
    return max(0, 100 - penalty)


RULES: tuple[tuple[str, Stage, str, tuple[str, ...]], ...] = (
    ("stage1.scope", Stage.STAGE1, "An AIMS scope is approved.", ("no_approved_scope",)),
    ("stage1.soa", Stage.STAGE1, "A Statement of Applicability is approved.", ("no_approved_soa",)),
    (
        "stage1.documented_information",
        Stage.STAGE1,
        "Every mandatory item of documented information has approved evidence.",
        ("mandatory_documented_information_missing",),
    ),
    (
        "stage1.high_risk_in_scope",
        Stage.STAGE1,
        "No high-risk AI system is left out of the scope.",
        ("high_risk_system_out_of_scope",),
    ),
    (
        "stage2.internal_audit",
        Stage.STAGE2,
        "An internal audit completed in the last 12 months covers every clause.",
        ("no_internal_audit", "internal_audit_incomplete"),
    ),
    (
        "stage2.management_review",
        Stage.STAGE2,
        "A management review was held since the last internal audit.",
        ("no_management_review_since_audit",),
    ),
    (
        "stage2.nonconformities",
        Stage.STAGE2,
        "No major nonconformity is open.",
        ("open_major_nonconformity",),
    ),
    (
        "stage2.corrective_actions",
        Stage.STAGE2,
        "No corrective action is overdue.",
        ("corrective_action_overdue",),
    ),
    (
        "stage2.controls",
        Stage.STAGE2,
        "Every applicable Annex A control has approved, current evidence.",
        ("control_without_evidence",),
    ),
    (
        "stage2.impact_assessments",
        Stage.STAGE2,
        "Every high-risk AI system in scope has an approved impact assessment.",
        ("impact_assessment_missing",),
    ),
    (
        "stage2.evidence_fresh",
        Stage.STAGE2,
        "No approved evidence is past its review-by date.",
        ("evidence_past_review",),
    ),
    (
        "stage2.risk_reviews",
        Stage.STAGE2,
        "No risk review is overdue.",
        ("risk_review_overdue",),
    ),
)

BLOCKER_CODES = tuple(code for _, _, _, codes in RULES for code in codes)


def verdict_of(blockers: Sequence[Blocker]) -> tuple[Verdict, tuple[Rule, ...], str]:
    codes = {b.code for b in blockers}
    rules = tuple(
        Rule(rid, stage, text, not (codes & set(rc)), tuple(c for c in rc if c in codes))
        for rid, stage, text, rc in RULES
    )
    failed1 = [r.id for r in rules if r.stage == Stage.STAGE1 and not r.passed]
    failed2 = [r.id for r in rules if r.stage == Stage.STAGE2 and not r.passed]
    if failed1:
        return Verdict.NOT_READY, rules, f"Stage 1 needs: {', '.join(failed1)}."
    if failed2:
        return (
            Verdict.READY_FOR_STAGE_1,
            rules,
            f"Every Stage 1 rule passes; Stage 2 still needs: {', '.join(failed2)}.",
        )
    return Verdict.READY_FOR_STAGE_2, rules, "Every Stage 1 and Stage 2 rule passes."


def assess(facts: ReadinessFacts, as_of: date) -> Readiness:
    """The readiness of the organisation described by ``facts`` on ``as_of``."""
    blockers = _stage1_blockers(facts) + _stage2_blockers(facts, as_of)
    blockers.sort(key=lambda b: (b.stage != Stage.STAGE1, SEVERITY_RANK[b.severity], b.code))
    verdict, rules, why = verdict_of(blockers)
    clauses = tuple(
        _clause_status(cid, title, facts, blockers, as_of) for cid, title in assessable_clauses()
    )
    controls = tuple(
        _control_status(cid, title, why_applicable, facts, as_of)
        for cid, title, why_applicable in applicable_controls(facts)
    )
    return Readiness(
        as_of=as_of,
        verdict=verdict,
        verdict_reason=why,
        score=score(blockers),
        rules=rules,
        blockers=tuple(blockers),
        clauses=clauses,
        controls=controls,
    )
