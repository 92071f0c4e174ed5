"""Reading cases and acting on them: the case list, the case page and its forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from claims.evidence import stored_file_response
from claims.forms import ACTION_FORMS, CaseFilterForm, EvidenceUploadForm, MessageForm
from claims.integrity.selectors import case_links_for
from claims.selectors import (
    case_accepts_contributions_from,
    case_events,
    case_evidence,
    case_get_for_user,
    case_messages,
    case_outputs,
    case_responses,
    cases_visible_to,
    evidence_get_for_user,
)
from claims.selectors import case_list as cases_filtered
from claims.services import case_transition, evidence_add, message_post, timeline_verify
from claims.services.transitions import actions_available
from claims.sincerity.selectors import provider_sincere_on_time_rate
from claims.sincerity.views import responses_for_case_page
from claims.sla.selectors import clock_views, clock_views_for_case, clocks_due_next
from members.errors import ApplicationError
from members.registry.selectors import case_registry_decisions

CASES_PER_PAGE = 25
DUE_NEXT_LIMIT = 50


@login_required
@require_GET
def home(request):
    """Show a provider what falls due next; members and the association start at the case list."""
    if not request.user.is_provider_side:
        return redirect("claims:case_list")
    clocks = clocks_due_next(cases=cases_visible_to(user=request.user), limit=DUE_NEXT_LIMIT)
    due_clocks = clock_views(clocks=clocks)
    context = {
        "due_clocks": due_clocks,
        "truncated": len(due_clocks) >= DUE_NEXT_LIMIT,
        "sincere_rate": provider_sincere_on_time_rate(provider=request.user.organisation),
    }
    return render(request, "claims/home_provider.html", context)


@login_required
@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET, user=request.user)
    cases = cases_filtered(user=request.user, filters=form.filters(), ordering=form.ordering())
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    # ``now`` lets the table mark a due time already past (a claimant's review never "breaches").
    context = {"filter_form": form, "page": page, "sort": form.ordering(), "now": timezone.now()}
    # The filter form and the table's links ask htmx for the table alone; a history restore
    # (back button after the cache expired) needs the whole page again.
    htmx = request.htmx
    partial = htmx and not htmx.boosted and not htmx.history_restore_request
    template = "claims/partials/case_table.html" if partial else "claims/case_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _render_case(request, case, *, action_form=None, message_form=None, evidence_form=None, status=200):
    """Render the case page; a bound form that failed is shown in place of its blank one."""
    user = request.user
    action_forms = []
    for action in actions_available(case=case, user=user):
        if action_form is not None and action_form.action == action.name:
            action_forms.append((action, action_form))
        else:
            action_forms.append((action, ACTION_FORMS[action.name](case=case)))
    may_contribute = case_accepts_contributions_from(case=case, user=user)
    # A refused form that the page does not show (an action the user can no longer take, a
    # message from someone who may not post) has no place for its error but the page's top.
    hidden_forms = [] if may_contribute else [message_form, evidence_form]
    if action_form is not None and action_form.action not in {form.action for _a, form in action_forms}:
        hidden_forms.append(action_form)
    page_errors = [
        error
        for form in hidden_forms
        if form is not None
        for errors in form.errors.values()
        for error in errors
    ]
    if may_contribute:
        message_form = message_form or MessageForm()
        evidence_form = evidence_form or EvidenceUploadForm(case=case)
    events = list(case_events(case=case))
    context = {
        "case": case,
        "outputs": case_outputs(case=case),
        "evidence_list": case_evidence(case=case),
        "responses": responses_for_case_page(responses=case_responses(case=case), user=user),
        "thread": case_messages(case=case),
        "events": events,
        "chain_problems": timeline_verify(case=case) if events else [],
        "action_forms": action_forms,
        "open_action": action_form.action if action_form is not None else None,
        "page_errors": page_errors,
        "may_contribute": may_contribute,
        "message_form": message_form,
        "evidence_form": evidence_form,
        "works": case.works.all(),
        "clock_views": clock_views_for_case(case=case),
        "registry_decisions": case_registry_decisions(
            case=case, outputs=case_outputs(case=case), works=case.works.all()
        ),
        "case_links": case_links_for(user=user, case=case),
    }
    return render(request, "claims/case_detail.html", context, status=status)


@login_required
@require_GET
def case_detail(request, reference):
    case = case_get_for_user(user=request.user, reference=reference)
    return _render_case(request, case)


@login_required
@require_POST
def case_action(request, reference, action):
    case = case_get_for_user(user=request.user, reference=reference)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404("No such action.")
    form = form_class(request.POST, case=case)
    if not form.is_valid():
        return _render_case(request, case, action_form=form, status=400)
    try:
        case_transition(case=case, action=action, actor=request.user, payload=form.payload())
    except ApplicationError as exc:
        form.add_service_error(exc)
        return _render_case(request, case, action_form=form, status=exc.status_code)
    messages.success(request, form.success_message)
    return redirect(case)


@login_required
@require_POST
def message_create(request, reference):
    case = case_get_for_user(user=request.user, reference=reference)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, message_form=form, status=400)
    try:
        message_post(case=case, actor=request.user, body=form.cleaned_data["body"])
    except ApplicationError as exc:
        form.add_service_error(exc)
        return _render_case(request, case, message_form=form, status=exc.status_code)
    messages.success(request, _("Your message was posted."))
    return redirect(f"{case.get_absolute_url()}#thread")


@login_required
@require_POST
def evidence_upload(request, reference):
    case = case_get_for_user(user=request.user, reference=reference)
    form = EvidenceUploadForm(request.POST, request.FILES, case=case)
    if not form.is_valid():
        return _render_case(request, case, evidence_form=form, status=400)
    data = form.cleaned_data
    try:
        evidence_add(
            case=case,
            actor=request.user,
            upload=data["file"],
            output=data["output"],
            description=data["description"],
        )
    except ApplicationError as exc:
        form.add_service_error(exc)
        return _render_case(request, case, evidence_form=form, status=exc.status_code)
    messages.success(request, _("The file was added to the case."))
    return redirect(f"{case.get_absolute_url()}#evidence")


@login_required
@require_GET
def evidence_download(request, reference, evidence_id):
    evidence = evidence_get_for_user(user=request.user, reference=reference, evidence_id=evidence_id)
    return stored_file_response(evidence)
