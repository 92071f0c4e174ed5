"""The registry's rows: identifiers and reference images of works, and the append-only grant ledger.

Imported at the bottom of ``members.models`` so that Django registers them with the members app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdentifierScheme(models.TextChoices):
    ISAN = "isan", "ISAN"
    ISRC = "isrc", "ISRC"
    ISWC = "iswc", "ISWC"
    JAN = "jan", "JAN"
    INTERNAL = "internal", _("Internal id")


class GrantUse(models.TextChoices):
    TRAINING = "training", _("Training")
    GENERATION = "generation", _("Generation")


class WorkIdentifier(models.Model):
    """One identifier of a work, stored normalised; unique within its owner's scheme."""

    work = models.ForeignKey(
        "members.Work", verbose_name=_("work"), on_delete=models.CASCADE, related_name="identifiers"
    )
    # Denormalised from the work so that the database can keep an identifier unique per owner.
    owner = models.ForeignKey(
        "members.Organisation", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    scheme = models.CharField(_("scheme"), max_length=16, choices=IdentifierScheme.choices)
    value = models.CharField(_("value"), max_length=100)

    class Meta:
        verbose_name = _("work identifier")
        verbose_name_plural = _("work identifiers")
        ordering = ["scheme", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "scheme", "value"], name="work_identifier_unique_per_owner"
            ),
            models.CheckConstraint(
                condition=Q(scheme__in=IdentifierScheme.values), name="work_identifier_scheme_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_scheme_display()} {self.value}"


def work_image_storage_name(sha256: str) -> str:
    """Return where the image with this SHA-256 is stored: by content, so identical bytes share it."""
    return f"works/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def work_image_path(instance, filename):
    return work_image_storage_name(instance.sha256)


class WorkImage(models.Model):
    """A reference image of a work, stored by content and never changed."""

    work = models.ForeignKey(
        "members.Work", verbose_name=_("work"), on_delete=models.PROTECT, related_name="images"
    )
    file = models.FileField(_("file"), upload_to=work_image_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("reference image")
        verbose_name_plural = _("reference images")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work", "sha256"], name="work_image_once_per_work"),
            models.CheckConstraint(condition=Q(size__gt=0), name="work_image_not_empty"),
        ]

    def __str__(self):
        return f"{self.original_name} ({self.sha256[:12]})"


class GrantQuerySet(models.QuerySet):
    def with_parties(self):
        """Fetch what a ledger row shows: the parties, the work, the author and the revocation."""
        return self.select_related("grantor", "grantee", "work", "created_by", "revokes", "revocation")

    def ledger_order(self):
        return self.order_by("-created_at", "-id")


class Grant(models.Model):
    """One row of the append-only ledger of consents a member gives a provider.

    A grant permits ``grantee`` to use ``work`` (or, when ``work`` is null, every work of
    ``grantor``, including works registered later) for ``use`` from ``valid_from`` (inclusive)
    until ``valid_until`` (exclusive; null means open-ended). A revocation is another row whose
    ``revokes`` names the grant it ends; it copies the grant's parties, use and work, and takes
    effect from its own ``valid_from``. Rows are never updated or deleted (see
    ``members.registry.services`` and, on PostgreSQL, the trigger of migration 0003).
    """

    grantor = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="grants_given",
    )
    grantee = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="grants_received",
    )
    use = models.CharField(_("use"), max_length=16, choices=GrantUse.choices)
    work = models.ForeignKey(
        "members.Work",
        verbose_name=_("work"),
        on_delete=models.PROTECT,
        related_name="grants",
        null=True,
        blank=True,
        help_text=_("Empty: all of the member's works, including works registered later."),
    )
    terms = models.TextField(_("terms"), blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    revokes = models.OneToOneField(
        "self",
        verbose_name=_("revokes"),
        on_delete=models.PROTECT,
        related_name="revocation",
        null=True,
        blank=True,
    )
    reason = models.TextField(_("reason for revocation"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(use__in=GrantUse.values), name="grant_use_valid"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="grant_window_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(revokes__isnull=True) | Q(valid_until__isnull=True),
                name="grant_revocation_is_open_ended",
            ),
            models.CheckConstraint(condition=~Q(grantor=models.F("grantee")), name="grant_parties_differ"),
        ]
        indexes = [
            models.Index(fields=["grantee", "grantor", "use"], name="grant_lookup"),
            models.Index(fields=["grantor", "-created_at"], name="grant_grantor_recent"),
        ]

    def __str__(self):
        if self.revokes_id:
            return _("Revocation #%(id)s of grant #%(grant)s") % {"id": self.pk, "grant": self.revokes_id}
        return _("Grant #%(id)s") % {"id": self.pk}

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The grant ledger is append-only: revoke a grant with a new row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The grant ledger is append-only: grants are never deleted.")

    @property
    def is_revocation(self):
        return self.revokes_id is not None

    @property
    def covers_all_works(self):
        return self.work_id is None
