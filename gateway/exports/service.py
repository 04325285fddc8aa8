"""Assembling exports from what the caller may read, over each service's REST API.

Every read goes through the caller's own clients (their credentials forwarded), so an export
holds exactly what that caller could have read one call at a time: the services apply their
roles and row-level security as for any other read, and no service reads another's tables.

:func:`gather` fetches the small documents (scope, SoA, readiness, audits, corrective action)
before anything is sent, so that a refusal or an unreachable service still answers with a
proper status. :func:`package_chunks` then streams the archive: the risk register and impact
assessments page by page, every evidence file straight from the evidence service's download
into the zip, and ``manifest.json`` last.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from gateway.clients import UpstreamClients
from gateway.clients.assurance import Unavailable
from gateway.clients.evidence_items import UpstreamEvidence, UpstreamEvidenceVersion
from gateway.clients.schemas import InventorySystem, UpstreamPage
from gateway.clients.scope import UpstreamScopeVersion
from gateway.clients.soa import SoAControl, SoAEntry
from gateway.exports.package import WrittenEntry, ZipStream
from shared.errors import DomainError, NotFound

PACKAGE_FORMAT = "aims-audit-package"
PACKAGE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Upstream page size (the services' maximum) and version fetches in flight at once.
PAGE_SIZE = 500
EVIDENCE_PAGE_SIZE = 200
CONCURRENT_VERSION_READS = 8
# Bytes of ``manifest.json`` handed to the zip at a time.
MANIFEST_BLOCK = 1 << 16
# Evidence titles shown per control in the SoA report.
EVIDENCE_PER_CONTROL = 20

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class SoASnapshot:
    """The SoA the exports show: the newest approved version, else the working entries."""

    entries: list[SoAEntry]
    version_number: int | None = None
    version_id: uuid.UUID | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None


@dataclass
class ExportData:
    """The documents of one export, read with one caller's credentials."""

    org_id: uuid.UUID
    generated_by: str
    generated_at: datetime
    scope: UpstreamScopeVersion | None
    soa: SoASnapshot
    controls: dict[str, SoAControl]
    control_evidence: dict[str, list[UpstreamEvidence]]
    systems: dict[uuid.UUID, InventorySystem]
    # ``None``: the evidence service does not offer it (yet).
    readiness: dict[str, Any] | None
    audits: list[dict[str, Any]] | None
    findings: list[dict[str, Any]] | None
    nonconformities: list[dict[str, Any]] | None
    corrective_actions: list[dict[str, Any]] | None
    unavailable: list[str] = field(default_factory=list)
    # The blockers as prioritised tasks (``None``: not offered), and the certification plan
    # with its milestones (``None`` also when no plan is set).
    remediation_plan: dict[str, Any] | None = None
    certification_plan: dict[str, Any] | None = None

    def system_name(self, system_id: uuid.UUID) -> str:
        system = self.systems.get(system_id)
        return system.name if system is not None else str(system_id)


async def _optional(
    name: str, call: Callable[[], Awaitable[Any]], unavailable: list[str]
) -> Any | None:
    try:
        return await call()
    except Unavailable:
        unavailable.append(name)
        return None


async def _soa(clients: UpstreamClients) -> SoASnapshot:
    approved = await clients.soa.versions(limit=1, after=None, status="approved")
    if approved.items:
        version = await clients.soa.version(str(approved.items[0].id))
        return SoASnapshot(
            entries=list(version.entries or []),
            version_number=version.number,
            version_id=version.id,
            approved_at=version.approved_at,
            approved_by=version.approved_by,
        )
    return SoASnapshot(entries=await clients.soa.entries())


async def _systems(
    clients: UpstreamClients, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, InventorySystem]:
    found: dict[uuid.UUID, InventorySystem] = {}
    for start in range(0, len(ids), PAGE_SIZE):
        for system in await clients.inventory.systems_by_ids(ids[start : start + PAGE_SIZE]):
            found[system.id] = system
    return found


async def _control_evidence(
    clients: UpstreamClients, control_ids: Sequence[str]
) -> dict[str, list[UpstreamEvidence]]:
    found: dict[str, list[UpstreamEvidence]] = {}
    for start in range(0, len(control_ids), PAGE_SIZE):
        for target in await clients.evidence_items.evidence_by_target(
            "control", control_ids[start : start + PAGE_SIZE], first=EVIDENCE_PER_CONTROL
        ):
            found[target.target_id] = target.items
    return found


async def gather(clients: UpstreamClients, *, org_id: uuid.UUID, subject: str) -> ExportData:
    """The small documents of every export (raises before anything is sent)."""
    unavailable: list[str] = []
    scope = await clients.scope.current()
    soa = await _soa(clients)
    controls = {c.id: c for c in await clients.soa.controls()}
    system_ids = [s.system_id for s in scope.systems] if scope else []
    assurance = clients.assurance
    return ExportData(
        org_id=org_id,
        generated_by=subject,
        generated_at=datetime.now().astimezone().replace(microsecond=0),
        scope=scope,
        soa=soa,
        controls=controls,
        control_evidence=await _control_evidence(clients, [e.control_id for e in soa.entries]),
        systems=await _systems(clients, system_ids),
        readiness=await _optional("readiness", assurance.readiness, unavailable),
        audits=await _optional("audits", lambda: assurance.list_all("/v1/audits"), unavailable),
        findings=await _optional(
            "findings", lambda: assurance.list_all("/v1/findings"), unavailable
        ),
        nonconformities=await _optional(
            "nonconformities", lambda: assurance.list_all("/v1/nonconformities"), unavailable
        ),
        corrective_actions=await _optional(
            "corrective_actions",
            lambda: assurance.list_all("/v1/corrective-actions"),
            unavailable,
        ),
        unavailable=unavailable,
        remediation_plan=await _optional(
            "remediation_plan", assurance.remediation_plan, unavailable
        ),
        certification_plan=await assurance.certification_plan(),
    )


# --- The audit package ------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode() + b"\n"


def _dump(model: BaseModel | None) -> Any:
    return model.model_dump(mode="json") if model is not None else None


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def archive_filename(filename: str) -> str:
    """A file name safe in any unzip tool: ASCII letters, digits, ``._-``; at most 100."""
    safe = _UNSAFE.sub("_", filename).strip("._") or "file"
    return safe[-100:]


async def _pages(
    fetch: Callable[[str | None], Awaitable[UpstreamPage[T]]],
) -> AsyncIterator[list[T]]:
    after: str | None = None
    while True:
        page = await fetch(after)
        yield page.items
        after = page.next_cursor
        if not after:
            return


async def _json_items(pages: AsyncIterator[list[T]], counts: dict[str, int], key: str) -> Any:
    """``{"items": [...]}`` written page by page: the whole list is never in memory."""
    yield b'{\n  "items": ['
    first = True
    async for items in pages:
        for item in items:
            yield (b"\n    " if first else b",\n    ") + item.model_dump_json().encode()
            first = False
            counts[key] = counts.get(key, 0) + 1
    yield b"\n  ]\n}\n"


@dataclass
class _EvidenceFile:
    item: UpstreamEvidence
    version: UpstreamEvidenceVersion


def _placeholder(what: str, reason: str) -> bytes:
    return (
        f"{what} was not available when this package was generated.\n\nReason: {reason}\n"
    ).encode()


def _document_entries(data: ExportData) -> list[tuple[str, Any, str]]:
    """``(path, document or None, what)`` of the small documents."""
    from gateway.exports import oscal, reports

    soa = {
        "version_number": data.soa.version_number,
        "version_id": data.soa.version_id,
        "approved": data.soa.version_number is not None,
        "approved_at": data.soa.approved_at,
        "approved_by": data.soa.approved_by,
        "entries": [e.model_dump(mode="json") for e in data.soa.entries],
    }
    return [
        ("scope.json", {"approved_scope": _dump(data.scope)}, "The approved AIMS scope"),
        ("soa.json", soa, "The Statement of Applicability"),
        ("soa.html", reports.soa_html(data), "The SoA report"),
        ("readiness/readiness.json", data.readiness, "The readiness assessment"),
        ("readiness/readiness-report.html", reports.readiness_html(data), "The readiness report"),
        ("readiness/remediation-plan.json", data.remediation_plan, "The remediation plan"),
        (
            "readiness/certification-plan.json",
            {"certification_plan": data.certification_plan},
            "The certification plan",
        ),
        ("audits/audits.json", _items(data.audits), "Internal audits"),
        ("audits/findings.json", _items(data.findings), "Audit findings"),
        (
            "corrective/nonconformities.json",
            _items(data.nonconformities),
            "Nonconformities",
        ),
        (
            "corrective/corrective-actions.json",
            _items(data.corrective_actions),
            "Corrective actions",
        ),
        ("oscal/system-security-plan.json", oscal.system_security_plan(data), "OSCAL SSP"),
        ("oscal/assessment-results.json", oscal.assessment_results(data), "OSCAL SAR"),
        ("oscal/plan-of-action-and-milestones.json", oscal.poam(data), "OSCAL POA&M"),
    ]


def _items(items: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    return {"items": items} if items is not None else None


async def package_chunks(clients: UpstreamClients, data: ExportData) -> AsyncIterator[bytes]:
    """The audit package, streamed: documents, risk register, impact assessments, evidence
    files, then ``manifest.json`` (every path, size and SHA-256) and the central directory."""
    zs = ZipStream(modified_at=data.generated_at)
    details: dict[str, dict[str, Any]] = {}
    unavailable: list[dict[str, str]] = []
    counts: dict[str, int] = {}

    async def placeholder(path: str, what: str, reason: str) -> AsyncIterator[bytes]:
        name = path.rsplit(".", 1)[0] + ".unavailable.txt"
        unavailable.append({"path": name, "what": what, "reason": reason})
        details[name] = {"kind": "placeholder"}
        async for chunk in zs.bytes_entry(name, _placeholder(what, reason)):
            yield chunk

    for path, document, what in _document_entries(data):
        if document is None:
            async for chunk in placeholder(
                path, what, "the evidence service does not offer it yet (HTTP 404)"
            ):
                yield chunk
            continue
        content = document.encode() if isinstance(document, str) else _json(document)
        details[path] = {"kind": "document"}
        async for chunk in zs.bytes_entry(path, content):
            yield chunk

    risks = _pages(lambda after: clients.risks.list_risks(limit=PAGE_SIZE, after=after))
    details["risk-register.json"] = {"kind": "document"}
    async for chunk in zs.entry("risk-register.json", _json_items(risks, counts, "risks")):
        yield chunk
    assessments = _pages(
        lambda after: clients.impact.list_assessments(limit=PAGE_SIZE, after=after)
    )
    details["impact-assessments.json"] = {"kind": "document"}
    async for chunk in zs.entry(
        "impact-assessments.json", _json_items(assessments, counts, "impact_assessments")
    ):
        yield chunk

    index: list[dict[str, Any]] = []
    async for chunk in _evidence_entries(clients, zs, details, unavailable, index):
        yield chunk
    details["evidence/index.json"] = {"kind": "document"}
    async for chunk in zs.bytes_entry("evidence/index.json", _json({"items": index})):
        yield chunk

    counts["evidence_items"] = len(index)
    counts["evidence_files"] = sum(1 for d in details.values() if d.get("kind") == "evidence")
    manifest = {
        "format": PACKAGE_FORMAT,
        "format_version": PACKAGE_FORMAT_VERSION,
        "org_id": str(data.org_id),
        "generated_at": data.generated_at.isoformat(),
        "generated_by": data.generated_by,
        "hash_algorithm": "sha256",
        "soa_version": data.soa.version_number,
        "scope_version": data.scope.number if data.scope else None,
        "counts": counts,
        "unavailable": unavailable,
    }
    async for chunk in zs.entry(MANIFEST, _manifest_chunks(manifest, list(zs.written), details)):
        yield chunk
    yield zs.finish()


async def _manifest_chunks(
    header: dict[str, Any], entries: Sequence[WrittenEntry], details: dict[str, dict[str, Any]]
) -> AsyncIterator[bytes]:
    """``manifest.json``: the header, then ``files`` written entry by entry (one line each, in
    blocks of about 64 KiB), so that the list of a package's files is never held whole, as
    objects or as text; each file's details are released once written."""
    head = json.dumps(header, indent=2, ensure_ascii=False, default=str)
    block = bytearray(head.removesuffix("\n}").encode() + b',\n  "files": [')
    for i, e in enumerate(entries):
        entry = {"path": e.path, "size_bytes": e.size_bytes, "sha256": e.sha256}
        entry.update(details.pop(e.path))
        block += b"\n    " if i == 0 else b",\n    "
        block += json.dumps(entry, ensure_ascii=False, default=str).encode()
        if len(block) >= MANIFEST_BLOCK:
            yield bytes(block)
            block.clear()
    block += b"\n  ]\n}\n"
    yield bytes(block)


async def _item_versions(
    clients: UpstreamClients, items: list[UpstreamEvidence]
) -> list[_EvidenceFile | None]:
    """Each item's version in force (approved), else its newest, read a few at a time."""
    gate = asyncio.Semaphore(CONCURRENT_VERSION_READS)

    async def one(item: UpstreamEvidence) -> _EvidenceFile | None:
        number = item.current_version or item.latest_version
        async with gate:
            try:
                version = await clients.evidence_items.version(item.id, number)
            except NotFound:  # deleted since the page was read
                return None
        return _EvidenceFile(item, version)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def _evidence_entries(
    clients: UpstreamClients,
    zs: ZipStream,
    details: dict[str, dict[str, Any]],
    unavailable: list[dict[str, str]],
    index: list[dict[str, Any]],
) -> AsyncIterator[bytes]:
    pages = _pages(
        lambda after: clients.evidence_items.list_evidence(limit=EVIDENCE_PAGE_SIZE, after=after)
    )
    async for items in pages:
        for found in await _item_versions(clients, items):
            if found is None:
                continue
            item, version = found.item, found.version
            paths: list[str] = []
            for file in version.files:
                path = (
                    f"evidence/{item.id}/v{version.number}/"
                    f"{file.id}-{archive_filename(file.filename)}"
                )
                try:
                    async with clients.evidence_items.file_content(file.id) as response:
                        details[path] = {
                            "kind": "evidence",
                            "evidence_id": str(item.id),
                            "evidence_title": item.title,
                            "version": version.number,
                            "version_status": version.status,
                            "file_id": str(file.id),
                            "filename": file.filename,
                            "content_type": file.content_type,
                            "source_sha256": file.sha256,
                        }
                        async for chunk in zs.entry(
                            path, response.aiter_bytes(), size_hint=file.size_bytes
                        ):
                            yield chunk
                    paths.append(path)
                except DomainError as error:
                    # Refused before the first byte (blob corrupt or missing: 409; deleted).
                    details.pop(path, None)
                    reason = f"{error.code}: {error.detail or error.title}"
                    async for chunk in _unavailable_file(
                        zs,
                        path,
                        f"Evidence file {file.filename!r} ({file.id})",
                        reason,
                        details,
                        unavailable,
                    ):
                        yield chunk
            index.append(
                {
                    "id": str(item.id),
                    "title": item.title,
                    "kind": item.kind,
                    "status": item.status,
                    "owner": item.owner,
                    "review_by": item.review_by.isoformat() if item.review_by else None,
                    "version": version.number,
                    "version_status": version.status,
                    "approved_by": version.approved_by,
                    "approved_at": version.approved_at.isoformat() if version.approved_at else None,
                    "url": version.url,
                    "links": [
                        {"target_type": link.target_type, "target_id": link.target_id}
                        for link in item.links
                    ],
                    "files": paths,
                }
            )


async def _unavailable_file(
    zs: ZipStream,
    path: str,
    what: str,
    reason: str,
    details: dict[str, dict[str, Any]],
    unavailable: list[dict[str, str]],
) -> AsyncIterator[bytes]:
    name = path + ".unavailable.txt"
    unavailable.append({"path": name, "what": what, "reason": reason})
    details[name] = {"kind": "placeholder"}
    async for chunk in zs.bytes_entry(name, _placeholder(what, reason)):
        yield chunk
