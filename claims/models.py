import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from members.models import Organisation, Role, Work

MEMBER_ROLES = (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL)
PROVIDER_ROLES = (Role.PROVIDER_ADMIN, Role.PROVIDER_AGENT)
ASSOCIATION_ROLES = (Role.ASSOCIATION_ADMIN, Role.ASSOCIATION_ANALYST)


class CaseKind(models.TextChoices):
    CLAIM = "claim", _("Claim")
    INQUIRY = "inquiry", _("Inquiry")


REFERENCE_PREFIX = {CaseKind.CLAIM: "CL", CaseKind.INQUIRY: "IQ"}


class CaseState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INFO_REQUESTED = "info_requested", _("Information requested")
    RESPONDED = "responded", _("Responded")
    DISPUTED = "disputed", _("Disputed")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATES = (CaseState.RESOLVED, CaseState.WITHDRAWN)
OPEN_STATES = tuple(s for s in CaseState if s not in CLOSED_STATES)


class LegalBasis(models.TextChoices):
    REPRODUCTION = "reproduction", _("Reproduction")
    ADAPTATION = "adaptation", _("Adaptation")
    CHARACTER_LIKENESS = "character_likeness", _("Character likeness")
    TRADEMARK = "trademark", _("Trademark")
    UNFAIR_COMPETITION = "unfair_competition", _("Unfair competition")
    OTHER = "other", _("Other")


class Remedy(models.TextChoices):
    REMOVE_OUTPUT = "remove_output", _("Remove the output")
    BLOCK_PROMPTS = "block_prompts", _("Block prompts or characters")
    EXCLUDE_TRAINING = "exclude_training", _("Exclude works from training")
    DISCLOSE_TRAINING = "disclose_training", _("Disclose training use")
    COMPENSATION = "compensation", _("Compensation")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class CloseOutcome(models.TextChoices):
    UPHELD = "upheld", _("Claim upheld")
    PARTIALLY_UPHELD = "partially_upheld", _("Partially upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")
    SETTLED = "settled", _("Settled between the parties")
    OTHER = "other", _("Other")


class DisputeReason(models.TextChoices):
    IGNORES_OUTPUTS = "ignores_outputs", _("Ignores the outputs cited")
    GENERIC_TEXT = "generic_text", _("Generic text")
    NO_ACTION = "no_action", _("No action")
    NO_RATIONALE = "no_rationale", _("No rationale")
    NO_CONTACT = "no_contact", _("No contact")
    DISAGREE = "disagree", _("Disagree with the outcome")


# A dispute naming any of these says the response was not sincere, not merely unwelcome.
INSINCERITY_REASONS = tuple(reason for reason in DisputeReason if reason != DisputeReason.DISAGREE)


class Sincerity(models.TextChoices):
    UNREVIEWED = "unreviewed", _("Not reviewed")
    CHALLENGED = "challenged", _("Challenged as insincere")
    SINCERE = "sincere", _("Judged sincere")
    INSINCERE = "insincere", _("Judged insincere")


ADJUDICATED = (Sincerity.SINCERE, Sincerity.INSINCERE)


def _is_claimant(case, user):
    return user is not None and user.role in MEMBER_ROLES and user.organisation_id == case.claimant_id


def _is_respondent(case, user):
    return user is not None and user.role in PROVIDER_ROLES and user.organisation_id == case.respondent_id


def _is_association(case, user):
    return user is not None and user.role in ASSOCIATION_ROLES


def _is_system(case, user):
    return user is None


def _association_or_system(case, user):
    return user is None or _is_association(case, user)


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(state__in=CLOSED_STATES)


class Case(FSMModelMixin, models.Model):
    """A claim or an inquiry from a member to a provider.

    ``state`` is protected: only the transition methods below change it, and only the
    transition service (``claims.services.case_transition``) calls them, with the row locked.
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=8, choices=CaseKind.choices, default=CaseKind.CLAIM)
    state = FSMField(_("state"), default=CaseState.DRAFT, choices=CaseState.choices, protected=True)
    claimant = models.ForeignKey(
        Organisation, verbose_name=_("claimant"), on_delete=models.PROTECT, related_name="cases_filed"
    )
    respondent = models.ForeignKey(
        Organisation, verbose_name=_("respondent"), on_delete=models.PROTECT, related_name="cases_received"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"))
    legal_basis = models.CharField(
        _("legal basis"), max_length=32, choices=LegalBasis.choices, default=LegalBasis.OTHER
    )
    remedies = models.JSONField(_("remedies asked"), default=list, blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    works = models.ManyToManyField(Work, verbose_name=_("works concerned"), blank=True, related_name="cases")
    # Where ``provide_info`` returns to: the state ``request_info`` came from.
    resume_state = models.CharField(max_length=16, choices=CaseState.choices, blank=True, editable=False)
    dispute_count = models.PositiveSmallIntegerField(default=0, editable=False)
    close_outcome = models.CharField(
        _("outcome"), max_length=20, choices=CloseOutcome.choices, blank=True, editable=False
    )
    close_note = models.TextField(_("closing note"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["claimant", "state", "-created_at"], name="case_claimant_state"),
            models.Index(fields=["respondent", "state", "-created_at"], name="case_respondent_state"),
            models.Index(fields=["state", "-created_at"], name="case_state_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CaseKind.values), name="case_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=CaseState.values), name="case_state_valid"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="case_priority_valid"),
            models.CheckConstraint(condition=~Q(claimant=models.F("respondent")), name="case_parties_differ"),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        return reverse("claims:case_detail", kwargs={"reference": self.reference})

    @property
    def is_open(self):
        return self.state not in CLOSED_STATES

    # --- Transitions: the one table of who may move a case from where to where. ---
    # Each method only changes ``state``; the service writes the event and the side effects.

    @transition(field=state, source=CaseState.DRAFT, target=CaseState.SUBMITTED, permission=_is_claimant)
    def submit(self):
        pass

    @transition(
        field=state, source=CaseState.SUBMITTED, target=CaseState.ACKNOWLEDGED, permission=_is_respondent
    )
    def acknowledge(self):
        pass

    @transition(
        field=state,
        source=[CaseState.SUBMITTED, CaseState.ACKNOWLEDGED, CaseState.DISPUTED],
        target=CaseState.INFO_REQUESTED,
        permission=_is_respondent,
    )
    def request_info(self):
        pass

    @transition(
        field=state,
        source=CaseState.INFO_REQUESTED,
        target=RETURN_VALUE(CaseState.ACKNOWLEDGED, CaseState.DISPUTED),
        permission=_is_claimant,
    )
    def provide_info(self):
        # Back to where the provider asked from (a question straight after filing acknowledged it).
        return self.resume_state or CaseState.ACKNOWLEDGED

    @transition(
        field=state,
        source=[CaseState.SUBMITTED, CaseState.ACKNOWLEDGED, CaseState.DISPUTED],
        target=CaseState.RESPONDED,
        permission=_is_respondent,
    )
    def respond(self):
        pass

    @transition(field=state, source=CaseState.RESPONDED, target=CaseState.RESOLVED, permission=_is_claimant)
    def accept(self):
        pass

    @transition(field=state, source=CaseState.RESPONDED, target=CaseState.DISPUTED, permission=_is_claimant)
    def dispute(self):
        pass

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=CaseState.WITHDRAWN,
        permission=_is_claimant,
    )
    def withdraw(self):
        pass

    @transition(
        field=state,
        source=[s for s in OPEN_STATES if s not in (CaseState.DRAFT, CaseState.ESCALATED)],
        target=CaseState.ESCALATED,
        permission=_association_or_system,
    )
    def escalate(self):
        pass

    @transition(
        field=state, source=CaseState.ESCALATED, target=CaseState.RESOLVED, permission=_is_association
    )
    def close(self):
        pass

    @transition(field=state, source=CaseState.RESPONDED, target=CaseState.RESOLVED, permission=_is_system)
    def accept_by_default(self):
        pass


class ReferenceCounter(models.Model):
    """The last reference number handed out per case kind and year."""

    kind = models.CharField(max_length=8, choices=CaseKind.choices)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="reference_counter_unique")]

    def __str__(self):
        return f"{self.kind}-{self.year}: {self.last_value}"


class Output(models.Model):
    """One generated artefact that a case is about."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="outputs")
    position = models.PositiveIntegerField(_("number"), default=1)
    product = models.CharField(_("product"), max_length=200)
    model_name = models.CharField(_("model"), max_length=200, blank=True)
    url = models.URLField(_("URL or share id"), max_length=1000, blank=True)
    share_id = models.CharField(_("share id"), max_length=200, blank=True)
    generation_id = models.CharField(_("generation id"), max_length=200, blank=True)
    seen_at = models.DateTimeField(_("seen at"))
    prompt = models.TextField(_("prompt"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("output")
        verbose_name_plural = _("outputs")
        ordering = ["case", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="output_position_unique"),
            models.CheckConstraint(condition=~Q(url="") | ~Q(share_id=""), name="output_has_locator"),
        ]

    def __str__(self):
        return f"#{self.position} {self.product} {self.url or self.share_id}"


def evidence_storage_name(sha256: str) -> str:
    """Return where the file with this SHA-256 is stored: by content, so identical bytes share it."""
    return f"evidence/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def evidence_path(instance, filename):
    return evidence_storage_name(instance.sha256)


class Evidence(models.Model):
    """A file attached to a case or one of its outputs, stored by content and never changed."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="evidence")
    output = models.ForeignKey(
        Output,
        verbose_name=_("output"),
        on_delete=models.PROTECT,
        related_name="evidence",
        null=True,
        blank=True,
    )
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    original_name = models.CharField(_("file name"), max_length=255)
    description = models.CharField(_("description"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="evidence_not_empty"),
        ]

    def __str__(self):
        return f"{self.original_name} ({self.sha256[:12]})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Evidence is never modified after upload.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Evidence is never deleted: the timeline refers to it.")


class Message(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.case_id}: {self.body[:40]}"


class Outcome(models.TextChoices):
    REMOVED = "removed", _("Removed")
    BLOCKED = "blocked", _("Blocked")
    NO_ACTION = "no_action", _("No action")
    INVESTIGATING = "investigating", _("Investigating")


class Response(models.Model):
    """The provider's substantive response: an outcome for every output, and a named contact."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="responses")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("summary"))
    contact_name = models.CharField(_("contact name"), max_length=200)
    contact_email = models.EmailField(_("contact email"))
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    # Sincerity (claims/sincerity/): written by the respond and dispute transitions and by
    # ``response_adjudicate``; nothing else changes them.
    met_clock = models.ForeignKey(
        "claims.Clock", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    similarity = models.FloatField(_("similarity"), null=True, blank=True, editable=False)
    similar_to = models.ForeignKey(
        "self",
        verbose_name=_("similar to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    templated = models.BooleanField(_("templated"), default=False, editable=False)
    sincerity = models.CharField(
        _("sincerity"), max_length=12, choices=Sincerity.choices, default=Sincerity.UNREVIEWED, editable=False
    )
    dispute_reasons = models.JSONField(_("dispute reasons"), default=list, blank=True, editable=False)
    dispute_note = models.TextField(_("dispute explanation"), blank=True, editable=False)
    disputed_at = models.DateTimeField(_("disputed"), null=True, blank=True, editable=False)
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("adjudicated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    adjudicated_at = models.DateTimeField(_("adjudicated"), null=True, blank=True, editable=False)
    adjudication_note = models.TextField(_("adjudication note"), blank=True, editable=False)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["created_at", "id"]
        indexes = [
            # The association's queue of responses awaiting adjudication.
            models.Index(
                fields=["disputed_at"],
                condition=Q(sincerity="challenged"),
                name="response_awaiting_verdict",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sincerity__in=Sincerity.values), name="response_sincerity_valid"
            ),
            models.CheckConstraint(
                condition=Q(similarity__isnull=True) | Q(similarity__gte=0, similarity__lte=1),
                name="response_similarity_range",
            ),
            # A verdict always says who gave it and when; an insincere one always says why.
            models.CheckConstraint(
                condition=Q(
                    sincerity__in=ADJUDICATED, adjudicated_at__isnull=False, adjudicated_by__isnull=False
                )
                | Q(~Q(sincerity__in=ADJUDICATED), adjudicated_at__isnull=True),
                name="response_verdict_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(sincerity=Sincerity.INSINCERE) | ~Q(adjudication_note=""),
                name="response_insincere_has_note",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} response {self.pk}"


class ResponseItem(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="items")
    output = models.ForeignKey(Output, verbose_name=_("output"), on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    rationale = models.TextField(_("rationale"))
    measures = models.TextField(_("measures taken"), blank=True)

    class Meta:
        ordering = ["output__position"]
        constraints = [
            models.UniqueConstraint(fields=["response", "output"], name="response_item_unique"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="response_outcome_valid"),
        ]

    def __str__(self):
        return f"{self.output_id}: {self.outcome}"


def event_canonical_payload(
    *, case_id, seq, actor_id, action, from_state, to_state, data, created_at, prev_hash
) -> bytes:
    """Return the canonical bytes of one timeline event, which its hash covers."""
    return json.dumps(
        {
            "case": case_id,
            "seq": seq,
            "actor": actor_id,
            "action": action,
            "from": from_state,
            "to": to_state,
            "data": data,
            "at": created_at.isoformat(),
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def event_hash(**fields) -> str:
    """Return the SHA-256 (hex) of an event given by its fields (see event_canonical_payload)."""
    return hashlib.sha256(event_canonical_payload(**fields)).hexdigest()


class CaseEvent(models.Model):
    """One entry in a case's append-only, hash-chained timeline."""

    # The (case, seq) unique index serves every lookup by case; a second index would only slow inserts.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]

    def __str__(self):
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Case events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Case events are append-only.")

    def canonical_payload(self):
        """Return the bytes the hash covers: every field that states what happened."""
        return event_canonical_payload(
            case_id=self.case_id,
            seq=self.seq,
            actor_id=self.actor_id,
            action=self.action,
            from_state=self.from_state,
            to_state=self.to_state,
            data=self.data,
            created_at=self.created_at,
            prev_hash=self.prev_hash,
        )

    def compute_hash(self):
        return hashlib.sha256(self.canonical_payload()).hexdigest()


# The SLA models live in their own module; importing them here registers them with the app.
from claims.dashboards.models import DashboardRefresh, DashboardRollup  # noqa: E402, F401
from claims.integrity.models import CaseLink, EvidenceFingerprint, EvidenceScan  # noqa: E402, F401
from claims.sincerity.models import ResponseBand  # noqa: E402, F401
from claims.sla.models import Clock, ClockMark, ClosureDay, SlaPolicy  # noqa: E402, F401
