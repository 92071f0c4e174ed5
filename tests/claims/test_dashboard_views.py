"""The dashboard page, its htmx refresh and its exports: what each organisation sees and downloads."""

import csv
import io
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from claims.dashboards.figures import TABLE_NAMES, cell_text
from tests.claims.test_dashboard_figures import NOW, build_world

pytestmark = pytest.mark.django_db

PERIOD = {"month_from": "2026-10", "month_to": "2026-11"}


@pytest.fixture
def world(file_case, in_english, fast_password_hashing, time_machine):
    built = build_world(file_case)
    time_machine.move_to(NOW, tick=False)  # the page counts the open cases at NOW
    return built


class _Tables(HTMLParser):
    """Collect each <table data-table="name"> as rows of cell texts (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = self.tables.setdefault(attrs["data-table"], [])
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    # The page shows an empty figure as a dash; the exports leave the cell empty.
    return {
        name: [["" if cell == "—" else cell for cell in row] for row in rows]
        for name, rows in parser.tables.items()
    }


def get(client, user, **params):
    client.force_login(user)
    return client.get("/dashboard/", {**PERIOD, **params})


def test_association_page_shows_every_table_with_a_caption_and_header_cells(client, world):
    response = get(client, world.analyst)
    assert response.status_code == 200
    html = response.content.decode()
    assert list(page_tables(response)) == list(TABLE_NAMES)
    assert html.count("<caption") == len(TABLE_NAMES)
    assert 'scope="col"' in html and 'scope="row"' in html
    assert "vendor/chartjs/chart.umd.js" in html
    assert "Figures as of 2026-12-01 12:00" in html
    assert 'id="chart-trend"' in html


def test_page_tables_are_the_figures(client, world):
    tables = page_tables(get(client, world.analyst))
    assert tables["by_member"][1:] == [
        ["Studio Aoi", "5", "80.0", "75.0", "50.0", "2", "0"],
        ["Studio Beni", "2", "", "", "", "0", "1"],
    ]
    assert tables["open_by_age"][1:][3] == ["14 to 30 days", "4"]


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_csv_and_xlsx_exports_equal_the_page_table(client, world, name):
    page = page_tables(get(client, world.analyst))[name]
    response = get(client, world.analyst, export="csv", table=name)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"dashboard-{name}-" in response["Content-Disposition"]
    exported = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert exported == page
    workbook = load_workbook(io.BytesIO(get(client, world.analyst, export="xlsx", table=name).content))
    sheet = list(workbook.active.iter_rows())
    assert [[xlsx_text(cell) for cell in row] for row in sheet] == page


def xlsx_text(cell) -> str:
    """Return a workbook cell as the page writes it: numbers in the cell's own number format."""
    if cell.number_format == "0.0":
        assert isinstance(cell.value, int | float)  # a number in the workbook, not text
        return f"{cell.value:.1f}"
    return cell_text(cell.value)


def test_a_member_page_and_export_show_only_its_own_cases(client, world):
    response = get(client, world.other_legal, member=world.member.pk)
    tables = page_tables(response)
    assert "by_member" not in tables
    assert tables["by_provider"][1:] == [["Quill AI", "2", "", "", "", "", "0", "1"]]
    # The provider filter lists every provider (as filing does); the figures name only its own.
    figures_html = response.content.decode().split('id="dashboard-figures"')[1]
    assert "Studio Aoi" not in figures_html
    assert "Pixel AI" not in figures_html
    exported = get(client, world.other_legal, member=world.member.pk, export="csv", table="by_provider")
    assert "Pixel AI" not in exported.content.decode()
    # The per-member table is the association's: a member asking for it gets nothing.
    assert get(client, world.legal, export="csv", table="by_member").status_code == 404


def test_a_provider_cannot_read_another_providers_figures(client, world):
    response = get(client, world.other_agent, provider=world.provider.pk, export="csv", table="breaches")
    assert response.status_code == 200
    assert "Pixel AI" not in response.content.decode()
    assert "Quill AI" in response.content.decode()
    assert get(client, world.other_agent, export="csv", table="by_member").status_code == 404


def test_htmx_filter_change_returns_the_figures_alone(client, world):
    client.force_login(world.analyst)
    response = client.get("/dashboard/", {**PERIOD, "kind": "inquiry"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<form" not in html.split('id="language-next"')[-1]
    assert page_tables(response)["by_provider"][1:] == [["Quill AI", "1", "", "", "", "", "0", "1"]]
    assert (
        f"month_from={PERIOD['month_from']}" in html and "kind=inquiry" in html
    )  # export links keep the filters


def test_bad_filters_are_shown_as_errors_and_ignored(client, world):
    response = get(client, world.analyst, month_from="2026-13", month_to="soon", kind="nonsense", member="x")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a month as YYYY-MM." in html
    assert "Select a valid choice" in html


def test_unknown_export_is_not_found(client, world):
    assert get(client, world.analyst, export="pdf", table="trend").status_code == 404
    assert get(client, world.analyst, export="csv", table="secrets").status_code == 404


def test_the_dashboard_needs_a_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_nav_links_to_the_dashboard(client, world):
    client.force_login(world.legal)
    assert 'href="/dashboard/"' in client.get("/cases/").content.decode()


def test_default_period_is_the_last_twelve_months(client, world):
    client.force_login(world.analyst)
    response = client.get("/dashboard/")
    html = response.content.decode()
    assert 'value="2026-01"' in html and 'value="2026-12"' in html
    trend = page_tables(response)["trend"]
    assert [row[0] for row in trend[1:]][0] == "2026-01" and trend[-1][0] == "2026-12"
