"""The GraphQL schema of the gateway: one graph over inventory, risk, evidence and webhooks."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.config import GatewaySettings
from gateway.protection import protection_extensions
from gateway.schema.ai_systems import AISystemMutation, AISystemQuery
from gateway.schema.audit import AuditQuery
from gateway.schema.audits import AuditCycleMutation, AuditCycleQuery
from gateway.schema.classification import ClassificationMutation, ClassificationQuery
from gateway.schema.competence import CompetenceMutation, CompetenceQuery
from gateway.schema.components import ComponentMutation, ComponentQuery
from gateway.schema.documented import DocumentedQuery
from gateway.schema.errors import (
    USER_ERROR_TYPES,
    DomainErrorCodes,
    log_errors,
    masked_errors,
    with_payload_errors,
)
from gateway.schema.evidence import EvidenceMutation, EvidenceQuery
from gateway.schema.execution import GatewayExecutor, mark_plain_leaves
from gateway.schema.impact import (
    ImpactAssessmentIncompleteError,
    ImpactAssessmentMutation,
    ImpactAssessmentQuery,
)
from gateway.schema.improvement import IMPROVEMENT_ERROR_TYPES
from gateway.schema.objectives import ObjectivesMutation, ObjectivesQuery
from gateway.schema.readiness import ReadinessMutation, ReadinessQuery
from gateway.schema.risks import RiskMutation, RiskQuery
from gateway.schema.scalars import SCALARS
from gateway.schema.scope import ScopeApprovalRefusedError, ScopeMutation, ScopeQuery
from gateway.schema.soa import SoAMutation, SoAQuery
from gateway.schema.webhooks import WebhookMutation, WebhookQuery
from gateway.subscriptions.schema import Subscription, WebSocketOnlySubscriptions

__all__ = ["Mutation", "build_schema"]


@strawberry.type
class Mutation(
    AISystemMutation,
    WebhookMutation,
    ScopeMutation,
    ClassificationMutation,
    ImpactAssessmentMutation,
    SoAMutation,
    RiskMutation,
    ComponentMutation,
    EvidenceMutation,
    CompetenceMutation,
    ObjectivesMutation,
    AuditCycleMutation,
    ReadinessMutation,
):
    pass


def _query_type() -> type:
    # Built per schema: ``relay.node()`` fields are bound to the schema they are first used in.
    @strawberry.type(name="Query")
    class Query(
        AISystemQuery,
        WebhookQuery,
        ScopeQuery,
        ClassificationQuery,
        ImpactAssessmentQuery,
        SoAQuery,
        RiskQuery,
        ComponentQuery,
        EvidenceQuery,
        DocumentedQuery,
        CompetenceQuery,
        AuditQuery,
        ObjectivesQuery,
        AuditCycleQuery,
        ReadinessQuery,
    ):
        node: relay.Node | None = relay.node(
            description="Any object by its global ID; null when your organisation has no such "
            "object."
        )
        nodes: list[relay.Node | None] = relay.node(
            description="Objects by their global IDs, in the order given (null where your "
            "organisation has no such object); ids of one type cost one upstream call together."
        )

    return Query


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)


def build_schema(settings: GatewaySettings | None = None) -> strawberry.Schema:
    """The schema with the limits of ``settings`` (the SDL does not depend on them)."""
    settings = settings or GatewaySettings()
    schema = GatewaySchema(
        query=_query_type(),
        mutation=with_payload_errors(Mutation),
        subscription=Subscription,
        # Every UserError, also those only some mutations return (payloads list the interface).
        types=(
            *USER_ERROR_TYPES,
            *IMPROVEMENT_ERROR_TYPES,
            ScopeApprovalRefusedError,
            ImpactAssessmentIncompleteError,
        ),
        config=StrawberryConfig(scalar_map=SCALARS),
        # Factories, not instances: each operation gets extensions of its own.
        extensions=[
            # Trusted documents, token/depth/alias/cost limits (gateway/protection/).
            *protection_extensions(settings),
            masked_errors,
            DomainErrorCodes,
            WebSocketOnlySubscriptions,
        ],
        # Plain leaf fields (most of a page) completed without graphql-core's per-field
        # machinery: same values and errors (gateway/schema/execution.py).
        execution_context_class=GatewayExecutor,
    )
    mark_plain_leaves(schema._schema)
    return schema
