"""The catalogue of documented information an AIMS is asked for (ISO/IEC 42001 7.5).

Built from the package's reference data, with stable ids:

- ``DI-01`` … ``DI-22``: documented information clauses 4–10 require (reference ids);
- ``CE-01`` … ``CE-04``: items not phrased as documented information but commonly expected;
- ``AX-01`` … ``AX-27``: Annex A documentation expectations, asked for only while their control is
  included in the Statement of Applicability;
- ``SYS-*``: what each AI system in scope needs, requested when it enters the scope.

Evidence satisfies an item by being linked to it (link ``documented_information`` → id); for a
``SYS-*`` item, by being linked to the item *and* to the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from services.evidence.reference import load_reference

Source = Literal["clause", "commonly_expected", "annex_a", "system"]


@dataclass(frozen=True)
class DocumentedInformationItem:
    id: str
    source: Source
    clause: str | None
    control: str | None
    title: str
    form: str | None
    # Only for ``SYS-*``: asked for only for high-risk systems (EU AI Act tier ``high``).
    high_risk_only: bool = False


SYSTEM_ITEMS: tuple[DocumentedInformationItem, ...] = (
    DocumentedInformationItem(
        "SYS-TECH-DOC", "system", "8.1", "A.6.2.7", "Technical documentation of the system", None
    ),
    DocumentedInformationItem(
        "SYS-DATA-PROVENANCE", "system", "8.1", "A.7.5", "Data provenance records", None
    ),
    DocumentedInformationItem(
        "SYS-MONITORING-PLAN", "system", "9.1", "A.6.2.6", "Operation and monitoring plan", None
    ),
    DocumentedInformationItem(
        "SYS-EVENT-LOG", "system", "8.1", "A.6.2.8", "Event log arrangement", None
    ),
    DocumentedInformationItem(
        "SYS-IMPACT-ASSESSMENT",
        "system",
        "8.4",
        "A.5.2",
        "Impact assessment record",
        "retain (record)",
        high_risk_only=True,
    ),
)


@cache
def catalogue() -> tuple[DocumentedInformationItem, ...]:
    """Every item, in a stable order: DI, CE, AX, SYS."""
    data = load_reference("iso42001_clauses")
    items: list[DocumentedInformationItem] = [
        DocumentedInformationItem(
            id=str(entry["id"]),
            source="clause",
            clause=str(entry["clause"]),
            control=None,
            title=str(entry["item"]),
            form=str(entry.get("form")) if entry.get("form") else None,
        )
        for entry in data["documented_information"]
    ]
    items += [
        DocumentedInformationItem(
            id=f"CE-{index:02d}",
            source="commonly_expected",
            clause=str(entry["clause"]),
            control=None,
            title=str(entry["item"]),
            form=None,
        )
        for index, entry in enumerate(data["commonly_expected_not_explicit"], start=1)
    ]
    items += [
        DocumentedInformationItem(
            id=f"AX-{index:02d}",
            source="annex_a",
            clause=None,
            control=str(entry["control"]),
            title=str(entry["artefact"]),
            form=None,
        )
        for index, entry in enumerate(data["annex_a_documentation_expectations"], start=1)
    ]
    return (*items, *SYSTEM_ITEMS)


@cache
def catalogue_by_id() -> dict[str, DocumentedInformationItem]:
    return {item.id: item for item in catalogue()}


def documented_information_ids() -> frozenset[str]:
    return frozenset(catalogue_by_id())
