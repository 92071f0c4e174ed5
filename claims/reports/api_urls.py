"""Routes of /api/v1/reports/, included into the API's namespace by ``claims.api.urls``."""

from django.urls import path

from . import api

urlpatterns = [
    path("reports/", api.ReportListView.as_view(), name="report_list"),
    path("reports/<str:provider>/<str:month>/", api.ReportDetailView.as_view(), name="report_detail"),
]
