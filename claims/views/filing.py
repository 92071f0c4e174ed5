"""Filing cases: one claim or inquiry typed in, a claim from a CSV file, outputs added from a CSV file.

Views only shape the request for ``claims.services`` and show its errors beside the fields;
the service validates everything and writes all or nothing.
"""

import csv
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from claims.forms_filing import (
    OUTPUTS_PREFIX,
    BulkFilingForm,
    CaseFilingForm,
    FilingErrors,
    OutputFormSet,
    OutputsImportForm,
    csv_row_errors,
)
from claims.models import CaseState
from claims.selectors import case_get_for_user
from claims.services import case_create, outputs_import_csv, parse_outputs_csv
from claims.services.cases import CSV_TEMPLATE_HEADER
from members.errors import ApplicationError
from members.models import Role

FILING_ROLES = (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL)
# A table of thousands of bad rows helps nobody; the first ones show what is wrong.
ROW_ERRORS_SHOWN = 200


def member_staff_required(view):
    """Let only a member company's staff in: they are the ones who file cases."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.role not in FILING_ROLES or request.user.organisation_id is None:
            raise PermissionDenied(_("Only a member company's staff may file cases."))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _wants_submit(request) -> bool:
    # Only the "File" button submits; Enter in a text field, or anything else, keeps a draft.
    return request.POST.get("action") == "file"


def _filed_message(case) -> str:
    if case.state == CaseState.DRAFT:
        return _("%(reference)s was saved as a draft.") % {"reference": case.reference}
    return _("%(reference)s was filed with %(provider)s.") % {
        "reference": case.reference,
        "provider": case.respondent.display_name,
    }


def _refuse_if_forbidden(exc: ApplicationError) -> None:
    if exc.status_code == 403:
        raise PermissionDenied(exc.message)


@member_staff_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    """File a claim or inquiry with several outputs and files, or keep it as a draft."""
    user = request.user
    if request.method != "POST":
        form = CaseFilingForm(user=user, initial=_initial_kind(request))
        formset = OutputFormSet(prefix=OUTPUTS_PREFIX)
        return _render_case_new(request, form, formset)

    form = CaseFilingForm(request.POST, request.FILES, user=user)
    formset = OutputFormSet(request.POST, request.FILES, prefix=OUTPUTS_PREFIX)
    forms_valid = form.is_valid()
    forms_valid = formset.is_valid() and forms_valid  # validate both so every error shows at once
    if not forms_valid:
        return _render_case_new(request, form, formset, status=400)

    filled = formset.filled_forms()
    outputs = [row_form.output_data() for _row, row_form in filled]
    evidence = [(upload, None) for upload in form.cleaned_data["evidence"]]
    errors = FilingErrors(form=form, formset=formset, output_rows=[row for row, _form in filled])
    errors.evidence_slots = [None] * len(evidence)
    for output_index, (row, row_form) in enumerate(filled):
        for upload in row_form.cleaned_data["evidence"]:
            evidence.append((upload, output_index))
            errors.evidence_slots.append(row)
    try:
        case = case_create(
            actor=user,
            outputs=outputs,
            evidence=evidence,
            submit=_wants_submit(request),
            **form.case_arguments(),
        )
    except ApplicationError as exc:
        _refuse_if_forbidden(exc)
        errors.apply(exc.fields)
        if not exc.fields:
            form.add_error(None, exc.message)
        return _render_case_new(request, form, formset, status=400)
    messages.success(request, _filed_message(case))
    return redirect(case)


def _initial_kind(request) -> dict:
    kind = request.GET.get("kind")
    return {"kind": kind} if kind in ("claim", "inquiry") else {}


def _render_case_new(request, form, formset, *, status=200):
    context = {
        "form": form,
        "formset": formset,
        "files_dropped": request.method == "POST" and bool(request.FILES),
    }
    return render(request, "claims/filing/case_new.html", context, status=status)


@member_staff_required
@require_http_methods(["GET", "POST"])
def case_new_bulk(request):
    """File one claim whose outputs are the rows of a CSV file; a single bad row saves nothing."""
    user = request.user
    if request.method != "POST":
        return _render_bulk(request, BulkFilingForm(user=user))

    form = BulkFilingForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _render_bulk(request, form, status=400)
    try:
        parsed = parse_outputs_csv(form.cleaned_data["csv_file"])
    except ApplicationError as exc:
        _add_csv_error(form, exc)
        return _render_bulk(request, form, status=400)
    if parsed.errors:
        _add_rows_error(form, len(parsed.errors))
        return _render_bulk(request, form, row_errors=csv_row_errors(parsed.errors), status=400)
    if not parsed.rows:
        form.add_error("csv_file", _("The CSV file has no outputs below its header row."))
        return _render_bulk(request, form, status=400)

    evidence = [(upload, None) for upload in form.cleaned_data["evidence"]]
    errors = FilingErrors(form=form, evidence_slots=[None] * len(evidence), csv_field="csv_file")
    try:
        case = case_create(
            actor=user,
            outputs=parsed.rows,
            evidence=evidence,
            submit=_wants_submit(request),
            **form.case_arguments(),
        )
    except ApplicationError as exc:
        _refuse_if_forbidden(exc)
        row_errors = errors.apply(exc.fields)
        if not exc.fields:
            form.add_error(None, exc.message)
        return _render_bulk(request, form, row_errors=row_errors, status=400)
    messages.success(
        request,
        ngettext(
            "%(message)s It has %(count)d output.",
            "%(message)s It has %(count)d outputs.",
            len(parsed.rows),
        )
        % {"message": _filed_message(case), "count": len(parsed.rows)},
    )
    return redirect(case)


def _add_csv_error(form, exc: ApplicationError) -> None:
    """Show an error about the CSV file as a whole (encoding, header, size) beside its input."""
    messages_for_file = exc.fields.get("csv_file") or []
    form.add_error("csv_file", exc.message)
    for message in messages_for_file:
        form.add_error("csv_file", message)


def _add_rows_error(form, count: int) -> None:
    form.add_error(
        "csv_file",
        ngettext(
            "%(count)d row has errors; nothing was saved. Correct it and upload the file again.",
            "%(count)d rows have errors; nothing was saved. Correct them and upload the file again.",
            count,
        )
        % {"count": count},
    )


def _render_bulk(request, form, *, row_errors=(), status=200):
    context = {
        "form": form,
        "row_errors": row_errors[:ROW_ERRORS_SHOWN],
        "row_errors_hidden": max(0, len(row_errors) - ROW_ERRORS_SHOWN),
        "csv_header": CSV_TEMPLATE_HEADER,
        "files_dropped": request.method == "POST" and bool(request.FILES),
    }
    return render(request, "claims/filing/case_new_bulk.html", context, status=status)


@login_required
@require_GET
def bulk_template(request):
    """Download the CSV template: the header row and one example row, UTF-8 with a BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_TEMPLATE_HEADER)
    example = {
        "product": "VidGen",
        "model_name": "vg-3",
        "url": "https://vidgen.example/share/abc123",
        "share_id": "",
        "generation_id": "gen-0001",
        "seen_at": "2026-01-15 10:30",
        "prompt": _("Our character, walking in the rain, anime style"),
        "notes": _("Example row: replace it with your outputs. Give the URL or the share id."),
    }
    writer.writerow([example.get(column, "") for column in CSV_TEMPLATE_HEADER])
    # The byte order mark tells Excel the file is UTF-8; without it Japanese text is garbled.
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="rightsdesk-outputs-template.csv"'
    return response


@member_staff_required
@require_http_methods(["GET", "POST"])
def outputs_import(request, reference):
    """Add the rows of a CSV file as outputs of one of the organisation's drafts."""
    case = case_get_for_user(user=request.user, reference=reference)
    if case.state != CaseState.DRAFT or case.claimant_id != request.user.organisation_id:
        raise Http404("No such draft.")
    if request.method != "POST":
        return _render_import(request, case, OutputsImportForm())

    form = OutputsImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_import(request, case, form, status=400)
    data = form.cleaned_data["csv_file"]
    # Parse first so that bad rows are shown as a table; the service parses again inside its lock.
    try:
        parsed = parse_outputs_csv(data)
    except ApplicationError as exc:
        _add_csv_error(form, exc)
        return _render_import(request, case, form, status=400)
    if parsed.errors:
        _add_rows_error(form, len(parsed.errors))
        return _render_import(request, case, form, row_errors=csv_row_errors(parsed.errors), status=400)
    if not parsed.rows:
        form.add_error("csv_file", _("The CSV file has no outputs below its header row."))
        return _render_import(request, case, form, status=400)
    try:
        outputs = outputs_import_csv(case=case, actor=request.user, data=data)
    except ApplicationError as exc:
        _refuse_if_forbidden(exc)
        row_errors = FilingErrors(form=form, csv_field="csv_file").apply(exc.fields)
        form.add_error("csv_file", exc.message)
        return _render_import(request, case, form, row_errors=row_errors, status=exc.status_code)
    messages.success(
        request,
        ngettext("%(count)d output was added.", "%(count)d outputs were added.", len(outputs))
        % {"count": len(outputs)},
    )
    return redirect(case)


def _render_import(request, case, form, *, row_errors=(), status=200):
    context = {
        "case": case,
        "form": form,
        "row_errors": row_errors[:ROW_ERRORS_SHOWN],
        "row_errors_hidden": max(0, len(row_errors) - ROW_ERRORS_SHOWN),
        "csv_header": CSV_TEMPLATE_HEADER,
    }
    return render(request, "claims/filing/outputs_import.html", context, status=status)
