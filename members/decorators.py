from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

DEFAULT_REFUSAL = _("Only an organisation administrator may do this.")


def org_admin_required(view=None, *, refusal=DEFAULT_REFUSAL):
    """Let only an organisation administrator in (after login); everybody else gets 403.

    Use bare (``@org_admin_required``) or with the message the refused user should read
    (``@org_admin_required(refusal=_("Only … may manage webhooks."))``).
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_org_admin or request.user.organisation_id is None:
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate(view) if view is not None else decorate
