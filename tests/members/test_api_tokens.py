"""API tokens: a machine client acts as the token's user until the token expires or is revoked."""

import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import path
from django.utils import timezone
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns
from members.api_auth import ApiTokenAuthentication
from members.errors import ApplicationError
from members.models import ApiToken, Role
from members.throttling import TokenRateThrottle
from members.tokens import api_token_issue, api_token_revoke
from tests.factories import UserFactory

TOKEN_FORMAT = re.compile(r"rdk_[a-z0-9]{8}_[A-Za-z0-9_-]{32,}")


class WhoAmI(APIView):
    """Answer with the user the request acts as (the project's API views use the same classes)."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    throttle_classes = [TokenRateThrottle]

    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(
            {
                "email": request.user.email,
                "organisation": request.user.organisation_id,
                "token": token.prefix if token else None,
            }
        )


# The project's own routes stay available, so the real API is tested with the same setup.
urlpatterns = [path("api/test/whoami/", WhoAmI.as_view()), *project_urlpatterns]
WHOAMI = "/api/test/whoami/"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Keep throttle counters away from other test runs sharing a Redis."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-token-tests"}
    }
    from django.core.cache import cache

    cache.clear()


def issue(user, **kwargs):
    kwargs.setdefault("name", "Trust and safety system")
    return api_token_issue(actor=None, user=user, **kwargs)


def call(client, plaintext, keyword="Bearer"):
    return client.get(WHOAMI, HTTP_AUTHORIZATION=f"{keyword} {plaintext}", HTTP_ACCEPT_LANGUAGE="en")


def test_a_token_acts_as_its_user(client, agent):
    token, plaintext = issue(agent)

    response = call(client, plaintext)

    assert TOKEN_FORMAT.fullmatch(plaintext)
    assert plaintext.startswith(f"rdk_{token.prefix}_")
    assert response.status_code == 200
    assert response.json() == {
        "email": agent.email,
        "organisation": agent.organisation_id,
        "token": token.prefix,
    }


def test_the_token_keyword_works_as_well_as_bearer(client, agent):
    _token, plaintext = issue(agent)

    assert call(client, plaintext, keyword="Token").status_code == 200
    assert call(client, plaintext, keyword="bearer").status_code == 200


def test_only_a_hash_of_the_token_is_stored(agent):
    token, plaintext = issue(agent)
    secret = plaintext.split("_", 2)[2]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_apitoken WHERE id = %s", [token.pk])
        stored_row = " ".join(str(value) for value in cursor.fetchone())

    assert secret not in stored_row
    assert plaintext not in stored_row
    assert token.prefix in stored_row  # the public part names the token in lists


def test_two_tokens_never_share_a_secret(agent):
    plaintexts = {issue(agent)[1] for _ in range(20)}

    assert len(plaintexts) == 20


def test_a_request_without_credentials_is_told_to_authenticate(client):
    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda plaintext: f"Bearer {plaintext[:-1]}x", id="wrong-secret"),
        pytest.param(lambda plaintext: f"Bearer rdk_zzzzzzzz_{plaintext[13:]}", id="unknown-prefix"),
        pytest.param(lambda plaintext: "Bearer not-a-token", id="garbage"),
        pytest.param(lambda plaintext: "Bearer", id="empty"),
        pytest.param(lambda plaintext: f"Bearer {plaintext} extra", id="two-words"),
    ],
)
def test_a_wrong_token_is_refused_with_401(client, agent, make_header):
    _token, plaintext = issue(agent)

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=make_header(plaintext))

    assert response.status_code == 401


def test_an_expired_token_stops_working_at_its_expiry(client, agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _token, plaintext = issue(agent, expires_at=start + timedelta(hours=1))
        assert call(client, plaintext).status_code == 200

    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert call(client, plaintext).status_code == 200

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        response = call(client, plaintext)

    assert response.status_code == 401
    assert "expired" in str(response.json())


def test_a_revoked_token_stops_working_at_once(client, agent, provider_admin):
    token, plaintext = issue(agent)
    assert call(client, plaintext).status_code == 200

    api_token_revoke(actor=provider_admin, token=token)
    response = call(client, plaintext)

    assert response.status_code == 401
    assert "revoked" in str(response.json())


def test_a_deactivated_users_token_stops_working(client, agent):
    _token, plaintext = issue(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    response = call(client, plaintext)

    assert response.status_code == 401
    assert "deactivated" in str(response.json())


def test_a_revoked_token_is_refused_even_with_a_valid_session(client, agent, provider_admin):
    """A client that sends a token means that token: a session does not rescue a revoked one."""
    token, plaintext = issue(agent)
    api_token_revoke(actor=provider_admin, token=token)
    client.force_login(agent)

    assert call(client, plaintext).status_code == 401
    assert client.get(WHOAMI).status_code == 200  # the session alone still works


def test_last_use_is_recorded_at_most_once_a_minute(client, agent):
    token, plaintext = issue(agent)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        call(client, plaintext)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        call(client, plaintext)
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        call(client, plaintext)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


# --- The service's rules -------------------------------------------------------------------------


def test_an_admin_issues_a_token_for_a_colleague(provider_admin, agent):
    token, _plaintext = api_token_issue(actor=provider_admin, user=agent, name="Ticket system")

    assert token.user == agent
    assert token.created_by == provider_admin


def test_only_an_organisation_admin_issues_tokens(agent):
    with pytest.raises(ApplicationError) as refused:
        api_token_issue(actor=agent, user=agent, name="Mine")

    assert refused.value.status_code == 403
    assert not ApiToken.objects.exists()


def test_an_admin_cannot_issue_a_token_for_another_organisations_user(provider_admin, other_agent):
    with pytest.raises(ApplicationError) as refused:
        api_token_issue(actor=provider_admin, user=other_agent, name="Theirs")

    assert refused.value.status_code == 404
    assert not ApiToken.objects.exists()


def test_an_admin_cannot_revoke_another_organisations_token(provider_admin, other_agent, client):
    token, plaintext = issue(other_agent)

    with pytest.raises(ApplicationError) as refused:
        api_token_revoke(actor=provider_admin, token=token)

    assert refused.value.status_code == 404
    assert call(client, plaintext).status_code == 200


@pytest.mark.parametrize(
    ("name", "expires_in", "field"),
    [("", timedelta(days=1), "name"), ("x" * 101, None, "name"), ("CI", timedelta(seconds=-1), "expires_at")],
)
def test_a_token_needs_a_name_and_a_future_expiry(agent, name, expires_in, field):
    expires_at = timezone.now() + expires_in if expires_in else None

    with pytest.raises(ApplicationError) as refused:
        issue(agent, name=name, expires_at=expires_at)

    assert field in refused.value.fields


def test_no_token_is_issued_for_a_deactivated_user(agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    with pytest.raises(ApplicationError) as refused:
        issue(agent)

    assert "user" in refused.value.fields


# --- Throttling ----------------------------------------------------------------------------------


def test_a_token_over_its_rate_gets_429_with_retry_after(client, agent, settings):
    settings.API_THROTTLE_RATE = "3/min"
    _token, plaintext = issue(agent)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        answers = [call(client, plaintext).status_code for _ in range(3)]
        throttled = call(client, plaintext)
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        later = call(client, plaintext)

    assert answers == [200, 200, 200]
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert later.status_code == 200


def test_every_answer_tells_the_client_its_budget(client, agent, settings):
    settings.API_THROTTLE_RATE = "2/min"
    _token, plaintext = issue(agent)
    start = datetime(2026, 11, 26, 9, 30, 15, tzinfo=UTC)

    with time_machine.travel(start, tick=False):
        answers = [call(client, plaintext) for _ in range(3)]

    window_end = str(int(datetime(2026, 11, 26, 9, 31, tzinfo=UTC).timestamp()))
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a["X-RateLimit-Limit"] for a in answers] == ["2", "2", "2"]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert {a["X-RateLimit-Reset"] for a in answers} == {window_end}
    assert answers[2]["Retry-After"] == "45"


def test_each_token_has_its_own_budget(client, agent, settings):
    """A runaway integration exhausts its own token, not the user's other integrations."""
    settings.API_THROTTLE_RATE = "2/min"
    _first, runaway = issue(agent, name="Runaway")
    _second, other = issue(agent, name="Other")

    for _ in range(2):
        call(client, runaway)

    assert call(client, runaway).status_code == 429
    assert call(client, other).status_code == 200


def test_sessions_are_throttled_per_user(client, agent, legal, settings):
    settings.API_THROTTLE_RATE = "1/min"
    client.force_login(agent)
    assert client.get(WHOAMI).status_code == 200
    assert client.get(WHOAMI).status_code == 429

    client.force_login(legal)
    assert client.get(WHOAMI).status_code == 200


def test_the_budget_is_shared_by_every_worker_through_redis(client, agent, settings):
    """Counters in Redis (as in production): concurrent increments are never lost."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from members.throttling import counter_increment

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/13",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _n: counter_increment("shared", timeout=60), range(200)))
    assert sorted(counts) == list(range(1, 201))

    settings.API_THROTTLE_RATE = "2/min"
    _token, plaintext = issue(agent)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        answers = [call(client, plaintext).status_code for _ in range(3)]
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        later = call(client, plaintext).status_code

    assert answers == [200, 200, 429]
    assert later == 200


# --- The command line ----------------------------------------------------------------------------


def test_the_command_prints_only_a_working_token(client, agent):
    out, err = io.StringIO(), io.StringIO()

    call_command("issue_api_token", agent.email.upper(), "--name", "Bulk filer", stdout=out, stderr=err)

    printed = out.getvalue()
    assert TOKEN_FORMAT.fullmatch(printed.rstrip("\n"))
    assert printed.count("\n") == 1
    assert err.getvalue() == ""
    assert call(client, printed.strip()).json()["email"] == agent.email
    token = ApiToken.objects.get()
    assert (token.name, token.expires_at, token.created_by) == ("Bulk filer", None, None)


def test_the_command_sets_an_expiry_in_days(agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        call_command("issue_api_token", agent.email, "--expires-days", "30", stdout=io.StringIO())

    assert ApiToken.objects.get().expires_at == start + timedelta(days=30)


@pytest.mark.parametrize("arguments", [["nobody@example.test"], ["{email}", "--expires-days", "0"]])
def test_the_command_refuses_what_it_cannot_do(agent, arguments):
    arguments = [argument.format(email=agent.email) for argument in arguments]

    with pytest.raises(CommandError):
        call_command("issue_api_token", *arguments, stdout=io.StringIO())

    assert not ApiToken.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_line_prints_the_token_alone_and_fails_with_exit_code_1():
    """Run the real command in a process, as a deployment script would capture it."""
    user = UserFactory(role=Role.PROVIDER_AGENT)
    database = settings.DATABASES["default"]
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "LOG_LEVEL": "WARNING",
    }
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the subprocess needs a database server it can share with the test")

    def run(*arguments):
        return subprocess.run(
            [sys.executable, "manage.py", "issue_api_token", *arguments],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    issued = run(user.email, "--name", "Deploy script")
    refused = run("nobody@example.test")

    assert issued.returncode == 0, issued.stderr
    assert TOKEN_FORMAT.fullmatch(issued.stdout.rstrip("\n"))
    assert issued.stdout.count("\n") == 1
    assert ApiToken.objects.get().user == user
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "nobody@example.test" in refused.stderr


# --- The same rules on the project's API ---------------------------------------------------------

CASES = "/api/v1/cases/"


def test_the_api_lists_cases_for_a_token_client(client, legal, file_case):
    case = file_case()
    _token, plaintext = issue(legal)

    response = client.get(CASES, HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert response.status_code == 200
    assert [row["reference"] for row in response.json()["results"]] == [case.reference]


def test_the_api_refuses_an_expired_token_in_its_error_shape(client, legal):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _token, plaintext = issue(legal, expires_at=start + timedelta(days=1))
    with time_machine.travel(start + timedelta(days=2), tick=False):
        response = client.get(CASES, HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["code"] == "authentication_failed"
    assert "expired" in error["message"]


def test_the_api_answers_a_throttled_token_with_429_and_retry_after(client, legal, settings):
    settings.API_THROTTLE_RATE = "2/min"
    _token, plaintext = issue(legal)

    answers = [client.get(CASES, HTTP_AUTHORIZATION=f"Bearer {plaintext}") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1].json()["error"]["code"] == "throttled"
