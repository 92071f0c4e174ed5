"""A real Celery worker on Redis records a breach at its due time."""

from datetime import timedelta

import pytest

from claims.sla.models import ClockKind, ClockMark, SlaPolicy, TimeBasis
from tests.workers import wait_for


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
