"""Reference data the risk service ships as package data.

Copied from the project's checked reference set (each file names its own ``source`` and
``licence_note``): ISO/IEC 42001 clauses and the 38 Annex A controls (identifiers and short titles
only; summaries are paraphrases), the MIT AI Risk Repository domain taxonomy, the EU AI Act tiers,
prohibited practices and Annex III areas, NIST AI RMF with a crosswalk, and the project's editorial
EU AI Act ↔ ISO/IEC 42001 crosswalk (``eu_ai_act_iso42001_crosswalk``: guidance written for this
project, not an official crosswalk; copied from ``../shared/reference/``). The product never
reads anything outside its own package at run time.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

DATASETS = (
    "iso42001_annex_a",
    "iso42001_clauses",
    "eu_ai_act",
    "mit_ai_risk_domains",
    "nist_ai_rmf",
    "eu_ai_act_iso42001_crosswalk",
)


@cache
def load_reference(name: str) -> dict[str, Any]:
    """One reference dataset, parsed once per process."""
    if name not in DATASETS:
        raise KeyError(f"no reference dataset {name!r}; known: {', '.join(DATASETS)}")
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
