"""Registry pages, included at ``registry/`` under the ``registry`` namespace."""

from django.urls import path

from members.registry import views

app_name = "registry"
urlpatterns = [
    path("works/", views.work_list, name="work_list"),
    path("works/new/", views.work_create, name="work_create"),
    path("works/import/", views.works_import, name="works_import"),
    path("works/import/template.csv", views.works_import_template, name="works_import_template"),
    path("works/<int:work_id>/", views.work_detail, name="work_detail"),
    path("works/<int:work_id>/edit/", views.work_edit, name="work_edit"),
    path("works/<int:work_id>/images/", views.work_image_upload, name="work_image_upload"),
    path("works/<int:work_id>/images/<int:image_id>/", views.work_image_download, name="work_image"),
    path("grants/", views.grant_list, name="grant_list"),
    path("grants/new/", views.grant_create, name="grant_create"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("check/", views.grant_check, name="grant_check"),
    path("<str:member>/tdmrep.json", views.tdmrep, name="tdmrep"),
    path("<str:member>/tdm-policy.json", views.tdm_policy, name="tdm_policy"),
    path("<str:member>/aipref.txt", views.aipref, name="aipref"),
]
