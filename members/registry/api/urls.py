"""Routes of the registry under /api/v1/ (included by ``claims.api.urls`` in the ``api`` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("works/", views.WorkCollectionView.as_view(), name="work_list"),
    path("works/<int:work_id>/", views.WorkDetailView.as_view(), name="work_detail"),
    path("works/<int:work_id>/images/", views.WorkImageCollectionView.as_view(), name="work_images"),
    path(
        "works/<int:work_id>/images/<int:image_id>/download/",
        views.WorkImageDownloadView.as_view(),
        name="work_image_download",
    ),
    path("grants/", views.GrantCollectionView.as_view(), name="grant_list"),
    path("grants/check/", views.GrantCheckView.as_view(), name="grant_check"),
    path("grants/check", views.GrantCheckNoSlashView.as_view(), name="grant_check_no_slash"),
    path("grants/<int:grant_id>/", views.GrantDetailView.as_view(), name="grant_detail"),
    path("grants/<int:grant_id>/revoke/", views.GrantRevokeView.as_view(), name="grant_revoke"),
    path("registry/feed/", views.ProviderFeedView.as_view(), name="registry_feed"),
]
