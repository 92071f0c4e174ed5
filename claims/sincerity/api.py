"""API view of the association's verdict on a challenged response (route in claims/api/urls.py)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from claims.api import serializers as s
from claims.api.views import CASES_TAG, REFERENCE_PARAMETER, ApiView
from claims.models import Response as CaseResponse
from claims.sincerity.selectors import response_get_for_user
from claims.sincerity.services import response_adjudicate

RESPONSE_ID_PARAMETER = OpenApiParameter(
    "response_id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("Id of the response.")
)


@extend_schema(tags=CASES_TAG, parameters=[REFERENCE_PARAMETER, RESPONSE_ID_PARAMETER])
class ResponseAdjudicateView(ApiView):
    """The association's verdict on a response the claimant challenged as insincere."""

    @extend_schema(
        operation_id="cases_responses_adjudicate",
        summary=_("Judge a challenged response sincere or insincere (association)"),
        request=s.AdjudicateInputSerializer,
        responses={200: s.ResponseSerializer},
    )
    def post(self, request, reference, response_id):
        response = response_get_for_user(user=request.user, reference=reference, response_id=response_id)
        serializer = s.AdjudicateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        response_adjudicate(response=response, actor=request.user, **serializer.validated_data)
        response = (
            CaseResponse.objects.select_related("author__organisation", "similar_to__case")
            .prefetch_related("items")
            .get(pk=response.pk)
        )
        return Response(s.ResponseSerializer(response, context={"request": request}).data)
