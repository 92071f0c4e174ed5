"""Filing claims and inquiries, their reference numbers, messages, and who sees which case."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from claims.models import Case, CaseEvent, CaseState, Message, ReferenceCounter
from claims.selectors import cases_visible_to
from claims.services import case_create, case_transition, message_post
from claims.services.timeline import timeline_verify
from members.errors import ApplicationError
from tests.factories import ProviderFactory, WorkFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

JST = ZoneInfo("Asia/Tokyo")


def seen_output(n=0, **overrides):
    return {
        "product": "VidGen",
        "url": f"https://vidgen.example/v/{n}",
        "seen_at": "2026-01-05 10:00",
        **overrides,
    }


def filing(**overrides):
    data = {
        "kind": "claim",
        "title": "Our character in generated video",
        "description": "The output shows our character.",
        "legal_basis": "character_likeness",
        "remedies": ["remove_output", "block_prompts"],
        "priority": "high",
        "outputs": [seen_output(0), seen_output(1)],
    }
    data.update(overrides)
    return data


# --- Filing ----------------------------------------------------------------------------------------


def test_filing_a_claim_submits_it_with_its_outputs_and_two_events(legal, provider, member):
    work = WorkFactory(owner=member)

    case = case_create(actor=legal, respondent=provider, works=[work], **filing())

    assert case.state == CaseState.SUBMITTED
    assert (case.claimant, case.respondent, case.filed_by) == (member, provider, legal)
    assert case.submitted_at is not None
    assert list(case.works.all()) == [work]
    assert list(case.outputs.values_list("position", "url")) == [
        (1, "https://vidgen.example/v/0"),
        (2, "https://vidgen.example/v/1"),
    ]
    seen_at = case.outputs.first().seen_at
    assert seen_at == datetime(2026, 1, 5, 10, 0, tzinfo=JST), "a time without zone is Tokyo time"
    created, submitted = case.events.order_by("seq")
    assert (created.action, created.to_state, created.data) == (
        "created",
        "draft",
        {"outputs": 2, "respondent": provider.slug},
    )
    assert (submitted.action, submitted.from_state, submitted.to_state) == ("submit", "draft", "submitted")


def test_a_draft_is_kept_unsubmitted(legal, provider):
    case = case_create(actor=legal, respondent=provider, submit=False, **filing(outputs=[]))
    assert case.state == CaseState.DRAFT
    assert case.submitted_at is None
    assert list(case.events.values_list("action", flat=True)) == ["created"]


def test_an_inquiry_needs_no_output(legal, provider):
    case = case_create(actor=legal, respondent=provider, **filing(kind="inquiry", outputs=[]))
    assert case.reference.startswith("IQ-")
    assert case.state == CaseState.SUBMITTED


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"kind": "complaint"}, ["kind"]),
        ({"title": "  "}, ["title"]),
        ({"description": ""}, ["description"]),
        ({"legal_basis": "vibes"}, ["legal_basis"]),
        ({"remedies": ["apology"]}, ["remedies"]),
        ({"priority": "whenever"}, ["priority"]),
        ({"outputs": []}, ["outputs"]),
        (
            {"outputs": [seen_output(0), {"product": "", "url": "ftp://x", "seen_at": ""}]},
            ["outputs.1.product", "outputs.1.url", "outputs.1.seen_at"],
        ),
        ({"outputs": [seen_output(0, seen_at="2026-02-30")]}, ["outputs.0.seen_at"]),
        ({"outputs": [seen_output(0, seen_at="2999-01-01")]}, ["outputs.0.seen_at"]),
        ({"outputs": [seen_output(0, url="", share_id="")]}, ["outputs.0.url"]),
    ],
)
def test_a_bad_filing_names_each_field_and_writes_nothing(legal, provider, overrides, fields):
    with pytest.raises(ApplicationError) as refused:
        case_create(actor=legal, respondent=provider, **filing(**overrides))

    assert sorted(refused.value.fields) == sorted(fields)
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not ReferenceCounter.objects.filter(last_value__gt=0).exists()


def test_filing_against_a_member_or_an_inactive_provider_is_refused(legal, member):
    asleep = ProviderFactory(is_active=False)
    for respondent in (member, asleep):
        with pytest.raises(ApplicationError) as refused:
            case_create(actor=legal, respondent=respondent, **filing())
        assert list(refused.value.fields) == ["respondent"]


def test_only_the_filers_own_works_can_be_named(legal, provider):
    with pytest.raises(ApplicationError) as refused:
        case_create(actor=legal, respondent=provider, works=[WorkFactory()], **filing())
    assert list(refused.value.fields) == ["works"]


@pytest.mark.parametrize("who", ["agent", "analyst", "association_admin"])
def test_only_member_staff_may_file(request, provider, who):
    with pytest.raises(ApplicationError) as refused:
        case_create(actor=request.getfixturevalue(who), respondent=provider, **filing())
    assert (refused.value.code, refused.value.status_code) == ("not_permitted", 403)
    assert not Case.objects.exists()


def test_nul_characters_are_dropped_from_what_was_typed(legal, provider):
    case = case_create(actor=legal, respondent=provider, **filing(title="Our\x00 character"))
    assert case.title == "Our character"


# --- References --------------------------------------------------------------------------------------


def file_at(moment, actor, respondent, kind="claim"):
    with time_machine.travel(moment, tick=False):
        return case_create(actor=actor, respondent=respondent, **filing(kind=kind)).reference


def test_references_count_separately_per_kind_and_per_year(legal, provider):
    june = datetime(2026, 6, 1, 10, 0, tzinfo=JST)
    next_year = datetime(2027, 2, 1, 10, 0, tzinfo=JST)

    references = [
        file_at(june, legal, provider, "claim"),
        file_at(june, legal, provider, "inquiry"),
        file_at(june, legal, provider, "claim"),
        file_at(next_year, legal, provider, "claim"),
        file_at(next_year, legal, provider, "inquiry"),
        file_at(june, legal, provider, "claim"),
    ]

    assert references == [
        "CL-2026-000001",
        "IQ-2026-000001",
        "CL-2026-000002",
        "CL-2027-000001",
        "IQ-2027-000001",
        "CL-2026-000003",
    ]


def test_the_reference_year_turns_at_midnight_in_tokyo(legal, provider):
    # 2026-12-31 14:59 UTC is 23:59 in Tokyo; 15:30 UTC is already 2027 there.
    assert file_at(datetime(2026, 12, 31, 14, 59, tzinfo=UTC), legal, provider) == "CL-2026-000001"
    assert file_at(datetime(2026, 12, 31, 15, 30, tzinfo=UTC), legal, provider) == "CL-2027-000001"


def test_the_reference_year_is_tokyos_whatever_time_zone_is_active(legal, provider):
    with timezone.override(UTC):
        assert file_at(datetime(2026, 12, 31, 15, 30, tzinfo=UTC), legal, provider) == "CL-2027-000001"


def test_a_refused_filing_does_not_use_up_a_number(legal, provider):
    with pytest.raises(ApplicationError):
        case_create(actor=legal, respondent=provider, **filing(outputs=[seen_output(0, url="")]))
    assert case_create(actor=legal, respondent=provider, **filing()).reference.endswith("-000001")


# --- Messages ------------------------------------------------------------------------------------------


def test_either_party_may_post_a_message_which_is_recorded_on_the_timeline(file_case, legal, agent):
    case = file_case()

    mine = message_post(case=case, actor=legal, body="  Please see output #2.  ")
    theirs = message_post(case=case, actor=agent, body="確認しております。")

    assert [m.body for m in case.messages.order_by("id")] == ["Please see output #2.", "確認しております。"]
    events = case.events.filter(action="message_posted").order_by("seq")
    assert [(e.actor, e.data) for e in events] == [
        (legal, {"message": mine.pk}),
        (agent, {"message": theirs.pk}),
    ]


@pytest.mark.parametrize("who", ["other_legal", "other_agent", "analyst"])
def test_outsiders_may_not_post(request, file_case, who):
    case = file_case()
    with pytest.raises(ApplicationError) as refused:
        message_post(case=case, actor=request.getfixturevalue(who), body="Hello")
    assert refused.value.code == "not_permitted"
    assert not Message.objects.exists()


def test_the_provider_may_not_post_to_a_draft(file_case, agent):
    with pytest.raises(ApplicationError) as refused:
        message_post(case=file_case(submit=False), actor=agent, body="Hello")
    assert refused.value.code == "not_permitted"


def test_a_closed_case_takes_no_more_messages(file_case, legal):
    case = case_transition(case=file_case(), action="withdraw", actor=legal)
    with pytest.raises(ApplicationError) as refused:
        message_post(case=case, actor=legal, body="One more thing")
    assert refused.value.code == "case_closed"


@pytest.mark.parametrize("body", ["", "   ", "\x00", "x" * 20001])
def test_an_empty_or_overlong_message_is_refused(file_case, legal, body):
    case = file_case()
    with pytest.raises(ApplicationError) as refused:
        message_post(case=case, actor=legal, body=body)
    assert "body" in refused.value.fields
    assert not Message.objects.exists()


# --- Who sees which case ---------------------------------------------------------------------------------


@pytest.fixture
def visible_cases(file_case, case_in_state, legal, other_legal, provider):
    """A draft, a submitted claim and a draft withdrawn unsent by ``legal``, and a claim by another member."""
    draft = file_case(submit=False)
    submitted = file_case()
    withdrawn_draft = case_transition(case=file_case(submit=False), action="withdraw", actor=legal)
    withdrawn_after_submitting = case_in_state("withdrawn")
    elsewhere = file_case(actor=other_legal)
    other_provider = file_case(respondent=ProviderFactory())
    return {
        "draft": draft,
        "submitted": submitted,
        "withdrawn_draft": withdrawn_draft,
        "withdrawn_after_submitting": withdrawn_after_submitting,
        "other_member": elsewhere,
        "other_provider": other_provider,
    }


def visible(user, cases):
    shown = set(cases_visible_to(user=user).values_list("pk", flat=True))
    return sorted(name for name, case in cases.items() if case.pk in shown)


def test_a_member_sees_its_own_cases_drafts_included_and_no_one_elses(visible_cases, legal, member_admin):
    expected = ["draft", "other_provider", "submitted", "withdrawn_after_submitting", "withdrawn_draft"]
    assert visible(legal, visible_cases) == expected
    assert visible(member_admin, visible_cases) == expected


def test_the_other_member_sees_only_its_own(visible_cases, other_legal):
    assert visible(other_legal, visible_cases) == ["other_member"]


def test_a_provider_sees_the_submitted_cases_addressed_to_it_and_no_drafts(visible_cases, agent, other_agent):
    assert visible(agent, visible_cases) == ["other_member", "submitted", "withdrawn_after_submitting"]
    assert visible(other_agent, visible_cases) == []


def test_the_association_sees_every_submitted_case_and_no_drafts(visible_cases, analyst):
    assert visible(analyst, visible_cases) == [
        "other_member",
        "other_provider",
        "submitted",
        "withdrawn_after_submitting",
    ]


def test_an_anonymous_visitor_sees_nothing(visible_cases):
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser(), visible_cases) == []


# --- Filing many at once, and the SLA settings it reads ---------------------------------------------


def test_filing_with_evidence_records_the_files_before_the_submission(legal, provider, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    case = case_create(
        actor=legal,
        respondent=provider,
        **filing(),
        evidence=[(SimpleUploadedFile("shot.png", png), 1), (SimpleUploadedFile("same.png", png), 1)],
    )

    # The same bytes for the same output are one piece of evidence and one event.
    assert list(case.events.order_by("seq").values_list("action", flat=True)) == [
        "created",
        "evidence_added",
        "submit",
    ]
    assert case.evidence.get().output.position == 2
    assert timeline_verify(case=case) == []


def test_many_filings_are_written_together_or_not_at_all(legal, provider):
    from claims.services.cases import cases_create_many

    cases = cases_create_many(
        actor=legal,
        filings=[
            {**filing(), "respondent": provider},
            {**filing(kind="inquiry", outputs=[]), "respondent": provider},
        ],
    )
    assert [c.reference[:2] for c in cases] == ["CL", "IQ"]
    assert all(timeline_verify(case=c) == [] for c in cases)

    with pytest.raises(ApplicationError) as refused:
        cases_create_many(
            actor=legal,
            filings=[{**filing(), "respondent": provider}, {**filing(title=""), "respondent": provider}],
        )
    assert list(refused.value.fields) == ["cases.1.title"]
    assert Case.objects.count() == 2


def test_an_edited_policy_applies_to_the_next_filing(legal, provider):
    from claims.sla.models import ClockKind, SlaPolicy

    first = case_create(actor=legal, respondent=provider, **filing())
    policy = SlaPolicy.objects.get(case_kind="claim", priority="high", provider=None)
    policy.response_target = policy.response_target * 2
    policy.save()
    second = case_create(actor=legal, respondent=provider, **filing())

    targets = [c.clocks.get(kind=ClockKind.RESPONSE).target for c in (first, second)]
    assert targets[1] == 2 * targets[0]


def test_a_new_closure_day_moves_the_next_filings_deadline(legal, provider):
    from datetime import date

    from claims.sla.models import ClockKind, ClosureDay

    with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=JST), tick=False):  # a Monday
        before = case_create(actor=legal, respondent=provider, **filing())
        ClosureDay.objects.create(date=date(2026, 6, 2), note="office move")
        after = case_create(actor=legal, respondent=provider, **filing())

    due = [c.clocks.get(kind=ClockKind.ACKNOWLEDGEMENT).due_at.astimezone(JST) for c in (before, after)]
    assert due[0] == datetime(2026, 6, 3, 10, 0, tzinfo=JST)
    assert due[1] == datetime(2026, 6, 4, 10, 0, tzinfo=JST)
