"""Monthly report pages and PDFs (signed in), and the public transparency summary (no login)."""

from itertools import groupby

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from .access import report_get_for_user, report_refs_for
from .layout import report_layout
from .pdf import render_report_pdf
from .selectors import report_build
from .transparency import FIELDS, transparency_summary

LANGUAGES = {code for code, _name in settings.LANGUAGES}
HTML_MAX_AGE = 300  # the page carries the visitor's CSRF token: browsers may keep it, shared caches not
JSON_MAX_AGE = 900


def report_language(request) -> str:
    """Return the language asked for with ``?lang=``, else the active one (the user's)."""
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


def report_pdf_filename(ref, language: str) -> str:
    return f"rightsdesk-report-{ref.provider.slug}-{ref.month}-{language}.pdf"


@login_required
@require_GET
def report_index(request):
    """List the reports the user may open, grouped by provider, newest month first."""
    refs = report_refs_for(user=request.user)
    groups = [
        {"provider": provider, "refs": list(items)}
        for provider, items in groupby(refs, key=lambda ref: ref.provider)
    ]
    return render(request, "reports/report_index.html", {"groups": groups})


@login_required
@require_GET
def report_detail(request, provider, month):
    ref = report_get_for_user(user=request.user, provider=provider, month=month)
    language = report_language(request)
    with translation.override(language):
        report = report_build(user=request.user, ref=ref)
        context = {
            "ref": ref,
            "layout": report_layout(report),
            "language": language,
            "previous_url": _neighbour_url(ref, ref.month.previous(), first=ref.first_month),
            "next_url": None if report.in_progress else _neighbour_url(ref, ref.month.next()),
        }
        return render(request, "reports/report_detail.html", context)


def _neighbour_url(ref, month, *, first=None):
    if first is not None and month < first:
        return None
    return reverse("reports:report_detail", kwargs={"provider": ref.provider.slug, "month": str(month)})


@login_required
@require_GET
def report_pdf(request, provider, month):
    ref = report_get_for_user(user=request.user, provider=provider, month=month)
    language = report_language(request)
    with translation.override(language):
        report = report_build(user=request.user, ref=ref)
        content = render_report_pdf(report_layout(report), language=language)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report_pdf_filename(ref, language)}"'
    patch_cache_control(response, private=True, no_cache=True)
    return response


@require_GET
def transparency(request):
    """The public summary page: no login, no member, no case, small cells withheld."""
    language = report_language(request)
    with translation.override(language):
        summary = transparency_summary()
        context = {"summary": summary, "fields": FIELDS, "language": language}
        response = render(request, "reports/transparency.html", context)
    patch_cache_control(response, private=True, max_age=HTML_MAX_AGE)
    return response


@require_GET
def transparency_json(request):
    """The public summary as JSON, with an ETag and a shared-cache lifetime."""
    summary = transparency_summary()
    etag = summary.etag()
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse(summary.as_json(), json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    response["Access-Control-Allow-Origin"] = "*"
    patch_cache_control(response, public=True, max_age=JSON_MAX_AGE)
    return response
