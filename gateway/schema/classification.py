"""EU AI Act classification (risk service): the questionnaire, classifying, the current result."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from gateway.clients.classification import (
    UpstreamClassification,
    UpstreamClassificationNeeded,
    UpstreamClassificationSummary,
    UpstreamQuestionnaire,
)
from gateway.schema.ai_systems import AISystem, EUAIActTier, parse_ai_system_id
from gateway.schema.context import Info
from gateway.schema.errors import UserError, attempt
from gateway.schema.improvement import plain_edges
from gateway.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Position, check_page_size


@strawberry.enum(name="ClassificationRoute", description="The route by which the tier follows.")
class ClassificationRoute(enum.Enum):
    ART2_EXCLUDED = strawberry.enum_value(
        "art2_excluded", description="Outside the Regulation under an Art. 2 exclusion."
    )
    ART5 = strawberry.enum_value("art5", description="A prohibited practice (Art. 5).")
    ART6_1 = strawberry.enum_value(
        "art6_1", description="High risk as (a safety component of) an Annex I product."
    )
    ANNEX_III = strawberry.enum_value(
        "annex_iii", description="High risk under Art. 6(2) and Annex III."
    )
    ART6_3_EXEMPT = strawberry.enum_value(
        "art6_3_exempt", description="Annex III, but not high-risk under the Art. 6(3) derogation."
    )
    ANNEX_III_CARVE_OUT = strawberry.enum_value(
        "annex_iii_carve_out", description="A use that the Annex III point itself excludes."
    )
    ART50 = strawberry.enum_value("art50", description="Art. 50 transparency duties only.")
    GPAI = strawberry.enum_value(
        "gpai", description="A general-purpose AI model: the duties of Arts. 51-55."
    )
    NONE = strawberry.enum_value("none", description="No specific duties under the Act.")


@strawberry.enum(name="EUAIActRole", description="The organisation's role for a system.")
class EUAIActRole(enum.Enum):
    PROVIDER = "provider"
    DEPLOYER = "deployer"
    IMPORTER = "importer"
    DISTRIBUTOR = "distributor"


_ROLES = frozenset(r.value for r in EUAIActRole)


@strawberry.enum(name="EUAIActExemption", description="The Art. 6(3) conditions (a)-(d).")
class EUAIActExemption(enum.Enum):
    NARROW_PROCEDURAL_TASK = "narrow_procedural_task"
    IMPROVES_PRIOR_HUMAN_ACTIVITY = "improves_prior_human_activity"
    DETECTS_PATTERNS_WITHOUT_REPLACING_HUMAN = "detects_patterns_without_replacing_human"
    PREPARATORY_TASK = "preparatory_task"


@strawberry.enum(name="EUAIActScopeExclusion", description="Art. 2 exits from the Regulation.")
class EUAIActScopeExclusion(enum.Enum):
    MILITARY_DEFENCE_NATIONAL_SECURITY = "military_defence_national_security"
    SCIENTIFIC_RESEARCH = "scientific_research"
    PRE_MARKET_RESEARCH = "pre_market_research"
    PERSONAL_NON_PROFESSIONAL = "personal_non_professional"


@strawberry.enum(
    name="EUAIActArt5Exception", description="Exceptions written into the Art. 5(1) practices."
)
class EUAIActArt5Exception(enum.Enum):
    EMOTION_RECOGNITION_MEDICAL_OR_SAFETY = "emotion_recognition_medical_or_safety"
    CRIME_RISK_SUPPORTS_HUMAN_ASSESSMENT = "crime_risk_supports_human_assessment"
    CRIME_RISK_NOT_SOLELY_PROFILING = "crime_risk_not_solely_profiling"
    BIOMETRIC_DATASET_LABELLING_OR_LAW_ENFORCEMENT = (
        "biometric_dataset_labelling_or_law_enforcement"
    )
    RBI_TARGETED_VICTIM_SEARCH = "rbi_targeted_victim_search"
    RBI_IMMINENT_THREAT = "rbi_imminent_threat"
    RBI_SUSPECT_OF_ANNEX_II_OFFENCE = "rbi_suspect_of_annex_ii_offence"


@strawberry.enum(
    name="EUAIActRbiCondition",
    description="What Art. 5(2), 5(3) and 5(5) require before an Art. 5(1)(h)(i)-(iii) use.",
)
class EUAIActRbiCondition(enum.Enum):
    TARGETED_AND_LIMITED = "targeted_and_limited"
    FRIA_AND_REGISTRATION = "fria_and_registration"
    PRIOR_AUTHORISATION = "prior_authorisation"
    NATIONAL_LAW_AUTHORISES = "national_law_authorises"


@strawberry.enum(
    name="EUAIActAnnexIIICarveOut", description="Uses an Annex III point itself excludes."
)
class EUAIActAnnexIIICarveOut(enum.Enum):
    BIOMETRIC_VERIFICATION_ONLY = "biometric_verification_only"
    FINANCIAL_FRAUD_DETECTION = "financial_fraud_detection"
    TRAVEL_DOCUMENT_VERIFICATION = "travel_document_verification"
    CAMPAIGN_ADMINISTRATION_TOOLS = "campaign_administration_tools"


@strawberry.enum(
    name="EUAIActDeployerCategory", description="Which deployers Arts. 27(1) and 49(3) name."
)
class EUAIActDeployerCategory(enum.Enum):
    PUBLIC_AUTHORITY = "public_authority"
    BODY_GOVERNED_BY_PUBLIC_LAW = "body_governed_by_public_law"
    PRIVATE_ENTITY_PROVIDING_PUBLIC_SERVICES = "private_entity_providing_public_services"
    OTHER = "other"


@strawberry.enum(
    name="EUAIActValueChainTrigger",
    description="Art. 25(1)(a)-(c): when a distributor, importer or deployer becomes the provider.",
)
class EUAIActValueChainTrigger(enum.Enum):
    OWN_NAME_OR_TRADEMARK = "own_name_or_trademark"
    SUBSTANTIAL_MODIFICATION = "substantial_modification"
    INTENDED_PURPOSE_CHANGED_TO_HIGH_RISK = "intended_purpose_changed_to_high_risk"


@strawberry.enum(name="TransparencyTrigger", description="What triggers Art. 50 obligations.")
class TransparencyTrigger(enum.Enum):
    INTERACTS_WITH_PEOPLE = "interacts_with_people"
    GENERATES_SYNTHETIC_CONTENT = "generates_synthetic_content"
    EMOTION_RECOGNITION_OR_BIOMETRIC_CATEGORISATION = (
        "emotion_recognition_or_biometric_categorisation"
    )
    DEEP_FAKES = "deep_fakes"


@strawberry.type(name="EUAIActObligation", description="An obligation that follows.")
class EUAIActObligation:
    article: str
    title: str
    role: str = strawberry.field(description="Whom the Regulation addresses.")
    kind: str
    summary: str
    ref: str | None = strawberry.field(
        description="The paragraph, e.g. `Art. 49(3)`; null on classifications made before "
        "paragraph-level citations."
    )


@strawberry.type(
    name="ClassificationWarning",
    description="An inventory fact (sector, intended purpose) the answers seem to contradict.",
)
class ClassificationWarning:
    code: str
    message: str
    annex_iii_area: str | None = strawberry.field(description="The Annex III area it points to.")
    fact: str | None = strawberry.field(description="The inventory fact, e.g. `sector`.")


@strawberry.type(
    name="ReclassificationRequest",
    description="Facts the classification relied on changed in the inventory.",
)
class ReclassificationRequest:
    requested_at: datetime
    changed_facts: list[str]

    @classmethod
    def of(cls, request: Any) -> ReclassificationRequest | None:
        """From the upstream's request (full or summary read), or None when there is none."""
        if request is None:
            return None
        return cls(requested_at=request.requested_at, changed_facts=list(request.changed_facts))


@strawberry.type(name="Classification", description="An AI system's EU AI Act classification.")
class Classification:
    system_id: uuid.UUID = strawberry.field(description="The register id of the system.")
    version: int = strawberry.field(description="1, 2, … per system; the newest is current.")
    tier: EUAIActTier
    route: ClassificationRoute
    role: EUAIActRole | None
    articles: list[str] = strawberry.field(description="The articles relied on.")
    obligations: list[EUAIActObligation] = strawberry.field(
        description="What follows for the organisation's role."
    )
    reasons: list[str]
    prohibited_practices: list[str]
    annex_iii_area: str | None = strawberry.field(description="The area of the first point.")
    annex_iii_point: str | None = strawberry.field(
        description="The first of `annexIiiPoints` (for older clients)."
    )
    annex_iii_points: list[str] = strawberry.field(
        description="Every Annex III point the system falls under, e.g. `4(a)`."
    )
    annex_iii_carve_outs: list[EUAIActAnnexIIICarveOut] = strawberry.field(
        description="Uses an Annex III point itself excludes."
    )
    art5_exceptions: list[EUAIActArt5Exception] = strawberry.field(
        description="Art. 5 exceptions that hold (the practice is not prohibited)."
    )
    scope_exclusion: EUAIActScopeExclusion | None = strawberry.field(
        description="The Art. 2 exclusion that puts the system outside the Regulation."
    )
    annex_i_section: str | None = strawberry.field(description="Annex I section (A or B).")
    annex_i_legislation: str | None = strawberry.field(
        description="The Annex I Union harmonisation legislation."
    )
    exemption: EUAIActExemption | None = strawberry.field(
        description="The Art. 6(3) condition that applied, if any."
    )
    exemption_documented_by_provider: bool = strawberry.field(
        description="The Art. 6(3) derogation is the provider's documented assessment (Art. "
        "6(4)) that this organisation, not being the provider, relies on."
    )
    transparency: list[str] = strawberry.field(description="Art. 50 items triggered.")
    gpai_model: bool
    gpai_systemic_risk: bool
    gpai_open_source: bool = strawberry.field(
        description="Released as open source (the Art. 53(2) carve-out)."
    )
    warnings: list[ClassificationWarning] = strawberry.field(
        description="Inventory facts the answers seem to contradict."
    )
    reclassification_requested: bool
    reclassification_request: ReclassificationRequest | None
    classified_at: datetime
    classified_by: str

    @classmethod
    def from_upstream(cls, c: UpstreamClassification) -> Classification:
        role = c.answers.get("role")
        request = c.reclassification_requested
        return cls(
            system_id=c.system_id,
            version=c.version,
            tier=EUAIActTier(c.tier),
            route=ClassificationRoute(c.route),
            role=EUAIActRole(role) if role in {r.value for r in EUAIActRole} else None,
            articles=list(c.articles),
            obligations=[
                EUAIActObligation(
                    article=o.article,
                    title=o.title,
                    role=o.role,
                    kind=o.kind,
                    summary=o.summary,
                    ref=o.ref,
                )
                for o in c.obligations
            ],
            reasons=list(c.reasons),
            prohibited_practices=list(c.prohibited_practices),
            annex_iii_area=c.annex_iii_area,
            annex_iii_point=c.annex_iii_point,
            annex_iii_points=list(c.annex_iii_points),
            annex_iii_carve_outs=[EUAIActAnnexIIICarveOut(x) for x in c.annex_iii_carve_outs],
            art5_exceptions=[EUAIActArt5Exception(x) for x in c.art5_exceptions],
            scope_exclusion=EUAIActScopeExclusion(c.scope_exclusion) if c.scope_exclusion else None,
            annex_i_section=c.annex_i_section,
            annex_i_legislation=c.annex_i_legislation,
            exemption=EUAIActExemption(c.exemption) if c.exemption else None,
            exemption_documented_by_provider=c.exemption_documented_by_provider,
            transparency=list(c.transparency),
            gpai_model=c.gpai_model,
            gpai_systemic_risk=c.gpai_systemic_risk,
            gpai_open_source=c.gpai_open_source,
            warnings=[
                ClassificationWarning(
                    code=w.code, message=w.message, annex_iii_area=w.annex_iii_area, fact=w.fact
                )
                for w in c.warnings
            ],
            reclassification_requested=request is not None,
            reclassification_request=ReclassificationRequest.of(request),
            classified_at=c.classified_at,
            classified_by=c.classified_by,
        )


def classification_of(found: UpstreamClassification | None) -> Classification | None:
    """A system's current classification as its loader found it (None: never classified)."""
    return Classification.from_upstream(found) if found is not None else None


# The fields of ``Classification`` a summary (``view=summary`` of the risk service) answers.
# An operation whose ``classification`` selects only these is served from the summary batch.
SUMMARY_FIELDS = frozenset(
    {
        "__typename",
        "systemId",
        "version",
        "tier",
        "route",
        "role",
        "articles",
        "reclassificationRequested",
        "reclassificationRequest",
        "classifiedAt",
        "classifiedBy",
    }
)


def classification_of_summary(
    found: UpstreamClassificationSummary | None,
) -> Classification | None:
    """A classification built from its summary, for an operation that selects only
    :data:`SUMMARY_FIELDS` of it: the other fields are left empty and are never read (GraphQL
    resolves only what the operation selects)."""
    if found is None:
        return None
    request = found.reclassification_requested
    return Classification(
        system_id=found.system_id,
        version=found.version,
        tier=EUAIActTier(found.tier),
        route=ClassificationRoute(found.route),
        role=EUAIActRole(found.role) if found.role in _ROLES else None,
        articles=list(found.articles),
        obligations=[],
        reasons=[],
        prohibited_practices=[],
        annex_iii_area=None,
        annex_iii_point=None,
        annex_iii_points=[],
        annex_iii_carve_outs=[],
        art5_exceptions=[],
        scope_exclusion=None,
        annex_i_section=None,
        annex_i_legislation=None,
        exemption=None,
        exemption_documented_by_provider=False,
        transparency=[],
        gpai_model=False,
        gpai_systemic_risk=False,
        gpai_open_source=False,
        warnings=[],
        reclassification_requested=request is not None,
        reclassification_request=ReclassificationRequest.of(request),
        classified_at=found.classified_at,
        classified_by=found.classified_by,
    )


@strawberry.type(name="EUAIActQuestionOption")
class EUAIActQuestionOption:
    value: str
    label: str
    ref: str | None
    group: str | None = strawberry.field(description="E.g. the Annex III area of a point.")


@strawberry.type(name="EUAIActQuestion", description="One question of the questionnaire.")
class EUAIActQuestion:
    id: str = strawberry.field(description="The input field the answer fills (snake_case).")
    text: str
    kind: str = strawberry.field(description="single, multiple, boolean or text.")
    required: bool
    refs: list[str]
    options: list[EUAIActQuestionOption]
    help: str | None
    shown_when: str | None


@strawberry.type(name="EUAIActQuestionnaire")
class EUAIActQuestionnaire:
    regulation: str
    questions: list[EUAIActQuestion]

    @classmethod
    def from_upstream(cls, q: UpstreamQuestionnaire) -> EUAIActQuestionnaire:
        return cls(
            regulation=q.regulation,
            questions=[
                EUAIActQuestion(
                    id=x.id,
                    text=x.text,
                    kind=x.kind,
                    required=x.required,
                    refs=list(x.refs),
                    options=[
                        EUAIActQuestionOption(
                            value=o.value, label=o.label, ref=o.ref, group=o.group
                        )
                        for o in x.options
                    ],
                    help=x.help,
                    shown_when=x.shown_when,
                )
                for x in q.questions
            ],
        )


@strawberry.input(name="ClassifyAISystemInput", description="The answers of the questionnaire.")
class ClassifyAISystemInput:
    system_id: strawberry.ID = strawberry.field(description="The system's ID (or register UUID).")
    role: EUAIActRole
    established_in_union: bool = strawberry.field(
        default=True,
        description="The provider is established in the Union (otherwise Arts. 22(1), 54(1)).",
    )
    scope_exclusion: EUAIActScopeExclusion | None = strawberry.field(
        default=None, description="An Art. 2 exclusion the system falls under."
    )
    real_world_testing: bool = strawberry.field(
        default=False,
        description="Tested in real-world conditions (not covered by the Art. 2(8) exclusion).",
    )
    prohibited_practices: list[str] = strawberry.field(
        default_factory=list, description="Art. 5 practices by reference, e.g. `5(1)(c)`."
    )
    art5_exceptions: list[EUAIActArt5Exception] = strawberry.field(
        default_factory=list,
        description="Exceptions written into those Art. 5(1) practices that hold.",
    )
    rbi_conditions: list[EUAIActRbiCondition] = strawberry.field(
        default_factory=list,
        description="Conditions of Art. 5(2), 5(3), 5(5) met for an Art. 5(1)(h) exception.",
    )
    annex_i_product: bool = False
    annex_i_third_party_assessment: bool = False
    annex_i_legislation: str | None = strawberry.field(
        default=None,
        description="The Annex I point of the product's legislation, `1`-`20` (Section A: 1-12, "
        "Section B: 13-20).",
    )
    annex_iii_points: list[str] = strawberry.field(
        default_factory=list,
        description='Every Annex III point the system falls under, e.g. `["4(a)", "5(b)"]`.',
    )
    annex_iii_carve_outs: list[EUAIActAnnexIIICarveOut] = strawberry.field(
        default_factory=list, description="Uses an Annex III point itself excludes."
    )
    annex_iii_area: str | None = strawberry.field(
        default=None, description="With `annexIiiPoint` (older clients): its area, checked."
    )
    annex_iii_point: str | None = strawberry.field(
        default=None,
        description="One Annex III point, e.g. `4(a)` (older clients; added to `annexIiiPoints`).",
    )
    profiles_natural_persons: bool = False
    exemption: EUAIActExemption | None = strawberry.field(
        default=None,
        description="The Art. 6(3) condition: the provider's own assessment, or (any other "
        "role, with `providerDocumentedExemption`) the one the provider documented.",
    )
    exemption_rationale: str | None = strawberry.field(
        default=None, description="Required with a provider's `exemption`."
    )
    provider_documented_exemption: bool = strawberry.field(
        default=False,
        description="Not the provider: the provider documented an Art. 6(3) assessment (Art. "
        "6(4)) and registered the system (Art. 49(2)).",
    )
    deployer_category: EUAIActDeployerCategory | None = strawberry.field(
        default=None, description="Deployers: the kind of body (Arts. 27(1), 49(3))."
    )
    value_chain_trigger: EUAIActValueChainTrigger | None = strawberry.field(
        default=None,
        description="Not the provider: what makes the organisation the provider (Art. 25(1)).",
    )
    transparency: list[TransparencyTrigger] = strawberry.field(default_factory=list)
    gpai_model: bool = False
    gpai_systemic_risk: bool = False
    gpai_open_source: bool = strawberry.field(
        default=False,
        description="A GPAI model released under a free and open-source licence with its "
        "parameters public (Arts. 53(2), 54(6)).",
    )


ANSWER_FIELDS = (
    "role",
    "established_in_union",
    "scope_exclusion",
    "real_world_testing",
    "prohibited_practices",
    "art5_exceptions",
    "rbi_conditions",
    "annex_i_product",
    "annex_i_third_party_assessment",
    "annex_i_legislation",
    "annex_iii_points",
    "annex_iii_carve_outs",
    "annex_iii_area",
    "annex_iii_point",
    "profiles_natural_persons",
    "exemption",
    "exemption_rationale",
    "provider_documented_exemption",
    "deployer_category",
    "value_chain_trigger",
    "transparency",
    "gpai_model",
    "gpai_systemic_risk",
    "gpai_open_source",
)


def _rest(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_rest(v) for v in value]
    return value


@strawberry.type(name="ClassifyAISystemPayload")
class ClassifyAISystemPayload:
    classification: Classification | None = strawberry.field(
        description="The new current classification; null when `errors` is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was classified (ValidationError points at the answer)."
    )


@strawberry.enum(name="ClassificationNeededReason")
class ClassificationNeededReason(enum.Enum):
    NEVER_CLASSIFIED = "never_classified"
    RECLASSIFICATION_REQUESTED = "reclassification_requested"


@strawberry.type(
    name="ClassificationNeeded", description="A system to classify (or to classify again)."
)
class ClassificationNeeded:
    system_id: uuid.UUID
    name: str = strawberry.field(description="The system's name when the risk service synced it.")
    reason: ClassificationNeededReason
    current_version: int | None = strawberry.field(
        description="The current classification's version; null when never classified."
    )

    @strawberry.field(description="The system in the register (batched across the page).")  # type: ignore[untyped-decorator]
    async def ai_system(self, info: Info) -> AISystem | None:
        found = await info.context.loaders.inventory_systems.load(self.system_id)
        return AISystem.from_upstream(found) if found is not None else None

    @classmethod
    def from_upstream(cls, item: UpstreamClassificationNeeded) -> ClassificationNeeded:
        return cls(
            system_id=item.system_id,
            name=item.name,
            reason=ClassificationNeededReason(item.reason),
            current_version=item.current_version,
        )


@strawberry.type(name="ClassificationNeededEdge")
class ClassificationNeededEdge:
    cursor: str
    node: ClassificationNeeded


@strawberry.type(name="ClassificationNeededConnection")
class ClassificationNeededConnection:
    page_info: relay.PageInfo
    edges: list[ClassificationNeededEdge]


@strawberry.type
class ClassificationQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        name="classificationsNeeded",
        description=f"Systems never classified or asked to be reclassified, oldest first. "
        f"`first` is at most {MAX_PAGE_SIZE}.",
    )
    async def classifications_needed(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> ClassificationNeededConnection:
        check_page_size(first)
        start = Position.decode(after)
        page = await info.context.clients.classification.needed(
            limit=start.skip + first, after=start.upstream
        )
        edges, page_info = plain_edges(page.items[start.skip :], page.next_cursor, start, after)
        return ClassificationNeededConnection(
            page_info=page_info,
            edges=[
                ClassificationNeededEdge(cursor=c, node=ClassificationNeeded.from_upstream(n))
                for c, n in edges
            ],
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        name="euAiActQuestionnaire",
        description="The EU AI Act classification questions and their allowed answers.",
    )
    async def eu_ai_act_questionnaire(self, info: Info) -> EUAIActQuestionnaire:
        found = await info.context.clients.classification.questionnaire()
        return EUAIActQuestionnaire.from_upstream(found)


@strawberry.type
class ClassificationMutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        name="classifyAISystem",
        description="Classify an AI system under the EU AI Act from the questionnaire's answers "
        "(roles: admin, manager, risk_owner, contributor); the result becomes the current one.",
    )
    async def classify_ai_system(
        self, info: Info, input: ClassifyAISystemInput
    ) -> ClassifyAISystemPayload:
        answers = {f: _rest(getattr(input, f)) for f in ANSWER_FIELDS}
        created, errors = await attempt(
            lambda: info.context.clients.classification.classify(
                parse_ai_system_id(input.system_id), answers
            ),
            kind="AISystem",
            resource_id=input.system_id,
        )
        if created is None:
            return ClassifyAISystemPayload(classification=None, errors=errors)
        info.context.loaders.classifications.prime(created.system_id, created, force=True)
        return ClassifyAISystemPayload(
            classification=Classification.from_upstream(created), errors=[]
        )
