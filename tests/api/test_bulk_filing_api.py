"""Filing many claims in one request (POST /api/v1/cases/bulk/), as members' tools do."""

from datetime import timedelta

import pytest
from django.utils import timezone

from claims.models import Case, CaseState
from claims.services.timeline import timeline_verify
from claims.sla.models import Clock, ClockKind, ClockStatus, SlaPolicy
from members.models import Role
from notifications.models import Notification
from tests.factories import ProviderFactory, UserFactory, WorkFactory

from .conftest import filing_data

pytestmark = pytest.mark.django_db

BULK = "/api/v1/cases/bulk/"


def test_a_member_files_many_claims_in_one_request(
    legal_api, legal, provider, agent, django_capture_on_commit_callbacks, eager_tasks
):
    work = WorkFactory(owner=legal.organisation)
    filings = [filing_data(provider, title=f"Claim {n}", output_count=n + 1) for n in range(3)]
    filings[1]["works"] = [work.pk]
    filings.append(filing_data(provider, kind="inquiry", title="Were our works used?", output_count=0))

    with django_capture_on_commit_callbacks(execute=True):
        response = legal_api.post(BULK, {"cases": filings}, format="json")

    assert response.status_code == 201
    created = response.json()["cases"]
    assert [c["kind"] for c in created] == ["claim", "claim", "claim", "inquiry"]
    assert [len(c["outputs"]) for c in created] == [1, 2, 3, 0]
    assert all(c["state"] == "submitted" for c in created)
    claims = [c["reference"] for c in created[:3]]
    numbers = [int(reference.rsplit("-", 1)[1]) for reference in claims]
    assert numbers == list(range(numbers[0], numbers[0] + 3)), "claims are numbered consecutively"
    assert created[3]["reference"].startswith("IQ-")
    assert created[0]["url"].endswith(f"/api/v1/cases/{claims[0]}/")

    for entry in created:
        case = Case.objects.get(reference=entry["reference"])
        assert case.filed_by == legal and case.respondent == provider
        assert [o["id"] for o in entry["outputs"]] == list(
            case.outputs.order_by("position").values_list("id", flat=True)
        )
        assert list(case.events.values_list("action", flat=True)) == ["created", "submit"]
        assert timeline_verify(case=case) == []
        running = set(case.clocks.filter(status=ClockStatus.RUNNING).values_list("kind", flat=True))
        assert running == {ClockKind.ACKNOWLEDGEMENT, ClockKind.RESPONSE}
    assert list(Case.objects.get(reference=claims[1]).works.all()) == [work]
    # The provider's staff hear of every filing.
    assert Notification.objects.filter(recipient=agent).count() == 4


def test_one_bad_filing_writes_none_of_them_and_every_error_is_named(legal_api, provider):
    good = filing_data(provider)
    seen_tomorrow = filing_data(provider)
    seen_tomorrow["outputs"][0]["seen_at"] = (timezone.now() + timedelta(days=1)).isoformat()
    bad_output = filing_data(provider)
    bad_output["outputs"][1]["url"] = "not a url"

    response = legal_api.post(BULK, {"cases": [good, seen_tomorrow, bad_output]}, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"cases.1.outputs.0.seen_at", "cases.2.outputs.1.url"}
    assert Case.objects.count() == 0


def test_a_malformed_filing_is_named_by_its_position(legal_api, provider):
    response = legal_api.post(
        BULK, {"cases": [filing_data(provider), filing_data(provider, title="")]}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["cases.1.title"]
    assert Case.objects.count() == 0


def test_a_provider_that_does_not_exist_is_named_per_filing(legal_api, provider):
    response = legal_api.post(
        BULK,
        {"cases": [filing_data(provider), filing_data(provider, respondent="no-such-provider")]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["cases.1.respondent"]
    assert Case.objects.count() == 0


def test_a_member_is_not_a_respondent(legal_api, provider, other_legal):
    response = legal_api.post(
        BULK, {"cases": [filing_data(provider, respondent=other_legal.organisation.slug)]}, format="json"
    )

    assert response.status_code == 400
    assert "cases.0.respondent" in response.json()["error"]["fields"]
    assert Case.objects.count() == 0


def test_an_empty_or_oversized_batch_is_refused(legal_api, provider, settings):
    settings.API_BULK_FILING_MAX_CASES = 2

    empty = legal_api.post(BULK, {"cases": []}, format="json")
    too_many = legal_api.post(BULK, {"cases": [filing_data(provider, output_count=1)] * 3}, format="json")

    assert empty.status_code == 400 and "cases" in empty.json()["error"]["fields"]
    assert too_many.status_code == 400 and "cases" in too_many.json()["error"]["fields"]
    assert Case.objects.count() == 0


def test_unknown_fields_in_a_filing_are_refused(legal_api, provider):
    response = legal_api.post(BULK, {"cases": [{**filing_data(provider), "priorty": "high"}]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_fields"
    assert Case.objects.count() == 0


def test_a_provider_may_not_file_in_bulk(agent_api, provider):
    response = agent_api.post(BULK, {"cases": [filing_data(ProviderFactory())]}, format="json")

    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_a_retried_bulk_request_files_once(legal_api, provider):
    body = {"cases": [filing_data(provider), filing_data(provider)]}

    first = legal_api.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-7")
    retry = legal_api.post(BULK, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-7")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert Case.objects.count() == 2


def test_bulk_filed_cases_stay_within_the_filers_organisation(legal_api, api_client_for, provider):
    response = legal_api.post(BULK, {"cases": [filing_data(provider)]}, format="json")
    reference = response.json()["cases"][0]["reference"]
    other_member = api_client_for(UserFactory(role=Role.MEMBER_LEGAL))
    other_provider = api_client_for(UserFactory(role=Role.PROVIDER_AGENT, organisation=ProviderFactory()))

    assert other_member.get(f"/api/v1/cases/{reference}/").status_code == 404
    assert other_provider.get(f"/api/v1/cases/{reference}/").status_code == 404
    assert reference not in str(other_member.get("/api/v1/cases/").json())


def test_a_provider_override_applies_to_bulk_filings(legal_api, provider):
    SlaPolicy.with_design_defaults(case_kind="claim", priority="high", provider=provider).save()
    override = SlaPolicy.objects.get(provider=provider)
    override.acknowledgement_target = override.acknowledgement_target / 2
    override.save()

    response = legal_api.post(BULK, {"cases": [filing_data(provider)]}, format="json")

    case = Case.objects.get(reference=response.json()["cases"][0]["reference"])
    assert case.state == CaseState.SUBMITTED
    clock = Clock.objects.get(case=case, kind=ClockKind.ACKNOWLEDGEMENT)
    assert clock.target == override.acknowledgement_target
