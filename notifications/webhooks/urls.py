"""Webhook endpoints and their delivery log, included at ``org/webhooks/``."""

from django.urls import path

from notifications.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_create, name="endpoint_create"),
    path("<int:endpoint_id>/", views.endpoint_detail, name="endpoint_detail"),
    path("<int:endpoint_id>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("<int:endpoint_id>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint_rotate_secret"),
    path("<int:endpoint_id>/enable/", views.endpoint_enable, name="endpoint_enable"),
    path("<int:endpoint_id>/test/", views.endpoint_send_test, name="endpoint_send_test"),
    path("<int:endpoint_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="delivery_replay"),
]
