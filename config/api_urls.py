"""Root of /api/: the versioned API, its OpenAPI schema and the interactive docs (assets served locally)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from claims.api.errors import api_not_found

urlpatterns = [
    path("v1/", include("claims.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    # Anything else under /api/ is a 404 in the API's error shape, not the site's HTML page.
    re_path(r"^", api_not_found),
]
