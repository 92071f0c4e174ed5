"""Organisation administrators manage their colleagues: list, invite, deactivate.

Every user is looked up inside the admin's own organisation, so another organisation's user
is "not found" rather than "forbidden".
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.decorators import org_admin_required
from members.errors import ApplicationError
from members.forms import UserAddForm
from members.selectors import organisation_users
from members.services import user_add_to_organisation, user_deactivate, user_invitation_resend

user_admin_required = org_admin_required(
    refusal=gettext_lazy("Only an organisation administrator may manage users.")
)


def _colleague_or_404(request, user_id):
    return get_object_or_404(organisation_users(organisation=request.user.organisation), pk=user_id)


def _refuse(exc: ApplicationError, request) -> None:
    """Turn a refusal the pages cannot show beside a field into the matching HTTP answer."""
    if exc.status_code == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)


@user_admin_required
@require_GET
def user_list(request):
    organisation = request.user.organisation
    context = {"organisation": organisation, "users": organisation_users(organisation=organisation)}
    return render(request, "members/user_list.html", context)


@user_admin_required
@require_http_methods(["GET", "POST"])
def user_add(request):
    organisation = request.user.organisation
    if request.method != "POST":
        form = UserAddForm(organisation=organisation, initial={"language": request.user.language})
        return render(request, "members/user_add.html", {"form": form, "organisation": organisation})

    form = UserAddForm(request.POST, organisation=organisation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = user_add_to_organisation(
                actor=request.user,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                language=data["language"],
            )
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("%(user)s was added. An invitation to choose a password was sent to %(email)s.")
                % {"user": user, "email": user.email},
            )
            return redirect("members:user_list")
    context = {"form": form, "organisation": organisation}
    return render(request, "members/user_add.html", context, status=400)


@user_admin_required
@require_POST
def user_deactivate_view(request, user_id):
    colleague = _colleague_or_404(request, user_id)
    try:
        user_deactivate(actor=request.user, user=colleague)
    except ApplicationError as exc:
        _refuse(exc, request)
    else:
        messages.success(request, _("%(user)s can no longer sign in.") % {"user": colleague})
    return redirect("members:user_list")


@user_admin_required
@require_POST
def user_invitation_resend_view(request, user_id):
    colleague = _colleague_or_404(request, user_id)
    try:
        user_invitation_resend(actor=request.user, user=colleague)
    except ApplicationError as exc:
        _refuse(exc, request)
    else:
        messages.success(request, _("A new invitation was sent to %(email)s.") % {"email": colleague.email})
    return redirect("members:user_list")
