"""API views of case links and of the evidence bundle (routes in claims/api/urls.py)."""

import logging

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from claims.api.views import CASES_TAG, REFERENCE_PARAMETER, ApiView
from claims.selectors import case_get_for_user

from .bundle import bundle_build, bundle_filename
from .models import LinkKind
from .selectors import case_links_for

logger = logging.getLogger(__name__)


class LinkedCaseSerializer(serializers.Serializer):
    reference = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    claimant = serializers.SlugField(source="claimant.slug", read_only=True)
    respondent = serializers.SlugField(source="respondent.slug", read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, case) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:case_detail", kwargs={"reference": case.reference})
        )


class LinkEvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)


class CaseLinkSerializer(serializers.Serializer):
    """One link of the case; ``other_case`` is null when that case is another member's."""

    kind = serializers.ChoiceField(choices=LinkKind.choices, read_only=True)
    distance = serializers.IntegerField(
        read_only=True,
        help_text=_("Differing bits of the 64-bit perceptual hashes (median over matched frames)."),
    )
    frames_matched = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    evidence = LinkEvidenceSerializer(read_only=True, help_text=_("This case's file that matched."))
    other_case = LinkedCaseSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("Null when the other case is another member's: only its existence is shown."),
    )


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseLinksView(ApiView):
    """Other cases whose evidence shows the same output (near-duplicate images or video frames)."""

    @extend_schema(
        operation_id="cases_links_list",
        summary=_("Read the cases linked by near-duplicate evidence"),
        responses=CaseLinkSerializer(many=True),
    )
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        links = case_links_for(user=request.user, case=case)
        return Response(CaseLinkSerializer(links, many=True, context={"request": request}).data)


def bundle_response(*, case, user) -> FileResponse:
    """Answer with the case's evidence bundle as a download (for the page and the API)."""
    bundle = bundle_build(case=case)
    logger.info("Evidence bundle of %s exported by user %s", case.reference, user.pk)
    response = FileResponse(
        bundle, as_attachment=True, filename=bundle_filename(case), content_type="application/zip"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER])
class CaseBundleView(ApiView):
    """The case's evidence bundle: timeline, files and manifest of SHA-256 hashes, in one ZIP."""

    @extend_schema(
        operation_id="cases_bundle_download",
        summary=_("Download the evidence bundle (ZIP)"),
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=_(
                    "timeline.json (the hash-chained events), evidence/<sha256>.<ext> (every file) and "
                    "manifest.json (path, size and SHA-256 of each); check it with "
                    "`python manage.py verify_bundle FILE`."
                ),
            )
        },
    )
    def get(self, request, reference):
        case = case_get_for_user(user=request.user, reference=reference)
        return bundle_response(case=case, user=request.user)
