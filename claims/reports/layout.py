"""What a monthly report shows, as headings and tables of formatted text.

The HTML page, the PDF and the management command all draw this one layout, so the three never
disagree about a figure or a label. Build it inside the reader's language (``translation.override``).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import gettext as _

from claims.templatetags.rightsdesk import tokyo
from members.models import Organisation


@dataclass(frozen=True)
class Table:
    heading: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    # Index of the columns holding numbers (right-aligned in HTML and PDF).
    numeric_from: int = 1


@dataclass(frozen=True)
class ReportLayout:
    title: str
    meta: list[tuple[str, str]]
    headline_label: str
    headline_value: str
    headline_note: str
    tables: list[Table] = field(default_factory=list)


# --- Building the layout of a monthly report ---------------------------------------------------

NO_FIGURE = "—"


def format_percent(rate) -> str:
    """Return "87.5%" for a dashboards ``Rate``, or a dash when nothing was decided."""
    percent = rate.percent
    return NO_FIGURE if percent is None else f"{percent}%"


def format_hours(hours) -> str:
    return NO_FIGURE if hours is None else _("%(hours)s h") % {"hours": hours}


def _format_cell(value, kind: str) -> str:
    if value is None:
        return NO_FIGURE
    if kind == "month" and isinstance(value, date):
        return f"{value:%Y-%m}"
    if kind == "percent":
        return f"{value}%"
    if kind == "hours":
        return format_hours(value)
    return str(value)


def figure_table(table, *, heading: str = "", note: str = "") -> Table:
    """Lay out one of the dashboards' tables as it is, column by column."""
    columns = [str(column.label) for column in table.columns]
    rows = [
        [_format_cell(value, column.kind) for value, column in zip(row, table.columns, strict=False)]
        for row in table.rows
    ]
    first_number = next(
        (i for i, c in enumerate(table.columns) if c.kind not in ("text", "month")), len(columns)
    )
    return Table(heading or str(table.title), columns, rows, note=note, numeric_from=max(first_number, 1))


def _scope_text(report) -> str:
    provider = report.ref.provider.display_name
    if report.scope.kind == "member":
        member = Organisation.objects.get(pk=report.scope.organisation_id).display_name
        return _("Only the cases %(member)s filed with %(provider)s") % {
            "member": member,
            "provider": provider,
        }
    return _("Every case submitted to %(provider)s") % {"provider": provider}


def report_layout(report) -> ReportLayout:
    """Return what the monthly report shows, in the active language."""
    ref, headline = report.ref, report.headline
    last_day = ref.month.next().first_day - timedelta(days=1)
    period = _("%(month)s: cases submitted from %(first)s to %(last)s (Japan time)") % {
        "month": ref.month,
        "first": ref.month.first_day.isoformat(),
        "last": last_day.isoformat(),
    }
    if report.in_progress:
        status = _("Month in progress: cases submitted later this month will join these figures.")
    else:
        status = _("The figures settle as the month's cases are answered.")
    meta = [
        (_("Provider"), ref.provider.display_name),
        (_("Month"), period),
        (_("Cases counted"), _scope_text(report)),
        (_("Status"), status),
        (_("Figures as of"), tokyo(report.figures.as_of) or NO_FIGURE),
        (_("Generated"), tokyo(report.generated_at)),
    ]
    sincere = headline.sincere_on_time
    headline_note = _(
        "%(on_time)s of %(decided)s decided responses were on time and not judged insincere."
    ) % {"on_time": sincere.numerator, "decided": sincere.denominator}

    rates = Table(
        _("On-time rates"),
        [_("Figure"), _("Rate"), _("On time"), _("Decided")],
        [
            [label, format_percent(rate), str(rate.numerator), str(rate.denominator)]
            for label, rate in (
                (_("Acknowledgement on time"), headline.acknowledged_on_time),
                (_("Response on time"), headline.responded_on_time),
                (_("Sincere response on time"), headline.sincere_on_time),
            )
        ],
        note=_(
            "A deadline is decided once it was met or breached. On time: met and never breached. "
            "Sincere: on time and not judged insincere by the association."
        ),
    )
    durations = Table(
        _("Time to acknowledge and to respond"),
        [
            _("Measure"),
            _("Median, business time"),
            _("90th percentile, business time"),
            _("Median, calendar time"),
            _("90th percentile, calendar time"),
            _("Cases measured"),
        ],
        [
            [
                label,
                format_hours(business.median_hours),
                format_hours(business.p90_hours),
                format_hours(calendar.median_hours),
                format_hours(calendar.p90_hours),
                str(business.count),
            ]
            for label, business, calendar in (
                (_("Time to acknowledge"), headline.acknowledge_business, headline.acknowledge_calendar),
                (_("Time to respond"), headline.respond_business, headline.respond_calendar),
            )
        ],
        note=_(
            "Business time follows the association's calendar: Monday to Friday, 09:00–18:00 Japan time, "
            "without public holidays and the year-end closure (a business day is 9 hours)."
        ),
    )
    counts = Table(
        _("Cases, breaches and escalations"),
        [_("Figure"), _("Count")],
        [
            [_("Cases submitted"), str(headline.cases_submitted)],
            [_("Deadlines breached"), str(headline.breaches)],
            [_("Cases escalated"), str(headline.escalations)],
        ],
        note=_("Breaches count the acknowledgement, response and re-response deadlines, met late included."),
    )
    tables = [rates, durations, counts]
    if report.open_by_age is not None:
        tables.append(
            figure_table(
                report.open_by_age,
                heading=_("Open cases by age"),
                note=_(
                    "Counted when this report was generated, over every open case of this provider "
                    "in the report's scope, whatever month it was submitted in."
                ),
            )
        )
    tables.append(
        figure_table(
            report.trend,
            heading=_("Last 12 months"),
            note=_("By month of submission, oldest first, up to the report's month."),
        )
    )
    title = _("Monthly report: %(provider)s, %(month)s") % {
        "provider": ref.provider.display_name,
        "month": ref.month,
    }
    return ReportLayout(
        title=title,
        meta=meta,
        headline_label=_("Sincere on-time rate"),
        headline_value=format_percent(sincere),
        headline_note=headline_note,
        tables=tables,
    )
