"""API token management, included at ``org/tokens/`` under the ``tokens`` namespace."""

from django.urls import path

from members import views_tokens

app_name = "tokens"
urlpatterns = [
    path("", views_tokens.token_list, name="token_list"),
    path("new/", views_tokens.token_create, name="token_create"),
    path("<int:token_id>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]
