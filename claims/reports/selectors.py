"""Reads of the monthly report: the dashboards' figures for one provider and month, and its trend.

Every figure comes from ``claims.dashboards.figures``; nothing here counts cases or clocks. A
report is a cohort report: the month is the month the cases were submitted in (the
dashboards' definition), so a month's figures settle as its cases are answered.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from claims.dashboards.figures import (
    DashboardFigures,
    DashboardFilters,
    DashboardScope,
    FigureTable,
    Headline,
    dashboard_figures,
    dashboard_figures_for_scope,
)

from .access import ReportRef
from .months import Month

TREND_MONTHS = 12


@dataclass(frozen=True)
class MonthlyReport:
    ref: ReportRef
    scope: DashboardScope
    figures: DashboardFigures  # the report's month
    trend: FigureTable  # the dashboards' trend table: up to TREND_MONTHS months to the report's, oldest first
    generated_at: datetime

    @property
    def headline(self) -> Headline:
        return self.figures.headline

    @property
    def open_by_age(self) -> FigureTable | None:
        return self.figures.tables.get("open_by_age")

    @property
    def in_progress(self) -> bool:
        """Whether the month is not over yet, so more cases may still join its cohort."""
        return self.generated_at < self.ref.month.end

    def trend_rows(self) -> list[dict]:
        """Return the trend's rows as ``{column key: value}``, oldest month first."""
        keys = [column.key for column in self.trend.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.trend.rows]


def _filters(ref: ReportRef, first: Month, last: Month) -> DashboardFilters:
    return DashboardFilters(month_from=first.first_day, month_to=last.first_day, provider_id=ref.provider.pk)


def _report(ref: ReportRef, read, now: datetime) -> MonthlyReport:
    """Build the report with ``read(filters)``, which returns the dashboards' figures in some scope.

    Two reads: the month itself (headline, open cases by age) and the trend over the months
    up to it, which the dashboards give as one table.
    """
    figures = read(_filters(ref, ref.month, ref.month))
    start = max(ref.month.back(TREND_MONTHS - 1), min(ref.first_month, ref.month))
    trend = read(_filters(ref, start, ref.month)).table("trend")
    return MonthlyReport(ref=ref, scope=figures.scope, figures=figures, trend=trend, generated_at=now)


def report_build(*, user, ref: ReportRef, now: datetime | None = None) -> MonthlyReport:
    """Return the report as the user may see it: a member's counts only its own cases.

    ``ref`` must come from ``report_get_for_user`` (or ``report_refs_for``) for the same user.
    """
    now = now or timezone.now()
    return _report(ref, lambda filters: dashboard_figures(user=user, filters=filters, now=now), now)


def report_build_for_everyone(*, ref: ReportRef, now: datetime | None = None) -> MonthlyReport:
    """Return the report over every case addressed to the provider (the association's view)."""
    now = now or timezone.now()

    def read(filters):
        return dashboard_figures_for_scope(
            scope=DashboardScope.everything(), filters=filters, now=now, member_breakdown=False
        )

    return _report(ref, read, now)
