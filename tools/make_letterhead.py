"""Build the default letterhead template for DOCX exports: src/medletter/app/assets/letterhead.docx.

    .venv/bin/python tools/make_letterhead.py [--out PATH] [--department "Klinik für ..."]

A department replaces the result with its own Word template (.docx or .dotx) made the same way:
header and footer, page setup and styles are kept; these placeholders are filled where they stand
(body, tables, text boxes, header, footer):

    {{department}} {{recipient}} {{letter_date}} {{patient_name}} {{patient_birth_date}}
    {{patient_address}} {{case_id}} {{version}} {{approved_by}} {{approved_at}}
    {{patient_line}} {{approval_line}}

and a paragraph that holds only {{letter}} is replaced by the letter. Without a {{letter}} paragraph
the address block, patient line, letter and approval line are appended to the body.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "medletter" / "app" / "assets" / "letterhead.docx"
GREY = RGBColor(0x55, 0x55, 0x55)
FONT = "Arial"  # Word's and LibreOffice's (as Liberation Sans) usual sans font; has ä ö ü ß – ≥ °


def _run(p, text, *, bold=False, italic=False, size=None, color=None, underline=False):
    r = p.add_run(text)
    r.bold = bold or None
    r.italic = italic or None
    r.underline = underline or None
    if size:
        r.font.size = Pt(size)
    if color is not None:
        r.font.color.rgb = color
    return r


def _spacing(p, before=0, after=0):
    p.paragraph_format.space_before = Pt(before)
    p.paragraph_format.space_after = Pt(after)


def _bottom_border(p):
    pPr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in {"w:val": "single", "w:sz": "6", "w:space": "4", "w:color": "333333"}.items():
        bottom.set(qn(k), v)
    bdr.append(bottom)
    pPr.append(bdr)


def _field(p, instr: str, *, size=None, color=None):
    """A simple field (PAGE, NUMPAGES) that Word and LibreOffice update on display."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), f" {instr} ")
    r = _run(p, "1", size=size, color=color)  # placeholder result until the viewer updates it
    p._p.remove(r._r)
    fld.append(r._r)
    p._p.append(fld)


def build(out: Path, department: str | None = None) -> Path:
    doc = Document()
    body = doc.element.body
    for p in list(body.iter(qn("w:p"))):
        body.remove(p)

    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(30), Mm(25)
    sec.left_margin, sec.right_margin = Mm(25), Mm(20)
    sec.header_distance, sec.footer_distance = Mm(10), Mm(10)
    text_width = sec.page_width - sec.left_margin - sec.right_margin

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), FONT)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15

    dept = department or "{{department}}"

    # header: the letterhead
    header = sec.header
    header.is_linked_to_previous = False
    h1 = header.paragraphs[0]
    h1.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(h1, dept, bold=True, size=13)
    _spacing(h1)
    h2 = header.add_paragraph()
    h2.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(h2, "Arztbrief", size=8.5, color=GREY)
    _spacing(h2)
    _bottom_border(h2)

    # footer: patient, page x of y, approval
    footer = sec.footer
    footer.is_linked_to_previous = False
    f1 = footer.paragraphs[0]
    f1.paragraph_format.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT)
    _run(f1, "{{patient_name}}, geb. {{patient_birth_date}} · Fall-Nr. {{case_id}}\tSeite ", size=7.5, color=GREY)
    _field(f1, "PAGE", size=7.5, color=GREY)
    _run(f1, " von ", size=7.5, color=GREY)
    _field(f1, "NUMPAGES", size=7.5, color=GREY)
    _spacing(f1)
    f2 = footer.add_paragraph()
    _run(f2, "Freigegeben von {{approved_by}} am {{approved_at}} · Version {{version}}", size=7.5, color=GREY)
    _spacing(f2)

    # body: address block, date, patient, the letter, approval
    p = doc.add_paragraph()
    _run(p, dept, size=7, color=GREY, underline=True)
    _spacing(p, before=6, after=4)
    p = doc.add_paragraph("{{recipient}}")
    _spacing(p, after=24)
    p = doc.add_paragraph("{{letter_date}}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _spacing(p, after=14)
    p = doc.add_paragraph()
    _run(p, "Patient: {{patient_name}}, geb. {{patient_birth_date}}, Fall-Nr. {{case_id}}", bold=True)
    _spacing(p)
    p = doc.add_paragraph("{{patient_address}}")
    _spacing(p)
    p = doc.add_paragraph()
    _spacing(p, after=12)
    doc.add_paragraph("{{letter}}")
    p = doc.add_paragraph()
    _run(p, "Elektronisch freigegeben von {{approved_by}} am {{approved_at}} (Version {{version}}).",
         italic=True, size=8, color=GREY)
    _spacing(p, before=12)

    props = doc.core_properties
    props.author = "medletter"
    props.last_modified_by = "medletter"
    props.title = "Arztbrief"
    props.comments = "Briefvorlage für medletter; Platzhalter: siehe tools/make_letterhead.py"
    props.created = props.modified = dt.datetime(2025, 1, 1)
    props.revision = 1

    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write (default: {DEFAULT_OUT})")
    ap.add_argument("--department", default=None,
                    help="print this name in the letterhead instead of the {{department}} placeholder")
    args = ap.parse_args()
    print(build(args.out, args.department))


if __name__ == "__main__":
    main()
