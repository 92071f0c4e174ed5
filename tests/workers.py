"""A real Celery worker on Redis for the tests whose timing crosses processes."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app as celery_app
from notifications.outbox import outbox_kick_forget


@pytest.fixture
def redis_worker():
    """Start a worker on a queue of this test's own, so that no other worker on the broker takes its tasks."""
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), f"this test needs Redis as the broker, not {broker!r}"
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous_queue, previous_eager = celery_app.conf.task_default_queue, celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    outbox_kick_forget()  # a dispatcher run queued by an earlier test went to that test's queue
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)  # a missing Redis fails the test, never skips it
    try:
        with start_worker(
            celery_app,
            pool="threads",
            concurrency=2,
            queues=[queue],
            perform_ping_check=False,
            loglevel="WARNING",
        ):
            yield
    finally:
        celery_app.conf.task_default_queue = previous_queue
        celery_app.conf.task_always_eager = previous_eager
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)  # whatever the worker left behind


def wait_for(predicate, *, timeout):
    """Poll (another thread writes the database) until predicate() or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
