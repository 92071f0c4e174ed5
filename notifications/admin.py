from django.contrib import admin

from notifications.models import OutboxEntry
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """The association can see every organisation's endpoints; secrets stay out of the list."""

    list_display = ("url", "organisation", "is_active", "consecutive_failures", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "organisation__name_en", "organisation__name_ja")
    list_select_related = ("organisation",)
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "endpoint", "status", "attempt_count", "created_at")
    list_filter = ("status",)
    list_select_related = ("endpoint",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    """Events still waiting for the dispatcher: a list that keeps growing means no worker runs it."""

    list_display = ("id", "event", "created_at")
    list_select_related = ("event__case",)
    readonly_fields = ("event", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
