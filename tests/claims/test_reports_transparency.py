"""The public transparency summary: aggregate figures per provider and month, nothing identifying."""

import json
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from claims.dashboards.figures import DurationStats, Headline, Rate
from claims.reports.months import Month
from claims.reports.transparency import FIELDS, public_month, transparency_months, transparency_summary

from .reports_world import NOW, build_world

OCTOBER = Month(2026, 10)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db, fast_password_hashing):
    return build_world()


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def headline(
    *, cases=10, ack=(8, 10), response=(7, 9), sincere=(6, 9), measured=10, breaches=3, escalations=0
):
    def stats(count):
        return DurationStats(count=count, median_hours=Decimal("5.0") if count else None, p90_hours=None)

    return Headline(
        cases_submitted=cases,
        open_cases=0,
        acknowledged_on_time=Rate(*ack),
        responded_on_time=Rate(*response),
        sincere_on_time=Rate(*sincere),
        acknowledge_business=stats(measured),
        acknowledge_calendar=stats(measured),
        respond_business=stats(measured),
        respond_calendar=stats(measured),
        breaches=breaches,
        escalations=escalations,
    )


# --- The rule ------------------------------------------------------------------------------------


def test_counts_below_the_minimum_are_withheld_but_zero_is_shown():
    item = public_month(month=OCTOBER, headline=headline(breaches=3, escalations=0), min_cell=5)

    assert item.values["breaches"] is None and "breaches" in item.withheld
    assert item.values["escalations"] == 0 and "escalations" not in item.withheld
    assert item.values["cases_received"] == 10


def test_a_rate_over_too_few_decided_deadlines_is_withheld():
    item = public_month(month=OCTOBER, headline=headline(ack=(4, 4), response=(0, 0)), min_cell=5)

    assert item.values["acknowledgement_on_time_rate"] is None
    assert "acknowledgement_on_time_rate" in item.withheld
    # Nothing decided at all is no figure, not a withheld one.
    assert item.values["response_on_time_rate"] is None
    assert "response_on_time_rate" not in item.withheld
    assert item.values["sincere_on_time_rate"] == Rate(6, 9).percent


def test_a_median_over_too_few_times_is_withheld():
    item = public_month(month=OCTOBER, headline=headline(measured=4), min_cell=5)

    assert all(item.values[name] is None for name in FIELDS if name.startswith("median_"))
    assert {name for name in FIELDS if name.startswith("median_")} <= set(item.withheld)


def test_a_month_with_too_few_cases_withholds_every_figure():
    item = public_month(month=OCTOBER, headline=headline(cases=4), min_cell=5)

    assert item.values == dict.fromkeys(FIELDS)
    assert set(item.withheld) == set(FIELDS)


def test_the_summary_covers_the_last_twelve_complete_months():
    months = transparency_months(now=NOW)

    assert (str(months[0]), str(months[-1]), len(months)) == ("2025-11", "2026-10", 12)


# --- The page and the JSON -----------------------------------------------------------------------


def test_the_public_json_needs_no_login_and_shows_the_figures_counted_by_hand(world, at_now, client):
    response = client.get(reverse("reports:transparency_json"))

    assert response.status_code == 200
    document = response.json()
    assert document["min_cell"] == 5
    by_slug = {provider["slug"]: provider for provider in document["providers"]}
    assert set(by_slug) == {"vidmaker", "imagen"}
    october = next(m for m in by_slug["vidmaker"]["months"] if m["month"] == "2026-10")
    assert october["cases_received"] == 5
    assert october["acknowledgement_on_time_rate"] == 80.0
    assert october["median_hours_to_acknowledge_business"] is not None  # 5 acknowledgements measured
    # 1 breach, 1 escalation and 4 decided (and measured) responses are too few to show.
    assert october["breaches"] is None and october["escalations"] is None
    assert october["response_on_time_rate"] is None and october["sincere_on_time_rate"] is None
    assert october["median_hours_to_respond_calendar"] is None
    assert set(october["withheld"]) == {
        "breaches",
        "escalations",
        "response_on_time_rate",
        "sincere_on_time_rate",
        "median_hours_to_respond_business",
        "median_hours_to_respond_calendar",
    }
    # September (one case) and Imagen's October (one case) are withheld entirely.
    september = next(m for m in by_slug["vidmaker"]["months"] if m["month"] == "2026-09")
    imagen = next(m for m in by_slug["imagen"]["months"] if m["month"] == "2026-10")
    for item in (september, imagen):
        assert all(item[name] is None for name in FIELDS)
        assert set(item["withheld"]) == set(FIELDS)


def test_the_minimum_cell_is_a_setting(world, at_now, client, settings):
    settings.TRANSPARENCY_MIN_CELL = 1

    document = client.get(reverse("reports:transparency_json")).json()

    imagen = next(p for p in document["providers"] if p["slug"] == "imagen")
    october = next(m for m in imagen["months"] if m["month"] == "2026-10")
    assert october["cases_received"] == 1 and october["withheld"] == []


@pytest.mark.parametrize("language", ["en", "ja"])
def test_nothing_identifying_reaches_the_public_page_or_json(world, at_now, client, language):
    page = client.get(reverse("reports:transparency"), {"lang": language})
    document = client.get(reverse("reports:transparency_json"))

    assert page.status_code == 200
    texts = {"page": page.content.decode(), "json": json.dumps(document.json(), ensure_ascii=False)}
    leaks = [(where, secret) for where, text in texts.items() for secret in world.secrets() if secret in text]
    assert leaks == []
    # Providers are named: showing them is the point.
    assert ("Vidmaker" if language == "en" else "ビッドメーカー") in texts["page"]


def test_a_signed_in_member_sees_the_same_public_page(world, at_now, client):
    client.force_login(world.alpha_legal)

    page = client.get(reverse("reports:transparency"), {"lang": "en"}).content.decode()

    assert "80.0%" in page
    assert world.cases["a1"].reference not in page and "Beta Records" not in page


def test_the_public_page_shows_withheld_cells_as_withheld(world, at_now, client):
    page = client.get(reverse("reports:transparency"), {"lang": "en"}).content.decode()

    assert "withheld" in page
    assert "80.0%" in page


def test_the_json_has_an_etag_and_answers_304_when_unchanged(world, at_now, client):
    first = client.get(reverse("reports:transparency_json"))

    assert first["ETag"].startswith('"')
    assert "public" in first["Cache-Control"] and "max-age=900" in first["Cache-Control"]
    again = client.get(reverse("reports:transparency_json"), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_the_page_may_be_kept_by_the_browser_but_not_by_shared_caches(world, at_now, client):
    response = client.get(reverse("reports:transparency"))

    assert "private" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]


def test_the_summary_is_computed_once_while_cached(world, at_now, django_assert_max_num_queries):
    transparency_summary()

    with django_assert_max_num_queries(0):
        transparency_summary()


def test_the_warming_task_replaces_the_cached_summary_before_anyone_asks(
    world, at_now, eager_tasks, django_assert_max_num_queries
):
    """Beat recomputes the summary into the cache: a change shows without a visitor paying for it."""
    from claims.reports.tasks import transparency_warm
    from members.models import Organisation

    stale = transparency_summary()
    provider = Organisation.objects.get(slug=stale.providers[0].slug)
    provider.name_en = "Renamed Video AI"
    provider.save(update_fields=["name_en"])
    assert transparency_summary().providers[0].name_en != "Renamed Video AI", "still the cached one"

    transparency_warm.delay()

    with django_assert_max_num_queries(0):
        warmed = transparency_summary()
    assert "Renamed Video AI" in [p.name_en for p in warmed.providers]
