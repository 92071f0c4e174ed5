"""Turning case events into inbox entries and emails for the people concerned.

Each person chooses, per event type, whether to be told in the inbox, by email, both or
neither (``NotificationPreference``; both when they never chose). Emails are written in the
recipient's language, with a plain-text body and an HTML alternative.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from claims.sla.models import ClockKind
from members.errors import ApplicationError
from members.models import ADMIN_ROLES, OrganisationKind, User
from notifications.models import Delivery, EventType, Notification, NotificationPreference
from notifications.selectors import Channels, notification_channels_for

# Events worth telling people about, and whom: "claimant", "respondent", "association".
AUDIENCES = {
    "submit": ("respondent",),
    "acknowledge": ("claimant",),
    "request_info": ("claimant",),
    "provide_info": ("respondent",),
    "respond": ("claimant",),
    "accept": ("respondent",),
    "dispute": ("respondent", "association"),
    "response_adjudicated": ("claimant", "respondent"),
    "withdraw": ("respondent",),
    "escalate": ("claimant", "respondent", "association"),
    "close": ("claimant", "respondent"),
    "accept_by_default": ("claimant", "respondent"),
    "sla_warning": ("claimant", "respondent"),
    "sla_breached": ("claimant", "respondent", "association"),
    "sla_reminder": ("claimant",),
}


# Which kind of organisation each audience is.
AUDIENCE_KINDS = {
    "claimant": OrganisationKind.MEMBER,
    "respondent": OrganisationKind.PROVIDER,
    "association": OrganisationKind.ASSOCIATION,
}


def event_types_for(*, user) -> list[str]:
    """Return the event types this user can be told about: those addressed to their kind of organisation.

    Everybody can receive the digest; a user outside every organisation sees every type.
    """
    if user.organisation_id is None:
        return list(EventType.values)
    kind = user.organisation.kind
    received = {
        action for action, audiences in AUDIENCES.items() if any(AUDIENCE_KINDS[a] == kind for a in audiences)
    }
    return [
        event_type
        for event_type in EventType.values
        if event_type in received or event_type == EventType.DIGEST
    ]


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
        "response_adjudicated": _("%(ref)s: the association judged the response %(verdict)s"),
        "sla_reminder": _(
            "%(ref)s: please review the provider's response (%(threshold)s%% of review time used)"
        ),
    }
    return texts[event.action] % {
        "ref": case.reference,
        "title": case.title,
        "threshold": data.get("threshold", ""),
        "clock": str(ClockKind(clock).label).lower() if clock in ClockKind.values else "",
        "verdict": {"sincere": _("sincere"), "insincere": _("insincere")}.get(data.get("verdict"), ""),
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


@dataclass(frozen=True)
class RenderedMessage:
    """One notification written for one person: the inbox entry's text and the email's."""

    subject: str
    summary: str  # the inbox entry's body: what happened, a few lines
    text: str
    html: str


def _one_line(text: str) -> str:
    """Collapse whitespace: a case title with a line break must not break an email header."""
    return " ".join(text.split())


def site_url(path: str) -> str:
    """Return the absolute address of a path on this site, for emails."""
    return f"{settings.SITE_URL}{path}"


def email_send(*, user, message: RenderedMessage) -> None:
    """Email one rendered notification to the user, plain text with an HTML alternative."""
    email = EmailMultiAlternatives(
        subject=f"[RightsDesk] {_one_line(message.subject)}",
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)


# The order in which a notification lists an event's data: what it is about first. (The
# database returns a JSON object's keys in an order of its own.) The moment a threshold passed
# is left out: the email says when the event happened, and the due time is what matters.
EVENT_DATA_ORDER = (
    "clock",
    "threshold",
    "due_at",
    "outcomes",
    "contact",
    "question",
    "answer",
    "reasons",
    "outcome",
    "note",
    "reason",
)
EVENT_DATA_HIDDEN = frozenset({"at"})
# Sharper names than the timeline's where two would otherwise read alike ("期限" twice in Japanese).
EVENT_DATA_LABELS = {
    "clock": pgettext_lazy("kind of deadline", "Deadline"),
    "due_at": pgettext_lazy("due time", "Due"),
}


def event_details(event) -> list[tuple[str, str]]:
    """Return the (label, value) lines worth showing about an event, in the active language."""
    # The timeline's formatting (Tokyo times, outcome names); imported here because the
    # template tags import the transition service, which imports this module.
    from claims.templatetags.rightsdesk import event_summary

    data = event.data or {}
    keys = [key for key in EVENT_DATA_ORDER if key in data]
    keys += [key for key in data if key not in keys and key not in EVENT_DATA_HIDDEN]
    details = []
    for key in keys:
        for label, value in event_summary({key: data[key]}):
            details.append((str(EVENT_DATA_LABELS.get(key, label)), value))
    return details


def plain_text(text: str) -> str:
    """Tidy a rendered plain-text email: no runs of blank lines left by template tags."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _event_message(event, user) -> RenderedMessage:
    """Write the notification about one event in the user's language."""
    case = event.case
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = _one_line(_subject(event))
        context = {
            "recipient": user,
            "subject": subject,
            "event": event,
            "details": event_details(event),
            "case": case,
            "case_url": site_url(case.get_absolute_url()),
            "preferences_url": site_url(reverse("notifications:preferences")),
        }
        return RenderedMessage(
            subject=subject,
            summary=render_to_string("notifications/email/event_summary.txt", context).strip(),
            text=plain_text(render_to_string("notifications/email/event.txt", context)),
            html=render_to_string("notifications/email/event.html", context),
        )


def _deliver_one(event, user, channels: Channels) -> bool:
    """Tell one person about one event through their channels; return whether this run told them.

    The delivery record, the inbox entry and the email happen in one transaction with the
    record locked: a second run of the same task waits, then finds the work done. An email
    that fails rolls everything back, so the task's retry delivers it in full.
    """
    with transaction.atomic():
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            recipient=user, event=event, defaults={"inbox": channels.inbox, "email": channels.email}
        )
        if not created and (not delivery.email or delivery.emailed_at):
            return False
        message = _event_message(event, user)
        if delivery.inbox:
            Notification.objects.get_or_create(
                recipient=user,
                event=event,
                defaults={
                    "subject": message.subject[:300],
                    "body": message.summary,
                    "url": event.case.get_absolute_url(),
                },
            )
        if delivery.email:
            email_send(user=user, message=message)
            delivery.emailed_at = timezone.now()
            delivery.save(update_fields=["emailed_at"])
            Notification.objects.filter(recipient=user, event=event).update(emailed_at=delivery.emailed_at)
    return created


def notifications_deliver(*, event_id: int) -> int:
    """Tell the people concerned about one event, each through the channels they chose.

    Returns how many people this run told. Safe to run more than once: nobody is told twice.
    """
    from claims.models import CaseEvent

    event = CaseEvent.objects.select_related(
        "case", "case__claimant", "case__respondent", "actor__organisation"
    ).get(pk=event_id)
    if event.action not in AUDIENCES:
        return 0
    recipients = _recipients(event)
    channels = notification_channels_for(users=recipients, event_type=event.action)
    told = 0
    for user in recipients:
        if channels[user.pk].any and _deliver_one(event, user, channels[user.pk]):
            told += 1
    return told


def notify_on_commit(*, event) -> None:
    """Tell the people concerned about the event once the transaction that wrote it commits."""
    notify_many_on_commit(events=[event])


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) as read."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def notify_many_on_commit(*, events) -> None:
    """Tell the people concerned about many events once the transaction that wrote them commits."""
    from notifications.outbox import outbox_add

    outbox_add(events=events)


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


# Events whose notice a person may move between channels but not silence: a breach is the
# moment both sides and the association must act (DESIGN.md, "SLA timers").
ALWAYS_DELIVERED = frozenset({EventType.SLA_BREACHED})


def notification_preferences_set(*, user, choices: dict[str, Channels]) -> None:
    """Save the user's channels for the event types given, all in one transaction.

    Event types left out keep their current choice. Raises ApplicationError, and saves
    nothing, for an unknown event type or a breach notice with every channel turned off.
    """
    errors: dict[str, list[str]] = {}
    for event_type, channels in choices.items():
        if event_type not in EventType.values:
            errors[event_type] = [_("This is not a kind of notification.")]
        elif event_type in ALWAYS_DELIVERED and not channels.any:
            errors[event_type] = [_("Keep at least one channel for this notification.")]
    if errors:
        raise ApplicationError(
            _("Your notification settings were not saved."), code="invalid_preferences", fields=errors
        )
    rows = [
        NotificationPreference(user=user, event_type=event_type, inbox=channels.inbox, email=channels.email)
        for event_type, channels in choices.items()
    ]
    with transaction.atomic():
        NotificationPreference.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "event_type"],
            update_fields=["inbox", "email"],
        )
