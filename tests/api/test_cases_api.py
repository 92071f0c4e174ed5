"""Filing, listing and reading cases through the API, as a member's or a provider's system does."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims.models import Case, CaseState, Evidence
from claims.services import case_transition
from claims.sla.clocks import clocks_sweep
from members.models import Role
from tests.factories import ProviderFactory, UserFactory, WorkFactory, respond_payload

from .conftest import case_url, filing_data

pytestmark = pytest.mark.django_db


def references(response):
    return [case["reference"] for case in response.json()["results"]]


# --- Filing -------------------------------------------------------------------------------------


def test_a_member_files_a_claim_with_three_outputs_and_its_works(legal_api, legal, provider):
    work = WorkFactory(owner=legal.organisation)

    response = legal_api.post("/api/v1/cases/", filing_data(provider, works=[work.pk]), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["reference"].startswith("CL-")
    assert response["Location"].endswith(f"/api/v1/cases/{body['reference']}/")
    assert body["state"] == "submitted"
    assert body["respondent"]["slug"] == provider.slug
    assert body["claimant"]["slug"] == legal.organisation.slug
    assert [output["position"] for output in body["outputs"]] == [1, 2, 3]
    assert [output["url"] for output in body["outputs"]] == [
        f"https://vidgen.example/v/{i}" for i in range(3)
    ]
    assert [w["id"] for w in body["works"]] == [work.pk]
    assert body["remedies"] == ["remove_output", "block_prompts"]
    assert body["actions"] == ["withdraw"]
    case = Case.objects.get(reference=body["reference"])
    assert case.filed_by == legal
    assert list(case.events.values_list("action", flat=True)) == ["created", "submit"]


def test_a_draft_is_kept_from_the_provider_until_it_is_submitted(legal_api, agent_api, provider):
    response = legal_api.post("/api/v1/cases/", filing_data(provider, submit=False), format="json")
    reference = response.json()["reference"]

    assert response.json()["state"] == "draft"
    assert "submit" in response.json()["actions"]
    assert agent_api.get(f"/api/v1/cases/{reference}/").status_code == 404
    assert reference not in references(agent_api.get("/api/v1/cases/"))

    submitted = legal_api.post(f"/api/v1/cases/{reference}/submit/", format="json")

    assert submitted.json()["state"] == "submitted"
    assert agent_api.get(f"/api/v1/cases/{reference}/").status_code == 200


def test_another_members_work_cannot_be_named(legal_api, provider):
    foreign_work = WorkFactory()

    response = legal_api.post("/api/v1/cases/", filing_data(provider, works=[foreign_work.pk]), format="json")

    assert response.status_code == 400
    assert "works" in response.json()["error"]["fields"]
    assert not Case.objects.exists()


def test_a_provider_may_not_file(agent_api, provider):
    other_provider = ProviderFactory()

    response = agent_api.post("/api/v1/cases/", filing_data(other_provider), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_permitted"
    assert not Case.objects.exists()


# --- Reading ------------------------------------------------------------------------------------


def test_a_case_is_read_by_reference_with_its_response_and_the_callers_actions(
    legal_api, agent_api, agent, case_in_state
):
    case = case_in_state("responded")

    as_member = legal_api.get(case_url(case)).json()
    as_provider = agent_api.get(case_url(case)).json()

    assert as_member["state"] == "responded"
    assert as_member["actions"] == ["accept", "dispute", "withdraw"]
    assert as_provider["actions"] == []
    (response,) = as_member["responses"]
    assert response["contact_name"] == "Sato Hanako"
    assert [item["output"] for item in response["items"]] == [o.pk for o in case.outputs.order_by("position")]
    assert {item["outcome"] for item in response["items"]} == {"removed"}
    assert response["author"]["organisation"] == agent.organisation.slug


def test_the_timeline_carries_its_hash_chain(legal_api, case_in_state):
    case = case_in_state("acknowledged")

    events = legal_api.get(case_url(case, "events/")).json()["results"]

    assert [event["action"] for event in events] == ["created", "submit", "acknowledge"]
    assert [event["seq"] for event in events] == [1, 2, 3]
    assert events[0]["prev_hash"] == "0" * 64
    assert all(
        later["prev_hash"] == earlier["hash"] for earlier, later in zip(events, events[1:], strict=False)
    )
    assert events[2]["from_state"] == "submitted" and events[2]["to_state"] == "acknowledged"


def test_the_clocks_show_due_time_remaining_time_and_share_used(legal_api, case_in_state):
    case = case_in_state("submitted")
    later = timezone.now() + timedelta(days=1)

    with time_machine.travel(later, tick=False):
        clocks = {clock["kind"]: clock for clock in legal_api.get(case_url(case, "clocks/")).json()}

    response_clock = clocks["response"]
    assert response_clock["state"] == "running"
    assert response_clock["basis"] == "calendar"
    assert response_clock["target_seconds"] == 7 * 24 * 3600
    assert response_clock["remaining_seconds"] == pytest.approx(6 * 24 * 3600, abs=2)
    assert response_clock["share_elapsed"] == pytest.approx(1 / 7, abs=0.001)
    assert response_clock["due_at"] is not None
    assert clocks["acknowledgement"]["basis"] == "business"


def test_the_thread_is_read_and_written(legal_api, agent_api, legal, case_in_state):
    case = case_in_state("submitted")

    posted = agent_api.post(case_url(case, "messages/"), {"body": "Which scene?"}, format="json")
    legal_api.post(case_url(case, "messages/"), {"body": "At 0:42."}, format="json")
    thread = legal_api.get(case_url(case, "messages/")).json()["results"]

    assert posted.status_code == 201
    assert [message["body"] for message in thread] == ["Which scene?", "At 0:42."]
    assert thread[1]["author"]["name"] == str(legal)
    assert "message_posted" in case.events.values_list("action", flat=True)


def test_evidence_is_uploaded_read_and_downloaded_byte_for_byte(legal_api, agent_api, case_in_state):
    case = case_in_state("submitted")
    output = case.outputs.order_by("position").first()
    content = b"Screenshot notes: the character appears at 0:42.\n"

    uploaded = legal_api.post(
        case_url(case, "evidence/"),
        {"file": SimpleUploadedFile("notes.txt", content), "output": output.pk, "description": "Notes"},
        format="multipart",
    )

    assert uploaded.status_code == 201
    evidence = uploaded.json()
    assert evidence["content_type"] == "text/plain"
    assert evidence["size"] == len(content)
    assert evidence["output"] == output.pk
    assert evidence["original_name"] == "notes.txt"
    listed = agent_api.get(case_url(case, "evidence/")).json()["results"]
    assert [item["id"] for item in listed] == [evidence["id"]]
    assert agent_api.get(case_url(case, f"evidence/{evidence['id']}/")).json()["sha256"] == evidence["sha256"]
    download = agent_api.get(evidence["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "text/plain"


def test_an_upload_naming_another_cases_output_writes_nothing(legal_api, case_in_state):
    case = case_in_state("submitted")
    other_output = case_in_state("submitted").outputs.first()

    response = legal_api.post(
        case_url(case, "evidence/"),
        {"file": SimpleUploadedFile("notes.txt", b"some notes\n"), "output": other_output.pk},
        format="multipart",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["output"]
    assert not Evidence.objects.exists()


def test_a_file_of_a_refused_type_is_refused_with_the_services_reason(legal_api, case_in_state):
    case = case_in_state("submitted")

    response = legal_api.post(
        case_url(case, "evidence/"),
        {"file": SimpleUploadedFile("setup.png", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200))},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "evidence_type_not_allowed"
    assert not Evidence.objects.exists()


# --- Listing: filters and pagination ------------------------------------------------------------


@pytest.fixture
def assorted_cases(file_case, case_in_state, legal, agent):
    """Cases of one member against two providers, in several states, kinds and priorities."""
    other_provider = ProviderFactory(slug="other-ai")
    return {
        "submitted": case_in_state("submitted", priority="urgent"),
        "responded": case_in_state("responded"),
        "draft": case_in_state("draft"),
        "inquiry": file_case(kind="inquiry", title="Were our films used in training?", outputs=0),
        "other": file_case(respondent=other_provider, title="Spaceship cat"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=inquiry", ["inquiry"]),
        ("state=submitted&state=responded", ["inquiry", "other", "responded", "submitted"]),
        ("state=draft", ["draft"]),
        ("priority=urgent", ["submitted"]),
        ("counterparty=other-ai", ["other"]),
        ("q=spaceship", ["other"]),
        ("q=FILMS+USED", ["inquiry"]),
    ],
)
def test_the_list_filters(legal_api, assorted_cases, query, expected):
    by_reference = {case.reference: name for name, case in assorted_cases.items()}

    response = legal_api.get(f"/api/v1/cases/?{query}")

    assert response.status_code == 200
    assert sorted(by_reference[reference] for reference in references(response)) == expected


def test_the_list_filters_by_creation_and_submission_time(legal_api, file_case):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=10), tick=False):
        old = file_case(submit=False)
    with time_machine.travel(start - timedelta(days=2), tick=False):
        case_transition(case=old, action="submit", actor=old.filed_by)
    recent = file_case()

    def listed(query):
        return references(legal_api.get("/api/v1/cases/", {query: (start - timedelta(days=5)).isoformat()}))

    assert listed("created_after") == [recent.reference]
    assert listed("created_before") == [old.reference]
    assert sorted(listed("submitted_after")) == sorted([old.reference, recent.reference])
    assert listed("submitted_before") == []


def test_the_list_filters_by_deadline(legal_api, agent, case_in_state):
    due_soon = case_in_state("submitted")
    answered = case_in_state("responded")

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=12), tick=False):
        assert references(legal_api.get("/api/v1/cases/?clock=due_24h")) == [due_soon.reference]
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        clocks_sweep(now=timezone.now())
        assert references(legal_api.get("/api/v1/cases/?clock=breached")) == [due_soon.reference]
    assert answered.reference not in references(legal_api.get("/api/v1/cases/?clock=breached"))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=lost", "state"),
        ("kind=", "kind"),
        ("clock=soon", "clock"),
        ("created_after=yesterday", "created_after"),
        ("submitted_before=", "submitted_before"),
        ("page_size=0", "page_size"),
        ("page_size=many", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(legal_api, query, field):
    response = legal_api.get(f"/api/v1/cases/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == [field]


def test_cursor_pages_walk_every_case_once_newest_first(legal_api, file_case):
    filed = []
    start = timezone.now() - timedelta(hours=1)
    for minute in range(7):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            filed.append(file_case(outputs=1).reference)

    seen, url = [], "/api/v1/cases/?page_size=3"
    while url:
        page = legal_api.get(url).json()
        seen += [case["reference"] for case in page["results"]]
        url = page["next"]

    assert seen == filed[::-1]


def test_a_cursor_from_a_later_page_leads_back(legal_api, file_case):
    for _ in range(4):
        file_case(outputs=1)
    first = legal_api.get("/api/v1/cases/?page_size=2").json()
    second = legal_api.get(first["next"]).json()

    back = legal_api.get(second["previous"]).json()

    assert references_of(back) == references_of(first)


def references_of(page):
    return [case["reference"] for case in page["results"]]


def test_listing_costs_the_same_queries_for_three_cases_or_thirty(
    legal_api, file_case, agent, django_assert_max_num_queries
):
    def respond(case):
        return case_transition(case=case, action="respond", actor=agent, payload=respond_payload(case))

    for _ in range(3):
        respond(file_case(outputs=3))
    with django_assert_max_num_queries(7):
        few = legal_api.get("/api/v1/cases/?page_size=50")
    for _ in range(27):
        respond(file_case(outputs=3))

    with django_assert_max_num_queries(7):
        many = legal_api.get("/api/v1/cases/?page_size=50")

    assert len(few.json()["results"]) == 3
    assert len(many.json()["results"]) == 30
    assert all(len(case["responses"][0]["items"]) == 3 for case in many.json()["results"])


def test_the_detail_costs_a_fixed_number_of_queries(legal_api, file_case, django_assert_max_num_queries):
    case = file_case(outputs=20)

    with django_assert_max_num_queries(8):
        response = legal_api.get(case_url(case))

    assert len(response.json()["outputs"]) == 20


def test_a_provider_lists_only_what_is_addressed_to_it(api_client_for, assorted_cases, provider):
    colleague = UserFactory(role=Role.PROVIDER_ADMIN, organisation=provider)

    listed = references(api_client_for(colleague).get("/api/v1/cases/"))

    expected = {assorted_cases[name].reference for name in ("submitted", "responded", "inquiry")}
    assert set(listed) == expected
    assert CaseState.DRAFT not in {c.state for c in Case.objects.filter(reference__in=listed)}
