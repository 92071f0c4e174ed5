"""The in-app inbox (a user's own notifications, read one at a time or all at once) and its settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.errors import ApplicationError
from notifications.forms import NotificationPreferencesForm
from notifications.selectors import (
    notification_get_for_user,
    notification_preferences_for,
    notifications_for,
)
from notifications.services import event_types_for, notification_mark_read, notification_preferences_set

NOTIFICATIONS_PER_PAGE = 25


def _safe_local_url(request, url: str) -> str:
    """Return ``url`` when it stays on this site, else the inbox (no open redirect)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("notifications:inbox")


@login_required
@require_GET
def inbox(request):
    page = Paginator(notifications_for(user=request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_GET
def notification_open(request, notification_id):
    """Mark the notification read and go to what it is about.

    A GET, so that the link opens in a new tab and works without JavaScript: marking one's
    own notification read is what reading it means, and changes nothing else.
    """
    notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    return redirect(_safe_local_url(request, notification.url))


@login_required
@require_POST
def notification_read(request, notification_id):
    notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    if request.htmx:
        # htmx swaps the row in place and updates the top bar's badge out of band.
        notification.refresh_from_db(fields=["read_at"])
        next_url = request.POST.get("next", "")
        context = {"notification": notification, "next_url": next_url, "update_badge": True}
        return render(request, "notifications/partials/notification.html", context)
    return redirect(_safe_local_url(request, request.POST.get("next", "")))


@login_required
@require_POST
def notifications_read_all(request):
    marked = notification_mark_read(user=request.user)
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.", "%(count)d notifications marked as read.", marked
            )
            % {"count": marked},
        )
    return redirect(_safe_local_url(request, request.POST.get("next", "")))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Show and save the signed-in user's own channels per event type; nobody else's are reachable."""
    form_kwargs = {
        "current": notification_preferences_for(user=request.user),
        "event_types": event_types_for(user=request.user),
    }
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                notification_preferences_set(user=request.user, choices=form.choices())
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, _("Your notification settings were saved."))
                return redirect("notifications:preferences")
        status = 400
    else:
        form = NotificationPreferencesForm(**form_kwargs)
        status = 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)
