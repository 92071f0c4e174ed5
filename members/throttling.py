"""Throttle API requests per token (per user or address for other requests)."""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from members.models import ApiToken


def counter_increment(key: str, *, timeout: int) -> int:
    """Add one to the cache counter ``key`` (created with ``timeout`` seconds to live); return it.

    On Redis this is one round trip (INCR and EXPIRE in a pipeline) and atomic across workers; other
    caches use add-then-incr, which is atomic for the one process the embedded default runs.
    """
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        # Django's Redis backend has no atomic "increment or create": its incr() refuses a missing
        # key and costs a round trip more, so the pipeline goes to its client directly.
        pipeline = cache._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, timeout)
        return int(pipeline.execute()[0])
    for _attempt in range(3):
        if cache.add(key, 1, timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr(): start the window again
            continue
    return cache.incr(key)


class TokenRateThrottle(SimpleRateThrottle):
    """Allow ``settings.API_THROTTLE_RATE`` requests per token; DRF answers 429 with Retry-After.

    Each token has its own budget, so one runaway integration does not starve the user's other
    tokens or their browser session. Counters live in the default cache (Redis in production, so
    every gunicorn worker shares them).

    The budget is a fixed window (a minute for "/min", aligned to the clock), counted with one
    atomic increment, and Retry-After names the end of the window. DRF's own throttle keeps a list
    of every request's time in the window and writes it back each time: its cost grows with the
    rate, and two workers writing the list at once lose one another's requests.
    """

    scope = "api"

    def get_rate(self):
        # Read when the throttle is built, not at import, so settings overrides apply.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.seconds_left = (window + 1) * self.duration - now
        count = counter_increment(f"{key}:{window}", timeout=self.duration + 1)
        return count <= self.num_requests

    def wait(self):
        return self.seconds_left
