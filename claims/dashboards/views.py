"""The dashboard page, its htmx-refreshed figures and the exports of its tables."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from claims.dashboards.charts import dashboard_charts
from claims.dashboards.exports import EXPORT_FORMATS, export_response
from claims.dashboards.figures import dashboard_figures
from claims.dashboards.forms import DashboardFilterForm
from claims.dashboards.presentation import table_html


@login_required
@require_GET
def dashboard(request):
    """Show the figures the user's organisation may see.

    ``?export=csv|xlsx&table=<name>`` (with the same filters) downloads one table instead.
    """
    form = DashboardFilterForm(request.GET, user=request.user)
    figures = dashboard_figures(user=request.user, filters=form.filters())
    export_format = request.GET.get("export")
    if export_format is not None:
        table_name = request.GET.get("table", "")
        if export_format not in EXPORT_FORMATS or table_name not in figures.tables:
            raise Http404("No such export.")
        return export_response(figures=figures, table_name=table_name, export_format=export_format)
    query = request.GET.copy()
    for name in ("export", "table"):
        query.pop(name, None)
    charts = dashboard_charts(figures)
    sections = [
        {
            "name": name,
            "table": table,
            "table_html": table_html(table),
            "chart": charts.get(name),
            "chart_id": f"chart-{name}",
        }
        for name, table in figures.tables.items()
    ]
    context = {"form": form, "figures": figures, "sections": sections, "query": query.urlencode()}
    htmx = request.htmx
    partial = htmx and not htmx.boosted and not htmx.history_restore_request
    template = "claims/partials/dashboard_figures.html" if partial else "claims/dashboard.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
