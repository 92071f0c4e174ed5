from django.urls import path

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
    # Filing (claims/views/filing.py)
    path("file/", filing.case_new, name="case_new"),
    path("file/bulk/", filing.case_new_bulk, name="case_new_bulk"),
    path("file/bulk/template.csv", filing.bulk_template, name="bulk_template"),
    path("cases/<str:reference>/outputs/import/", filing.outputs_import, name="outputs_import"),
]
