"""Sincerity: templated responses flagged, insincerity challenged, adjudicated, and counted in the rate."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from claims.models import CaseEvent, Response, Sincerity
from claims.services import case_transition, timeline_verify
from claims.sincerity.selectors import provider_sincere_on_time_rate
from claims.sincerity.services import response_adjudicate
from claims.sincerity.similarity import band_keys, jaccard, minhash, normalise, response_text, shingles
from claims.sla.models import Clock, ClockKind, ClockStatus
from members.errors import ApplicationError
from tests.factories import ProviderFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing", "in_english")]

JST = ZoneInfo("Asia/Tokyo")
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=JST)

JA_TEMPLATE = (
    "株式会社ビジョンの田中です。ご指摘の出力を確認し、弊社の利用規約に基づき削除いたしました。"
    "あわせて、同様の生成を防ぐため関連するプロンプトをブロックしました。"
)
JA_COPY = JA_TEMPLATE.replace("田中", "佐藤")
JA_DIFFERENT = (
    "調査の結果、当該動画は利用者が独自に作成したものであり、御社作品との共通点は"
    "一般的な表現にとどまると判断しました。削除は行いませんが、引き続き監視します。"
)
JA_RATIONALE = "キャラクターの外見を再現しているため。"

EN_TEMPLATE = (
    "Dear Ms Tanaka, thank you for your report. We reviewed the outputs you cited and removed them "
    "under our acceptable use policy. We also blocked the prompts that produced them."
)
EN_COPY = EN_TEMPLATE.replace("Ms Tanaka", "Mr Suzuki")
EN_DIFFERENT = (
    "Our investigation found that the video was uploaded by a user who holds a licence from your "
    "distributor in Korea; we have asked them for a copy and will reply within ten days."
)
EN_RATIONALE = "The output reproduces the character's design."


def respond(case, actor, summary, rationale=EN_RATIONALE, measures=""):
    payload = {
        "summary": summary,
        "contact_name": "Sato Hanako",
        "contact_email": "sato@provider.test",
        "items": [
            {"output": o.pk, "outcome": "removed", "rationale": rationale, "measures": measures}
            for o in case.outputs.order_by("position")
        ],
    }
    case_transition(case=case, action="respond", actor=actor, payload=payload)
    return Response.objects.filter(case=case).latest("id")


def dispute(case, actor, reasons=("generic_text",), note="The reply ignores our outputs."):
    return case_transition(
        case=case, action="dispute", actor=actor, payload={"reasons": list(reasons), "note": note}
    )


# --- The text maths, against hand-computed values -------------------------------------------------


def test_normalise_folds_width_and_case_and_collapses_whitespace():
    assert normalise("  ＡＢＣ\u3000Def\n\n ｶﾞ  ") == "abc def ガ"


def test_shingles_are_overlapping_character_trigrams():
    assert shingles("abcd") == {"abc", "bcd"}
    assert shingles("田中です") == {"田中で", "中です"}
    assert shingles("ab") == {"ab"}
    assert shingles("") == frozenset()


def test_jaccard_is_shared_over_all():
    # {abc, bcd} and {abc, bce}: one shared of three.
    assert jaccard(shingles("abcd"), shingles("abce")) == pytest.approx(1 / 3)
    assert jaccard(shingles("abcd"), shingles("abcd")) == 1.0
    assert jaccard(shingles("abcd"), shingles("wxyz")) == 0.0


def test_response_text_joins_summary_rationales_and_measures():
    assert response_text("We  Removed", [("Because", ""), ("It copies", "Blocked 3")]) == (
        "we removed because it copies blocked 3"
    )


def test_minhash_and_band_keys_are_stable_across_processes():
    """The band keys are stored and compared later, perhaps by another worker: no salted hash()."""
    signature = minhash(shingles("abcd"))
    assert signature == minhash(frozenset({"bcd", "abc"}))
    assert len(signature) == 128
    assert band_keys(signature) == band_keys(minhash(shingles("abcd")))
    assert band_keys(signature)[0] == -3185236629627797737


def test_minhash_estimates_jaccard():
    a, b = shingles(normalise(EN_TEMPLATE)), shingles(normalise(EN_COPY))
    agreement = sum(x == y for x, y in zip(minhash(a), minhash(b), strict=True)) / 128
    assert abs(agreement - jaccard(a, b)) < 0.12


# --- Templated responses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "copy", "different", "rationale"),
    [(JA_TEMPLATE, JA_COPY, JA_DIFFERENT, JA_RATIONALE), (EN_TEMPLATE, EN_COPY, EN_DIFFERENT, EN_RATIONALE)],
    ids=["japanese", "english"],
)
def test_a_near_copy_with_a_changed_name_is_templated_and_a_different_answer_is_not(
    file_case, agent, template, copy, different, rationale
):
    first = respond(file_case(), agent, template, rationale)
    near_copy = respond(file_case(), agent, copy, rationale)
    other = respond(file_case(), agent, different, "独自の創作と判断しました。")

    assert first.similarity is None and not first.templated  # nothing earlier to compare with
    near_copy.refresh_from_db()
    expected = jaccard(
        shingles(response_text(copy, [(rationale, "")] * 2)),
        shingles(response_text(template, [(rationale, "")] * 2)),
    )
    assert near_copy.templated
    assert near_copy.similar_to_id == first.pk
    assert near_copy.similarity == pytest.approx(expected, abs=1e-4)
    assert near_copy.similarity >= 0.85
    other.refresh_from_db()
    assert not other.templated
    assert other.similarity is None or other.similarity < 0.5


def test_the_threshold_comes_from_settings(settings, file_case, agent):
    settings.SINCERITY_TEMPLATED_THRESHOLD = 0.99
    respond(file_case(), agent, EN_TEMPLATE)

    near_copy = respond(file_case(), agent, EN_COPY)

    assert 0.85 < near_copy.similarity < 0.99
    assert not near_copy.templated


def test_only_the_same_providers_responses_to_other_cases_are_compared(
    file_case, case_in_state, agent, legal
):
    other_provider = ProviderFactory()
    other_agent = UserFactory(role="provider_agent", organisation=other_provider)
    respond(file_case(respondent=other_provider), other_agent, EN_TEMPLATE)  # another provider's words
    case = case_in_state("acknowledged")
    first = respond(case, agent, EN_TEMPLATE)
    dispute(case, legal)

    second = respond(case, agent, EN_TEMPLATE)  # the same words again, to the same case

    assert first.similarity is None
    assert second.similarity is None and not second.templated


def test_the_most_similar_earlier_response_is_named(file_case, agent):
    respond(file_case(), agent, EN_DIFFERENT)
    template = respond(file_case(), agent, EN_TEMPLATE)

    copy = respond(file_case(), agent, EN_COPY)

    assert copy.similar_to_id == template.pk


def test_the_backfill_scores_responses_written_before_sincerity_as_they_were_then(file_case, agent):
    """Responses of an upgraded installation have no index: the command gives them their flags."""
    from django.core.management import call_command

    from claims.sincerity.models import ResponseBand

    template = respond(file_case(), agent, EN_TEMPLATE)
    copy = respond(file_case(), agent, EN_COPY)
    later = respond(file_case(), agent, EN_TEMPLATE)  # written after the copy, so not its "original"
    # As they were before sincerity existed: no flags, no index.
    ResponseBand.objects.all().delete()
    Response.objects.update(similarity=None, similar_to=None, templated=False)
    out = io.StringIO()

    call_command("fingerprint_responses", "--no-progress", stdout=out)

    for response in (template, copy, later):
        response.refresh_from_db()
    assert "3 responses scored and indexed" in out.getvalue()
    assert template.similarity is None and not template.templated
    assert copy.templated and copy.similar_to_id == template.pk
    assert later.templated and later.similar_to_id == template.pk
    assert ResponseBand.objects.values("response").distinct().count() == 3
    again = io.StringIO()
    call_command("fingerprint_responses", "--no-progress", stdout=again)
    assert "0 responses scored" in again.getvalue()
    assert respond(file_case(), agent, EN_COPY).similar_to_id in {template.pk, copy.pk}


# --- Disputes and verdicts ----------------------------------------------------------------------


def test_a_dispute_naming_insincerity_challenges_the_latest_response(case_in_state, legal):
    case = case_in_state("responded")

    dispute(case, legal, reasons=["ignores_outputs", "disagree"], note="Nothing about output #2.")

    response = case.responses.get()
    assert response.sincerity == Sincerity.CHALLENGED
    assert response.dispute_reasons == ["disagree", "ignores_outputs"]
    assert response.dispute_note == "Nothing about output #2."
    assert response.disputed_at is not None


def test_a_dispute_that_only_disagrees_is_recorded_but_challenges_nothing(case_in_state, legal):
    case = case_in_state("responded")

    dispute(case, legal, reasons=["disagree"])

    response = case.responses.get()
    assert response.sincerity == Sincerity.UNREVIEWED
    assert response.dispute_reasons == ["disagree"]


@pytest.fixture
def challenged(case_in_state, legal):
    case = case_in_state("responded")
    dispute(case, legal)
    return case.responses.get()


@pytest.mark.parametrize("actor_name", ["legal", "member_admin", "agent", "provider_admin"])
def test_only_the_association_adjudicates(challenged, actor_name, request):
    actor = request.getfixturevalue(actor_name)

    with pytest.raises(ApplicationError) as refused:
        response_adjudicate(response=challenged, actor=actor, verdict="sincere", note="")

    assert (refused.value.status_code, refused.value.code) == (403, "not_permitted")
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED
    assert not CaseEvent.objects.filter(case=challenged.case, action="response_adjudicated").exists()


@pytest.mark.parametrize("actor_name", ["analyst", "association_admin"])
def test_association_staff_judge_a_response_sincere(challenged, actor_name, request):
    actor = request.getfixturevalue(actor_name)

    response_adjudicate(response=challenged, actor=actor, verdict="sincere", note="It answers each output.")

    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.SINCERE
    assert challenged.adjudicated_by == actor
    assert challenged.adjudication_note == "It answers each output."
    assert not Clock.objects.filter(case=challenged.case, judged_insincere=True).exists()


def test_insincere_marks_the_clock_the_response_met_and_goes_on_the_verified_timeline(challenged, analyst):
    case = challenged.case
    case.refresh_from_db()
    state_before = case.state

    response_adjudicate(response=challenged, actor=analyst, verdict="insincere", note="Boilerplate only.")

    clock = Clock.objects.get(case=case, kind=ClockKind.RESPONSE)
    assert clock.status == ClockStatus.MET and clock.judged_insincere
    assert challenged.met_clock_id == clock.pk
    event = case.events.order_by("-seq").first()
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        "response_adjudicated",
        analyst,
        "",
        "",
    )
    assert event.data == {"response": challenged.pk, "verdict": "insincere", "note": "Boilerplate only."}
    assert timeline_verify(case=case) == []
    case.refresh_from_db()
    assert case.state == state_before  # the verdict moves no case


def test_a_second_response_judged_insincere_marks_the_re_response_clock(case_in_state, agent, legal, analyst):
    case = case_in_state("responded")
    dispute(case, legal, reasons=["disagree"])
    second = respond(case, agent, "We looked again and blocked the prompts too.")
    dispute(case, legal, reasons=["no_action"])  # a second dispute escalates, the verdict is still due
    second.refresh_from_db()

    response_adjudicate(response=second, actor=analyst, verdict="insincere", note="Nothing was blocked.")

    met_by_second = Clock.objects.get(case=case, kind=ClockKind.RE_RESPONSE, status=ClockStatus.MET)
    assert met_by_second.judged_insincere
    assert list(Clock.objects.filter(case=case, judged_insincere=True)) == [met_by_second]


def test_insincere_needs_a_note_and_nothing_is_written_without_one(challenged, analyst):
    with pytest.raises(ApplicationError) as refused:
        response_adjudicate(response=challenged, actor=analyst, verdict="insincere", note="   ")

    assert refused.value.status_code == 400
    assert "note" in refused.value.fields
    challenged.refresh_from_db()
    assert challenged.sincerity == Sincerity.CHALLENGED


def test_an_unknown_verdict_is_refused(challenged, analyst):
    with pytest.raises(ApplicationError) as refused:
        response_adjudicate(response=challenged, actor=analyst, verdict="maybe", note="")

    assert "verdict" in refused.value.fields


def test_an_unchallenged_response_cannot_be_adjudicated(case_in_state, analyst):
    response = case_in_state("responded").responses.get()

    with pytest.raises(ApplicationError) as refused:
        response_adjudicate(response=response, actor=analyst, verdict="sincere", note="")

    assert (refused.value.status_code, refused.value.code) == (400, "not_challenged")


def test_a_second_verdict_is_refused(challenged, analyst, association_admin):
    response_adjudicate(response=challenged, actor=analyst, verdict="sincere", note="")

    with pytest.raises(ApplicationError) as refused:
        response_adjudicate(response=challenged, actor=association_admin, verdict="insincere", note="No.")

    assert (refused.value.status_code, refused.value.code) == (409, "already_adjudicated")
    challenged.refresh_from_db()
    assert (challenged.sincerity, challenged.adjudicated_by) == (Sincerity.SINCERE, analyst)


# --- The sincere on-time rate -------------------------------------------------------------------


def test_the_rate_counts_met_on_time_and_not_judged_insincere(file_case, provider, agent, legal, analyst):
    """Four decided clocks: two sincere on time, one judged insincere, one late → 2 of 4."""
    with time_machine.travel(MONDAY_10, tick=False):
        cases = [file_case() for _ in range(5)]
    with time_machine.travel(MONDAY_10 + timedelta(days=2), tick=False):
        respond(cases[0], agent, EN_TEMPLATE)
        respond(cases[1], agent, EN_DIFFERENT)
        insincere = respond(cases[2], agent, "We looked into it.")
        case_transition(case=cases[4], action="withdraw", actor=legal, payload={})  # stopped: not decided
    with time_machine.travel(MONDAY_10 + timedelta(days=9), tick=False):
        respond(cases[3], agent, "Sorry for the delay; removed.")  # met late: 7-day target
    assert provider_sincere_on_time_rate(provider=provider).rate == pytest.approx(3 / 4)

    dispute(cases[2], legal, reasons=["generic_text"])
    response_adjudicate(response=insincere, actor=analyst, verdict="insincere", note="Says nothing.")

    rate = provider_sincere_on_time_rate(provider=provider)
    assert (rate.decided, rate.sincere_on_time, rate.late, rate.judged_insincere) == (4, 2, 1, 1)
    assert rate.rate == 0.5 and rate.percent == 50
    assert provider_sincere_on_time_rate(provider=ProviderFactory()).rate is None


def test_the_rate_counts_a_clock_in_the_period_it_was_decided(file_case, provider, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        early, _unanswered = file_case(), file_case()
    with time_machine.travel(MONDAY_10 + timedelta(days=1), tick=False):
        respond(early, agent, EN_TEMPLATE)
    # The unanswered one breaches on the 23rd at 10:00 and is still unanswered: decided (badly) then.
    with time_machine.travel(MONDAY_10 + timedelta(days=8), tick=False):
        from claims.sla.clocks import clocks_sweep

        clocks_sweep()

    day = timedelta(days=1)
    assert provider_sincere_on_time_rate(provider=provider, end=MONDAY_10 + 2 * day).decided == 1
    second_week = provider_sincere_on_time_rate(provider=provider, start=MONDAY_10 + 2 * day)
    assert (second_week.decided, second_week.late, second_week.rate) == (1, 1, 0.0)
    assert provider_sincere_on_time_rate(provider=provider).decided == 2
