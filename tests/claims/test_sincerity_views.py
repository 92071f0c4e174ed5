"""Sincerity on the pages: the response's panel, the verdict form, the queue and the headline rate."""

import pytest
from django.urls import reverse

from claims.models import Sincerity
from claims.services import case_transition
from claims.sincerity.services import response_adjudicate
from members.models import Role
from tests.factories import DISPUTE_PAYLOAD, MemberFactory, UserFactory, respond_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TEMPLATE = (
    "Dear Ms Tanaka, thank you for your report. We reviewed the outputs you cited and removed them "
    "under our acceptable use policy. We also blocked the prompts that produced them."
)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return _login


def adjudicate_url(response):
    return reverse(
        "claims:response_adjudicate",
        kwargs={"reference": response.case.reference, "response_id": response.pk},
    )


@pytest.fixture
def templated_pair(file_case, agent):
    """The provider answers another member's case, then ours, in the same words."""
    other_legal = UserFactory(role=Role.MEMBER_LEGAL, organisation=MemberFactory())
    theirs, ours = file_case(actor=other_legal), file_case()
    for case in (theirs, ours):
        case_transition(
            case=case, action="respond", actor=agent, payload=respond_payload(case, summary=TEMPLATE)
        )
    return theirs, ours


@pytest.fixture
def challenged(case_in_state, legal):
    case = case_in_state("responded")
    case_transition(case=case, action="dispute", actor=legal, payload=dict(DISPUTE_PAYLOAD))
    return case.responses.get()


@pytest.mark.parametrize(("who", "linked"), [("legal", False), ("agent", True), ("analyst", True)])
def test_a_templated_response_shows_its_figure_and_links_only_a_case_the_viewer_may_see(
    login, templated_pair, request, who, linked
):
    theirs, ours = templated_pair

    page = login(request.getfixturevalue(who)).get(ours.get_absolute_url()).content.decode()

    assert "100%" in page and "Templated" in page
    assert (theirs.reference in page) is linked


def test_the_association_sees_the_verdict_form_and_the_parties_do_not(
    login, challenged, legal, agent, analyst
):
    url = adjudicate_url(challenged)

    assert url in login(analyst).get(challenged.case.get_absolute_url()).content.decode()
    for party in (legal, agent):
        page = login(party).get(challenged.case.get_absolute_url()).content.decode()
        assert url not in page
        assert "Challenged as insincere" in page


def test_a_verdict_through_the_form_is_recorded_and_shown(login, challenged, analyst):
    client = login(analyst)

    answer = client.post(
        adjudicate_url(challenged),
        {
            f"adjudicate-{challenged.pk}-verdict": "insincere",
            f"adjudicate-{challenged.pk}-note": "A form letter that ignores output #2.",
        },
    )

    assert answer.status_code == 302
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.INSINCERE
    page = client.get(challenged.case.get_absolute_url()).content.decode()
    assert "A form letter that ignores output #2." in page
    assert "Judged insincere: does not count as met" in page  # on the deadlines card


def test_htmx_gets_the_form_back_with_its_error_and_a_redirect_on_success(login, challenged, analyst):
    client = login(analyst)
    prefix = f"adjudicate-{challenged.pk}"

    refused = client.post(
        adjudicate_url(challenged), {f"{prefix}-verdict": "insincere"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 200
    assert "needs a note" in refused.content.decode()
    assert "<html" not in refused.content.decode()

    done = client.post(adjudicate_url(challenged), {f"{prefix}-verdict": "sincere"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 204
    assert done["HX-Redirect"].endswith(f"#response-{challenged.pk}")


def test_a_refused_verdict_without_htmx_is_a_page_with_the_error(login, challenged, analyst):
    answer = login(analyst).post(
        adjudicate_url(challenged), {f"adjudicate-{challenged.pk}-verdict": "insincere"}
    )

    assert answer.status_code == 400
    assert "needs a note" in answer.content.decode()
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED


@pytest.mark.parametrize("who", ["legal", "agent"])
def test_the_parties_may_not_adjudicate_through_the_page(login, challenged, request, who):
    client = login(request.getfixturevalue(who))

    assert client.get(adjudicate_url(challenged)).status_code == 403
    answer = client.post(adjudicate_url(challenged), {f"adjudicate-{challenged.pk}-verdict": "sincere"})

    assert answer.status_code == 403
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED


def test_another_organisation_gets_404_and_a_response_of_another_case_is_404(
    login, challenged, other_legal, other_agent, analyst, case_in_state
):
    for outsider in (other_legal, other_agent):
        assert login(outsider).get(adjudicate_url(challenged)).status_code == 404
        assert login(outsider).post(adjudicate_url(challenged), {}).status_code == 404
    elsewhere = case_in_state("responded")
    url = reverse(
        "claims:response_adjudicate", kwargs={"reference": elsewhere.reference, "response_id": challenged.pk}
    )
    assert login(analyst).get(url).status_code == 404


def test_the_queue_lists_challenged_responses_for_the_association_only(
    login, challenged, case_in_state, analyst, legal, agent
):
    unchallenged = case_in_state("responded")
    url = reverse("claims:adjudication_list")

    page = login(analyst).get(url).content.decode()
    assert challenged.case.reference in page
    assert unchallenged.reference not in page
    assert url in page  # in the navigation
    for party in (legal, agent):
        assert login(party).get(url).status_code == 403
        assert url not in login(party).get(reverse("claims:case_list")).content.decode()

    response_adjudicate(response=challenged, actor=analyst, verdict="sincere", note="")
    assert challenged.case.reference not in login(analyst).get(url).content.decode()


def test_the_providers_home_shows_its_sincere_on_time_rate(login, case_in_state, agent, other_agent):
    case_in_state("responded")

    page = login(agent).get(reverse("claims:home")).content.decode()
    assert "Sincere on-time rate" in page and "100%" in page
    assert "100%" not in login(other_agent).get(reverse("claims:home")).content.decode()
