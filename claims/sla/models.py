"""SLA policies, per-case clocks and the thresholds they have passed."""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Organisation


class ClockKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    RESPONSE = "response", _("Response")
    RE_RESPONSE = "re_response", _("Re-response")
    CLAIMANT_REVIEW = "claimant_review", _("Claimant review")


class TimeBasis(models.TextChoices):
    BUSINESS = "business", _("Business time")
    CALENDAR = "calendar", _("Calendar time")


BUSINESS_DAY = timedelta(hours=9)

# The defaults of DESIGN.md: (target, basis) per clock.
DEFAULT_TARGETS = {
    ClockKind.ACKNOWLEDGEMENT: (2 * BUSINESS_DAY, TimeBasis.BUSINESS),
    ClockKind.RESPONSE: (timedelta(days=7), TimeBasis.CALENDAR),
    ClockKind.RE_RESPONSE: (5 * BUSINESS_DAY, TimeBasis.BUSINESS),
    ClockKind.CLAIMANT_REVIEW: (timedelta(days=14), TimeBasis.CALENDAR),
}


def default_thresholds():
    return [50, 80]


class SlaPolicy(models.Model):
    """Targets for the four clocks of a case kind and priority, optionally for one provider."""

    case_kind = models.CharField(
        _("case kind"), max_length=8, choices=[("claim", _("Claim")), ("inquiry", _("Inquiry"))]
    )
    priority = models.CharField(
        _("priority"),
        max_length=8,
        choices=[("low", _("Low")), ("normal", _("Normal")), ("high", _("High")), ("urgent", _("Urgent"))],
    )
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("provider (override)"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        limit_choices_to={"kind": "provider"},
        related_name="sla_policies",
    )
    acknowledgement_target = models.DurationField(_("acknowledgement target"))
    acknowledgement_basis = models.CharField(
        _("acknowledgement basis"), max_length=8, choices=TimeBasis.choices
    )
    response_target = models.DurationField(_("response target"))
    response_basis = models.CharField(_("response basis"), max_length=8, choices=TimeBasis.choices)
    re_response_target = models.DurationField(_("re-response target"))
    re_response_basis = models.CharField(_("re-response basis"), max_length=8, choices=TimeBasis.choices)
    claimant_review_target = models.DurationField(_("claimant review target"))
    claimant_review_basis = models.CharField(
        _("claimant review basis"), max_length=8, choices=TimeBasis.choices
    )
    warning_thresholds = models.JSONField(
        _("warning thresholds (%)"),
        default=default_thresholds,
        help_text=_("Shares of the target, e.g. [50, 80]."),
    )
    escalate_on_breach = models.BooleanField(_("escalate automatically on breach"), default=True)
    review_accept_after = models.DurationField(
        _("accept by default after"),
        default=timedelta(days=30),
        help_text=_("Calendar time after the response."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["provider_id", "case_kind", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_kind", "priority"],
                condition=Q(provider__isnull=True),
                name="sla_policy_default_unique",
            ),
            models.UniqueConstraint(
                fields=["case_kind", "priority", "provider"],
                condition=Q(provider__isnull=False),
                name="sla_policy_provider_unique",
            ),
        ]

    def __str__(self):
        scope = self.provider.name_en if self.provider_id else _("default")
        return f"{self.case_kind}/{self.priority} ({scope})"

    @classmethod
    def with_design_defaults(cls, *, case_kind: str, priority: str, provider=None) -> "SlaPolicy":
        """Return an unsaved policy with the default targets of DESIGN.md."""
        targets = {}
        for clock_kind, (target, basis) in DEFAULT_TARGETS.items():
            targets[f"{clock_kind}_target"] = target
            targets[f"{clock_kind}_basis"] = basis
        return cls(case_kind=case_kind, priority=priority, provider=provider, **targets)

    def target_for(self, clock_kind: str) -> tuple[timedelta, str]:
        return getattr(self, f"{clock_kind}_target"), getattr(self, f"{clock_kind}_basis")


class ClosureDay(models.Model):
    """An extra day the association's office is closed, beyond holidays and the year-end closure."""

    date = models.DateField(_("date"), unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.note}".strip()


class ClockStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    STOPPED = "stopped", _("Stopped")  # the case ended (withdrawn, escalated, closed) before it was met


class Clock(models.Model):
    """One SLA clock of a case.

    The target, basis and thresholds are copied from the policy when the clock starts, so a
    later policy edit does not move a running clock. ``consumed`` is the counted time of
    earlier running segments; the current segment runs from ``segment_started_at``.
    ``next_threshold_at`` is the moment the next unrecorded threshold falls due: the sweep
    finds due clocks with one indexed query on it.
    """

    case = models.ForeignKey("claims.Case", on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(_("clock"), max_length=16, choices=ClockKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=ClockStatus.choices, default=ClockStatus.RUNNING
    )
    target = models.DurationField(_("target"))
    basis = models.CharField(_("basis"), max_length=8, choices=TimeBasis.choices)
    thresholds = models.JSONField(_("thresholds (%)"), default=list)
    escalate_on_breach = models.BooleanField(default=False)
    auto_accept_after = models.DurationField(null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    segment_started_at = models.DateTimeField(null=True, blank=True)
    consumed = models.DurationField(default=timedelta(0))
    paused_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    next_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    next_threshold_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    # Set by the association's verdict on the response that met this clock (claims/sincerity/): a
    # clock counts as sincere on time only when met, never breached, and not judged insincere.
    judged_insincere = models.BooleanField(_("judged insincere"), default=False)
    # Set when the clock is met (claims/dashboards/elapsed.py): the time from its start to its
    # meeting without the paused periods, in wall-clock time and in the association's business
    # time, whatever the clock's own basis. The dashboards' times to acknowledge and respond.
    elapsed_calendar = models.DurationField(_("elapsed (calendar time)"), null=True, blank=True)
    elapsed_business = models.DurationField(_("elapsed (business time)"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["case", "started_at", "id"]
        indexes = [
            models.Index(
                fields=["next_threshold_at"],
                condition=Q(next_threshold_at__isnull=False),
                name="clock_next_threshold_due",
            ),
            models.Index(fields=["status", "due_at"], name="clock_status_due"),
        ]
        constraints = [
            # One live clock of each kind per case at a time.
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=Q(status__in=["running", "paused"]),
                name="clock_one_live_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.case_id}:{self.kind}:{self.status}"

    @property
    def is_live(self):
        return self.status in (ClockStatus.RUNNING, ClockStatus.PAUSED)

    @property
    def met_late(self):
        return self.status == ClockStatus.MET and self.breached_at is not None


class ClockMark(models.Model):
    """A threshold a clock passed, recorded exactly once (the unique constraint enforces it)."""

    # Covered by the (clock, threshold) unique index.
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="marks", db_index=False)
    threshold = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["clock", "threshold"]
        constraints = [models.UniqueConstraint(fields=["clock", "threshold"], name="clock_mark_once")]

    def __str__(self):
        return f"{self.clock_id}@{self.threshold}%"
