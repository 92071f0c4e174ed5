"""HTML of the dashboard's tables and filter selects, written in Python for speed.

A dashboard page shows up to a thousand table cells and selects of every member and provider;
through the template engine (a loop, two conditions and a filter per cell, a template per
option) they took about half of the page's time. The markup is the same a template would
write: a caption, column headers with ``scope="col"``, the first cell of each row a header
with ``scope="row"``, and numbers right-aligned.
"""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from claims.dashboards.figures import FigureTable

NUMERIC = frozenset({"int", "percent", "hours", "number"})
NO_FIGURE = "—"


def _class(column) -> str:
    if column.kind in NUMERIC:
        return ' class="num"'
    if column.kind == "month":
        return ' class="nowrap"'
    return ""


def table_html(table: FigureTable) -> SafeString:
    """Return the accessible HTML table of one figure table (its cells as the exports write them)."""
    header = format_html_join(
        "",
        '<th scope="col"{}>{}</th>',
        ((SafeString(_class(column)), column.label) for column in table.columns),
    )
    body_rows = []
    for row in table.text_rows():
        (first, first_column), *rest = row
        cells = format_html_join(
            "",
            "<td{}>{}</td>",
            ((SafeString(_class(column)), text or NO_FIGURE) for text, column in rest),
        )
        body_rows.append(
            format_html(
                '<tr><th scope="row"{}>{}</th>{}</tr>',
                SafeString(_class(first_column)),
                first or NO_FIGURE,
                cells,
            )
        )
    if not body_rows:
        body_rows.append(
            format_html(
                '<tr><td colspan="{}" class="muted">{}</td></tr>',
                len(table.columns),
                _("No cases match these filters."),
            )
        )
    return format_html(
        '<table class="table table-compact dashboard-table" data-table="{}">'
        '<caption class="visually-hidden">{}</caption><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        table.name,
        table.title,
        header,
        SafeString("".join(body_rows)),
    )


class QuickSelect(forms.Select):
    """A select whose options are written directly rather than through one template each."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        selected = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option_value, SafeString(" selected") if str(option_value) in selected else "", label)
                for option_value, label in self.choices
            ),
        )
        attributes = SafeString(
            "".join(
                format_html(" {}", key) if value is True else format_html(' {}="{}"', key, value)
                for key, value in sorted(attrs.items())
                if value is not False and value is not None
            )
        )
        return format_html('<select name="{}"{}>{}</select>', name, attributes, options)
