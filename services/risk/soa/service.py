"""Use cases of the Statement of Applicability. Services flush, never commit: the request owns
the transaction, so an approval, the superseding of the previous version and ``soa.changed``
commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.soa.catalogue import EU_AI_ACT_NOTE, Catalogue, catalogue
from services.risk.soa.errors import (
    ControlNotFound,
    ControlReliedOn,
    JustificationRequired,
    SoANotApprovable,
    SoAVersionNotDraft,
    SoAVersionNotFound,
)
from services.risk.soa.events import SOA_CHANGED
from services.risk.soa.models import SoAEntry, SoAVersion
from services.risk.soa.repository import (
    SoAEntryRepository,
    SoAInputRepository,
    SoAVersionRepository,
)
from services.risk.soa.rules import KNOWN_ROLES, LIVE_STAGES, Context, has_supplier, propose
from services.risk.soa.schemas import (
    AcceptProposalsResult,
    AIRole,
    Decision,
    EUAIActArticleRef,
    FieldChange,
    ImplementationStatus,
    ProposeResult,
    RelatedEUAIAct,
    SoACheck,
    SoADiff,
    SoAEntryDecide,
    SoAEntryDiff,
    SoAEntryRead,
    SoAIssue,
    SoAVersionRead,
    SoAVersionSummary,
    VersionStatus,
)
from shared.auth import Principal
from shared.db import utcnow, uuid7
from shared.errors import InvalidCursor, ValidationFailed
from shared.events import emit, make_event
from shared.http import check_version

DIFF_FIELDS = (
    "applicable",
    "justification",
    "implementation_status",
    "owner",
    "notes",
    "decision",
    "selected_by_risks",
)

# --- What the register says -------------------------------------------------------------------


async def relied_on(session: AsyncSession) -> dict[str, list[uuid.UUID]]:
    """Annex A control id → non-closed risks whose treatment uses it (the register's contract)."""
    from services.risk.register.queries import controls_relied_on  # the register is a peer domain

    return await controls_relied_on(session)


async def treated_risks_without_control(session: AsyncSession) -> list[uuid.UUID]:
    """Non-closed risks with a treatment chosen but no Annex A control named.

    The register's query module exposes no such question, so the SoA's repository reads the
    register's ``risk`` table itself (treatment set, ``control_ids`` empty, status not closed).
    """
    return await SoAInputRepository(session).treated_risks_without_control()


# --- Entries ----------------------------------------------------------------------------------


def related_eu_ai_act(cat: Catalogue, control_id: str) -> RelatedEUAIAct:
    """The control's EU AI Act articles from the editorial crosswalk, labelled as guidance."""
    return RelatedEUAIAct(
        notice=EU_AI_ACT_NOTE,
        articles=[
            EUAIActArticleRef(
                article=link.article,
                title=link.title,
                citation=link.citation,
                roles=list(link.roles),
            )
            for link in cat.eu_links_of_control(control_id)
        ],
    )


def _read(
    cat: Catalogue, control_id: str, row: SoAEntry | None, risks: Sequence[uuid.UUID]
) -> SoAEntryRead:
    control = cat.by_id[control_id]
    if row is None:
        return SoAEntryRead(
            control_id=control_id,
            control_title=control.title,
            domain_id=control.domain_id,
            applicable=None,
            decision=Decision.UNDECIDED,
            selected_by_risks=list(risks),
            related_eu_ai_act=related_eu_ai_act(cat, control_id),
        )
    return SoAEntryRead(
        control_id=control_id,
        control_title=control.title,
        domain_id=control.domain_id,
        applicable=row.applicable,
        justification=row.justification,
        implementation_status=ImplementationStatus(row.implementation_status),
        owner=row.owner,
        notes=row.notes,
        decision=Decision(row.decision),
        proposal_reason=row.proposal_reason,
        selected_by_risks=list(risks),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        version=row.version,
        updated_at=row.updated_at,
        related_eu_ai_act=related_eu_ai_act(cat, control_id),
    )


async def current_entries(session: AsyncSession) -> list[SoAEntryRead]:
    """All 38 lines of the SoA, in control order (``undecided`` where nothing is stored)."""
    cat = catalogue()
    rows = await SoAEntryRepository(session).by_control()
    risks = await relied_on(session)
    return [_read(cat, c.id, rows.get(c.id), risks.get(c.id, [])) for c in cat.controls]


async def get_entry(session: AsyncSession, control_id: str) -> SoAEntryRead:
    cat = catalogue()
    if control_id not in cat.by_id:
        raise ControlNotFound(f"There is no Annex A control {control_id!r}.")
    row = await SoAEntryRepository(session).get(control_id)
    risks = await relied_on(session)
    return _read(cat, control_id, row, risks.get(control_id, []))


def _refuse_relied_on(control_id: str, risk_ids: Sequence[uuid.UUID]) -> ControlReliedOn:
    listed = ", ".join(str(r) for r in risk_ids)
    return ControlReliedOn(
        f"{control_id} cannot be excluded: the treatment of {len(risk_ids)} risk(s) relies on it "
        f"({listed}). Change those treatments first.",
        control_id=control_id,
        risks=[str(r) for r in risk_ids],
    )


async def decide(
    session: AsyncSession,
    principal: Principal,
    control_id: str,
    body: SoAEntryDecide,
    if_match: str | None,
) -> SoAEntryRead:
    cat = catalogue()
    if control_id not in cat.by_id:
        raise ControlNotFound(f"There is no Annex A control {control_id!r}.")
    entries = SoAEntryRepository(session)
    row = await entries.get(control_id, for_update=True)
    check_version(if_match, row.version if row is not None else 0)
    given = body.model_fields_set

    applicable = body.applicable if body.applicable is not None else (row and row.applicable)
    if body.applicable is None and row is None:
        raise ValidationFailed(
            f"{control_id} has no entry yet: say whether it is `applicable`.",
            errors=[{"location": ["body", "applicable"], "message": "required", "type": "missing"}],
        )
    if "justification" in given:
        justification = body.justification
    elif row is not None and row.applicable == bool(applicable):
        justification = row.justification
    else:
        justification = None  # the old reason argued for the other answer

    justification = justification.strip() if justification and justification.strip() else None
    status = body.implementation_status
    if not applicable:
        if justification is None:
            raise JustificationRequired(
                f"Excluding {control_id} needs a justification (ISO/IEC 42001 6.1.3).",
                errors=[
                    {
                        "location": ["body", "justification"],
                        "message": "required when the control is not applicable",
                        "type": "missing",
                    }
                ],
            )
        if status not in (None, ImplementationStatus.NOT_APPLICABLE):
            raise ValidationFailed(
                "An excluded control's implementation status is `not_applicable`.",
                errors=[{"location": ["body", "implementation_status"], "message": "conflict"}],
            )
        risks = (await relied_on(session)).get(control_id, [])
        if risks:
            raise _refuse_relied_on(control_id, risks)
        status = ImplementationStatus.NOT_APPLICABLE
    else:
        if status == ImplementationStatus.NOT_APPLICABLE:
            raise ValidationFailed(
                "An applicable control cannot have the status `not_applicable`.",
                errors=[{"location": ["body", "implementation_status"], "message": "conflict"}],
            )
        if status is None:
            previous = row.implementation_status if row is not None else None
            status = ImplementationStatus(
                previous
                if previous and previous != ImplementationStatus.NOT_APPLICABLE
                else ImplementationStatus.NOT_STARTED
            )

    now = utcnow()
    if row is None:
        row = SoAEntry(
            id=uuid7(),
            org_id=principal.org_id,
            control_id=control_id,
            version=0,
            created_at=now,
            applicable=bool(applicable),
            updated_by=principal.subject,
        )
        entries.add(row)
    row.applicable = bool(applicable)
    row.justification = justification
    row.implementation_status = status.value
    if "owner" in given:
        row.owner = body.owner
    if "notes" in given:
        row.notes = body.notes
    row.decision = Decision.DECIDED.value
    row.decided_by = principal.subject
    row.decided_at = now
    row.updated_by = principal.subject
    row.updated_at = now
    row.version = (row.version or 0) + 1
    await session.flush()
    return await get_entry(session, control_id)


@dataclass(frozen=True)
class _Inputs:
    context: Context
    source: str
    organisation_roles: list[str]
    systems: list[uuid.UUID]


async def _context(session: AsyncSession, roles: list[AIRole] | None) -> _Inputs:
    """The organisation-level AI roles and its in-scope, live systems (roles, data, suppliers);
    roles given in the request replace the roles, not the facts about the systems."""
    inputs = SoAInputRepository(session)
    systems = await inputs.in_scope_live_systems(LIVE_STAGES)
    organisation = [r for r in await inputs.organisation_roles() or [] if r in KNOWN_ROLES]
    if roles is not None:
        held, source = {r.value for r in roles}, "request"
    else:
        held = set(organisation) | {str(r) for s in systems for r in s.ai_roles or []}
        source = "inventory"
    context = Context(
        roles=frozenset(held & KNOWN_ROLES),
        processes_data=any(bool(s.data_inputs) for s in systems),
        operates_systems=bool(systems),
        has_suppliers=any(has_supplier(s.vendor_id, s.provenance) for s in systems),
    )
    return _Inputs(context, source, sorted(organisation), [s.id for s in systems])


async def propose_defaults(
    session: AsyncSession, principal: Principal, roles: list[AIRole] | None
) -> ProposeResult:
    """Create or refresh proposed entries from the AI roles; decided entries are never touched."""
    cat = catalogue()
    inputs = await _context(session, roles)
    ctx = inputs.context
    risks = await relied_on(session)
    entries = SoAEntryRepository(session)
    rows = await entries.by_control(for_update=True)
    proposed: list[str] = []
    kept: list[str] = []
    now = utcnow()
    for proposal in propose(cat, ctx, risks):
        row = rows.get(proposal.control_id)
        if row is not None and row.decision == Decision.DECIDED.value:
            kept.append(proposal.control_id)
            continue
        if proposal.applicable:
            previous = row.implementation_status if row is not None else None
            status = (
                previous
                if previous and previous != ImplementationStatus.NOT_APPLICABLE
                else ImplementationStatus.NOT_STARTED.value
            )
        else:
            status = ImplementationStatus.NOT_APPLICABLE.value
        values = {
            "applicable": proposal.applicable,
            "justification": proposal.reason,
            "proposal_reason": proposal.reason,
            "implementation_status": status,
        }
        if row is None:
            row = SoAEntry(
                id=uuid7(),
                org_id=principal.org_id,
                control_id=proposal.control_id,
                version=1,
                created_at=now,
                updated_at=now,
                decision=Decision.PROPOSED.value,
                updated_by=principal.subject,
                **values,
            )
            entries.add(row)
            rows[proposal.control_id] = row
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.version += 1
            row.updated_at = now
            row.updated_by = principal.subject
        proposed.append(proposal.control_id)
    await session.flush()
    items = [_read(cat, c.id, rows.get(c.id), risks.get(c.id, [])) for c in cat.controls]
    return ProposeResult(
        roles=[AIRole(r) for r in sorted(ctx.roles)],
        roles_from=inputs.source,
        organisation_roles=[AIRole(r) for r in inputs.organisation_roles],
        systems_considered=inputs.systems,
        processes_data=ctx.processes_data,
        operates_systems=ctx.operates_systems,
        has_suppliers=ctx.has_suppliers,
        proposed=proposed,
        kept_decided=kept,
        items=items,
    )


async def accept_proposals(
    session: AsyncSession, principal: Principal, control_ids: Sequence[str] | None
) -> AcceptProposalsResult:
    """Turn proposed entries (all, or those named) into decisions by the caller, unchanged."""
    cat = catalogue()
    unknown = [c for c in control_ids or [] if c not in cat.by_id]
    if unknown:
        raise ValidationFailed(
            f"Not Annex A controls: {', '.join(unknown)}.",
            errors=[
                {
                    "location": ["body", "control_ids", str(i)],
                    "message": f"There is no Annex A control {c!r}.",
                    "type": "unknown_control",
                }
                for i, c in enumerate(control_ids or [])
                if c in unknown
            ],
        )
    entries = SoAEntryRepository(session)
    rows = await entries.by_control(for_update=True)
    wanted = list(dict.fromkeys(control_ids)) if control_ids is not None else None
    accepted: list[str] = []
    not_proposed: list[str] = []
    now = utcnow()
    for control in cat.controls:
        if wanted is not None and control.id not in wanted:
            continue
        row = rows.get(control.id)
        if row is None or row.decision != Decision.PROPOSED.value:
            if wanted is not None:
                not_proposed.append(control.id)
            continue
        row.decision = Decision.DECIDED.value
        row.decided_by, row.decided_at = principal.subject, now
        row.updated_by, row.updated_at = principal.subject, now
        row.version += 1
        accepted.append(control.id)
    await session.flush()
    risks = await relied_on(session)
    items = [_read(cat, c.id, rows.get(c.id), risks.get(c.id, [])) for c in cat.controls]
    return AcceptProposalsResult(accepted=accepted, not_proposed=not_proposed, items=items)


# --- Consistency ------------------------------------------------------------------------------


def _entry_problems(
    entries: Sequence[SoAEntryRead], risks: dict[str, list[uuid.UUID]]
) -> list[SoAIssue]:
    """What makes a set of entries unapprovable."""
    issues: list[SoAIssue] = []
    for entry in entries:
        if entry.applicable is None:
            issues.append(
                SoAIssue(
                    code="missing_entry",
                    control_id=entry.control_id,
                    message=f"{entry.control_id} is neither proposed nor decided.",
                )
            )
            continue
        if entry.applicable:
            continue
        if not (entry.justification or "").strip():
            issues.append(
                SoAIssue(
                    code="exclusion_without_justification",
                    control_id=entry.control_id,
                    message=f"{entry.control_id} is excluded without a justification.",
                )
            )
        if risks.get(entry.control_id):
            issues.append(
                SoAIssue(
                    code="excluded_but_relied_on",
                    control_id=entry.control_id,
                    risk_ids=risks[entry.control_id],
                    message=f"{entry.control_id} is excluded but the treatment of "
                    f"{len(risks[entry.control_id])} risk(s) relies on it.",
                )
            )
    return issues


def _still_proposed(entries: Sequence[SoAEntryRead]) -> list[SoAIssue]:
    """Entries nobody has decided: a proposal is the rule table's suggestion, not a decision
    the organisation can be held to (6.1.3 asks the organisation to determine and justify)."""
    return [
        SoAIssue(
            code="proposal_not_decided",
            control_id=entry.control_id,
            message=f"{entry.control_id} is only proposed; decide it or accept the proposal.",
        )
        for entry in entries
        if entry.decision == Decision.PROPOSED
    ]


async def check(session: AsyncSession) -> SoACheck:
    cat = catalogue()
    risks = await relied_on(session)
    entries = await current_entries(session)
    inconsistencies = [i for i in _entry_problems(entries, risks) if i.code != "missing_entry"]
    flags: list[SoAIssue] = []
    for risk_id in await treated_risks_without_control(session):
        flags.append(
            SoAIssue(
                code="treated_risk_without_control",
                risk_ids=[risk_id],
                message=f"Risk {risk_id} has a treatment but names no Annex A control.",
            )
        )
    for control_id, risk_ids in sorted(risks.items()):
        if control_id not in cat.by_id:
            flags.append(
                SoAIssue(
                    code="unknown_control_relied_on",
                    control_id=control_id,
                    risk_ids=risk_ids,
                    message=f"Risks name {control_id!r}, which is not an Annex A control.",
                )
            )
    for entry in entries:
        if entry.decision != Decision.DECIDED:
            flags.append(
                SoAIssue(
                    code="not_decided",
                    control_id=entry.control_id,
                    message=f"{entry.control_id} is {entry.decision.value}, not decided.",
                )
            )
    return SoACheck(consistent=not inconsistencies, inconsistencies=inconsistencies, flags=flags)


# --- Versions ---------------------------------------------------------------------------------


def _snapshot_entry(cat: Catalogue, stored: dict[str, Any]) -> SoAEntryRead:
    """A stored line of a version; the crosswalk is guidance from the packaged reference, not
    part of the decision, so it is never stored and always shown as the package has it."""
    entry = SoAEntryRead.model_validate(stored)
    if entry.control_id in cat.by_id:
        entry.related_eu_ai_act = related_eu_ai_act(cat, entry.control_id)
    return entry


def _version_read(row: SoAVersion) -> SoAVersionRead:
    cat = catalogue()
    return SoAVersionRead(
        id=row.id,
        org_id=row.org_id,
        number=row.number,
        status=VersionStatus(row.status),
        note=row.note,
        entries=[_snapshot_entry(cat, e) for e in row.entries],
        created_at=row.created_at,
        created_by=row.created_by,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        superseded_at=row.superseded_at,
    )


async def create_version(
    session: AsyncSession, principal: Principal, note: str | None
) -> SoAVersionRead:
    versions = SoAVersionRepository(session)
    await versions.lock_organisation(principal.org_id)
    entries = await current_entries(session)
    last = await versions.last_number()
    row = SoAVersion(
        id=uuid7(),
        org_id=principal.org_id,
        number=(last or 0) + 1,
        status=VersionStatus.DRAFT.value,
        entries=[e.model_dump(mode="json", exclude={"related_eu_ai_act"}) for e in entries],
        note=note,
        created_at=utcnow(),
        created_by=principal.subject,
    )
    versions.add(row)
    await session.flush()
    return _version_read(row)


async def _find_version(session: AsyncSession, ref: str, *, lock: bool = False) -> SoAVersion:
    """A version by id, or by number (``3``)."""
    versions = SoAVersionRepository(session)
    if ref.isdigit():
        row = await versions.by_number(int(ref), for_update=lock)
    else:
        try:
            version_id = uuid.UUID(ref)
        except ValueError as exc:
            raise SoAVersionNotFound(f"{ref!r} is neither a version id nor a number.") from exc
        row = await versions.by_id(version_id, for_update=lock)
    if row is None:
        raise SoAVersionNotFound(f"Your organisation has no SoA version {ref}.")
    return row


async def get_version(session: AsyncSession, ref: str) -> SoAVersionRead:
    return _version_read(await _find_version(session, ref))


async def list_versions(
    session: AsyncSession, *, limit: int, after: dict[str, Any] | None, status: str | None
) -> tuple[list[SoAVersionSummary], str | None]:
    from shared.http import encode_cursor

    before: int | None = None
    if after is not None:
        sent = after.get("before")
        if not isinstance(sent, int) or isinstance(sent, bool):
            raise InvalidCursor("The cursor is not one this API issued.")
        before = sent
    rows = await SoAVersionRepository(session).page(
        limit=limit + 1, before_number=before, status=status
    )
    items = [SoAVersionSummary.model_validate(r) for r in rows[:limit]]
    following = encode_cursor({"before": items[-1].number}) if len(rows) > limit else None
    return items, following


async def approve_version(session: AsyncSession, principal: Principal, ref: str) -> SoAVersionRead:
    versions = SoAVersionRepository(session)
    await versions.lock_organisation(principal.org_id)
    row = await _find_version(session, ref, lock=True)
    if row.status != VersionStatus.DRAFT.value:
        raise SoAVersionNotDraft(f"Version {row.number} is {row.status}; draft a new version.")
    entries = [SoAEntryRead.model_validate(e) for e in row.entries]
    reasons = _entry_problems(entries, await relied_on(session)) + _still_proposed(entries)
    if reasons:
        raise SoANotApprovable(
            f"Version {row.number} cannot be approved: {len(reasons)} reason(s); see `reasons`.",
            reasons=[r.model_dump(mode="json") for r in reasons],
        )
    now = utcnow()
    previous = await versions.approved(for_update=True)
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED.value
        previous.superseded_at = now
        await session.flush()  # before the new one is approved: one approved per org (index)
    row.status = VersionStatus.APPROVED.value
    row.approved_at = now
    row.approved_by = principal.subject
    await session.flush()
    state = _version_read(row)
    await emit(
        session,
        make_event(SOA_CHANGED, org_id=row.org_id, subject=row.id, version=row.number, data=state),
    )
    return state


async def diff(session: AsyncSession, a: str, b: str) -> SoADiff:
    first = await _find_version(session, a)
    second = await _find_version(session, b)
    before = {e["control_id"]: e for e in first.entries}
    after = {e["control_id"]: e for e in second.entries}
    changed: list[SoAEntryDiff] = []
    for control_id in [c for c in before if c in after]:
        old, new = before[control_id], after[control_id]
        fields = {
            name: FieldChange(before=old.get(name), after=new.get(name))
            for name in DIFF_FIELDS
            if old.get(name) != new.get(name)
        }
        if fields:
            changed.append(SoAEntryDiff(control_id=control_id, changes=fields))
    return SoADiff(
        from_version=first.number,
        to_version=second.number,
        changed=changed,
        added=[c for c in after if c not in before],
        removed=[c for c in before if c not in after],
    )
