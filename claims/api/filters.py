"""The case list's query parameters, validated by django-filter: a bad value is a 400, not ignored."""

from datetime import UTC, datetime

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.forms import CLOCK_FILTER_CHOICES
from claims.models import Case, CaseKind, CaseState, Priority
from claims.sla.selectors import cases_filter_by_clock

TEXT_QUERY_MAX_LENGTH = 200


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time filter that hands the database UTC.

    ISO 8601 allows offsets up to ±23:59 but PostgreSQL refuses those beyond ±15:59, and a date at
    the edge of year 1 or 9999 has no UTC equivalent: such a bound is clamped to the earliest or
    latest instant, which is what it means for the filter.
    """

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                value = (datetime.min if value.year < 2 else datetime.max).replace(tzinfo=UTC)
        return super().filter(qs, value)


class CaseFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CaseKind.choices, help_text=_("Claim or inquiry."))
    state = django_filters.MultipleChoiceFilter(
        choices=CaseState.choices, help_text=_("One or more states (repeat the parameter).")
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, help_text=_("One or more priorities (repeat the parameter).")
    )
    counterparty = django_filters.CharFilter(
        method="filter_counterparty",
        max_length=64,
        help_text=_("Slug of the other party: the provider for a member, the member for a provider."),
    )
    clock = django_filters.ChoiceFilter(
        choices=CLOCK_FILTER_CHOICES,
        method="filter_clock",
        help_text=_("Cases with a deadline due within 24 hours, in warning, or breached."),
    )
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text=_("Created at or after (ISO 8601).")
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text=_("Created before (ISO 8601).")
    )
    submitted_after = UtcDateTimeFilter(
        field_name="submitted_at", lookup_expr="gte", help_text=_("Submitted at or after (ISO 8601).")
    )
    submitted_before = UtcDateTimeFilter(
        field_name="submitted_at", lookup_expr="lt", help_text=_("Submitted before (ISO 8601).")
    )
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=TEXT_QUERY_MAX_LENGTH,
        help_text=_("Text in the reference, title or description."),
    )

    class Meta:
        model = Case
        fields = []  # every filter is declared above

    def is_valid(self):
        """Refuse an empty value for a typed parameter ("?created_after="): the client meant something."""
        valid = super().is_valid()
        for name, declared in self.filters.items():
            if isinstance(declared, django_filters.CharFilter) or name not in self.data:
                continue
            if any(value == "" for value in self.data.getlist(name)) and name not in self.form.errors:
                self.form.add_error(name, _("Give a value, or leave the parameter out."))
                valid = False
        return valid

    def filter_counterparty(self, queryset, name, value):
        return queryset.filter(Q(claimant__slug=value) | Q(respondent__slug=value))

    def filter_clock(self, queryset, name, value):
        return cases_filter_by_clock(queryset, value)

    def filter_text(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(reference__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        )
