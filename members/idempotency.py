"""Safe retries: a POST under /api/ with an ``Idempotency-Key`` header runs at most once.

The first request with a key claims it (a row committed on its own, so a concurrent twin sees
it), runs the view and stores the answer; a retry with the same key and the same request gets
that stored answer back with ``Idempotent-Replayed: true`` instead of filing twice. Keys are per
user, so two clients cannot collide, and are forgotten after ``IDEMPOTENCY_TTL_HOURS``.

Answers that say the request was not processed are not stored, so a retry runs it again: server
errors (the transaction rolled back), 429 (throttled before the view ran), 401 and 408.
"""

import hashlib
import json
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _

from members.api_auth import authenticate_request
from members.errors import ApplicationError
from members.models import ApiToken, IdempotencyRecord

KEY_HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_MAX_LENGTH = 255
KEY_PATTERN = re.compile(rf"[\x20-\x7e]{{1,{KEY_MAX_LENGTH}}}")  # printable ASCII, as HTTP headers carry
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers a client needs from a replay; cookies and caching headers belong to the first exchange.
STORED_HEADERS = ("Content-Type", "Location")
NOT_STORED_STATUSES = frozenset({401, 408, 429})


class KeyReused(ApplicationError):
    status_code = 422


class RequestInProgress(ApplicationError):
    status_code = 409


def _record_ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)


def idempotency_begin(
    *, user, key: str, fingerprint: str, now: datetime | None = None
) -> tuple[IdempotencyRecord, bool]:
    """Claim ``key`` for a request and return (record, True), or (earlier completed record, False).

    Raise KeyReused when the key came with a different request, RequestInProgress while the first
    request with the key is still running.
    """
    now = now or timezone.now()
    expired_before = now - _record_ttl()
    stale_before = now - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
    # Two rounds: the row found on conflict may vanish (expired, or its request failed) before we read it.
    for _round in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, fingerprint=fingerprint, created_at=now, started_at=now
                )
            return record, True
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue
        if existing.created_at < expired_before:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise KeyReused(
                _("This Idempotency-Key was already used with a different request; use a new key."),
                code="idempotency_key_reused",
            )
        if existing.completed:
            return existing, False
        # A request "running" for minutes died with its worker: let exactly one retry take it over.
        if existing.started_at < stale_before:
            taken_over = IdempotencyRecord.objects.filter(
                pk=existing.pk, completed=False, started_at=existing.started_at
            ).update(started_at=now)
            if taken_over:
                existing.started_at = now
                return existing, True
        break
    raise RequestInProgress(
        _("A request with this Idempotency-Key is still in progress; retry in a moment."),
        code="idempotency_in_progress",
    )


def idempotency_complete(*, record: IdempotencyRecord, response) -> None:
    """Store the answer to replay to retries."""
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed=True,
        status_code=response.status_code,
        response_body=response.content,
        response_headers=headers,
    )


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    """Forget the key so that a retry runs the request again."""
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False).delete()


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete the records older than the TTL (their keys may be used afresh); return how many."""
    now = now or timezone.now()
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=now - _record_ttl()).delete()
    return deleted


def request_fingerprint(request) -> str:
    """Return SHA-256 over the method, the path with its query and the body.

    A multipart body is read through Django's parser (DRF reuses the parsed form), field by field
    and file by file, so an upload is hashed from its temporary file rather than held in memory.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([request.method, request.get_full_path()]).encode())
    if request.content_type == "multipart/form-data":
        digest.update(json.dumps(sorted(request.POST.lists())).encode())
        for field, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(json.dumps([field, upload.name, upload.size]).encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def error_response(*, status: int, code: str, message: str) -> JsonResponse:
    """Answer in the API's error shape."""
    return JsonResponse({"error": {"code": code, "message": str(message), "fields": {}}}, status=status)


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _authenticated_user(request):
    """Return the user the API will act as: the token's user first (as DRF does), else the session's."""
    outcome = authenticate_request(request)
    if isinstance(outcome, ApiToken):
        return outcome.user
    if outcome is not None:
        return None  # a rejected token: the view answers 401
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class IdempotencyMiddleware:
    """Run an API POST carrying an Idempotency-Key once, replaying its answer to retries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_key = request.META.get(KEY_HEADER)
        if (
            raw_key is None
            or request.method != "POST"
            or not request.path.startswith(settings.IDEMPOTENCY_PATH_PREFIX)
        ):
            return self.get_response(request)
        user = _authenticated_user(request)
        if user is None:
            return self.get_response(request)  # the view refuses the anonymous request itself
        key = raw_key.strip()
        if not KEY_PATTERN.fullmatch(key):
            return error_response(
                status=400,
                code="invalid_idempotency_key",
                message=_("The Idempotency-Key must be 1 to %(max)d printable ASCII characters.")
                % {"max": KEY_MAX_LENGTH},
            )
        try:
            fingerprint = request_fingerprint(request)
        except RequestDataTooBig:
            return error_response(
                status=413, code="request_too_large", message=_("The request body is too large.")
            )
        except MultiPartParserError:
            return error_response(
                status=400, code="parse_error", message=_("The multipart request body is malformed.")
            )
        try:
            record, first = idempotency_begin(user=user, key=key, fingerprint=fingerprint)
        except ApplicationError as exc:
            response = error_response(status=exc.status_code, code=exc.code, message=exc.message)
            if isinstance(exc, RequestInProgress):
                response["Retry-After"] = "1"
            return response
        if not first:
            return replay_response(record)

        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_abandon(record=record)
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED_STATUSES or response.streaming:
            idempotency_abandon(record=record)
        else:
            idempotency_complete(record=record, response=response)
        return response
