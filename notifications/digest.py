"""The daily digest: each person's list of the deadlines that fall due in the next 48 hours.

One Celery beat task a day (``DIGEST_HOUR`` in Asia/Tokyo) runs ``digest_send``. Clocks are
read with one query per organisation, since everybody in an organisation sees the same cases;
a ``DigestRun`` row per person and Tokyo day keeps it to one digest a day however often the
task runs.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from claims.selectors import cases_visible_to
from claims.sla.models import Clock, ClockStatus
from claims.sla.selectors import ClockView, clock_views
from members.models import User
from notifications.models import DigestRun, EventType, Notification
from notifications.selectors import Channels, notification_channels_for
from notifications.services import RenderedMessage, email_send, plain_text, site_url

logger = logging.getLogger(__name__)

TOKYO = ZoneInfo("Asia/Tokyo")
# The inbox entry lists the soonest few; the email lists up to DIGEST_MAX_ITEMS.
INBOX_ITEMS = 10


@dataclass(frozen=True)
class DigestPlan:
    """What one person's digest will say."""

    user: User
    channels: Channels
    items: list[ClockView]  # soonest first, at most DIGEST_MAX_ITEMS
    more: int  # deadlines beyond those listed


@dataclass
class DigestOutlook:
    """Who gets a digest now, and who does not and why."""

    day: date
    plans: list[DigestPlan] = field(default_factory=list)
    already_sent: int = 0
    nothing_due: int = 0


@dataclass
class DigestResult:
    day: date
    sent: int = 0
    already_sent: int = 0
    nothing_due: int = 0
    failed: list[str] = field(default_factory=list)  # addresses whose email could not be sent


def digest_day(now: datetime) -> date:
    """Return the association's (Tokyo) calendar day of ``now``: the day a digest counts for."""
    return now.astimezone(TOKYO).date()


def digest_clocks(*, user, now: datetime, until: datetime) -> QuerySet[Clock]:
    """Return the running clocks of the cases the user's organisation sees, due after now and by ``until``."""
    return (
        Clock.objects.filter(
            case__in=cases_visible_to(user=user),
            status=ClockStatus.RUNNING,
            due_at__gt=now,
            due_at__lte=until,
        )
        .select_related("case")
        .order_by("due_at", "id")
    )


def digest_outlook(*, now: datetime) -> DigestOutlook:
    """Plan every digest due now, writing nothing.

    Reads the active users who want the digest in some channel and have none yet today,
    then one query of clocks per organisation among them.
    """
    day = digest_day(now)
    outlook = DigestOutlook(day=day)
    users = list(
        User.objects.filter(is_active=True, organisation__isnull=False, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation_id", "id")
    )
    channels = notification_channels_for(users=users, event_type=EventType.DIGEST)
    sent_today = set(DigestRun.objects.filter(date=day).values_list("user_id", flat=True))
    outlook.already_sent = sum(1 for user in users if user.pk in sent_today)
    waiting = [user for user in users if channels[user.pk].any and user.pk not in sent_today]

    until = now + timedelta(hours=settings.DIGEST_WINDOW_HOURS)
    clocks_by_organisation = {
        organisation_id: list(digest_clocks(user=next(members), now=now, until=until))
        for organisation_id, members in groupby(waiting, key=lambda user: user.organisation_id)
    }
    # One calendar read for every clock of every organisation.
    unique_clocks = {clock.pk: clock for clocks in clocks_by_organisation.values() for clock in clocks}
    views = {view.clock.pk: view for view in clock_views(clocks=unique_clocks.values(), now=now)}

    limit = settings.DIGEST_MAX_ITEMS
    for user in waiting:
        clocks = clocks_by_organisation[user.organisation_id]
        if not clocks:
            outlook.nothing_due += 1
            continue
        outlook.plans.append(
            DigestPlan(
                user=user,
                channels=channels[user.pk],
                items=[views[clock.pk] for clock in clocks[:limit]],
                more=max(len(clocks) - limit, 0),
            )
        )
    return outlook


def _digest_message(plan: DigestPlan, now: datetime) -> RenderedMessage:
    """Write one person's digest in their language."""
    count = len(plan.items) + plan.more
    with translation.override(plan.user.language or settings.LANGUAGE_CODE):
        subject = ngettext(
            "Daily digest: %(count)d deadline in the next %(hours)d hours",
            "Daily digest: %(count)d deadlines in the next %(hours)d hours",
            count,
        ) % {"count": count, "hours": settings.DIGEST_WINDOW_HOURS}
        context = {
            "recipient": plan.user,
            "subject": subject,
            "now": now,
            "hours": settings.DIGEST_WINDOW_HOURS,
            "items": plan.items,
            "more": plan.more,
            "inbox_items": plan.items[:INBOX_ITEMS],
            "inbox_more": count - min(len(plan.items), INBOX_ITEMS),
            "site_url": settings.SITE_URL,
            "case_list_url": site_url(f"{reverse('claims:case_list')}?sort=due"),
            "preferences_url": site_url(reverse("notifications:preferences")),
        }
        return RenderedMessage(
            subject=subject,
            summary=render_to_string("notifications/email/digest_summary.txt", context).strip(),
            text=plain_text(render_to_string("notifications/email/digest.txt", context)),
            html=render_to_string("notifications/email/digest.html", context),
        )


def _digest_deliver(plan: DigestPlan, *, now: datetime, day: date) -> bool:
    """Send one digest unless one was sent today; return whether this call sent it.

    The DigestRun row, the inbox entry and the email share one transaction: a concurrent run
    waits on the row's unique index and then skips, and a failed email leaves no row behind,
    so the retry sends it.
    """
    message = _digest_message(plan, now)
    with transaction.atomic():
        try:
            with transaction.atomic():
                DigestRun.objects.create(
                    user=plan.user, date=day, sent_at=timezone.now(), clock_count=len(plan.items) + plan.more
                )
        except IntegrityError:
            return False
        if plan.channels.inbox:
            Notification.objects.create(
                recipient=plan.user,
                event=None,
                subject=message.subject[:300],
                body=message.summary,
                url=f"{reverse('claims:case_list')}?sort=due",
            )
        if plan.channels.email:
            email_send(user=plan.user, message=message)
    return True


def digest_send(*, now: datetime | None = None) -> DigestResult:
    """Send today's digest to everybody who wants one and has something due; at most once a day each.

    An email that cannot be sent is logged and reported in ``failed``; the others still go.
    """
    now = now or timezone.now()
    outlook = digest_outlook(now=now)
    result = DigestResult(day=outlook.day, already_sent=outlook.already_sent, nothing_due=outlook.nothing_due)
    for plan in outlook.plans:
        try:
            sent = _digest_deliver(plan, now=now, day=outlook.day)
        except OSError:  # smtplib's errors are OSErrors
            logger.exception("The daily digest to %s could not be sent.", plan.user.email)
            result.failed.append(plan.user.email)
            continue
        if sent:
            result.sent += 1
        else:
            result.already_sent += 1
    return result
