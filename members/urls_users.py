"""Organisation user management, included at ``org/`` under the ``members`` namespace."""

from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/add/", views.user_add, name="user_add"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate_view, name="user_deactivate"),
    path("users/<int:user_id>/invitation/", views.user_invitation_resend_view, name="user_invitation_resend"),
]
