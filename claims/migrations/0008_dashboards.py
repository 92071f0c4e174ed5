import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0007_evidence_integrity"),
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="clock",
            name="elapsed_calendar",
            field=models.DurationField(blank=True, null=True, verbose_name="elapsed (calendar time)"),
        ),
        migrations.AddField(
            model_name="clock",
            name="elapsed_business",
            field=models.DurationField(blank=True, null=True, verbose_name="elapsed (business time)"),
        ),
        migrations.CreateModel(
            name="DashboardRefresh",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_watermark", models.BigIntegerField(default=0)),
                ("previous_watermark", models.BigIntegerField(default=0)),
                ("refreshed_at", models.DateTimeField(blank=True, null=True)),
                ("rebuilt_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "dashboard refresh",
                "verbose_name_plural": "dashboard refreshes",
            },
        ),
        migrations.CreateModel(
            name="DashboardRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField()),
                ("kind", models.CharField(max_length=8)),
                ("priority", models.CharField(max_length=8)),
                ("cases_submitted", models.PositiveIntegerField(default=0)),
                ("cases_escalated", models.PositiveIntegerField(default=0)),
                ("acknowledgement_decided", models.PositiveIntegerField(default=0)),
                ("acknowledgement_on_time", models.PositiveIntegerField(default=0)),
                ("acknowledgement_breached", models.PositiveIntegerField(default=0)),
                ("response_decided", models.PositiveIntegerField(default=0)),
                ("response_on_time", models.PositiveIntegerField(default=0)),
                ("response_sincere_on_time", models.PositiveIntegerField(default=0)),
                ("response_breached", models.PositiveIntegerField(default=0)),
                ("histograms", models.BinaryField(default=b"")),
                (
                    "claimant",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="members.organisation",
                    ),
                ),
                (
                    "respondent",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="members.organisation",
                    ),
                ),
            ],
            options={
                "verbose_name": "dashboard roll-up",
                "verbose_name_plural": "dashboard roll-ups",
                "indexes": [models.Index(fields=["claimant", "month"], name="dashboard_rollup_claimant")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("claimant__isnull", False)),
                        fields=("month", "respondent", "claimant", "kind", "priority"),
                        name="dashboard_rollup_member_unique",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("claimant__isnull", True)),
                        fields=("month", "respondent", "kind", "priority"),
                        name="dashboard_rollup_total_unique",
                    ),
                ],
            },
        ),
    ]
