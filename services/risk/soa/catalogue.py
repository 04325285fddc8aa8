"""The Annex A control catalogue and its crosswalks, loaded from the reference data once.

Pure: no database, no I/O after the first load. Wording is the reference's own paraphrased
summaries (``summary`` / ``objective_short``), never ISO text; titles are the short titles the
reference's licence note allows.

Crosswalks state only what the reference data states:

* NIST AI RMF: ``nist_ai_rmf.crosswalk_iso42001.mappings`` pairs each subcategory with an ISO
  reference; a pair with an ``annex_a_equivalent`` links that subcategory and that control
  (pairs naming only a main clause reach no control and are left out).
* EU AI Act: ``eu_ai_act.json`` maps no article to any ISO/IEC 42001 control, so every control's
  article list is empty and the reverse lookup answers an empty list for each article the
  reference knows (see :data:`EU_AI_ACT_NOTE`). Nothing is invented here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from services.risk.reference import load_reference

EU_AI_ACT_NOTE = (
    "The reference data (eu_ai_act.json) states no mapping between EU AI Act articles and "
    "ISO/IEC 42001 Annex A controls, so none is given."
)
NIST_NOTE = (
    "From the NIST AI RMF to ISO/IEC 42001 crosswalk in the reference data (nist_ai_rmf.json); "
    "Annex B guidance references are read as the Annex A control of the same number."
)


@dataclass(frozen=True)
class Domain:
    id: str
    name: str
    objective: str


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    summary: str
    domain_id: str
    domain: str
    objective_id: str
    objective: str
    nist_subcategories: tuple[str, ...]
    eu_ai_act_articles: tuple[str, ...]


def control_sort_key(control_id: str) -> tuple[int, ...]:
    """``A.10.2`` after ``A.9.4``: numeric order of the dotted parts."""
    return tuple(int(part) for part in control_id.removeprefix("A.").split("."))


def _nist_sort_key(subcategory: str) -> tuple[int, int, int]:
    order = {"GOVERN": 0, "MAP": 1, "MEASURE": 2, "MANAGE": 3}
    function, _, number = subcategory.partition(" ")
    major, _, minor = number.partition(".")
    return (order.get(function, 9), int(major or 0), int(minor or 0))


_ARTICLE = re.compile(r"^(?:Art\.?\s*)?(\d+)")


def normalise_article(value: str) -> str | None:
    """``Art. 26`` / ``26(1)`` / ``26`` → ``26``; None when no article number can be read."""
    match = _ARTICLE.match(value.strip())
    return match.group(1) if match else None


@dataclass(frozen=True)
class Catalogue:
    controls: tuple[Control, ...]
    by_id: Mapping[str, Control]
    domains: tuple[Domain, ...]
    nist_subcategories: Mapping[str, str]  # id → short title (all 72, mapped or not)
    by_nist: Mapping[str, tuple[str, ...]]  # subcategory → control ids
    eu_ai_act_articles: Mapping[str, str]  # article number → title, as the reference knows them
    by_eu_article: Mapping[str, tuple[str, ...]]  # article → control ids (empty: see note)

    def get(self, control_id: str) -> Control | None:
        return self.by_id.get(control_id)


def _eu_articles(eu: dict[str, Any]) -> dict[str, str]:
    articles: dict[str, str] = {}
    for obligation in eu.get("obligations", []):
        number = normalise_article(str(obligation.get("article", "")))
        if number:
            articles.setdefault(number, str(obligation.get("title", "")))
    for tier in eu.get("risk_tiers", []):
        for ref in tier.get("articles", []):
            number = normalise_article(str(ref))
            if number:
                articles.setdefault(number, str(tier.get("name", "")))
    for item in eu.get("prohibited_practices", []):
        number = normalise_article(str(item.get("ref", "")))
        if number:
            articles.setdefault(number, "Prohibited AI practices")
    for ref in eu.get("article_6", {}):
        number = normalise_article(str(ref))
        if number:
            articles.setdefault(number, "Classification rules for high-risk AI systems")
    for item in eu.get("article_50_transparency", []):
        number = normalise_article(str(item.get("ref", "")))
        if number:
            articles.setdefault(number, "Transparency obligations")
    return dict(sorted(articles.items(), key=lambda kv: int(kv[0])))


def build_catalogue(annex_a: dict[str, Any], nist: dict[str, Any], eu: dict[str, Any]) -> Catalogue:
    """Index the three reference datasets (a pure function of their contents)."""
    objectives = {o["id"]: o for o in annex_a["objectives"]}
    subcategories: dict[str, str] = {}
    for function in nist["functions"]:
        for category in function["categories"]:
            for sub in category["subcategories"]:
                subcategories[sub["id"]] = sub["title"]

    control_ids = {c["id"] for c in annex_a["controls"]}
    nist_of: dict[str, set[str]] = {cid: set() for cid in control_ids}
    for pair in nist["crosswalk_iso42001"]["mappings"]:
        control_id = pair.get("annex_a_equivalent")
        if control_id in control_ids and pair["nist"] in subcategories:
            nist_of[control_id].add(pair["nist"])

    # The reference states no EU AI Act ↔ Annex A mapping (module docstring): nothing to add.
    eu_of: dict[str, set[str]] = {cid: set() for cid in control_ids}

    controls: list[Control] = []
    for raw in sorted(annex_a["controls"], key=lambda c: control_sort_key(c["id"])):
        objective = objectives.get(raw["objective_id"]) or objectives[raw["domain_id"]]
        controls.append(
            Control(
                id=raw["id"],
                title=raw["title"],
                summary=raw["summary"],
                domain_id=raw["domain_id"],
                domain=raw["domain"],
                objective_id=raw["objective_id"],
                objective=objective["objective_short"],
                nist_subcategories=tuple(sorted(nist_of[raw["id"]], key=_nist_sort_key)),
                eu_ai_act_articles=tuple(sorted(eu_of[raw["id"]], key=int)),
            )
        )

    by_nist: dict[str, list[str]] = {sub: [] for sub in subcategories}
    by_eu: dict[str, list[str]] = {art: [] for art in _eu_articles(eu)}
    for control in controls:
        for sub in control.nist_subcategories:
            by_nist[sub].append(control.id)
        for article in control.eu_ai_act_articles:
            by_eu.setdefault(article, []).append(control.id)

    domains = tuple(
        Domain(id=o["id"], name=o["domain"], objective=o["objective_short"])
        for o in annex_a["objectives"]
        if o.get("level") == "domain"
    )
    return Catalogue(
        controls=tuple(controls),
        by_id={c.id: c for c in controls},
        domains=domains,
        nist_subcategories=subcategories,
        by_nist={k: tuple(v) for k, v in by_nist.items()},
        eu_ai_act_articles=_eu_articles(eu),
        by_eu_article={k: tuple(v) for k, v in by_eu.items()},
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue, built once per process from the packaged reference data."""
    return build_catalogue(
        load_reference("iso42001_annex_a"),
        load_reference("nist_ai_rmf"),
        load_reference("eu_ai_act"),
    )
