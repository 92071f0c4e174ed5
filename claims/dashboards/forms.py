"""The dashboard's filters: period (months), provider, member, kind and priority."""

import re
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.dashboards.figures import DashboardFilters
from claims.dashboards.presentation import QuickSelect
from claims.models import CaseKind, Priority
from members.models import Organisation

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
DEFAULT_MONTHS = 12


def _month_value(value: date) -> str:
    return f"{value:%Y-%m}"


def default_period(now=None) -> tuple[date, date]:
    """Return the first and last month of the default period: the last twelve months (Tokyo)."""
    today = timezone.localdate(now or timezone.now())
    last = today.replace(day=1)
    months_back = DEFAULT_MONTHS - 1
    year, month = divmod(last.year * 12 + last.month - 1 - months_back, 12)
    return date(year, month + 1, 1), last


class MonthField(forms.CharField):
    """A month as ``YYYY-MM`` (the browser's month input), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}", "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        match = MONTH_RE.match(value)
        if not match:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."), code="invalid")
        return date(int(match[1]), int(match[2]), 1)


def _blank_first(choices, label):
    return [("", label), *choices]


class DashboardFilterForm(forms.Form):
    """The filters of the dashboard; a value that does not validate is ignored (and shown as an error).

    The member filter is the association's alone, and a provider's figures are its own: the
    fields a user may not use are not on the form (and the figures force the scope anyway).
    """

    month_from = MonthField(label=_("From month"), required=False)
    month_to = MonthField(label=_("To month"), required=False)
    provider = forms.ModelChoiceField(label=_("Provider"), required=False, queryset=None, widget=QuickSelect)
    member = forms.ModelChoiceField(label=_("Member"), required=False, queryset=None, widget=QuickSelect)
    kind = forms.ChoiceField(label=_("Kind"), required=False, widget=QuickSelect)
    priority = forms.ChoiceField(label=_("Priority"), required=False, widget=QuickSelect)

    def __init__(self, data=None, *, user, **kwargs):
        first, last = default_period()
        data = data.copy() if data is not None else {}
        # An absent period means the default one, and the month inputs show it.
        if "month_from" not in data:
            data["month_from"] = _month_value(first)
        if "month_to" not in data:
            data["month_to"] = _month_value(last)
        super().__init__(data, **kwargs)
        organisation = user.organisation
        self.fields["kind"].choices = _blank_first(CaseKind.choices, _("All kinds"))
        self.fields["priority"].choices = _blank_first(Priority.choices, _("All priorities"))
        provider = self.fields["provider"]
        provider.queryset = Organisation.objects.providers().order_by("name_en")
        provider.empty_label = _("All providers")
        member = self.fields["member"]
        member.queryset = Organisation.objects.members().order_by("name_en")
        member.empty_label = _("All members")
        if organisation is None or not organisation.is_association:
            del self.fields["member"]
        if organisation is None or organisation.is_provider:
            del self.fields["provider"]

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("month_from"), cleaned.get("month_to")
        if first and last and first > last:
            self.add_error("month_to", _("The last month comes before the first."))
        return cleaned

    def _valid(self, name):
        self.is_valid()
        return self.cleaned_data.get(name)

    def filters(self) -> DashboardFilters:
        """Return the valid filters; an invalid period falls back to the default one."""
        first, last = default_period()
        provider = self._valid("provider") if "provider" in self.fields else None
        member = self._valid("member") if "member" in self.fields else None
        month_from, month_to = self._valid("month_from"), self._valid("month_to")
        if "month_to" in self.errors or "month_from" in self.errors:
            month_from, month_to = first, last
        return DashboardFilters(
            month_from=month_from,
            month_to=month_to,
            provider_id=provider.pk if provider else None,
            member_id=member.pk if member else None,
            kind=self._valid("kind") or "",
            priority=self._valid("priority") or "",
        )
