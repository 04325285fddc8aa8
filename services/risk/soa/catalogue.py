"""The Annex A control catalogue and its crosswalks, loaded from the reference data once.

Pure: no database, no I/O after the first load. Wording is the reference's own paraphrased
summaries (``summary`` / ``objective_short``), never ISO text; titles are the short titles the
reference's licence note allows.

Crosswalks state only what the reference data states:

* NIST AI RMF: ``nist_ai_rmf.crosswalk_iso42001.mappings`` pairs each subcategory with an ISO
  reference. A pair with an ``annex_a_equivalent`` links that subcategory and that control; a pair
  naming a main clause (``6.1.2``) links the subcategory and the clause. Every pair is kept
  (:attr:`Catalogue.nist_pairs`) and queryable by subcategory, control or clause.
* EU AI Act: ``eu_ai_act_iso42001_crosswalk.json`` is an **editorial** mapping written for this
  project (its ``status`` says so): each article maps to the clauses and Annex A controls whose
  records or processes meet part of it. It is guidance ("related controls"), never evidence of
  conformity with the Act, and every answer that carries it says so (:data:`EU_AI_ACT_NOTE`).
  Articles with no management-system counterpart (Art. 5, 22, 49, …) are listed with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from services.risk.reference import load_reference

EU_AI_ACT_NOTE = (
    "Editorial crosswalk, not legal advice: EU AI Act articles related to ISO/IEC 42001 clauses "
    "and Annex A controls, written for this project from the titles and content of both "
    "(eu_ai_act_iso42001_crosswalk.json). It is not an official or harmonised-standard "
    "crosswalk; show it as guidance, never as evidence of conformity with the Act."
)
NIST_NOTE = (
    "From the NIST AI RMF to ISO/IEC 42001 crosswalk in the reference data (nist_ai_rmf.json); "
    "Annex B guidance references are read as the Annex A control of the same number; references "
    "to main clauses are kept as clause pairs."
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
    eu_ai_act_articles: tuple[str, ...]  # article numbers (``"26"``), editorial crosswalk


@dataclass(frozen=True)
class EUArticleLink:
    """One article of the editorial EU AI Act crosswalk and what it relates to."""

    citation: str  # as the crosswalk writes it: ``Art. 26``
    article: str  # the number: ``26``
    title: str
    roles: tuple[str, ...]  # the operators the article binds
    clauses: tuple[str, ...]
    controls: tuple[str, ...]


@dataclass(frozen=True)
class EUNoCounterpart:
    """Articles the crosswalk states have no ISO/IEC 42001 counterpart, and why."""

    citation: str
    articles: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class NistPair:
    """One pair of the NIST AI RMF crosswalk: a subcategory and a clause or an Annex A control."""

    subcategory: str
    iso_ref: str  # as the reference prints it: ``6.1.2`` or ``B.6.2.6``
    iso_ref_type: str  # ``clause`` or ``annex_b_guidance``
    clause_id: str | None
    control_id: str | None


def control_sort_key(control_id: str) -> tuple[int, ...]:
    """``A.10.2`` after ``A.9.4``: numeric order of the dotted parts."""
    return tuple(int(part) for part in control_id.removeprefix("A.").split("."))


def clause_sort_key(clause_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in clause_id.split(".") if part.isdigit())


def _nist_sort_key(subcategory: str) -> tuple[int, int, int]:
    order = {"GOVERN": 0, "MAP": 1, "MEASURE": 2, "MANAGE": 3}
    function, _, number = subcategory.partition(" ")
    major, _, minor = number.partition(".")
    return (order.get(function, 9), int(major or 0), int(minor or 0))


_ARTICLE = re.compile(r"^(?:art(?:icle|s)?\.?\s*)?(\d+)", re.IGNORECASE)
_CONTROL = re.compile(r"^A\.\d+(?:\.\d+)*$")
_CLAUSE = re.compile(r"^\d+(?:\.\d+)*$")


def normalise_article(value: str) -> str | None:
    """``Art. 26`` / ``Article 26(1)`` / ``26`` → ``26``; None when no number can be read."""
    match = _ARTICLE.match(value.strip())
    return match.group(1) if match else None


def normalise_control(value: str) -> str | None:
    """``a.6.2.8`` / `` A.6.2.8 `` → ``A.6.2.8``; None when it is not shaped like a control id."""
    key = value.strip().upper()
    return key if _CONTROL.match(key) else None


def normalise_clause(value: str) -> str | None:
    """`` 6.1.4 `` → ``6.1.4``; None when it is not shaped like a clause number."""
    key = value.strip().removeprefix("clause").removeprefix("Clause").strip()
    return key if _CLAUSE.match(key) else None


def normalise_subcategory(value: str) -> str:
    """``govern-1.6`` / ``GOVERN  1.6`` → ``GOVERN 1.6``."""
    return " ".join(value.replace("-", " ").split()).upper()


def clause_covers(clause_id: str, ref: str) -> bool:
    """Clause ``6.1`` covers ``6.1`` and its sub-clauses (``6.1.4``), not ``6.10``."""
    return ref == clause_id or ref.startswith(clause_id + ".")


def _articles_in(citation: str) -> tuple[str, ...]:
    """``Art. 16(e)-(j), Arts. 43, 47, 48`` → ``16, 43, 47, 48`` (paragraph letters dropped)."""
    return tuple(dict.fromkeys(re.findall(r"\d+", re.sub(r"\([^)]*\)", "", citation))))


@dataclass(frozen=True)
class Catalogue:
    controls: tuple[Control, ...]
    by_id: Mapping[str, Control]
    domains: tuple[Domain, ...]
    nist_subcategories: Mapping[str, str]  # id → short title (all 72, mapped or not)
    by_nist: Mapping[str, tuple[str, ...]]  # subcategory → control ids
    eu_ai_act_articles: Mapping[str, str]  # article number → title, as the references know them
    by_eu_article: Mapping[str, tuple[str, ...]]  # article → control ids (editorial crosswalk)
    clauses: Mapping[str, str] = field(default_factory=dict)  # clause id → title
    nist_pairs: tuple[NistPair, ...] = ()  # every pair of the NIST crosswalk, clause pairs too
    eu_links: tuple[EUArticleLink, ...] = ()  # the editorial crosswalk, in article order
    eu_by_article: Mapping[str, EUArticleLink] = field(default_factory=dict)
    eu_no_counterpart: tuple[EUNoCounterpart, ...] = ()
    eu_status: str = ""

    def get(self, control_id: str) -> Control | None:
        return self.by_id.get(control_id)

    def eu_links_of_control(self, control_id: str) -> tuple[EUArticleLink, ...]:
        control = self.by_id.get(control_id)
        if control is None:
            return ()
        return tuple(self.eu_by_article[a] for a in control.eu_ai_act_articles)

    def no_counterpart_of(self, article: str) -> EUNoCounterpart | None:
        return next((n for n in self.eu_no_counterpart if article in n.articles), None)


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
    return articles


def _eu_crosswalk(
    crosswalk: dict[str, Any], control_ids: set[str], clause_ids: set[str]
) -> tuple[list[EUArticleLink], list[EUNoCounterpart]]:
    links: list[EUArticleLink] = []
    for raw in crosswalk.get("mappings", []):
        number = normalise_article(str(raw["article"]))
        if number is None:
            continue
        controls = [c for c in raw.get("annex_a", []) if c in control_ids]
        clauses = [c for c in raw.get("clauses", []) if c in clause_ids]
        links.append(
            EUArticleLink(
                citation=str(raw["article"]),
                article=number,
                title=str(raw.get("title", "")),
                roles=tuple(raw.get("roles", [])),
                clauses=tuple(sorted(set(clauses), key=clause_sort_key)),
                controls=tuple(sorted(set(controls), key=control_sort_key)),
            )
        )
    links.sort(key=lambda link: int(link.article))
    none = [
        EUNoCounterpart(
            citation=str(raw["article"]),
            articles=_articles_in(str(raw["article"])),
            why=str(raw.get("why", "")),
        )
        for raw in crosswalk.get("no_counterpart", [])
    ]
    return links, none


def build_catalogue(
    annex_a: dict[str, Any],
    nist: dict[str, Any],
    eu: dict[str, Any],
    eu_crosswalk: dict[str, Any] | None = None,
    clauses: dict[str, Any] | None = None,
) -> Catalogue:
    """Index the reference datasets (a pure function of their contents)."""
    objectives = {o["id"]: o for o in annex_a["objectives"]}
    subcategories: dict[str, str] = {}
    for function in nist["functions"]:
        for category in function["categories"]:
            for sub in category["subcategories"]:
                subcategories[sub["id"]] = sub["title"]
    clause_titles = {c["id"]: c["title"] for c in (clauses or {}).get("clauses", [])}

    control_ids = {c["id"] for c in annex_a["controls"]}
    nist_of: dict[str, set[str]] = {cid: set() for cid in control_ids}
    pairs: list[NistPair] = []
    for pair in nist["crosswalk_iso42001"]["mappings"]:
        sub = pair["nist"]
        if sub not in subcategories:
            continue
        ref = str(pair.get("iso_ref", ""))
        control_id = pair.get("annex_a_equivalent")
        if control_id in control_ids:
            nist_of[control_id].add(sub)
            pairs.append(NistPair(sub, ref, str(pair.get("iso_ref_type")), None, control_id))
        elif pair.get("iso_ref_type") == "clause" and _CLAUSE.match(ref):
            # Clause pairs reach no control; they are kept so that clause queries answer.
            pairs.append(NistPair(sub, ref, "clause", ref, None))
    pairs.sort(
        key=lambda p: (
            _nist_sort_key(p.subcategory),
            p.control_id is not None,
            clause_sort_key(p.clause_id) if p.clause_id else control_sort_key(p.control_id or ""),
        )
    )

    links, no_counterpart = _eu_crosswalk(
        eu_crosswalk or {}, control_ids, set(clause_titles) or _clauses_named(eu_crosswalk)
    )
    eu_of: dict[str, set[str]] = {cid: set() for cid in control_ids}
    for link in links:
        for control_id in link.controls:
            eu_of[control_id].add(link.article)

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

    titles = {link.article: link.title for link in links} | {
        k: v for k, v in _eu_articles(eu).items() if k not in {link.article for link in links}
    }
    for item in no_counterpart:
        for article in item.articles:
            titles.setdefault(article, "")
    articles = dict(sorted(titles.items(), key=lambda kv: int(kv[0])))

    by_nist: dict[str, list[str]] = {sub: [] for sub in subcategories}
    by_eu: dict[str, list[str]] = {art: [] for art in articles}
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
        eu_ai_act_articles=articles,
        by_eu_article={k: tuple(v) for k, v in by_eu.items()},
        clauses=clause_titles,
        nist_pairs=tuple(pairs),
        eu_links=tuple(links),
        eu_by_article={link.article: link for link in links},
        eu_no_counterpart=tuple(no_counterpart),
        eu_status=str((eu_crosswalk or {}).get("status", "")),
    )


def _clauses_named(eu_crosswalk: dict[str, Any] | None) -> set[str]:
    """Without the clause catalogue, accept every clause the crosswalk names."""
    return {c for m in (eu_crosswalk or {}).get("mappings", []) for c in m.get("clauses", [])}


@cache
def catalogue() -> Catalogue:
    """The catalogue, built once per process from the packaged reference data."""
    return build_catalogue(
        load_reference("iso42001_annex_a"),
        load_reference("nist_ai_rmf"),
        load_reference("eu_ai_act"),
        load_reference("eu_ai_act_iso42001_crosswalk"),
        load_reference("iso42001_clauses"),
    )
