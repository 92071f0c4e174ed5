"""Turning case events into inbox entries and emails for the people concerned."""

from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from claims.sla.models import ClockKind
from members.models import ADMIN_ROLES, OrganisationKind, User
from notifications.models import Notification

# Events worth telling people about, and whom: "claimant", "respondent", "association".
AUDIENCES = {
    "submit": ("respondent",),
    "acknowledge": ("claimant",),
    "request_info": ("claimant",),
    "provide_info": ("respondent",),
    "respond": ("claimant",),
    "accept": ("respondent",),
    "dispute": ("respondent", "association"),
    "withdraw": ("respondent",),
    "escalate": ("claimant", "respondent", "association"),
    "close": ("claimant", "respondent"),
    "accept_by_default": ("claimant", "respondent"),
    "sla_warning": ("claimant", "respondent"),
    "sla_breached": ("claimant", "respondent", "association"),
    "sla_reminder": ("claimant",),
}


def _subject(event) -> str:
    case = event.case
    data = event.data or {}
    clock = data.get("clock", "")
    texts = {
        "submit": _("New case %(ref)s filed: %(title)s"),
        "acknowledge": _("%(ref)s was acknowledged"),
        "request_info": _("%(ref)s: the provider asks for information"),
        "provide_info": _("%(ref)s: the claimant provided information"),
        "respond": _("%(ref)s: the provider responded"),
        "accept": _("%(ref)s: the response was accepted"),
        "dispute": _("%(ref)s: the response is disputed"),
        "withdraw": _("%(ref)s was withdrawn"),
        "escalate": _("%(ref)s was escalated to the association"),
        "close": _("%(ref)s was closed by the association"),
        "accept_by_default": _("%(ref)s was resolved as accepted by default"),
        "sla_warning": _("%(ref)s: %(threshold)s%% of the %(clock)s time used"),
        "sla_breached": _("%(ref)s: the %(clock)s deadline was breached"),
        "sla_reminder": _(
            "%(ref)s: please review the provider's response (%(threshold)s%% of review time used)"
        ),
    }
    return texts[event.action] % {
        "ref": case.reference,
        "title": case.title,
        "threshold": data.get("threshold", ""),
        "clock": str(ClockKind(clock).label).lower() if clock in ClockKind.values else "",
    }


def _recipients(event) -> list[User]:
    case = event.case
    org_filters = []
    for audience in AUDIENCES.get(event.action, ()):
        if audience == "claimant":
            org_filters.append(("organisation_id", case.claimant_id))
        elif audience == "respondent":
            org_filters.append(("organisation_id", case.respondent_id))
        elif audience == "association":
            org_filters.append(("organisation__kind", OrganisationKind.ASSOCIATION))
    users = User.objects.none()
    for field, value in org_filters:
        users = users | User.objects.filter(**{field: value}, is_active=True)
    # The person who acted does not need to be told what they just did.
    if event.actor_id:
        users = users.exclude(pk=event.actor_id)
    return list(users.distinct().select_related("organisation"))


def notifications_deliver(*, event_id: int) -> int:
    """Create the inbox entries for one event and email them; safe to run more than once."""
    from claims.models import CaseEvent

    event = CaseEvent.objects.select_related("case").get(pk=event_id)
    if event.action not in AUDIENCES:
        return 0
    created = 0
    for user in _recipients(event):
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = _subject(event)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=user, event=event, subject=subject, url=event.case.get_absolute_url()
                )
        except IntegrityError:
            continue  # already delivered by an earlier run of this task
        created += 1
        send_mail(
            subject=f"[RightsDesk] {subject}",
            message=f"{subject}\n\n{settings.SITE_URL}{notification.url}",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
            fail_silently=False,
        )
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return created


def notify_on_commit(*, event) -> None:
    """Deliver the event's notifications once the transaction that wrote it commits."""
    if event.action not in AUDIENCES:
        return
    from notifications.tasks import deliver_event_notifications

    transaction.on_commit(partial(deliver_event_notifications.delay, event_id=event.pk))


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) as read."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def notify_many_on_commit(*, events, chunk_size: int = 500) -> None:
    """Deliver many events' notifications after commit, a few tasks rather than one per event."""
    from notifications.tasks import deliver_events_notifications

    event_ids = [event.pk for event in events if event.action in AUDIENCES]
    for start in range(0, len(event_ids), chunk_size):
        chunk = event_ids[start : start + chunk_size]
        transaction.on_commit(partial(deliver_events_notifications.delay, event_ids=chunk))


def admin_alert(*, organisation, subject: str, body: str = "", url: str = "") -> int:
    """Tell an organisation's administrators something about their own setup (inbox and email).

    ``subject`` and ``body`` are rendered per recipient: pass lazy translations (gettext_lazy
    with %-formatting done by the caller inside ``translation.override``) or plain text.
    """
    admins = User.objects.filter(organisation=organisation, is_active=True, role__in=list(ADMIN_ROLES))
    sent = 0
    for user in admins:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            text_subject, text_body = str(subject), str(body)
        Notification.objects.create(
            recipient=user, event=None, subject=text_subject[:300], body=text_body, url=url
        )
        send_mail(
            subject=f"[RightsDesk] {text_subject}",
            message=f"{text_body}\n\n{settings.SITE_URL}{url}".strip(),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
            fail_silently=False,
        )
        sent += 1
    return sent
