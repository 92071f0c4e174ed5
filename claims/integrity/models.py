"""Perceptual fingerprints of evidence, and the links they find between cases."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ScanOutcome(models.TextChoices):
    HASHED = "hashed", _("Hashed")
    NO_PICTURE = "no_picture", _("Nothing to compare")  # a flat picture, or every frame flat
    UNREADABLE = "unreadable", _("Could not be decoded")


class EvidenceScan(models.Model):
    """That one evidence file has been fingerprinted (once), and what came of it."""

    evidence = models.OneToOneField(
        "claims.Evidence", on_delete=models.PROTECT, primary_key=True, related_name="scan"
    )
    outcome = models.CharField(max_length=16, choices=ScanOutcome.choices)
    frames = models.PositiveSmallIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    scanned_at = models.DateTimeField()

    class Meta:
        verbose_name = _("evidence scan")
        verbose_name_plural = _("evidence scans")

    def __str__(self):
        return f"{self.evidence_id}: {self.outcome}"


class EvidenceFingerprint(models.Model):
    """The 64-bit pHash of an image, or of one sampled frame of a video.

    ``hash`` holds the unsigned value as a signed bigint; ``band0``..``band3`` are its four
    16-bit slices, each indexed, through which near copies are looked up (see
    ``claims.integrity.hashing``).
    """

    # The (evidence, frame) unique index serves every lookup by evidence.
    evidence = models.ForeignKey(
        "claims.Evidence", on_delete=models.PROTECT, related_name="fingerprints", db_index=False
    )
    # Copied from the evidence so that a lookup excludes the case's own files without a join.
    case = models.ForeignKey("claims.Case", on_delete=models.PROTECT, related_name="+", db_index=False)
    frame = models.PositiveSmallIntegerField(default=0)
    at_ms = models.PositiveIntegerField(null=True, blank=True)
    hash = models.BigIntegerField()
    band0 = models.IntegerField(db_index=True)
    band1 = models.IntegerField(db_index=True)
    band2 = models.IntegerField(db_index=True)
    band3 = models.IntegerField(db_index=True)

    class Meta:
        verbose_name = _("evidence fingerprint")
        verbose_name_plural = _("evidence fingerprints")
        constraints = [
            models.UniqueConstraint(fields=["evidence", "frame"], name="fingerprint_frame_unique"),
        ]

    def __str__(self):
        return f"{self.evidence_id}#{self.frame} {self.hash & 0xFFFFFFFFFFFFFFFF:016x}"


class LinkKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


class CaseLinkQuerySet(models.QuerySet):
    def of_case(self, case_id: int):
        return self.filter(Q(case_a_id=case_id) | Q(case_b_id=case_id))


class CaseLink(models.Model):
    """Two cases whose evidence shows the same output (near-duplicate pictures or video frames).

    One row per unordered pair: ``case_a`` is the one with the smaller id. ``evidence_a`` and
    ``evidence_b`` are the files that matched first, in ``case_a`` and ``case_b``.
    """

    case_a = models.ForeignKey("claims.Case", on_delete=models.PROTECT, related_name="+", db_index=False)
    case_b = models.ForeignKey("claims.Case", on_delete=models.PROTECT, related_name="+")
    evidence_a = models.ForeignKey("claims.Evidence", on_delete=models.PROTECT, related_name="+")
    evidence_b = models.ForeignKey("claims.Evidence", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=LinkKind.choices)
    distance = models.PositiveSmallIntegerField(
        help_text=_("Differing bits of 64 (median over matched frames).")
    )
    frames_matched = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField()

    objects = CaseLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("case link")
        verbose_name_plural = _("case links")
        ordering = ["created_at", "id"]
        constraints = [
            # The (case_a, case_b) unique index also serves lookups by case_a.
            models.UniqueConstraint(fields=["case_a", "case_b"], name="case_link_pair_unique"),
            models.CheckConstraint(condition=Q(case_a__lt=F("case_b")), name="case_link_ordered"),
            models.CheckConstraint(condition=Q(kind__in=LinkKind.values), name="case_link_kind_valid"),
        ]

    def __str__(self):
        return f"{self.case_a_id} ~ {self.case_b_id} ({self.kind}, {self.distance})"
