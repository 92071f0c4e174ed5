# Evidence integrity (issue #6): perceptual fingerprints of images and video frames, the scan
# record that makes fingerprinting happen once per file, and the links between cases they find.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0006_sincerity"),
    ]

    operations = [
        migrations.CreateModel(
            name="EvidenceScan",
            fields=[
                (
                    "evidence",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="scan",
                        serialize=False,
                        to="claims.evidence",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("hashed", "Hashed"),
                            ("no_picture", "Nothing to compare"),
                            ("unreadable", "Could not be decoded"),
                        ],
                        max_length=16,
                    ),
                ),
                ("frames", models.PositiveSmallIntegerField(default=0)),
                ("detail", models.CharField(blank=True, max_length=300)),
                ("scanned_at", models.DateTimeField()),
            ],
            options={"verbose_name": "evidence scan", "verbose_name_plural": "evidence scans"},
        ),
        migrations.CreateModel(
            name="EvidenceFingerprint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("frame", models.PositiveSmallIntegerField(default=0)),
                ("at_ms", models.PositiveIntegerField(blank=True, null=True)),
                ("hash", models.BigIntegerField()),
                ("band0", models.IntegerField(db_index=True)),
                ("band1", models.IntegerField(db_index=True)),
                ("band2", models.IntegerField(db_index=True)),
                ("band3", models.IntegerField(db_index=True)),
                (
                    "case",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="claims.case",
                    ),
                ),
                (
                    "evidence",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fingerprints",
                        to="claims.evidence",
                    ),
                ),
            ],
            options={
                "verbose_name": "evidence fingerprint",
                "verbose_name_plural": "evidence fingerprints",
                "constraints": [
                    models.UniqueConstraint(fields=("evidence", "frame"), name="fingerprint_frame_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="CaseLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(choices=[("image", "Image"), ("video", "Video")], max_length=8)),
                (
                    "distance",
                    models.PositiveSmallIntegerField(
                        help_text="Differing bits of 64 (median over matched frames)."
                    ),
                ),
                ("frames_matched", models.PositiveSmallIntegerField(default=1)),
                ("created_at", models.DateTimeField()),
                (
                    "case_a",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="claims.case",
                    ),
                ),
                (
                    "case_b",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="claims.case"
                    ),
                ),
                (
                    "evidence_a",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="claims.evidence"
                    ),
                ),
                (
                    "evidence_b",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="claims.evidence"
                    ),
                ),
            ],
            options={
                "verbose_name": "case link",
                "verbose_name_plural": "case links",
                "ordering": ["created_at", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("case_a", "case_b"), name="case_link_pair_unique"),
                    models.CheckConstraint(
                        condition=models.Q(("case_a__lt", models.F("case_b"))), name="case_link_ordered"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["image", "video"])), name="case_link_kind_valid"
                    ),
                ],
            },
        ),
    ]
