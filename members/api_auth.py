"""Authenticate API requests by ``Authorization: Bearer <token>`` (``Token <token>`` works too)."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from members.tokens import TokenRejected, api_token_authenticate

KEYWORDS = ("bearer", "token")
# The idempotency middleware authenticates a token before the view runs and leaves the result
# here on the Django request, so a request looks its token up once.
REQUEST_ATTRIBUTE = "_rightsdesk_api_token"


def token_from_header(request) -> str | None:
    """Return the token of an ``Authorization: Bearer|Token <token>`` header, "" if malformed, else None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    keyword, _sep, credentials = header.strip().partition(" ")
    if keyword.lower() not in KEYWORDS:
        return None
    credentials = credentials.strip()
    if not credentials or " " in credentials:
        return ""
    return credentials


def authenticate_request(django_request):
    """Authenticate the token of a Django request once; return the ApiToken, None, or the refusal.

    None means the request carries no token (another authentication may apply).
    """
    if hasattr(django_request, REQUEST_ATTRIBUTE):
        return getattr(django_request, REQUEST_ATTRIBUTE)
    plaintext = token_from_header(django_request)
    if plaintext is None:
        outcome = None
    elif not plaintext:
        outcome = TokenRejected(
            _("Malformed Authorization header: use “Bearer <token>”."), code="token_invalid"
        )
    else:
        try:
            outcome = api_token_authenticate(plaintext=plaintext)
        except TokenRejected as exc:
            outcome = exc
    setattr(django_request, REQUEST_ATTRIBUTE, outcome)
    return outcome


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Act as the token's user: ``request.user`` is that user, ``request.auth`` the ApiToken."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        outcome = authenticate_request(request._request)
        if outcome is None:
            return None
        if isinstance(outcome, TokenRejected):
            raise exceptions.AuthenticationFailed(outcome.message, code=outcome.code)
        return outcome.user, outcome

    def authenticate_header(self, request):
        # Naming a scheme makes DRF answer 401 (not 403) to a request without credentials.
        return f'Bearer realm="{self.www_authenticate_realm}"'
