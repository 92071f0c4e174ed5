"""Chart.js settings for each dashboard table, built from the same rows the table shows."""

from decimal import Decimal

from django.utils.translation import gettext as _

from claims.dashboards.figures import DashboardFigures, FigureTable, cell_text


def _number(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _series(table: FigureTable, label_key: str, value_keys: tuple[str, ...]) -> dict:
    labels = [cell_text(value) for value in table.column_values(label_key)]
    titles = {column.key: column.label for column in table.columns}
    datasets = [
        {"label": titles[key], "data": [_number(value) for value in table.column_values(key)]}
        for key in value_keys
    ]
    return {"labels": labels, "datasets": datasets}


def _breaches_by_provider(table: FigureTable) -> dict:
    """Pivot the (month, provider) rows into one stacked series per provider."""
    months = sorted({row[0] for row in table.rows})
    providers = sorted({row[1] for row in table.rows})
    counts = {(row[0], row[1]): row[2] for row in table.rows}
    return {
        "labels": [cell_text(month) for month in months],
        "datasets": [
            {"label": provider, "data": [counts.get((month, provider), 0) for month in months]}
            for provider in providers
        ],
    }


def dashboard_charts(figures: DashboardFigures) -> dict[str, dict]:
    """Return the chart settings per table name; the summary has none (its table is the headline)."""
    charts = {}
    for name, table in figures.tables.items():
        if name == "open_by_age":
            chart = {"type": "bar", **_series(table, "age", ("open_cases",))}
        elif name == "trend":
            chart = {
                "type": "line",
                "percent": True,
                **_series(table, "month", ("acknowledged_on_time", "responded_on_time", "sincere_on_time")),
            }
        elif name == "durations":
            chart = {"type": "bar", "unit": _("hours"), **_series(table, "measure", ("median", "p90"))}
        elif name == "breaches":
            chart = {"type": "bar", "stacked": True, **_breaches_by_provider(table)}
        elif name in ("by_provider", "by_member"):
            label = "provider" if name == "by_provider" else "member"
            chart = {
                "type": "bar",
                "percent": True,
                "horizontal": name == "by_member",
                **_series(table, label, ("acknowledged_on_time", "responded_on_time", "sincere_on_time")),
            }
        else:
            continue
        charts[name] = chart
    return charts
