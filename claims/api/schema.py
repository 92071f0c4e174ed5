"""OpenAPI generation: the error shape on every operation, the token scheme, the retry header."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

ERROR_DESCRIPTIONS = {
    400: _("Malformed JSON, unknown fields, wrong types or values a rule refuses (see fields)."),
    401: _("No credentials, or a token that is invalid, expired or revoked."),
    403: _("The caller's organisation or role may not do this."),
    404: _("No such case (or one the caller's organisation may not see)."),
    409: _("The case is not in a state that allows this, or the same Idempotency-Key is still running."),
    413: _("The request body is too large."),
    415: _("The request body is not of the media type the operation accepts."),
    422: _("The Idempotency-Key was used before with a different request."),
    429: _("Too many requests for this token; retry after Retry-After seconds."),
}
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    # Printable ASCII, not starting or ending with a space (a header's edges are trimmed).
    pattern=r"^[!-~]([ -~]{0,253}[!-~])?$",
    description=_(
        "Any unique string per logical request (e.g. a UUID). A retry with the same key and the "
        "same request returns the first answer, with Idempotent-Replayed: true, instead of acting twice."
    ),
)
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description=_("Seconds to wait before retrying."),
)
LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[201],
    description=_("The address of the created resource."),
)


class ApiAutoSchema(AutoSchema):
    """Document the answers every operation can give besides its success: the one error shape."""

    def _error_status_codes(self) -> list[int]:
        codes = [401, 429]
        if "{" in self.path:
            codes.append(404)
        if self.method == "POST":
            codes += [400, 403, 409, 413, 415, 422]
        elif self._get_filter_parameters() or self._get_pagination_parameters():
            codes.append(400)
        return sorted(codes)

    def get_override_parameters(self):
        extra = [RETRY_AFTER_HEADER]
        if self.method == "POST":
            extra += [IDEMPOTENCY_KEY_PARAMETER, LOCATION_HEADER]
        return [*super().get_override_parameters(), *extra]

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        from .serializers import StrictInputSerializer

        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False  # the serializer refuses unknown fields
        return schema

    def _get_response_bodies(self, direction="response"):
        from .serializers import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        for code in self._error_status_codes():
            response = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
            responses.setdefault(
                str(code), self._get_response_for_code(response, str(code), direction=direction)
            )
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Tell the schema how ``members.api_auth.ApiTokenAuthentication`` reads its credentials."""

    target_class = "members.api_auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
