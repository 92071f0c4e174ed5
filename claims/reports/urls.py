"""Routes of the monthly reports (/reports/) and the public transparency summary."""

from django.urls import path

from . import converters, views  # noqa: F401 (converters registers yyyy_mm)

app_name = "reports"
urlpatterns = [
    path("reports/", views.report_index, name="report_index"),
    path("reports/<slug:provider>/<yyyy_mm:month>/", views.report_detail, name="report_detail"),
    path("reports/<slug:provider>/<yyyy_mm:month>/report.pdf", views.report_pdf, name="report_pdf"),
    path("transparency/", views.transparency, name="transparency"),
    path("transparency.json", views.transparency_json, name="transparency_json"),
]
