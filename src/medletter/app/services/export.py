"""Export an approved letter as DOCX (from the department's Word template) or PDF.

The caller (the review service) makes sure only approved versions get here; this module only renders.

DOCX
    :func:`to_docx` opens a Word template (the department's letterhead; :func:`default_template` is
    the one shipped in ``app/assets/letterhead.docx``, built by ``tools/make_letterhead.py``), keeps
    its page setup, styles, header and footer, fills the placeholders (``{{patient_name}}``, ... see
    :data:`PLACEHOLDERS`) wherever they stand -- body, tables, text boxes, headers, footers -- and
    puts the letter in:

    * if the template body has a paragraph that holds only ``{{letter}}``, the letter's paragraphs
      replace it and the template lays out everything else (address block, patient line, approval);
    * otherwise the standard blocks are appended to the body: recipient, date, patient line, the
      letter, the approval line.

    A ``.dotx`` template works as well. An unknown placeholder (a typo in the template) is an error
    that names the template file, so a letter never goes out with ``{{patinet_name}}`` in it.

PDF
    :func:`to_pdf` renders ``templates_export/letter_pdf.html`` (Jinja2, autoescaped: the letter is
    text, never markup) with WeasyPrint, A4, page numbers in the page margin. WeasyPrint gets no base
    URL and a URL fetcher that refuses everything but ``data:`` URLs, so rendering never touches the
    network or the file system.

The labels (patient line, approval line, "Arztbrief", page numbers) are in the letter's language (``lang``,
German or English; the app's catalogues, medletter.app.i18n). The letter is plain text: paragraphs are separated by blank lines; a line of its own that ends with
a colon ("Diagnose:") or is written in capitals ("STRAHLENTHERAPIE") is set as a heading. Every
line of the letter appears verbatim in both formats (control characters that XML cannot hold are
dropped, tabs are kept).
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from medletter.app.i18n import Msg, jinja_env

if TYPE_CHECKING:  # heavy imports stay lazy: WeasyPrint/Pango take a while to load
    from docx.document import Document as DocxDocument

_APP_DIR = Path(__file__).resolve().parent.parent
ASSETS_DIR = _APP_DIR / "assets"
TEMPLATES_DIR = _APP_DIR / "templates_export"
PDF_TEMPLATE = "letter_pdf.html"
LETTER_MARKER = "letter"


class ExportTemplateError(ValueError):
    """The DOCX template cannot be used (missing, not a Word file, unknown placeholder, ...)."""


@dataclass
class ExportMeta:
    case_id: str  # the hospital's case number
    patient_name: str  # "Beate Albers"
    patient_birth_date: str  # already formatted, e.g. "04.04.1957"
    patient_address: str  # may be ""; lines separated by "\n"
    recipient: str  # referring physician, e.g. "Dr. med. Karl Hausmann"; may be ""
    letter_date: str  # formatted, e.g. "10.05.2029"
    version: int
    approved_by: str  # user name of the approving physician
    approved_at: str  # formatted timestamp, e.g. "10.05.2029 14:03 UTC"
    department: str = ""  # "": "Department of Radiation Oncology" in the document's language
    lang: str = "de"  # the document's language (the letter's) for its labels; not a placeholder

    def __post_init__(self):
        if not self.department:
            self.department = self._("Department of Radiation Oncology")

    def _(self, msgid: str, **params) -> str:
        return Msg(msgid, **params).localize(self.lang)

    @property
    def patient_line(self) -> str:
        return self._("Patient: %(name)s, born %(born)s, case no. %(case)s", name=self.patient_name,
                      born=self.patient_birth_date, case=self.case_id)

    @property
    def approval_line(self) -> str:
        return self._("Approved by %(who)s on %(when)s (version %(version)s)", who=self.approved_by, when=self.approved_at,
                      version=self.version)

    def placeholders(self) -> dict[str, str]:
        """Placeholder name -> text, for the DOCX template (see :data:`PLACEHOLDERS`)."""
        values = {name: str(getattr(self, name)) for name in _FIELDS}
        values["patient_line"] = self.patient_line
        values["approval_line"] = self.approval_line
        return {k: _clean(v) for k, v in values.items()}


_FIELDS = tuple(f.name for f in dataclasses.fields(ExportMeta) if f.name != "lang")
#: Every placeholder a DOCX template may use, besides the ``{{letter}}`` marker paragraph.
PLACEHOLDERS: tuple[str, ...] = _FIELDS + ("patient_line", "approval_line")


# ---------------------------------------------------------------------------------------------
# the letter as blocks of lines (shared by DOCX and PDF)

# characters XML 1.0 cannot hold (tab and newline are fine); \r is normalised before this applies
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INLINE_HEAD = re.compile(r"^([A-ZÄÖÜ][^:\d\n.,;!?]{0,38}?:)(\s+\S.*)$")
_CLOSINGS = ("mit freundlichen", "mit kollegialen", "viele grüße", "freundliche grüße", "sincerely",
             "kind regards", "best regards", "yours")


def _clean(s: str) -> str:
    return _XML_INVALID.sub("", s.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class Line:
    text: str
    heading: bool = False  # the whole line is a heading
    lead: str = ""  # an inline heading ("Bestrahlung:") that starts the line; text then holds the rest

    @property
    def full(self) -> str:
        return self.lead + self.text


def _is_heading(line: str, first_of_block: bool, block_len: int) -> bool:
    s = line.strip()
    if not s or len(s) > 60 or s[0] in "-–•*":
        return False
    if s.endswith(":"):  # "Diagnose:", "Onkologische Anamnese:", not "wir empfehlen Ihnen daher Folgendes:"
        return s[0].isupper() and len(s.split()) <= 5
    letters = [c for c in s if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters) and not any(c.isdigit() for c in s):
        return True
    # "Therapie" on a line of its own, directly followed by the paragraph it introduces
    return (first_of_block and block_len > 1 and len(s) <= 40 and len(s.split()) <= 3 and s[0].isupper()
            and s[-1] not in ".,;!?)" and not any(c.isdigit() for c in s)
            and not s.lower().startswith(_CLOSINGS))


def letter_blocks(text: str) -> list[list[Line]]:
    """Split a plain-text letter into paragraphs (blocks of lines), marking headings."""
    blocks: list[list[str]] = [[]]
    for raw in _clean(text).split("\n"):
        line = raw.rstrip()
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    out: list[list[Line]] = []
    for block in (b for b in blocks if b):
        lines = []
        for i, line in enumerate(block):
            if _is_heading(line, i == 0, len(block)):
                lines.append(Line(line, heading=True))
            elif (m := _INLINE_HEAD.match(line)) and len(m.group(1).split()) <= 4:
                lines.append(Line(m.group(2), lead=m.group(1)))
            else:
                lines.append(Line(line))
        out.append(lines)
    return out


# ---------------------------------------------------------------------------------------------
# DOCX


def default_template() -> Path:
    """The shipped letterhead template (``app/assets/letterhead.docx``)."""
    return ASSETS_DIR / "letterhead.docx"


_WORD_TEMPLATE_CT = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_WORD_DOCUMENT_CT = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _open_template(template: str | Path | None) -> "DocxDocument":
    import docx

    path = Path(template) if template is not None else default_template()
    if not path.is_file():
        raise ExportTemplateError(f"{path}: DOCX template not found")
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            ct = z.read("[Content_Types].xml")
            if _WORD_TEMPLATE_CT in ct:  # a .dotx: same package, other content type
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
                    for item in z.infolist():
                        body = z.read(item.filename)
                        if item.filename == "[Content_Types].xml":
                            body = body.replace(_WORD_TEMPLATE_CT, _WORD_DOCUMENT_CT)
                        out.writestr(item, body)
                data = buf.getvalue()
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise ExportTemplateError(f"{path}: not a Word document (.docx/.dotx): {e}") from e
    except Exception as e:  # python-docx raises its own PackageNotFoundError, lxml its XML errors
        raise ExportTemplateError(f"{path}: cannot read the DOCX template: {e}") from e


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _own_runs(p) -> list:
    """The runs of paragraph element ``p`` (also those inside hyperlinks, fields, content controls,
    tracked insertions), but not those of paragraphs nested in it (text boxes)."""
    w_p, w_r = _qn("w:p"), _qn("w:r")
    runs = []
    for r in p.iter(w_r):
        anc = r.getparent()
        while anc is not None and anc.tag != w_p:
            anc = anc.getparent()
        if anc is p:
            runs.append(r)
    return runs


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _fill_paragraph(p, values: dict[str, str], unknown: set[str]) -> bool:
    """Replace the placeholders in paragraph element ``p``, also those Word split over several runs.

    The replacement takes the formatting of the run the placeholder starts in. Returns True when
    the paragraph held placeholders.
    """
    from docx.text.run import Run

    runs = [Run(r, None) for r in _own_runs(p)]
    old = [r.text for r in runs]
    joined = "".join(old)
    if "{{" not in joined:
        return False
    matches = list(_PLACEHOLDER.finditer(joined))
    unknown.update(m.group(1) for m in matches if m.group(1) not in values)
    if unknown:
        return True
    starts, pos = [], 0
    for t in old:
        starts.append(pos)
        pos += len(t)

    def run_at(offset: int) -> int:  # the run that holds character `offset` of `joined`
        return next(i for i, t in enumerate(old) if starts[i] <= offset < starts[i] + len(t))

    texts = list(old)
    # last to first: a replacement only changes text at or after its own start, so the runs and
    # offsets of the matches before it stay valid
    for m in reversed(matches):
        value = values[m.group(1)]
        i, j = run_at(m.start()), run_at(m.end() - 1)
        a, b = m.start() - starts[i], m.end() - starts[j]
        if i == j:
            texts[i] = texts[i][:a] + value + texts[i][b:]
        else:
            texts[i] = texts[i][:a] + value
            for k in range(i + 1, j):
                texts[k] = ""
            texts[j] = texts[j][b:]
    for run, before, after in zip(runs, old, texts):
        if before != after:
            run.text = after  # "\n" becomes a line break, "\t" a tab
    return True


def _paragraph_elements(root) -> list:
    return list(root.iter(_qn("w:p")))


def _fill_template(doc: "DocxDocument", meta: ExportMeta, template_name: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    values = meta.placeholders()
    unknown: set[str] = set()
    body = doc.element.body
    emptied = []
    for p in _paragraph_elements(body):
        text_before = _text(p)
        marker = _PLACEHOLDER.fullmatch(text_before.strip())
        if marker and marker.group(1) == LETTER_MARKER:
            continue  # the marker paragraph: the letter goes there
        if _fill_paragraph(p, values, unknown) and not unknown:
            only_placeholders = not _PLACEHOLDER.sub("", text_before).strip()
            if only_placeholders and not _text(p).strip() and p.getparent() is body and not _has_drawing(p):
                emptied.append(p)  # an optional line ({{patient_address}} = "") disappears
    for rel in doc.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
            for p in _paragraph_elements(rel.target_part.element):
                _fill_paragraph(p, values, unknown)
    if unknown:
        raise ExportTemplateError(
            f"{template_name}: unknown placeholder(s) {', '.join('{{' + u + '}}' for u in sorted(unknown))}; "
            f"known: {', '.join('{{' + k + '}}' for k in (*PLACEHOLDERS, LETTER_MARKER))}"
        )
    for p in emptied:
        body.remove(p)


def _text(p) -> str:
    from docx.text.run import Run

    return "".join(Run(r, None).text for r in _own_runs(p))


def _has_drawing(p) -> bool:
    return any(True for _ in p.iter(_qn("w:drawing"), _qn("w:pict"), _qn("w:object")))


def _find_marker(doc: "DocxDocument", template_name: str):
    found = []
    for p in _paragraph_elements(doc.element.body):
        text = _text(p)
        if "{{" not in text:
            continue
        names = [m.group(1) for m in _PLACEHOLDER.finditer(text)]
        if LETTER_MARKER in names:
            if names != [LETTER_MARKER] or _PLACEHOLDER.sub("", text).strip():
                raise ExportTemplateError(f"{template_name}: {{{{letter}}}} must stand alone in its paragraph")
            found.append(p)
    if len(found) > 1:
        raise ExportTemplateError(f"{template_name}: {{{{letter}}}} appears {len(found)} times; it may appear once")
    return found[0] if found else None


class _Writer:
    """Adds paragraphs at one place of the document: before the marker paragraph, or at the end."""

    def __init__(self, doc: "DocxDocument", marker=None):
        from docx.text.paragraph import Paragraph

        self.doc = doc
        self.marker = Paragraph(marker, doc._body) if marker is not None else None

    def paragraph(self, text: str = "", *, bold: bool = False, italic: bool = False, size: float | None = None,
                  align=None, space_after: float | None = None, keep_with_next: bool = False):
        from docx.shared import Pt

        p = self.marker.insert_paragraph_before() if self.marker is not None else self.doc.add_paragraph()
        if text:
            self.run(p, text, bold=bold, italic=italic, size=size)
        pf = p.paragraph_format
        if align is not None:
            p.alignment = align
        if space_after is not None:
            pf.space_after = Pt(space_after)
            pf.space_before = Pt(0)
        if keep_with_next:
            pf.keep_with_next = True
        return p

    @staticmethod
    def run(p, text: str, *, bold: bool = False, italic: bool = False, size: float | None = None):
        from docx.shared import Pt

        r = p.add_run(text)
        if bold:
            r.bold = True
        if italic:
            r.italic = True
        if size is not None:
            r.font.size = Pt(size)
        return r

    def letter(self, text: str) -> None:
        for block in letter_blocks(text):
            for k, line in enumerate(block):
                last = k == len(block) - 1
                p = self.paragraph(space_after=10 if last else 0, keep_with_next=line.heading)
                if line.lead:
                    self.run(p, line.lead, bold=True)
                self.run(p, line.text, bold=line.heading)

    def finish(self) -> None:
        if self.marker is not None:
            el = self.marker._p
            el.getparent().remove(el)


def to_docx(text: str, meta: ExportMeta, template: str | Path | None = None) -> bytes:
    """The letter as a Word document made from ``template`` (default: :func:`default_template`)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    path = Path(template) if template is not None else default_template()
    doc = _open_template(path)
    marker = _find_marker(doc, str(path))
    _fill_template(doc, meta, str(path))
    w = _Writer(doc, marker)
    if marker is None:  # a bare letterhead: lay out the standard blocks ourselves
        values = meta.placeholders()
        if values["recipient"].strip():
            w.paragraph(values["recipient"], space_after=18)
        w.paragraph(values["letter_date"], align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=12)
        w.paragraph(values["patient_line"], bold=True, space_after=0 if values["patient_address"].strip() else 12)
        if values["patient_address"].strip():
            w.paragraph(values["patient_address"].strip("\n"), space_after=12)
        w.letter(text)
        w.paragraph(values["approval_line"], italic=True, size=8, space_after=0)
    else:
        w.letter(text)
    w.finish()
    props = doc.core_properties
    props.title = meta._("Physician letter")
    props.subject = meta._("Case no. %(case)s", case=_clean(meta.case_id))
    props.comments = _clean(meta.approval_line)
    props.last_modified_by = _clean(meta.approved_by)
    props.revision = max(1, int(meta.version))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF


@cache
def _jinja_env(lang: str):
    import jinja2

    # autoescaped: the letter is text, "<b>" must print as "<b>"; the labels in the document's language
    env = jinja_env(TEMPLATES_DIR, lang, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = _css_string
    return env


def _css_string(text: str) -> str:
    """A CSS string literal (for a label in ``content:``): every character but letters, digits and spaces escaped
    (so nothing in it can end the string or the style sheet)."""
    from markupsafe import Markup

    text = text.unescape() if isinstance(text, Markup) else str(text)  # a translated label comes as markup
    return Markup('"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"')


def render_pdf_html(text: str, meta: ExportMeta) -> str:
    """The HTML that :func:`to_pdf` hands to WeasyPrint (autoescaped)."""
    values = meta.placeholders()
    return _jinja_env(meta.lang).get_template(PDF_TEMPLATE).render(
        meta=values,
        address_lines=[ln for ln in values["patient_address"].split("\n") if ln.strip()],
        recipient_lines=[ln for ln in values["recipient"].split("\n") if ln.strip()],
        blocks=letter_blocks(text),
    )


class ExternalResourceError(RuntimeError):
    """The PDF template asked for a resource by URL; exports never fetch anything."""


def _refuse(url: str) -> None:
    if not url.lower().startswith("data:"):
        raise ExternalResourceError(f"PDF export does not fetch resources: refused {url[:80]!r}")


def _offline_url_fetcher():
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and refuses everything else, loudly."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):  # WeasyPrint >= 68: a class; errors are fatal with fail_on_errors

        class OfflineURLFetcher(urls.URLFetcher):
            def __init__(self):
                super().__init__(allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=True)

            def fetch(self, url, headers=None):
                _refuse(url)
                return super().fetch(url, headers)

        return OfflineURLFetcher()

    def fetch(url, *args, **kwargs):  # older WeasyPrint: a function returning a dict
        _refuse(url)
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def _html(text: str, meta: ExportMeta):
    import weasyprint

    return weasyprint.HTML(string=render_pdf_html(text, meta), base_url=None, url_fetcher=_offline_url_fetcher())


def _write_pdf(html) -> bytes:
    """``html.write_pdf()``, with WeasyPrint's fatal fetch error (a BaseException) made an ordinary one."""
    from weasyprint import urls

    fatal = getattr(urls, "FatalURLFetchingError", None)
    try:
        return html.write_pdf()
    except BaseException as e:
        if fatal is not None and isinstance(e, fatal):
            cause = e.__cause__
            raise ExternalResourceError(f"{e}: {cause}" if cause else str(e)) from e
        raise


def to_pdf(text: str, meta: ExportMeta) -> bytes:
    """The letter as an A4 PDF (WeasyPrint; nothing fetched, no file read besides the system fonts)."""
    return _write_pdf(_html(text, meta))
