"""CSV and XLSX exports of one dashboard table: the same header and cells as the page."""

import csv
import io
from decimal import Decimal

from django.http import HttpResponse

from claims.dashboards.figures import DashboardFigures, FigureTable, cell_text

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_csv(table: FigureTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow([cell_text(value) for value in row])
    return buffer.getvalue()


def _xlsx_cell(value):
    """Numbers stay numbers in the workbook; months and text are written as the page shows them."""
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value)
    if isinstance(value, int | Decimal):
        return value
    return cell_text(value)


def table_xlsx(table: FigureTable) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    sheet.append([column.label for column in table.columns])
    for row in table.rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_xlsx_cell(value))
            if isinstance(value, Decimal):
                cell.number_format = "0.0"  # one decimal, as the page shows it
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(*, figures: DashboardFigures, table_name: str, export_format: str) -> HttpResponse:
    """Return the table as a download; the caller has checked that both names exist."""
    table = figures.tables[table_name]
    stamp = f"{figures.as_of or figures.now:%Y%m%d-%H%M}"
    filename = f"dashboard-{table.name}-{stamp}.{export_format}"
    if export_format == "csv":
        # A byte-order mark so that spreadsheet programs read the Japanese names as UTF-8.
        body: str | bytes = "\ufeff" + table_csv(table)
    else:
        body = table_xlsx(table)
    response = HttpResponse(body, content_type=EXPORT_FORMATS[export_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
