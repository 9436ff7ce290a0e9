"""The German pages in a real browser: Chromium walks every page of the review app as a physician, an
admin and a rater, and no English text of ours may remain on any of them. A user who chose English gets
English (the same check, turned round, finds it: the check can fail).

What counts as English: the words of the English catalogue's msgids (the app's own texts) that no German
translation uses. Words of the data the test brings (cases, letters, names of users, studies, systems and
runs) are left out, and so are the letter's text, the audit trail's detail codes and command lines
(``<code>``), which are data or commands, not labels. Attributes a person sees (title, placeholder,
aria-label) and the options of every menu are read as well as the text.
"""

from __future__ import annotations

import json
import re

import pytest

from medletter.app import i18n

from .test_browser import CHROMIUM, Live, _served, browser, login, new_page, upload  # noqa: F401  (fixtures)
from .util import PASSWORD, PLANTED_LETTER, add_users

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (needed for the browser tests)")

WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")  # "UICC-Stadium", "case's": two words each
SKIP = "#letter-text, textarea, .letter, .diff, pre, code, td.detail"
SHOWN_JS = """(skip) => {
  const out = [document.title];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (el && !el.closest(skip) && !el.closest("script, style")) out.push(walk.currentNode.nodeValue);
  }
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], [alt]"))
    for (const a of ["title", "placeholder", "aria-label", "alt"]) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  return out.join("\\n");
}"""
LANGUAGE_NAMES = {"english", "deutsch"}  # each language's own name, in the language menus


NOT_WORDS = re.compile(r"<code>.*?</code>|`[^`]*`|--[\w-]+|\b\w+(?:[._]\w+)+\b", re.S)
"""Commands, options and identifiers (``case.case_id``, ``letter_date``): the same in every language."""


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(NOT_WORDS.sub(" ", text)) if len(w) >= 3}


def _catalog_texts(lang: str) -> list[str]:
    from babel.messages.pofile import read_po

    with i18n.po_path(lang).open("rb") as f:
        cat = read_po(f, locale=lang)
    out = []
    for m in cat:
        if not m.id:
            continue
        for t in (m.id if isinstance(m.id, tuple) else (m.id,)) if lang == "en" else \
                (m.string if isinstance(m.string, tuple) else (m.string,)):
            out.append(re.sub(r"%\(\w+\)s|<(?!/?code>)[^>]+>", " ", t))  # (code is dropped with its text: NOT_WORDS)
    return out


@pytest.fixture(scope="module")
def english_only() -> set[str]:
    """The words of our English texts that no German text of ours uses."""
    german = set().union(*map(_words, _catalog_texts("de")))
    return set().union(*map(_words, _catalog_texts("en"))) - german - LANGUAGE_NAMES


class Walk:
    """Visits pages and collects, per page, the English words found on it."""

    def __init__(self, english: set[str], data_words: set[str]):
        self.english, self.data = english, data_words
        self.found: dict[str, set[str]] = {}
        self.seen: list[str] = []

    def check(self, page, name: str, lang: str = "de") -> set[str]:
        assert page.locator("html").get_attribute("lang") == lang, name
        shown = page.evaluate(SHOWN_JS, SKIP)
        words = (_words(shown) & self.english) - self.data
        self.seen.append(name)
        if words:
            self.found[name] = words
        return words


def _values(x):
    """Every string of a JSON-like value (the values only: its keys are English field names, not data shown)."""
    if isinstance(x, str):
        try:
            x = json.loads(x) if x[:1] in "{[" else x
        except ValueError:
            pass
    if isinstance(x, dict):
        for v in x.values():
            yield from _values(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _values(v)
    elif isinstance(x, str):
        yield x


def _data_words(*data) -> set[str]:
    return set().union(*(_words(v) for v in _values(list(data))))


def test_no_english_remains_on_the_german_pages(tmp_path, memorising_run, corpus_records, new_page, case_lines,  # noqa: F811
                                                english_only):
    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import auth, studies
    from medletter.app.services.auth import Principal

    assert {"cases", "letter", "approve", "rating", "would"} <= english_only  # the check knows our English words

    app = create_app(Settings(db=str(tmp_path / "app.db"), run=memorising_run, max_new_tokens=48, grounding="off"))
    add_users(app.state.db)
    recs = corpus_records[:2]
    with app.state.db.session() as s:
        st = studies.create_study(s, Principal.system(), name="studie1", reference=True, raters=["rita"], systems=[],
                                  cases_raw="".join(r.model_dump_json() + "\n" for r in recs).encode(), cases_name="c.jsonl")
        sid = st.id
        items = [(i.case_data, i.letter_text) for i in s.query(studies.StudyItem).filter_by(study_id=sid)]
    data = _data_words(case_lines.splitlines(), [r.model_dump(mode="json") for r in recs], items, PLANTED_LETTER,
                       "doc doc2 rita root studie1 reference", app.state.generator.name)
    walk = Walk(english_only, data)

    with _served(app) as lv:
        # -------- a physician: login, cases, import (and its errors), case, draft, letter, versions, diff, approve
        doc = new_page()
        doc.goto(lv.url("/login"))
        walk.check(doc, "login")
        login(doc, lv, "doc")
        walk.check(doc, "cases (empty)")
        upload(doc, "bad.jsonl", case_lines.splitlines()[0] + "\n" + case_lines.splitlines()[0] + "\n{oops\n")
        assert doc.locator("ul.import-errors li").count() == 2
        walk.check(doc, "import errors")
        upload(doc, "cases.jsonl", case_lines)
        doc.wait_for_url(lv.url("/cases?imported=3"))
        assert doc.get_by_role("status").inner_text() == "3 Fälle importiert."
        walk.check(doc, "cases")
        doc.get_by_role("link", name="F-2029-000120").click()
        doc.wait_for_url(re.compile(r"/cases/\d+$"))
        case_url = doc.url
        walk.check(doc, "case")
        doc.get_by_role("button", name="Brief entwerfen").click()
        doc.wait_for_url(re.compile(r"/(jobs|letters)/\d+$"))
        if "/jobs/" in doc.url:
            walk.check(doc, "drafting job")
        doc.wait_for_url(re.compile(r"/letters/\d+$"), timeout=90_000)
        letter_url = doc.url
        assert doc.locator("mark.unsupported").get_attribute("title").startswith("Nicht durch den Fall belegt: Dosis")
        walk.check(doc, "letter with its fact report")
        text = doc.locator("textarea[name=text]").input_value()
        doc.locator("textarea[name=text]").fill(text.replace("12 Gy", "40,05 Gy"))
        doc.get_by_role("button", name="Als Version 2 speichern").click()
        doc.wait_for_url(f"{letter_url}?saved=2")
        walk.check(doc, "letter saved")
        doc.get_by_role("link", name="Version 1", exact=True).click()
        walk.check(doc, "version 1")
        doc.goto(letter_url)
        doc.get_by_role("link", name="Änderungen").click()
        walk.check(doc, "diff")
        stale = new_page()
        login(stale, lv, "doc2")
        doc.goto(letter_url)
        doc.get_by_role("button", name="Version 2 freigeben").click()
        doc.wait_for_url(letter_url)
        walk.check(doc, "letter approved")
        stale.goto(letter_url)  # an edit based on version 1, saved after version 2 was made: refused
        stale.evaluate("document.querySelector('input[name=base_version]').value = '1'")
        stale.locator("textarea[name=text]").fill("Neu")
        stale.get_by_role("button", name="Als Version 3 speichern").click()
        assert stale.locator("h1").inner_text() == "Nicht gespeichert: Der Brief wurde inzwischen geändert"
        walk.check(stale, "conflict")
        doc.goto(case_url)
        walk.check(doc, "case with its letter")
        assert doc.goto(lv.url("/cases/9999")).status == 404
        walk.check(doc, "not found")
        assert doc.goto(lv.url("/admin/users")).status == 403
        walk.check(doc, "not allowed")
        doc.goto(lv.url("/settings"))
        walk.check(doc, "settings")

        # -------- an admin: users, audit trail, studies, a study's results, correction effort, the rating page
        admin = new_page()
        login(admin, lv, "root")
        for path in ("/admin/users", "/admin/audit", "/admin/studies", f"/admin/studies/{sid}", "/admin/stats", "/rater"):
            admin.goto(lv.url(path))
            walk.check(admin, path)
        admin.goto(lv.url("/admin/studies"))
        admin.get_by_label("Name", exact=True).fill("-")
        admin.locator("input[name=cases_file]").set_input_files({"name": "c.jsonl", "mimeType": "application/x-ndjson",
                                                                "buffer": b"{}\n"})
        admin.locator("select[name=raters]").select_option(["rita"])
        admin.get_by_role("button", name="Studie anlegen").click()
        assert admin.locator("#errors li").count() >= 1
        walk.check(admin, "study errors")
        admin.goto(lv.url("/admin/audit?action=letter_approve"))
        assert "Brief freigegeben" in admin.locator("table.audit").inner_text()

        # -------- a rater: the list of studies, the rating page with the instrument, the end of the study
        rater = new_page()
        login(rater, lv, "rita", lands_on="/rater")
        walk.check(rater, "rater")
        rater.get_by_role("link", name="Beginnen").click()
        for n in range(2):
            rater.wait_for_url(lv.url(f"/rater/studies/{sid}"))
            assert f"Brief {n + 1} von 2" in rater.locator(".crumbs").inner_text()
            assert "Anrede und Form" in rater.locator("fieldset.dim legend").first.inner_text()
            walk.check(rater, f"rating {n + 1}")
            for fs in rater.locator("fieldset.dim").all():
                fs.locator("input[type=radio]").first.check()
            with rater.expect_navigation():
                rater.get_by_role("button", name="Bewertung speichern und weiter").click()
        assert rater.locator("h1").inner_text() == "Vielen Dank"
        walk.check(rater, "study complete")

        assert len(walk.seen) >= 25, walk.seen
        assert walk.found == {}, f"English on German pages: {walk.found}"

        # -------- the same walker finds English where a user chose it (so the check above can fail)
        with app.state.db.session() as s:
            auth.set_lang(s, "doc", "en")
        doc.goto(letter_url)
        english = walk.check(doc, "letter in English", lang="en")
        assert {"approved", "versions", "changes"} <= english, english
        assert doc.locator("h1").inner_text().startswith("Letter for")
        assert doc.get_by_role("button", name="Log out").is_visible()


def test_english_user_and_english_app(tmp_path, new_page, case_lines):  # noqa: F811
    """``medletter app --lang en`` makes English the default; a user's own choice wins over it either way."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import auth

    app = create_app(Settings(db=str(tmp_path / "app.db"), ui_lang="en"))
    add_users(app.state.db)
    with app.state.db.session() as s:
        auth.add_user(s, "dr_de", "physician", PASSWORD, lang="de")
    with _served(app) as lv:
        page = new_page()
        page.goto(lv.url("/login"))
        assert page.locator("html").get_attribute("lang") == "en" and page.locator("h1").inner_text() == "Log in"
        login(page, lv, "doc")
        upload(page, "cases.jsonl", case_lines)
        page.wait_for_url(lv.url("/cases?imported=3"))
        assert page.get_by_role("status").inner_text() == "3 cases imported."
        assert page.locator("table.list thead th").all_inner_texts()[:3] == ["Case", "Patient", "Born"]
        assert page.locator("table.list tbody tr td:nth-child(3)").first.inner_text() == "Apr 4, 1957"
        # the user switches to German on the settings page
        page.get_by_role("link", name="Settings").click()
        page.get_by_label("Language of the pages").select_option("de")
        page.get_by_role("button", name="Save").click()
        assert page.locator("html").get_attribute("lang") == "de" and page.get_by_role("status").inner_text() == "Gespeichert."
        page.goto(lv.url("/cases"))
        assert page.locator("h1").inner_text() == "Fälle"
        assert page.locator("table.list tbody tr td:nth-child(3)").first.inner_text() == "04.04.1957"

        other = new_page()
        login(other, lv, "dr_de")
        assert other.locator("h1").inner_text() == "Fälle" and other.get_by_role("button", name="Abmelden").is_visible()
        other.get_by_role("button", name="Abmelden").click()
        other.wait_for_url(re.compile(r"/login\?message="))
        assert other.get_by_role("alert").inner_text() == "You are logged out.", "after logout: the app's language"
