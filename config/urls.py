from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("members.urls")),
    path("org/", include("members.urls_users")),
    path("org/tokens/", include("members.urls_tokens")),
    path("org/webhooks/", include("notifications.webhooks.urls")),
    path("inbox/", include("notifications.urls")),
    path("registry/", include("members.registry.urls")),
    path("", include("claims.urls")),
    path("", include("claims.reports.urls")),
]
