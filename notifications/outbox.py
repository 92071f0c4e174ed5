"""The transactional outbox between recording a case event and telling people about it.

A transition or filing writes an ``OutboxEntry`` for each event people are told about, in its own
transaction: the event and the promise to announce it commit together or not at all. After the
commit the process "kicks" the dispatcher, a Celery task that hands the entries to the delivery
tasks (inbox, email, webhooks) and deletes them. A beat task runs the dispatcher as well, so an
entry whose kick was lost (broker down, process killed after the commit) is delivered late,
never dropped.

Kicks are coalesced per process: the first commit in a quiet moment queues the dispatcher with
a countdown of ``OUTBOX_KICK_SECONDS``, and commits before it runs need no kick of their own,
because that run starts after they committed. Under load this is a few Celery messages a second
instead of one per request.
"""

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import connection, transaction

from claims.bulk import binding_cursor
from notifications.models import OutboxEntry
from notifications.services import AUDIENCES

logger = logging.getLogger(__name__)

_kick_lock = threading.Lock()
_kick_covers_until = 0.0  # time.monotonic() before which a queued dispatcher run will still start


def outbox_add(*, events) -> int:
    """Promise, in the current transaction, to announce these events once it commits."""
    event_ids = [event.pk for event in events if event.action in AUDIENCES]
    if not event_ids:
        return 0
    if connection.vendor == "postgresql":
        # One statement and one array parameter, whether a filing's one event or a sweep's 10,000
        # breaches: no model instance is built per entry.
        meta = OutboxEntry._meta
        with binding_cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{meta.db_table}" ("{meta.get_field("event").column}", '
                f'"{meta.get_field("created_at").column}") SELECT unnest(%s::bigint[]), now()',
                [event_ids],
            )
    else:
        OutboxEntry.objects.bulk_create(OutboxEntry(event_id=event_id) for event_id in event_ids)
    transaction.on_commit(outbox_kick)
    return len(event_ids)


def outbox_kick() -> None:
    """Make sure a dispatcher run starts after now (queued at most once per OUTBOX_KICK_SECONDS)."""
    from notifications.tasks import dispatch_outbox

    global _kick_covers_until
    if current_app.conf.task_always_eager:
        # An eager task runs here and now, so it cannot cover the commits that come after it.
        dispatch_outbox.delay()
        return
    now = time.monotonic()
    with _kick_lock:
        if now < _kick_covers_until:
            return
        _kick_covers_until = now + settings.OUTBOX_KICK_SECONDS
    try:
        dispatch_outbox.apply_async(countdown=settings.OUTBOX_KICK_SECONDS)
    except Exception:
        # The entries are committed: the periodic dispatcher run delivers them. The request that
        # wrote them succeeded and must not fail now.
        logger.exception("Could not queue the outbox dispatcher; its periodic run will deliver.")
        outbox_kick_forget()


def outbox_kick_forget() -> None:
    """Forget the queued run, so the next commit kicks again (after a change of broker or queue)."""
    global _kick_covers_until
    with _kick_lock:
        _kick_covers_until = 0.0


def outbox_dispatch(*, batch_size: int = 500) -> int:
    """Hand every waiting entry to the delivery tasks, oldest first; return how many were handed.

    Each batch is queued before its entries are deleted, in one transaction: if queueing fails
    the entries stay for the next run, and if the commit fails after queueing the events are
    delivered twice, which the delivery tasks make harmless (nobody is told twice, a webhook
    delivery exists once per endpoint and event). Concurrent runs skip each other's rows.
    """
    from notifications.tasks import deliver_events_notifications

    handed = 0
    while True:
        with transaction.atomic():
            rows = list(
                OutboxEntry.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "event_id")[:batch_size]
            )
            if not rows:
                return handed
            event_ids = sorted({event_id for _pk, event_id in rows})
            deliver_events_notifications.delay(event_ids=event_ids)
            OutboxEntry.objects.filter(pk__in=[pk for pk, _event_id in rows]).delete()
        handed += len(rows)
