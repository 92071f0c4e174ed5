"""Registry pages: works, the grant ledger, the check form, and the public reservation files.

Views shape the request for the services and selectors; every object is fetched through a
selector scoped to the user's organisation, so another organisation's work or grant is a 404.
"""

import csv
import io
import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claims.evidence import stored_file_response
from members.api_auth import authenticate_request
from members.errors import ApplicationError
from members.models import Organisation
from members.registry import publishing, selectors, services
from members.registry.forms import (
    GrantCheckForm,
    GrantForm,
    GrantRevokeForm,
    WorkForm,
    WorkImageForm,
    WorkSearchForm,
    WorksImportForm,
)
from members.registry.models import GrantUse
from members.tokens import TokenRejected

WORKS_PER_PAGE = 50
GRANTS_PER_PAGE = 50
ROW_ERRORS_SHOWN = 200
# The page imports in one request and one transaction; bigger files go to `manage.py import_works`.
IMPORT_MAX_ROWS = 5000


def member_staff_required(view):
    """Let only a member company's staff in: they keep the registry and make the grants."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_member_side or request.user.organisation_id is None:
            raise PermissionDenied(_("Only a member company's staff may do this."))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _refuse_if_forbidden(exc: ApplicationError) -> None:
    if exc.status_code == 403:
        raise PermissionDenied(exc.message)
    if exc.status_code == 404:
        raise Http404(exc.message)


# --- Works ------------------------------------------------------------------------------------


@login_required
@require_GET
def work_list(request):
    if request.user.is_provider_side:
        raise PermissionDenied(_("Providers see the works of their grants in the grant list and their feed."))
    form = WorkSearchForm(request.GET)
    works = selectors.works_search(user=request.user, query=form.query())
    page = Paginator(works, WORKS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "query": form.query()}
    template = (
        "registry/partials/work_table.html"
        if request.htmx and not request.htmx.boosted
        else "registry/work_list.html"
    )
    return render(request, template, context)


@member_staff_required
@require_http_methods(["GET", "POST"])
def work_create(request):
    form = WorkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            work = services.work_create(actor=request.user, **form.service_arguments())
        except ApplicationError as exc:
            _refuse_if_forbidden(exc)
            form.add_service_error(exc)
        else:
            messages.success(request, _("The work “%(title)s” was registered.") % {"title": work})
            return redirect("registry:work_detail", work_id=work.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/work_form.html", {"form": form, "work": None}, status=status)


def _render_work(request, work, *, image_form=None, status=200):
    may_edit = selectors.user_may_edit_work(user=request.user, work=work)
    context = {
        "work": work,
        "may_edit": may_edit,
        "image_form": image_form or (WorkImageForm() if may_edit else None),
        "grants": selectors.grant_ledger(user=request.user, filters={"work": work})[:50],
    }
    return render(request, "registry/work_detail.html", context, status=status)


@login_required
@require_GET
def work_detail(request, work_id):
    work = selectors.work_get_for_user(user=request.user, work_id=work_id)
    return _render_work(request, work)


@member_staff_required
@require_http_methods(["GET", "POST"])
def work_edit(request, work_id):
    work = selectors.work_get_for_user(user=request.user, work_id=work_id)
    if not selectors.user_may_edit_work(user=request.user, work=work):
        raise Http404("No such work.")
    form = WorkForm(request.POST or None, initial=WorkForm.initial_for(work))
    if request.method == "POST" and form.is_valid():
        try:
            work = services.work_update(actor=request.user, work=work, **form.service_arguments())
        except ApplicationError as exc:
            _refuse_if_forbidden(exc)
            form.add_service_error(exc)
        else:
            messages.success(request, _("The work “%(title)s” was saved.") % {"title": work})
            return redirect("registry:work_detail", work_id=work.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/work_form.html", {"form": form, "work": work}, status=status)


@member_staff_required
@require_POST
def work_image_upload(request, work_id):
    work = selectors.work_get_for_user(user=request.user, work_id=work_id)
    if not selectors.user_may_edit_work(user=request.user, work=work):
        raise Http404("No such work.")
    form = WorkImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.work_image_add(actor=request.user, work=work, upload=form.cleaned_data["image"])
        except ApplicationError as exc:
            _refuse_if_forbidden(exc)
            form.add_service_error(exc)
        else:
            messages.success(request, _("The image was added."))
            return redirect("registry:work_detail", work_id=work.pk)
    return _render_work(request, work, image_form=form, status=400)


@login_required
@require_GET
def work_image_download(request, work_id, image_id):
    image = selectors.work_image_get_for_user(user=request.user, work_id=work_id, image_id=image_id)
    return stored_file_response(image, as_attachment=False)  # shown in the page, not downloaded


@member_staff_required
@require_http_methods(["GET", "POST"])
def works_import(request):
    form = WorksImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": services.CSV_COLUMNS, "max_rows": IMPORT_MAX_ROWS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["csv_file"]
        try:
            count = services.works_import_csv(
                owner=request.user.organisation,
                actor=request.user,
                data=upload.read(),
                max_rows=IMPORT_MAX_ROWS,
            )
        except ApplicationError as exc:
            _refuse_if_forbidden(exc)
            row_errors = _row_errors(exc.fields)
            form.add_error("csv_file", exc.message)
            context["row_errors"] = row_errors[:ROW_ERRORS_SHOWN]
            context["row_errors_hidden"] = max(0, len(row_errors) - ROW_ERRORS_SHOWN)
        else:
            messages.success(
                request,
                ngettext("%(count)d work was imported.", "%(count)d works were imported.", count)
                % {"count": count},
            )
            return redirect("registry:work_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/works_import.html", context, status=status)


def _row_errors(fields: dict) -> list[dict]:
    rows = []
    for key, messages_ in fields.items():
        if not key.startswith("row "):
            continue
        line, _sep, column = key.removeprefix("row ").partition(".")
        rows.extend({"line": int(line), "column": column, "message": message} for message in messages_)
    return rows


@login_required
@require_GET
def works_import_template(request):
    """Download the CSV template: the header row and one example row, UTF-8 with a BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(services.CSV_COLUMNS)
    example = {
        "kind": "character",
        "title_ja": "ねこまる",
        "title_en": "Nekomaru",
        "description": "Our mascot character.",
        "location": "/characters/nekomaru/*",
        "isrc": "",
        "jan": "4901234567894",
        "internal": "CHR-0001; MASCOT-7",
    }
    writer.writerow([example.get(column, "") for column in services.CSV_COLUMNS])
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="rightsdesk-works-template.csv"'
    return response


# --- Grants -----------------------------------------------------------------------------------


@login_required
@require_GET
def grant_list(request):
    user = request.user
    use = request.GET.get("use")
    grants = selectors.grant_ledger(user=user, filters={"use": use if use in GrantUse.values else None})
    page = Paginator(grants, GRANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/grant_list.html", {"page": page, "use": use, "uses": GrantUse.choices})


@member_staff_required
@require_http_methods(["GET", "POST"])
def grant_create(request):
    user = request.user
    form = GrantForm(
        request.POST or None,
        providers=selectors.providers_for_grants(),
        works=selectors.works_visible_to(user=user),
        initial={"use": GrantUse.TRAINING, "work": request.GET.get("work")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = services.grant_issue(
                actor=user,
                provider=data["provider"],
                use=data["use"],
                work=data["work"],
                terms=data["terms"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
            )
        except ApplicationError as exc:
            _refuse_if_forbidden(exc)
            form.add_service_error(exc)
        else:
            messages.success(request, _("Grant #%(id)s was recorded.") % {"id": grant.pk})
            return redirect("registry:grant_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/grant_form.html", {"form": form}, status=status)


@member_staff_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request, grant_id):
    grant = selectors.grant_get_for_user(user=request.user, grant_id=grant_id)
    form = GrantRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_revoke(
                actor=request.user,
                grant=grant,
                reason=form.cleaned_data["reason"],
                effective_at=form.cleaned_data["effective_at"],
            )
        except ApplicationError as exc:
            _refuse_if_forbidden(exc)
            form.add_service_error(exc)
        else:
            messages.success(request, _("Grant #%(id)s was revoked.") % {"id": grant.pk})
            return redirect("registry:grant_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/grant_revoke.html", {"form": form, "grant": grant}, status=status)


@login_required
@require_GET
def grant_check(request):
    user = request.user
    providers = selectors.checkable_providers(user=user)
    form = GrantCheckForm(
        request.GET or None,
        providers=providers,
        works=selectors.checkable_works(user=user),
        initial={"provider": providers.first() if user.is_provider_side else None},
    )
    result = None
    if form.is_bound and form.is_valid():
        at = form.cleaned_data["at"] or timezone.now()
        decision = selectors.grant_check(
            provider=form.cleaned_data["provider"],
            work=form.cleaned_data["work"],
            use=form.cleaned_data["use"],
            at=at,
        )
        result = {"decision": decision, "at": at, **form.cleaned_data}
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "registry/grant_check.html", {"form": form, "result": result}, status=status)


# --- Published files (public) -----------------------------------------------------------------


def _base_url(request) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") or request.build_absolute_uri("/").rstrip("/")


def _as_provider(request, member: Organisation) -> Organisation | None:
    """Return the provider whose grants to apply (``?provider=``), if the requester may see them.

    The requester signs in with the session or an API token. Anyone else asking is answered
    404, as if the provider did not exist: the public must not learn who holds which grant.
    """
    slug = request.GET.get("provider")
    if not slug:
        return None
    user = request.user
    outcome = authenticate_request(request)
    if outcome is not None and not isinstance(outcome, TokenRejected):
        user = outcome.user
    provider = Organisation.objects.providers().filter(slug=slug[:64]).first()
    if provider is None or not publishing.provider_view_allowed(user=user, member=member, provider=provider):
        raise Http404("No such provider.")
    return provider


def _published(response, *, private: bool):
    """Let anyone fetch the public files (any origin, cached briefly); keep a provider's view private."""
    if private:
        response["Cache-Control"] = "private, no-store"
        response["Vary"] = "Cookie, Authorization"
    else:
        response["Access-Control-Allow-Origin"] = "*"
        response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def tdmrep(request, member):
    member = publishing.registry_member_get(member)
    provider = _as_provider(request, member)
    rules = publishing.tdmrep_rules(
        member=member, base_url=_base_url(request), at=timezone.now(), provider=provider
    )
    response = JsonResponse(rules, safe=False, json_dumps_params={"ensure_ascii": False, "indent": 2})
    return _published(response, private=provider is not None)


@require_GET
def tdm_policy(request, member):
    member = publishing.registry_member_get(member)
    body = json.dumps(
        publishing.tdm_policy(member=member, base_url=_base_url(request)), ensure_ascii=False, indent=2
    )
    return _published(HttpResponse(body, content_type="application/ld+json"), private=False)


@require_GET
def aipref(request, member):
    member = publishing.registry_member_get(member)
    provider = _as_provider(request, member)
    text = publishing.aipref_text(member=member, at=timezone.now(), provider=provider)
    return _published(
        HttpResponse(text, content_type="text/plain; charset=utf-8"), private=provider is not None
    )
