"""The evidence bundle download from the case page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from claims.selectors import case_get_for_user
from members.errors import ApplicationError

from .api import bundle_response


@login_required
@require_GET
def case_bundle(request, reference):
    """Download the case's evidence bundle (timeline, files, manifest) as a ZIP."""
    case = case_get_for_user(user=request.user, reference=reference)
    try:
        return bundle_response(case=case, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(f"{case.get_absolute_url()}#evidence")
