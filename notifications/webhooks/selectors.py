"""Reads of webhook endpoints and deliveries, scoped to the administrator's own organisation."""

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from claims.models import CaseEvent, CaseState
from members.models import Organisation, OrganisationKind
from notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoints_for(*, user) -> QuerySet[WebhookEndpoint]:
    """Return the endpoints an organisation administrator manages: those of their organisation."""
    if not user.is_authenticated or not user.is_org_admin or user.organisation_id is None:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(organisation_id=user.organisation_id)


def webhook_endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    """Return the user's endpoints with how many deliveries each has open and failed."""
    return webhook_endpoints_for(user=user).annotate(
        open_deliveries=Count("deliveries", filter=Q(deliveries__status__in=["pending", "sending"])),
        failed_deliveries=Count("deliveries", filter=Q(deliveries__status="failed")),
    )


def webhook_endpoint_get_for_user(*, user, endpoint_id: int) -> WebhookEndpoint:
    """Return one of the user's endpoints, or raise Http404 for any other."""
    try:
        return webhook_endpoints_for(user=user).select_related("created_by").get(pk=endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook endpoint.") from None


def webhook_deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """Return an endpoint's delivery log, newest first, with the case each one is about."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event__case")
        .defer("body")
        .order_by("-created_at", "-id")
    )


def webhook_delivery_get_for_user(*, user, delivery_id: int) -> WebhookDelivery:
    """Return a delivery to one of the user's endpoints, or raise Http404 for any other."""
    try:
        return WebhookDelivery.objects.select_related("endpoint", "event__case").get(
            pk=delivery_id, endpoint__in=webhook_endpoints_for(user=user)
        )
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such webhook delivery.") from None


def webhook_delivery_attempts(*, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return delivery.attempts.order_by("-number")


def organisation_may_see_case(*, organisation: Organisation, case) -> bool:
    """Say whether the organisation may see the case: the rule of ``claims.selectors.cases_visible_to``.

    The claimant member sees its case from the draft on; the respondent provider and the
    association only once it was submitted (a draft withdrawn unsent stays the member's).
    """
    never_sent = case.state == CaseState.DRAFT or (
        case.state == CaseState.WITHDRAWN and case.submitted_at is None
    )
    if organisation.kind == OrganisationKind.MEMBER:
        return organisation.pk == case.claimant_id
    if organisation.kind == OrganisationKind.PROVIDER:
        return organisation.pk == case.respondent_id and not never_sent
    if organisation.kind == OrganisationKind.ASSOCIATION:
        return not never_sent
    return False


def webhook_endpoints_receiving(*, events: Iterable[CaseEvent]) -> dict[int, list[WebhookEndpoint]]:
    """Return, per event id, the active endpoints that subscribed to it and may see its case.

    One query for any number of events: the endpoints of the cases' claimants, respondents and
    of the association; subscription and visibility are then checked per event.
    """
    events = list(events)
    party_ids = {event.case.claimant_id for event in events} | {event.case.respondent_id for event in events}
    candidates = list(
        WebhookEndpoint.objects.filter(is_active=True)
        .filter(Q(organisation_id__in=party_ids) | Q(organisation__kind=OrganisationKind.ASSOCIATION))
        .select_related("organisation")
        .order_by("pk")
    )
    return {
        event.pk: [
            endpoint
            for endpoint in candidates
            if event.action in endpoint.event_types
            and organisation_may_see_case(organisation=endpoint.organisation, case=event.case)
        ]
        for event in events
    }
