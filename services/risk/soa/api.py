"""REST routes of the risk service's soa domain: the Annex A control catalogue with its
crosswalks, and the organisation's Statement of Applicability (ISO/IEC 42001 6.1.3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Header, Path, Query, Response, status

from services.risk.soa import service
from services.risk.soa.catalogue import (
    EU_AI_ACT_NOTE,
    NIST_NOTE,
    Catalogue,
    Control,
    catalogue,
    clause_covers,
    clause_sort_key,
    normalise_article,
    normalise_clause,
    normalise_control,
    normalise_subcategory,
)
from services.risk.soa.errors import ControlNotFound, CrosswalkKeyNotFound
from services.risk.soa.schemas import (
    AcceptProposals,
    AcceptProposalsResult,
    ClauseRef,
    ControlCrosswalk,
    ControlDetail,
    ControlList,
    ControlRead,
    ControlRef,
    CrosswalkEUResult,
    CrosswalkNistResult,
    Decision,
    EUAIActArticleRef,
    EUAIActCrosswalk,
    EUAIActMapping,
    EUAIActNoCounterpart,
    NistCrosswalk,
    NistPairRead,
    NistSubcategoryRef,
    ProposeRequest,
    ProposeResult,
    SoACheck,
    SoADiff,
    SoAEntryDecide,
    SoAEntryPage,
    SoAEntryRead,
    SoAVersionCreate,
    SoAVersionPage,
    SoAVersionRead,
    VersionStatus,
)
from shared.auth import APPROVERS, READERS, Principal, Role, require_roles
from shared.http import Paging, PrefilteredRouter, TenantSession, reject_unknown_query, set_etag
from shared.text import Name

# Every route: a misspelt query parameter answers 400 naming the allowed ones.
router = PrefilteredRouter(prefix="/v1", dependencies=[Depends(reject_unknown_query)])
# Who shapes the SoA: those accountable for risk treatment; approval is for managers and admins.
SOA_EDITORS = frozenset({Role.ADMIN, Role.MANAGER, Role.RISK_OWNER})
Reader = Annotated[Principal, Depends(require_roles(READERS))]
SoAEditor = Annotated[Principal, Depends(require_roles(SOA_EDITORS))]
Approver = Annotated[Principal, Depends(require_roles(APPROVERS))]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
IfMatch = Annotated[str | None, Header(description="ETag of the entry you read")]
ControlId = Annotated[str, Path(max_length=16, examples=["A.6.2.6"])]
VersionRef = Annotated[str, Path(max_length=64, description="Version id, or its number")]


def _control(control: Control) -> ControlRead:
    return ControlRead(
        id=control.id,
        title=control.title,
        summary=control.summary,
        domain_id=control.domain_id,
        domain=control.domain,
        objective_id=control.objective_id,
        objective=control.objective,
    )


def control_detail(control: Control) -> ControlDetail:
    cat = catalogue()
    return ControlDetail(
        **_control(control).model_dump(),
        crosswalk=ControlCrosswalk(
            nist_ai_rmf=[
                NistSubcategoryRef(id=s, title=cat.nist_subcategories[s])
                for s in control.nist_subcategories
            ],
            eu_ai_act=service.related_eu_ai_act(cat, control.id).articles,
            notes=[NIST_NOTE, EU_AI_ACT_NOTE],
        ),
    )


# --- Catalogue --------------------------------------------------------------------------------


@router.get(
    "/controls",
    response_model=ControlList,
    tags=["controls"],
    summary="The 38 ISO/IEC 42001 Annex A controls (our own short wording), with crosswalks",
)
async def list_controls(
    principal: Reader,
    domain: Annotated[str | None, Query(max_length=8, examples=["A.6"])] = None,
) -> ControlList:
    items = [
        control_detail(c) for c in catalogue().controls if domain is None or c.domain_id == domain
    ]
    return ControlList(items=items, count=len(items))


@router.get(
    "/controls/{control_id}",
    response_model=ControlDetail,
    tags=["controls"],
    summary="One Annex A control with its NIST AI RMF and EU AI Act crosswalk",
    responses={404: PROBLEM},
)
async def get_control(control_id: ControlId, principal: Reader) -> ControlDetail:
    control = catalogue().get(control_id)
    if control is None:
        raise ControlNotFound(f"There is no Annex A control {control_id!r}.")
    return control_detail(control)


@router.get(
    "/crosswalk/nist/{subcategory}",
    response_model=CrosswalkNistResult,
    tags=["controls"],
    summary="Annex A controls related to a NIST AI RMF subcategory",
    responses={404: PROBLEM},
)
async def crosswalk_nist(
    subcategory: Annotated[str, Path(max_length=32, examples=["GOVERN 1.6"])],
    principal: Reader,
) -> CrosswalkNistResult:
    cat = catalogue()
    key = normalise_subcategory(subcategory)
    if key not in cat.nist_subcategories:
        raise CrosswalkKeyNotFound(f"NIST AI RMF has no subcategory {subcategory!r}.")
    clauses = sorted(
        {p.clause_id for p in cat.nist_pairs if p.subcategory == key and p.clause_id},
        key=clause_sort_key,
    )
    return CrosswalkNistResult(
        subcategory=NistSubcategoryRef(id=key, title=cat.nist_subcategories[key]),
        controls=[_control(cat.by_id[c]) for c in cat.by_nist.get(key, ())],
        clauses=[ClauseRef(id=c, title=cat.clauses.get(c, "")) for c in clauses],
        note=NIST_NOTE,
    )


@router.get(
    "/crosswalk/eu-ai-act/{article}",
    response_model=CrosswalkEUResult,
    tags=["controls"],
    summary="Annex A controls related to an EU AI Act article (editorial crosswalk: guidance)",
    responses={404: PROBLEM},
)
async def crosswalk_eu(
    article: Annotated[str, Path(max_length=16, examples=["26"])], principal: Reader
) -> CrosswalkEUResult:
    """See `GET /v1/crosswalks/eu-ai-act` for clauses, roles and the reverse direction."""
    cat = catalogue()
    key = normalise_article(article)
    if key is None or key not in cat.eu_ai_act_articles:
        raise CrosswalkKeyNotFound(f"The EU AI Act reference data has no article {article!r}.")
    link = cat.eu_by_article.get(key)
    return CrosswalkEUResult(
        article=EUAIActArticleRef(
            article=key,
            title=cat.eu_ai_act_articles[key],
            citation=link.citation if link else f"Art. {key}",
            roles=list(link.roles) if link else [],
        ),
        controls=[_control(cat.by_id[c]) for c in cat.by_eu_article.get(key, ())],
        note=EU_AI_ACT_NOTE,
    )


# --- Crosswalks, queryable both ways ----------------------------------------------------------


KnownQuery = [Depends(reject_unknown_query)]
Lookup = Annotated[Name | None, Query(max_length=64)]


def _clause(cat: Catalogue, clause_id: str) -> ClauseRef:
    return ClauseRef(id=clause_id, title=cat.clauses.get(clause_id, ""))


def _control_ref(cat: Catalogue, control_id: str) -> ControlRef:
    return ControlRef(id=control_id, title=cat.by_id[control_id].title)


def _known_control(cat: Catalogue, value: str) -> str:
    key = normalise_control(value)
    if key is None or key not in cat.by_id:
        raise CrosswalkKeyNotFound(f"There is no Annex A control {value!r}.", parameter="control")
    return key


def _known_clause(cat: Catalogue, value: str) -> str:
    key = normalise_clause(value)
    if key is None or key not in cat.clauses:
        raise CrosswalkKeyNotFound(
            f"ISO/IEC 42001 has no clause {value!r} (clauses 4 to 10).", parameter="clause"
        )
    return key


@router.get(
    "/crosswalks/eu-ai-act",
    response_model=EUAIActCrosswalk,
    tags=["controls"],
    summary="EU AI Act ↔ ISO/IEC 42001 (editorial crosswalk: guidance, not legal advice)",
    responses={400: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    dependencies=KnownQuery,
)
async def crosswalk_eu_ai_act(
    principal: Reader,
    control: Annotated[Lookup, Query(description="Annex A control", examples=["A.6.2.8"])] = None,
    article: Annotated[Lookup, Query(description="Article", examples=["Art. 26", "26"])] = None,
    clause: Annotated[
        Lookup, Query(description="Clause (sub-clauses included)", examples=["6.1"])
    ] = None,
    role: Annotated[
        Lookup, Query(description="Operator the article binds", examples=["deployer"])
    ] = None,
) -> EUAIActCrosswalk:
    """Both ways: the articles related to a control (`?control=A.6.2.8`) or a clause
    (`?clause=6.1.4`), and the controls and clauses related to an article (`?article=Art. 9`).
    Filters combine (all must hold); none lists the whole crosswalk. An article with no
    management-system counterpart (Art. 5, 22, 49, …) answers no items and says why under
    `no_counterpart`. Every answer is labelled `guidance: true`: an editorial mapping written
    for this project, never evidence of conformity with the Act."""
    cat = catalogue()
    query: dict[str, str] = {}
    links = list(cat.eu_links)
    none = list(cat.eu_no_counterpart)
    if control is not None:
        key = query["control"] = _known_control(cat, control)
        links = [link for link in links if key in link.controls]
        none = []
    if clause is not None:
        key = query["clause"] = _known_clause(cat, clause)
        links = [link for link in links if any(clause_covers(key, c) for c in link.clauses)]
        none = []
    if article is not None:
        number = normalise_article(article)
        if number is None or number not in cat.eu_ai_act_articles:
            raise CrosswalkKeyNotFound(
                f"The EU AI Act reference data has no article {article!r}.", parameter="article"
            )
        query["article"] = number
        links = [link for link in links if link.article == number]
        found = cat.no_counterpart_of(number)
        none = [found] if found is not None and found in none else []
    if role is not None:
        query["role"] = role.lower()
        links = [link for link in links if query["role"] in link.roles]
    return EUAIActCrosswalk(
        notice=EU_AI_ACT_NOTE,
        status=cat.eu_status,
        query=query,
        items=[
            EUAIActMapping(
                article=link.article,
                citation=link.citation,
                title=link.title,
                roles=list(link.roles),
                clauses=[_clause(cat, c) for c in link.clauses],
                controls=[_control_ref(cat, c) for c in link.controls],
            )
            for link in links
        ],
        no_counterpart=[
            EUAIActNoCounterpart(citation=n.citation, articles=list(n.articles), why=n.why)
            for n in none
        ],
    )


@router.get(
    "/crosswalks/nist-ai-rmf",
    response_model=NistCrosswalk,
    tags=["controls"],
    summary="NIST AI RMF ↔ ISO/IEC 42001: every pair, clause-level ones included",
    responses={400: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    dependencies=KnownQuery,
)
async def crosswalk_nist_ai_rmf(
    principal: Reader,
    subcategory: Annotated[Lookup, Query(examples=["GOVERN 1.3"])] = None,
    control: Annotated[Lookup, Query(examples=["A.4.2"])] = None,
    clause: Annotated[
        Lookup, Query(description="Clause (sub-clauses included)", examples=["6.1.2"])
    ] = None,
) -> NistCrosswalk:
    """Both ways: the pairs of a subcategory (`?subcategory=GOVERN 1.3`), of an Annex A
    control (`?control=A.4.2`) or of a main clause (`?clause=6.1`); filters combine. Pairs that
    name a main clause (`iso_ref_type: clause`) reach no Annex A control and are kept as such."""
    cat = catalogue()
    query: dict[str, str] = {}
    pairs = list(cat.nist_pairs)
    if subcategory is not None:
        key = normalise_subcategory(subcategory)
        if key not in cat.nist_subcategories:
            raise CrosswalkKeyNotFound(
                f"NIST AI RMF has no subcategory {subcategory!r}.", parameter="subcategory"
            )
        query["subcategory"] = key
        pairs = [p for p in pairs if p.subcategory == key]
    if control is not None:
        key = query["control"] = _known_control(cat, control)
        pairs = [p for p in pairs if p.control_id == key]
    if clause is not None:
        key = query["clause"] = _known_clause(cat, clause)
        pairs = [p for p in pairs if p.clause_id and clause_covers(key, p.clause_id)]
    return NistCrosswalk(
        note=NIST_NOTE,
        query=query,
        items=[
            NistPairRead(
                subcategory=NistSubcategoryRef(
                    id=p.subcategory, title=cat.nist_subcategories[p.subcategory]
                ),
                iso_ref=p.iso_ref,
                iso_ref_type="clause" if p.clause_id else "annex_b_guidance",
                clause=_clause(cat, p.clause_id) if p.clause_id else None,
                control=_control_ref(cat, p.control_id) if p.control_id else None,
            )
            for p in pairs
        ],
    )


# --- Entries ----------------------------------------------------------------------------------


@router.get(
    "/soa/entries",
    response_model=SoAEntryPage,
    tags=["soa"],
    summary="The Statement of Applicability: one entry per Annex A control",
)
async def list_entries(
    principal: Reader,
    session: TenantSession,
    applicable: bool | None = None,
    decision: Annotated[list[Decision] | None, Query()] = None,
    domain: Annotated[str | None, Query(max_length=8, examples=["A.10"])] = None,
) -> SoAEntryPage:
    """Always the 38 controls (filtered), in control order; a control with nothing stored yet is
    `undecided` with `applicable: null`. `selected_by_risks` comes from the risk register."""
    items = [
        e
        for e in await service.current_entries(session)
        if (applicable is None or e.applicable is applicable)
        and (not decision or e.decision in decision)
        and (domain is None or e.domain_id == domain)
    ]
    return SoAEntryPage(items=items, next_cursor=None)


@router.get(
    "/soa/entries/{control_id}",
    response_model=SoAEntryRead,
    tags=["soa"],
    summary="One SoA entry",
    responses={404: PROBLEM},
)
async def get_entry(
    control_id: ControlId, principal: Reader, session: TenantSession, response: Response
) -> SoAEntryRead:
    entry = await service.get_entry(session, control_id)
    set_etag(response, entry.version)
    return entry


@router.patch(
    "/soa/entries/{control_id}",
    response_model=SoAEntryRead,
    tags=["soa"],
    summary="Decide a control: applicable or excluded with a justification (send If-Match)",
    responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM},
)
async def decide_entry(
    control_id: ControlId,
    body: SoAEntryDecide,
    principal: SoAEditor,
    session: TenantSession,
    response: Response,
    if_match: IfMatch = None,
) -> SoAEntryRead:
    """An undecided control has ETag `"0"`. Excluding a control needs a `justification` (422)
    and is refused (409 `control-relied-on`, naming the risks) while a risk treatment relies on
    it."""
    entry = await service.decide(session, principal, control_id, body, if_match)
    set_etag(response, entry.version)
    return entry


@router.post(
    "/soa/propose",
    response_model=ProposeResult,
    tags=["soa"],
    summary="Propose defaults from the organisation's AI roles (never overwrites decisions)",
)
async def propose_entries(
    principal: SoAEditor,
    session: TenantSession,
    body: Annotated[ProposeRequest | None, Body()] = None,
) -> ProposeResult:
    return await service.propose_defaults(session, principal, body.roles if body else None)


@router.post(
    "/soa/entries/accept-proposals",
    response_model=AcceptProposalsResult,
    tags=["soa"],
    summary="Accept proposed entries as they stand (each becomes your decision)",
    responses={422: PROBLEM},
)
async def accept_proposals(
    principal: SoAEditor,
    session: TenantSession,
    body: Annotated[AcceptProposals | None, Body()] = None,
) -> AcceptProposalsResult:
    """A version cannot be approved while an entry is only `proposed`: someone must decide each
    control. This records the caller as the decider of every proposed entry (or of those in
    `control_ids`) without changing it; decided and undecided controls are left alone."""
    return await service.accept_proposals(session, principal, body.control_ids if body else None)


@router.get(
    "/soa/check",
    response_model=SoACheck,
    tags=["soa"],
    summary="Inconsistencies (which refuse approval) and flags of the SoA",
)
async def check_soa(principal: Reader, session: TenantSession) -> SoACheck:
    return await service.check(session)


# --- Versions ---------------------------------------------------------------------------------


@router.post(
    "/soa/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=SoAVersionRead,
    tags=["soa"],
    summary="Snapshot the current entries as a draft version",
)
async def create_version(
    principal: SoAEditor,
    session: TenantSession,
    response: Response,
    body: Annotated[SoAVersionCreate | None, Body()] = None,
) -> SoAVersionRead:
    created = await service.create_version(session, principal, body.note if body else None)
    response.headers["Location"] = f"/v1/soa/versions/{created.id}"
    return created


@router.get(
    "/soa/versions",
    response_model=SoAVersionPage,
    tags=["soa"],
    summary="SoA versions, newest first",
)
async def list_versions(
    principal: Reader,
    session: TenantSession,
    paging: Paging,
    status_: Annotated[VersionStatus | None, Query(alias="status")] = None,
) -> SoAVersionPage:
    items, following = await service.list_versions(
        session,
        limit=paging.limit,
        after=paging.after,
        status=status_.value if status_ else None,
    )
    return SoAVersionPage(items=items, next_cursor=following)


@router.get(
    "/soa/versions/{version}",
    response_model=SoAVersionRead,
    tags=["soa"],
    summary="One SoA version with its entries",
    responses={404: PROBLEM},
)
async def get_version(version: VersionRef, principal: Reader, session: TenantSession) -> Any:
    return await service.get_version(session, version)


@router.post(
    "/soa/versions/{version}/approve",
    response_model=SoAVersionRead,
    tags=["soa"],
    summary="Approve a draft version (manager, admin); emits soa.changed",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def approve_version(
    version: VersionRef, principal: Approver, session: TenantSession
) -> SoAVersionRead:
    """The previous approved version becomes superseded. Refused (422 `soa-not-approvable`,
    every reason in `reasons`) when a control has no entry, an entry is still only proposed
    (`proposal_not_decided`: decide it, or accept proposals), an excluded control lacks a
    justification, or an excluded control is relied on by a risk treatment."""
    return await service.approve_version(session, principal, version)


@router.get(
    "/soa/versions/{a}/diff/{b}",
    response_model=SoADiff,
    tags=["soa"],
    summary="What changed between two versions (ids or numbers)",
    responses={404: PROBLEM},
)
async def diff_versions(
    a: VersionRef, b: VersionRef, principal: Reader, session: TenantSession
) -> SoADiff:
    return await service.diff(session, a, b)
