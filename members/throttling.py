"""Throttle API requests per token (per user or address for other requests)."""

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class RateLimit:
    """Where a request left its budget: shown to the client in the X-RateLimit-* headers."""

    limit: int
    remaining: int
    resets_at: float  # Unix time the window ends


REQUEST_ATTRIBUTE = "rightsdesk_rate_limit"


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
        rate_limit = RateLimit(
            limit=self.num_requests,
            remaining=max(0, self.num_requests - count),
            resets_at=(window + 1) * self.duration,
        )
        setattr(request._request, REQUEST_ATTRIBUTE, rate_limit)
        return count <= self.num_requests

    def wait(self):
        return self.seconds_left


class RateLimitHeadersMiddleware:
    """Tell API clients their budget on every throttled answer, as GitHub's API does.

    ``X-RateLimit-Limit`` (requests per window), ``X-RateLimit-Remaining`` and
    ``X-RateLimit-Reset`` (Unix time the window ends), so a client can slow down before a 429.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        rate_limit = getattr(request, REQUEST_ATTRIBUTE, None)
        if rate_limit is not None:
            response["X-RateLimit-Limit"] = str(rate_limit.limit)
            response["X-RateLimit-Remaining"] = str(rate_limit.remaining)
            response["X-RateLimit-Reset"] = str(math.ceil(rate_limit.resets_at))
        return response
