"""Monthly reports per provider: who may read which, and that they show the dashboards' figures."""

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from claims.dashboards.figures import DashboardFilters, dashboard_figures
from claims.reports.access import report_get_for_user, report_refs_for
from claims.reports.months import Month, months_between
from claims.reports.selectors import report_build
from members.models import Role
from tests.factories import UserFactory

from .reports_world import NOW, build_world

OCTOBER = Month(2026, 10)


@pytest.fixture
def world(db, fast_password_hashing):
    return build_world()


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def detail_url(provider, month, suffix=""):
    url = reverse("reports:report_detail", kwargs={"provider": provider.slug, "month": str(month)})
    return url + suffix


# --- Months -------------------------------------------------------------------------------------


def test_a_month_is_bounded_by_midnight_in_tokyo():
    from datetime import UTC, datetime

    assert Month.of(datetime(2026, 9, 30, 15, 0, tzinfo=UTC)) == OCTOBER  # 1 Oct 00:00 JST
    assert Month.of(datetime(2026, 9, 30, 14, 59, tzinfo=UTC)) == Month(2026, 9)
    assert OCTOBER.start.isoformat() == "2026-10-01T00:00:00+09:00"
    assert OCTOBER.end.isoformat() == "2026-11-01T00:00:00+09:00"


def test_months_count_back_across_years():
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2026, 3).back(11) == Month(2025, 4)
    assert [str(m) for m in months_between(Month(2025, 11), Month(2026, 2))] == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "26-10", "2026-1", "2026-10-01", "", "abcd-ef"])
def test_only_a_real_month_parses(value):
    with pytest.raises(ValueError):
        Month.parse(value)


# --- Who may read which report -------------------------------------------------------------------


def test_the_association_lists_every_provider_from_its_first_month(world, at_now):
    refs = report_refs_for(user=world.analyst)

    listed = {(ref.provider.slug, str(ref.month)) for ref in refs}
    assert listed == {("vidmaker", "2026-09"), ("vidmaker", "2026-10"), ("vidmaker", "2026-11")} | {
        ("imagen", "2026-10"),
        ("imagen", "2026-11"),
    }


def test_a_provider_lists_its_own_reports_only(world, at_now):
    refs = report_refs_for(user=world.imagen_agent)

    assert {ref.provider.slug for ref in refs} == {"imagen"}


def test_a_member_lists_the_providers_it_filed_with(world, at_now):
    assert {ref.provider.slug for ref in report_refs_for(user=world.beta_legal)} == {"vidmaker"}
    assert {ref.provider.slug for ref in report_refs_for(user=world.alpha_legal)} == {"vidmaker", "imagen"}


def test_a_provider_without_cases_still_has_its_own_current_report(db, at_now):
    agent = UserFactory(role=Role.PROVIDER_AGENT)

    assert [(ref.provider, str(ref.month)) for ref in report_refs_for(user=agent)] == [
        (agent.organisation, "2026-11")
    ]


@pytest.mark.parametrize(
    ("who", "provider", "month"),
    [
        ("imagen_agent", "vidmaker", "2026-10"),  # another provider
        ("vidmaker_agent", "imagen", "2026-10"),
        ("beta_legal", "imagen", "2026-10"),  # a provider the member never filed with
        ("analyst", "vidmaker", "2026-08"),  # before the provider's first case
        ("analyst", "vidmaker", "2026-12"),  # not begun yet
        ("analyst", "studio-alpha", "2026-10"),  # a member is not a provider
        ("analyst", "no-such-provider", "2026-10"),
    ],
)
def test_every_report_view_is_404_for_a_report_the_user_may_not_read(
    world, at_now, client, who, provider, month
):
    client.force_login(getattr(world, who))
    for name in ("reports:report_detail", "reports:report_pdf"):
        response = client.get(reverse(name, kwargs={"provider": provider, "month": month}))
        assert response.status_code == 404, (name, who, provider, month)


def test_a_malformed_month_is_404_in_the_selector_too(world, at_now):
    from django.http import Http404

    with pytest.raises(Http404):
        report_get_for_user(user=world.analyst, provider="vidmaker", month="2026-1")


def test_report_pages_need_a_login(world, at_now, client):
    for url in (
        reverse("reports:report_index"),
        detail_url(world.vidmaker, OCTOBER),
        detail_url(world.vidmaker, OCTOBER, "report.pdf"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


# --- The figures are the dashboards' ------------------------------------------------------------


def october_headline(user, provider):
    filters = DashboardFilters(
        month_from=OCTOBER.first_day, month_to=OCTOBER.first_day, provider_id=provider.pk
    )
    return dashboard_figures(user=user, filters=filters, now=NOW).headline


def test_the_associations_report_counts_every_case_as_counted_by_hand(world, at_now):
    report = report_build(
        user=world.analyst, ref=report_get_for_user(user=world.analyst, provider="vidmaker", month="2026-10")
    )

    headline = report.headline
    assert headline == october_headline(world.analyst, world.vidmaker)
    assert headline.cases_submitted == 5
    assert (headline.acknowledged_on_time.numerator, headline.acknowledged_on_time.denominator) == (4, 5)
    assert (headline.responded_on_time.numerator, headline.responded_on_time.denominator) == (4, 4)
    assert (headline.sincere_on_time.numerator, headline.sincere_on_time.denominator) == (4, 4)
    assert headline.acknowledged_on_time.percent == Decimal("80.0")
    assert headline.breaches == 1
    assert headline.escalations == 1
    assert headline.acknowledge_business.count == 5
    assert headline.respond_calendar.count == 4


def test_a_members_report_counts_only_its_own_cases(world, at_now):
    ref = report_get_for_user(user=world.alpha_legal, provider="vidmaker", month="2026-10")
    report = report_build(user=world.alpha_legal, ref=ref)

    headline = report.headline
    assert report.scope.kind == "member"
    assert headline == october_headline(world.alpha_legal, world.vidmaker)
    assert headline.cases_submitted == 3
    assert (headline.acknowledged_on_time.numerator, headline.acknowledged_on_time.denominator) == (2, 3)
    assert (headline.responded_on_time.numerator, headline.responded_on_time.denominator) == (2, 2)
    assert (headline.breaches, headline.escalations) == (1, 1)

    beta = report_build(
        user=world.beta_legal,
        ref=report_get_for_user(user=world.beta_legal, provider="vidmaker", month="2026-10"),
    ).headline
    assert beta == october_headline(world.beta_legal, world.vidmaker)
    assert (beta.cases_submitted, beta.breaches, beta.escalations) == (2, 0, 0)


def test_the_providers_report_equals_the_associations(world, at_now):
    ref = report_get_for_user(user=world.vidmaker_agent, provider="vidmaker", month="2026-10")

    assert report_build(user=world.vidmaker_agent, ref=ref).headline == october_headline(
        world.analyst, world.vidmaker
    )


def test_the_trend_is_the_dashboards_from_the_first_month_to_the_reports_month(world, at_now):
    ref = report_get_for_user(user=world.analyst, provider="vidmaker", month="2026-10")
    report = report_build(user=world.analyst, ref=ref)

    filters = DashboardFilters(
        month_from=Month(2026, 9).first_day, month_to=OCTOBER.first_day, provider_id=world.vidmaker.pk
    )
    assert report.trend == dashboard_figures(user=world.analyst, filters=filters, now=NOW).table("trend")
    rows = report.trend_rows()
    assert [f"{row['month']:%Y-%m}" for row in rows] == ["2026-09", "2026-10"]
    assert (rows[0]["cases"], rows[0]["acknowledged_on_time"]) == (1, Decimal("100.0"))
    assert (rows[1]["cases"], rows[1]["acknowledged_on_time"], rows[1]["breaches"]) == (5, Decimal("80.0"), 1)
    assert not report.in_progress


def test_the_trend_covers_twelve_months_at_most(world, at_now):
    from datetime import datetime

    later = datetime(2027, 12, 2, 12, 0, tzinfo=NOW.tzinfo)
    with time_machine.travel(later, tick=False):
        ref = report_get_for_user(user=world.analyst, provider="vidmaker", month="2027-12")
        report = report_build(user=world.analyst, ref=ref)

    months = [f"{row['month']:%Y-%m}" for row in report.trend_rows()]
    assert (months[0], months[-1], len(months)) == ("2027-01", "2027-12", 12)
    assert report.in_progress


def test_the_headline_is_the_sincere_rate_once_a_response_is_judged_insincere(world, at_now):
    """A response judged insincere leaves the on-time rate alone but lowers the headline."""
    from claims.dashboards.rollup import rollups_refresh
    from claims.reports.layout import format_percent, report_layout
    from claims.sincerity.services import response_adjudicate
    from tests.factories import DISPUTE_PAYLOAD

    from .reports_world import _act, jst

    b2 = world.cases["b2"]
    _act(b2, "dispute", world.beta_legal, jst(2026, 10, 8, 10, 0), dict(DISPUTE_PAYLOAD))
    with time_machine.travel(jst(2026, 10, 9, 10, 0), tick=False):
        response_adjudicate(
            response=b2.responses.get(), actor=world.analyst, verdict="insincere", note="Boilerplate."
        )
    rollups_refresh(now=NOW)

    ref = report_get_for_user(user=world.analyst, provider="vidmaker", month="2026-10")
    report = report_build(user=world.analyst, ref=ref)

    headline = report.headline
    assert headline == october_headline(world.analyst, world.vidmaker)
    assert headline.sincere_on_time.numerator == headline.responded_on_time.numerator - 1
    assert report_layout(report).headline_value == format_percent(headline.sincere_on_time)


# --- The pages ----------------------------------------------------------------------------------


def test_the_index_links_each_report_and_its_pdf(world, at_now, client):
    client.force_login(world.beta_legal)

    page = client.get(reverse("reports:report_index")).content.decode()

    assert detail_url(world.vidmaker, OCTOBER) in page
    assert detail_url(world.vidmaker, OCTOBER, "report.pdf") in page
    assert "imagen" not in page


def test_the_report_page_shows_the_months_figures(world, at_now, client):
    client.force_login(world.analyst)

    response = client.get(detail_url(world.vidmaker, OCTOBER), {"lang": "en"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Monthly report: Vidmaker, 2026-10" in page
    assert "Sincere on-time rate" in page
    assert "80.0%" in page  # acknowledgement on time, 4 of 5
    assert "100.0%" in page  # response on time, 4 of 4
    assert "2026-09" in page  # the trend
    # The association's report names no member in its figures either.
    assert "Studio Alpha" not in page and world.cases["a1"].reference not in page


def test_a_members_report_says_it_counts_only_the_members_cases(world, at_now, client):
    client.force_login(world.alpha_legal)

    page = client.get(detail_url(world.vidmaker, OCTOBER), {"lang": "en"}).content.decode()

    assert "Only the cases Studio Alpha filed with Vidmaker" in page
    assert "66.7%" in page  # acknowledgement on time, 2 of 3
    assert "Beta Records" not in page


def test_the_report_follows_the_users_language(world, at_now, client):
    world.analyst.language = "ja"
    world.analyst.save()
    client.force_login(world.analyst)

    page = client.get(detail_url(world.vidmaker, OCTOBER)).content.decode()

    assert '<html lang="ja">' in page
    assert "ビッドメーカー" in page


# --- The PDF ------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    """Return the text drawn in a reportlab PDF: its streams inflated, strings decoded (UTF-16 for CJK)."""
    import base64
    import re
    import zlib

    pieces = []
    pattern = rb"/Filter \[ /ASCII85Decode /FlateDecode \] /Length \d+\s*>>\s*stream\r?\n(.*?)endstream"
    for raw in re.findall(pattern, content, re.S):
        data = raw.strip().removesuffix(b"~>")
        stream = zlib.decompress(base64.a85decode(data))
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", stream, re.S):
            unescaped = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit() else m.group(1),
                literal,
            )
            if b"\x00" in unescaped or not unescaped.isascii():
                pieces.append(unescaped.decode("utf-16-be", errors="replace"))
            else:
                pieces.append(unescaped.decode("latin-1"))
    return "\n".join(pieces)


@pytest.mark.parametrize(("language", "name"), [("en", "Vidmaker"), ("ja", "ビッドメーカー")])
def test_the_pdf_builds_in_both_languages_with_the_figures(world, at_now, client, language, name):
    client.force_login(world.analyst)

    response = client.get(detail_url(world.vidmaker, OCTOBER, "report.pdf"), {"lang": language})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="rightsdesk-report-vidmaker-2026-10-{language}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert name in text
    assert "80.0%" in text and "2026-09" in text
    assert "Studio Alpha" not in text


def test_the_report_month_command_writes_one_pdf_per_provider(world, at_now, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "report_month",
        "--month",
        "2026-10",
        "--lang",
        "en",
        "--out",
        str(tmp_path),
        "--no-progress",
        stdout=out,
    )

    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["rightsdesk-report-imagen-2026-10-en.pdf", "rightsdesk-report-vidmaker-2026-10-en.pdf"]
    assert "80.0%" in pdf_text((tmp_path / files[1]).read_bytes())
    assert "2 report(s) written" in out.getvalue()


def test_the_report_month_command_writes_one_named_file(world, at_now, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "oct.pdf"
    call_command(
        "report_month", "--provider", "vidmaker", "--month", "2026-10", "--lang", "ja", "--out", str(target)
    )

    assert target.read_bytes().startswith(b"%PDF-")
    assert "ビッドメーカー" in pdf_text(target.read_bytes())
