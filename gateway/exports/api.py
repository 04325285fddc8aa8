"""REST routes of the exports (``/v1/exports``): the audit package, OSCAL, HTML reports.

Every export is a read of what the caller may read: any role of the organisation (``viewer``
and ``auditor`` included) may export, and the services decide, with the caller's forwarded
credentials, what each part holds. Another organisation's data never appears: every upstream
read runs under the caller's organisation and its row-level security.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from gateway.clients import UpstreamClients
from gateway.config import GatewaySettings
from gateway.exports import oscal, reports, service
from gateway.schema.context import HTTP_CLIENT_KEY
from shared.auth import READERS, Principal, require_roles
from shared.http import PrefilteredRouter, reject_unknown_query

Reader = Annotated[Principal, Depends(require_roles(READERS))]
TAGS: list[Any] = ["exports"]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 503: PROBLEM}
# Exports hold an organisation's whole record: never cached by anything between.
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# The HTML reports are documents, not applications: no script, no outside resource.
_HTML_HEADERS = {
    **_PRIVATE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}


router = PrefilteredRouter(prefix="/v1/exports", dependencies=[Depends(reject_unknown_query)])


def _clients(request: Request, principal: Principal) -> UpstreamClients:
    ctx = request.app.state.ctx
    settings = ctx.settings
    assert isinstance(settings, GatewaySettings)
    http: httpx.AsyncClient = ctx.extras[HTTP_CLIENT_KEY]
    return UpstreamClients.for_caller(http, settings, principal.authorization)


async def _gather(request: Request, principal: Principal) -> tuple[UpstreamClients, Any]:
    clients = _clients(request, principal)
    data = await service.gather(clients, org_id=principal.org_id, subject=principal.subject)
    return clients, data


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


@router.get(
    "/audit-package",
    tags=TAGS,
    summary="The audit package: one zip with a manifest of every file's SHA-256 (streamed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A zip holding the scope, SoA, risk register, impact assessments, "
            "readiness report (with the remediation plan and the certification plan), audit "
            "results, corrective actions, OSCAL documents and every evidence file, and "
            "`manifest.json` (written last) listing each file's path, size and SHA-256. Check "
            "it offline with `aims verify-package FILE`.",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        **ERRORS,
    },
)
async def audit_package(request: Request, principal: Reader) -> StreamingResponse:
    """Streamed as it is assembled (never built in memory): a part the evidence service does
    not offer yet, or an evidence file whose stored content fails its integrity check, is
    replaced by a `….unavailable.txt` file saying why, listed under `unavailable` in the
    manifest. An upstream failure after the first byte aborts the download (the zip is then
    visibly incomplete: it has no central directory)."""
    clients, data = await _gather(request, principal)
    stamp = data.generated_at.strftime("%Y%m%dT%H%M%S")
    return StreamingResponse(
        service.package_chunks(clients, data),
        media_type="application/zip",
        headers={
            **_PRIVATE,
            "Content-Disposition": _attachment(
                f"aims-audit-package-{principal.org_id}-{stamp}.zip"
            ),
        },
    )


def _oscal(document: dict[str, Any], filename: str) -> JSONResponse:
    return JSONResponse(
        document,
        media_type="application/json",
        headers={**_PRIVATE, "Content-Disposition": _attachment(filename)},
    )


OSCAL_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}},
    **ERRORS,
}


@router.get(
    "/oscal/ssp",
    tags=TAGS,
    summary="The SoA as an OSCAL 1.2 system security plan (control implementation statements)",
    responses=OSCAL_RESPONSE,
)
async def oscal_ssp(request: Request, principal: Reader) -> JSONResponse:
    """One implemented requirement per Annex A control with its statement: applicability,
    justification, implementation status, owner and links to the control's evidence. The
    newest approved SoA version, else the working entries (`soa-approved` property `no`)."""
    _, data = await _gather(request, principal)
    return _oscal(oscal.system_security_plan(data), "aims-ssp.json")


@router.get(
    "/oscal/assessment-results",
    tags=TAGS,
    summary="Internal audits and their findings as OSCAL 1.2 assessment results",
    responses=OSCAL_RESPONSE,
)
async def oscal_assessment_results(request: Request, principal: Reader) -> JSONResponse:
    _, data = await _gather(request, principal)
    return _oscal(oscal.assessment_results(data), "aims-assessment-results.json")


@router.get(
    "/oscal/poam",
    tags=TAGS,
    summary="Nonconformities and corrective actions as an OSCAL 1.2 plan of action and milestones",
    responses=OSCAL_RESPONSE,
)
async def oscal_poam(request: Request, principal: Reader) -> JSONResponse:
    _, data = await _gather(request, principal)
    return _oscal(oscal.poam(data), "aims-poam.json")


HTML_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}},
    **ERRORS,
}


@router.get(
    "/readiness-report.html",
    tags=TAGS,
    summary="The readiness report as a self-contained HTML document (print to PDF)",
    response_class=HTMLResponse,
    responses=HTML_RESPONSE,
)
async def readiness_report(request: Request, principal: Reader) -> HTMLResponse:
    _, data = await _gather(request, principal)
    return HTMLResponse(reports.readiness_html(data), headers=_HTML_HEADERS)


@router.get(
    "/soa.html",
    tags=TAGS,
    summary="The Statement of Applicability as a self-contained HTML document (print to PDF)",
    response_class=HTMLResponse,
    responses=HTML_RESPONSE,
)
async def soa_report(request: Request, principal: Reader) -> HTMLResponse:
    _, data = await _gather(request, principal)
    return HTMLResponse(reports.soa_html(data), headers=_HTML_HEADERS)
