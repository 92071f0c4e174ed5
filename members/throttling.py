"""Throttle API requests per token (per user or address for other requests)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from members.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Allow ``settings.API_THROTTLE_RATE`` requests per token; DRF answers 429 with Retry-After.

    Each token has its own budget, so one runaway integration does not starve the user's other
    tokens or their browser session. Counters live in the default cache (Redis in production, so
    every gunicorn worker shares them).
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
