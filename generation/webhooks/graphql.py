"""GraphQL of webhooks: endpoints (the secret shown once), deliveries with their attempts.

Every type is scoped to the viewer in `get_queryset`, so a guessed global id of another
user's endpoint or delivery resolves to nothing, exactly like one that does not exist.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, current_user, require_user
from elementsite.graphql_enums import choices_enum
from elementsite.ids import node_pk
from elementsite.relay import ListConnection, PkNodeID
from generation.webhooks import models, selectors, services

choices_enum(
    models.WebhookEventType,
    name="WebhookEventType",
    description="What happened; the `type` field of a delivered event "
    "(e.g. GENERATION_SUCCEEDED is `generation.succeeded`).",
)
choices_enum(
    models.DeliveryStatus, name="WebhookDeliveryStatus", description="Where a delivery is."
)
WebhookEventTypeEnum = models.WebhookEventType
DeliveryStatusEnum = models.DeliveryStatus


def _scoped(queryset: QuerySet[Any], info: Info) -> QuerySet[Any]:
    user = current_user(info)
    return queryset.none() if user is None else queryset.filter(owner_id=user.pk)


@strawberry_django.type(models.WebhookEndpoint, name="WebhookEndpoint")
class WebhookEndpointNode(PkNodeID, relay.Node):
    """A URL of the viewer's that receives signed events. The secret is shown only when
    the endpoint is created."""

    url: str = strawberry_django.field(description="Where events are POSTed.")
    description: str = strawberry_django.field(description="The owner's note.")
    created_at: datetime.datetime = strawberry_django.field(description="When it was added.")

    @strawberry_django.field(
        description="The event types sent here; empty means every type.", only=["events"]
    )
    def events(self, root: models.WebhookEndpoint) -> list[WebhookEventTypeEnum]:
        return [WebhookEventTypeEnum(e) for e in root.events]

    @strawberry_django.field(
        description="The signing secret's prefix and last characters, to recognise it.",
        only=["secret"],
    )
    def masked_secret(self, root: models.WebhookEndpoint) -> str:
        return root.masked_secret

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return _scoped(queryset, info)


@strawberry_django.type(models.WebhookAttempt, name="WebhookAttempt")
class WebhookAttemptType:
    """One POST of a delivery (or a refusal to make it), as it went."""

    number: int = strawberry_django.field(description="1 for the first attempt.")
    started_at: datetime.datetime = strawberry_django.field(description="When it began.")
    duration_ms: int = strawberry_django.field(description="How long it took.")
    status_code: int | None = strawberry_django.field(
        description="The receiver's HTTP status; null when there was no answer."
    )
    error: str = strawberry_django.field(
        description="What went wrong (timeout, refused address…); empty on an answer."
    )
    response_excerpt: str = strawberry_django.field(
        description="The start of the receiver's answer body."
    )


@strawberry_django.type(models.WebhookDelivery, name="WebhookDelivery")
class WebhookDeliveryNode(PkNodeID, relay.Node):
    """One event on its way to one of the viewer's endpoints, with every attempt."""

    event_type: WebhookEventTypeEnum = strawberry_django.field(description="The event's type.")
    status: DeliveryStatusEnum = strawberry_django.field(description="Where the delivery is.")
    attempt_count: int = strawberry_django.field(description="Attempts made so far.")
    next_attempt_at: datetime.datetime | None = strawberry_django.field(
        description="When the next attempt is due; null once delivered or failed."
    )
    last_status_code: int | None = strawberry_django.field(
        description="The last attempt's HTTP status; null if it got no answer."
    )
    last_error: str = strawberry_django.field(description="The last attempt's error, if any.")
    created_at: datetime.datetime = strawberry_django.field(description="When the event happened.")
    finished_at: datetime.datetime | None = strawberry_django.field(
        description="When it was delivered or given up."
    )
    endpoint: WebhookEndpointNode = strawberry_django.field(description="Where it goes.")
    attempts: list[WebhookAttemptType] = strawberry_django.field(
        description="Every attempt, first first."
    )

    @strawberry_django.field(
        description="The event id (`Webhook-Id`, the body's `id`): the same on every attempt.",
        only=["event_id"],
    )
    def event_id(self, root: models.WebhookDelivery) -> strawberry.ID:
        return strawberry.ID(str(root.event_id))

    @strawberry_django.field(
        description="The JSON body as POSTed.", select_related=["event"], only=["event__body"]
    )
    def body(self, root: models.WebhookDelivery) -> str:
        return root.event.body

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return _scoped(queryset, info)


@strawberry.type
class WebhookQuery:
    @strawberry_django.connection(
        ListConnection[WebhookEndpointNode],
        description="The viewer's webhook endpoints, newest first (secrets masked).",
        permission_classes=[IsAuthenticated],
    )
    def webhook_endpoints(self, info: Info) -> QuerySet[models.WebhookEndpoint]:
        return selectors.webhook_endpoint_list(owner=require_user(info))

    @strawberry_django.connection(
        ListConnection[WebhookDeliveryNode],
        description="The viewer's webhook deliveries with their attempts, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only deliveries to this endpoint."),
        ] = None,
        event_type: Annotated[
            WebhookEventTypeEnum | None,
            strawberry.argument(description="Only events of this type."),
        ] = None,
    ) -> QuerySet[models.WebhookDelivery]:
        owner = require_user(info)
        # An unreadable or foreign id filters on a key no endpoint has: an empty list.
        endpoint_pk = None if endpoint_id is None else node_pk(endpoint_id, WebhookEndpointNode)
        return selectors.webhook_delivery_list(
            owner=owner,
            endpoint_id=endpoint_pk,
            event_type=event_type.value if event_type else None,
        )


@strawberry.input(description="A URL to receive your events.")
class WebhookEndpointCreateInput:
    url: str = strawberry.field(
        description="An https:// URL (http:// only where allowed) that resolves to a public "
        "address; redirects are not followed."
    )
    description: str = strawberry.field(default="", description="A note, up to 200 characters.")
    events: list[WebhookEventTypeEnum] | None = strawberry.field(
        default=None, description="The event types to send; all of them if omitted or empty."
    )


@strawberry.type(description="A new webhook endpoint and its signing secret.")
class WebhookEndpointCreateResult:
    endpoint: WebhookEndpointNode = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description="The signing secret (`whsec_…`) for `Webhook-Signature`. Shown only now."
    )


@strawberry.type(description="A deleted webhook endpoint.")
class WebhookEndpointDeleteResult:
    deleted_id: relay.GlobalID = strawberry.field(description="The id it had.")


@strawberry.type
class WebhookMutation:
    @strawberry_django.mutation(
        description="Register a URL for your events; the secret is returned only this once."
    )
    def webhook_endpoint_create(
        self,
        info: Info,
        input: Annotated[
            WebhookEndpointCreateInput,
            strawberry.argument(description="The URL to send events to, and which events."),
        ],
    ) -> WebhookEndpointCreateResult:
        endpoint, secret = services.webhook_endpoint_create(
            owner=require_user(info),
            url=input.url,
            description=input.description,
            events=[e.value for e in input.events or ()],
        )
        return WebhookEndpointCreateResult(
            endpoint=endpoint,  # type: ignore[arg-type]
            secret=secret,
        )

    @strawberry_django.mutation(
        description="Delete one of your webhook endpoints and its deliveries."
    )
    def webhook_endpoint_delete(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint to delete.")],
    ) -> WebhookEndpointDeleteResult:
        pk = services.webhook_endpoint_delete(
            owner=require_user(info), endpoint_id=node_pk(id, WebhookEndpointNode)
        )
        return WebhookEndpointDeleteResult(deleted_id=relay.GlobalID("WebhookEndpoint", str(pk)))
