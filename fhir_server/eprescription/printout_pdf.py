"""The printable prescription as a PDF (A5, Persian, right to left).

fpdf2 writes the PDF; uharfbuzz shapes the Persian text (joined letter forms) and fpdf2's
own bidi algorithm orders mixed Persian and Latin runs. The font is Vazirmatn (SIL OFL
1.1, shipped in `fonts/` from the `vazirmatn` npm package), embedded as a subset.
"""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF

from fhir_server.eprescription.printout import QR_BORDER, Printout, fa_digits, qr_code, qr_png

FONTS = Path(__file__).parent / "fonts"
FONT = "Vazirmatn"
COLUMNS = (
    ("ردیف", 10),
    ("شرح", 30),
    ("کد", 17),
    ("تعداد", 20),
    ("دستور مصرف", 25),
    ("سهم بیمه / بیمار", 18),
    ("وضعیت", 13),
)
QR_SYMBOL_MM = 26  # the printed symbol's side, quiet zone not counted (pharmacy scanners: >= 25 mm)


def _new_pdf(p: Printout) -> FPDF:
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_title(f"نسخه {p.prescription_id}")
    pdf.set_creator("Noskhe")
    pdf.add_font(FONT, "", str(FONTS / "Vazirmatn-Regular.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "Vazirmatn-Bold.ttf"))
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="fas")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, 12)
    pdf.add_page()
    return pdf


def _line(pdf: FPDF, label: str, value: str, size: float = 10, bold_value: bool = False) -> None:
    pdf.set_font(FONT, "", size)
    pdf.cell(0, 7, f"{label}: ", new_x="LMARGIN", new_y="TOP", align="R")
    width = pdf.get_string_width(f"{label}: ")
    pdf.set_font(FONT, "B" if bold_value else "", size)
    pdf.set_x(pdf.l_margin)
    pdf.cell(pdf.epw - width, 7, value, new_x="LMARGIN", new_y="NEXT", align="R")


def _header(pdf: FPDF, p: Printout) -> None:
    top = pdf.get_y()
    modules = qr_code(p.qr_text).symbol_size(scale=1, border=0)[0]
    side = QR_SYMBOL_MM * (modules + 2 * QR_BORDER) / modules  # the image includes the quiet zone
    pdf.image(io.BytesIO(qr_png(p.qr_text)), x=pdf.l_margin, y=top, w=side, h=side)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 9, f"نسخه الکترونیک {p.type_label}", new_x="LMARGIN", new_y="NEXT", align="R")
    _line(pdf, "شماره نسخه", p.prescription_id, 11, True)
    _line(pdf, "کد رهگیری", p.tracking, 13, True)
    pdf.set_y(max(pdf.get_y(), top + side + 2))


def _details(pdf: FPDF, p: Printout) -> None:
    _line(pdf, "مرکز درمانی", p.clinic)
    _line(pdf, "تاریخ صدور", f"{p.issued} - اعتبار تا {p.expires}")
    _line(pdf, "بیمار", f"{p.patient} - کد ملی {p.national_code}")
    _line(pdf, "تاریخ تولد", p.birth)
    _line(pdf, "سن و جنس", f"{p.age} - {p.sex}")
    if p.mother_code is not None:
        _line(pdf, "مادر", f"نوزاد بدون شناسنامه؛ {p.mother or '-'} - کد ملی مادر {p.mother_code}")
    _line(pdf, "پزشک", f"{p.prescriber} - نظام پزشکی {p.council_number}")
    _line(pdf, "بیمه", p.insurer)
    pdf.ln(2)


def _table(pdf: FPDF, p: Printout) -> None:
    # Right to left: the first column is drawn at the right edge.
    widths = tuple(w for _, w in reversed(COLUMNS))
    pdf.set_font(FONT, "", 8)
    with pdf.table(col_widths=widths, text_align="RIGHT", line_height=6) as table:
        header = table.row()
        for label, _ in reversed(COLUMNS):
            header.cell(label)
        for n, row in enumerate(p.rows, 1):
            cells = (fa_digits(n), row.name, row.code, row.amount, row.instructions, row.shares, row.status)
            line = table.row()
            for text in reversed(cells):
                line.cell(text)


def to_pdf(p: Printout) -> bytes:
    pdf = _new_pdf(p)
    _header(pdf, p)
    _details(pdf, p)
    _table(pdf, p)
    return bytes(pdf.output())
