"""The one error shape of the API: ``{"error": {"code", "message", "fields"}}`` for every 4xx.

Services raise ``ApplicationError``; DRF raises its own exceptions for parsing, validation,
authentication, permissions and throttling; Django raises ``Http404``. The handler below turns
each of them into the same body, so a client reads one shape whatever went wrong.
"""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from members.errors import ApplicationError

UNKNOWN_FIELD_CODE = "unknown_field"
# A ValidationError whose detail is a bare list (not about one field) is filed under this key,
# the same key Django forms and ApplicationError use for errors of the whole request.
WHOLE_REQUEST_KEY = "__all__"


def error_body(*, code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    """Return the error body every API error uses (the idempotency layer and the 404 view too)."""
    return {"error": {"code": code, "message": str(message), "fields": dict(fields or {})}}


def _flatten(detail, prefix: str = "") -> dict[str, list]:
    """Turn DRF's nested error detail into ``{"outputs.0.url": [ErrorDetail, ...]}``.

    The dotted keys are the ones the services use (``outputs.0.url``, ``items.1.outcome``), so a
    client reads one form of field path whichever layer refused the request.
    """
    flat: dict[str, list] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            if name == "non_field_errors":
                path = prefix.rstrip(".") or WHOLE_REQUEST_KEY
            else:
                path = f"{prefix}{name}"
            for sub_key, messages in _flatten(value, f"{path}.").items():
                flat.setdefault(sub_key, []).extend(messages)
    elif isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        for index, item in enumerate(detail):
            for sub_key, messages in _flatten(item, f"{prefix}{index}.").items():
                flat.setdefault(sub_key, []).extend(messages)
    else:
        items = detail if isinstance(detail, list) else [detail]
        if items:
            flat[prefix.rstrip(".") or WHOLE_REQUEST_KEY] = list(items)
    return flat


def _validation_response(exc: exceptions.ValidationError) -> tuple[str, str, dict[str, list[str]]]:
    flat = _flatten(exc.detail)
    unknown = sorted(key for key, details in flat.items() if _has_code(details, UNKNOWN_FIELD_CODE))
    fields = {key: [str(message) for message in messages] for key, messages in flat.items()}
    if unknown:
        message = _("The request has fields this operation does not accept: %(fields)s.") % {
            "fields": ", ".join(unknown)
        }
        return "unknown_fields", message, fields
    return "invalid", _("The request is not valid; see the field messages."), fields


def _has_code(details, code) -> bool:
    return any(getattr(detail, "code", None) == code for detail in details)


def _parse_error_code(context) -> str:
    request = context.get("request")
    content_type = (getattr(request, "content_type", "") or "").split(";")[0].strip().lower()
    return "malformed_json" if content_type.endswith("json") else "malformed_request"


# DRF exceptions whose class says it all: (code, status) chosen here rather than DRF's ``detail`` codes,
# which vary with the detail text.
_API_EXCEPTION_CODES = (
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "not_permitted"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
)


def api_exception_handler(exc, context):
    """Answer every error a view raises with the one error shape; return None for a server error.

    ``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` names this function.
    """
    headers = {}
    if isinstance(exc, ApplicationError):
        status_code, code, message, fields = exc.status_code, exc.code, exc.message, exc.fields
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound(_("Not found."))
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(*exc.args)
        elif isinstance(exc, RequestDataTooBig):
            exc = exceptions.APIException(_("The request body is too large."))
            exc.status_code, exc.default_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large"
        elif isinstance(exc, SuspiciousOperation):
            exc = exceptions.ParseError(_("The request cannot be read."))
        if not isinstance(exc, exceptions.APIException):
            return None  # a bug: let Django log it and answer 500
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        status_code, fields = exc.status_code, {}
        if isinstance(exc, exceptions.ValidationError):
            code, message, fields = _validation_response(exc)
        elif isinstance(exc, exceptions.ParseError):
            code, message = _parse_error_code(context), str(exc.detail)
        else:
            code = next(
                (name for cls, name in _API_EXCEPTION_CODES if isinstance(exc, cls)),
                getattr(exc, "default_code", "error"),
            )
            message = str(exc.detail)
    set_rollback()
    return Response(
        error_body(code=code, message=message, fields=fields), status=status_code, headers=headers
    )


@csrf_exempt  # answers every method with 404; a CSRF 403 page would hide that
def api_not_found(request):
    """Answer a URL under /api/ that names no endpoint, in the error shape rather than an HTML page."""
    message = _("There is no API endpoint at this address.")
    if not request.path.endswith("/"):
        try:
            with_slash = resolve(request.path + "/").func
        except Resolver404:
            with_slash = api_not_found
        if with_slash is not api_not_found:
            message = _("There is no API endpoint at this address; the address ends with “/”.")
    return JsonResponse(error_body(code="not_found", message=message), status=status.HTTP_404_NOT_FOUND)
