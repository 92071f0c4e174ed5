"""Idempotency-Key: a retried API POST returns the first answer instead of running twice."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.models import Case
from config.urls import urlpatterns as project_urlpatterns
from members.api_auth import ApiTokenAuthentication
from members.idempotency import idempotency_records_purge
from members.models import IdempotencyRecord, Work
from members.tasks import idempotency_purge
from members.tokens import api_token_issue
from tests.factories import UserFactory

# Gates that let a test hold a request inside its view while another arrives.
VIEW_ENTERED = threading.Event()
VIEW_RELEASE = threading.Event()
FLAKY_CALLS = []


@csrf_exempt
def work_create(request):
    """File a work, as a stand-in for any endpoint that writes (the middleware knows no view)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": {"code": "not_authenticated"}}, status=401)
    data = json.loads(request.body or b"{}")
    if not data.get("title"):
        return JsonResponse({"error": {"code": "invalid", "fields": {"title": ["Required."]}}}, status=400)
    if data.get("wait"):
        VIEW_ENTERED.set()
        assert VIEW_RELEASE.wait(timeout=10)
    work = Work.objects.create(owner=request.user.organisation, title_ja=data["title"])
    response = JsonResponse({"id": work.pk, "title": work.title_ja}, status=201)
    response["Location"] = f"/api/test/works/{work.pk}/"
    response.set_cookie("first-exchange-only", "1")
    return response


@csrf_exempt
def flaky(request):
    """Fail with a server error the first time, then succeed."""
    FLAKY_CALLS.append(1)
    if len(FLAKY_CALLS) == 1:
        return HttpResponse("upstream timeout", status=503)
    return JsonResponse({"calls": len(FLAKY_CALLS)}, status=201)


@csrf_exempt
def upload(request):
    Work.objects.create(owner=request.user.organisation, title_ja=request.FILES["file"].name)
    return JsonResponse({"size": request.FILES["file"].size, "note": request.POST["note"]}, status=201)


class TokenWorkCreate(APIView):
    """The same write behind DRF with token authentication, as the real API endpoints are."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]

    def post(self, request):
        work = Work.objects.create(owner=request.user.organisation, title_ja=request.data["title"])
        return Response({"id": work.pk}, status=201)


urlpatterns = [
    path("api/test/works/", work_create),
    path("api/test/flaky/", flaky),
    path("api/test/upload/", upload),
    path("api/test/token-works/", TokenWorkCreate.as_view()),
    path("web/works/", work_create),
    # The project's own routes stay available, so the real API is tested with the same setup.
    *project_urlpatterns,
]
WORKS = "/api/test/works/"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def reset_gates():
    VIEW_ENTERED.clear()
    VIEW_RELEASE.clear()
    FLAKY_CALLS.clear()


@pytest.fixture
def signed_in(client, legal):
    client.force_login(legal)
    return client


def post(client, url=WORKS, body=None, key="file-2026-0001", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        url, json.dumps(body or {"title": "Hero"}), content_type="application/json", **headers, **extra
    )


def test_a_retry_returns_the_first_answer_and_files_once(signed_in):
    first = post(signed_in)
    retry = post(signed_in)

    assert Work.objects.count() == 1
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["Content-Type"] == "application/json"
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert "first-exchange-only" not in retry.cookies


def test_without_a_key_every_post_files_again(signed_in):
    post(signed_in, key=None)
    post(signed_in, key=None)

    assert Work.objects.count() == 2


def test_different_keys_file_separately(signed_in):
    post(signed_in, key="a")
    post(signed_in, key="b")

    assert Work.objects.count() == 2


def test_a_key_reused_for_a_different_request_is_refused(signed_in):
    post(signed_in, body={"title": "Hero"})
    reused = post(signed_in, body={"title": "Villain"})

    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Work.objects.values_list("title_ja", flat=True)) == ["Hero"]


def test_the_same_key_on_another_path_is_a_different_request(signed_in):
    post(signed_in)
    elsewhere = post(signed_in, url="/api/test/flaky/")

    assert elsewhere.status_code == 422


def test_keys_belong_to_their_user(client, legal):
    colleague = UserFactory(role=legal.role, organisation=legal.organisation)
    for user in (legal, colleague):
        client.force_login(user)
        assert post(client, key="shared-key").status_code == 201

    assert Work.objects.count() == 2


def test_a_server_error_is_not_stored_so_the_retry_runs_again(signed_in):
    failed = post(signed_in, url="/api/test/flaky/")
    retried = post(signed_in, url="/api/test/flaky/")
    replayed = post(signed_in, url="/api/test/flaky/")

    assert failed.status_code == 503
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert replayed["Idempotent-Replayed"] == "true"
    assert len(FLAKY_CALLS) == 2


def test_a_refusal_is_replayed_like_any_answer(signed_in):
    refused = post(signed_in, body={"title": ""})
    again = post(signed_in, body={"title": ""})

    assert refused.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == refused.json()


@pytest.mark.parametrize(
    ("key", "accepted"),
    [("k" * 255, True), ("k" * 256, False), ("ключ", False), ("   ", False), ("550e8400-e29b-41d4", True)],
)
def test_a_key_is_1_to_255_printable_ascii_characters(signed_in, key, accepted):
    response = post(signed_in, key=key)

    if accepted:
        assert response.status_code == 201
    else:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_idempotency_key"
        assert not Work.objects.exists()


def test_a_key_is_forgotten_after_its_time_to_live(signed_in, settings):
    # Shorter than the default day so that the test client's session outlives it.
    settings.IDEMPOTENCY_TTL_HOURS = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post(signed_in)
    with time_machine.travel(start + timedelta(hours=1, minutes=59), tick=False):
        assert post(signed_in)["Idempotent-Replayed"] == "true"
    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
        fresh = post(signed_in, body={"title": "A new work under an old key"})

    assert fresh.status_code == 201
    assert Work.objects.count() == 2


def test_the_purge_deletes_only_expired_records(signed_in, settings):
    settings.IDEMPOTENCY_TTL_HOURS = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post(signed_in, key="old")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        post(signed_in, key="recent")

    with time_machine.travel(start + timedelta(hours=2, minutes=30), tick=False):
        assert idempotency_records_purge() == 1
        assert idempotency_purge.apply().get() == 0  # the Celery beat task runs the same purge

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_a_request_abandoned_by_a_dead_worker_can_be_retried(signed_in, legal, settings):
    settings.IDEMPOTENCY_STALE_SECONDS = 300
    start = timezone.now()
    fingerprint_source = post(signed_in, key="probe")  # learn the fingerprint of this exact request
    probe = IdempotencyRecord.objects.get(key="probe")
    IdempotencyRecord.objects.filter(pk=probe.pk).update(key="orphan", completed=False, status_code=None)
    Work.objects.all().delete()
    assert fingerprint_source.status_code == 201

    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        blocked = post(signed_in, key="orphan")
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        taken_over = post(signed_in, key="orphan")

    assert blocked.status_code == 409
    assert taken_over.status_code == 201
    assert Work.objects.count() == 1


def test_only_api_posts_are_concerned(signed_in):
    for _attempt in range(2):
        post(signed_in, url="/web/works/")

    assert Work.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_an_anonymous_request_reaches_the_view_which_refuses_it(client):
    response = post(client)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not IdempotencyRecord.objects.exists()


def test_a_token_clients_retries_are_keyed_by_the_tokens_user(client, agent):
    _token, plaintext = api_token_issue(actor=None, user=agent, name="Bulk filer")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}

    first = post(client, url="/api/test/token-works/", **auth)
    retry = post(client, url="/api/test/token-works/", **auth)

    assert first.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Work.objects.get().owner == agent.organisation
    assert IdempotencyRecord.objects.get().user == agent


def test_a_rejected_token_is_answered_by_the_api_and_not_stored(client, agent):
    response = post(
        client, url="/api/test/token-works/", HTTP_AUTHORIZATION="Bearer rdk_aaaaaaaa_" + "x" * 43
    )

    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_an_upload_retried_with_the_same_file_is_filed_once(signed_in):
    def send(content):
        return signed_in.post(
            "/api/test/upload/",
            {"note": "frame 12", "file": SimpleUploadedFile("frame.png", content, content_type="image/png")},
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first = send(b"\x89PNG same bytes")
    retry = send(b"\x89PNG same bytes")
    other_file = send(b"\x89PNG other bytes")

    assert first.json() == {"size": 15, "note": "frame 12"}
    assert retry["Idempotent-Replayed"] == "true"
    assert other_file.status_code == 422
    assert Work.objects.count() == 1


# --- Concurrency: two requests with one key at the same moment --------------------------------


def _post_in_thread(user, results, **kwargs):
    client = Client()
    client.force_login(user)
    try:
        results.append(post(client, **kwargs))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_request_runs_is_told_to_wait(legal):
    results = []
    first = threading.Thread(
        target=_post_in_thread, args=(legal, results), kwargs={"body": {"title": "H", "wait": 1}}
    )
    first.start()
    try:
        assert VIEW_ENTERED.wait(timeout=10)
        client = Client()
        client.force_login(legal)
        meanwhile = post(client, body={"title": "H", "wait": 1})
    finally:
        VIEW_RELEASE.set()
        first.join(timeout=10)
    afterwards = post(client, body={"title": "H", "wait": 1})

    assert meanwhile.status_code == 409
    assert meanwhile.json()["error"]["code"] == "idempotency_in_progress"
    assert meanwhile["Retry-After"] == "1"
    assert results[0].status_code == 201
    assert afterwards["Idempotent-Replayed"] == "true"
    assert afterwards.json() == results[0].json()
    assert Work.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_twins_file_once(legal):
    results = []
    start = threading.Barrier(4)

    def twin():
        start.wait(timeout=10)
        _post_in_thread(legal, results, key="twin")

    threads = [threading.Thread(target=twin) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    statuses = sorted(response.status_code for response in results)
    assert len(results) == 4
    assert Work.objects.count() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    # Exactly one twin ran the view; the others were told to wait or got its answer replayed.
    assert sum(1 for r in results if r.status_code == 201 and not r.has_header("Idempotent-Replayed")) == 1


# --- The real case-filing endpoint ---------------------------------------------------------------


def _claim(provider):
    return {
        "kind": "claim",
        "respondent": provider.slug,
        "title": "Our character in generated video",
        "description": "The output shows our character.",
        "outputs": [
            {"product": "VidGen", "url": "https://vidgen.example/v/1", "seen_at": timezone.now().isoformat()}
        ],
    }


def _token_headers(user):
    _token, plaintext = api_token_issue(actor=None, user=user, name="Bulk filer")
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def test_filing_a_claim_twice_with_one_key_files_one_case(client, legal, provider):
    headers = _token_headers(legal)
    claim = _claim(provider)

    first = post(client, url="/api/v1/cases/", body=claim, key="claim-42", **headers)
    retry = post(client, url="/api/v1/cases/", body=claim, key="claim-42", **headers)

    assert first.status_code == 201, first.json()
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["reference"] == first.json()["reference"]
    assert retry["Location"] == first["Location"]
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_filings_with_one_key_file_one_case(legal, provider):
    headers = _token_headers(legal)
    claim = _claim(provider)
    results = []
    start = threading.Barrier(3)

    def file_claim():
        start.wait(timeout=10)
        try:
            results.append(post(Client(), url="/api/v1/cases/", body=claim, key="claim-43", **headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=file_claim) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 3
    assert Case.objects.count() == 1
    filed = [r for r in results if r.status_code == 201]
    assert {r.json()["reference"] for r in filed} == {Case.objects.get().reference}
    assert all(r.status_code == 409 for r in results if r.status_code != 201)
