"""The association's dashboard in a browser: charts drawn, a filter swaps the figures in place."""

import re

import pytest
from playwright.sync_api import Page, expect

from claims.dashboards.rollup import rollups_refresh
from members.models import Role
from tests.browser.steps import log_in, snap
from tests.factories import ProviderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def figures(case_in_state, file_case, provider):
    """A claim answered by one provider, an inquiry waiting at another; the roll-up refreshed."""
    case_in_state("responded", title="Mascot in a music video model")
    other_provider = ProviderFactory(name_en="Quill AI")
    other_legal = UserFactory(role=Role.MEMBER_LEGAL)
    file_case(actor=other_legal, respondent=other_provider, kind="inquiry", title="Were our films used?")
    rollups_refresh()
    return provider, other_provider


def provider_rows(page: Page):
    return page.locator('table[data-table="by_provider"] tbody tr')


def charts_drawn(page: Page) -> int:
    return page.evaluate(
        """() => [...document.querySelectorAll("canvas[data-chart]")]
            .filter((canvas) => window.Chart && Chart.getChart(canvas)).length"""
    )


def test_kind_filter_updates_the_tables_and_charts_in_place(page, analyst, figures):
    provider, other_provider = figures
    log_in(page, analyst)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(provider_rows(page)).to_have_count(2)
    expect(page.get_by_role("table", name="By provider", exact=True)).to_be_visible()
    assert charts_drawn(page) == 6
    page.evaluate("window.loadedBeforeTheFilter = true")
    snap(page, "dashboard-01-all")

    with page.expect_response(re.compile(r"/dashboard/\?(.*&)?kind=inquiry")) as filtered:
        page.get_by_label("Kind", exact=True).select_option("inquiry")
    assert filtered.value.request.headers.get("hx-request") == "true"

    expect(provider_rows(page)).to_have_count(1)
    expect(provider_rows(page).first.get_by_role("rowheader")).to_have_text(other_provider.name_en)
    expect(page).to_have_url(re.compile(r"kind=inquiry"))
    assert page.evaluate("window.loadedBeforeTheFilter === true"), "The filter reloaded the whole page."
    assert charts_drawn(page) == 6
    csv_link = page.locator("#figure-by_provider").get_by_role("link", name=re.compile("CSV"))
    expect(csv_link).to_have_attribute("href", re.compile(r"kind=inquiry.*export=csv&table=by_provider"))
    snap(page, "dashboard-02-inquiries")
