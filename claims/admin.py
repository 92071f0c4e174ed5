from django.contrib import admin

from claims.dashboards.models import DashboardRefresh, DashboardRollup
from claims.integrity.models import CaseLink
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


@admin.register(CaseLink)
class CaseLinkAdmin(ReadOnlyAdmin):
    """Cases whose evidence shows the same output; written only by the fingerprinting task."""

    list_display = ("case_a", "case_b", "kind", "distance", "frames_matched", "created_at")
    list_filter = ("kind",)
    search_fields = ("case_a__reference", "case_b__reference")
    list_select_related = ("case_a", "case_b")


@admin.register(DashboardRollup)
class DashboardRollupAdmin(ReadOnlyAdmin):
    """The dashboards' counts per month, provider, member, kind and priority; rebuilt by beat."""

    list_display = (
        "month",
        "respondent",
        "claimant",
        "kind",
        "priority",
        "cases_submitted",
        "cases_escalated",
    )
    list_filter = ("kind", "priority", "respondent")
    list_select_related = ("respondent", "claimant")
    date_hierarchy = "month"
    exclude = ("histograms",)


@admin.register(DashboardRefresh)
class DashboardRefreshAdmin(ReadOnlyAdmin):
    """When the roll-up last read the timeline: an old date means beat is not running."""

    list_display = ("refreshed_at", "rebuilt_at", "event_watermark", "previous_watermark")
