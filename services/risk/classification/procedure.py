"""The EU AI Act classification as a pure decision procedure (no I/O beyond reference data).

Order (Regulation (EU) 2024/1689):

1. **Scope** (Art. 2): a system outside the Regulation (Art. 2(3), 2(6), 2(8) except testing in
   real-world conditions, 2(10) for deployers who are natural persons) has no duties under it.
2. **Prohibited practices** (Art. 5) beat everything else, unless an exception written into the
   practice holds (5(1)(d) human assessment on verifiable facts, 5(1)(f) medical or safety
   reasons, 5(1)(g) dataset labelling or law enforcement, 5(1)(h)(i)-(iii) with every condition
   of Art. 5(2), 5(3) and 5(5)); 5(1)(d) is also asked whether the assessment is "based solely
   on the profiling". A system under an exception is routed to the Annex III point that then
   applies, citing both. Art. 5(1)(h) prohibits the *use*: it binds deployers only, and a use
   under its exception needs the Art. 27 assessment and the Art. 49 registration (Art. 5(2)).
3. **High risk** through the product route (Art. 6(1); the Annex I section and legislation are
   cited) or Annex III (Art. 6(2); every point is recorded), unless the Art. 6(3) derogation
   holds: the provider's own documented assessment (Art. 6(4)) or, for any other role, the
   provider's documented one. Profiling of natural persons defeats it; for an Art. 6(1) product
   it is irrelevant. Carve-outs written into Annex III points have their own route.
4. **Limited risk** when an Art. 50 transparency case applies to the system.
5. Otherwise minimal risk; a general-purpose AI model with nothing else has its own route.

Duties are resolved per paragraph and per role (:func:`classify` → ``obligations``): each names
its paragraph (``ref``) and binds only the party the paragraph addresses.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from services.risk.reference import load_reference

#: Validation context for answers read back from storage: rules added after they were stored
#: (e.g. who may claim the Art. 6(3) derogation) do not make an old classification unreadable.
STORED: dict[str, Any] = {"stored": True}


class Tier(enum.StrEnum):
    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


class Route(enum.StrEnum):
    ART2_EXCLUDED = "art2_excluded"
    ART5 = "art5"
    ART6_1 = "art6_1"
    ANNEX_III = "annex_iii"
    ART6_3_EXEMPT = "art6_3_exempt"
    ANNEX_III_CARVE_OUT = "annex_iii_carve_out"
    ART50 = "art50"
    GPAI = "gpai"
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


class ScopeExclusion(enum.StrEnum):
    """Art. 2 exits from the Regulation."""

    MILITARY_DEFENCE_NATIONAL_SECURITY = "military_defence_national_security"
    SCIENTIFIC_RESEARCH = "scientific_research"
    PRE_MARKET_RESEARCH = "pre_market_research"
    PERSONAL_NON_PROFESSIONAL = "personal_non_professional"


class Art5Exception(enum.StrEnum):
    """Exceptions written into the Art. 5(1) practices."""

    EMOTION_RECOGNITION_MEDICAL_OR_SAFETY = "emotion_recognition_medical_or_safety"
    CRIME_RISK_SUPPORTS_HUMAN_ASSESSMENT = "crime_risk_supports_human_assessment"
    CRIME_RISK_NOT_SOLELY_PROFILING = "crime_risk_not_solely_profiling"
    BIOMETRIC_DATASET_LABELLING_OR_LAW_ENFORCEMENT = (
        "biometric_dataset_labelling_or_law_enforcement"
    )
    RBI_TARGETED_VICTIM_SEARCH = "rbi_targeted_victim_search"
    RBI_IMMINENT_THREAT = "rbi_imminent_threat"
    RBI_SUSPECT_OF_ANNEX_II_OFFENCE = "rbi_suspect_of_annex_ii_offence"


class RbiCondition(enum.StrEnum):
    """What Art. 5(2), 5(3) and 5(5) require before any Art. 5(1)(h)(i)-(iii) use."""

    TARGETED_AND_LIMITED = "targeted_and_limited"
    FRIA_AND_REGISTRATION = "fria_and_registration"
    PRIOR_AUTHORISATION = "prior_authorisation"
    NATIONAL_LAW_AUTHORISES = "national_law_authorises"


class AnnexIIICarveOut(enum.StrEnum):
    """Uses an Annex III point itself excludes."""

    BIOMETRIC_VERIFICATION_ONLY = "biometric_verification_only"
    FINANCIAL_FRAUD_DETECTION = "financial_fraud_detection"
    TRAVEL_DOCUMENT_VERIFICATION = "travel_document_verification"
    CAMPAIGN_ADMINISTRATION_TOOLS = "campaign_administration_tools"


class DeployerCategory(enum.StrEnum):
    """Which deployers Art. 27(1) and Art. 49(3) name."""

    PUBLIC_AUTHORITY = "public_authority"
    BODY_GOVERNED_BY_PUBLIC_LAW = "body_governed_by_public_law"
    PRIVATE_ENTITY_PROVIDING_PUBLIC_SERVICES = "private_entity_providing_public_services"
    OTHER = "other"


class ValueChainTrigger(enum.StrEnum):
    """Art. 25(1)(a)-(c): when a distributor, importer or deployer becomes the provider."""

    OWN_NAME_OR_TRADEMARK = "own_name_or_trademark"
    SUBSTANTIAL_MODIFICATION = "substantial_modification"
    INTENDED_PURPOSE_CHANGED_TO_HIGH_RISK = "intended_purpose_changed_to_high_risk"


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

#: Art. 50(1)/(2) address providers, 50(3)/(4) deployers.
TRANSPARENCY_ROLE: dict[str, OperatorRole] = {
    "50(1)": OperatorRole.PROVIDER,
    "50(2)": OperatorRole.PROVIDER,
    "50(3)": OperatorRole.DEPLOYER,
    "50(4)": OperatorRole.DEPLOYER,
}

SCOPE_EXCLUSION_REF: dict[ScopeExclusion, str] = {
    ScopeExclusion.MILITARY_DEFENCE_NATIONAL_SECURITY: "2(3)",
    ScopeExclusion.SCIENTIFIC_RESEARCH: "2(6)",
    ScopeExclusion.PRE_MARKET_RESEARCH: "2(8)",
    ScopeExclusion.PERSONAL_NON_PROFESSIONAL: "2(10)",
}

#: Annex III point 2 (critical infrastructure): outside Arts. 27(1), 49(1)/(3) and 86(1).
CRITICAL_INFRASTRUCTURE_AREA = "2"
#: Annex III points whose deployers owe the Art. 27(1) assessment whoever they are.
ART_27_POINTS = frozenset({"5(b)", "5(c)"})
#: Deployer categories Art. 27(1) names ("bodies governed by public law" includes public
#: authorities) and the narrower Art. 49(3) list.
ART_27_DEPLOYERS = frozenset(
    {
        DeployerCategory.PUBLIC_AUTHORITY,
        DeployerCategory.BODY_GOVERNED_BY_PUBLIC_LAW,
        DeployerCategory.PRIVATE_ENTITY_PROVIDING_PUBLIC_SERVICES,
    }
)
ART_49_3_DEPLOYERS = frozenset({DeployerCategory.PUBLIC_AUTHORITY})
RBI_PRACTICE = "5(1)(h)"
ART_27_REF = "Art. 27(1)"
CRITICAL_INFRA = CRITICAL_INFRASTRUCTURE_AREA
#: Art. 49(4): law enforcement and migration (points 6, 7) register in the non-public section;
#: biometrics (point 1) only "in the areas of law enforcement, migration, asylum and border
#: control management".
SECURE_REGISTRATION_AREAS = frozenset({"6", "7"})
BIOMETRICS_AREA = "1"

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
def annex_i_points() -> dict[str, dict[str, str]]:
    """Annex I point (``11``) → its section (``A``/``B``), legislation and title."""
    return {p["point"]: p for p in _reference()["annex_i"]["points"]}


@cache
def transparency_items() -> dict[str, dict[str, str]]:
    return {item["ref"]: item for item in _reference()["article_50_transparency"]}


@cache
def exemption_texts() -> dict[ExemptionCondition, str]:
    conditions: list[str] = _reference()["article_6"]["6(3)"]["conditions"]
    by_point = {text[:3]: text for text in conditions}
    return {c: by_point.get(point, point) for c, point in EXEMPTION_POINT.items()}


def _by_id(section: str) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in _reference()[section]}


@cache
def scope_exclusions() -> dict[ScopeExclusion, dict[str, Any]]:
    items = _by_id("article_2_exclusions")
    return {e: items[e.value] for e in ScopeExclusion}


@cache
def art5_exceptions() -> dict[Art5Exception, dict[str, Any]]:
    """Each exception with its ``practice``, ``ref`` and the ``annex_iii_point`` it routes to."""
    items = _by_id("article_5_exceptions")
    return {e: items[e.value] for e in Art5Exception}


@cache
def rbi_conditions() -> dict[RbiCondition, dict[str, Any]]:
    items = _by_id("article_5_rbi_conditions")
    return {c: items[c.value] for c in RbiCondition}


@cache
def annex_iii_carve_outs() -> dict[AnnexIIICarveOut, dict[str, Any]]:
    items = _by_id("annex_iii_carve_outs")
    return {c: items[c.value] for c in AnnexIIICarveOut}


@cache
def deployer_categories() -> dict[DeployerCategory, dict[str, Any]]:
    items = _by_id("deployer_categories")
    return {c: items[c.value] for c in DeployerCategory}


@cache
def value_chain_triggers() -> dict[ValueChainTrigger, dict[str, Any]]:
    items = _by_id("article_25_triggers")
    return {t: items[t.value] for t in ValueChainTrigger}


@cache
def duties() -> dict[str, dict[str, str]]:
    """Paragraph-level duties by ref (``Art. 49(3)``)."""
    return {d["ref"]: d for d in _reference()["duties"]}


@cache
def _high_risk_provider_obligations() -> list[dict[str, str]]:
    """Arts. 9-20, 43, 47, 48, 72, 73: what Art. 16 puts on providers of high-risk systems."""
    articles = {"9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"}
    articles |= {"43", "47", "48", "72", "73"}
    return [o for o in _reference()["obligations"] if o["article"] in articles]


@cache
def _role_obligation(article: str) -> dict[str, str]:
    return next(o for o in _reference()["obligations"] if o["article"] == article)


# --- Answers and result -----------------------------------------------------------------------


def _is_stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


class Answers(BaseModel):
    """What the owner of an AI system answers; validated against the reference data.

    ``annex_iii_area`` / ``annex_iii_point`` (one point) are still accepted as input and merged
    into ``annex_iii_points``, so older clients and stored classifications keep working.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: OperatorRole = Field(description="The organisation's role for this system (Art. 3)")
    established_in_union: bool = Field(
        default=True,
        description="The provider is established in the Union (otherwise Art. 22(1) / 54(1))",
    )
    scope_exclusion: ScopeExclusion | None = Field(
        default=None, description="An Art. 2 exclusion the system falls under"
    )
    real_world_testing: bool = Field(
        default=False,
        description="The system is tested in real-world conditions (not covered by Art. 2(8))",
    )
    prohibited_practices: list[str] = Field(
        default=[],
        max_length=16,
        description="Art. 5 practices the system engages in, by reference (e.g. `5(1)(c)`)",
    )
    art5_exceptions: list[Art5Exception] = Field(
        default=[],
        max_length=8,
        description="Exceptions written into those Art. 5(1) practices that hold",
    )
    rbi_conditions: list[RbiCondition] = Field(
        default=[],
        max_length=8,
        description="Conditions of Art. 5(2), 5(3) and 5(5) met for an Art. 5(1)(h) exception",
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
    annex_i_legislation: str | None = Field(
        default=None, max_length=4, description="The Annex I point of that legislation (e.g. `11`)"
    )
    annex_iii_points: list[str] = Field(
        default=[], max_length=32, description="Every Annex III point the system falls under"
    )
    annex_iii_carve_outs: list[AnnexIIICarveOut] = Field(
        default=[], max_length=8, description="Uses an Annex III point itself excludes"
    )
    profiles_natural_persons: bool = Field(
        default=False, description="The system profiles natural persons (defeats Art. 6(3))"
    )
    exemption: ExemptionCondition | None = Field(
        default=None,
        description="The Art. 6(3) condition: the provider's own assessment, or (any other "
        "role) the one the provider documented",
    )
    exemption_rationale: str | None = Field(
        default=None,
        max_length=5000,
        description="Why the system poses no significant risk (required with a provider's "
        "`exemption`)",
    )
    provider_documented_exemption: bool = Field(
        default=False,
        description="Not the provider: the provider documented an Art. 6(3) assessment "
        "(Art. 6(4)) and registered the system (Art. 49(2))",
    )
    deployer_category: DeployerCategory | None = Field(
        default=None, description="Deployers: the kind of body (Arts. 27(1), 49(3))"
    )
    value_chain_trigger: ValueChainTrigger | None = Field(
        default=None,
        description="Not the provider: what makes the organisation the provider (Art. 25(1))",
    )
    transparency: list[TransparencyTrigger] = Field(
        default=[], max_length=8, description="Art. 50 transparency triggers"
    )
    gpai_model: bool = Field(default=False, description="A general-purpose AI model (Art. 3(63))")
    gpai_systemic_risk: bool = Field(
        default=False, description="A general-purpose AI model with systemic risk (Art. 51)"
    )
    gpai_open_source: bool = Field(
        default=False,
        description="Released under a free and open-source licence with its parameters, "
        "architecture and usage information public (Art. 53(2), 54(6))",
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_single_point(cls, data: Any) -> Any:
        """Merge the former single ``annex_iii_area``/``annex_iii_point`` into the list."""
        if not isinstance(data, dict) or not ({"annex_iii_area", "annex_iii_point"} & set(data)):
            return data
        data = dict(data)
        area = data.pop("annex_iii_area", None)
        point = data.pop("annex_iii_point", None)
        if point is not None:
            if not isinstance(point, str) or point not in annex_iii_points():
                raise ValueError(
                    f"no Annex III point {point!r}; known: {', '.join(annex_iii_points())}"
                )
            if area is not None and area != annex_iii_points()[point][0]:
                raise ValueError(
                    f"Annex III point {point} is in area {annex_iii_points()[point][0]}, not {area}"
                )
            points = data.get("annex_iii_points") or []
            data["annex_iii_points"] = [*points, point] if isinstance(points, list) else points
        elif area is not None:
            if area not in annex_iii_areas():
                raise ValueError(
                    f"no Annex III area {area!r}; known: {', '.join(annex_iii_areas())}"
                )
            raise ValueError("give the Annex III point within the area (e.g. `4(a)`)")
        return data

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

    @field_validator("annex_iii_points")
    @classmethod
    def _known_points(cls, value: list[str]) -> list[str]:
        known = annex_iii_points()
        unknown = [p for p in value if p not in known]
        if unknown:
            raise ValueError(
                f"no Annex III point(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
            )
        order = list(known)
        return sorted(set(value), key=order.index)

    @field_validator("annex_i_legislation")
    @classmethod
    def _known_legislation(cls, value: str | None) -> str | None:
        if value is not None and value not in annex_i_points():
            raise ValueError(
                f"no Annex I point {value!r}; known: {', '.join(annex_i_points())} "
                "(Section A: 1-12, Section B: 13-20)"
            )
        return value

    @field_validator("transparency", "art5_exceptions", "rbi_conditions", "annex_iii_carve_outs")
    @classmethod
    def _unique(cls, value: list[enum.StrEnum]) -> list[enum.StrEnum]:
        return sorted(set(value))

    @field_validator("exemption_rationale")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        stored = _is_stored(info)
        provider = self.role is OperatorRole.PROVIDER
        claimed = self.exemption is not None or self.provider_documented_exemption
        if claimed and not self.annex_iii_points:
            raise ValueError("the Art. 6(3) exemption applies only to Annex III systems")
        if provider:
            if self.provider_documented_exemption:
                raise ValueError(
                    "you are the provider: the Art. 6(3) assessment is yours to document "
                    "(Art. 6(4)); give `exemption` and `exemption_rationale`"
                )
            if self.exemption is not None and not self.exemption_rationale:
                raise ValueError("claiming the Art. 6(3) exemption requires a rationale")
            if self.value_chain_trigger is not None:
                raise ValueError("Art. 25(1) concerns parties other than the provider")
        elif self.exemption is not None and not self.provider_documented_exemption and not stored:
            raise ValueError(
                "the Art. 6(3) derogation is the provider's assessment (Art. 6(4)): set "
                "`provider_documented_exemption` when the provider documented it"
            )
        if self.deployer_category is not None and self.role is not OperatorRole.DEPLOYER:
            raise ValueError("`deployer_category` applies to deployers only")
        if (
            self.scope_exclusion is ScopeExclusion.PERSONAL_NON_PROFESSIONAL
            and self.role is not OperatorRole.DEPLOYER
        ):
            raise ValueError(
                "Art. 2(10) excludes only the obligations of deployers who are natural persons "
                "in a purely personal non-professional activity"
            )
        if (
            self.real_world_testing
            and self.scope_exclusion is not ScopeExclusion.PRE_MARKET_RESEARCH
        ):
            raise ValueError("`real_world_testing` qualifies the Art. 2(8) exclusion only")
        exceptions = art5_exceptions()
        for exception in self.art5_exceptions:
            practice = exceptions[exception]["practice"]
            if practice not in self.prohibited_practices:
                raise ValueError(
                    f"the exception {exception.value} qualifies Art. {practice}: list that "
                    "practice in `prohibited_practices`"
                )
        rbi = [e for e in self.art5_exceptions if exceptions[e]["practice"] == RBI_PRACTICE]
        if self.rbi_conditions and not rbi:
            raise ValueError("`rbi_conditions` qualify an Art. 5(1)(h)(i)-(iii) exception only")
        carved = {annex_iii_carve_outs()[c]["point"]: c for c in self.annex_iii_carve_outs}
        both = sorted(set(carved) & set(self.annex_iii_points))
        if both:
            raise ValueError(
                f"Annex III point(s) {', '.join(both)} cannot both apply and be carved out "
                f"({', '.join(carved[p].value for p in both)})"
            )
        # An Art. 5 practice (or its exception) names the Annex III point it is listed under:
        # real-time remote biometric identification is not "verification only".
        reached = {
            exceptions[e]["annex_iii_point"]: exceptions[e]["ref"] for e in self.art5_exceptions
        }
        if RBI_PRACTICE in self.prohibited_practices:
            reached.setdefault("1(a)", RBI_PRACTICE)
        clash = sorted(set(carved) & set(reached))
        if clash and not stored:
            raise ValueError(
                "; ".join(
                    f"Annex III point {p} is reached through Art. {reached[p]} and cannot also "
                    f"be carved out ({carved[p].value})"
                    for p in clash
                )
            )
        if self.annex_i_third_party_assessment and not self.annex_i_product:
            raise ValueError(
                "third-party conformity assessment applies only to Annex I products "
                "(set `annex_i_product`)"
            )
        if self.annex_i_legislation is not None and not self.annex_i_product:
            raise ValueError("`annex_i_legislation` names the legislation of an Annex I product")
        if self.gpai_systemic_risk and not self.gpai_model:
            raise ValueError("systemic risk applies only to general-purpose AI models")
        if self.gpai_open_source and not self.gpai_model:
            raise ValueError("the open-source carve-out concerns general-purpose AI models")
        return self

    @computed_field(description="The area of the first Annex III point (for older readers)")  # type: ignore[prop-decorator]
    @property
    def annex_iii_area(self) -> str | None:
        return annex_iii_points()[self.annex_iii_points[0]][0] if self.annex_iii_points else None

    @computed_field(description="The first Annex III point (for older readers)")  # type: ignore[prop-decorator]
    @property
    def annex_iii_point(self) -> str | None:
        return self.annex_iii_points[0] if self.annex_iii_points else None


def stored_answers(data: dict[str, Any]) -> Answers:
    """Answers as stored with a classification (older rules still read)."""
    return Answers.model_validate(data, context=STORED)


class Obligation(BaseModel):
    model_config = ConfigDict(frozen=True)

    article: str
    title: str
    role: str = Field(description="Whom the Regulation addresses")
    kind: str
    summary: str
    ref: str | None = Field(default=None, description="The paragraph, e.g. `Art. 49(3)`")


class ClassificationWarning(BaseModel):
    """Something the inventory knows that the answers seem to contradict."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    annex_iii_area: str | None = None
    fact: str | None = Field(default=None, description="The inventory fact, e.g. `sector`")


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
    # Added with procedure v2 (defaults keep stored classifications readable).
    scope_exclusion: ScopeExclusion | None = None
    art5_exceptions: list[Art5Exception] = []
    annex_iii_points: list[str] = Field(default=[], description="Every Annex III point recorded")
    annex_iii_carve_outs: list[AnnexIIICarveOut] = []
    annex_i_section: str | None = None
    annex_i_legislation: str | None = None
    exemption_documented_by_provider: bool = False
    gpai_open_source: bool = False
    warnings: list[ClassificationWarning] = []


@dataclass(frozen=True)
class InventoryFacts:
    """What the inventory records of the system (the risk service's projection)."""

    sector: str | None = None
    intended_purpose: str | None = None


# Inventory sectors (services/inventory … Sector) → the Annex III area they point to.
SECTOR_AREA: dict[str, str] = {
    "biometrics": "1",
    "critical_infrastructure": "2",
    "education": "3",
    "hiring_employment": "4",
    "credit_finance": "5",
    "insurance": "5",
    "essential_services": "5",
    "healthcare": "5",
    "law_enforcement": "6",
    "migration_border": "7",
    "justice_democracy": "8",
}

PURPOSE_AREA: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (area, re.compile(pattern, re.IGNORECASE))
    for area, pattern in (
        ("1", r"\b(biometric|facial recognition|face recognition|emotion recognition)"),
        ("2", r"\b(electricity|water supply|gas supply|heating supply|road traffic|power grid)"),
        ("3", r"\b(student|pupil|exams?\b|examination|admission|learning outcome|proctor)"),
        (
            "4",
            r"\b(recruit|hiring|job applica|job candidate|cv screening|résumé|resume screening"
            r"|employee performance|worker performance|termination of employment"
            r"|task allocation)",
        ),
        (
            "5",
            r"\b(credit ?scor|creditworth|loan|life insurance|health insurance|public benefit"
            r"|social benefit|emergency call|triage)",
        ),
        ("6", r"\b(law enforcement|police|crime|criminal|offend|polygraph)"),
        ("7", r"\b(migrant|irregular migration|asylum|visas?\b|border control|residence permit)"),
        ("8", r"\b(judicial|court ruling|judge|election|referendum|voting)"),
    )
)


def indicated_areas(facts: InventoryFacts) -> dict[str, str]:
    """Annex III area → the inventory fact that points to it (``sector`` first)."""
    found: dict[str, str] = {}
    if facts.sector and facts.sector in SECTOR_AREA:
        found[SECTOR_AREA[facts.sector]] = "sector"
    for area, pattern in PURPOSE_AREA:
        if facts.intended_purpose and pattern.search(facts.intended_purpose):
            found.setdefault(area, "intended_purpose")
    return found


# --- The procedure ----------------------------------------------------------------------------


def _obligation(item: dict[str, str], *, ref: str | None = None) -> Obligation:
    return Obligation(
        article=item["article"],
        title=item["title"],
        role=item["role"],
        kind=item["kind"],
        summary=item["summary"],
        ref=ref or item.get("ref") or f"Art. {item['article']}",
    )


def _duty(ref: str) -> Obligation:
    return _obligation(duties()[ref])


def _sorted(obligations: Iterable[Obligation]) -> list[Obligation]:
    unique = {o.ref: o for o in obligations}
    return sorted(unique.values(), key=lambda o: (int(o.article), o.ref or "", o.title))


def _annex_i_citation(answers: Answers) -> str:
    if answers.annex_i_legislation is None:
        return "Annex I"
    item = annex_i_points()[answers.annex_i_legislation]
    return (
        f"Annex I Section {item['section']} point {item['point']} ({item['legislation']}, "
        f"{item['title']})"
    )


@dataclass
class _Draft:
    reasons: list[str]
    articles: list[str]
    warnings: list[ClassificationWarning]


def classify(answers: Answers, facts: InventoryFacts | None = None) -> Classification:
    """The classification ``answers`` lead to (pure and deterministic).

    ``facts`` (what the inventory records) only add warnings; they never change the tier.
    """
    draft = _Draft(reasons=[], articles=[], warnings=[])
    reasons, articles = draft.reasons, draft.articles
    role = answers.role
    common: dict[str, Any] = {
        "gpai_model": answers.gpai_model,
        "gpai_systemic_risk": answers.gpai_systemic_risk,
        "gpai_open_source": answers.gpai_open_source,
        "annex_iii_carve_outs": list(answers.annex_iii_carve_outs),
    }

    # 1. Art. 2: outside the Regulation.
    exclusion = answers.scope_exclusion
    if exclusion is ScopeExclusion.PRE_MARKET_RESEARCH and answers.real_world_testing:
        reasons.append(
            "Testing in real-world conditions is not covered by the Art. 2(8) exclusion: the "
            "Regulation applies (Arts. 57-61 on testing)."
        )
        articles.append("Art. 2(8)")
        exclusion = None
    if exclusion is not None:
        ref = SCOPE_EXCLUSION_REF[exclusion]
        reasons.append(
            f"Outside the Regulation under Art. {ref}: {scope_exclusions()[exclusion]['title']}. "
            "No obligations under Regulation (EU) 2024/1689 follow."
        )
        return Classification(
            tier=Tier.MINIMAL,
            route=Route.ART2_EXCLUDED,
            articles=[f"Art. {ref}"],
            obligations=[],
            reasons=reasons,
            scope_exclusion=exclusion,
            **common,
        )

    # 2. Art. 5: prohibited practices and the exceptions written into them.
    exceptions = art5_exceptions()
    excepted: dict[str, list[Art5Exception]] = {}
    for exception in answers.art5_exceptions:
        excepted.setdefault(exceptions[exception]["practice"], []).append(exception)
    routed_points: dict[str, str] = {}  # Annex III point → the Art. 5 ref that routed it
    prohibited: list[str] = []
    applied_exceptions: list[Art5Exception] = []
    practices = prohibited_practices()
    for practice in answers.prohibited_practices:
        if practice == RBI_PRACTICE and role is not OperatorRole.DEPLOYER:
            reasons.append(
                f"Art. {RBI_PRACTICE} prohibits the use of real-time remote biometric "
                "identification in publicly accessible spaces for law enforcement; it binds "
                f"the user (deployer), not the {role.value}. The system is listed in Annex III "
                "point 1(a)."
            )
            articles.append(f"Art. {RBI_PRACTICE}")
            routed_points.setdefault("1(a)", f"Art. {RBI_PRACTICE}")
            continue
        holding = _holding_exceptions(practice, excepted.get(practice, []), answers, draft)
        if not holding:
            prohibited.append(practice)
            continue
        for exception in holding:
            item = exceptions[exception]
            applied_exceptions.append(exception)
            articles.append(f"Art. {item['ref']}")
            routed_points.setdefault(item["annex_iii_point"], f"Art. {item['ref']}")
            reasons.append(
                f"Not prohibited: the exception in Art. {item['ref']} holds ({item['title']}). "
                f"The system is routed to Annex III point {item['annex_iii_point']}"
                + (f" ({item['note']})." if item.get("note") else ".")
            )
    if prohibited:
        for ref in prohibited:
            reasons.append(f"Prohibited practice Art. {ref}: {practices[ref]}.")
        reasons.append(
            "A prohibited AI practice may not be placed on the market, put into service or used "
            "in the Union; no other duties (and no transparency duties) are listed."
        )
        return Classification(
            tier=Tier.PROHIBITED,
            route=Route.ART5,
            articles=list(dict.fromkeys(["Art. 5", *(f"Art. {r}" for r in prohibited), *articles])),
            obligations=[],
            reasons=reasons,
            prohibited_practices=prohibited,
            art5_exceptions=sorted(set(applied_exceptions)),
            **common,
        )

    # 3. High risk: Art. 6(1) and Annex III (Art. 6(2)), the Art. 6(3) derogation.
    points = list(answers.annex_iii_points)
    for point in routed_points:
        if point not in points:
            points.append(point)
    order = list(annex_iii_points())
    points.sort(key=order.index)
    product_route = answers.annex_i_product and answers.annex_i_third_party_assessment
    annex_i = annex_i_points().get(answers.annex_i_legislation or "")
    section_b = product_route and annex_i is not None and annex_i["section"] == "B"
    if answers.annex_i_product and not answers.annex_i_third_party_assessment:
        reasons.append(
            "Annex I product without third-party conformity assessment: Art. 6(1)(b) is not "
            "met, so Art. 6(1) does not apply."
        )
    if product_route:
        articles += ["Art. 6(1)", _annex_i_citation(answers)]
        reasons.append(
            "Safety component of (or itself) a product under "
            f"{_annex_i_citation(answers)} requiring third-party conformity assessment: high "
            "risk under Art. 6(1)."
        )
        if annex_i is None:
            reasons.append("Name the Annex I legislation for a precise citation.")
    claimed = answers.exemption is not None or answers.provider_documented_exemption
    derogated = False
    if points and claimed:
        if product_route:
            reasons.append(
                "Art. 6(3) derogates only from Art. 6(2) (Annex III); the system is high-risk "
                "under Art. 6(1) as an Annex I product, so Art. 6(3) is irrelevant and no "
                "exemption is recorded."
            )
        elif answers.profiles_natural_persons:
            reasons.append(
                "The Art. 6(3) derogation does not apply: the system performs profiling of "
                "natural persons (Art. 6(3), last subparagraph)."
            )
        else:
            derogated = True
    exemption = answers.exemption if derogated else None
    for point in points:
        area, area_title, point_title = annex_iii_points()[point]
        via = routed_points.get(point)
        articles.append(f"Annex III point {point}")
        reasons.append(
            f"Listed in Annex III area {area} ({area_title}), point {point} ({point_title})"
            + (f", reached through the exception in {via}" if via else "")
            + (": high risk under Art. 6(2)." if not derogated else ".")
        )
    if points and not derogated:
        articles.append("Art. 6(2)")
    if derogated:
        letter = EXEMPTION_POINT[exemption] if exemption is not None else ""
        articles += [f"Art. 6(3){letter}" if letter else "Art. 6(3)", "Art. 6(4)"]
        text = f": {exemption_texts()[exemption]}" if exemption is not None else ""
        if role is OperatorRole.PROVIDER:
            reasons.append(
                f"Not high-risk under the Art. 6(3) derogation{text}. Rationale: "
                f"{answers.exemption_rationale}. As provider you document this assessment "
                "(Art. 6(4)) and register the system (Art. 49(2))."
            )
        else:
            reasons.append(
                f"Not high-risk: the provider documented an Art. 6(3) assessment{text} "
                "(Art. 6(4)) and registers the system (Art. 49(2)). It is the provider's "
                "assessment; the market surveillance authority may review it (Art. 80)."
            )
    for carve_out in answers.annex_iii_carve_outs:
        item = annex_iii_carve_outs()[carve_out]
        articles.append(f"Annex III point {item['point']}")
        reasons.append(
            f"Outside Annex III point {item['point']}: the point itself excludes this use "
            f"({item['title']})."
        )
    annex_iii_high = bool(points) and not derogated
    high = product_route or annex_iii_high

    triggered = sorted({TRANSPARENCY_REF[t] for t in answers.transparency})
    if high:
        tier, route = Tier.HIGH, (Route.ART6_1 if product_route else Route.ANNEX_III)
    elif triggered:
        tier, route = Tier.LIMITED, Route.ART50
    elif derogated:
        tier, route = Tier.MINIMAL, Route.ART6_3_EXEMPT
    elif answers.annex_iii_carve_outs:
        tier, route = Tier.MINIMAL, Route.ANNEX_III_CARVE_OUT
    elif answers.gpai_model:
        tier, route = Tier.MINIMAL, Route.GPAI
    else:
        tier, route = Tier.MINIMAL, Route.NONE

    # 4. Duties, per paragraph and per role.
    obligations: list[Obligation] = []
    acts_as_provider = role is OperatorRole.PROVIDER
    if high and role is not OperatorRole.PROVIDER and answers.value_chain_trigger is not None:
        trigger = value_chain_triggers()[answers.value_chain_trigger]
        acts_as_provider = True
        articles.append(f"Art. {trigger['ref']}")
        obligations.append(_duty("Art. 25(1)"))
        reasons.append(
            f"Art. {trigger['ref']}: the organisation {trigger['title'].lower()}, so it is "
            "considered the provider and takes on the provider obligations (Art. 16)."
        )
    elif answers.value_chain_trigger is not None:
        reasons.append("Art. 25(1) concerns high-risk AI systems only: no change of role.")
    annex_iii_duties = [p for p in points if annex_iii_points()[p][0] != CRITICAL_INFRA]
    # Art. 5(2): a deployer's use under an Art. 5(1)(h) exception needs the FRIA and registration.
    rbi_use = role is OperatorRole.DEPLOYER and any(
        art5_exceptions()[e]["practice"] == RBI_PRACTICE for e in applied_exceptions
    )
    if section_b and not annex_iii_high:
        reasons.append(
            "Annex I Section B product: under Art. 2(2) only Art. 6(1), Arts. 102-109 and 112 "
            "of this Regulation apply; the requirements reach it through the sectoral "
            "legislation. No duties are listed here."
        )
        articles.append("Art. 2(2)")
    elif high:
        if acts_as_provider:
            obligations += [_obligation(o) for o in _high_risk_provider_obligations()]
            if not answers.established_in_union:
                obligations.append(_duty("Art. 22(1)"))
                articles.append("Art. 22(1)")
            if annex_iii_high and annex_iii_duties:
                obligations.append(_duty("Art. 49(1)"))
            if annex_iii_high and len(annex_iii_duties) < len(points):
                obligations.append(_duty("Art. 49(5)"))
        if role is OperatorRole.DEPLOYER:
            obligations.append(_obligation(_role_obligation("26"), ref="Art. 26"))
            if annex_iii_high and annex_iii_duties:
                obligations.append(_duty("Art. 86(1)"))
                articles.append("Art. 86(1)")
                if art_27_applies(answers.deployer_category, annex_iii_duties):
                    obligations.append(_duty("Art. 27(1)"))
                    articles.append("Art. 27(1)")
                    reasons.append(_art_27_reason(answers.deployer_category, annex_iii_duties))
                elif rbi_use:
                    obligations.append(_duty("Art. 27(1)"))
                    articles.append("Art. 27(1)")
                elif answers.deployer_category is None:
                    reasons.append(
                        "Art. 27(1) binds bodies governed by public law, private entities "
                        "providing public services and deployers of Annex III points 5(b)/5(c): "
                        "answer `deployer_category` to decide whether it binds you."
                    )
                if answers.deployer_category in ART_49_3_DEPLOYERS or rbi_use:
                    obligations.append(_duty("Art. 49(3)"))
                if rbi_use:
                    articles.append("Art. 5(2)")
                    reasons.append(
                        "Art. 5(2): the use under the Art. 5(1)(h) exception is authorised only "
                        "once the law enforcement authority has completed the fundamental rights "
                        "impact assessment (Art. 27) and registered the system (Art. 49), "
                        "whatever kind of body was answered."
                    )
        if role is OperatorRole.IMPORTER:
            obligations.append(_obligation(_role_obligation("23"), ref="Art. 23"))
        if role is OperatorRole.DISTRIBUTOR:
            obligations.append(_obligation(_role_obligation("24"), ref="Art. 24"))
    if derogated and role is OperatorRole.PROVIDER:
        obligations += [_duty("Art. 6(4)"), _duty("Art. 49(2)")]
        articles.append("Art. 49(2)")
    registering = {o.ref for o in obligations} & {"Art. 49(1)", "Art. 49(2)", "Art. 49(3)"}
    areas = {annex_iii_points()[p][0] for p in points}
    # Art. 5(1)(h) concerns use "for the purposes of law enforcement": area 1 is certain then.
    law_enforcement = any(via.startswith(f"Art. {RBI_PRACTICE}") for via in routed_points.values())
    secure = sorted(
        areas & (SECURE_REGISTRATION_AREAS | ({BIOMETRICS_AREA} if law_enforcement else set()))
    )
    if registering and secure:
        articles.append("Art. 49(4)")
        reasons.append(
            f"Annex III area(s) {', '.join(secure)}: the registration goes to the secure "
            "non-public section of the EU database (Art. 49(4))."
        )
    elif registering and BIOMETRICS_AREA in areas:
        articles.append("Art. 49(4)")
        reasons.append(
            "Annex III area 1 (biometrics): the registration goes to the secure non-public "
            "section of the EU database (Art. 49(4)) only when the system is used in the areas "
            "of law enforcement, migration, asylum or border control management."
        )
    if not (section_b and not annex_iii_high):
        items = transparency_items()
        for ref in triggered:
            bound = TRANSPARENCY_ROLE[ref]
            articles.append(f"Art. {ref}")
            if bound is role or (bound is OperatorRole.PROVIDER and acts_as_provider):
                obligations.append(_duty(f"Art. {ref}"))
                reasons.append(f"Transparency duty Art. {ref} (yours as {bound.value}).")
            else:
                reasons.append(
                    f"Art. {ref} ({items[ref]['title']}) binds the {bound.value}, not the "
                    f"{role.value}."
                )
        if triggered:
            articles.append("Art. 50(5)")
        if role in {OperatorRole.PROVIDER, OperatorRole.DEPLOYER}:
            obligations.append(_duty("Art. 4"))
            articles.append("Art. 4")
    obligations += _gpai(answers, draft)
    if tier is Tier.MINIMAL and not reasons:
        reasons.append(
            "No prohibited practice, no high-risk route and no transparency trigger: minimal "
            "risk (voluntary codes of conduct, Art. 95)."
        )
    if facts is not None:
        _warn(answers, points, facts, draft)
    return Classification(
        tier=tier,
        route=route,
        articles=list(dict.fromkeys(articles)),
        obligations=_sorted(obligations),
        reasons=reasons,
        annex_iii_area=annex_iii_points()[points[0]][0] if points else None,
        annex_iii_point=points[0] if points else None,
        annex_iii_points=points,
        exemption=exemption,
        exemption_documented_by_provider=derogated and role is not OperatorRole.PROVIDER,
        transparency=triggered,
        art5_exceptions=sorted(set(applied_exceptions)),
        annex_i_section=annex_i["section"] if annex_i and answers.annex_i_product else None,
        annex_i_legislation=annex_i["legislation"] if annex_i and answers.annex_i_product else None,
        warnings=draft.warnings,
        **common,
    )


def art_27_applies(category: DeployerCategory | None, points: Iterable[str]) -> bool:
    """Art. 27(1): does a deployer of a high-risk system listed under ``points`` (Annex III,
    derogation not applying) owe the fundamental rights impact assessment? Never for point 2."""
    relevant = [p for p in points if annex_iii_points()[p][0] != CRITICAL_INFRA]
    if not relevant:
        return False
    return category in ART_27_DEPLOYERS or bool(ART_27_POINTS & set(relevant))


def owes_art_27(result: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Art. 27(1) from a stored classification (``result`` and ``answers`` as stored).

    A result with paragraph-level refs says so itself (``Art. 27(1)``). One stored by the first
    procedure, which had no refs and listed Art. 27 for every high-risk deployer, is decided
    again from its stored answers: the law, not that list, says who owes the assessment.
    """
    obligations = [o for o in result.get("obligations") or [] if isinstance(o, Mapping)]
    if any(o.get("ref") for o in obligations):
        return any(o.get("ref") == ART_27_REF for o in obligations)
    again = classify(stored_answers(dict(answers)))
    return any(o.ref == ART_27_REF for o in again.obligations)


def _art_27_reason(category: DeployerCategory | None, points: list[str]) -> str:
    if category in ART_27_DEPLOYERS and category is not None:
        who = deployer_categories()[category]["title"].lower()
        return f"Art. 27(1) binds you as a deployer that is {who}."
    named = sorted(ART_27_POINTS & set(points))
    return f"Art. 27(1) binds every deployer of Annex III point(s) {', '.join(named)}."


def _holding_exceptions(
    practice: str, claimed: list[Art5Exception], answers: Answers, draft: _Draft
) -> list[Art5Exception]:
    """The exceptions to ``practice`` that hold (Art. 5(1)(h) needs every condition too)."""
    if practice != RBI_PRACTICE or not claimed:
        return claimed
    missing = [c for c in RbiCondition if c not in answers.rbi_conditions]
    if not missing:
        return claimed
    conditions = rbi_conditions()
    draft.reasons.append(
        "The Art. 5(1)(h) objective(s) "
        + ", ".join(art5_exceptions()[e]["ref"] for e in claimed)
        + " do not lift the prohibition: missing "
        + "; ".join(f"Art. {conditions[c]['ref']} ({conditions[c]['title']})" for c in missing)
        + "."
    )
    draft.articles += sorted({f"Art. {conditions[c]['ref']}" for c in missing})
    return []


def _gpai(answers: Answers, draft: _Draft) -> list[Obligation]:
    """Chapter V duties: providers of general-purpose AI models only."""
    if not answers.gpai_model:
        return []
    systemic = answers.gpai_systemic_risk
    draft.articles += ["Art. 51", "Art. 53"] + (["Art. 52", "Art. 55"] if systemic else [])
    if answers.role is not OperatorRole.PROVIDER:
        draft.reasons.append(
            "General-purpose AI model: the duties of Arts. 53-55 bind the model's provider; "
            f"as {answers.role.value} you have none under Chapter V."
        )
        return []
    open_source = answers.gpai_open_source and not systemic
    found = [_duty("Art. 53(1)(c)"), _duty("Art. 53(1)(d)")]
    if open_source:
        draft.articles.append("Art. 53(2)")
        draft.reasons.append(
            "Free and open-source model with public parameters: Art. 53(2) lifts Art. 53(1)(a) "
            "and (b)."
        )
    else:
        found += [_duty("Art. 53(1)(a)"), _duty("Art. 53(1)(b)")]
        if answers.gpai_open_source:
            draft.reasons.append(
                "The Art. 53(2) open-source carve-out does not apply to models with systemic risk."
            )
    if not answers.established_in_union:
        if open_source:
            draft.articles.append("Art. 54(6)")
            draft.reasons.append("Art. 54(6): no authorised representative for this model.")
        else:
            found.append(_duty("Art. 54(1)"))
            draft.articles.append("Art. 54(1)")
    if systemic:
        found += [_duty("Art. 52(1)"), _duty("Art. 55(1)")]
    draft.reasons.append(
        "General-purpose AI model"
        + (" with systemic risk" if systemic else "")
        + ": as its provider you owe the Chapter V duties listed (Arts. 51-55)."
    )
    return found


def _warn(answers: Answers, points: list[str], facts: InventoryFacts, draft: _Draft) -> None:
    covered = {annex_iii_points()[p][0] for p in points}
    covered |= {
        annex_iii_points()[annex_iii_carve_outs()[c]["point"]][0]
        for c in answers.annex_iii_carve_outs
    }
    for area, fact in sorted(indicated_areas(facts).items()):
        if area in covered:
            continue
        if fact == "sector" and facts.sector == "healthcare" and answers.annex_i_product:
            continue  # a medical device (Annex I) rather than Annex III area 5
        value = facts.sector if fact == "sector" else facts.intended_purpose
        draft.warnings.append(
            ClassificationWarning(
                code="annex_iii_area_indicated",
                message=(
                    f"The inventory's {fact.replace('_', ' ')} ({value!r}) points to Annex III "
                    f"area {area} ({annex_iii_areas()[area]}), but no point of that area was "
                    "answered. Check Annex III before relying on this classification."
                ),
                annex_iii_area=area,
                fact=fact,
            )
        )
