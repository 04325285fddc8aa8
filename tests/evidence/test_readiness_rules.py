"""The readiness decision (pure): blockers, verdict, score, clause and control statuses, and the
certification timeline."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.evidence.readiness.rules import (
    VERDICT_RANK,
    AuditFact,
    ClauseState,
    ControlState,
    DocumentedFact,
    NonconformityFact,
    OwnedGroup,
    ReadinessFacts,
    Stage,
    SystemFact,
    Tally,
    Verdict,
    annex_a_controls,
    assess,
    assessable_clauses,
    score,
)
from services.evidence.readiness.timeline import (
    MilestoneKind,
    PlanOptions,
    TargetKind,
    plan,
)

AS_OF = date(2027, 3, 1)
ALL_CLAUSES = frozenset(cid for cid, _ in assessable_clauses())
CONTROLS = [cid for cid, _ in annex_a_controls()]
TOP_LEVEL = frozenset({"4", "5", "6", "7", "8", "9", "10"})
APPROVED = Tally(approved=1, evidence_ids=(uuid.uuid4(),))


def ready_facts() -> ReadinessFacts:
    """An organisation with nothing an auditor would object to."""
    return ReadinessFacts(
        scope_number=1,
        soa_number=1,
        soa_excluded=frozenset(CONTROLS[20:]),
        systems=(SystemFact(uuid.uuid4(), "CV screening", "ann", True, "high", True),),
        systems_in_scope=1,
        risks_total=3,
        documented=(DocumentedFact("DI-01", "4.3", "Scope", "approved"),),
        clause_evidence={cid: APPROVED for cid in ALL_CLAUSES},
        control_evidence={cid: APPROVED for cid in CONTROLS[:20]},
        audits=(AuditFact(uuid.uuid4(), "Full audit", AS_OF - timedelta(days=60), TOP_LEVEL),),
        last_review_held_on=AS_OF - timedelta(days=30),
    )


def test_an_empty_organisation_is_not_ready_with_the_blockers_an_auditor_would_raise() -> None:
    result = assess(ReadinessFacts(), AS_OF)
    codes = {b.code for b in result.blockers}
    assert result.verdict == Verdict.NOT_READY
    assert {
        "no_approved_scope",
        "no_approved_soa",
        "no_internal_audit",
        "no_management_review_since_audit",
        "control_without_evidence",
    } <= codes
    # With no SoA every one of the 38 controls is expected.
    assert len(result.controls) == 38
    assert len(result.clauses) == 32
    assert result.score < 50
    assert all(r.passed is False for r in result.rules if r.id == "stage1.scope")


def test_everything_in_place_is_ready_for_stage_2_with_full_score() -> None:
    result = assess(ready_facts(), AS_OF)
    assert result.blockers == ()
    assert result.verdict == Verdict.READY_FOR_STAGE_2
    assert result.score == 100
    assert len(result.controls) == 20  # the applicable ones only
    assert all(c.status == ControlState.EVIDENCED for c in result.controls)
    clause = {c.clause: c for c in result.clauses}
    assert clause["4.3"].status == ClauseState.MET
    assert "Scope version 1 is approved." in clause["4.3"].reason


def test_a_high_risk_system_out_of_scope_blocks_stage_1_and_names_its_owner() -> None:
    system = SystemFact(uuid.uuid4(), "Credit scoring", "carol", False, "high")
    facts = replace(ready_facts(), systems=(*ready_facts().systems, system))
    result = assess(facts, AS_OF)
    [blocker] = result.blockers
    assert blocker.code == "high_risk_system_out_of_scope"
    assert blocker.owner == "carol" and blocker.stage == Stage.STAGE1
    assert "scope-versions" in blocker.where_to_fix
    assert result.verdict == Verdict.NOT_READY
    assert {c.clause: c for c in result.clauses}["4.3"].status == ClauseState.PARTIALLY_MET


def test_an_old_audit_or_a_partial_one_or_a_review_before_it_block_stage_2() -> None:
    base = ready_facts()
    old = replace(
        base,
        audits=(AuditFact(uuid.uuid4(), "Old", AS_OF - timedelta(days=400), ALL_CLAUSES),),
        last_review_held_on=AS_OF - timedelta(days=390),
    )
    assert {b.code for b in assess(old, AS_OF).blockers} == {
        "no_internal_audit",
        "no_management_review_since_audit",
    }
    partial = replace(
        base,
        audits=(
            AuditFact(uuid.uuid4(), "Part", AS_OF - timedelta(days=10), frozenset({"4", "5"})),
        ),
    )
    result = assess(partial, AS_OF)
    codes = {b.code for b in result.blockers}
    assert "internal_audit_incomplete" in codes
    assert "no_management_review_since_audit" in codes  # held 30 days ago, audit 10 days ago
    [incomplete] = [b for b in result.blockers if b.code == "internal_audit_incomplete"]
    assert "6.1.1" in incomplete.subject_ids
    assert result.verdict == Verdict.READY_FOR_STAGE_1


def test_the_auditor_sees_major_ncs_overdue_actions_stale_evidence_and_overdue_reviews() -> None:
    facts = replace(
        ready_facts(),
        open_major_nonconformities=(NonconformityFact(uuid.uuid4(), "No IA", "dan"),),
        open_major_count=1,
        overdue_corrective_actions=(OwnedGroup("erin", 2, (uuid.uuid4(),), AS_OF),),
        stale_evidence=(OwnedGroup(None, 5),),
        overdue_risk_reviews=(OwnedGroup("fay", 1),),
        aims_lead="lead@example.com",
    )
    result = assess(facts, AS_OF)
    by_code = {b.code: b for b in result.blockers}
    assert by_code["open_major_nonconformity"].owner == "dan"
    assert by_code["corrective_action_overdue"].count == 2
    assert by_code["evidence_past_review"].owner == "lead@example.com"  # nobody else owns it
    assert by_code["risk_review_overdue"].owner == "fay"
    assert result.verdict == Verdict.READY_FOR_STAGE_1
    assert {c.clause: c for c in result.clauses}["10.2"].status == ClauseState.PARTIALLY_MET


# --- Properties -----------------------------------------------------------------------------

uuids = st.uuids()
owners = st.sampled_from([None, "ann", "bo"])
systems = st.builds(
    SystemFact,
    id=uuids,
    name=st.sampled_from(["A", "B", "C"]),
    owner=owners,
    in_scope=st.booleans(),
    tier=st.sampled_from([None, "minimal", "limited", "high", "prohibited"]),
    has_approved_impact_assessment=st.booleans(),
)
tallies = st.builds(
    Tally,
    approved=st.integers(0, 2),
    stale=st.integers(0, 2),
    draft=st.integers(0, 2),
    review_by=st.none() | st.dates(AS_OF - timedelta(days=10), AS_OF + timedelta(days=90)),
)
groups = st.lists(st.builds(OwnedGroup, owner=owners, count=st.integers(1, 30)), max_size=3)
facts_strategy = st.builds(
    ReadinessFacts,
    scope_number=st.none() | st.just(1),
    soa_number=st.none() | st.just(2),
    soa_excluded=st.frozensets(st.sampled_from(CONTROLS), max_size=38),
    systems=st.lists(systems, max_size=4).map(tuple),
    risks_total=st.integers(0, 3),
    documented=st.lists(
        st.builds(
            DocumentedFact,
            id=st.sampled_from(["DI-01", "DI-03", "DI-20"]),
            clause=st.sampled_from(["4.3", "5.2", "9.2.2"]),
            title=st.just("Item"),
            status=st.sampled_from(["approved", "stale", "draft", "missing"]),
        ),
        max_size=3,
    ).map(tuple),
    clause_evidence=st.dictionaries(st.sampled_from(sorted(ALL_CLAUSES)), tallies, max_size=6),
    control_evidence=st.dictionaries(st.sampled_from(CONTROLS), tallies, max_size=38),
    audits=st.lists(
        st.builds(
            AuditFact,
            id=uuids,
            title=st.just("Audit"),
            completed_on=st.dates(AS_OF - timedelta(days=500), AS_OF),
            clauses=st.frozensets(st.sampled_from(["4", "5", "6", "7", "8", "9", "10", "6.1"])),
        ),
        max_size=2,
    ).map(tuple),
    last_review_held_on=st.none() | st.dates(AS_OF - timedelta(days=500), AS_OF),
    open_major_nonconformities=st.lists(
        st.builds(NonconformityFact, id=uuids, title=st.just("NC"), owner=owners), max_size=2
    ).map(tuple),
    overdue_risk_reviews=groups.map(tuple),
    overdue_corrective_actions=groups.map(tuple),
    stale_evidence=groups.map(tuple),
)


def fix(facts: ReadinessFacts, code: str) -> ReadinessFacts:
    """What fixing every blocker of ``code`` means in the facts."""
    if code == "no_approved_scope":
        return replace(facts, scope_number=1)
    if code == "no_approved_soa":
        return replace(facts, soa_number=1, soa_excluded=frozenset())
    if code == "high_risk_system_out_of_scope":
        return replace(
            facts,
            systems=tuple(
                replace(s, in_scope=True, has_approved_impact_assessment=True) if s.high_risk else s
                for s in facts.systems
            ),
        )
    if code == "impact_assessment_missing":
        return replace(
            facts,
            systems=tuple(replace(s, has_approved_impact_assessment=True) for s in facts.systems),
        )
    if code == "mandatory_documented_information_missing":
        return replace(
            facts,
            documented=tuple(
                replace(d, status="approved") if d.status in ("missing", "draft") else d
                for d in facts.documented
            ),
        )
    if code in ("no_internal_audit", "internal_audit_incomplete"):
        audit = AuditFact(
            uuid.uuid4(),
            "Full",
            AS_OF - timedelta(days=1),
            TOP_LEVEL,
        )
        return replace(facts, audits=(*facts.audits, audit), last_review_held_on=AS_OF)
    if code == "no_management_review_since_audit":
        return replace(facts, last_review_held_on=AS_OF)
    if code == "open_major_nonconformity":
        return replace(facts, open_major_nonconformities=(), open_major_count=0)
    if code == "corrective_action_overdue":
        return replace(facts, overdue_corrective_actions=())
    if code == "risk_review_overdue":
        return replace(facts, overdue_risk_reviews=())
    if code == "evidence_past_review":
        return replace(facts, stale_evidence=())
    if code == "control_without_evidence":
        return replace(facts, control_evidence={c: APPROVED for c in CONTROLS})
    raise AssertionError(code)


@settings(max_examples=150, deadline=None)
@given(facts_strategy, st.data())
def test_fixing_a_blocker_never_lowers_the_verdict_or_the_score(
    facts: ReadinessFacts, data: st.DataObject
) -> None:
    before = assess(facts, AS_OF)
    if not before.blockers:
        return
    code = data.draw(st.sampled_from(sorted({b.code for b in before.blockers})))
    after = assess(fix(facts, code), AS_OF)
    assert code not in {b.code for b in after.blockers}
    assert VERDICT_RANK[after.verdict] >= VERDICT_RANK[before.verdict]
    assert after.score >= before.score


@settings(max_examples=150, deadline=None)
@given(facts_strategy)
def test_verdict_follows_the_blockers(facts: ReadinessFacts) -> None:
    result = assess(facts, AS_OF)
    stages = {b.stage for b in result.blockers}
    if not result.blockers:
        assert result.verdict == Verdict.READY_FOR_STAGE_2 and result.score == 100
    elif Stage.STAGE1 in stages:
        assert result.verdict == Verdict.NOT_READY
    else:
        assert result.verdict == Verdict.READY_FOR_STAGE_1  # Stage 2 implies Stage 1
    assert 0 <= result.score <= 100
    assert (result.score == 100) == (not result.blockers)
    # Stage 1 blockers come first.
    order = [b.stage for b in result.blockers]
    assert order == sorted(order, key=lambda s: s != Stage.STAGE1)
    failed = {c for r in result.rules if not r.passed for c in r.blocker_codes}
    assert failed == {b.code for b in result.blockers}


@given(facts_strategy, st.data())
def test_the_score_of_fewer_blockers_is_never_lower(
    facts: ReadinessFacts, data: st.DataObject
) -> None:
    blockers = assess(facts, AS_OF).blockers
    subset = data.draw(
        st.lists(st.sampled_from(blockers), unique_by=lambda b: b.key) if blockers else st.just([])
    )
    assert score(subset) >= score(blockers)


# --- Timeline -------------------------------------------------------------------------------


def test_a_distant_target_is_planned_backwards_with_the_chosen_durations() -> None:
    today = date(2027, 1, 4)
    result = plan(date(2028, 1, 10), TargetKind.STAGE2, PlanOptions(), today)
    assert result.reachable and not result.compressed
    m = {x.kind: x for x in result.milestones}
    assert m[MilestoneKind.STAGE2_AUDIT].start == date(2028, 1, 10)
    assert (m[MilestoneKind.STAGE2_AUDIT].end - m[MilestoneKind.STAGE2_AUDIT].start).days == 4
    assert m[MilestoneKind.STAGE1_AUDIT].end < m[MilestoneKind.STAGE2_AUDIT].start
    assert m[MilestoneKind.MANAGEMENT_REVIEW].end < m[MilestoneKind.STAGE1_AUDIT].start
    assert m[MilestoneKind.INTERNAL_AUDIT].end < m[MilestoneKind.MANAGEMENT_REVIEW].start
    assert m[MilestoneKind.REMEDIATION].end < m[MilestoneKind.INTERNAL_AUDIT].start
    assert m[MilestoneKind.READINESS_ASSESSMENT].end < m[MilestoneKind.REMEDIATION].start
    assert (
        m[MilestoneKind.READINESS_ASSESSMENT].end - m[MilestoneKind.READINESS_ASSESSMENT].start
    ).days == 41
    assert m[MilestoneKind.SURVEILLANCE_AUDIT_1].start == date(2029, 1, 10)
    assert m[MilestoneKind.SURVEILLANCE_AUDIT_2].start == date(2030, 1, 10)
    assert m[MilestoneKind.RECERTIFICATION_AUDIT].start < date(2031, 1, 10)


def test_a_near_target_is_compressed_then_unreachable() -> None:
    today = date(2027, 1, 4)
    # 4 weeks + 3 months + 10 days audit + gaps fits in ~5 months, not in the default ~7.
    tight = plan(date(2027, 6, 15), TargetKind.STAGE2, PlanOptions(), today)
    assert tight.reachable and tight.compressed
    too_soon = plan(date(2027, 3, 1), TargetKind.STAGE2, PlanOptions(), today)
    assert not too_soon.reachable
    assert "no longer reachable" in too_soon.reason
    assert too_soon.earliest_stage2_start > date(2027, 3, 1)
    # Done milestones take no more time.
    done = {
        MilestoneKind.READINESS_ASSESSMENT: today,
        MilestoneKind.REMEDIATION: today,
        MilestoneKind.INTERNAL_AUDIT: today,
        MilestoneKind.MANAGEMENT_REVIEW: today,
    }
    assert plan(date(2027, 3, 1), TargetKind.STAGE2, PlanOptions(), today, done).reachable


@given(st.dates(date(2026, 1, 1), date(2030, 1, 1)), st.integers(-400, 900))
def test_the_earliest_stage2_is_always_reachable_and_a_day_earlier_is_not(
    today: date, offset: int
) -> None:
    earliest = plan(today, TargetKind.STAGE2, PlanOptions(), today).earliest_stage2_start
    assert plan(earliest, TargetKind.STAGE2, PlanOptions(), today).reachable
    assert not plan(earliest - timedelta(days=1), TargetKind.STAGE2, PlanOptions(), today).reachable
    target = today + timedelta(days=offset)
    result = plan(target, TargetKind.STAGE2, PlanOptions(), today)
    assert result.reachable == (target >= earliest)
