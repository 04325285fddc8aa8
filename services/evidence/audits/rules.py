"""Pure decisions of internal audit: auditor independence (9.2.2 c) and programme coverage.

No database and no clock here; everything is tested with Hypothesis.

**Independence.** ISO/IEC 42001 9.2.2 c) asks that auditors be selected so that the audit is
objective and impartial. An auditor (the lead or a team member) is refused for an audit when they:

- own an AI system in the audit's scope (the inventory's ``owner``, via the ``system``
  projection);
- own a control in scope: the risk service's SoA does not carry an owner per control and the
  evidence service's SoA projection keeps none, so the owner of a control is taken to be whoever
  owns evidence that implements it: an evidence item linked to the control (as ``control`` or
  ``soa_entry``), or to a documented-information item the catalogue places under that control;
- own a process in scope: likewise, whoever owns an evidence item linked to a clause in scope, or
  to a documented-information item the catalogue places under that clause. The owner of a
  process's documented information is the person who runs it.

Owners are compared on their trimmed, case-folded text (e-mail addresses or subjects), so
``Ann@Example.com`` and ``ann@example.com`` are one person. Holding an AIMS role (5.3) whose
responsibilities cover the scope is not checked: roles' responsibilities are free text.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


class ConflictKind(enum.StrEnum):
    SYSTEM_OWNER = "system_owner"
    CONTROL_OWNER = "control_owner"
    PROCESS_OWNER = "process_owner"


_TARGET_TYPE = {
    ConflictKind.SYSTEM_OWNER: "system",
    ConflictKind.CONTROL_OWNER: "control",
    ConflictKind.PROCESS_OWNER: "clause",
}
_WHAT = {
    ConflictKind.SYSTEM_OWNER: "owns AI system",
    ConflictKind.CONTROL_OWNER: "owns evidence implementing control",
    ConflictKind.PROCESS_OWNER: "owns evidence of the process of clause",
}


def identity(value: str) -> str:
    """The comparison key of an owner or auditor: NFKC, without invisible format characters
    (zero-width spaces and joiners, direction marks: a name pasted with one is the same
    person), each run of white space as one space, trimmed, case-folded."""
    text = unicodedata.normalize("NFKC", value)
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split()).casefold()


@dataclass(frozen=True)
class ScopeOwnership:
    """Who owns what in an audit's scope. Keys are the scope's targets (system ids as text,
    control ids, clause ids); values are the owners found (any case; empty when none)."""

    systems: Mapping[str, Iterable[str]] = field(default_factory=dict)
    controls: Mapping[str, Iterable[str]] = field(default_factory=dict)
    clauses: Mapping[str, Iterable[str]] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class IndependenceConflict:
    auditor: str
    kind: ConflictKind
    target_id: str

    @property
    def target_type(self) -> str:
        return _TARGET_TYPE[self.kind]

    def describe(self, target_label: str | None = None) -> str:
        return f"{self.auditor} {_WHAT[self.kind]} {target_label or self.target_id}."


def independence_conflicts(
    auditors: Sequence[str], ownership: ScopeOwnership
) -> list[IndependenceConflict]:
    """Every (auditor, owned target) pair that makes the audit team not independent, sorted; an
    empty list means the team may audit this scope. Each auditor is reported once per target, as
    they were written (duplicates in ``auditors`` collapse)."""
    team: dict[str, str] = {}
    for auditor in auditors:
        team.setdefault(identity(auditor), auditor.strip())
    found: set[IndependenceConflict] = set()
    for kind, owned in (
        (ConflictKind.SYSTEM_OWNER, ownership.systems),
        (ConflictKind.CONTROL_OWNER, ownership.controls),
        (ConflictKind.PROCESS_OWNER, ownership.clauses),
    ):
        for target, owners in owned.items():
            for owner in owners:
                key = identity(owner)
                if key and key in team:
                    found.add(IndependenceConflict(team[key], kind, target))
    return sorted(found)


# --- Coverage ---------------------------------------------------------------------------------


def expand_clauses(listed: Iterable[str], parents: Mapping[str, str | None]) -> set[str]:
    """The clauses ``listed`` cover: each listed clause and all its descendants (auditing clause
    ``9`` audits ``9.1``, ``9.2``, ``9.2.1`` …). ``parents`` maps each clause to its parent."""
    covered = set(listed)
    changed = True
    while changed:
        changed = False
        for clause, parent in parents.items():
            if parent is not None and parent in covered and clause not in covered:
                covered.add(clause)
                changed = True
    return covered


@dataclass(frozen=True)
class Coverage:
    clause_gaps: list[str]
    control_gaps: list[str]
    clauses_covered: list[str]
    controls_covered: list[str]

    @property
    def complete(self) -> bool:
        return not self.clause_gaps and not self.control_gaps


def coverage(
    assessable_clauses: Sequence[str],
    applicable_controls: Sequence[str],
    audited_clauses: Iterable[str],
    audited_controls: Iterable[str],
    parents: Mapping[str, str | None],
) -> Coverage:
    """Which assessable clauses and applicable controls the audits cover, and which they miss
    (each list in the order given)."""
    clauses = expand_clauses(audited_clauses, parents)
    controls = set(audited_controls)
    return Coverage(
        clause_gaps=[c for c in assessable_clauses if c not in clauses],
        control_gaps=[c for c in applicable_controls if c not in controls],
        clauses_covered=[c for c in assessable_clauses if c in clauses],
        controls_covered=[c for c in applicable_controls if c in controls],
    )
