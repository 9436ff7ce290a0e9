"""The review app in German (the default) and English: the catalogues, the language of each user, the
rating instrument's languages, dates and numbers, the export's labels, the CLI. A real SQLite database."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from medletter.app import i18n
from medletter.app.i18n import Msg

from .util import PASSWORD, add_users, bearer

ROOT = Path(__file__).resolve().parents[2]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _catalog(lang: str):
    from babel.messages.pofile import read_po

    with i18n.po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def _ids(cat) -> set:
    return {(m.context, m.id) for m in cat if m.id}


# ---------------------------------------------------------------- the catalogues


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_msgid_is_translated_and_its_placeholders_kept(lang):
    cat = _catalog(lang)
    assert len(_ids(cat)) > 300
    untranslated = [m.id for m in cat if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))]
    assert untranslated == [], untranslated
    problems = [(m.id, [str(e) for e in errs]) for m, errs in cat.check()]  # python-format: the same %(name)s on both sides
    assert problems == [], problems


def test_the_catalogues_hold_exactly_the_texts_of_the_sources():
    """Every text the code and the templates mark (``Msg``, ``N_``, ``_``, ``{% trans %}``) is in both catalogues,
    and nothing else: a new text without its translation fails here (``make messages`` updates the catalogues)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None, "Msg": None}
    found = set()
    app_dir = ROOT / "src" / "medletter" / "app"
    for _file, _line, msg, _comments, context in extract_from_dir(str(app_dir), method_map, options_map, keywords=keywords):
        found.add((context, msg))
    assert len(found) > 300
    for lang in i18n.LANGS:
        ids = _ids(_catalog(lang))
        assert sorted(map(str, found - ids)) == [], f"{lang}: texts without a translation"
        assert sorted(map(str, ids - found)) == [], f"{lang}: translations of texts the sources no longer have"


def test_no_text_is_marked_inside_an_f_string():
    """Babel does not look inside f-strings: a ``Msg("…")`` there would never reach the catalogues."""
    import ast

    found = []
    for path in (ROOT / "src" / "medletter" / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call) and getattr(inner.func, "id", getattr(inner.func, "attr", "")) in ("Msg", "N_", "_"):
                        found.append(f"{path.name}:{inner.lineno}")
    assert found == []


def test_the_catalogues_compile_in_memory():
    t = i18n.translations("de")
    assert t.gettext("Cases") == "Fälle"
    assert t.ngettext("%(count)s case imported.", "%(count)s cases imported.", 1) == "%(count)s Fall importiert."
    assert t.pgettext("page 1 of 3", "of") == "von"
    assert i18n.translations("en").gettext("Cases") == "Cases"
    assert not list(i18n.LOCALE_DIR.rglob("*.mo")), "compiled in memory: no .mo file to go stale"


# ---------------------------------------------------------------- messages, dates, numbers


def test_a_message_reads_as_english_and_shows_in_the_users_language():
    from medletter.app.labels import ROLES
    from medletter.app.services.auth import Principal
    from medletter.app.services.errors import Forbidden

    m = Msg("no case %(id)s", id=7)
    assert m == "no case 7" and isinstance(m, str) and m.localize("de") == "kein Fall 7" and m.localize("en") == "no case 7"
    assert pickle.loads(pickle.dumps(m)).localize("de") == "kein Fall 7"
    with pytest.raises(Forbidden) as e:
        Principal(1, "rita", "rater").require("physician", "admin")
    assert str(e.value) == "a rater may not do this (needs: physician, admin)"  # the API's text is unchanged
    assert e.value.texts("de") == ["Die Rolle Bewerter/in darf das nicht (nötig: Ärztin/Arzt, Admin)"]
    assert i18n.gettext("de", ROLES["physician"]) == "Ärztin/Arzt"


def test_a_stored_message_is_recognised_and_translated():
    from medletter.app.services import drafting

    stored = str(drafting._error_message(RuntimeError("x")))
    assert stored.startswith("drafting failed (RuntimeError); the job can be retried")
    back = i18n.parse_stored(stored, drafting.JOB_ERRORS)
    assert isinstance(back, Msg) and back.localize("de").startswith("Der Entwurf ist fehlgeschlagen (RuntimeError)")
    assert i18n.parse_stored("some other text", drafting.JOB_ERRORS) == "some other text"


def test_dates_and_numbers_in_german_and_english():
    import datetime as dt

    assert i18n.format_date(dt.date(2029, 3, 1), "de") == "01.03.2029"
    assert i18n.format_date("2029-03-01", "en") == "Mar 1, 2029"
    assert i18n.format_datetime(dt.datetime(2029, 5, 10, 14, 3, 9), "de", seconds=True) == "10.05.2029 14:03:09"
    assert i18n.format_number(2.67, "de") == "2,67" and i18n.format_number(2.67, "en") == "2.67"
    assert i18n.format_number(1234.5, "de", 1) == "1.234,5"
    assert i18n.format_percent(0.967, "de") == "96,7\u00a0%" and i18n.format_percent(0.967, "en") == "96.7%"
    assert i18n.format_number(None, "de") == "–"


# ---------------------------------------------------------------- the pages: default, per user, per app


@pytest.fixture
def plain(tmp_path):
    """(app, db): the app without a model, users of each role, German by default."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app

    app = create_app(Settings(db=str(tmp_path / "i18n.db")))
    add_users(app.state.db)
    return app


def login(client: TestClient, name: str):
    token = CSRF_RE.search(client.get("/login").text).group(1)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


def _lang_and_h1(html: str) -> tuple[str, str]:
    return re.search(r'<html lang="(\w+)">', html).group(1), re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", html, re.DOTALL).group(1))


def test_german_is_the_default_and_english_is_the_apps_choice(plain, tmp_path):
    from medletter.app.config import Settings
    from medletter.app.main import create_app

    client = TestClient(plain)
    assert _lang_and_h1(client.get("/login").text) == ("de", "Anmelden")
    login(client, "doc")
    html = client.get("/cases").text
    assert _lang_and_h1(html) == ("de", "Fälle") and "Abmelden" in html and "Log out" not in html
    r = client.get("/cases/999")
    assert r.status_code == 404 and "kein Fall 999" in r.text and "Nicht gefunden" in r.text

    en = create_app(Settings(db=str(tmp_path / "i18n.db"), ui_lang="en"))  # medletter app --lang en
    client = TestClient(en)
    assert _lang_and_h1(client.get("/login").text) == ("en", "Log in")
    login(client, "doc")
    assert _lang_and_h1(client.get("/cases").text) == ("en", "Cases")
    assert "no case 999" in client.get("/cases/999").text


def test_a_user_chooses_their_language_and_an_admin_can_set_it(plain):
    doc, other = TestClient(plain), TestClient(plain)
    login(doc, "doc")
    login(other, "doc2")
    page = doc.get("/settings").text
    assert "Sprache der Seiten" in page
    assert doc.post("/settings", data={"lang": "en"}).status_code == 403  # CSRF
    r = doc.post("/settings", data={"lang": "en", "csrf_token": CSRF_RE.search(page).group(1)}, follow_redirects=False)
    assert r.status_code == 303
    page = doc.get("/settings?saved=1").text
    assert _lang_and_h1(page) == ("en", "Settings") and "Saved." in page
    assert _lang_and_h1(doc.get("/cases").text) == ("en", "Cases")
    assert _lang_and_h1(other.get("/cases").text) == ("de", "Fälle"), "one user's choice is theirs alone"
    r = doc.post("/settings", data={"lang": "fr", "csrf_token": CSRF_RE.search(page).group(1)})
    assert r.status_code == 422 and "lang: must be one of de, en" in r.text

    admin = TestClient(plain)
    login(admin, "root")
    users = admin.get("/admin/users").text
    assert "Standard (Deutsch)" in users and "Sprache" in users
    token = CSRF_RE.search(users).group(1)
    assert admin.post("/admin/users/doc2/lang", data={"lang": "en"}).status_code == 403  # CSRF
    assert other.post("/admin/users/doc/lang", data={"lang": "de", "csrf_token": CSRF_RE.search(other.get("/cases").text).group(1)}
                      ).status_code == 403, "admins only"
    r = admin.post("/admin/users/doc2/lang", data={"lang": "en", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert _lang_and_h1(other.get("/cases").text) == ("en", "Cases")
    admin.post("/admin/users/doc2/lang", data={"lang": "", "csrf_token": token})  # back to the app's default
    assert _lang_and_h1(other.get("/cases").text) == ("de", "Fälle")
    audit = admin.get("/admin/audit?action=user_lang").text
    assert "Sprache geändert" in audit and "lang=en by=doc" in audit


def test_import_problems_are_shown_in_german(plain, case_lines):
    client = TestClient(plain)
    login(client, "doc")
    lines = case_lines.splitlines()
    bad = [lines[0], lines[0], lines[1].replace('"fractions": 15', '"fractions": "viele"', 1), "{not json"]
    token = CSRF_RE.search(client.get("/cases").text).group(1)
    r = client.post("/cases/import", data={"csrf_token": token}, files={"file": ("f.jsonl", "\n".join(bad).encode())})
    assert r.status_code == 422
    errors = [re.sub(r"<[^>]+>", "", e) for e in re.findall(r"<li>(.*?)</li>", r.text.split('class="errors import-errors"')[1])]
    assert "Aus f.jsonl wurde nichts importiert:" in r.text and "3 Probleme" in r.text
    assert "2: case.case_id: dieselbe Fallnummer wie Zeile 1" in errors
    assert any(e.startswith("3: case.radiotherapy_courses.0.fractions: Erwartet: eine ganze Zahl") for e in errors), errors
    assert any(e.startswith("4: (json): ungültiges JSON: ") for e in errors), errors
    # the API says the same in English (machines and logs read it)
    r = client.post("/api/v1/cases", content="\n".join(bad).encode(),
                    headers={**bearer(plain.state.db, "doc"), "Content-Type": "application/x-ndjson"})
    assert r.status_code == 422 and "2: case.case_id: the same case number as line 1" in r.json()["errors"]


# ---------------------------------------------------------------- the rating instrument


def test_the_instrument_in_both_languages_and_studies_frozen_in_english(tmp_path, corpus_records):
    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.models import Study
    from medletter.app.services import auth, instrument, studies
    from medletter.app.services.auth import Principal
    from medletter.app.services.errors import Invalid

    de, en = instrument.default_instrument("de"), instrument.default_instrument("en")
    assert [d["key"] for d in de["dimensions"]] == [d["key"] for d in en["dimensions"]] and len(de["dimensions"]) == 10
    assert de["dimensions"][0]["label"] == "Anrede und Form" and en["dimensions"][0]["label"] == "Salutation and form"
    for d_de, d_en in zip(de["dimensions"], en["dimensions"]):
        assert set(d_de["scale"]) == {"1", "2", "3", "4"} and d_de["scale"] != d_en["scale"] and d_de["question"] != d_en["question"]
    assert de["would_sign"].startswith("Würden Sie")
    raw = instrument.default_instrument(None)
    assert instrument.check_instrument(raw) is raw
    assert instrument.check_instrument(en) is en  # one language only, as before
    bad = json.loads(json.dumps(raw))
    bad["dimensions"][1]["label"] = {"fr": "Diagnostics"}
    bad["dimensions"][2]["scale"]["3"] = {"de": ""}
    with pytest.raises(Invalid) as e:
        instrument.check_instrument(bad)
    assert [x.split(":")[1].strip() for x in e.value.errors] == ["dimensions.1.label", "dimensions.2.scale"]

    app = create_app(Settings(db=str(tmp_path / "s.db")))
    add_users(app.state.db)
    recs = corpus_records[:3]
    cases = "".join(r.model_dump_json() + "\n" for r in recs).encode()
    with app.state.db.session() as s:
        auth.add_user(s, "rolf", "rater", PASSWORD, lang="en")
        st = studies.create_study(s, Principal.system(), name="bilingual", cases_raw=cases, cases_name="c.jsonl", systems=[],
                                  reference=True, raters=["rita", "rolf"])
        old = studies.create_study(s, Principal.system(), name="old", cases_raw=cases, cases_name="c.jsonl", systems=[],
                                   reference=True, raters=["rita"], instrument=en)
        sid, old_id = st.id, old.id
        assert s.get(Study, old_id).instrument.count("Anrede") == 0, "frozen in English only"
    client = TestClient(app)
    item = client.get(f"/api/v1/studies/{sid}/next", headers=bearer(app.state.db, "rita")).json()
    assert item["dimensions"][0]["label"] == "Anrede und Form" and item["dimensions"][0]["scale"]["1"] == "Falsch oder fehlend"
    assert item["would_sign"].startswith("Würden Sie") and set(item) >= {"item_id", "case", "letter", "dimensions"}
    item = client.get(f"/api/v1/studies/{sid}/next", headers=bearer(app.state.db, "rolf")).json()
    assert item["dimensions"][0]["label"] == "Salutation and form" and item["would_sign"].startswith("Would you sign")
    item = client.get(f"/api/v1/studies/{old_id}/next", headers=bearer(app.state.db, "rita")).json()
    assert item["dimensions"][0]["label"] == "Anrede und Form", "the shipped English wording is shown translated"

    login(client, "rita")
    page = client.get(f"/rater/studies/{sid}").text
    assert "Anrede und Form" in page and "Voll angemessen" in page and "Ihre Bewertung" in page and "Salutation" not in page


# ---------------------------------------------------------------- the export's labels


def test_export_labels_follow_the_letters_language():
    from medletter.app.services.export import (
        PLACEHOLDERS,
        ExportMeta,
        render_pdf_html,
        to_docx,
    )

    base = {"case_id": "F-1", "patient_name": "Beate Albers", "patient_birth_date": "04.04.1957", "patient_address": "",
            "recipient": "", "letter_date": "10.05.2029", "version": 2, "approved_by": "doc", "approved_at": "10.05.2029 14:03 UTC"}
    de, en = ExportMeta(**base), ExportMeta(**base, lang="en")
    assert de.patient_line == "Patient: Beate Albers, geb. 04.04.1957, Fall-Nr. F-1"
    assert de.department == "Klinik für Strahlentherapie und Radioonkologie"
    assert en.patient_line == "Patient: Beate Albers, born 04.04.1957, case no. F-1"
    assert en.approval_line == "Approved by doc on 10.05.2029 14:03 UTC (version 2)"
    assert en.department == "Department of Radiation Oncology"
    assert "lang" not in PLACEHOLDERS and "lang" not in en.placeholders()
    html_de, html_en = render_pdf_html("Text", de), render_pdf_html("Text", en)
    assert '<html lang="de">' in html_de and "Arztbrief" in html_de and '"Seite "' in html_de and '" von "' in html_de
    assert '<html lang="en">' in html_en and "Physician letter" in html_en and '"Page "' in html_en and '" of "' in html_en
    assert "Arztbrief" not in html_en and "geb." not in html_en

    import io

    import docx

    d = docx.Document(io.BytesIO(to_docx("Text", en)))
    assert d.core_properties.title == "Physician letter" and d.core_properties.subject == "Case no. F-1"


# ---------------------------------------------------------------- the command line


def test_users_get_a_language_on_the_command_line(tmp_path):
    from medletter.cli import app as cli

    db = str(tmp_path / "u.db")
    run = CliRunner().invoke
    r = run(cli, ["users", "add", "dr_en", "--role", "physician", "--lang", "en", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = run(cli, ["users", "add", "dr_fr", "--role", "physician", "--lang", "fr", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert r.exit_code == 2 and "--lang must be one of de, en" in r.output
    assert run(cli, ["users", "add", "dr_de", "--role", "rater", "--password-stdin", "--db", db], input=PASSWORD + "\n").exit_code == 0
    assert "dr_en\tphysician\tactive\ten" in run(cli, ["users", "list", "--db", db]).stdout
    assert "dr_de\trater\tactive\tdefault" in run(cli, ["users", "list", "--db", db]).stdout
    assert run(cli, ["users", "lang", "dr_de", "en", "--db", db]).exit_code == 0
    assert run(cli, ["users", "lang", "dr_en", "default", "--db", db]).exit_code == 0
    out = run(cli, ["users", "list", "--db", db]).stdout
    assert "dr_de\trater\tactive\ten" in out and "dr_en\tphysician\tactive\tdefault" in out
    assert run(cli, ["users", "lang", "nobody", "en", "--db", db]).exit_code == 1
    assert run(cli, ["users", "lang", "dr_de", "xx", "--db", db]).exit_code == 2
    r = run(cli, ["app", "--lang", "fr", "--db", db])
    assert r.exit_code == 2 and "--lang must be one of de, en" in r.output
