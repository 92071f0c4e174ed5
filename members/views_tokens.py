"""Organisation administrators issue, list and revoke the API tokens of their organisation.

A token is looked up among the admin's own organisation's tokens, so another organisation's
token is "not found" rather than "forbidden".
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.decorators import org_admin_required
from members.errors import ApplicationError
from members.forms_tokens import ApiTokenForm
from members.models import ApiToken
from members.tokens import api_token_issue, api_token_revoke

token_admin_required = org_admin_required(
    refusal=gettext_lazy("Only an organisation administrator may manage API tokens.")
)


@token_admin_required
@require_GET
def token_list(request):
    organisation = request.user.organisation
    context = {"organisation": organisation, "tokens": ApiToken.objects.of_organisation(organisation)}
    return render(request, "members/tokens/token_list.html", context)


@token_admin_required
@require_http_methods(["GET", "POST"])
@never_cache  # the answer to a successful POST carries the only copy of the token
def token_create(request):
    organisation = request.user.organisation
    if request.method != "POST":
        form = ApiTokenForm(organisation=organisation, initial={"user": request.user})
        return render(request, "members/tokens/token_form.html", {"form": form})

    form = ApiTokenForm(request.POST, organisation=organisation)
    if form.is_valid():
        try:
            token, plaintext = api_token_issue(
                actor=request.user,
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
            )
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from None
            # The form names expiry "valid_until"; the service calls it "expires_at".
            if "expires_at" in exc.fields:
                exc.fields["valid_until"] = exc.fields.pop("expires_at")
            form.add_service_error(exc)
        else:
            # Rendered, not redirected: the plaintext must not travel through a URL or the session.
            return render(
                request, "members/tokens/token_created.html", {"token": token, "plaintext": plaintext}
            )
    return render(request, "members/tokens/token_form.html", {"form": form}, status=400)


@token_admin_required
@require_POST
def token_revoke(request, token_id):
    token = get_object_or_404(ApiToken.objects.of_organisation(request.user.organisation), pk=token_id)
    try:
        token = api_token_revoke(actor=request.user, token=token)
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
    return redirect("tokens:token_list")
