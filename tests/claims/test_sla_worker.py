"""A real Celery worker on Redis records a breach at its due time."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from claims.sla.models import ClockKind, ClockMark, SlaPolicy, TimeBasis
from config.celery import app as celery_app


@pytest.fixture
def redis_worker():
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), f"this test needs Redis as the broker, not {broker!r}"
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)  # a missing Redis fails the test, never skips it
    celery_app.control.purge()
    with start_worker(
        celery_app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
    ):
        yield


def wait_for(predicate, *, timeout):
    """Poll the database (another process writes it) until predicate() or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_real_worker_records_a_breach_of_a_clock_due_seconds_ahead(redis_worker, file_case, provider):
    policy = SlaPolicy.with_design_defaults(case_kind="claim", priority="normal", provider=provider)
    policy.acknowledgement_target = timedelta(seconds=3)
    policy.acknowledgement_basis = TimeBasis.CALENDAR
    policy.warning_thresholds = []
    policy.escalate_on_breach = False
    policy.save()

    case = file_case()
    clock = case.clocks.get(kind=ClockKind.ACKNOWLEDGEMENT)
    assert not ClockMark.objects.filter(clock=clock).exists()

    assert wait_for(lambda: ClockMark.objects.filter(clock=clock, threshold=100).exists(), timeout=20)
    mark = ClockMark.objects.get(clock=clock, threshold=100)
    assert mark.due_at == clock.due_at
    assert mark.recorded_at - mark.due_at < timedelta(seconds=2)
    assert case.events.filter(action="sla_breached").count() == 1
