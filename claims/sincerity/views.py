"""Pages of sincerity: the association's queue of challenged responses and the verdict form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from claims.models import ASSOCIATION_ROLES, DisputeReason, Sincerity
from claims.sincerity.forms import AdjudicationForm
from claims.sincerity.selectors import (
    response_get_for_user,
    responses_awaiting_adjudication,
    responses_with_similar_links,
)
from claims.sincerity.services import response_adjudicate
from members.errors import ApplicationError

PER_PAGE = 25


def _association_only(user):
    if user.role not in ASSOCIATION_ROLES:
        raise PermissionDenied(_("Only the association adjudicates responses."))


def _dispute_reason_labels(response) -> list[str]:
    return [
        str(DisputeReason(reason).label)
        for reason in response.dispute_reasons
        if reason in DisputeReason.values
    ]


def responses_for_case_page(*, responses, user) -> list:
    """Return the case page's responses with what their sincerity panel shows.

    Each carries ``similar_link`` (only when the user may see that case), its dispute reasons'
    labels and, for the association and a challenged response, a blank verdict form.
    """
    rows = responses_with_similar_links(responses=responses, user=user)
    may_adjudicate = user.role in ASSOCIATION_ROLES
    for response in rows:
        response.dispute_reason_labels = _dispute_reason_labels(response)
        response.adjudication_form = (
            AdjudicationForm(response=response)
            if may_adjudicate and response.sincerity == Sincerity.CHALLENGED
            else None
        )
    return rows


@login_required
@require_GET
def adjudication_list(request):
    """List the responses claimants challenged as insincere, longest waiting first."""
    _association_only(request.user)
    page = Paginator(responses_awaiting_adjudication(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    responses = responses_with_similar_links(responses=list(page.object_list), user=request.user)
    for response in responses:
        response.dispute_reason_labels = _dispute_reason_labels(response)
    return render(request, "claims/adjudication_list.html", {"page": page, "responses": responses})


@login_required
@require_http_methods(["GET", "POST"])
def response_adjudicate_view(request, reference, response_id):
    """Show and take the verdict on one challenged response.

    From the case page htmx posts the form and swaps in the answer: the form again with its
    errors, or a redirect to the case. Without htmx a refused form is shown on a page of its own.
    """
    response = response_get_for_user(user=request.user, reference=reference, response_id=response_id)
    _association_only(request.user)
    case = response.case
    form = AdjudicationForm(request.POST or None, response=response)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                response_adjudicate(
                    response=response,
                    actor=request.user,
                    verdict=form.cleaned_data["verdict"],
                    note=form.cleaned_data["note"],
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
                status = exc.status_code
            else:
                messages.success(request, _("Your verdict was recorded."))
                target = f"{case.get_absolute_url()}#response-{response.pk}"
                if request.htmx:
                    answer = HttpResponse(status=204)
                    answer["HX-Redirect"] = target
                    return answer
                return redirect(target)
        else:
            status = 400
    context = {"case": case, "response": response, "form": form}
    if request.htmx:
        # htmx swaps only a 2xx answer: the refused form comes back as 200 to be shown in place.
        return render(request, "claims/partials/response_adjudication_form.html", context)
    return render(request, "claims/adjudication_form.html", context, status=status)
