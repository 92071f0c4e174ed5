"""Registry endpoints: works, the grant ledger, the check, and each provider's feed.

Objects are fetched through ``members.registry.selectors`` scoped to the caller's organisation
(another organisation's work or grant is a 404); writes call the same services as the pages.
"""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from claims.api.pagination import ApiCursorPagination
from claims.api.serializers import ErrorSerializer
from claims.api.views import ApiView
from claims.evidence import stored_file_response
from members.errors import ApplicationError
from members.models import Organisation
from members.registry import publishing, selectors, services

from . import serializers as s

WORKS_TAG = ["works"]
GRANTS_TAG = ["grants"]
WORK_ID_PARAMETER = OpenApiParameter(
    "work_id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("Id of the work.")
)
IMAGE_ID_PARAMETER = OpenApiParameter(
    "image_id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("Id of the reference image.")
)
GRANT_ID_PARAMETER = OpenApiParameter(
    "grant_id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("Id of the grant (ledger row).")
)


def _error(description):
    return OpenApiResponse(ErrorSerializer, description=description)


class WorkPagination(ApiCursorPagination):
    ordering = ("id",)


class WorkImagePagination(ApiCursorPagination):
    """Oldest first, as on the work's page."""

    ordering = ("id",)


class GrantPagination(ApiCursorPagination):
    """Newest ledger rows first."""

    ordering = ("-created_at", "-id")


def _query(serializer_class, request) -> dict:
    """Validate the query parameters; an empty typed parameter ("?use=") is refused, not ignored."""
    serializer = serializer_class(data=request.query_params)
    valid = serializer.is_valid()
    errors = dict(serializer.errors)
    for name, field in serializer.fields.items():
        blank_allowed = getattr(field, "allow_blank", False)
        if not blank_allowed and "" in request.query_params.getlist(name) and name not in errors:
            errors[name] = [_("Give a value, or leave the parameter out.")]
    if errors or not valid:
        raise ValidationError(errors)
    return serializer.validated_data


def _location(request, name, **kwargs) -> dict:
    return {"Location": request.build_absolute_uri(reverse(name, kwargs=kwargs))}


@extend_schema(tags=WORKS_TAG)
class WorkCollectionView(ApiView, GenericAPIView):
    """The works the caller's organisation may see (a member: its own; the association: all)."""

    pagination_class = WorkPagination

    @extend_schema(
        operation_id="works_list",
        summary=_("List works, optionally by title"),
        parameters=[s.WorkListQuerySerializer],
        responses={200: s.WorkSerializer(many=True), 400: _error(_("A query parameter is not valid."))},
    )
    def get(self, request):
        query = _query(s.WorkListQuerySerializer, request)
        works = selectors.works_search(user=request.user, query=query.get("q", ""))
        page = self.paginate_queryset(works)
        return self.get_paginated_response(s.WorkSerializer(page, many=True).data)

    @extend_schema(
        operation_id="works_create",
        summary=_("Register a work (member staff)"),
        request=s.WorkInputSerializer,
        responses={201: s.WorkSerializer},
    )
    def post(self, request):
        serializer = s.WorkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        identifiers = [(item["scheme"], item["value"]) for item in data.pop("identifiers")]
        work = services.work_create(actor=request.user, identifiers=identifiers, **data)
        work = selectors.work_get_for_user(user=request.user, work_id=work.pk)
        return Response(
            s.WorkSerializer(work).data,
            status=status.HTTP_201_CREATED,
            headers=_location(request, "api:work_detail", work_id=work.pk),
        )


@extend_schema(tags=WORKS_TAG, parameters=[WORK_ID_PARAMETER])
class WorkDetailView(ApiView):
    @extend_schema(operation_id="works_retrieve", summary=_("Read a work"), responses=s.WorkSerializer)
    def get(self, request, work_id):
        work = selectors.work_get_for_user(user=request.user, work_id=work_id)
        return Response(s.WorkSerializer(work).data)


@extend_schema(tags=WORKS_TAG, parameters=[WORK_ID_PARAMETER])
class WorkImageCollectionView(ApiView, GenericAPIView):
    """A work's reference images; its owner's member staff attach more (multipart)."""

    pagination_class = WorkImagePagination
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="works_images_list",
        summary=_("List a work's reference images"),
        responses=s.WorkImageSerializer(many=True),
    )
    def get(self, request, work_id):
        work = selectors.work_get_for_user(user=request.user, work_id=work_id)
        page = self.paginate_queryset(selectors.work_images(work=work))
        return self.get_paginated_response(
            s.WorkImageSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="works_images_create",
        summary=_("Attach a reference image (multipart; member staff of the owner)"),
        request={"multipart/form-data": s.WorkImageInputSerializer},
        responses={
            201: s.WorkImageSerializer,
            200: OpenApiResponse(s.WorkImageSerializer, description=_("These bytes were attached before.")),
        },
    )
    def post(self, request, work_id):
        work = selectors.work_get_for_user(user=request.user, work_id=work_id)
        serializer = s.WorkImageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        known = {image.pk for image in work.images.all()}  # prefetched by the selector
        image = services.work_image_add(
            actor=request.user, work=work, upload=serializer.validated_data["image"]
        )
        image = selectors.work_images(work=work).get(pk=image.pk)
        return Response(
            s.WorkImageSerializer(image, context={"request": request}).data,
            status=status.HTTP_200_OK if image.pk in known else status.HTTP_201_CREATED,
            headers=_location(request, "api:work_image_download", work_id=work.pk, image_id=image.pk),
        )


@extend_schema(tags=WORKS_TAG, parameters=[WORK_ID_PARAMETER, IMAGE_ID_PARAMETER])
class WorkImageDownloadView(ApiView):
    """The bytes of one reference image, as uploaded."""

    @extend_schema(
        operation_id="works_images_download",
        summary=_("Download a reference image"),
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=_("The image's bytes."))
            for media_type in services.IMAGE_TYPES
        },
    )
    def get(self, request, work_id, image_id):
        image = selectors.work_image_get_for_user(user=request.user, work_id=work_id, image_id=image_id)
        return stored_file_response(image)


@extend_schema(tags=GRANTS_TAG)
class GrantCollectionView(ApiView, GenericAPIView):
    """The grant ledger as the caller may see it: a member's own grants, a provider's grants to it."""

    pagination_class = GrantPagination

    @extend_schema(
        operation_id="grants_list",
        summary=_("List ledger rows (grants and revocations), newest first"),
        parameters=[s.GrantListQuerySerializer],
        responses={200: s.GrantSerializer(many=True), 400: _error(_("A query parameter is not valid."))},
    )
    def get(self, request):
        query = _query(s.GrantListQuerySerializer, request)
        filters = {"use": query.get("use"), "work_id": query.get("work")}
        page = self.paginate_queryset(selectors.grant_ledger(user=request.user, filters=filters))
        return self.get_paginated_response(s.GrantSerializer(page, many=True).data)

    @extend_schema(
        operation_id="grants_create",
        summary=_("Grant a provider a use of one or all works (member staff)"),
        request=s.GrantInputSerializer,
        responses={201: s.GrantSerializer},
    )
    def post(self, request):
        services.check_member_staff(request.user)
        serializer = s.GrantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        provider = Organisation.objects.providers().filter(slug=data.pop("provider")).first()
        work_id = data.pop("work")
        work = None
        if work_id is not None:
            work = selectors.works_visible_to(user=request.user).filter(pk=work_id).first()
            if work is None:
                raise ApplicationError(
                    _("Please correct the errors below."),
                    fields={"work": [_("Choose one of your works, or null for all of them.")]},
                )
        grant = services.grant_issue(actor=request.user, provider=provider, work=work, **data)
        grant = selectors.grant_get_for_user(user=request.user, grant_id=grant.pk)
        return Response(
            s.GrantSerializer(grant).data,
            status=status.HTTP_201_CREATED,
            headers=_location(request, "api:grant_detail", grant_id=grant.pk),
        )


@extend_schema(tags=GRANTS_TAG, parameters=[GRANT_ID_PARAMETER])
class GrantDetailView(ApiView):
    @extend_schema(
        operation_id="grants_retrieve", summary=_("Read a ledger row"), responses=s.GrantSerializer
    )
    def get(self, request, grant_id):
        grant = selectors.grant_get_for_user(user=request.user, grant_id=grant_id)
        return Response(s.GrantSerializer(grant).data)


@extend_schema(tags=GRANTS_TAG, parameters=[GRANT_ID_PARAMETER])
class GrantRevokeView(ApiView):
    @extend_schema(
        operation_id="grants_revoke",
        summary=_("Revoke a grant: appends a revocation row (member staff)"),
        request=s.GrantRevokeInputSerializer,
        responses={201: s.GrantSerializer},
    )
    def post(self, request, grant_id):
        grant = selectors.grant_get_for_user(user=request.user, grant_id=grant_id)
        serializer = s.GrantRevokeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revocation = services.grant_revoke(actor=request.user, grant=grant, **serializer.validated_data)
        revocation = selectors.grant_get_for_user(user=request.user, grant_id=revocation.pk)
        return Response(
            s.GrantSerializer(revocation).data,
            status=status.HTTP_201_CREATED,
            headers=_location(request, "api:grant_detail", grant_id=revocation.pk),
        )


@extend_schema(tags=GRANTS_TAG)
class GrantCheckView(ApiView):
    """May provider P use work W for use U at time T? A provider may ask only about itself."""

    @extend_schema(
        operation_id="grants_check",
        summary=_("Check a use: the decision and the deciding grant"),
        parameters=[s.GrantCheckQuerySerializer],
        responses={
            200: s.DecisionSerializer,
            400: _error(_("A query parameter is missing or not valid.")),
            404: _error(_("No such provider or work (or one the caller may not ask about).")),
        },
    )
    def get(self, request):
        query = _query(s.GrantCheckQuerySerializer, request)
        provider = selectors.checkable_providers(user=request.user).filter(slug=query["provider"]).first()
        work = selectors.checkable_works(user=request.user).filter(pk=query["work"]).first()
        if provider is None or work is None:
            raise Http404("No such provider or work.")
        at = query.get("at") or timezone.now()
        decision = selectors.grant_check(provider=provider, work=work, use=query["use"], at=at)
        grant = None
        if decision.grant is not None:
            grant = selectors.grant_get_for_user(user=request.user, grant_id=decision.grant.pk)
        body = {
            "permitted": decision.permitted,
            "reason": decision.reason,
            "provider": provider.slug,
            "work": work,
            "use": query["use"],
            "at": at,
            "grant": grant,
        }
        return Response(s.DecisionSerializer(body).data)


@extend_schema(exclude=True)
class GrantCheckNoSlashView(GrantCheckView):
    """``/grants/check`` as the issue spells it; the same answer as ``/grants/check/``."""


@extend_schema(tags=GRANTS_TAG)
class ProviderFeedView(ApiView):
    """Every member's reservations and every grant addressed to the calling provider.

    Poll with ``If-None-Match: <the last ETag>``: an unchanged feed is a 304 with no body.
    """

    @extend_schema(
        operation_id="registry_feed",
        summary=_("The provider's feed of reservations and grants (ETag)"),
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description=_("The ETag of the feed last read; unchanged: 304."),
            ),
            OpenApiParameter(
                "ETag",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description=_("The feed's version."),
            ),
        ],
        responses={
            200: s.FeedSerializer,
            304: OpenApiResponse(description=_("Not modified since the ETag given.")),
            403: _error(_("Only a provider has a feed.")),
        },
    )
    def get(self, request):
        user = request.user
        if not user.is_provider_side or user.organisation_id is None:
            raise PermissionDenied(_("Only a provider has a feed."))
        provider = user.organisation
        etag = publishing.feed_etag(provider=provider)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if publishing.etag_matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        base_url = request.build_absolute_uri("/").rstrip("/")
        feed = publishing.provider_feed(provider=provider, base_url=base_url)
        return Response(s.FeedSerializer(feed).data, headers=headers)
