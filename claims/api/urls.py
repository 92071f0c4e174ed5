"""Routes of /api/v1/: cases addressed by reference, one POST route per transition."""

from django.urls import path, register_converter

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
]
