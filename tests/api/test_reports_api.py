"""GET /api/v1/reports/: the reports the caller may read, and one report's figures, scoped like the pages."""

import pytest
import time_machine

from claims.dashboards.figures import DashboardFilters, dashboard_figures
from claims.reports.months import Month
from tests.claims.reports_world import NOW, build_world

pytestmark = pytest.mark.django_db
OCTOBER = Month(2026, 10)


@pytest.fixture
def world(fast_password_hashing):
    return build_world()


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def report_url(slug, month):
    return f"/api/v1/reports/{slug}/{month}/"


def test_the_list_names_each_report_with_its_links(api_client_for, world, at_now):
    response = api_client_for(world.beta_legal).get("/api/v1/reports/")

    assert response.status_code == 200
    reports = response.json()
    assert [(r["provider"]["slug"], r["month"]) for r in reports] == [
        ("vidmaker", "2026-11"),
        ("vidmaker", "2026-10"),
    ]
    first = reports[1]
    assert first["provider"] == {"slug": "vidmaker", "name_ja": "ビッドメーカー", "name_en": "Vidmaker"}
    assert first["url"].endswith(report_url("vidmaker", "2026-10"))
    assert first["html_url"].endswith("/reports/vidmaker/2026-10/")
    assert first["pdf_url"].endswith("/reports/vidmaker/2026-10/report.pdf")


def test_a_report_has_the_dashboards_figures(api_client_for, world, at_now):
    response = api_client_for(world.alpha_legal).get(report_url("vidmaker", "2026-10"))

    assert response.status_code == 200
    body = response.json()
    filters = DashboardFilters(
        month_from=OCTOBER.first_day, month_to=OCTOBER.first_day, provider_id=world.vidmaker.pk
    )
    expected = dashboard_figures(user=world.alpha_legal, filters=filters, now=NOW).headline
    figures = body["figures"]
    assert body["scope"] == "member"
    assert body["in_progress"] is False
    assert figures["cases_submitted"] == expected.cases_submitted == 3
    assert figures["acknowledged_on_time"] == {"numerator": 2, "denominator": 3, "percent": 66.7}
    assert figures["responded_on_time"] == {"numerator": 2, "denominator": 2, "percent": 100.0}
    assert (
        (figures["breaches"], figures["escalations"]) == (expected.breaches, expected.escalations) == (1, 1)
    )
    assert figures["respond_calendar"]["count"] == expected.respond_calendar.count
    assert [item["month"] for item in body["trend"]] == ["2026-09", "2026-10"]
    assert body["trend"][-1]["cases"] == 3
    assert body["trend"][-1]["acknowledged_on_time"] == 66.7
    assert body["open_by_age"]["columns"][-1]["key"] == "open_cases"


@pytest.mark.parametrize(
    ("who", "slug", "month"),
    [
        ("imagen_agent", "vidmaker", "2026-10"),
        ("vidmaker_agent", "imagen", "2026-10"),
        ("beta_legal", "imagen", "2026-10"),
        ("analyst", "vidmaker", "2026-08"),
        ("analyst", "vidmaker", "2027-01"),
        ("analyst", "vidmaker", "2026-13"),
        ("analyst", "vidmaker", "october"),
        ("analyst", "studio-alpha", "2026-10"),
    ],
)
def test_a_report_the_caller_may_not_read_is_404_in_the_api_shape(
    api_client_for, world, at_now, who, slug, month
):
    response = api_client_for(getattr(world, who)).get(report_url(slug, month))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_reports_need_credentials(client, world, at_now):
    assert client.get("/api/v1/reports/").status_code == 401
    assert client.get(report_url("vidmaker", "2026-10")).status_code == 401


def test_the_schema_documents_the_report_routes(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "/api/v1/reports/" in paths
    detail = paths["/api/v1/reports/{provider}/{month}/"]["get"]
    assert {"200", "401", "404", "429"} <= set(detail["responses"])
