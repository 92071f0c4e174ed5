"""The OpenAPI schema: valid, complete, served with its docs offline, and honoured by the API."""

import re

import pytest
import schemathesis
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from claims.api.views import REFERENCE_PATTERN
from claims.services import evidence_add
from members.tokens import api_token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_test_connection_open():
    """Keep the WSGI handler from closing the test's database connection after each request.

    It closes a connection it finds inside a transaction; here that transaction is the test's.
    Django's test client makes the same exception.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_schema_validates_without_a_single_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/v1/cases/{reference}/request-info/" in (tmp_path / "schema.yaml").read_text()


def test_the_schema_is_served_to_anyone_and_names_every_route(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert "/api/v1/cases/" in paths
    for segment in [
        "submit",
        "acknowledge",
        "request-info",
        "provide-info",
        "respond",
        "accept",
        "dispute",
        "withdraw",
        "escalate",
        "close",
        "messages",
        "evidence",
        "events",
        "clocks",
    ]:
        assert f"/api/v1/cases/{{reference}}/{segment}/" in paths
    assert "/api/v1/cases/{reference}/evidence/{evidence_id}/download/" in paths
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "cookieAuth"}


def test_every_operation_documents_its_errors_in_the_one_shape(client):
    document = client.get("/api/schema/", {"format": "json"}).json()
    error_ref = {"$ref": "#/components/schemas/Error"}

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = {code for code in operation["responses"] if code.startswith("4")}
            assert {"401", "429"} <= codes, (method, path)
            if "{reference}" in path:
                assert "404" in codes, (method, path)
            if method == "post":
                assert {"400", "403", "409", "415"} <= codes, (method, path)
            for code in codes:
                assert operation["responses"][code]["content"]["application/json"]["schema"] == error_ref


def test_request_bodies_refuse_unknown_fields_in_the_schema_too(client):
    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

    assert schemas["CaseCreateInputRequest"]["additionalProperties"] is False
    assert schemas["OutputInputRequest"]["additionalProperties"] is False


def test_the_interactive_docs_load_nothing_from_another_host(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL) or asset.startswith("/" + settings.STATIC_URL), asset
        assert finders.find(asset.split(settings.STATIC_URL, 1)[1]), f"{asset} is not a local static file"
    assert "http://" not in page and "https://" not in page


@pytest.fixture
def member_token(legal, fast_password_hashing):
    _token, plaintext = api_token_issue(actor=None, user=legal, name="schemathesis")
    return plaintext


@pytest.fixture
def member_cases(case_in_state, legal):
    """The member's cases in several states, each with a file, for generated requests to act on."""
    cases = [case_in_state(state) for state in ("draft", "submitted", "responded", "escalated")]
    files = [
        evidence_add(case=case, actor=legal, upload=SimpleUploadedFile("notes.txt", b"Notes.\n"))
        for case in cases
    ]
    return [(case.reference, evidence.pk) for case, evidence in zip(cases, files, strict=True)]


def aim_at_real_cases(case, member_cases):
    """Point a generated valid reference at one of the member's cases, so success answers are checked too.

    A random reference is almost always a 404; only values the schema allows are replaced, so a
    request schemathesis meant to be invalid stays invalid.
    """
    parameters = case.path_parameters or {}
    reference = parameters.get("reference")
    if isinstance(reference, str) and re.fullmatch(REFERENCE_PATTERN, reference):
        real_reference, real_file = member_cases[sum(map(ord, reference)) % len(member_cases)]
        parameters["reference"] = real_reference
        if isinstance(parameters.get("evidence_id"), int) and parameters["evidence_id"] > 0:
            parameters["evidence_id"] = real_file


schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.parametrize()
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_honours_its_schema(case, member_token, member_cases):
    """Generated requests, valid and invalid, get no server error and answers that match the schema."""
    aim_at_real_cases(case, member_cases)
    # Every check but positive_data_acceptance: a schema-valid request may still break a rule the
    # schema cannot express (the respondent slug must name a provider, a response must cover every
    # output), and the API rightly answers 400 then.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {member_token}"}, excluded_checks=[positive_data_acceptance]
    )
