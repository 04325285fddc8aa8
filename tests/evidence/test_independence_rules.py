"""The pure rules of internal audit and corrective action: auditor independence, programme
coverage, a nonconformity's status and what blocks its closure."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.evidence.audits.rules import (
    ConflictKind,
    ScopeOwnership,
    coverage,
    expand_clauses,
    identity,
    independence_conflicts,
)
from services.evidence.corrective.rules import (
    NonconformityFacts,
    close_blockers,
    derive_status,
    is_overdue,
)
from services.evidence.reference import load_reference

PEOPLE = ["ann@example.com", "bo@example.com", "cy@example.com", "Dee", "eve"]
people = st.sampled_from(PEOPLE)


def _recase(value: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flips[i % len(flips)] else c.lower() for i, c in enumerate(value))


owners_map = st.dictionaries(
    st.sampled_from(["s1", "s2", "s3", "A.5.2", "A.6.2.8", "9.2", "8.4"]),
    st.lists(people, max_size=3),
    max_size=5,
)


@given(
    team=st.lists(people, min_size=1, max_size=4),
    systems=owners_map,
    controls=owners_map,
    clauses=owners_map,
)
def test_an_auditor_is_refused_exactly_when_they_own_something_in_scope(
    team: list[str],
    systems: dict[str, list[str]],
    controls: dict[str, list[str]],
    clauses: dict[str, list[str]],
) -> None:
    ownership = ScopeOwnership(systems=systems, controls=controls, clauses=clauses)
    conflicts = independence_conflicts(team, ownership)
    expected = {
        (auditor, kind, target)
        for kind, owned in (
            (ConflictKind.SYSTEM_OWNER, systems),
            (ConflictKind.CONTROL_OWNER, controls),
            (ConflictKind.PROCESS_OWNER, clauses),
        )
        for target, owners in owned.items()
        for auditor in team
        if auditor in owners
    }
    assert {(c.auditor, c.kind, c.target_id) for c in conflicts} == expected
    # Each reason names one auditor of the team and one target of the scope, and says so.
    for conflict in conflicts:
        assert conflict.auditor in team
        owned = {ConflictKind.SYSTEM_OWNER: systems, ConflictKind.CONTROL_OWNER: controls}
        assert conflict.target_id in owned.get(conflict.kind, clauses)
        assert conflict.auditor in conflict.describe()
    assert conflicts == sorted(set(conflicts))  # sorted, no duplicates


@given(
    team=st.lists(people, min_size=1, max_size=4),
    clauses=owners_map,
    flips=st.lists(st.booleans(), min_size=1, max_size=8),
    pad=st.sampled_from(["", " ", "\t", "  "]),
)
def test_owners_are_compared_ignoring_case_and_surrounding_space(
    team: list[str], clauses: dict[str, list[str]], flips: list[bool], pad: str
) -> None:
    plain = independence_conflicts(team, ScopeOwnership(clauses=clauses))
    recased_team = [pad + _recase(a, flips) + pad for a in team]
    recased = independence_conflicts(recased_team, ScopeOwnership(clauses=clauses))
    assert {(identity(c.auditor), c.kind, c.target_id) for c in recased} == {
        (identity(c.auditor), c.kind, c.target_id) for c in plain
    }


@given(team=st.permutations(PEOPLE), clauses=owners_map, systems=owners_map)
def test_the_order_of_the_team_does_not_change_the_verdict(
    team: list[str], clauses: dict[str, list[str]], systems: dict[str, list[str]]
) -> None:
    ownership = ScopeOwnership(systems=systems, clauses=clauses)
    assert independence_conflicts(team, ownership) == independence_conflicts(
        list(reversed(team)), ownership
    )


def test_a_system_without_owner_and_a_team_of_outsiders_pass() -> None:
    ownership = ScopeOwnership(
        systems={"s1": []}, controls={"A.5.2": ["ann@example.com"]}, clauses={}
    )
    assert independence_conflicts(["auditor@example.com"], ownership) == []
    [conflict] = independence_conflicts(["ANN@example.com "], ownership)
    assert conflict.kind == ConflictKind.CONTROL_OWNER
    assert conflict.target_type == "control"
    assert conflict.describe() == "ANN@example.com owns evidence implementing control A.5.2."


# --- Coverage ---------------------------------------------------------------------------------

CLAUSES = load_reference("iso42001_clauses")["clauses"]
PARENTS = {str(c["id"]): c.get("parent") for c in CLAUSES}
ASSESSABLE = [str(c["id"]) for c in CLAUSES if c.get("assessable")]
CONTROLS = [str(c["id"]) for c in load_reference("iso42001_annex_a")["controls"]]


def test_a_parent_clause_covers_its_descendants() -> None:
    covered = expand_clauses(["9"], PARENTS)
    assert {"9", "9.1", "9.2", "9.3"} <= covered
    assert not any(c.startswith(("4", "10")) for c in covered)
    every = expand_clauses([c for c, p in PARENTS.items() if p is None], PARENTS)
    assert every == set(PARENTS)


@given(
    audited=st.lists(st.sampled_from(sorted(PARENTS)), max_size=20),
    controls=st.lists(st.sampled_from(CONTROLS), max_size=40),
    applicable=st.lists(st.sampled_from(CONTROLS), unique=True, max_size=38),
)
def test_coverage_partitions_the_assessable_clauses_and_applicable_controls(
    audited: list[str], controls: list[str], applicable: list[str]
) -> None:
    result = coverage(ASSESSABLE, applicable, audited, controls, PARENTS)
    assert sorted(result.clause_gaps + result.clauses_covered) == sorted(ASSESSABLE)
    assert not set(result.clause_gaps) & set(result.clauses_covered)
    assert sorted(result.control_gaps + result.controls_covered) == sorted(applicable)
    assert set(result.controls_covered) <= set(controls)
    for clause in result.clauses_covered:
        # covered because it, or one of its ancestors, was audited
        chain, node = set(), clause
        while node is not None:
            chain.add(node)
            node = PARENTS[node]
        assert chain & set(audited)
    assert result.complete == (not result.clause_gaps and not result.control_gaps)


# --- Nonconformity status and closure ---------------------------------------------------------

ACTION_STATUSES = ["planned", "implemented", "verified_effective", "verified_ineffective"]


@given(
    correction=st.booleans(),
    root_cause=st.booleans(),
    actions=st.lists(st.sampled_from(ACTION_STATUSES), max_size=5),
)
def test_a_nonconformity_may_close_only_when_everything_is_recorded_and_verified(
    correction: bool, root_cause: bool, actions: list[str]
) -> None:
    facts = NonconformityFacts(correction, root_cause, False, actions)
    blockers = close_blockers(facts)
    may_close = (
        correction
        and root_cause
        and bool(actions)
        and all(a == "verified_effective" for a in actions)
    )
    assert (blockers == []) == may_close
    assert blockers.count("action_not_verified_effective") == sum(
        a != "verified_effective" for a in actions
    )
    assert ("correction" in blockers) != correction
    assert ("root_cause" in blockers) != root_cause
    status = derive_status(facts)
    if not actions:
        assert status == ("correction_done" if correction else "open")
    elif any(a in ("planned", "verified_ineffective") for a in actions):
        assert status == "action_planned"
    else:
        assert status == "awaiting_verification"
    assert derive_status(NonconformityFacts(correction, root_cause, True, actions)) == "closed"


@given(
    status=st.sampled_from([*ACTION_STATUSES, "closed"]),
    due=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 1, 1)),
    offset=st.integers(min_value=-400, max_value=400),
)
def test_an_action_is_overdue_once_its_due_day_has_passed_while_open(
    status: str, due: date, offset: int
) -> None:
    today = due + timedelta(days=offset)
    assert is_overdue(status, due, today) == (
        offset > 0 and status in ("planned", "implemented", "verified_ineffective")
    )
