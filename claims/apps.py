from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Cases")

    def ready(self):
        # Cache invalidation only: the SLA settings cache must not outlive an edit in this process.
        from claims.sla.clocks import sla_settings_clear
        from claims.sla.models import ClosureDay, SlaPolicy

        for model in (SlaPolicy, ClosureDay):
            post_save.connect(sla_settings_clear, sender=model, dispatch_uid=f"sla-settings-{model.__name__}")
            post_delete.connect(
                sla_settings_clear, sender=model, dispatch_uid=f"sla-settings-{model.__name__}-d"
            )
