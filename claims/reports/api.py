"""API of the monthly reports: the reports the caller may read, and one report's figures as JSON.

Scoped exactly like the pages (``claims.reports.access``): another organisation's report, a
month outside the provider's months and a provider the caller may not report on are all 404.
"""

from datetime import date
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from claims.api.views import ApiView

from .access import report_get_for_user, report_refs_for
from .months import MONTH_PATTERN
from .selectors import report_build

REPORTS_TAG = ["reports"]
PROVIDER_PARAMETER = OpenApiParameter(
    "provider",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=r"^[-a-zA-Z0-9_]+$",
    description=_("The provider's slug."),
)
MONTH_PARAMETER = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=f"^{MONTH_PATTERN}$",
    description=_("The month, YYYY-MM (the month the cases were submitted in, Japan time)."),
)


# --- Serializers (output only) ----------------------------------------------------------------


class ProviderSerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    name_ja = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


class ReportLinkSerializer(serializers.Serializer):
    """One report the caller may read."""

    provider = ProviderSerializer(read_only=True)
    month = serializers.CharField(read_only=True, help_text=_("YYYY-MM"))
    url = serializers.SerializerMethodField(help_text=_("This report's figures in the API."))
    html_url = serializers.SerializerMethodField(help_text=_("The report's page."))
    pdf_url = serializers.SerializerMethodField(help_text=_("The report as a PDF."))

    def _path(self, name, ref):
        kwargs = {"provider": ref.provider.slug, "month": str(ref.month)}
        return self.context["request"].build_absolute_uri(reverse(name, kwargs=kwargs))

    def get_url(self, ref) -> str:
        return self._path("api:report_detail", ref)

    def get_html_url(self, ref) -> str:
        return self._path("reports:report_detail", ref)

    def get_pdf_url(self, ref) -> str:
        return self._path("reports:report_pdf", ref)

    def to_representation(self, ref):
        data = super().to_representation(ref)
        data["month"] = str(ref.month)
        return data


class RateSerializer(serializers.Serializer):
    numerator = serializers.IntegerField(read_only=True, help_text=_("Deadlines met on time."))
    denominator = serializers.IntegerField(
        read_only=True, help_text=_("Deadlines decided (met or breached).")
    )
    percent = serializers.FloatField(
        read_only=True, allow_null=True, help_text=_("Null when none was decided.")
    )


class DurationSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True, help_text=_("Times measured."))
    median_hours = serializers.FloatField(read_only=True, allow_null=True)
    p90_hours = serializers.FloatField(read_only=True, allow_null=True)


class MonthFiguresSerializer(serializers.Serializer):
    """The dashboards' headline figures of one month's cases."""

    month = serializers.CharField(read_only=True, help_text=_("YYYY-MM"))
    cases_submitted = serializers.IntegerField(read_only=True)
    acknowledged_on_time = RateSerializer(read_only=True)
    responded_on_time = RateSerializer(read_only=True)
    sincere_on_time = RateSerializer(read_only=True)
    acknowledge_business = DurationSerializer(read_only=True)
    acknowledge_calendar = DurationSerializer(read_only=True)
    respond_business = DurationSerializer(read_only=True)
    respond_calendar = DurationSerializer(read_only=True)
    breaches = serializers.IntegerField(read_only=True)
    escalations = serializers.IntegerField(read_only=True)


class TrendMonthSerializer(serializers.Serializer):
    """One month of the dashboards' trend (their ``trend`` table, by its column keys)."""

    month = serializers.SerializerMethodField(help_text=_("YYYY-MM"))
    cases = serializers.IntegerField(read_only=True, help_text=_("Cases submitted."))
    acknowledged_on_time = serializers.FloatField(read_only=True, allow_null=True, help_text=_("Percent."))
    responded_on_time = serializers.FloatField(read_only=True, allow_null=True, help_text=_("Percent."))
    sincere_on_time = serializers.FloatField(read_only=True, allow_null=True, help_text=_("Percent."))
    acknowledge_median = serializers.FloatField(
        read_only=True, allow_null=True, help_text=_("Median time to acknowledge, business hours.")
    )
    respond_median = serializers.FloatField(
        read_only=True, allow_null=True, help_text=_("Median time to respond, calendar hours.")
    )
    breaches = serializers.IntegerField(read_only=True)
    escalations = serializers.IntegerField(read_only=True)

    def get_month(self, row) -> str:
        return f"{row['month']:%Y-%m}"


class TableColumnSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)


class FigureTableSerializer(serializers.Serializer):
    """One of the dashboards' tables as it is: columns, and rows of values in column order."""

    title = serializers.CharField(read_only=True)
    columns = TableColumnSerializer(many=True, read_only=True)
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()), read_only=True)

    def to_representation(self, table):
        return {
            "title": str(table.title),
            "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in table.columns],
            "rows": [[_plain(value) for value in row] for row in table.rows],
        }


def _plain(value):
    """Return a table value as JSON has it: months as YYYY-MM, decimals as numbers."""
    if isinstance(value, date):
        return f"{value:%Y-%m}"
    if isinstance(value, Decimal):
        return float(value)
    return value


def _month_figures(month, headline) -> dict:
    def rate(value):
        percent = value.percent
        return {
            "numerator": value.numerator,
            "denominator": value.denominator,
            "percent": None if percent is None else float(percent),
        }

    def duration(value):
        return {
            "count": value.count,
            "median_hours": None if value.median_hours is None else float(value.median_hours),
            "p90_hours": None if value.p90_hours is None else float(value.p90_hours),
        }

    return {
        "month": str(month),
        "cases_submitted": headline.cases_submitted,
        "acknowledged_on_time": rate(headline.acknowledged_on_time),
        "responded_on_time": rate(headline.responded_on_time),
        "sincere_on_time": rate(headline.sincere_on_time),
        "acknowledge_business": duration(headline.acknowledge_business),
        "acknowledge_calendar": duration(headline.acknowledge_calendar),
        "respond_business": duration(headline.respond_business),
        "respond_calendar": duration(headline.respond_calendar),
        "breaches": headline.breaches,
        "escalations": headline.escalations,
    }


class ReportSerializer(serializers.Serializer):
    """A provider's monthly report: the month's figures, its open cases by age and a 12-month trend."""

    provider = ProviderSerializer(read_only=True)
    month = serializers.CharField(read_only=True, help_text=_("YYYY-MM"))
    scope = serializers.ChoiceField(
        choices=[("association", "association"), ("member", "member"), ("provider", "provider")],
        read_only=True,
        help_text=_("Whose cases are counted: every case, or only the calling member's own."),
    )
    in_progress = serializers.BooleanField(read_only=True, help_text=_("The month is not over yet."))
    as_of = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("When the figures were refreshed.")
    )
    generated_at = serializers.DateTimeField(read_only=True)
    figures = MonthFiguresSerializer(read_only=True)
    open_by_age = FigureTableSerializer(
        read_only=True, allow_null=True, help_text=_("Counted now, not at month end.")
    )
    trend = TrendMonthSerializer(many=True, read_only=True, help_text=_("Up to 12 months, oldest first."))
    pdf_url = serializers.URLField(read_only=True)

    def to_representation(self, report):
        request = self.context["request"]
        ref = report.ref
        pdf = reverse("reports:report_pdf", kwargs={"provider": ref.provider.slug, "month": str(ref.month)})
        open_by_age = report.open_by_age
        return {
            "provider": ProviderSerializer(ref.provider).data,
            "month": str(ref.month),
            "scope": report.scope.kind,
            "in_progress": report.in_progress,
            "as_of": serializers.DateTimeField().to_representation(report.figures.as_of)
            if report.figures.as_of
            else None,
            "generated_at": serializers.DateTimeField().to_representation(report.generated_at),
            "figures": _month_figures(ref.month, report.headline),
            "open_by_age": FigureTableSerializer(open_by_age).data if open_by_age is not None else None,
            "trend": [TrendMonthSerializer(row).data for row in report.trend_rows()],
            "pdf_url": request.build_absolute_uri(pdf),
        }


# --- Views ------------------------------------------------------------------------------------


@extend_schema(tags=REPORTS_TAG)
class ReportListView(ApiView):
    """The monthly reports the caller may read, by provider, newest month first."""

    @extend_schema(
        operation_id="reports_list",
        summary=_("List the monthly reports"),
        responses=ReportLinkSerializer(many=True),
    )
    def get(self, request):
        refs = report_refs_for(user=request.user)
        return Response(ReportLinkSerializer(refs, many=True, context={"request": request}).data)


@extend_schema(tags=REPORTS_TAG, parameters=[PROVIDER_PARAMETER, MONTH_PARAMETER])
class ReportDetailView(ApiView):
    """One provider's report for one month; a member's report counts only its own cases."""

    @extend_schema(
        operation_id="reports_retrieve", summary=_("Read a monthly report"), responses=ReportSerializer
    )
    def get(self, request, provider, month):
        ref = report_get_for_user(user=request.user, provider=provider, month=month)
        report = report_build(user=request.user, ref=ref)
        return Response(ReportSerializer(report, context={"request": request}).data)
