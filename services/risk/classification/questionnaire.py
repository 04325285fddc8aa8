"""The classification questionnaire, built from the reference data (for frontends to render)."""

from __future__ import annotations

from functools import cache

from services.risk.classification.procedure import (
    EXEMPTION_POINT,
    TRANSPARENCY_REF,
    OperatorRole,
    annex_iii_areas,
    annex_iii_points,
    exemption_texts,
    prohibited_practices,
    transparency_items,
)
from services.risk.classification.schemas import Question, Questionnaire, QuestionOption
from services.risk.reference import load_reference


@cache
def questionnaire() -> Questionnaire:
    reference = load_reference("eu_ai_act")
    roles = {r["id"]: r for r in reference["roles"]}
    article_6 = reference["article_6"]
    items = transparency_items()
    questions = [
        Question(
            id="role",
            text="What is your organisation's role for this AI system?",
            kind="single",
            required=True,
            refs=[roles[r.value]["ref"] for r in OperatorRole],
            options=[
                QuestionOption(
                    value=r.value, label=roles[r.value]["about"], ref=roles[r.value]["ref"]
                )
                for r in OperatorRole
            ],
        ),
        Question(
            id="prohibited_practices",
            text="Does the system engage in any of these practices?",
            kind="multiple",
            required=False,
            refs=["Art. 5"],
            options=[
                QuestionOption(value=ref, label=title, ref=f"Art. {ref}")
                for ref, title in prohibited_practices().items()
            ],
            help="Any one makes the system prohibited. Mind each practice's exceptions.",
        ),
        Question(
            id="annex_i_product",
            text="Is the system a safety component of a product, or itself a product, covered by "
            "the Union harmonisation legislation listed in Annex I?",
            kind="boolean",
            required=False,
            refs=["Art. 6(1)", "Annex I"],
        ),
        Question(
            id="annex_i_third_party_assessment",
            text="Must that product undergo a third-party conformity assessment?",
            kind="boolean",
            required=False,
            refs=["Art. 6(1)(b)"],
            help=article_6["6(1)"],
            shown_when="annex_i_product",
        ),
        Question(
            id="annex_iii_area",
            text="Which Annex III area is the system used in, if any?",
            kind="single",
            required=False,
            refs=["Art. 6(2)", "Annex III"],
            options=[
                QuestionOption(value=area, label=title, ref=f"Annex III({area})")
                for area, title in annex_iii_areas().items()
            ],
        ),
        Question(
            id="annex_iii_point",
            text="Which point of that Annex III area?",
            kind="single",
            required=False,
            refs=["Annex III"],
            options=[
                QuestionOption(value=point, label=title, ref=f"Annex III point {point}", group=area)
                for point, (area, _, title) in annex_iii_points().items()
            ],
            shown_when="annex_iii_area",
        ),
        Question(
            id="profiles_natural_persons",
            text="Does the system perform profiling of natural persons?",
            kind="boolean",
            required=False,
            refs=["Art. 6(3)"],
            help=article_6["6(3)"]["override"],
            shown_when="annex_iii_point",
        ),
        Question(
            id="exemption",
            text="Does an Art. 6(3) condition apply (no significant risk of harm)?",
            kind="single",
            required=False,
            refs=["Art. 6(3)", "Art. 6(4)"],
            options=[
                QuestionOption(value=c.value, label=text, ref=f"Art. 6(3){EXEMPTION_POINT[c]}")
                for c, text in exemption_texts().items()
            ],
            help=article_6["6(3)"]["rule"],
            shown_when="annex_iii_point",
        ),
        Question(
            id="exemption_rationale",
            text="Why does the system pose no significant risk of harm?",
            kind="text",
            required=False,
            refs=["Art. 6(4)"],
            help="Required when an exemption is claimed. " + article_6["6(4)"],
            shown_when="exemption",
        ),
        Question(
            id="transparency",
            text="Which of these apply to the system?",
            kind="multiple",
            required=False,
            refs=["Art. 50"],
            options=[
                QuestionOption(value=trigger.value, label=items[ref]["title"], ref=f"Art. {ref}")
                for trigger, ref in TRANSPARENCY_REF.items()
            ],
        ),
        Question(
            id="gpai_model",
            text="Is it a general-purpose AI model?",
            kind="boolean",
            required=False,
            refs=["Art. 3(63)", "Art. 51"],
        ),
        Question(
            id="gpai_systemic_risk",
            text="Is it a general-purpose AI model with systemic risk?",
            kind="boolean",
            required=False,
            refs=["Art. 51", "Art. 55"],
            shown_when="gpai_model",
        ),
    ]
    return Questionnaire(regulation=reference["regulation"]["id"], questions=questions)
