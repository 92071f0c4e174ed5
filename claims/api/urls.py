"""Routes of /api/v1/: cases addressed by reference, one POST route per transition."""

from django.urls import include, path, register_converter

from claims.integrity import api as integrity_api
from claims.sincerity import api as sincerity_api

from . import views


class CaseReferenceConverter:
    """Match a case reference (CL-2026-000123) only, so anything else never reaches the database."""

    regex = views.REFERENCE_PATTERN

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(CaseReferenceConverter, "case_ref")

app_name = "api"
urlpatterns = [
    path("cases/", views.CaseCollectionView.as_view(), name="case_list"),
    path("cases/bulk/", views.CaseBulkCreateView.as_view(), name="case_bulk_create"),
    path("cases/<case_ref:reference>/", views.CaseDetailView.as_view(), name="case_detail"),
    *(
        path(f"cases/<case_ref:reference>/{segment}/", view.as_view(), name=f"case_{view.transition}")
        for segment, view in views.TRANSITION_VIEWS.items()
    ),
    path("cases/<case_ref:reference>/messages/", views.CaseMessagesView.as_view(), name="case_messages"),
    path("cases/<case_ref:reference>/evidence/", views.CaseEvidenceView.as_view(), name="case_evidence"),
    path(
        "cases/<case_ref:reference>/evidence/<int:evidence_id>/",
        views.EvidenceDetailView.as_view(),
        name="evidence_detail",
    ),
    path(
        "cases/<case_ref:reference>/evidence/<int:evidence_id>/download/",
        views.EvidenceDownloadView.as_view(),
        name="evidence_download",
    ),
    path("cases/<case_ref:reference>/events/", views.CaseEventsView.as_view(), name="case_events"),
    path("cases/<case_ref:reference>/clocks/", views.CaseClocksView.as_view(), name="case_clocks"),
    # The association's verdict on a challenged response (claims/sincerity/api.py)
    path(
        "cases/<case_ref:reference>/responses/<int:response_id>/adjudicate/",
        sincerity_api.ResponseAdjudicateView.as_view(),
        name="response_adjudicate",
    ),
    # Case links and the evidence bundle (claims/integrity/api.py)
    path("cases/<case_ref:reference>/links/", integrity_api.CaseLinksView.as_view(), name="case_links"),
    path("cases/<case_ref:reference>/bundle/", integrity_api.CaseBundleView.as_view(), name="case_bundle"),
    # Monthly reports (claims/reports/api.py)
    path("", include("claims.reports.api_urls")),
    # Works, grants, the check and the providers' feed (members/registry/api/)
    path("", include("members.registry.api.urls")),
]
