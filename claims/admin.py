from django.contrib import admin

from claims.models import Case, CaseEvent
from claims.sla.models import ClosureDay, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "case_kind",
        "priority",
        "provider",
        "acknowledgement_target",
        "response_target",
        "re_response_target",
        "claimant_review_target",
        "escalate_on_breach",
    )
    list_filter = ("case_kind", "priority", "provider")
    list_select_related = ("provider",)


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    list_display = ("date", "note")
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases change only through the transition service; the admin may look, not touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "kind", "state", "claimant", "respondent", "priority", "created_at")
    list_filter = ("kind", "state", "priority")
    search_fields = ("reference", "title")
    list_select_related = ("claimant", "respondent")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "seq", "action", "from_state", "to_state", "actor", "created_at")
    list_filter = ("action",)
    search_fields = ("case__reference",)
    list_select_related = ("case", "actor")
