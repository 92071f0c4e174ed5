"""The case list in a browser: filtering through htmx, and switching the language."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.steps import log_in, snap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = {
    "submitted": "Heroine on a poster generator",
    "responded": "Mascot in a music video model",
    "resolved": "Theme song in a voice model",
}


@pytest.fixture
def three_cases(case_in_state):
    """One of the member's claims waiting, one answered, one resolved."""
    return {state: case_in_state(state, title=title) for state, title in TITLES.items()}


def case_links(page: Page):
    return page.get_by_role("table").get_by_role("link")


def mark_document(page: Page) -> None:
    """Mark the loaded document, so that a later check can tell a swap from a new page load."""
    page.evaluate("window.loadedBeforeTheFilter = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.loadedBeforeTheFilter === true")


def test_state_filter_replaces_the_table_without_reloading(page, legal, three_cases):
    """Choosing a state shows only its cases, in place, and the address can be shared."""
    log_in(page, legal)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    for title in TITLES.values():
        expect(case_links(page).filter(has_text=title)).to_be_visible()
    expect(page.get_by_text("3 cases")).to_be_visible()
    mark_document(page)

    with page.expect_response(re.compile(r"/cases/\?(.*&)?state=resolved")) as filtered:
        page.get_by_label("State", exact=True).select_option("resolved")
    assert filtered.value.request.headers.get("hx-request") == "true"

    expect(case_links(page).filter(has_text=TITLES["resolved"])).to_be_visible()
    expect(case_links(page).filter(has_text=TITLES["submitted"])).to_have_count(0)
    expect(case_links(page).filter(has_text=TITLES["responded"])).to_have_count(0)
    expect(page.get_by_text("1 case", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/cases/\?state=resolved$"))
    assert same_document(page), "The filter reloaded the whole page instead of swapping the table."
    snap(page, "list-01-filtered")

    # The pushed address stands on its own: loading it again shows the same filtered list.
    page.reload()
    expect(page.get_by_label("State", exact=True)).to_have_value("resolved")
    expect(case_links(page).filter(has_text=TITLES["submitted"])).to_have_count(0)
    expect(case_links(page).filter(has_text=TITLES["resolved"])).to_be_visible()


def test_language_switch_shows_the_list_in_japanese(page, legal, three_cases):
    """The language switch turns the page into Japanese, and the choice outlasts the page."""
    log_in(page, legal)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()

    page.get_by_role("button", name="日本語").click()

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", name="案件", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="日本語")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("状態", exact=True)).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("解決済み")
    expect(page.get_by_text("3 件", exact=True)).to_be_visible()
    snap(page, "list-02-japanese")

    # The choice is remembered: the case page it leads to is in Japanese too.
    page.get_by_role("link", name=three_cases["resolved"].reference).click()
    expect(page.get_by_role("region", name="タイムライン")).to_be_visible()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
    snap(page, "list-03-japanese-case")


def test_language_switch_keeps_the_filters(page, legal, three_cases):
    """Switching the language after filtering shows the same filtered list in the other language."""
    log_in(page, legal)
    page.get_by_label("State", exact=True).select_option("resolved")
    expect(page).to_have_url(re.compile(r"state=resolved"))

    page.get_by_role("button", name="日本語").click()

    expect(page.get_by_role("heading", name="案件", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"state=resolved"))
    expect(case_links(page).filter(has_text=TITLES["submitted"])).to_have_count(0)
