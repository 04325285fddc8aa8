"""Human-readable reports (HTML) a CEO can forward: the readiness report and the SoA.

Plain string templates: every value that came from a user or a service passes through
:func:`_e` (``html.escape`` with quotes), so an evidence title such as ``<script>`` is shown as
text, never run. The documents are self-contained (inline CSS, no script, no external
resource) and print well, so "Print → Save as PDF" gives the PDF version.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gateway.exports.service import ExportData

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       max-width: 1100px; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; font-size: 1.2rem;
       border-bottom: 2px solid #d9dee8; padding-bottom: .25rem; }
.meta { color: #5b6477; } table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem;
       border-bottom: 1px solid #e3e7ef; }
th { background: #f3f5f9; font-weight: 600; } .verdict { font-size: 1.3rem; font-weight: 700; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .85em;
       background: #eef0f5; } .bad { background: #fde2e1; } .good { background: #dff5e3; }
.warn { background: #fff1d6; } .note { background: #f7f8fb; padding: .6rem .8rem;
       border-left: 3px solid #9aa5bb; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
       tr { break-inside: avoid; } }
"""

_GOOD = {
    "met",
    "evidenced",
    "implemented",
    "ready_for_stage_2",
    "current",
    "yes",
    "passed",
    "done",
    "reachable",
}
_BAD = {
    "not_met",
    "missing",
    "not_ready",
    "critical",
    "high",
    "stale",
    "no",
    "failed",
    "overdue",
    "late",
    "not reachable",
}


def _e(value: object) -> str:
    """Escaped text of a value (``—`` for nothing)."""
    if value is None or value == "":
        return "—"
    return html.escape(str(value), quote=True)


def _badge(value: object) -> str:
    text = str(value) if value is not None else ""
    tone = "good" if text in _GOOD else "bad" if text in _BAD else "warn" if text else ""
    return f'<span class="badge {tone}">{_e(text.replace("_", " ") or None)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="note">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, data: ExportData, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="meta">Organisation {_e(data.org_id)} · generated '
        f"{_e(data.generated_at.strftime('%Y-%m-%d %H:%M UTC'))} for {_e(data.generated_by)}</p>"
        f"{body}</body></html>\n"
    )


def _scope_section(data: ExportData) -> str:
    scope = data.scope
    if scope is None:
        return '<h2>Scope</h2><p class="note">No approved AIMS scope (ISO/IEC 42001 4.3).</p>'
    rows = [
        (
            _e(data.system_name(s.system_id)),
            _badge("yes" if s.included else "no"),
            _e(s.justification),
        )
        for s in scope.systems
    ]
    return (
        f"<h2>Scope (version {_e(scope.number)}, approved {_e(_day(scope.approved_at))})</h2>"
        f"<p>{_e(scope.statement)}</p>"
        + _table(("AI system", "In scope", "Justification"), rows, "No AI system listed.")
    )


def _day(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


def _evidence_cell(data: ExportData, control_id: str) -> str:
    items = data.control_evidence.get(control_id, [])
    if not items:
        return "—"
    return "<br>".join(f"{_e(i.title)} {_badge(i.status)}" for i in items[:10])


def soa_html(data: ExportData) -> str:
    """The Statement of Applicability: each Annex A control, its decision and its evidence."""
    soa = data.soa
    if soa.version_number is not None:
        basis = (
            f"Approved version {_e(soa.version_number)} of "
            f"{_e(_day(soa.approved_at))} (approved by {_e(soa.approved_by)})."
        )
    else:
        basis = (
            "No SoA version is approved yet: this shows the working entries, which may "
            "still change."
        )
    applicable = sum(1 for e in soa.entries if e.applicable)
    excluded = sum(1 for e in soa.entries if e.applicable is False)
    rows = [
        (
            f"<strong>{_e(e.control_id)}</strong>",
            _e(e.control_title),
            _badge("yes" if e.applicable else "no" if e.applicable is False else "undecided"),
            _e(e.justification),
            _badge(e.implementation_status),
            _e(e.owner),
            _evidence_cell(data, e.control_id),
        )
        for e in soa.entries
    ]
    body = (
        f'<p class="note">{basis} {applicable} controls applicable, {excluded} excluded, '
        f"{len(soa.entries) - applicable - excluded} undecided.</p>"
        + _table(
            (
                "Control",
                "Title",
                "Applicable",
                "Justification",
                "Implementation",
                "Owner",
                "Evidence",
            ),
            rows,
            "The SoA has no entries yet.",
        )
    )
    return _page("Statement of Applicability — ISO/IEC 42001 Annex A", data, body)


def _evidence_summary(evidence: Any) -> str:
    if not isinstance(evidence, Mapping):
        return "—"
    parts = [f"{evidence.get(k)} {k}" for k in ("approved", "draft", "stale") if evidence.get(k)]
    freshness = evidence.get("freshness")
    if freshness and freshness != "none":
        parts.append(str(freshness).replace("_", " "))
    return _e(", ".join(parts) or "none")


def _remediation_section(plan: Mapping[str, Any] | None) -> str:
    if plan is None:
        return ""
    tasks = [t for t in plan.get("tasks") or [] if isinstance(t, Mapping)]
    rows = [
        (
            _e(t.get("priority")),
            _e(str(t.get("stage") or "").replace("stage", "Stage ")),
            _e(t.get("title")),
            _e(t.get("owner")),
            _e(t.get("due_date")) + (" " + _badge("late") if t.get("late") else ""),
            _e(t.get("where_to_fix")),
        )
        for t in tasks
    ]
    return "<h2>Remediation plan (what blocks Stage 1 first)</h2>" + _table(
        ("#", "Blocks", "Task", "Owner", "Due", "Where to fix it"), rows, "Nothing to do."
    )


def _timeline_section(plan: Mapping[str, Any] | None) -> str:
    if plan is None:
        return (
            '<h2>Certification timeline</h2><p class="note">No certification plan is set '
            "(<code>PUT /v1/certification-plan</code> with a target date).</p>"
        )
    reachable = plan.get("reachable")
    verdict = (
        _badge("reachable" if reachable else "not reachable") if isinstance(reachable, bool) else ""
    )
    milestones = [m for m in plan.get("milestones") or [] if isinstance(m, Mapping)]
    rows = [
        (
            _e(m.get("title")),
            _e(m.get("planned_start")),
            _e(m.get("planned_end")),
            _badge(m.get("status")),
            _e(m.get("done_on")),
        )
        for m in milestones
    ]
    return (
        f"<h2>Certification timeline (target {_e(plan.get('target'))} on "
        f"{_e(plan.get('target_date'))})</h2>"
        f'<p class="note">{verdict} {_e(plan.get("reason"))}</p>'
        + _table(("Milestone", "Planned start", "Planned end", "Status", "Done on"), rows, "None.")
    )


def readiness_html(data: ExportData) -> str:
    """Where the organisation stands: verdict, score, blockers, clauses and controls."""
    readiness = data.readiness
    if readiness is None:
        body = (
            '<p class="note">The readiness assessment is not available from the evidence '
            "service (it does not offer <code>GET /v1/readiness</code> yet).</p>"
            + _scope_section(data)
        )
        return _page("Certification readiness report — ISO/IEC 42001", data, body)
    verdict = readiness.get("verdict_label") or readiness.get("verdict")
    blockers = [b for b in readiness.get("blockers") or [] if isinstance(b, Mapping)]
    blocker_rows = [
        (
            _badge(b.get("severity")),
            _e(str(b.get("stage") or "").replace("stage", "Stage ")),
            _e(b.get("title")) + (f" ({_e(b.get('count'))})" if (b.get("count") or 1) > 1 else ""),
            _e(b.get("what_to_do")),
            _e(b.get("owner")),
            _e(b.get("where_to_fix")),
        )
        for b in blockers
    ]
    rules = [r for r in readiness.get("rules") or [] if isinstance(r, Mapping)]
    rule_rows = [
        (
            _badge("passed" if r.get("passed") else "failed"),
            _e(r.get("stage")),
            _e(r.get("description")),
        )
        for r in rules
    ]
    clauses = [c for c in readiness.get("clauses") or [] if isinstance(c, Mapping)]
    clause_rows = [
        (
            f"<strong>{_e(c.get('clause'))}</strong>",
            _e(c.get("title")),
            _badge(c.get("status")),
            _e(c.get("reason")),
            _evidence_summary(c.get("evidence")),
        )
        for c in clauses
    ]
    controls = [c for c in readiness.get("controls") or [] if isinstance(c, Mapping)]
    control_rows = [
        (
            f"<strong>{_e(c.get('control'))}</strong>",
            _e(c.get("title")),
            _badge(c.get("status")),
            _e(c.get("reason")),
            _evidence_summary(c.get("evidence")),
        )
        for c in controls
    ]
    body = (
        f'<p class="verdict">Verdict: {_badge(readiness.get("verdict"))} {_e(verdict)}</p>'
        f"<p>Score {_e(readiness.get('score'))} / 100, as of {_e(readiness.get('as_of'))}. "
        f"{_e(readiness.get('verdict_reason'))}</p>"
        "<h2>What stands in the way</h2>"
        + _table(
            ("Severity", "Blocks", "Blocker", "What to do", "Owner", "Where to fix it"),
            blocker_rows,
            "No blockers.",
        )
        + "<h2>Rules that decided the verdict</h2>"
        + _table(("Result", "Stage", "Rule"), rule_rows, "No rules reported.")
        + _remediation_section(data.remediation_plan)
        + _timeline_section(data.certification_plan)
        + _scope_section(data)
        + "<h2>Clauses 4–10</h2>"
        + _table(("Clause", "Title", "Status", "Why", "Evidence"), clause_rows, "None.")
        + "<h2>Annex A controls</h2>"
        + _table(("Control", "Title", "Status", "Why", "Evidence"), control_rows, "None.")
    )
    return _page("Certification readiness report — ISO/IEC 42001", data, body)
