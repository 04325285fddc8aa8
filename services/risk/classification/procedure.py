"""The EU AI Act classification as a pure decision procedure (no I/O beyond reference data).

Order (Regulation (EU) 2024/1689): a prohibited practice (Art. 5) beats everything; then high
risk through the product-safety route (Art. 6(1)) or Annex III (Art. 6(2)) unless a valid
Art. 6(3) exemption applies (never when the system profiles natural persons); then limited risk
when an Art. 50 transparency obligation is triggered; otherwise minimal risk. General-purpose AI
models are flagged alongside (Arts. 51-55), whatever the tier.
"""

from __future__ import annotations

import enum
import re
from functools import cache
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.risk.reference import load_reference


class Tier(enum.StrEnum):
    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


class Route(enum.StrEnum):
    ART5 = "art5"
    ART6_1 = "art6_1"
    ANNEX_III = "annex_iii"
    ART6_3_EXEMPT = "art6_3_exempt"
    ART50 = "art50"
    NONE = "none"


class OperatorRole(enum.StrEnum):
    PROVIDER = "provider"
    DEPLOYER = "deployer"
    IMPORTER = "importer"
    DISTRIBUTOR = "distributor"


class ExemptionCondition(enum.StrEnum):
    """The Art. 6(3) conditions, in the Regulation's order (a)-(d)."""

    NARROW_PROCEDURAL_TASK = "narrow_procedural_task"
    IMPROVES_PRIOR_HUMAN_ACTIVITY = "improves_prior_human_activity"
    DETECTS_PATTERNS_WITHOUT_REPLACING_HUMAN = "detects_patterns_without_replacing_human"
    PREPARATORY_TASK = "preparatory_task"


class TransparencyTrigger(enum.StrEnum):
    """What triggers an Art. 50 transparency obligation."""

    INTERACTS_WITH_PEOPLE = "interacts_with_people"
    GENERATES_SYNTHETIC_CONTENT = "generates_synthetic_content"
    EMOTION_RECOGNITION_OR_BIOMETRIC_CATEGORISATION = (
        "emotion_recognition_or_biometric_categorisation"
    )
    DEEP_FAKES = "deep_fakes"


EXEMPTION_POINT: dict[ExemptionCondition, str] = {
    ExemptionCondition.NARROW_PROCEDURAL_TASK: "(a)",
    ExemptionCondition.IMPROVES_PRIOR_HUMAN_ACTIVITY: "(b)",
    ExemptionCondition.DETECTS_PATTERNS_WITHOUT_REPLACING_HUMAN: "(c)",
    ExemptionCondition.PREPARATORY_TASK: "(d)",
}

TRANSPARENCY_REF: dict[TransparencyTrigger, str] = {
    TransparencyTrigger.INTERACTS_WITH_PEOPLE: "50(1)",
    TransparencyTrigger.GENERATES_SYNTHETIC_CONTENT: "50(2)",
    TransparencyTrigger.EMOTION_RECOGNITION_OR_BIOMETRIC_CATEGORISATION: "50(3)",
    TransparencyTrigger.DEEP_FAKES: "50(4)",
}

# --- Reference data ---------------------------------------------------------------------------


def _reference() -> dict[str, Any]:
    return load_reference("eu_ai_act")


@cache
def prohibited_practices() -> dict[str, str]:
    """Art. 5 practice ref (``5(1)(c)``) → title."""
    return {p["ref"]: p["title"] for p in _reference()["prohibited_practices"]}


@cache
def annex_iii_points() -> dict[str, tuple[str, str, str]]:
    """Annex III point id (``4(a)``) → (area, area title, point title)."""
    return {
        point["id"]: (area["area"], area["title"], point["title"])
        for area in _reference()["annex_iii"]
        for point in area["points"]
    }


@cache
def annex_iii_areas() -> dict[str, str]:
    return {area["area"]: area["title"] for area in _reference()["annex_iii"]}


@cache
def transparency_items() -> dict[str, dict[str, str]]:
    return {item["ref"]: item for item in _reference()["article_50_transparency"]}


@cache
def exemption_texts() -> dict[ExemptionCondition, str]:
    conditions: list[str] = _reference()["article_6"]["6(3)"]["conditions"]
    by_point = {text[:3]: text for text in conditions}
    return {c: by_point.get(point, point) for c, point in EXEMPTION_POINT.items()}


def _roles_of(text: str) -> set[str]:
    words = set(re.findall(r"[a-z_]+", text.lower()))
    if "any" in words and "operator" in words:
        return {r.value for r in OperatorRole}
    return {r.value for r in OperatorRole if r.value in words}


# --- Answers and result -----------------------------------------------------------------------


class Answers(BaseModel):
    """What the owner of an AI system answers; validated against the reference data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: OperatorRole = Field(description="The organisation's role for this system (Art. 3)")
    prohibited_practices: list[str] = Field(
        default=[],
        max_length=16,
        description="Art. 5 practices the system engages in, by reference (e.g. `5(1)(c)`)",
    )
    annex_i_product: bool = Field(
        default=False,
        description="A safety component of, or itself, a product under Annex I harmonisation "
        "legislation",
    )
    annex_i_third_party_assessment: bool = Field(
        default=False,
        description="That product must undergo third-party conformity assessment (Art. 6(1)(b))",
    )
    annex_iii_area: str | None = Field(
        default=None, max_length=8, description="Annex III area (e.g. `4`)"
    )
    annex_iii_point: str | None = Field(
        default=None, max_length=8, description="Annex III point within the area (e.g. `4(a)`)"
    )
    profiles_natural_persons: bool = Field(
        default=False, description="The system profiles natural persons (defeats Art. 6(3))"
    )
    exemption: ExemptionCondition | None = Field(
        default=None, description="The Art. 6(3) condition claimed for an Annex III system"
    )
    exemption_rationale: str | None = Field(
        default=None,
        max_length=5000,
        description="Why the system poses no significant risk (required with `exemption`)",
    )
    transparency: list[TransparencyTrigger] = Field(
        default=[], max_length=8, description="Art. 50 transparency triggers"
    )
    gpai_model: bool = Field(default=False, description="A general-purpose AI model (Art. 3(63))")
    gpai_systemic_risk: bool = Field(
        default=False, description="A general-purpose AI model with systemic risk (Art. 51)"
    )

    @field_validator("prohibited_practices")
    @classmethod
    def _known_practices(cls, value: list[str]) -> list[str]:
        known = prohibited_practices()
        unknown = [ref for ref in value if ref not in known]
        if unknown:
            raise ValueError(
                f"unknown Art. 5 practice(s) {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return sorted(set(value))

    @field_validator("transparency")
    @classmethod
    def _unique_triggers(cls, value: list[TransparencyTrigger]) -> list[TransparencyTrigger]:
        return sorted(set(value))

    @field_validator("annex_iii_area")
    @classmethod
    def _known_area(cls, value: str | None) -> str | None:
        if value is not None and value not in annex_iii_areas():
            raise ValueError(f"no Annex III area {value!r}; known: {', '.join(annex_iii_areas())}")
        return value

    @field_validator("annex_iii_point")
    @classmethod
    def _known_point(cls, value: str | None) -> str | None:
        if value is not None and value not in annex_iii_points():
            raise ValueError(
                f"no Annex III point {value!r}; known: {', '.join(annex_iii_points())}"
            )
        return value

    @field_validator("exemption_rationale")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.annex_iii_point is not None:
            area = annex_iii_points()[self.annex_iii_point][0]
            if self.annex_iii_area is None:
                object.__setattr__(self, "annex_iii_area", area)
            elif self.annex_iii_area != area:
                raise ValueError(
                    f"Annex III point {self.annex_iii_point} is in area {area}, "
                    f"not {self.annex_iii_area}"
                )
        elif self.annex_iii_area is not None:
            raise ValueError("give the Annex III point within the area (e.g. `4(a)`)")
        if self.exemption is not None:
            if self.annex_iii_point is None:
                raise ValueError("the Art. 6(3) exemption applies only to Annex III systems")
            if not self.exemption_rationale:
                raise ValueError("claiming the Art. 6(3) exemption requires a rationale")
        if self.annex_i_third_party_assessment and not self.annex_i_product:
            raise ValueError(
                "third-party conformity assessment applies only to Annex I products "
                "(set `annex_i_product`)"
            )
        if self.gpai_systemic_risk and not self.gpai_model:
            raise ValueError("systemic risk applies only to general-purpose AI models")
        return self


class Obligation(BaseModel):
    model_config = ConfigDict(frozen=True)

    article: str
    title: str
    role: str
    kind: str
    summary: str


class Classification(BaseModel):
    """The outcome: exactly one tier, the route to it, and what follows."""

    model_config = ConfigDict(frozen=True)

    tier: Tier
    route: Route
    articles: list[str]
    obligations: list[Obligation]
    reasons: list[str]
    prohibited_practices: list[str] = []
    annex_iii_area: str | None = None
    annex_iii_point: str | None = None
    exemption: ExemptionCondition | None = None
    transparency: list[str] = Field(default=[], description="Art. 50 items triggered")
    gpai_model: bool = False
    gpai_systemic_risk: bool = False


# --- The procedure ----------------------------------------------------------------------------

HIGH_RISK_EXCLUDED = frozenset({"4", "50"})  # the general and transparency obligations


def _obligations(role: OperatorRole, articles: set[str]) -> list[Obligation]:
    found = [
        Obligation.model_validate(o)
        for o in _reference()["obligations"]
        if o["article"] in articles and role.value in _roles_of(o["role"])
    ]
    return sorted(found, key=lambda o: (int(o.article), o.title))


def classify(answers: Answers) -> Classification:
    """The classification ``answers`` lead to (pure and deterministic)."""
    reasons: list[str] = []
    articles: list[str] = []
    obligation_articles: set[str] = set()
    exemption: ExemptionCondition | None = None
    triggered = [TRANSPARENCY_REF[t] for t in sorted(set(answers.transparency))]

    if answers.prohibited_practices:
        practices = prohibited_practices()
        for ref in answers.prohibited_practices:
            articles.append(f"Art. {ref}")
            reasons.append(f"Prohibited practice Art. {ref}: {practices[ref]}.")
        reasons.append(
            "A prohibited AI practice may not be placed on the market, put into "
            "service or used in the Union."
        )
        tier, route = Tier.PROHIBITED, Route.ART5
        articles.insert(0, "Art. 5")
    else:
        product_route = answers.annex_i_product and answers.annex_i_third_party_assessment
        annex_iii = answers.annex_iii_point is not None
        exemption_valid = (
            annex_iii and answers.exemption is not None and not answers.profiles_natural_persons
        )
        if answers.annex_i_product and not answers.annex_i_third_party_assessment:
            reasons.append(
                "Annex I product without third-party conformity assessment: "
                "Art. 6(1) does not apply."
            )
        if product_route:
            tier, route = Tier.HIGH, Route.ART6_1
            articles += ["Art. 6(1)", "Annex I"]
            reasons.append(
                "Safety component of (or itself) an Annex I product requiring "
                "third-party conformity assessment: high risk under Art. 6(1)."
            )
        if annex_iii:
            point = answers.annex_iii_point or ""
            area, area_title, point_title = annex_iii_points()[point]
            if exemption_valid and answers.exemption is not None:
                exemption = answers.exemption
                articles += ["Art. 6(3)", "Art. 6(4)"]
                reasons.append(
                    f"Annex III point {point} ({point_title}) but the Art. 6(3) "
                    f"exemption applies: {exemption_texts()[exemption]}. Rationale: "
                    f"{answers.exemption_rationale}"
                )
                if answers.role is OperatorRole.PROVIDER:
                    obligation_articles.add("49")
                    reasons.append(
                        "The provider must document this assessment and register "
                        "the system (Arts. 6(4), 49(2))."
                    )
            else:
                if answers.exemption is not None:
                    reasons.append(
                        "The Art. 6(3) exemption does not apply: the system profiles "
                        "natural persons."
                    )
                if not product_route:
                    tier, route = Tier.HIGH, Route.ANNEX_III
                articles += ["Art. 6(2)", f"Annex III point {point}"]
                reasons.append(
                    f"Listed in Annex III area {area} ({area_title}), point {point} "
                    f"({point_title}): high risk under Art. 6(2)."
                )
        if not (product_route or (annex_iii and not exemption_valid)):
            if triggered:
                tier, route = Tier.LIMITED, Route.ART50
            elif exemption is not None:
                tier, route = Tier.MINIMAL, Route.ART6_3_EXEMPT
            else:
                tier, route = Tier.MINIMAL, Route.NONE
        if tier is Tier.HIGH:
            obligation_articles |= {
                o["article"] for o in _reference()["obligations"]
            } - HIGH_RISK_EXCLUDED
        if triggered:
            items = transparency_items()
            articles += [f"Art. {ref}" for ref in triggered] + ["Art. 50(5)"]
            obligation_articles.add("50")
            for ref in triggered:
                reasons.append(
                    f"Transparency obligation Art. {ref} ({items[ref]['role']}): "
                    f"{items[ref]['title']}."
                )
        if tier is Tier.MINIMAL and not reasons:
            reasons.append(
                "No prohibited practice, no high-risk route and no transparency "
                "trigger: minimal risk (voluntary codes of conduct, Art. 95)."
            )
        obligation_articles.add("4")
        articles.append("Art. 4")

    if answers.gpai_model:
        gpai = ["Art. 53"] + (["Art. 55"] if answers.gpai_systemic_risk else [])
        articles += ["Art. 51", *gpai]
        reasons.append(
            "General-purpose AI model"
            + (" with systemic risk" if answers.gpai_systemic_risk else "")
            + f": the GPAI regime applies ({', '.join(gpai)})."
        )

    return Classification(
        tier=tier,
        route=route,
        articles=list(dict.fromkeys(articles)),
        obligations=_obligations(answers.role, obligation_articles),
        reasons=reasons,
        prohibited_practices=list(answers.prohibited_practices),
        annex_iii_area=answers.annex_iii_area,
        annex_iii_point=answers.annex_iii_point,
        exemption=exemption,
        transparency=triggered,
        gpai_model=answers.gpai_model,
        gpai_systemic_risk=answers.gpai_systemic_risk,
    )
