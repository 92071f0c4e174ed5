"""Forms for filing cases: one case with its outputs and files, a claim from a CSV, outputs from a CSV.

The forms check the shape of what was typed (a choice is a choice, a date is a date); the
filing service decides the business rules. Its ApplicationError keys (``title``,
``outputs.0.url``, ``evidence.1``) are put back beside the fields by ``FilingErrors``.
"""

from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from claims.models import CaseKind, LegalBasis, Priority, Remedy
from claims.services.cases import OUTPUT_FIELDS
from members.models import Work
from members.selectors import providers_active

TEXT_MAX = 20000
CSV_MAX_BYTES = 10 * 1024 * 1024


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that accepts several files and cleans to a list (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_file_clean(item, initial) for item in data if item]
        return [single_file_clean(data, initial)] if data else []

    def has_changed(self, initial, data):
        # The widget gives an empty list when no file was chosen; FileField counts that as a change,
        # which would make every blank output row look filled in.
        return not self.disabled and bool(data)


class CaseFieldsForm(forms.Form):
    """The fields every filing has: who it is against, what it is about, what is asked."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=CaseKind.choices, initial=CaseKind.CLAIM, widget=forms.RadioSelect
    )
    respondent = forms.ModelChoiceField(label=_("Provider"), queryset=None, empty_label="—")
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("Description"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the outputs show and why they concern your works."),
    )
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"), choices=LegalBasis.choices, initial=LegalBasis.OTHER
    )
    remedies = forms.MultipleChoiceField(
        label=_("Remedies asked"), choices=Remedy.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    works = forms.ModelMultipleChoiceField(
        label=_("Works concerned"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional: the works of your organisation that the case is about."),
    )
    evidence = MultipleFileField(
        label=_("Files for the whole case"),
        help_text=_("Screenshots, videos, PDFs or text. Files about one output can be added to that output."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["respondent"].queryset = providers_active()
        # Only the filer's own works can be named; another member's works are not even listed.
        self.fields["works"].queryset = Work.objects.filter(owner_id=user.organisation_id).order_by(
            "title_ja"
        )

    def case_arguments(self) -> dict:
        """Return the cleaned case fields as keyword arguments of ``case_create``."""
        data = self.cleaned_data
        return {
            "kind": data.get("kind", CaseKind.CLAIM),
            "respondent": data["respondent"],
            "title": data["title"],
            "description": data["description"],
            "legal_basis": data["legal_basis"],
            "remedies": data["remedies"],
            "priority": data["priority"],
            "works": list(data["works"]),
        }


class CaseFilingForm(CaseFieldsForm):
    """A claim or inquiry typed in by hand, with its outputs in ``OutputFormSet``."""


class OutputForm(forms.Form):
    """One output of a case, and the files that show it.

    Every field is optional here so that blank extra rows can stay blank and the browser does
    not refuse to send the form; the service says what an output must have.
    """

    use_required_attribute = False

    product = forms.CharField(label=_("Product"), required=False, max_length=200)
    model_name = forms.CharField(label=_("Model"), required=False, max_length=200)
    url = forms.CharField(
        label=_("URL"),
        required=False,
        max_length=1000,
        widget=forms.URLInput,
        help_text=_("The URL or the share id is needed."),
    )
    share_id = forms.CharField(
        label=_("Share id"),
        required=False,
        max_length=200,
        help_text=_("The provider's id for a shared output, if it has no public URL."),
    )
    generation_id = forms.CharField(label=_("Generation id"), required=False, max_length=200)
    seen_at = forms.DateTimeField(
        label=_("Seen at (Tokyo time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    prompt = forms.CharField(
        label=_("Prompt"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = MultipleFileField(label=_("Files showing this output"))

    def output_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in OUTPUT_FIELDS}


class BaseOutputFormSet(forms.BaseFormSet):
    def filled_forms(self) -> list[tuple[int, OutputForm]]:
        """Return (row index, form) for every row the user wrote in; blank rows are ignored."""
        return [(index, form) for index, form in enumerate(self.forms) if form.has_changed()]

    def add_error(self, message) -> None:
        """Add an error about the outputs as a whole (shown above the rows)."""
        self.non_form_errors().append(message)


OutputFormSet = forms.formset_factory(
    OutputForm, formset=BaseOutputFormSet, extra=2, max_num=100, absolute_max=100, validate_max=True
)
OUTPUTS_PREFIX = "outputs"


class CsvFileField(forms.FileField):
    """A CSV upload, read whole into bytes (it is small: one row per output)."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload is None:
            return upload
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The CSV file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": CSV_MAX_BYTES // (1024 * 1024)}
            )
        upload.seek(0)
        return upload.read()


class BulkFilingForm(CaseFieldsForm):
    """A claim whose outputs come from a CSV file in the template's format."""

    csv_file = CsvFileField(
        label=_("Outputs (CSV file)"),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_("UTF-8 CSV with the template's header row, one output per row."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A bulk filing is always a claim: an inquiry has no list of outputs to import.
        del self.fields["kind"]
        self.fields["evidence"].help_text = _("Screenshots, videos, PDFs or text about the claim as a whole.")


class OutputsImportForm(forms.Form):
    csv_file = CsvFileField(
        label=_("Outputs (CSV file)"),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_("UTF-8 CSV with the template's header row, one output per row."),
    )


# --- Putting the service's errors back beside the fields ----------------------------------------


@dataclass
class RowError:
    """A problem with one row of an uploaded CSV file."""

    line: int | None
    column: str
    message: str


@dataclass
class FilingErrors:
    """Map the keys of an ApplicationError from the filing service onto the forms that were sent.

    ``output_rows`` lists, per output given to the service, the index of its formset row (blank
    rows are not sent); ``evidence_slots`` lists, per file given to the service, where its
    input was: ``None`` for the case's own file input, or the formset row index.
    """

    form: forms.Form
    formset: BaseOutputFormSet | None = None
    output_rows: list[int] = field(default_factory=list)
    evidence_slots: list[int | None] = field(default_factory=list)
    csv_field: str | None = None

    def apply(self, fields: dict[str, list[str]]) -> list[RowError]:
        """Add every message to its field; return the ones about CSV rows for a table."""
        row_errors: list[RowError] = []
        for key, messages in fields.items():
            for message in messages:
                self._apply_one(key, str(message), row_errors)
        return row_errors

    def _apply_one(self, key: str, message: str, row_errors: list[RowError]) -> None:
        parts = key.split(".")
        if parts[0] == "outputs" and len(parts) == 1:
            if self.formset is not None:
                self.formset.add_error(message)
            else:
                self.form.add_error(self.csv_field, message)
            return
        if parts[0] == "outputs" and len(parts) >= 2 and parts[1].isdigit():
            index, column = int(parts[1]), ".".join(parts[2:])
            if self.formset is not None and index < len(self.output_rows):
                row_form = self.formset.forms[self.output_rows[index]]
                row_form.add_error(column if column in row_form.fields else None, message)
            else:
                row_errors.append(RowError(line=None, column=column, message=f"#{index + 1}: {message}"))
            return
        if parts[0] == "evidence" and len(parts) == 2 and parts[1].isdigit():
            index = int(parts[1])
            slot = self.evidence_slots[index] if index < len(self.evidence_slots) else None
            if slot is not None and self.formset is not None:
                self.formset.forms[slot].add_error("evidence", message)
            else:
                self.form.add_error("evidence" if "evidence" in self.form.fields else None, message)
            return
        if key.startswith("row "):
            # outputs_import_csv names a bad cell "row <line>.<column>".
            line, _dot, column = key[len("row ") :].partition(".")
            row_errors.append(
                RowError(line=int(line) if line.isdigit() else None, column=column, message=message)
            )
            return
        self.form.add_error(key if key in self.form.fields else None, message)


def csv_row_errors(parsed_errors) -> list[RowError]:
    """Flatten ``ParsedOutputs.errors`` into one table row per message, in file order."""
    return [
        RowError(line=line, column=column, message=str(message))
        for line, fields in parsed_errors
        for column, messages in fields.items()
        for message in messages
    ]
