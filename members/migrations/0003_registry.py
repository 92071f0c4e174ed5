"""The registry (issue #6): work locations and identifiers, reference images, the grant ledger.

On PostgreSQL the ledger also gets a trigger that refuses UPDATE and DELETE of grant rows, and
the work titles get trigram indexes for the case-insensitive search in either language.
"""

import django.db.models.deletion
import django.utils.timezone
import members.registry.models
from django.conf import settings
from django.db import migrations, models


LEDGER_TRIGGER = """
CREATE FUNCTION members_grant_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the grant ledger is append-only: % of members_grant refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER members_grant_append_only
    BEFORE UPDATE OR DELETE ON members_grant
    FOR EACH ROW EXECUTE FUNCTION members_grant_append_only();
"""
LEDGER_TRIGGER_DROP = """
DROP TRIGGER IF EXISTS members_grant_append_only ON members_grant;
DROP FUNCTION IF EXISTS members_grant_append_only();
"""
# icontains is UPPER(col) LIKE UPPER(%s) on PostgreSQL: these indexes serve it for any substring.
TRIGRAM_INDEXES = """
CREATE INDEX IF NOT EXISTS work_title_ja_trgm ON members_work USING gin ((UPPER(title_ja::text)) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS work_title_en_trgm ON members_work USING gin ((UPPER(title_en::text)) gin_trgm_ops);
"""
TRIGRAM_INDEXES_DROP = """
DROP INDEX IF EXISTS work_title_ja_trgm;
DROP INDEX IF EXISTS work_title_en_trgm;
"""


def postgresql_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


def trigram_indexes_create(apps, schema_editor):
    """Create the trigram indexes where pg_trgm can be had; the search works without them, only slower."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return  # a role that may not create extensions: keep the plain search
    schema_editor.execute(TRIGRAM_INDEXES, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_api_tokens_idempotency"),
    ]

    operations = [
        migrations.AddField(
            model_name="work",
            name="location",
            field=models.CharField(
                blank=True,
                help_text="Where the work is published on your website, as a path pattern, e.g. /characters/neko/*. The published reservations (TDMRep, aipref) name it.",
                max_length=500,
                verbose_name="location",
            ),
        ),
        migrations.AddField(
            model_name="work",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, db_index=True, default=django.utils.timezone.now, verbose_name="updated"
            ),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="Grant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "use",
                    models.CharField(
                        choices=[("training", "Training"), ("generation", "Generation")],
                        max_length=16,
                        verbose_name="use",
                    ),
                ),
                ("terms", models.TextField(blank=True, verbose_name="terms")),
                ("valid_from", models.DateTimeField(verbose_name="valid from")),
                ("valid_until", models.DateTimeField(blank=True, null=True, verbose_name="valid until")),
                ("reason", models.TextField(blank=True, verbose_name="reason for revocation")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="recorded"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "grantee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="grants_received",
                        to="members.organisation",
                        verbose_name="provider",
                    ),
                ),
                (
                    "grantor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="grants_given",
                        to="members.organisation",
                        verbose_name="member",
                    ),
                ),
                (
                    "revokes",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="revocation",
                        to="members.grant",
                        verbose_name="revokes",
                    ),
                ),
                (
                    "work",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: all of the member's works, including works registered later.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="grants",
                        to="members.work",
                        verbose_name="work",
                    ),
                ),
            ],
            options={
                "verbose_name": "grant",
                "verbose_name_plural": "grants",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["grantee", "grantor", "use"], name="grant_lookup"),
                    models.Index(fields=["grantor", "-created_at"], name="grant_grantor_recent"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("use__in", ["training", "generation"])), name="grant_use_valid"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("valid_until__isnull", True),
                            ("valid_until__gt", models.F("valid_from")),
                            _connector="OR",
                        ),
                        name="grant_window_not_empty",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("revokes__isnull", True), ("valid_until__isnull", True), _connector="OR"
                        ),
                        name="grant_revocation_is_open_ended",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("grantor", models.F("grantee")), _negated=True),
                        name="grant_parties_differ",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="WorkIdentifier",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "scheme",
                    models.CharField(
                        choices=[
                            ("isan", "ISAN"),
                            ("isrc", "ISRC"),
                            ("iswc", "ISWC"),
                            ("jan", "JAN"),
                            ("internal", "Internal id"),
                        ],
                        max_length=16,
                        verbose_name="scheme",
                    ),
                ),
                ("value", models.CharField(max_length=100, verbose_name="value")),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="members.organisation",
                        verbose_name="owner",
                    ),
                ),
                (
                    "work",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="identifiers",
                        to="members.work",
                        verbose_name="work",
                    ),
                ),
            ],
            options={
                "verbose_name": "work identifier",
                "verbose_name_plural": "work identifiers",
                "ordering": ["scheme", "value"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "scheme", "value"), name="work_identifier_unique_per_owner"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("scheme__in", ["isan", "isrc", "iswc", "jan", "internal"])),
                        name="work_identifier_scheme_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="WorkImage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        max_length=200, upload_to=members.registry.models.work_image_path, verbose_name="file"
                    ),
                ),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                ("content_type", models.CharField(max_length=100, verbose_name="type")),
                ("size", models.PositiveBigIntegerField(verbose_name="size")),
                ("original_name", models.CharField(max_length=255, verbose_name="file name")),
                ("uploaded_at", models.DateTimeField(auto_now_add=True, verbose_name="uploaded")),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="uploaded by",
                    ),
                ),
                (
                    "work",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="images",
                        to="members.work",
                        verbose_name="work",
                    ),
                ),
            ],
            options={
                "verbose_name": "reference image",
                "verbose_name_plural": "reference images",
                "ordering": ["uploaded_at", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("work", "sha256"), name="work_image_once_per_work"),
                    models.CheckConstraint(condition=models.Q(("size__gt", 0)), name="work_image_not_empty"),
                ],
            },
        ),
        migrations.RunPython(postgresql_only(LEDGER_TRIGGER), postgresql_only(LEDGER_TRIGGER_DROP)),
        migrations.RunPython(trigram_indexes_create, postgresql_only(TRIGRAM_INDEXES_DROP)),
    ]
