"""Export of approved letters: DOCX from a department template, PDF with WeasyPrint.

The PDF text is checked on WeasyPrint's layout of the same HTML (the boxes it typesets), because
no PDF text extractor (pypdf, pdfminer, pdftotext) is installed; the PDF bytes themselves are
checked for structure: header, page count, A4 media box, embedded DejaVu fonts.
"""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from medletter.app.services import export
from medletter.app.services.export import ExportMeta, ExportTemplateError, default_template, letter_blocks

ROOT = Path(__file__).resolve().parents[2]

LETTER = """\
Betreff: Frau Beate Albers, geb. 04.04.1957, Pat.-Nr. P-778812

Sehr geehrter Herr Kollege Hausmann,

wir berichten Ihnen über Ihre Patientin Frau Beate Albers, die sich vom 01.03.2029 – 28.03.2029 in unserer Behandlung befand.

Diagnose:
Invasiv-duktales Mammakarzinom links (C50.4), pT1c pN0 cM0, G2, UICC-Stadium IA

STRAHLENTHERAPIE
Restbrust links: IMRT, 15 × 2,67 Gy bis 40,05 Gy, CBCT täglich
  - Boost Tumorbett links: 5 × 2,0 Gy bis 10 Gy

Therapie
Hautpflege mit rückfettender Creme; bei Temperatur ≥ 38 °C bitte Rücksprache – Gruß aus der Ambulanz.
Literal markup, kept as text: <script>alert(1)</script> and <b>fett</b> and {{department}} & Co.

Mit freundlichen Grüßen
Dr. med. Eva Strahl
"""

LETTER_LINES = [ln.strip() for ln in LETTER.splitlines() if ln.strip()]
SPECIAL = ["ü", "ß", "–", "≥", "°", "×"]


@pytest.fixture
def meta() -> ExportMeta:
    return ExportMeta(
        case_id="F-2029-000123",
        patient_name="Beate Albers",
        patient_birth_date="04.04.1957",
        patient_address="Lindenweg 12\n04109 Leipzig",
        recipient="Dr. med. Karl Hausmann\nPraxis am Südring\n04109 Leipzig",
        letter_date="10.05.2029",
        version=3,
        approved_by="dr.strahl",
        approved_at="2029-05-10 14:03 UTC",
    )


# ---------------------------------------------------------------------------------------------
# helpers


def read_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def body_texts(d) -> list[str]:
    return [p.text for p in d.paragraphs]


def all_xml_text(d) -> str:
    """Every w:t of the body, the headers and the footers (placeholders left anywhere show here)."""
    parts = [d.element.body]
    for s in d.sections:
        for hf in (s.header, s.footer, s.first_page_header, s.first_page_footer, s.even_page_header, s.even_page_footer):
            if not hf.is_linked_to_previous:
                parts.append(hf._element)
    return "\n".join("".join(t.text or "" for t in part.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))
                     for part in parts)


def save(d, path: Path) -> Path:
    d.save(path)
    return path


def split_run_paragraph(p, pieces, bold_first=False):
    """Write `pieces` as separate runs, as Word does after an edit (a placeholder split over runs)."""
    for i, piece in enumerate(pieces):
        r = p.add_run(piece)
        if i == 0 and bold_first:
            r.bold = True
    return p


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's object streams, inflated (WeasyPrint writes its objects compressed)."""
    out = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return b"\n".join(out)


def layout_pages(text: str, meta: ExportMeta) -> list[list[tuple[float, float, str]]]:
    """(y, x, text) of every typeset text box, page by page, from WeasyPrint's layout of the export."""
    from weasyprint.formatting_structure import boxes

    document = export._html(text, meta).render()
    pages = []
    for page in document.pages:
        pages.append(sorted((b.position_y, b.position_x, b.text) for b in page._page_box.descendants()
                            if isinstance(b, boxes.TextBox)))
    return pages


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


# ---------------------------------------------------------------------------------------------
# the letter's structure


def test_letter_blocks_paragraphs_and_headings():
    blocks = letter_blocks(LETTER)
    assert [ln.full for b in blocks for ln in b] == [ln.rstrip() for ln in LETTER.splitlines() if ln.strip()]
    heads = [ln.text for b in blocks for ln in b if ln.heading]
    assert heads == ["Diagnose:", "STRAHLENTHERAPIE", "Therapie"]
    leads = [ln.lead for b in blocks for ln in b if ln.lead]
    assert leads == ["Betreff:", "Restbrust links:"]
    assert len(blocks) == 7  # blank lines separate paragraphs
    assert letter_blocks("a\r\nb\x00c\x0b\n\n\n\nd") == [[export.Line("a"), export.Line("bc")], [export.Line("d")]]


# ---------------------------------------------------------------------------------------------
# DOCX


def test_default_template_is_shipped_and_rebuildable(tmp_path):
    path = default_template()
    assert path.is_file() and path.suffix == ".docx"
    spec = importlib.util.spec_from_file_location("make_letterhead", ROOT / "tools" / "make_letterhead.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rebuilt = docx.Document(mod.build(tmp_path / "letterhead.docx"))
    shipped = docx.Document(path)
    assert body_texts(rebuilt) == body_texts(shipped)  # the asset is what the script makes
    assert "{{letter}}" in body_texts(shipped)
    assert [p.text for p in shipped.sections[0].header.paragraphs] == [p.text for p in rebuilt.sections[0].header.paragraphs]
    sec = shipped.sections[0]
    assert abs(sec.page_width.mm - 210) < 0.5 and abs(sec.page_height.mm - 297) < 0.5


def test_docx_round_trip_default_template(meta):
    d = read_docx(export.to_docx(LETTER, meta))
    texts = body_texts(d)
    joined = "\n".join(texts)
    for line in LETTER_LINES:  # every line verbatim, umlauts and symbols intact
        assert line in joined, line
    for ch in SPECIAL:
        assert ch in joined
    # placeholders filled in body, header and footer; the letter's own "{{department}}" stays literal
    everything = all_xml_text(d)
    assert everything.count("{{") == 1 and "{{department}} & Co." in everything
    header = "\n".join(p.text for p in d.sections[0].header.paragraphs)
    footer = "\n".join(p.text for p in d.sections[0].footer.paragraphs)
    assert "Klinik für Strahlentherapie und Radioonkologie" in header
    assert "Beate Albers, geb. 04.04.1957 · Fall-Nr. F-2029-000123" in footer
    assert "Freigegeben von dr.strahl am 2029-05-10 14:03 UTC · Version 3" in footer
    assert "Seite" in footer and d.sections[0].footer._element.xpath(".//w:fldSimple[contains(@w:instr, 'PAGE')]")
    # the blocks in letter order
    i_recipient = texts.index("Dr. med. Karl Hausmann\nPraxis am Südring\n04109 Leipzig")
    i_patient = texts.index("Patient: Beate Albers, geb. 04.04.1957, Fall-Nr. F-2029-000123")
    i_address = texts.index("Lindenweg 12\n04109 Leipzig")
    i_first = texts.index(LETTER_LINES[0])
    i_last = texts.index(LETTER_LINES[-1])
    i_approval = texts.index("Elektronisch freigegeben von dr.strahl am 2029-05-10 14:03 UTC (Version 3).")
    assert i_recipient < texts.index("10.05.2029") < i_patient < i_address < i_first < i_last < i_approval
    assert "{{letter}}" not in texts
    # one paragraph a line; headings bold
    heading = next(p for p in d.paragraphs if p.text == "Diagnose:")
    assert all(r.bold for r in heading.runs)
    body_line = next(p for p in d.paragraphs if p.text.startswith("Invasiv-duktales"))
    assert not any(r.bold for r in body_line.runs)
    # leading indentation of a line survives
    assert "  - Boost Tumorbett links: 5 × 2,0 Gy bis 10 Gy" in texts
    assert d.core_properties.title == "Arztbrief"


def test_docx_optional_fields_leave_no_empty_lines(meta):
    meta.recipient = ""
    meta.patient_address = ""
    d = read_docx(export.to_docx(LETTER, meta))
    texts = body_texts(d)
    assert "{{" not in "".join(t for t in texts if "& Co." not in t)
    i_patient = texts.index("Patient: Beate Albers, geb. 04.04.1957, Fall-Nr. F-2029-000123")
    assert texts[i_patient + 1] == ""  # the template's spacer, not an emptied {{patient_address}} line
    assert texts[i_patient + 2] == LETTER_LINES[0]


def _custom_template(path: Path, *, marker: bool) -> Path:
    d = docx.Document()
    hdr = d.sections[0].header.paragraphs[0]
    split_run_paragraph(hdr, ["Kreisklinikum Musterstadt – ", "{{depa", "rtment", "}}"], bold_first=True)
    d.sections[0].footer.paragraphs[0].text = "Vertraulich · {{ case_id }}"
    split_run_paragraph(d.add_paragraph(), ["An: {{recip", "ient}} / ", "{{patient_line}}"])
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Datum"
    table.cell(0, 1).text = "{{letter_date}}"
    if marker:
        d.add_paragraph("Vorher")
        d.add_paragraph("{{ letter }}")
        d.add_paragraph("Nachher: {{approval_line}}")
    d.styles["Normal"].font.size = Pt(9)
    return save(d, path)


def test_docx_custom_template_appends_standard_blocks(tmp_path, meta):
    tpl = _custom_template(tmp_path / "kreisklinikum.docx", marker=False)
    d = read_docx(export.to_docx(LETTER, meta, template=tpl))
    header = d.sections[0].header.paragraphs[0]
    assert header.text == "Kreisklinikum Musterstadt – Klinik für Strahlentherapie und Radioonkologie"
    assert header.runs[0].bold  # the template's formatting is kept
    assert d.sections[0].footer.paragraphs[0].text == "Vertraulich · F-2029-000123"
    assert d.styles["Normal"].font.size == Pt(9)  # the template's styles
    texts = body_texts(d)
    assert texts[0] == ("An: Dr. med. Karl Hausmann\nPraxis am Südring\n04109 Leipzig / "
                        "Patient: Beate Albers, geb. 04.04.1957, Fall-Nr. F-2029-000123")
    assert d.tables[0].cell(0, 1).text == "10.05.2029"
    # no {{letter}} paragraph: recipient, date, patient, the letter and approval are appended
    tail = texts[1:]
    assert tail.index("Patient: Beate Albers, geb. 04.04.1957, Fall-Nr. F-2029-000123") < tail.index(LETTER_LINES[0])
    joined = "\n".join(tail)
    for line in LETTER_LINES:
        assert line in joined
    assert tail[-1] == "Freigegeben von dr.strahl am 2029-05-10 14:03 UTC (Version 3)"
    assert all_xml_text(d).count("{{") == 1


def test_docx_custom_template_letter_marker(tmp_path, meta):
    tpl = _custom_template(tmp_path / "mit-marker.docx", marker=True)
    texts = body_texts(read_docx(export.to_docx(LETTER, meta, template=tpl)))
    i, j = texts.index("Vorher"), texts.index("Nachher: Freigegeben von dr.strahl am 2029-05-10 14:03 UTC (Version 3)")
    assert [t for t in texts[i + 1:j]] == [ln.rstrip() for ln in LETTER.splitlines() if ln.strip()]
    assert not any(t.startswith("Patient:") for t in texts)  # the template lays out the rest itself


def test_docx_dotx_template(tmp_path, meta):
    src = _custom_template(tmp_path / "a.docx", marker=True)
    dotx = tmp_path / "vorlage.dotx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dotx, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"document.main+xml", b"template.main+xml")
            zout.writestr(item, data)
    texts = body_texts(read_docx(export.to_docx(LETTER, meta, template=dotx)))
    assert LETTER_LINES[-1] in texts


def test_docx_template_errors_name_the_file(tmp_path, meta):
    d = docx.Document()
    d.add_paragraph("Hallo {{patinet_name}}")
    bad = save(d, tmp_path / "tippfehler.docx")
    with pytest.raises(ExportTemplateError, match=r"tippfehler\.docx.*\{\{patinet_name\}\}"):
        export.to_docx(LETTER, meta, template=bad)
    with pytest.raises(ExportTemplateError, match="fehlt.docx: DOCX template not found"):
        export.to_docx(LETTER, meta, template=tmp_path / "fehlt.docx")
    junk = tmp_path / "kaputt.docx"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ExportTemplateError, match=r"kaputt\.docx"):
        export.to_docx(LETTER, meta, template=junk)
    d = docx.Document()
    d.add_paragraph("Brief: {{letter}}")
    with pytest.raises(ExportTemplateError, match="stand alone"):
        export.to_docx(LETTER, meta, template=save(d, tmp_path / "inline.docx"))


def test_docx_survives_control_characters(meta):
    meta.patient_name = "Beate\x00 Albers"
    d = read_docx(export.to_docx("Zeile\x0b eins\n\x1b\nZeile zwei\ttab", meta))
    texts = body_texts(d)
    assert "Zeile eins" in texts and "Zeile zwei\ttab" in texts
    assert "Patient: Beate Albers, geb. 04.04.1957, Fall-Nr. F-2029-000123" in texts


# ---------------------------------------------------------------------------------------------
# PDF


def test_pdf_html_is_escaped(meta):
    meta.patient_name = 'Beate <img src="http://evil.example/x.png"> Albers'
    html = export.render_pdf_html(LETTER, meta)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "&lt;b&gt;fett&lt;/b&gt;" in html and "<b>" not in html
    assert "&lt;img" in html and "<img" not in html
    assert "{{department}} &amp; Co." in html
    for ch in SPECIAL:
        assert ch in html
    assert 'size: A4' in html and "counter(pages)" in html


def test_pdf_is_a4_with_embedded_dejavu(meta, offline):
    pdf = export.to_pdf(LETTER, meta)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    objs = pdf_objects(pdf)
    assert re.search(rb"/Type\s*/Pages.*?/Count 1\b", objs, re.S)
    assert re.search(rb"/MediaBox \[0 0 595\.2\d* 841\.8\d*\]", objs)  # A4 in points
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+DejaVu-?Sans", objs)
    assert b"/Lang (de)" in objs


def test_pdf_layout_shows_the_letter(meta, offline):
    pages = layout_pages(LETTER, meta)
    assert len(pages) == 1
    boxes = pages[0]
    text = squash("".join(t for _, _, t in boxes))
    for line in LETTER_LINES:  # wrapped lines split into boxes: compare without whitespace
        assert squash(line) in text, line
    assert "<script>alert(1)</script>" in "".join(t for _, _, t in boxes)  # shown literally
    for ch in SPECIAL:
        assert ch in text
    y_of = lambda needle: min(y for y, _, t in boxes if needle in t)  # noqa: E731
    assert y_of("Klinik für Strahlentherapie") < y_of("Patient: Beate Albers") < y_of("Sehr geehrter")
    assert y_of("Sehr geehrter") < y_of("Freigegeben von dr.strahl") < y_of("Seite")
    assert squash("Seite 1 von 1") in text


def test_pdf_long_letter_numbers_pages(meta, offline):
    long_letter = "\n\n".join(f"Absatz {i}: " + "Bestrahlung der Restbrust mit 40,05 Gy – gut vertragen. " * 6
                              for i in range(40))
    pages = layout_pages(long_letter, meta)
    n = len(pages)
    assert n >= 2
    for i, boxes in enumerate(pages, 1):
        assert squash(f"Seite {i} von {n}") in squash("".join(t for _, _, t in boxes))
    pdf = export.to_pdf(long_letter, meta)
    assert re.search(rb"/Count %d\b" % n, pdf_objects(pdf))


def test_pdf_never_fetches_urls(tmp_path, offline):
    import weasyprint

    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    for url in ("http://192.0.2.1/logo.png", "https://example.org/x.css", secret.as_uri()):
        tag = f'<link rel="stylesheet" href="{url}">' if url.endswith(".css") else f'<img src="{url}">'
        html = weasyprint.HTML(string=f"<p>x</p>{tag}", base_url=None, url_fetcher=export._offline_url_fetcher())
        with pytest.raises(export.ExternalResourceError, match="refused"):
            export._write_pdf(html)
    svg = "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>"
    html = weasyprint.HTML(string=f'<img src="{svg}">', base_url=None, url_fetcher=export._offline_url_fetcher())
    assert export._write_pdf(html).startswith(b"%PDF-")
