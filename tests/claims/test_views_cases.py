"""The case list, the case page and its forms, as the people using them meet them."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.forms import RespondForm
from claims.models import Case, CaseEvent, CaseState, Evidence, Message, Response
from claims.services import case_transition, evidence_add
from claims.templatetags.rightsdesk import tokyo
from members.errors import ApplicationError
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return _login


def detail_url(case):
    return reverse("claims:case_detail", kwargs={"reference": case.reference})


def action_url(case, action):
    return reverse("claims:case_action", kwargs={"reference": case.reference, "action": action})


def references(response):
    return re.findall(r"\b(?:CL|IQ)-\d{4}-\d{6}\b", response.content.decode())


def listed(response):
    """Return the references in the case table, in order, once each."""
    return list(dict.fromkeys(references(response)))


def text_file(name="notes.txt", content=b"Screenshot taken at 10:02, prompt shown below.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


# --- Who sees what --------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page(client, file_case):
    case = file_case()
    for url in (reverse("claims:case_list"), detail_url(case)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_home_leads_to_the_case_list(login, legal):
    response = login(legal).get(reverse("claims:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("claims:case_list")


@pytest.mark.parametrize("outsider", ["other_legal", "other_agent"])
def test_another_organisation_gets_404_from_every_case_view(request, login, file_case, outsider):
    case = file_case()
    evidence = evidence_add(case=case, actor=case.filed_by, upload=text_file())
    client = login(request.getfixturevalue(outsider))
    reference = case.reference

    assert client.get(detail_url(case)).status_code == 404
    assert client.post(action_url(case, "withdraw"), {"withdraw-reason": "x"}).status_code == 404
    assert client.post(action_url(case, "respond"), {}).status_code == 404
    assert (
        client.post(reverse("claims:message_create", args=[reference]), {"message-body": "hi"}).status_code
        == 404
    )
    upload = client.post(reverse("claims:evidence_upload", args=[reference]), {"evidence-file": text_file()})
    assert upload.status_code == 404
    assert client.get(reverse("claims:evidence_download", args=[reference, evidence.pk])).status_code == 404
    assert reference not in references(client.get(reverse("claims:case_list")))

    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert not Message.objects.filter(case=case).exists()
    assert case.evidence.count() == 1


@pytest.mark.parametrize("viewer", ["agent", "analyst"])
def test_a_draft_is_invisible_to_the_provider_and_the_association(request, login, file_case, viewer):
    draft = file_case(submit=False, title="Not yet sent")
    client = login(request.getfixturevalue(viewer))

    assert client.get(detail_url(draft)).status_code == 404
    assert client.post(action_url(draft, "acknowledge"), {}).status_code == 404
    assert draft.reference not in references(client.get(reverse("claims:case_list")))


def test_the_claimant_sees_its_draft_and_may_submit_it(login, legal, file_case):
    draft = file_case(submit=False)
    client = login(legal)
    page = client.get(detail_url(draft))
    assert page.status_code == 200
    assert f'action="{action_url(draft, "submit")}"' in page.content.decode()

    response = client.post(action_url(draft, "submit"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == CaseState.SUBMITTED


# --- Case list ------------------------------------------------------------------------------------


def test_case_list_filters_by_state_kind_priority_counterparty_and_text(login, legal, file_case):
    second_provider = ProviderFactory()
    urgent = file_case(title="Urgent likeness", priority="urgent")
    inquiry = file_case(kind="inquiry", title="Training question", outputs=0)
    elsewhere = file_case(title="Other provider's video", respondent=second_provider)
    draft = file_case(title="Half written", submit=False)
    client = login(legal)
    url = reverse("claims:case_list")

    assert set(listed(client.get(url))) == {c.reference for c in (urgent, inquiry, elsewhere, draft)}
    assert listed(client.get(url, {"state": "draft"})) == [draft.reference]
    assert listed(client.get(url, {"kind": "inquiry"})) == [inquiry.reference]
    assert listed(client.get(url, {"priority": "urgent"})) == [urgent.reference]
    assert listed(client.get(url, {"counterparty": second_provider.pk})) == [elsewhere.reference]
    assert listed(client.get(url, {"q": "training"})) == [inquiry.reference]
    assert listed(client.get(url, {"q": urgent.reference})) == [urgent.reference]
    assert listed(client.get(url, {"q": "nothing like this"})) == []


def test_case_list_ignores_a_counterparty_the_user_may_not_filter_by(login, legal, other_legal, file_case):
    ours = file_case()
    # A member filters by providers; another member's id is not a choice and must not narrow anything.
    response = login(legal).get(reverse("claims:case_list"), {"counterparty": other_legal.organisation_id})

    assert response.status_code == 200
    assert listed(response) == [ours.reference]


def test_case_list_sorts_by_whitelisted_columns_in_both_directions(login, legal, file_case):
    banana = file_case(title="Banana", priority="low")
    apple = file_case(title="Apple", priority="urgent")
    cherry = file_case(title="Cherry", priority="high")
    client = login(legal)
    url = reverse("claims:case_list")

    assert listed(client.get(url, {"sort": "title"})) == [apple.reference, banana.reference, cherry.reference]
    assert listed(client.get(url, {"sort": "-title"})) == [
        cherry.reference,
        banana.reference,
        apple.reference,
    ]
    # Priority sorts by urgency, not by the alphabet.
    assert listed(client.get(url, {"sort": "-priority"})) == [
        apple.reference,
        cherry.reference,
        banana.reference,
    ]
    assert listed(client.get(url, {"sort": "created"})) == [
        banana.reference,
        apple.reference,
        cherry.reference,
    ]
    # Anything else falls back to newest first rather than reaching the database.
    assert listed(client.get(url, {"sort": "filed_by__password"})) == [
        cherry.reference,
        apple.reference,
        banana.reference,
    ]


def test_case_list_pages_by_25_and_keeps_the_filters_in_its_links(login, legal, file_case):
    for number in range(27):
        file_case(title=f"Bulk {number:02d}", outputs=1, priority="high")
    file_case(title="Not high", priority="low")
    client = login(legal)
    url = reverse("claims:case_list")

    first = client.get(url, {"priority": "high", "sort": "title"})
    assert len(listed(first)) == 25
    assert "Bulk 00" in first.content.decode() and "Bulk 25" not in first.content.decode()
    next_link = (
        re.search(r'href="(\?[^"]*page=2[^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")
    )
    assert "priority=high" in next_link and "sort=title" in next_link

    second = client.get(url + next_link)
    body = second.content.decode()
    assert len(listed(second)) == 2
    assert "Bulk 25" in body and "Bulk 26" in body and "Not high" not in body


def test_case_list_answers_htmx_with_the_table_alone(login, legal, file_case):
    case = file_case()
    client = login(legal)
    url = reverse("claims:case_list")

    partial = client.get(url, {"state": "submitted"}, headers={"HX-Request": "true"})
    full = client.get(url, {"state": "submitted"})

    assert case.reference in partial.content.decode()
    assert "<html" not in partial.content.decode()
    assert "<html" in full.content.decode() and 'id="case-results"' in full.content.decode()
    assert "HX-Request" in partial["Vary"]
    # The language switch, outside the swapped table, learns the new address out of band.
    assert re.search(
        r'<input[^>]*name="next"[^>]*value="/cases/\?state=submitted"[^>]*hx-swap-oob',
        partial.content.decode(),
    )


def test_case_list_shows_outputs_count_counterparty_and_tokyo_time(login, agent, file_case):
    case = file_case(outputs=3)
    body = login(agent).get(reverse("claims:case_list")).content.decode()

    row = body[body.index(case.reference) :]
    row = row[: row.index("</tr>")]
    assert ">3<" in row
    assert case.claimant.name_en in row
    assert "JST" in row


# --- Case page ------------------------------------------------------------------------------------


def action_names(response):
    return set(re.findall(r'id="action-([a-z_]+)"', response.content.decode()))


def test_case_page_offers_each_side_only_its_own_actions(login, legal, agent, analyst, file_case):
    case = file_case()

    assert action_names(login(agent).get(detail_url(case))) == {"acknowledge", "request_info", "respond"}
    assert action_names(login(legal).get(detail_url(case))) == {"withdraw"}
    assert action_names(login(analyst).get(detail_url(case))) == {"escalate"}


def test_case_page_shows_the_case_its_outputs_thread_and_verified_timeline(login, legal, agent, file_case):
    case = file_case(outputs=2, remedies=["remove_output", "block_prompts"])
    case_transition(
        case=case, action="request_info", actor=agent, payload={"question": "Which frame exactly?"}
    )
    body = login(legal).get(detail_url(case)).content.decode()

    assert case.title in body and case.description in body
    assert "Character likeness" in body and "Block prompts or characters" in body
    assert "https://vidgen.example/v/0" in body and "https://vidgen.example/v/1" in body
    assert "Which frame exactly?" in body
    assert "Chain verified" in body
    assert "Information requested" in body
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d JST", body)


def test_case_page_flags_a_tampered_timeline(login, legal, file_case):
    case = file_case()
    # A direct UPDATE, as someone with database access might do, bypassing the append-only model.
    CaseEvent.objects.filter(case=case, seq=1).update(data={"outputs": 99})

    body = login(legal).get(detail_url(case)).content.decode()
    assert "Chain broken" in body
    assert "Chain verified" not in body


# --- Actions --------------------------------------------------------------------------------------


def respond_data(case, **overrides):
    data = {
        "respond-summary": "We removed the first video and block the character's name.",
        "respond-contact_name": "Aoi Tanaka",
        "respond-contact_email": "trust@vidgen.example",
    }
    for output, outcome in zip(case.outputs.order_by("position"), ("removed", "blocked"), strict=False):
        data[f"respond-output_{output.pk}_outcome"] = outcome
        data[f"respond-output_{output.pk}_rationale"] = f"Output #{output.position} matches the character."
        data[f"respond-output_{output.pk}_measures"] = "Prompt filter updated."
    data.update(overrides)
    return data


def test_provider_responds_with_an_outcome_for_every_output(login, agent, file_case):
    case = file_case(outputs=2)
    response = login(agent).post(action_url(case, "respond"), respond_data(case), follow=True)

    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.RESPONDED
    saved = Response.objects.get(case=case)
    assert saved.contact_email == "trust@vidgen.example"
    assert sorted(saved.items.values_list("output__position", "outcome")) == [(1, "removed"), (2, "blocked")]
    body = response.content.decode()
    assert "Your response was sent to the claimant." in body
    assert "Output #2 matches the character." in body


def test_a_response_missing_a_rationale_is_refused_beside_the_field_and_saves_nothing(
    login, agent, file_case
):
    case = file_case(outputs=2)
    second = case.outputs.get(position=2)
    data = respond_data(case, **{f"respond-output_{second.pk}_rationale": ""})

    response = login(agent).post(action_url(case, "respond"), data)

    assert response.status_code == 400
    body = response.content.decode()
    error_block = body[body.index(f'id="id_respond-output_{second.pk}_rationale"') :]
    assert "This field is required." in error_block[: error_block.index("</div>")]
    assert 'value="Aoi Tanaka"' in body  # what was typed is kept
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert not Response.objects.filter(case=case).exists()
    assert case.events.count() == 2  # created, submitted


def test_a_dispute_without_reasons_is_refused_and_changes_nothing(login, legal, agent, file_case):
    case = file_case(outputs=1)
    login(agent).post(action_url(case, "respond"), respond_data(case))
    client = login(legal)

    response = client.post(action_url(case, "dispute"), {"dispute-note": "Generic text."})

    assert response.status_code == 400
    assert "id_dispute-reasons_error" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.RESPONDED
    assert case.dispute_count == 0


def test_an_action_the_user_may_not_take_is_refused_and_changes_nothing(login, legal, file_case):
    case = file_case(outputs=1)

    response = login(legal).post(action_url(case, "respond"), respond_data(case))

    # The service says "not permitted" (403); the page shows its message at the top.
    assert response.status_code == 403
    assert 'class="alert alert-error"' in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert not Response.objects.filter(case=case).exists()


def test_an_action_that_no_longer_fits_the_state_is_refused_with_409(login, agent, file_case):
    case = file_case()
    client = login(agent)
    assert client.post(action_url(case, "acknowledge"), {}).status_code == 302

    again = client.post(action_url(case, "acknowledge"), {})

    assert again.status_code == 409
    assert 'class="alert alert-error"' in again.content.decode()
    assert case.events.filter(action="acknowledge").count() == 1


def test_unknown_action_is_404_and_actions_accept_only_post(login, agent, file_case):
    case = file_case()
    client = login(agent)

    assert client.post(action_url(case, "delete_everything"), {}).status_code == 404
    assert client.get(action_url(case, "acknowledge")).status_code == 405


def test_the_association_escalates_and_closes_with_an_outcome(login, analyst, association_admin, file_case):
    case = file_case()
    escalated = login(analyst).post(action_url(case, "escalate"), {"escalate-reason": "No answer in weeks."})
    assert escalated.status_code == 302

    closed = login(association_admin).post(
        action_url(case, "close"),
        {"close-outcome": "upheld", "close-note": "The output copies the character."},
    )

    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    assert case.close_outcome == "upheld"


def test_respond_form_puts_service_errors_beside_the_right_output(agent, file_case):
    case = file_case(outputs=2)
    first, second = case.outputs.order_by("position")
    form = RespondForm(respond_data(case), case=case)
    assert form.is_valid()

    form.add_service_error(
        ApplicationError(
            "The response is not complete.",
            fields={"items.1.rationale": ["Give the rationale."], "items": ["Missing: #3."]},
        )
    )

    assert form.errors[f"output_{second.pk}_rationale"] == ["Give the rationale."]
    assert f"output_{first.pk}_rationale" not in form.errors
    assert "Missing: #3." in form.non_field_errors()
    assert "The response is not complete." in form.non_field_errors()


# --- Thread and evidence --------------------------------------------------------------------------


def test_both_parties_post_messages_and_an_empty_one_is_refused(login, legal, agent, file_case):
    case = file_case()
    url = reverse("claims:message_create", args=[case.reference])

    assert login(agent).post(url, {"message-body": "We are looking into it."}).status_code == 302
    empty = login(legal).post(url, {"message-body": "   "})

    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    assert list(case.messages.values_list("body", flat=True)) == ["We are looking into it."]


def test_the_association_cannot_post_to_the_thread(login, analyst, file_case):
    case = file_case()
    page = login(analyst).get(detail_url(case))
    assert reverse("claims:message_create", args=[case.reference]) not in page.content.decode()

    response = login(analyst).post(
        reverse("claims:message_create", args=[case.reference]), {"message-body": "Hello"}
    )
    assert response.status_code == 403
    assert "Only the parties to a case may add to it." in response.content.decode()
    assert not case.messages.exists()


def test_a_party_uploads_evidence_and_the_other_party_downloads_the_same_bytes(
    login, legal, agent, file_case
):
    case = file_case(outputs=2)
    second = case.outputs.get(position=2)
    content = b"Frame 12 shows the character's emblem.\n"
    upload = login(legal).post(
        reverse("claims:evidence_upload", args=[case.reference]),
        {
            "evidence-file": text_file("frame12.txt", content),
            "evidence-output": second.pk,
            "evidence-description": "Notes on frame 12",
        },
    )
    assert upload.status_code == 302
    evidence = Evidence.objects.get(case=case)
    assert evidence.output == second

    client = login(agent)
    assert "frame12.txt" in client.get(detail_url(case)).content.decode()
    download = client.get(reverse("claims:evidence_download", args=[case.reference, evidence.pk]))

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "text/plain"
    assert download["Content-Disposition"] == 'attachment; filename="frame12.txt"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_evidence_of_a_disallowed_type_is_refused_beside_the_file_field(login, legal, file_case):
    case = file_case()
    binary = SimpleUploadedFile("looks.png", b"\x00\x01\x02\x03not really an image", content_type="image/png")

    response = login(legal).post(
        reverse("claims:evidence_upload", args=[case.reference]), {"evidence-file": binary}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "id_evidence-file_error" in body and "not an allowed type of file" in body
    assert not Evidence.objects.filter(case=case).exists()


def test_evidence_of_another_case_is_not_reachable_through_a_visible_case(
    login, legal, file_case, other_legal
):
    ours = file_case()
    theirs = file_case(actor=other_legal)
    foreign = evidence_add(case=theirs, actor=other_legal, upload=text_file())

    response = login(legal).get(reverse("claims:evidence_download", args=[ours.reference, foreign.pk]))
    assert response.status_code == 404


# --- Language and time ----------------------------------------------------------------------------


def test_language_switch_renders_the_pages_in_japanese(login, legal, file_case):
    case = file_case()
    client = login(legal)
    assert "Cases" in client.get(reverse("claims:case_list")).content.decode()

    switched = client.post(
        "/i18n/setlang/", {"language": "ja", "next": reverse("claims:case_list")}, follow=True
    )

    body = switched.content.decode()
    assert '<html lang="ja">' in body
    assert "案件" in body and "提出済み" in body
    detail = client.get(detail_url(case)).content.decode()
    assert "タイムライン" in detail


def test_times_are_shown_in_tokyo_with_the_zone():
    assert tokyo(dt.datetime(2026, 11, 25, 5, 3, tzinfo=dt.UTC)) == "2026-11-25 14:03 JST"
    assert tokyo(None) == ""


def test_case_list_never_lists_a_case_twice_across_pages(login, legal, file_case):
    """Cases created in the same instant still page deterministically."""
    cases = [file_case(title=f"Same {n}", outputs=1) for n in range(30)]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(created_at=cases[0].created_at)
    client = login(legal)
    url = reverse("claims:case_list")

    seen = listed(client.get(url)) + listed(client.get(url, {"page": 2}))
    assert sorted(seen) == sorted(c.reference for c in cases)


def _queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_case_list_queries_do_not_grow_with_the_cases_shown(login, legal, file_case):
    client = login(legal)
    url = reverse("claims:case_list")
    file_case()
    few = _queries_for(client, url)
    for _ in range(6):
        file_case(respondent=ProviderFactory())

    assert _queries_for(client, url) == few


def test_case_page_queries_do_not_grow_with_outputs_messages_and_evidence(login, legal, agent, file_case):
    small, large = file_case(outputs=1), file_case(outputs=5)
    for case in (small, large):
        for number in range(1 if case is small else 4):
            evidence_add(case=case, actor=legal, upload=text_file(content=f"note {number}\n".encode()))
        case_transition(case=case, action="request_info", actor=agent, payload={"question": "Which one?"})
        case_transition(case=case, action="provide_info", actor=legal, payload={"answer": "All of them."})
    client = login(agent)

    assert _queries_for(client, detail_url(large)) == _queries_for(client, detail_url(small))
