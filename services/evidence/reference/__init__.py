"""Reference data the evidence service ships as package data.

Copied from the project's checked reference set (each file names its own ``source`` and
``licence_note``): the ISO/IEC 42001 clause structure with its documented-information
requirements, and the 38 Annex A controls (identifiers and short titles only). The product never
reads anything outside its own package at run time.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

DATASETS = ("iso42001_annex_a", "iso42001_clauses")


@cache
def load_reference(name: str) -> dict[str, Any]:
    """One reference dataset, parsed once per process."""
    if name not in DATASETS:
        raise KeyError(f"no reference dataset {name!r}; known: {', '.join(DATASETS)}")
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def clause_ids() -> frozenset[str]:
    """Every clause and sub-clause id of clauses 4–10 (``4``, ``4.1``, ``7.5.3`` …)."""
    return frozenset(str(c["id"]) for c in load_reference("iso42001_clauses")["clauses"])


@cache
def control_ids() -> frozenset[str]:
    """The 38 Annex A control ids (``A.2.2`` … ``A.10.4``)."""
    return frozenset(str(c["id"]) for c in load_reference("iso42001_annex_a")["controls"])
