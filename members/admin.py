from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from members.models import ApiToken, Organisation, User, Work


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name_en", "name_ja", "kind", "slug", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name_en", "name_ja", "slug")
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "organisation", "role", "is_active")
    list_filter = ("role", "organisation__kind", "is_active")
    search_fields = ("email", "full_name", "organisation__name_en", "organisation__name_ja")
    list_select_related = ("organisation",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Organisation"), {"fields": ("full_name", "organisation", "role", "language")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    superuser_only_fields = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        """Keep the association's admins from granting themselves or others platform powers."""
        readonly = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            readonly = (*readonly, *self.superuser_only_fields)
        return readonly

    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "organisation", "role", "password1", "password2")}),
    )


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ("title_ja", "title_en", "kind", "owner")
    list_filter = ("kind",)
    search_fields = ("title_ja", "title_en")
    list_select_related = ("owner",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Look up and audit tokens; they are issued and revoked by organisation admins in the app."""

    list_display = ("name", "prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__email")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in ApiToken._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The registry (grants, identifiers, reference images) registers its own admin.
from members.registry import admin as registry_admin  # noqa: E402, F401
