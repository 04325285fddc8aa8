"""EU AI Act classification (risk service): the questionnaire, classifying, the current result."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import strawberry

from gateway.clients.classification import UpstreamClassification, UpstreamQuestionnaire
from gateway.schema.ai_systems import EUAIActTier, parse_ai_system_id
from gateway.schema.context import Info
from gateway.schema.errors import UserError, user_errors
from shared.errors import DomainError


@strawberry.enum(name="ClassificationRoute", description="The route by which the tier follows.")
class ClassificationRoute(enum.Enum):
    ART5 = "art5"
    ART6_1 = "art6_1"
    ANNEX_III = "annex_iii"
    ART6_3_EXEMPT = "art6_3_exempt"
    ART50 = "art50"
    NONE = "none"


@strawberry.enum(name="EUAIActRole", description="The organisation's role for a system.")
class EUAIActRole(enum.Enum):
    PROVIDER = "provider"
    DEPLOYER = "deployer"
    IMPORTER = "importer"
    DISTRIBUTOR = "distributor"


@strawberry.enum(name="EUAIActExemption", description="The Art. 6(3) conditions (a)-(d).")
class EUAIActExemption(enum.Enum):
    NARROW_PROCEDURAL_TASK = "narrow_procedural_task"
    IMPROVES_PRIOR_HUMAN_ACTIVITY = "improves_prior_human_activity"
    DETECTS_PATTERNS_WITHOUT_REPLACING_HUMAN = "detects_patterns_without_replacing_human"
    PREPARATORY_TASK = "preparatory_task"


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


@strawberry.type(
    name="ReclassificationRequest",
    description="Facts the classification relied on changed in the inventory.",
)
class ReclassificationRequest:
    requested_at: datetime
    changed_facts: list[str]


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
    annex_iii_area: str | None
    annex_iii_point: str | None
    exemption: EUAIActExemption | None = strawberry.field(
        description="The Art. 6(3) condition that applied, if any."
    )
    transparency: list[str] = strawberry.field(description="Art. 50 items triggered.")
    gpai_model: bool
    gpai_systemic_risk: bool
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
                    article=o.article, title=o.title, role=o.role, kind=o.kind, summary=o.summary
                )
                for o in c.obligations
            ],
            reasons=list(c.reasons),
            prohibited_practices=list(c.prohibited_practices),
            annex_iii_area=c.annex_iii_area,
            annex_iii_point=c.annex_iii_point,
            exemption=EUAIActExemption(c.exemption) if c.exemption else None,
            transparency=list(c.transparency),
            gpai_model=c.gpai_model,
            gpai_systemic_risk=c.gpai_systemic_risk,
            reclassification_requested=request is not None,
            reclassification_request=ReclassificationRequest(
                requested_at=request.requested_at, changed_facts=list(request.changed_facts)
            )
            if request
            else None,
            classified_at=c.classified_at,
            classified_by=c.classified_by,
        )


async def load_classification(info: Info, system_id: uuid.UUID) -> Classification | None:
    """The current classification of ``system_id`` through the request's DataLoader."""
    found = await info.context.loaders.classifications.load(system_id)
    return Classification.from_upstream(found) if found is not None else None


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
    prohibited_practices: list[str] = strawberry.field(
        default_factory=list, description="Art. 5 practices by reference, e.g. `5(1)(c)`."
    )
    annex_i_product: bool = False
    annex_i_third_party_assessment: bool = False
    annex_iii_area: str | None = None
    annex_iii_point: str | None = strawberry.field(default=None, description="E.g. `4(a)`.")
    profiles_natural_persons: bool = False
    exemption: EUAIActExemption | None = None
    exemption_rationale: str | None = strawberry.field(
        default=None, description="Required with `exemption`."
    )
    transparency: list[TransparencyTrigger] = strawberry.field(default_factory=list)
    gpai_model: bool = False
    gpai_systemic_risk: bool = False


ANSWER_FIELDS = (
    "role",
    "prohibited_practices",
    "annex_i_product",
    "annex_i_third_party_assessment",
    "annex_iii_area",
    "annex_iii_point",
    "profiles_natural_persons",
    "exemption",
    "exemption_rationale",
    "transparency",
    "gpai_model",
    "gpai_systemic_risk",
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


@strawberry.type
class ClassificationQuery:
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
        try:
            created = await info.context.clients.classification.classify(
                parse_ai_system_id(input.system_id), answers
            )
        except DomainError as error:
            errors = user_errors(error)
            if errors is None:
                raise
            return ClassifyAISystemPayload(classification=None, errors=errors)
        info.context.loaders.classifications.prime(created.system_id, created, force=True)
        return ClassifyAISystemPayload(
            classification=Classification.from_upstream(created), errors=[]
        )
