"""The monthly roll-up the dashboards read, and the refresh's watermark."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Organisation


class DashboardRollup(models.Model):
    """Counts and time histograms of the cases one member filed with one provider in one month.

    One row per (month, respondent, claimant, kind, priority); the rows whose ``claimant`` is
    empty total every member, so the association's and a provider's figures read a few hundred
    rows however many members there are. ``month`` is the first day of the month (Asia/Tokyo)
    in which the cases were submitted. Written only by ``rollup.rollups_refresh``.

    ``histograms`` holds, for each measure of ``rollup.HISTOGRAM_MEASURES`` in turn, the
    number of clocks in each bucket of ``rollup.HISTOGRAM_EDGES`` (int32, little-endian, zlib;
    empty when no clock was met): dense arrays sum in C when a page adds a few hundred rows up.
    """

    month = models.DateField()
    respondent = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    claimant = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", null=True, blank=True, db_index=False
    )
    kind = models.CharField(max_length=8)
    priority = models.CharField(max_length=8)
    cases_submitted = models.PositiveIntegerField(default=0)
    cases_escalated = models.PositiveIntegerField(default=0)
    acknowledgement_decided = models.PositiveIntegerField(default=0)
    acknowledgement_on_time = models.PositiveIntegerField(default=0)
    acknowledgement_breached = models.PositiveIntegerField(default=0)
    response_decided = models.PositiveIntegerField(default=0)
    response_on_time = models.PositiveIntegerField(default=0)
    response_sincere_on_time = models.PositiveIntegerField(default=0)
    response_breached = models.PositiveIntegerField(default=0)
    histograms = models.BinaryField(default=b"")

    class Meta:
        verbose_name = _("dashboard roll-up")
        verbose_name_plural = _("dashboard roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "respondent", "claimant", "kind", "priority"],
                condition=Q(claimant__isnull=False),
                name="dashboard_rollup_member_unique",
            ),
            models.UniqueConstraint(
                fields=["month", "respondent", "kind", "priority"],
                condition=Q(claimant__isnull=True),
                name="dashboard_rollup_total_unique",
            ),
        ]
        indexes = [
            # A member's own rows, or the association filtering by member.
            models.Index(fields=["claimant", "month"], name="dashboard_rollup_claimant"),
        ]

    def __str__(self):
        return (
            f"{self.month:%Y-%m} {self.respondent_id}/{self.claimant_id or '*'} {self.kind}/{self.priority}"
        )


class DashboardRefresh(models.Model):
    """The one row recording how far the roll-up has read the timeline.

    ``event_watermark`` is the highest timeline event id seen by the last refresh and
    ``previous_watermark`` the one before it: a refresh re-reads every event above the
    *previous* watermark, so an event committed late by a transaction that began before the
    last refresh is still seen (see ``rollup.rollups_refresh``).
    """

    event_watermark = models.BigIntegerField(default=0)
    previous_watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dashboard refresh")
        verbose_name_plural = _("dashboard refreshes")

    def __str__(self):
        return f"refreshed {self.refreshed_at} up to event {self.event_watermark}"
