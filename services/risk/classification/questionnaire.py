"""The classification questionnaire, built from the reference data (for frontends to render)."""

from __future__ import annotations

from functools import cache

from services.risk.classification.procedure import (
    EXEMPTION_POINT,
    SCOPE_EXCLUSION_REF,
    TRANSPARENCY_REF,
    TRANSPARENCY_ROLE,
    OperatorRole,
    annex_i_points,
    annex_iii_carve_outs,
    annex_iii_points,
    art5_exceptions,
    deployer_categories,
    exemption_texts,
    prohibited_practices,
    rbi_conditions,
    scope_exclusions,
    transparency_items,
    value_chain_triggers,
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
            id="established_in_union",
            text="Is your organisation established in the European Union?",
            kind="boolean",
            required=False,
            refs=["Art. 22(1)", "Art. 54(1)"],
            help="Providers established in a third country appoint an authorised "
            "representative in the Union. Defaults to yes.",
            shown_when="role=provider",
        ),
        Question(
            id="scope_exclusion",
            text="Does the system fall under one of these exclusions from the Regulation?",
            kind="single",
            required=False,
            refs=["Art. 2"],
            options=[
                QuestionOption(
                    value=e.value, label=item["title"], ref=f"Art. {SCOPE_EXCLUSION_REF[e]}"
                )
                for e, item in scope_exclusions().items()
            ],
        ),
        Question(
            id="real_world_testing",
            text="Is the system being tested in real-world conditions?",
            kind="boolean",
            required=False,
            refs=["Art. 2(8)", "Art. 60"],
            help="Testing in real-world conditions is not covered by the Art. 2(8) exclusion.",
            shown_when="scope_exclusion=pre_market_research",
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
            help="Any one makes the system prohibited unless an exception written into the "
            "practice holds (asked next).",
        ),
        Question(
            id="art5_exceptions",
            text="Does one of the exceptions written into those practices hold?",
            kind="multiple",
            required=False,
            refs=["Art. 5(1)(d)", "Art. 5(1)(f)", "Art. 5(1)(g)", "Art. 5(1)(h)"],
            options=[
                QuestionOption(
                    value=e.value,
                    label=item["title"],
                    ref=f"Art. {item['ref']}",
                    group=item["practice"],
                )
                for e, item in art5_exceptions().items()
            ],
            help="A system under an exception is not prohibited; it is high-risk under the "
            "Annex III point that then applies.",
            shown_when="prohibited_practices",
        ),
        Question(
            id="rbi_conditions",
            text="Which conditions for real-time remote biometric identification are met?",
            kind="multiple",
            required=False,
            refs=["Art. 5(2)", "Art. 5(3)", "Art. 5(5)"],
            options=[
                QuestionOption(value=c.value, label=item["title"], ref=f"Art. {item['ref']}")
                for c, item in rbi_conditions().items()
            ],
            help="Every one is needed for an Art. 5(1)(h)(i)-(iii) exception.",
            shown_when="art5_exceptions",
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
            id="annex_i_legislation",
            text="Which Union harmonisation legislation in Annex I covers the product?",
            kind="single",
            required=False,
            refs=["Annex I", "Art. 2(2)"],
            options=[
                QuestionOption(
                    value=point,
                    label=f"{item['legislation']}: {item['title']}",
                    ref=f"Annex I Section {item['section']} point {point}",
                    group=item["section"],
                )
                for point, item in annex_i_points().items()
            ],
            help="Section B legislation: only Art. 6(1), Arts. 102-109 and 112 apply (Art. 2(2)).",
            shown_when="annex_i_product",
        ),
        Question(
            id="annex_iii_points",
            text="Which Annex III points does the system fall under? (Every one that applies.)",
            kind="multiple",
            required=False,
            refs=["Art. 6(2)", "Annex III"],
            options=[
                QuestionOption(value=point, label=title, ref=f"Annex III point {point}", group=area)
                for point, (area, _, title) in annex_iii_points().items()
            ],
        ),
        Question(
            id="annex_iii_carve_outs",
            text="Is the system one of these uses, which the Annex III point itself excludes?",
            kind="multiple",
            required=False,
            refs=["Annex III"],
            options=[
                QuestionOption(
                    value=c.value,
                    label=item["title"],
                    ref=f"Annex III point {item['point']}",
                    group=annex_iii_points()[item["point"]][0],
                )
                for c, item in annex_iii_carve_outs().items()
            ],
        ),
        Question(
            id="profiles_natural_persons",
            text="Does the system perform profiling of natural persons?",
            kind="boolean",
            required=False,
            refs=["Art. 6(3)"],
            help=article_6["6(3)"]["override"],
            shown_when="annex_iii_points",
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
            help=article_6["6(3)"]["rule"]
            + ". The derogation is the provider's own documented assessment (Art. 6(4)); any "
            "other role gives the condition the provider documented.",
            shown_when="annex_iii_points",
        ),
        Question(
            id="provider_documented_exemption",
            text="Did the provider document an Art. 6(3) assessment that the system is not "
            "high-risk (and register it under Art. 49(2))?",
            kind="boolean",
            required=False,
            refs=["Art. 6(4)", "Art. 49(2)"],
            help="Asked of deployers, importers and distributors: the derogation is the "
            "provider's assessment, not yours.",
            shown_when="annex_iii_points&role!=provider",
        ),
        Question(
            id="exemption_rationale",
            text="Why does the system pose no significant risk of harm?",
            kind="text",
            required=False,
            refs=["Art. 6(4)"],
            help="Required when the provider claims an exemption. " + article_6["6(4)"],
            shown_when="exemption&role=provider",
        ),
        Question(
            id="deployer_category",
            text="What kind of deployer is your organisation?",
            kind="single",
            required=False,
            refs=["Art. 27(1)", "Art. 49(3)"],
            options=[
                QuestionOption(
                    value=c.value,
                    label=item["title"],
                    ref=", ".join(f"Art. {r}" for r in item["refs"]) or None,
                )
                for c, item in deployer_categories().items()
            ],
            help="Decides the fundamental rights impact assessment (Art. 27(1)) and the "
            "registration of use (Art. 49(3)) for Annex III high-risk systems.",
            shown_when="role=deployer",
        ),
        Question(
            id="value_chain_trigger",
            text="Has your organisation done any of these with a high-risk AI system?",
            kind="single",
            required=False,
            refs=["Art. 25(1)"],
            options=[
                QuestionOption(value=t.value, label=item["title"], ref=f"Art. {item['ref']}")
                for t, item in value_chain_triggers().items()
            ],
            help="Any of these makes a distributor, importer or deployer the provider.",
            shown_when="role!=provider",
        ),
        Question(
            id="transparency",
            text="Which of these apply to the system?",
            kind="multiple",
            required=False,
            refs=["Art. 50"],
            options=[
                QuestionOption(
                    value=trigger.value,
                    label=f"{items[ref]['title']} (duty of the {TRANSPARENCY_ROLE[ref].value})",
                    ref=f"Art. {ref}",
                )
                for trigger, ref in TRANSPARENCY_REF.items()
            ],
        ),
        Question(
            id="gpai_model",
            text="Is it a general-purpose AI model? (Chapter V duties bind its provider only.)",
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
        Question(
            id="gpai_open_source",
            text="Is the model released under a free and open-source licence, with its "
            "parameters (weights), architecture and usage information publicly available?",
            kind="boolean",
            required=False,
            refs=["Art. 53(2)", "Art. 54(6)"],
            help="Lifts Art. 53(1)(a)/(b) and Art. 54, except for models with systemic risk.",
            shown_when="gpai_model",
        ),
    ]
    return Questionnaire(regulation=reference["regulation"]["id"], questions=questions)
