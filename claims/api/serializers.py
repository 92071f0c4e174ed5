"""Small input and output serializers, one pair per operation.

Input serializers check types and shape only and refuse fields they do not know; the business
rules (who may do what, when, and what makes a response substantive) stay in the services.
Output serializers read what the selectors fetched and query nothing themselves.
"""

import copy
from collections.abc import Mapping

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from claims.models import (
    Case,
    CaseEvent,
    CaseKind,
    CloseOutcome,
    DisputeReason,
    Evidence,
    LegalBasis,
    Message,
    Outcome,
    Output,
    Priority,
    Remedy,
    Response,
    ResponseItem,
    Sincerity,
)
from claims.services.cases import MESSAGE_MAX_LENGTH, related_known
from claims.services.transitions import actions_available
from claims.sincerity.selectors import similar_response_link
from claims.sla.models import ClockKind, TimeBasis
from members.models import OrganisationKind, Work

from .errors import UNKNOWN_FIELD_CODE

# The transition endpoints, by URL segment ("request-info") and service action ("request_info").
TRANSITION_ACTIONS = {
    name.replace("_", "-"): name
    for name in (
        "submit",
        "acknowledge",
        "request_info",
        "provide_info",
        "respond",
        "accept",
        "dispute",
        "withdraw",
        "escalate",
        "close",
    )
}
CLOCK_STATES = ("running", "paused", "warning", "breached", "met", "met_late", "stopped")


_FIELD_PROTOTYPES: dict[tuple[type, str | None], dict] = {}


def field_copy(field: serializers.Field) -> serializers.Field:
    """Return an unbound copy of an unbound field, as ``copy.deepcopy`` would, for much less.

    DRF gives every serializer instance a deep copy of its declared fields, which rebuilds each
    field from its arguments and costs more than rendering a case. Fields keep no state but
    their binding (name, parent, source), so a shallow copy that has not been bound yet will do;
    a field holding a child (a list of serializers, a ListField, a many related field) gets a
    copy of the child, whose parent is the copy. A nested serializer builds its own fields, the
    same way, when first read.
    """
    clone = copy.copy(field)
    for attribute in ("child", "child_relation"):  # lists and ListFields; many related fields
        child = getattr(field, attribute, None)
        if isinstance(child, serializers.Field):
            # The parent bound the child when it was built; only the parent itself is new.
            child = field_copy(child)
            child.parent = clone
            setattr(clone, attribute, child)
    return clone


class PrototypeFieldsMixin:
    """Build a serializer's fields once per class and language; give each instance cheap copies.

    The language is part of the key because labels derived from the model are translated.
    """

    def get_fields(self):
        key = (type(self), get_language())
        prototypes = _FIELD_PROTOTYPES.get(key)
        if prototypes is None:
            prototypes = _FIELD_PROTOTYPES[key] = super().get_fields()
        return {name: field_copy(field) for name, field in prototypes.items()}


class CheapSerializer(PrototypeFieldsMixin, serializers.Serializer):
    """A plain Serializer whose instances copy their fields cheaply (see ``field_copy``)."""


# --- Input ------------------------------------------------------------------------------------


class JsonTypeMixin:
    """Refuse a JSON value of the wrong type instead of coercing it.

    DRF turns ``6.7e16`` into the text "6.7e16", ``"12"`` into the number 12 and ``1`` into
    true; the schema promises the type, so anything else is a 400.
    """

    json_types: tuple[type, ...] = ()
    default_error_messages = {"wrong_json_type": _("Not a valid value of this type.")}

    def to_internal_value(self, data):
        # bool is an int in Python, but never a number (or text) in JSON.
        if not isinstance(data, self.json_types) or (isinstance(data, bool) and bool not in self.json_types):
            self.fail("wrong_json_type")
        return super().to_internal_value(data)


class StrictCharField(JsonTypeMixin, serializers.CharField):
    json_types = (str,)
    default_error_messages = {"wrong_json_type": _("Not a valid string.")}


class StrictSlugField(JsonTypeMixin, serializers.SlugField):
    json_types = (str,)
    default_error_messages = {"wrong_json_type": _("Not a valid string.")}


class StrictIntegerField(JsonTypeMixin, serializers.IntegerField):
    json_types = (int,)
    default_error_messages = {"wrong_json_type": _("A valid integer is required.")}


class StrictBooleanField(JsonTypeMixin, serializers.BooleanField):
    json_types = (bool,)
    default_error_messages = {"wrong_json_type": _("Must be true or false.")}


class StrictInputSerializer(CheapSerializer):
    """Refuse a body with fields this operation does not know, naming them all.

    A misspelt optional field ("priorty") would otherwise be dropped in silence and the case
    filed with the default.
    """

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {
                str(key): [ErrorDetail(str(_("Unknown field.")), code=UNKNOWN_FIELD_CODE)]
                for key in data
                if key not in known
            }
        # The known fields are still checked, so that one answer names every problem at every level.
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def _text(model, field_name, **kwargs):
    """Return a CharField as long as the model column allows."""
    return StrictCharField(max_length=model._meta.get_field(field_name).max_length, **kwargs)


def _optional_text(model=None, field_name=None, **kwargs):
    if model is not None:
        return _text(model, field_name, required=False, allow_blank=True, default="", **kwargs)
    return StrictCharField(required=False, allow_blank=True, default="", **kwargs)


class OutputInputSerializer(StrictInputSerializer):
    product = _text(Output, "product", help_text=_("The AI product the output came from."))
    model_name = _optional_text(Output, "model_name")
    url = _optional_text(Output, "url", help_text=_("An http(s) URL; give this or share_id."))
    share_id = _optional_text(Output, "share_id")
    generation_id = _optional_text(Output, "generation_id")
    seen_at = serializers.DateTimeField(help_text=_("When the output was seen (ISO 8601)."))
    prompt = _optional_text()
    notes = _optional_text()


class OwnWorkField(JsonTypeMixin, serializers.PrimaryKeyRelatedField):
    """A work of the requesting user's organisation; any other id is "does not exist"."""

    json_types = (int,)

    def get_queryset(self):
        user = self.context["request"].user
        return Work.objects.filter(owner_id=user.organisation_id)


class CaseCreateInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    respondent = StrictSlugField(max_length=64, help_text=_("Slug of the provider the case is against."))
    title = _text(Case, "title")
    description = StrictCharField()
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices, default=LegalBasis.OTHER)
    remedies = serializers.ListField(child=serializers.ChoiceField(choices=Remedy.choices), default=list)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    works = OwnWorkField(many=True, queryset=Work.objects.all(), default=list)
    outputs = OutputInputSerializer(many=True, default=list)
    submit = StrictBooleanField(
        default=True, help_text=_("File at once (true, the default) or keep as a draft (false).")
    )


class CaseBulkCreateInputSerializer(StrictInputSerializer):
    cases = CaseCreateInputSerializer(
        many=True, allow_empty=False, help_text=_("The filings, each as for POST /api/v1/cases/.")
    )

    def validate_cases(self, value):
        limit = settings.API_BULK_FILING_MAX_CASES
        if len(value) > limit:
            raise serializers.ValidationError(_("At most %(n)d cases per request.") % {"n": limit})
        return value


class NoteInputSerializer(StrictInputSerializer):
    note = _optional_text(help_text=_("Optional; posted to the thread."))


class EmptyInputSerializer(StrictInputSerializer):
    pass


class QuestionInputSerializer(StrictInputSerializer):
    question = StrictCharField()


class AnswerInputSerializer(StrictInputSerializer):
    answer = StrictCharField()


class ResponseItemInputSerializer(StrictInputSerializer):
    output = StrictIntegerField(min_value=1, max_value=2**63 - 1, help_text=_("Id of the output."))
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    rationale = StrictCharField()
    measures = _optional_text()


class RespondInputSerializer(StrictInputSerializer):
    summary = StrictCharField()
    contact_name = _text(Response, "contact_name")
    contact_email = _text(Response, "contact_email")
    items = ResponseItemInputSerializer(many=True, help_text=_("One outcome for every output of the case."))


class DisputeInputSerializer(StrictInputSerializer):
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=DisputeReason.choices), min_length=1
    )
    note = StrictCharField()


class WithdrawInputSerializer(StrictInputSerializer):
    reason = _optional_text()


class EscalateInputSerializer(StrictInputSerializer):
    reason = StrictCharField()


class CloseInputSerializer(StrictInputSerializer):
    outcome = serializers.ChoiceField(choices=CloseOutcome.choices)
    note = StrictCharField()


TRANSITION_INPUTS = {
    "submit": EmptyInputSerializer,
    "acknowledge": NoteInputSerializer,
    "request_info": QuestionInputSerializer,
    "provide_info": AnswerInputSerializer,
    "respond": RespondInputSerializer,
    "accept": NoteInputSerializer,
    "dispute": DisputeInputSerializer,
    "withdraw": WithdrawInputSerializer,
    "escalate": EscalateInputSerializer,
    "close": CloseInputSerializer,
}


class MessageInputSerializer(StrictInputSerializer):
    body = StrictCharField(max_length=MESSAGE_MAX_LENGTH)


class EvidenceInputSerializer(StrictInputSerializer):
    file = serializers.FileField(help_text=_("The file; its type is read from its bytes."))
    output = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Id of the output the file shows, if any."),
    )
    description = _optional_text(Evidence, "description")


# --- Output -----------------------------------------------------------------------------------


class ReadModelSerializer(PrototypeFieldsMixin, serializers.ModelSerializer):
    """A read-only ModelSerializer that derives its fields from the model once per class and language.

    ModelSerializer derives every field from the model on every instance; that, and the deep
    copy DRF makes of them, cost more than the rest of rendering a case.
    """


class OrganisationRefSerializer(CheapSerializer):
    slug = serializers.SlugField(read_only=True)
    kind = serializers.ChoiceField(choices=OrganisationKind.choices, read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class PersonRefSerializer(CheapSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    organisation = serializers.SlugField(source="organisation.slug", read_only=True, allow_null=True)


class WorkRefSerializer(ReadModelSerializer):
    class Meta:
        model = Work
        fields = ["id", "kind", "title_ja", "title_en"]
        read_only_fields = fields


class OutputSerializer(ReadModelSerializer):
    class Meta:
        model = Output
        fields = [
            "id",
            "position",
            "product",
            "model_name",
            "url",
            "share_id",
            "generation_id",
            "seen_at",
            "prompt",
            "notes",
        ]
        read_only_fields = fields


class ResponseItemSerializer(ReadModelSerializer):
    output = serializers.IntegerField(source="output_id", read_only=True)

    class Meta:
        model = ResponseItem
        fields = ["output", "outcome", "rationale", "measures"]
        read_only_fields = fields


class SimilarResponseSerializer(CheapSerializer):
    case = serializers.CharField(read_only=True, help_text=_("Reference of the case it answered."))
    response = serializers.IntegerField(read_only=True, help_text=_("Id of that response."))


class ResponseSerializer(ReadModelSerializer):
    """A response with its sincerity: similarity to the provider's earlier answers, challenge, verdict.

    Reads ``similar_to.case``: select it with the responses (``CaseSerializer.eager`` does).
    """

    author = PersonRefSerializer(read_only=True)
    items = ResponseItemSerializer(many=True, read_only=True)
    similarity = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Similarity (0-1, character 3-grams) to the most similar of the provider's earlier responses "
            "to other cases; null when none is close."
        ),
    )
    templated = serializers.BooleanField(
        read_only=True, help_text=_("True when the similarity reaches the templated threshold.")
    )
    similar_to = serializers.SerializerMethodField(
        help_text=_("The similar earlier response, only when the caller may see its case.")
    )
    sincerity = serializers.ChoiceField(choices=Sincerity.choices, read_only=True)
    dispute_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=DisputeReason.choices),
        read_only=True,
        help_text=_("The reasons the claimant gave when disputing this response; empty if not disputed."),
    )
    adjudicated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    adjudication_note = serializers.CharField(read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "author",
            "summary",
            "contact_name",
            "contact_email",
            "created_at",
            "items",
            "similarity",
            "templated",
            "similar_to",
            "sincerity",
            "dispute_reasons",
            "adjudicated_at",
            "adjudication_note",
        ]
        read_only_fields = fields

    @extend_schema_field(SimilarResponseSerializer(allow_null=True))
    def get_similar_to(self, response) -> dict | None:
        link = similar_response_link(user=self.context["request"].user, response=response)
        return None if link is None else {"case": link[0], "response": link[1]}


class AdjudicateInputSerializer(StrictInputSerializer):
    verdict = serializers.ChoiceField(choices=[Sincerity.SINCERE, Sincerity.INSINCERE])
    note = _optional_text(help_text=_("Required for a verdict of insincere."))


class CaseSerializer(ReadModelSerializer):
    """A case as the caller may see it, with the actions the caller may take on it now."""

    claimant = OrganisationRefSerializer(read_only=True)
    respondent = OrganisationRefSerializer(read_only=True)
    filed_by = PersonRefSerializer(read_only=True)
    remedies = serializers.ListField(child=serializers.ChoiceField(choices=Remedy.choices), read_only=True)
    works = WorkRefSerializer(many=True, read_only=True)
    close_outcome = serializers.ChoiceField(
        choices=CloseOutcome.choices, allow_blank=True, read_only=True, help_text=_("Blank until closed.")
    )
    outputs = OutputSerializer(many=True, read_only=True)
    responses = ResponseSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "reference",
            "kind",
            "state",
            "title",
            "description",
            "legal_basis",
            "remedies",
            "priority",
            "claimant",
            "respondent",
            "filed_by",
            "works",
            "outputs",
            "responses",
            "close_outcome",
            "close_note",
            "created_at",
            "submitted_at",
            "closed_at",
            "updated_at",
            "actions",
        ]
        read_only_fields = fields

    @staticmethod
    def _prefetches(*, works=True, responses=True) -> list[Prefetch]:
        items = ResponseItem.objects.order_by("output__position")
        response_rows = (
            Response.objects.select_related("author__organisation", "similar_to__case")
            .prefetch_related(Prefetch("items", queryset=items))
            .order_by("created_at", "id")
        )
        # An empty queryset (none()) fills the cache without asking the database.
        return [
            Prefetch("outputs", queryset=Output.objects.order_by("position")),
            Prefetch("works", queryset=Work.objects.order_by("id") if works else Work.objects.none()),
            Prefetch("responses", queryset=response_rows if responses else Response.objects.none()),
        ]

    @classmethod
    def eager(cls, queryset):
        """Fetch with the cases everything this serializer shows: five queries for any number of cases."""
        return queryset.select_related("claimant", "respondent", "filed_by__organisation").prefetch_related(
            *cls._prefetches()
        )

    @classmethod
    def eager_new(cls, case, *, filer, respondent):
        """Load what a case filed a moment ago by ``filer`` shows, reading only what is not at hand.

        Its parties and filer are in memory and it has no response yet; the filing service
        leaves its outputs and works in memory too, so usually nothing is read.
        """
        case.claimant, case.respondent, case.filed_by = filer.organisation, respondent, filer
        related_known(case, "responses", [])
        if not {"outputs", "works"} <= getattr(case, "_prefetched_objects_cache", {}).keys():
            prefetch_related_objects([case], *cls._prefetches(responses=False))
        return case

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=list(TRANSITION_ACTIONS)))
    )
    def get_actions(self, case) -> list[str]:
        """Name the transition endpoints the caller may POST to now."""
        user = self.context["request"].user
        return [action.name.replace("_", "-") for action in actions_available(case=case, user=user)]


class CreatedOutputSerializer(ReadModelSerializer):
    class Meta:
        model = Output
        fields = ["id", "position"]
        read_only_fields = fields


class CreatedCaseSerializer(ReadModelSerializer):
    """A case just filed in bulk: enough to find it again and to attach evidence to its outputs."""

    outputs = CreatedOutputSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["reference", "kind", "state", "created_at", "submitted_at", "outputs", "url"]
        read_only_fields = fields

    def get_url(self, case) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:case_detail", kwargs={"reference": case.reference})
        )


class CaseBulkCreatedSerializer(CheapSerializer):
    cases = CreatedCaseSerializer(many=True, read_only=True)


class MessageSerializer(ReadModelSerializer):
    author = PersonRefSerializer(read_only=True)

    class Meta:
        model = Message
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields


class EvidenceSerializer(ReadModelSerializer):
    output = serializers.IntegerField(source="output_id", read_only=True, allow_null=True)
    uploaded_by = PersonRefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "output",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, evidence) -> str:
        # The view passes the case's reference: reading evidence.case would cost a query per file.
        path = reverse(
            "api:evidence_download",
            kwargs={"reference": self.context["reference"], "evidence_id": evidence.pk},
        )
        return self.context["request"].build_absolute_uri(path)


class EventSerializer(ReadModelSerializer):
    actor = PersonRefSerializer(read_only=True, allow_null=True, help_text=_("Null for the system."))
    data = serializers.JSONField(read_only=True)

    class Meta:
        model = CaseEvent
        fields = [
            "seq",
            "action",
            "actor",
            "from_state",
            "to_state",
            "data",
            "created_at",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ClockSerializer(CheapSerializer):
    """One SLA clock as ``claims.sla.selectors.clock_views`` shows it."""

    kind = serializers.ChoiceField(source="clock.kind", choices=ClockKind.choices, read_only=True)
    label = serializers.CharField(source="kind_label", read_only=True)
    state = serializers.ChoiceField(choices=[(state, state) for state in CLOCK_STATES], read_only=True)
    basis = serializers.ChoiceField(source="clock.basis", choices=TimeBasis.choices, read_only=True)
    target_seconds = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(source="clock.started_at", read_only=True)
    due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("Only while running: a paused clock's due time moves.")
    )
    remaining_seconds = serializers.SerializerMethodField(
        help_text=_("Counted time left (business or calendar); negative once overdue; null when ended.")
    )
    share_elapsed = serializers.FloatField(
        read_only=True, help_text=_("Share of the target used: 1.0 is due.")
    )
    breached_at = serializers.DateTimeField(source="clock.breached_at", read_only=True, allow_null=True)
    stopped_at = serializers.DateTimeField(source="clock.stopped_at", read_only=True, allow_null=True)

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_target_seconds(self, view) -> float:
        return view.clock.target.total_seconds()

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_remaining_seconds(self, view) -> float | None:
        return None if view.remaining is None else view.remaining.total_seconds()


# --- Errors (documentation of the shape ``claims.api.errors`` produces) ------------------------


class ErrorDetailSerializer(CheapSerializer):
    code = serializers.CharField(read_only=True, help_text=_("Stable machine-readable identifier."))
    message = serializers.CharField(read_only=True, help_text=_("For people, in the user's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        read_only=True,
        help_text=_(
            'Messages per field; nested fields are dotted ("outputs.0.url"), "__all__" for the whole.'
        ),
    )


class ErrorSerializer(CheapSerializer):
    error = ErrorDetailSerializer(read_only=True)
