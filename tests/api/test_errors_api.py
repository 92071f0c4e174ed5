"""Every 4xx has one shape, {"error": {"code", "message", "fields"}}, and a refused request writes nothing."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from claims.models import Case, CaseEvent
from members.models import Role
from members.tokens import api_token_issue
from tests.factories import UserFactory

from .conftest import case_url, filing_data, output_data

pytestmark = pytest.mark.django_db


def error_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def nothing_written():
    """Assert at the end of the test that no case or event was written."""
    yield
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()


# --- Filing: what a buggy client sends ------------------------------------------------------------


def test_unknown_fields_are_listed_at_every_level(legal_api, provider, nothing_written, in_english):
    data = filing_data(provider, priorty="urgent", output_count=2)
    data["outputs"][1]["screenshot"] = "x.png"

    error = error_of(legal_api.post("/api/v1/cases/", data, format="json"), 400)

    assert error["code"] == "unknown_fields"
    assert error["fields"] == {"priorty": ["Unknown field."], "outputs.1.screenshot": ["Unknown field."]}
    assert "priorty" in error["message"] and "outputs.1.screenshot" in error["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "complaint"}, "kind"),
        ({"remedies": "remove_output"}, "remedies"),
        ({"remedies": ["apology"]}, "remedies.0"),
        ({"works": ["first"]}, "works"),
        ({"submit": "perhaps"}, "submit"),
        ({"outputs": {"product": "VidGen"}}, "outputs"),
        ({"outputs": [output_data(seen_at="last tuesday")]}, "outputs.0.seen_at"),
        ({"outputs": [output_data(url=None)]}, "outputs.0.url"),
        ({"title": "x" * 301}, "title"),
        ({"respondent": "no-such-provider"}, "respondent"),
        ({"title": "Nul\x00byte"}, "title"),
    ],
)
def test_wrong_types_and_values_are_400_naming_the_field(legal_api, provider, nothing_written, change, field):
    error = error_of(legal_api.post("/api/v1/cases/", filing_data(provider, **change), format="json"), 400)

    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_missing_fields_are_each_named(legal_api, nothing_written, in_english):
    error = error_of(legal_api.post("/api/v1/cases/", {}, format="json"), 400)

    assert error["code"] == "invalid"
    assert error["fields"] == {
        name: ["This field is required."] for name in ("kind", "respondent", "title", "description")
    }


def test_a_rule_of_the_filing_service_comes_back_with_its_field_path(legal_api, provider, nothing_written):
    data = filing_data(provider)
    data["outputs"][2]["url"] = ""

    error = error_of(legal_api.post("/api/v1/cases/", data, format="json"), 400)

    assert list(error["fields"]) == ["outputs.2.url"]


@pytest.mark.parametrize("body", ['{"kind": "claim",', "kind=claim", "[1, 2", "\x00"])
def test_malformed_json_is_400_malformed_json(legal_api, nothing_written, body):
    error = error_of(legal_api.post("/api/v1/cases/", body, content_type="application/json"), 400)

    assert error["code"] == "malformed_json"


def test_a_body_that_is_not_an_object_is_400(legal_api, nothing_written):
    error = error_of(legal_api.post("/api/v1/cases/", [1, 2], format="json"), 400)

    assert error["code"] == "invalid"
    assert "__all__" in error["fields"]


def test_a_form_encoded_body_is_415(legal_api, provider, nothing_written):
    response = legal_api.post("/api/v1/cases/", {"kind": "claim"})  # the test client's default: multipart

    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_json_sent_to_the_upload_endpoint_is_415(legal_api, case_in_state):
    case = case_in_state("submitted")

    error = error_of(legal_api.post(case_url(case, "evidence/"), {"file": "x"}, format="json"), 415)

    assert error["code"] == "unsupported_media_type"


# --- Authentication, permission, routing, throttling ----------------------------------------------


def test_no_credentials_is_401_with_the_scheme_to_use():
    response = APIClient().get("/api/v1/cases/")

    assert error_of(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer rdk_notatoken", "Bearer", "Token rdk_abcdefgh_" + "x" * 43])
def test_a_bad_token_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert error_of(client.get("/api/v1/cases/"), 401)["code"] == "authentication_failed"


def test_a_revoked_token_is_401(legal, member_admin):
    from members.tokens import api_token_revoke

    token, plaintext = api_token_issue(actor=member_admin, user=legal, name="ci")
    api_token_revoke(actor=member_admin, token=token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert error_of(client.get("/api/v1/cases/"), 401)["code"] == "authentication_failed"


def test_an_unknown_reference_is_404(legal_api):
    assert error_of(legal_api.get("/api/v1/cases/CL-2026-999999/"), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/not a reference/", "/api/v1/nothing/", "/api/v2/cases/", "/api/v1/cases"]
)
def test_an_address_without_an_endpoint_is_404_in_the_error_shape(legal_api, path):
    assert error_of(legal_api.get(path), 404)["code"] == "not_found"
    assert error_of(legal_api.post(path, {}, format="json"), 404)["code"] == "not_found"


def test_the_missing_slash_is_pointed_out(legal_api):
    response = legal_api.get("/api/v1/cases", HTTP_ACCEPT_LANGUAGE="en")

    assert "ends with “/”" in error_of(response, 404)["message"]


def test_a_method_an_endpoint_does_not_have_is_405(legal_api, case_in_state):
    case = case_in_state("submitted")

    response = legal_api.delete(case_url(case))

    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_too_many_requests_is_429_with_retry_after(settings, legal_api):
    settings.API_THROTTLE_RATE = "2/min"

    for _ in range(2):
        assert legal_api.get("/api/v1/cases/").status_code == 200
    response = legal_api.get("/api/v1/cases/")

    assert error_of(response, 429)["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_refused_role_is_403_with_the_services_message(api_client_for, provider, case_in_state, in_english):
    analyst = UserFactory(role=Role.ASSOCIATION_ANALYST)
    case = case_in_state("submitted")

    error = error_of(
        api_client_for(analyst).post(case_url(case, "messages/"), {"body": "Hi"}, format="json"), 403
    )

    assert error["code"] == "not_permitted"
    assert error["message"] == "Only the parties to a case may add to it."


# --- Language ---------------------------------------------------------------------------------------


def test_messages_follow_the_token_users_language_unless_the_request_names_one(api_client_for, provider):
    japanese = UserFactory(role=Role.MEMBER_LEGAL, language="ja")
    client = api_client_for(japanese)

    implicit = error_of(client.post("/api/v1/cases/", {}, format="json"), 400)
    english = error_of(client.post("/api/v1/cases/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en"), 400)

    with translation.override("ja"):
        assert implicit["fields"]["title"] == [translation.gettext("This field is required.")]
    assert english["fields"]["title"] == ["This field is required."]
    assert implicit["fields"]["title"] != english["fields"]["title"]


def test_a_number_where_text_is_expected_is_refused_not_stored(legal_api, file_case, in_english):
    """Found by schemathesis: {"body": 6.7e16} was stored as the message text "6.7e16"."""
    case = file_case()
    response = legal_api.post(case_url(case, "messages/"), {"body": 6.78831187406873e16}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"body": ["Not a valid string."]}
    assert not case.messages.exists()


@pytest.mark.parametrize(
    "field, value",
    [("submit", 1), ("submit", "true"), ("respondent", 5), ("title", False), ("works", ["1"])],
)
def test_a_value_of_the_wrong_json_type_is_refused(legal_api, provider, in_english, field, value):
    data = filing_data(provider)
    data[field] = value
    response = legal_api.post("/api/v1/cases/", data, format="json")
    assert response.status_code == 400
    assert field in str(response.json()["error"]["fields"])
    assert not Case.objects.exists()
