from datetime import timedelta

from django.db import migrations

BUSINESS_DAY = timedelta(hours=9)


def create_default_policies(apps, schema_editor):
    """Create the default targets of DESIGN.md for every case kind and priority."""
    SlaPolicy = apps.get_model("claims", "SlaPolicy")
    for case_kind in ("claim", "inquiry"):
        for priority in ("low", "normal", "high", "urgent"):
            SlaPolicy.objects.get_or_create(
                case_kind=case_kind,
                priority=priority,
                provider=None,
                defaults={
                    "acknowledgement_target": 2 * BUSINESS_DAY,
                    "acknowledgement_basis": "business",
                    "response_target": timedelta(days=7),
                    "response_basis": "calendar",
                    "re_response_target": 5 * BUSINESS_DAY,
                    "re_response_basis": "business",
                    "claimant_review_target": timedelta(days=14),
                    "claimant_review_basis": "calendar",
                    "warning_thresholds": [50, 80],
                    "escalate_on_breach": True,
                    "review_accept_after": timedelta(days=30),
                },
            )


class Migration(migrations.Migration):
    dependencies = [("claims", "0003_closureday_clock_clockmark_slapolicy_and_more")]

    operations = [migrations.RunPython(create_default_policies, migrations.RunPython.noop)]
