from django.urls import path

from claims.dashboards import views as dashboard_views
from claims.integrity import views as integrity_views
from claims.sincerity import views as sincerity_views
from claims.views import cases, filing

app_name = "claims"
urlpatterns = [
    # Case list and detail, actions, thread and evidence (claims/views/cases.py)
    path("", cases.home, name="home"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/<str:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<str:reference>/actions/<str:action>/", cases.case_action, name="case_action"),
    path("cases/<str:reference>/messages/", cases.message_create, name="message_create"),
    path("cases/<str:reference>/evidence/", cases.evidence_upload, name="evidence_upload"),
    path(
        "cases/<str:reference>/evidence/<int:evidence_id>/", cases.evidence_download, name="evidence_download"
    ),
    # The evidence bundle (claims/integrity/views.py)
    path("cases/<str:reference>/bundle.zip", integrity_views.case_bundle, name="case_bundle"),
    # Filing (claims/views/filing.py)
    path("file/", filing.case_new, name="case_new"),
    path("file/bulk/", filing.case_new_bulk, name="case_new_bulk"),
    path("file/bulk/template.csv", filing.bulk_template, name="bulk_template"),
    path("cases/<str:reference>/outputs/import/", filing.outputs_import, name="outputs_import"),
    # Sincerity: the association's verdicts on challenged responses (claims/sincerity/views.py)
    path("adjudication/", sincerity_views.adjudication_list, name="adjudication_list"),
    path(
        "cases/<str:reference>/responses/<int:response_id>/adjudicate/",
        sincerity_views.response_adjudicate_view,
        name="response_adjudicate",
    ),
    # Dashboards (claims/dashboards/views.py)
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
]
