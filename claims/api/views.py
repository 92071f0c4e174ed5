"""API views: one per resource route, each method thin.

Every case is fetched through ``claims.selectors`` scoped to the caller's organisation, so
another organisation's reference is a 404 on every route; every write calls the same service as
the web UI, which decides who may do what.
"""

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.evidence import ALLOWED_TYPES, stored_file_response
from claims.models import Case
from claims.selectors import (
    case_events,
    case_evidence,
    case_get_for_user,
    case_messages,
    cases_visible_to,
    evidence_get_for_user,
)
from claims.services import case_create, case_transition, evidence_add, message_post
from claims.services.cases import cases_create_many
from claims.sla.selectors import clock_views_for_case
from members.errors import ApplicationError
from members.models import Organisation

from . import serializers as s
from .filters import CaseFilter
from .pagination import CasePagination, EventPagination, EvidencePagination, ThreadPagination

REFERENCE_PATTERN = r"[A-Z]{2}-[0-9]{4}-[0-9]{1,12}"
REFERENCE_PARAMETER = OpenApiParameter(
    "reference",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=f"^{REFERENCE_PATTERN}$",
    description=_("The case reference, e.g. CL-2026-000123."),
)
EVIDENCE_ID_PARAMETER = OpenApiParameter(
    "evidence_id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("Id of the evidence file.")
)
CASES_TAG = ["cases"]


class ApiMetadata(SimpleMetadata):
    """Answer OPTIONS with the endpoint's name and media types; the schema documents the fields."""

    def determine_actions(self, request, view):
        return {}


class ApiView(APIView):
    """What every endpoint shares: JSON whatever the Accept header says, and the user's language."""

    metadata_class = ApiMetadata

    def perform_content_negotiation(self, request, force=False):
        # The API speaks JSON only; a client asking for something else still gets JSON, not a 406.
        return super().perform_content_negotiation(request, force=True)

    def perform_authentication(self, request):
        super().perform_authentication(request)
        user = request.user
        # A token client sees messages in its user's language unless it asks for one itself.
        if user.is_authenticated and user.language and "HTTP_ACCEPT_LANGUAGE" not in request.META:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language


def _case_response(request, case_id: int) -> Response:
    """Answer with the case as the caller sees it now, freshly read with everything it shows."""
    case = s.CaseSerializer.eager(Case.objects.filter(pk=case_id)).get()
    return Response(s.CaseSerializer(case, context={"request": request}).data)


@extend_schema(tags=CASES_TAG)
class CaseCollectionView(ApiView, GenericAPIView):
    """The cases the caller's organisation may see, newest first; members file new ones here."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilter
    pagination_class = CasePagination

    def get_queryset(self):
        return s.CaseSerializer.eager(cases_visible_to(user=self.request.user))

    @extend_schema(operation_id="cases_list", summary=_("List cases"), responses=s.CaseSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            s.CaseSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="cases_create",
        summary=_("File a claim or inquiry"),
        request=s.CaseCreateInputSerializer,
        responses={201: s.CaseSerializer},
    )
    def post(self, request):
        serializer = s.CaseCreateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        slug = data.pop("respondent")
        try:
            respondent = Organisation.objects.get(slug=slug)
        except Organisation.DoesNotExist:
            raise ApplicationError(
                _("There is no organisation with this slug."),
                fields={"respondent": [_("Give the slug of a provider.")]},
            ) from None
        case = case_create(actor=request.user, respondent=respondent, **data)
        case = s.CaseSerializer.eager_new(case, filer=request.user, respondent=respondent)
        location = request.build_absolute_uri(
            reverse("api:case_detail", kwargs={"reference": case.reference})
        )
        body = s.CaseSerializer(case, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


@extend_schema(tags=CASES_TAG)
class CaseBulkCreateView(ApiView):
    """File many claims or inquiries in one request: all of them, or none and every error."""

    @extend_schema(
        operation_id="cases_bulk_create",
        summary=_("File many claims or inquiries at once"),
        request=s.CaseBulkCreateInputSerializer,
        responses={201: s.CaseBulkCreatedSerializer},
    )
    def post(self, request):
        serializer = s.CaseBulkCreateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        filings = [dict(item) for item in serializer.validated_data["cases"]]
        slugs = {filing["respondent"] for filing in filings}
        respondents = {org.slug: org for org in Organisation.objects.filter(slug__in=slugs)}
        unknown = {
            f"cases.{index}.respondent": [_("Give the slug of a provider.")]
            for index, filing in enumerate(filings)
            if filing["respondent"] not in respondents
        }
        if unknown:
            raise ApplicationError(_("There is no organisation with this slug."), fields=unknown)
        for filing in filings:
            filing["respondent"] = respondents[filing["respondent"]]
        cases = cases_create_many(actor=request.user, filings=filings)
        body = s.CaseBulkCreatedSerializer({"cases": cases}, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseDetailView(ApiView):
    """One case with its outputs, responses and the transitions the caller may take now."""

    @extend_schema(operation_id="cases_retrieve", summary=_("Read a case"), responses=s.CaseSerializer)
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        return _case_response(request, case.pk)


class CaseTransitionView(ApiView):
    """Take one transition of the case; the answer is the case as it is afterwards."""

    transition: str = ""
    input_serializer = s.EmptyInputSerializer

    def post(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        serializer = self.input_serializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        case_transition(
            case=case, action=self.transition, actor=request.user, payload=serializer.validated_data
        )
        return _case_response(request, case.pk)


TRANSITION_SUMMARIES = {
    "submit": _("Submit a draft (claimant)"),
    "acknowledge": _("Acknowledge a case (respondent)"),
    "request_info": _("Ask the claimant for information (respondent)"),
    "provide_info": _("Answer the provider's question (claimant)"),
    "respond": _("Give the substantive response: an outcome per output (respondent)"),
    "accept": _("Accept the response (claimant)"),
    "dispute": _("Dispute the response (claimant)"),
    "withdraw": _("Withdraw the case (claimant)"),
    "escalate": _("Escalate to the association (association)"),
    "close": _("Close an escalated case with an outcome (association)"),
}


def _transition_view(transition: str) -> type[CaseTransitionView]:
    """Build the view of one transition, documented with its own input."""

    @extend_schema(
        tags=CASES_TAG,
        operation_id=f"cases_{transition}",
        summary=TRANSITION_SUMMARIES[transition],
        parameters=[REFERENCE_PARAMETER],
        request=s.TRANSITION_INPUTS[transition],
        responses={200: s.CaseSerializer},
    )
    def post(self, request, reference):
        return CaseTransitionView.post(self, request, reference)

    name = f"Case{transition.title().replace('_', '')}View"
    attributes = {"transition": transition, "input_serializer": s.TRANSITION_INPUTS[transition], "post": post}
    return type(name, (CaseTransitionView,), attributes)


TRANSITION_VIEWS = {segment: _transition_view(name) for segment, name in s.TRANSITION_ACTIONS.items()}


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseMessagesView(ApiView, GenericAPIView):
    """The case thread, oldest first; either party may post while the case is open."""

    pagination_class = ThreadPagination

    @extend_schema(
        operation_id="cases_messages_list",
        summary=_("Read the thread"),
        responses=s.MessageSerializer(many=True),
    )
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        page = self.paginate_queryset(case_messages(case=case))
        return self.get_paginated_response(s.MessageSerializer(page, many=True).data)

    @extend_schema(
        operation_id="cases_messages_create",
        summary=_("Post a message to the thread"),
        request=s.MessageInputSerializer,
        responses={201: s.MessageSerializer},
    )
    def post(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        serializer = s.MessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = message_post(case=case, actor=request.user, body=serializer.validated_data["body"])
        message = case_messages(case=case).get(pk=message.pk)
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseEvidenceView(ApiView, GenericAPIView):
    """Evidence files: stored once by SHA-256, their type checked from their bytes."""

    pagination_class = EvidencePagination
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="cases_evidence_list",
        summary=_("List the case's evidence files"),
        responses=s.EvidenceSerializer(many=True),
    )
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        page = self.paginate_queryset(case_evidence(case=case))
        context = {"request": request, "reference": case.reference}
        return self.get_paginated_response(s.EvidenceSerializer(page, many=True, context=context).data)

    @extend_schema(
        operation_id="cases_evidence_create",
        summary=_("Upload an evidence file (multipart)"),
        request={"multipart/form-data": s.EvidenceInputSerializer},
        responses={201: s.EvidenceSerializer},
    )
    def post(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        serializer = s.EvidenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        output = None
        if data.get("output") is not None:
            output = case.outputs.filter(pk=data["output"]).first()
            if output is None:
                raise ApplicationError(
                    _("This output is not part of the case."),
                    fields={"output": [_("Choose an output of this case.")]},
                )
        evidence = evidence_add(
            case=case, actor=request.user, upload=data["file"], output=output, description=data["description"]
        )
        evidence = case_evidence(case=case).get(pk=evidence.pk)
        context = {"request": request, "reference": case.reference}
        return Response(s.EvidenceSerializer(evidence, context=context).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER, EVIDENCE_ID_PARAMETER])
class EvidenceDetailView(ApiView):
    """One evidence file's details."""

    @extend_schema(
        operation_id="cases_evidence_retrieve",
        summary=_("Read an evidence file's details"),
        responses=s.EvidenceSerializer,
    )
    def get(self, request, reference, evidence_id):
        evidence = evidence_get_for_user(user=request.user, reference=reference, evidence_id=evidence_id)
        context = {"request": request, "reference": reference}
        return Response(s.EvidenceSerializer(evidence, context=context).data)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER, EVIDENCE_ID_PARAMETER])
class EvidenceDownloadView(ApiView):
    """The bytes of one evidence file, as uploaded."""

    @extend_schema(
        operation_id="cases_evidence_download",
        summary=_("Download an evidence file"),
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=_("The file's bytes."))
            for media_type in sorted(ALLOWED_TYPES)
        },
    )
    def get(self, request, reference, evidence_id):
        evidence = evidence_get_for_user(user=request.user, reference=reference, evidence_id=evidence_id)
        return stored_file_response(evidence)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseEventsView(ApiView, GenericAPIView):
    """The append-only timeline; each event carries the SHA-256 of the one before it."""

    pagination_class = EventPagination

    @extend_schema(
        operation_id="cases_events_list",
        summary=_("Read the hash-chained timeline"),
        responses=s.EventSerializer(many=True),
    )
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        page = self.paginate_queryset(case_events(case=case))
        return self.get_paginated_response(s.EventSerializer(page, many=True).data)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseClocksView(ApiView):
    """The case's SLA clocks: due time, time remaining and share of the target used."""

    @extend_schema(
        operation_id="cases_clocks_list",
        summary=_("Read the SLA clocks"),
        responses=s.ClockSerializer(many=True),
    )
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        return Response(s.ClockSerializer(clock_views_for_case(case=case), many=True).data)
