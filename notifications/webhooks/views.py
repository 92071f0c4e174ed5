"""Organisation administrators manage their webhook endpoints and read the delivery log.

Endpoints and deliveries are looked up inside the admin's own organisation, so another
organisation's are "not found"; anybody who is not an administrator is refused (403).
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.decorators import org_admin_required
from members.errors import ApplicationError
from notifications.webhooks.forms import WebhookEndpointForm
from notifications.webhooks.selectors import (
    webhook_deliveries_of,
    webhook_delivery_attempts,
    webhook_delivery_get_for_user,
    webhook_endpoint_get_for_user,
    webhook_endpoint_list,
)
from notifications.webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)
from notifications.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER

DELIVERIES_PER_PAGE = 25
# The secret just created or rotated waits here for the one page that shows it.
NEW_SECRET_SESSION_KEY = "webhooks_new_secret"


webhook_admin_required = org_admin_required(
    refusal=gettext_lazy("Only an organisation administrator may manage webhooks.")
)


def _refuse(request, exc: ApplicationError) -> None:
    if exc.status_code == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)


def _show_secret_once(request, endpoint, secret: str) -> None:
    request.session[NEW_SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": secret}


def _pop_secret(request, endpoint) -> str | None:
    stored = request.session.get(NEW_SECRET_SESSION_KEY)
    if not stored or stored.get("endpoint") != endpoint.pk:
        return None
    del request.session[NEW_SECRET_SESSION_KEY]
    return stored.get("secret")


@webhook_admin_required
@require_GET
def endpoint_list(request):
    context = {
        "organisation": request.user.organisation,
        "endpoints": webhook_endpoint_list(user=request.user),
    }
    return render(request, "notifications/webhooks/endpoint_list.html", context)


@webhook_admin_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    if request.method != "POST":
        form = WebhookEndpointForm()
        return render(request, "notifications/webhooks/endpoint_form.html", {"form": form})
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = webhook_endpoint_create(
                actor=request.user,
                url=data["url"],
                description=data["description"],
                event_types=data["event_types"],
            )
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            form.add_service_error(exc)
        else:
            _show_secret_once(request, endpoint, secret)
            messages.success(request, _("The endpoint was added. Copy its signing secret now."))
            return redirect(endpoint)
    return render(request, "notifications/webhooks/endpoint_form.html", {"form": form}, status=400)


@webhook_admin_required
@require_GET
def endpoint_detail(request, endpoint_id):
    endpoint = webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    page = Paginator(webhook_deliveries_of(endpoint=endpoint), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "endpoint": endpoint,
        "new_secret": _pop_secret(request, endpoint),
        "previous_secret_until": (
            endpoint.previous_secret_expires_at
            if endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > timezone.now()
            else None
        ),
        "page": page,
        "headers": {"signature": SIGNATURE_HEADER, "event": EVENT_HEADER, "delivery": DELIVERY_HEADER},
    }
    return render(request, "notifications/webhooks/endpoint_detail.html", context)


@webhook_admin_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, endpoint_id):
    endpoint = webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    if request.method != "POST":
        form = WebhookEndpointForm(
            editing=True,
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
                "is_active": endpoint.is_active,
            },
        )
        return render(
            request, "notifications/webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}
        )
    form = WebhookEndpointForm(request.POST, editing=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            webhook_endpoint_update(
                actor=request.user,
                endpoint=endpoint,
                url=data["url"],
                description=data["description"],
                event_types=data["event_types"],
                is_active=data["is_active"],
            )
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            form.add_service_error(exc)
        else:
            messages.success(request, _("The endpoint was saved."))
            return redirect(endpoint)
    context = {"form": form, "endpoint": endpoint}
    return render(request, "notifications/webhooks/endpoint_form.html", context, status=400)


@webhook_admin_required
@require_POST
def endpoint_rotate_secret(request, endpoint_id):
    endpoint = webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    try:
        secret = webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    except ApplicationError as exc:
        _refuse(request, exc)
    else:
        _show_secret_once(request, endpoint, secret)
        messages.success(
            request,
            _("The endpoint has a new signing secret. The old one also signs for the next 24 hours."),
        )
    return redirect(endpoint)


@webhook_admin_required
@require_POST
def endpoint_enable(request, endpoint_id):
    endpoint = webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    try:
        webhook_endpoint_enable(actor=request.user, endpoint=endpoint)
    except ApplicationError as exc:
        _refuse(request, exc)
    else:
        messages.success(request, _("The endpoint is active again and receives new events."))
    return redirect(endpoint)


@webhook_admin_required
@require_POST
def endpoint_send_test(request, endpoint_id):
    endpoint = webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    try:
        webhook_endpoint_send_test(actor=request.user, endpoint=endpoint)
    except ApplicationError as exc:
        _refuse(request, exc)
    else:
        messages.success(request, _("A test event is on its way; its result appears in the delivery log."))
    return redirect(endpoint)


@webhook_admin_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, endpoint_id):
    endpoint = webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    if request.method != "POST":
        return render(request, "notifications/webhooks/endpoint_delete.html", {"endpoint": endpoint})
    try:
        webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
    except ApplicationError as exc:
        _refuse(request, exc)
        return redirect(endpoint)
    messages.success(request, _("The endpoint %(url)s was deleted.") % {"url": endpoint.url})
    return redirect("webhooks:endpoint_list")


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@webhook_admin_required
@require_GET
def delivery_detail(request, delivery_id):
    delivery = webhook_delivery_get_for_user(user=request.user, delivery_id=delivery_id)
    context = {
        "delivery": delivery,
        "endpoint": delivery.endpoint,
        "attempts": webhook_delivery_attempts(delivery=delivery),
        "payload": _pretty_json(delivery.body),
    }
    return render(request, "notifications/webhooks/delivery_detail.html", context)


@webhook_admin_required
@require_POST
def delivery_replay(request, delivery_id):
    delivery = webhook_delivery_get_for_user(user=request.user, delivery_id=delivery_id)
    try:
        webhook_delivery_replay(actor=request.user, delivery=delivery)
    except ApplicationError as exc:
        _refuse(request, exc)
    else:
        messages.success(request, _("The delivery is sent again, with the same delivery id."))
    return redirect(delivery)
