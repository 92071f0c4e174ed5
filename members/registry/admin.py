"""Django admin for the registry: the grant ledger is read-only there, as everywhere.

Imported by ``members.admin`` so that admin autodiscovery registers it.
"""

from django.contrib import admin

from members.registry.models import Grant, WorkIdentifier, WorkImage


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    """Look up and audit the ledger; members issue and revoke grants in the app."""

    list_display = (
        "id",
        "grantor",
        "grantee",
        "use",
        "work",
        "valid_from",
        "valid_until",
        "revokes",
        "created_at",
    )
    list_filter = ("use",)
    search_fields = ("grantor__name_en", "grantor__name_ja", "grantee__name_en", "grantee__name_ja", "terms")
    list_select_related = ("grantor", "grantee", "work", "revokes")
    readonly_fields = [f.name for f in Grant._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkIdentifier)
class WorkIdentifierAdmin(admin.ModelAdmin):
    list_display = ("scheme", "value", "work", "owner")
    list_filter = ("scheme",)
    search_fields = ("value", "work__title_ja", "work__title_en")
    list_select_related = ("work", "owner")
    readonly_fields = [f.name for f in WorkIdentifier._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkImage)
class WorkImageAdmin(admin.ModelAdmin):
    list_display = ("original_name", "work", "content_type", "size", "uploaded_at")
    list_select_related = ("work",)
    readonly_fields = [f.name for f in WorkImage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
