"""REST routes of the risk service's soa domain: the Annex A control catalogue with its
crosswalks, and the organisation's Statement of Applicability (ISO/IEC 42001 6.1.3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status

from services.risk.soa import service
from services.risk.soa.catalogue import EU_AI_ACT_NOTE, NIST_NOTE, Control, catalogue
from services.risk.soa.errors import ControlNotFound, CrosswalkKeyNotFound
from services.risk.soa.schemas import (
    ControlCrosswalk,
    ControlDetail,
    ControlList,
    ControlRead,
    CrosswalkEUResult,
    CrosswalkNistResult,
    Decision,
    EUAIActArticleRef,
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
from shared.http import Paging, TenantSession, set_etag

router = APIRouter(prefix="/v1")
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
            eu_ai_act=[
                EUAIActArticleRef(article=a, title=cat.eu_ai_act_articles.get(a, ""))
                for a in control.eu_ai_act_articles
            ],
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
    key = " ".join(subcategory.replace("-", " ").split()).upper()
    if key not in cat.nist_subcategories:
        raise CrosswalkKeyNotFound(f"NIST AI RMF has no subcategory {subcategory!r}.")
    return CrosswalkNistResult(
        subcategory=NistSubcategoryRef(id=key, title=cat.nist_subcategories[key]),
        controls=[_control(cat.by_id[c]) for c in cat.by_nist.get(key, ())],
        note=NIST_NOTE,
    )


@router.get(
    "/crosswalk/eu-ai-act/{article}",
    response_model=CrosswalkEUResult,
    tags=["controls"],
    summary="Annex A controls related to an EU AI Act article (as the reference data states)",
    responses={404: PROBLEM},
)
async def crosswalk_eu(
    article: Annotated[str, Path(max_length=16, examples=["26"])], principal: Reader
) -> CrosswalkEUResult:
    cat = catalogue()
    key = article.strip().removeprefix("Art.").removeprefix("art").strip()
    if key not in cat.eu_ai_act_articles:
        raise CrosswalkKeyNotFound(f"The EU AI Act reference data has no article {article!r}.")
    return CrosswalkEUResult(
        article=EUAIActArticleRef(article=key, title=cat.eu_ai_act_articles[key]),
        controls=[_control(cat.by_id[c]) for c in cat.by_eu_article.get(key, ())],
        note=EU_AI_ACT_NOTE,
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
    every reason in `reasons`) when a control has no entry, an excluded control lacks a
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
