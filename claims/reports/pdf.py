"""Draw a report layout as a PDF with reportlab (pure Python, no font files).

Japanese uses the CID font HeiseiKakuGo-W5 that every PDF reader carries; English uses
Helvetica, falling back to the CID font for any text Helvetica cannot encode (a Japanese name).
"""

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .layout import ReportLayout

CJK_FONT = "HeiseiKakuGo-W5"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
GRID = colors.HexColor("#c9ced6")
HEAD_FILL = colors.HexColor("#eef1f5")


def _register_fonts() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _latin(text: str) -> bool:
    try:
        text.encode("cp1252")  # Helvetica is set in WinAnsiEncoding
    except UnicodeEncodeError:
        return False
    return True


class _Styles:
    """Paragraph styles of one language; text Helvetica cannot show is set in the CID font."""

    def __init__(self, language: str):
        self.cjk = language.startswith("ja")
        regular = CJK_FONT if self.cjk else LATIN_FONT
        bold = CJK_FONT if self.cjk else LATIN_BOLD
        wrap = "CJK" if self.cjk else None
        self.title = ParagraphStyle(
            "title", fontName=bold, fontSize=16, leading=21, spaceAfter=4 * mm, wordWrap=wrap
        )
        self.heading = ParagraphStyle(
            "heading",
            fontName=bold,
            fontSize=12,
            leading=16,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
            wordWrap=wrap,
        )
        self.body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12, wordWrap=wrap)
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=11, wordWrap=wrap)
        self.number = ParagraphStyle("number", parent=self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=bold)
        self.headline = ParagraphStyle("headline", fontName=bold, fontSize=26, leading=32, wordWrap=wrap)

    def para(self, text: str, style: ParagraphStyle) -> Paragraph:
        markup = escape(str(text))
        if not self.cjk and not _latin(str(text)):
            markup = f'<font name="{CJK_FONT}">{markup}</font>'
        return Paragraph(markup, style)


def render_report_pdf(layout: ReportLayout, *, language: str) -> bytes:
    """Return the PDF of the layout; labels must already be in ``language``."""
    _register_fonts()
    styles = _Styles(language)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=layout.title,
        author="RightsDesk",
        lang="ja" if styles.cjk else "en",
    )
    width = document.width
    story = [styles.para(layout.title, styles.title)]
    meta = Table(
        [[styles.para(label, styles.head), styles.para(value, styles.cell)] for label, value in layout.meta],
        colWidths=[0.28 * width, 0.72 * width],
        hAlign="LEFT",
    )
    meta.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story += [meta, Spacer(1, 4 * mm)]
    story += [
        styles.para(layout.headline_label, styles.heading),
        styles.para(layout.headline_value, styles.headline),
        styles.para(layout.headline_note, styles.body),
    ]
    for table in layout.tables:
        story.append(styles.para(table.heading, styles.heading))
        rows = [[styles.para(column, styles.head) for column in table.columns]]
        for row in table.rows:
            rows.append(
                [
                    styles.para(value, styles.number if index >= table.numeric_from else styles.cell)
                    for index, value in enumerate(row)
                ]
            )
        # A label column gets room to breathe; a wide table (the trend) gives it to the figures.
        first = 0.6 if len(table.columns) <= 2 else 0.3 if len(table.columns) <= 6 else 0.12
        rest = (1 - first) / max(len(table.columns) - 1, 1)
        drawn = Table(
            rows,
            colWidths=[first * width] + [rest * width] * (len(table.columns) - 1),
            repeatRows=1,
            hAlign="LEFT",
        )
        drawn.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                    ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(drawn)
        if table.note:
            story += [Spacer(1, 1.5 * mm), styles.para(table.note, styles.body)]
    document.build(story)
    return buffer.getvalue()
