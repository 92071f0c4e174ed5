"""Deadlines on the pages: the case page's clocks, the case list's deadline filter and column,
and a provider's due-next home page."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from claims.services import case_transition
from claims.sla.clocks import clocks_sweep
from claims.sla.models import TimeBasis
from claims.templatetags.rightsdesk import sla_duration
from tests.factories import ProviderFactory, respond_payload

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
JST = ZoneInfo("Asia/Tokyo")
CASE_LIST = reverse("claims:case_list")
HOME = reverse("claims:home")


def jst(*args):
    return datetime(*args, tzinfo=JST)


# Monday 16 November 2026, 10:00 in Tokyo: two business days later is Wednesday 10:00, seven
# calendar days later Monday 23 November (a public holiday, which calendar time ignores).
MONDAY_10 = jst(2026, 11, 16, 10, 0)


@pytest.fixture
def visit(client):
    """GET a page as a user at a moment in Tokyo (logging in then, so the session is fresh)."""

    def _visit(user, url, *, at, headers=None, **params):
        with time_machine.travel(at, tick=False):
            client.force_login(user, backend=MODEL_BACKEND)
            return client.get(url, params, headers=headers or {})

    return _visit


def file_at(file_case, moment, **kwargs):
    with time_machine.travel(moment, tick=False):
        return file_case(**kwargs)


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return clocks_sweep(now=moment)


def listed(response):
    """Return the case references on the page, in order, once each."""
    return list(dict.fromkeys(re.findall(r"\b(?:CL|IQ)-\d{4}-\d{6}\b", response.content.decode())))


def deadlines_card(response):
    """Return the HTML of the case page's deadlines card."""
    html = response.content.decode()
    match = re.search(r'<section class="card deadlines".*?</section>', html, re.S)
    assert match, "The case page has no deadlines card."
    return match.group(0)


def clock_item(card, label):
    """Return the HTML of one clock in the deadlines card, found by its name."""
    for item in re.findall(r'<li class="clock .*?</li>', card, re.S):
        if f'<span class="clock-name">{label}</span>' in item:
            return item
    raise AssertionError(f"No {label} clock in the deadlines card.")


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def detail_url(case):
    return reverse("claims:case_detail", kwargs={"reference": case.reference})


# --- Formatting durations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "basis", "shown"),
    [
        (timedelta(hours=12), TimeBasis.BUSINESS, "1 business day 3 h"),
        (timedelta(hours=18), TimeBasis.BUSINESS, "2 business days"),
        (timedelta(days=2, hours=4, minutes=30), TimeBasis.CALENDAR, "2 days 4 h"),
        (timedelta(days=1), TimeBasis.CALENDAR, "1 day"),
        (timedelta(hours=3, minutes=20), TimeBasis.CALENDAR, "3 h 20 min"),
        (timedelta(minutes=45, seconds=59), TimeBasis.BUSINESS, "45 min"),
        (timedelta(seconds=20), TimeBasis.CALENDAR, "less than a minute"),
        (-timedelta(hours=10), TimeBasis.BUSINESS, "overdue by 1 business day 1 h"),
        (-timedelta(hours=5), TimeBasis.CALENDAR, "overdue by 5 h"),
    ],
)
def test_durations_read_in_business_days_of_nine_hours_or_calendar_days(in_english, duration, basis, shown):
    assert sla_duration(duration, basis) == shown


def test_durations_read_in_japanese():
    with translation.override("ja"):
        assert sla_duration(timedelta(hours=12), TimeBasis.BUSINESS) == "1営業日 3時間"
        assert sla_duration(-timedelta(days=2, hours=4), TimeBasis.CALENDAR) == "2日 4時間 超過"


# --- The case page -----------------------------------------------------------------------------


def test_case_page_shows_each_clock_with_its_due_time_in_tokyo_and_the_time_left(visit, legal, file_case):
    case = file_at(file_case, MONDAY_10)

    response = visit(legal, detail_url(case), at=jst(2026, 11, 16, 12, 0))

    card = deadlines_card(response)
    acknowledgement = text_of(clock_item(card, "Acknowledgement"))
    assert "Running" in acknowledgement
    assert "Due 2026-11-18 10:00 JST" in acknowledgement
    # Two of the eighteen business hours are used: one business day and seven hours are left.
    assert "Remaining 1 business day 7 h" in acknowledgement
    assert 'aria-valuenow="11"' in clock_item(card, "Acknowledgement")
    response_clock = text_of(clock_item(card, "Response"))
    assert "Due 2026-11-23 10:00 JST" in response_clock
    assert "Remaining 6 days 22 h" in response_clock
    assert 'role="progressbar"' in clock_item(card, "Response")


def test_case_page_shows_a_clock_past_its_due_time_as_overdue_before_any_sweep(visit, agent, file_case):
    case = file_at(file_case, MONDAY_10)

    response = visit(agent, detail_url(case), at=jst(2026, 11, 18, 11, 30))

    acknowledgement = clock_item(deadlines_card(response), "Acknowledgement")
    assert "Breached" in acknowledgement
    assert "overdue by 1 h 30 min" in text_of(acknowledgement)
    assert 'aria-valuenow="100"' in acknowledgement


def test_case_page_shows_met_paused_and_warning_clocks(visit, legal, agent, file_case):
    case = file_at(file_case, MONDAY_10)
    with time_machine.travel(jst(2026, 11, 17, 11, 0), tick=False):
        case_transition(case=case, action="request_info", actor=agent, payload={"question": "Which scene?"})

    paused_page = visit(legal, detail_url(case), at=jst(2026, 11, 17, 12, 0))

    card = deadlines_card(paused_page)
    acknowledgement = text_of(clock_item(card, "Acknowledgement"))
    assert "Met" in acknowledgement and "Met on 2026-11-17 11:00 JST" in acknowledgement
    paused = text_of(clock_item(card, "Response"))
    assert "Paused" in paused and "Paused since 2026-11-17 11:00 JST" in paused
    assert "Due" not in paused, "A paused clock has no due time until it runs again."
    assert "Remaining 5 days 23 h" in paused

    with time_machine.travel(jst(2026, 11, 18, 9, 0), tick=False):
        case_transition(case=case, action="provide_info", actor=legal, payload={"answer": "The first."})
    # The response clock used 25 h before the pause; by Saturday morning it has used over half.
    warned = visit(legal, detail_url(case), at=jst(2026, 11, 21, 9, 0))
    assert "Warning" in clock_item(deadlines_card(warned), "Response")


def test_a_draft_says_its_deadlines_start_on_submission(visit, legal, file_case):
    draft = file_at(file_case, MONDAY_10, submit=False)

    card = text_of(deadlines_card(visit(legal, detail_url(draft), at=MONDAY_10)))

    assert "The deadlines start when the case is submitted." in card


def test_case_page_shows_the_deadlines_in_japanese(visit, legal, file_case):
    legal.language = "ja"
    legal.save(update_fields=["language"])
    case = file_at(file_case, MONDAY_10)

    card = text_of(deadlines_card(visit(legal, detail_url(case), at=jst(2026, 11, 16, 12, 0))))

    assert card.startswith("期限")
    assert "受領確認" in card and "計測中" in card
    assert "2026-11-18 10:00 JST" in card
    assert "1営業日 7時間" in card


# --- The case list -----------------------------------------------------------------------------


@pytest.fixture
def three_deadlines(file_case):
    """Three claims seen on Tuesday 17 November at 10:30, after a sweep at that moment.

    ``late`` was filed the Thursday before: its acknowledgement fell due on Friday, so it is
    breached (and escalated). ``monday`` was filed on Monday at 10:00: half of its
    acknowledgement time is used (a warning) and it falls due on Wednesday at 10:00, within
    24 hours. ``fresh`` was filed on Tuesday at 10:00 and is due on Thursday.
    """
    cases = {
        "late": file_at(file_case, jst(2026, 11, 12, 10, 0), title="Late one"),
        "monday": file_at(file_case, MONDAY_10, title="Monday one"),
        "fresh": file_at(file_case, jst(2026, 11, 17, 10, 0), title="Fresh one"),
    }
    sweep_at(TUESDAY_1030)
    for case in cases.values():
        case.refresh_from_db()
    return cases


TUESDAY_1030 = jst(2026, 11, 17, 10, 30)


@pytest.mark.parametrize(
    ("clock_filter", "expected"),
    [
        ("due_24h", ["monday"]),
        ("warning", ["monday"]),
        ("breached", ["late"]),
        ("", ["fresh", "monday", "late"]),
    ],
)
def test_case_list_filters_by_deadline(visit, agent, three_deadlines, clock_filter, expected):
    response = visit(agent, CASE_LIST, at=TUESDAY_1030, clock=clock_filter)

    assert response.status_code == 200
    assert listed(response) == [three_deadlines[name].reference for name in expected]


def test_case_list_ignores_an_unknown_deadline_filter(visit, agent, three_deadlines):
    response = visit(agent, CASE_LIST, at=TUESDAY_1030, clock="overdue'--")

    assert len(listed(response)) == 3


def test_deadline_filter_answers_htmx_with_the_table_alone(visit, agent, three_deadlines):
    response = visit(agent, CASE_LIST, at=TUESDAY_1030, clock="breached", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    assert listed(response) == [three_deadlines["late"].reference]


def test_case_list_offers_the_deadline_filter_and_keeps_it_selected(visit, agent, three_deadlines):
    html = visit(agent, CASE_LIST, at=TUESDAY_1030, clock="warning").content.decode()

    select = re.search(r'<select name="clock".*?</select>', html, re.S).group(0)
    assert '<option value="warning" selected>Warning</option>' in select
    assert "Due within 24 h" in select and "Breached" in select and "Any deadline" in select


def test_case_list_shows_the_nearest_running_deadline_and_flags_a_breach(visit, agent, three_deadlines):
    html = visit(agent, CASE_LIST, at=TUESDAY_1030).content.decode()

    rows = {name: _row(html, case.reference) for name, case in three_deadlines.items()}
    texts = {name: text_of(row) for name, row in rows.items()}
    # The acknowledgement is the sooner of the two running clocks.
    assert "2026-11-18 10:00 JST" in texts["monday"]
    assert "2026-11-19 10:00 JST" in texts["fresh"]
    assert "clock-breached" in rows["late"] and "Breached" in text_of(rows["late"])
    assert "clock-breached" not in rows["monday"] + rows["fresh"]


def test_case_list_sorts_by_the_nearest_deadline_with_cases_without_one_last(visit, agent, three_deadlines):
    soonest_first = visit(agent, CASE_LIST, at=TUESDAY_1030, sort="due")
    latest_first = visit(agent, CASE_LIST, at=TUESDAY_1030, sort="-due")

    names = {case.reference: name for name, case in three_deadlines.items()}
    assert [names[ref] for ref in listed(soonest_first)] == ["monday", "fresh", "late"]
    assert [names[ref] for ref in listed(latest_first)] == ["fresh", "monday", "late"]


def _row(html, reference):
    for row in re.findall(r"<tr>.*?</tr>", html, re.S):
        if reference in row:
            return row
    raise AssertionError(f"{reference} is not in the table.")


def test_case_list_deadline_column_costs_no_query_per_row(
    visit, agent, provider, file_case, django_assert_max_num_queries
):
    file_at(file_case, MONDAY_10)
    with django_assert_max_num_queries(100) as captured:
        visit(agent, CASE_LIST, at=TUESDAY_1030)
    baseline = len(captured)
    # Filed over the five days before: some in warning, some breached and escalated.
    for day in range(5):
        file_at(file_case, MONDAY_10 - timedelta(days=day + 1), outputs=3)
    sweep_at(TUESDAY_1030)

    with django_assert_max_num_queries(baseline):
        response = visit(agent, CASE_LIST, at=TUESDAY_1030)
    assert len(listed(response)) == 6
    assert "clock-breached" in response.content.decode()


# --- A provider's home: what is due next -------------------------------------------------------


def due_rows(response):
    """Return (reference, clock label) per row of the due-next table, in order."""
    html = response.content.decode()
    body = re.search(r'<table class="table due-table">.*?</table>', html, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr class=.*?</tr>", body, re.S):
        cells = [text_of(cell) for cell in re.findall(r"<td.*?</td>", row, re.S)]
        rows.append((cells[0], cells[3]))
    return rows


def test_provider_home_lists_running_deadlines_soonest_first(visit, agent, legal, file_case):
    early = file_at(file_case, jst(2026, 11, 16, 9, 0), title="Filed at nine")
    later = file_at(file_case, MONDAY_10, title="Filed at ten")
    answered = file_at(file_case, jst(2026, 11, 16, 11, 0), title="Already answered")
    elsewhere = file_at(file_case, MONDAY_10, respondent=ProviderFactory(), title="Another provider's")
    with time_machine.travel(jst(2026, 11, 16, 12, 0), tick=False):
        case_transition(case=answered, action="respond", actor=agent, payload=respond_payload(answered))

    response = visit(agent, HOME, at=jst(2026, 11, 16, 13, 0))

    assert response.status_code == 200
    assert due_rows(response) == [
        (early.reference, "Acknowledgement"),  # Tuesday 18:00
        (later.reference, "Acknowledgement"),  # Wednesday 10:00
        (early.reference, "Response"),  # Monday 23rd 09:00
        (later.reference, "Response"),  # Monday 23rd 10:00
    ]
    html = response.content.decode()
    assert "2026-11-17 18:00 JST" in html
    assert "Filed at nine" in html and legal.organisation.name_en in html
    # The answered case only waits for the claimant's review, which is not the provider's to meet.
    assert answered.reference not in html
    assert elsewhere.reference not in html
    assert f'href="{early.get_absolute_url()}"' in html


def test_provider_home_says_when_nothing_is_due(visit, provider_admin):
    response = visit(provider_admin, HOME, at=MONDAY_10)

    assert response.status_code == 200
    assert "Nothing is due" in response.content.decode()


def test_provider_home_is_in_the_providers_navigation_only(visit, agent, legal):
    assert f'href="{HOME}"' in _nav(visit(agent, CASE_LIST, at=MONDAY_10))
    assert "Due next" in _nav(visit(agent, CASE_LIST, at=MONDAY_10))
    assert "Due next" not in _nav(visit(legal, CASE_LIST, at=MONDAY_10))


def _nav(response):
    return re.search(r'<nav class="mainnav".*?</nav>', response.content.decode(), re.S).group(0)


@pytest.mark.parametrize("user", ["legal", "member_admin", "analyst", "association_admin"])
def test_home_sends_members_and_the_association_to_the_case_list(request, visit, user):
    response = visit(request.getfixturevalue(user), HOME, at=MONDAY_10)

    assert response.status_code == 302
    assert response["Location"] == CASE_LIST


def test_home_needs_a_login(client):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_case_list_shows_a_case_waiting_for_the_claimant_as_paused(visit, agent, file_case):
    case = file_at(file_case, MONDAY_10)
    with time_machine.travel(jst(2026, 11, 16, 11, 0), tick=False):
        case_transition(case=case, action="request_info", actor=agent, payload={"question": "Which scene?"})

    row = _row(visit(agent, CASE_LIST, at=TUESDAY_1030).content.decode(), case.reference)

    assert "clock-paused" in row and "Paused" in text_of(row)
    before_the_badge = text_of(row).split("Paused")[0]
    assert "JST" not in before_the_badge, "A paused clock has no due time to show."
