"""Forms of the registry pages: they check the shape of what was typed; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.forms import ServiceErrorsMixin
from members.models import Work, WorkKind
from members.registry.models import GrantUse, IdentifierScheme
from members.registry.services import IDENTIFIER_SEPARATOR

SEARCH_MAX_LENGTH = 200


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class WorkSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.SearchInput(attrs={"placeholder": _("Japanese or English title")}),
    )

    def query(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class WorkForm(ServiceErrorsMixin, forms.Form):
    """A work's fields; each identifier scheme takes one value, or several separated by “;”."""

    kind = forms.ChoiceField(label=_("Kind"), choices=WorkKind.choices, initial=WorkKind.OTHER)
    title_ja = forms.CharField(label=_("Title (Japanese)"), max_length=300)
    title_en = forms.CharField(label=_("Title (English)"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    location = forms.CharField(
        label=_("Location"),
        max_length=500,
        required=False,
        help_text=Work._meta.get_field("location").help_text,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for scheme in IdentifierScheme:
            self.fields[scheme.value] = forms.CharField(
                label=scheme.label,
                required=False,
                max_length=1000,
                help_text=_("Several values: separate them with “;”.")
                if scheme == IdentifierScheme.INTERNAL
                else "",
            )

    @classmethod
    def initial_for(cls, work: Work) -> dict:
        initial = {
            name: getattr(work, name) for name in ("kind", "title_ja", "title_en", "description", "location")
        }
        for identifier in work.identifiers.all():
            current = initial.get(identifier.scheme)
            initial[identifier.scheme] = (
                f"{current}{IDENTIFIER_SEPARATOR} {identifier.value}" if current else identifier.value
            )
        return initial

    def identifier_fields(self):
        return [self[scheme] for scheme in IdentifierScheme.values]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        self._identifier_sources = []
        identifiers = []
        for scheme in IdentifierScheme.values:
            for value in (data.get(scheme) or "").split(IDENTIFIER_SEPARATOR):
                if value.strip():
                    identifiers.append((scheme, value.strip()))
        self._identifier_sources = [scheme for scheme, _value in identifiers]
        arguments = {name: data[name] for name in ("kind", "title_ja", "title_en", "description", "location")}
        return {**arguments, "identifiers": identifiers}

    def add_service_error(self, exc) -> None:
        # The service names the n-th identifier "identifiers.n"; show it beside its scheme's field.
        sources = getattr(self, "_identifier_sources", [])
        fields = {}
        for name, messages in exc.fields.items():
            if name.startswith("identifiers.") and name.split(".")[1].isdigit():
                index = int(name.split(".")[1])
                name = sources[index] if index < len(sources) else None
            fields.setdefault(name, []).extend(messages)
        for name, messages in fields.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        if not exc.fields:
            self.add_error(None, exc.message)


class WorkImageForm(ServiceErrorsMixin, forms.Form):
    image = forms.FileField(label=_("Reference image"), help_text=_("PNG, JPEG, WebP or GIF."))


class WorksImportForm(ServiceErrorsMixin, forms.Form):
    csv_file = forms.FileField(label=_("CSV file"))


class GrantForm(ServiceErrorsMixin, forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=None)
    use = forms.ChoiceField(label=_("Use"), choices=GrantUse.choices, widget=forms.RadioSelect)
    work = forms.ModelChoiceField(
        label=_("Work"),
        queryset=None,
        required=False,
        empty_label=_("All our works (including works registered later)"),
    )
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    valid_from = forms.DateTimeField(
        label=_("Valid from"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Japan time. Leave empty for now."),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Japan time; the grant ends at this moment. Leave empty until revoked."),
    )

    def __init__(self, *args, providers, works, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["work"].queryset = works


class GrantRevokeForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    effective_at = forms.DateTimeField(
        label=_("Effective from"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Japan time. Leave empty for now; it cannot lie in the past."),
    )


class GrantCheckForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=None)
    work = forms.ModelChoiceField(label=_("Work"), queryset=None)
    use = forms.ChoiceField(label=_("Use"), choices=GrantUse.choices)
    at = forms.DateTimeField(
        label=_("At"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Japan time. Leave empty for now."),
    )

    def __init__(self, *args, providers, works, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["work"].queryset = works.select_related("owner")
