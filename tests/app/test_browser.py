"""The review app in a real browser: Chromium (Playwright, sync API) against the real app served by
uvicorn on 127.0.0.1. The pages have no JavaScript, so the browser only follows links, submits
forms, honours the job page's meta refresh, and receives downloads.

Screenshots for the README are written to $MEDLETTER_SCREENSHOTS (e.g. ``docs/screenshots``) when
that variable is set, else into the test's tmp folder, so ordinary runs never touch tracked files:

    MEDLETTER_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest -q tests/app/test_browser.py

Without Chromium at /usr/bin/chromium (Playwright's own browser download is not used) the tests skip.
The pages are German, the app's default (so are the screenshots); tests/app/test_browser_german.py walks
every page for English left on them, and shows a user who chose English.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest

from .util import PASSWORD, add_users, bearer

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
FIXED = "40,05 Gy"
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_ATTR = '"><img src=x onerror="window.__xss=2">'
BUTTONS = {"de": {"login": "Anmelden", "import": "Importieren"}, "en": {"login": "Log in", "import": "Import"}}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (needed for the browser tests)")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-proxy-server"])
    except Exception as e:  # a broken Chromium install is an environment problem, not a failing app
        pw.stop()
        pytest.skip(f"Chromium at {CHROMIUM} does not start: {e}")
    yield b
    b.close()
    pw.stop()


@dataclass
class Live:
    app: object
    base: str

    @property
    def db(self):
        return self.app.state.db

    def url(self, path: str) -> str:
        return self.base + path

    def api(self, method: str, path: str, user: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict]:
        headers = bearer(self.db, user)
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url(path), data=body, headers=headers, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


@pytest.fixture
def live(tmp_path, memorising_run):
    """The app (fresh SQLite file, drafting worker with the memorising model, users of each role)
    served by uvicorn on a free loopback port in a background thread."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app

    app = create_app(Settings(db=str(tmp_path / "app.db"), run=memorising_run, max_new_tokens=48, grounding="off"))
    add_users(app.state.db)
    with _served(app) as lv:
        yield lv


@pytest.fixture
def live_plain(tmp_path):
    """The app without a model (rating studies need none), users of each role plus a second rater."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import auth

    app = create_app(Settings(db=str(tmp_path / "app.db")))
    add_users(app.state.db)
    with app.state.db.session() as s:
        auth.add_user(s, "rolf", "rater", PASSWORD)
    with _served(app) as lv:
        yield lv


@contextlib.contextmanager
def _served(app):
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the server gets the bound socket: no race for the port
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-browser-test", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.time() + 30
    while True:
        try:
            with opener.open(base + "/login", timeout=2) as r:
                if r.status == 200 and server.started:
                    break
        except OSError:
            pass
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError(f"uvicorn did not answer on {base}")
        time.sleep(0.05)
    try:
        yield Live(app, base)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: $MEDLETTER_SCREENSHOTS when set (the README's pictures), else tmp."""
    target = os.environ.get("MEDLETTER_SCREENSHOTS")
    d = Path(target) if target else tmp_path / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def new_page(browser):
    """new_page() -> a page in a fresh browser context (own cookies); all closed at teardown."""
    contexts = []

    def make():
        ctx = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="de-DE", accept_downloads=True)
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def login(page, live: Live, user: str, lands_on: str = "/cases", screenshot: Path | None = None) -> None:
    page.goto(live.url("/login"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    if screenshot:
        page.fill("input[name=password]", "")
        page.screenshot(path=str(screenshot), full_page=True)
        page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():  # POST /login, 303, GET lands_on (one navigation, redirects included)
        page.get_by_role("button", name=BUTTONS[_lang(page)]["login"]).click()
    assert page.url == live.url(lands_on), (
        f"{user} did not land on {lands_on} but on {_path(page.url)}: {page.locator('main').inner_text()!r}")


def upload(page, name: str, text: str) -> None:
    page.locator("input[type=file][name=file]").set_input_files(
        {"name": name, "mimeType": "application/x-ndjson", "buffer": text.encode()})
    page.get_by_role("button", name=BUTTONS[_lang(page)]["import"]).click()


def _lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# ---------------------------------------------------------------- the review flow


def test_review_flow_import_draft_flag_edit_conflict_approve_export(live, new_page, case_lines, tmp_path, shots):
    page = new_page()

    # 1. log in as a physician
    login(page, live, "doc", screenshot=shots / "login.png")
    assert page.get_by_text("doc · Ärztin/Arzt").is_visible()

    # 2. import the JSONL file through the form
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text(case_lines, encoding="utf-8")
    page.locator("input[type=file][name=file]").set_input_files(str(jsonl))
    page.get_by_role("button", name="Importieren").click()
    page.wait_for_url(live.url("/cases?imported=3"))
    assert page.get_by_role("status").inner_text() == "3 Fälle importiert."
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 3
    patients = sorted(rows.locator("td:nth-child(2)").all_inner_texts())
    assert patients == ["Albers, Beate", "Albers, Beate", "Berger, Jonas"]
    page.screenshot(path=str(shots / "cases.png"), full_page=True)

    # 3. search by last name, open the case: the structured case is shown
    page.get_by_label("Fälle durchsuchen").fill("Albers")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url(re.compile(r"/cases\?q=Albers$"))
    assert sorted(rows.locator("td:nth-child(2)").all_inner_texts()) == ["Albers, Beate", "Albers, Beate"]
    assert "Berger" not in page.locator("table.list").inner_text()
    page.get_by_role("link", name="F-2029-000120").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert page.locator("h1").inner_text().startswith("Albers, Beate")
    kv = page.locator("dl.kv")
    assert kv.locator("dt:text-is('Diagnose') + dd").inner_text() == "Invasiv-duktales Mammakarzinom links"
    assert kv.locator("dt:text-is('ICD-10') + dd").inner_text() == "C50.4"
    assert kv.locator("dt:text-is('TNM') + dd").inner_text().startswith("pT1c pN0 cM0")
    course = page.locator("table.list tbody tr").first
    cells = course.locator("td").all_inner_texts()
    assert cells[0] == "Restbrust links" and cells[2] == "2,67 Gy" and cells[3] == "15" and cells[4] == "40,05 Gy", cells
    assert cells[5].startswith("01.03.2029 – 21.03.2029"), cells
    page.screenshot(path=str(shots / "case.png"), full_page=True)

    # 4. draft: the job page refreshes itself until the browser lands on the letter
    page.get_by_role("button", name="Brief entwerfen").click()
    page.wait_for_url(re.compile(r"/(jobs|letters)/\d+$"))
    page.wait_for_url(re.compile(r"/letters/\d+$"), timeout=90_000)
    letter_url = page.url
    letter_id = int(letter_url.rsplit("/", 1)[1])

    # 5. the unsupported dose is highlighted in the letter
    marks = page.locator("#letter-text mark.unsupported")
    assert marks.count() == 1
    assert marks.inner_text() == "12 Gy"
    assert marks.get_attribute("data-kind") == "dose_gy"
    assert page.locator("#letter-status").inner_text() == "Entwurf"
    assert page.locator("#draft-end").count() == 0, "the model ended this letter itself: no notice"
    page.screenshot(path=str(shots / "letter-flagged.png"), full_page=True)

    # 6. a second physician opens the same letter (version 1) before the first one saves
    page2 = new_page()
    login(page2, live, "doc2")
    page2.goto(letter_url)
    assert page2.locator("input[name=base_version]").get_attribute("value") == "1"

    original = page.locator("textarea[name=text]").input_value()
    assert "12 Gy" in original
    fixed = original.replace("12 Gy", FIXED)
    page.locator("textarea[name=text]").fill(fixed)
    page.get_by_role("button", name="Als Version 2 speichern").click()
    page.wait_for_url(f"{letter_url}?saved=2")
    assert page.get_by_role("status").inner_text() == "Als Version 2 gespeichert."
    assert page.locator("mark.unsupported").count() == 0
    assert FIXED in page.locator("#letter-text").inner_text()
    assert page.locator("textarea[name=text]").input_value() == fixed

    # 7. the stale page saves: refused with 409, both texts shown, nothing overwritten
    stale = page2.locator("textarea[name=text]").input_value().replace("12 Gy", "12 Gy (doc2 was here)")
    page2.locator("textarea[name=text]").fill(stale)
    with page2.expect_response(lambda r: r.request.method == "POST" and _path(r.url) == f"/letters/{letter_id}") as info:
        page2.get_by_role("button", name="Als Version 2 speichern").click()
    assert info.value.status == 409
    page2.wait_for_load_state()
    assert page2.locator("h1").inner_text() == "Nicht gespeichert: Der Brief wurde inzwischen geändert"
    assert page2.locator("#your-text").inner_text() == stale
    assert page2.locator("#current-text").inner_text() == fixed
    page2.screenshot(path=str(shots / "conflict.png"), full_page=True)
    status, body = live.api("GET", f"/api/v1/letters/{letter_id}", "doc")
    assert status == 200 and body["version"] == 2 and body["text"] == fixed and body["status"] == "draft"

    # 8. approve version 2, export DOCX and PDF
    page.get_by_role("button", name="Version 2 freigeben").click()
    page.wait_for_url(letter_url)
    assert page.locator("#letter-status").inner_text() == "freigegeben"
    assert page.locator("p.approved").inner_text().startswith("Freigegeben (Version 2)")
    page.screenshot(path=str(shots / "letter-approved.png"), full_page=True)

    with page.expect_download() as dl:
        page.get_by_role("link", name="DOCX exportieren").click()
    assert dl.value.suggested_filename.endswith(".docx")
    d = docx.Document(io.BytesIO(Path(dl.value.path()).read_bytes()))
    text = "\n".join([p.text for p in d.paragraphs]
                     + [c.text for t in d.tables for r in t.rows for c in r.cells])
    assert FIXED in text and "Albers" in text and "12 Gy" not in text

    with page.expect_download() as dl:
        page.get_by_role("link", name="PDF exportieren").click()
    assert dl.value.suggested_filename.endswith(".pdf")
    assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")
    assert page.url == letter_url, "a download does not navigate away"


@contextlib.contextmanager
def _drafted(tmp_path, run, new_page, case_lines, **settings):
    """An app with ``run``'s model served, the cases imported and F-2029-000120 drafted: the letter page."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app

    app = create_app(Settings(db=str(tmp_path / "app.db"), run=run, **settings))
    add_users(app.state.db)
    with _served(app) as lv:
        page = new_page()
        login(page, lv, "doc")
        upload(page, "cases.jsonl", case_lines)
        page.wait_for_url(lv.url("/cases?imported=3"))
        page.get_by_role("link", name="F-2029-000120").click()
        page.wait_for_url(re.compile(r"/cases/\d+$"))
        page.get_by_role("button", name="Brief entwerfen").click()
        page.wait_for_url(re.compile(r"/letters/\d+$"), timeout=90_000)
        yield page


def test_a_draft_cut_because_it_repeated_itself_says_so_on_the_letter_page(tmp_path, looping_run, new_page, case_lines):
    """The looping model's draft is cut (medletter.generate.loops); the physician is told the end may be missing."""
    with _drafted(tmp_path, looping_run, new_page, case_lines, max_new_tokens=200, grounding="off") as page:
        notice = page.locator("#draft-end")
        assert notice.is_visible() and notice.get_attribute("role") == "alert"
        assert "abgebrochen" in notice.inner_text() and "seinen eigenen Text zu wiederholen" in notice.inner_text()
        assert "die Patientin stellt sich in 3 Monaten wieder vor." in page.locator("#letter-text").inner_text()


def test_a_grounded_draft_shows_the_numbers_held_to_the_case(tmp_path, memorising_run, new_page, case_lines):
    """Grounding on (the app's default): the memorising model wants '12 Gy', a dose the case does not have; the
    gate holds it to the case, and the letter page's box says which number was held and what was written."""
    with _drafted(tmp_path, memorising_run, new_page, case_lines, max_new_tokens=48) as page:
        box = page.locator("#grounding")
        assert box.is_visible()
        said = box.inner_text()
        assert "An den Fall gebundene Zahlen" in said and "wollte „12" in said, said
        assert "12 Gy" not in page.locator("#letter-text").inner_text()


# ---------------------------------------------------------------- escaping


def test_markup_in_case_data_is_shown_as_text_not_run(live, new_page, case_lines):
    lines = [json.loads(x) for x in case_lines.splitlines()]
    lines[0]["case"]["main_diagnosis"]["text"] = XSS_SCRIPT
    lines[1]["case"]["main_diagnosis"]["text"] = XSS_ATTR
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, live, "doc")
    upload(page, "evil.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    page.wait_for_url(live.url("/cases?imported=3"))

    def harmless():
        assert page.evaluate("window.__xss") is None
        assert page.locator("body script").count() == 0
        assert page.locator("img").count() == 0
        assert dialogs == []

    diagnoses = page.locator("table.list tbody td:nth-child(4)").all_inner_texts()
    assert XSS_SCRIPT in diagnoses and XSS_ATTR in diagnoses
    assert page.get_by_text(XSS_SCRIPT, exact=True).is_visible()
    assert page.get_by_text(XSS_ATTR, exact=True).is_visible()
    harmless()

    for case_id, payload in (("F-2029-000120", XSS_SCRIPT), ("F-2029-000121", XSS_ATTR)):
        page.goto(live.url("/cases"))
        page.get_by_role("link", name=case_id).click()
        page.wait_for_url(re.compile(r"/cases/\d+$"))
        assert page.locator("dl.kv dt:text-is('Diagnose') + dd").inner_text() == payload
        assert page.get_by_text(payload, exact=True).is_visible()
        harmless()
        # and the search box echoes a query as text, too
        page.goto(live.url("/cases?q=") + urllib.parse.quote(XSS_ATTR, safe=""))
        assert page.get_by_label("Fälle durchsuchen").input_value() == XSS_ATTR
        harmless()


# ---------------------------------------------------------------- roles, headers, sessions


def test_rater_lands_on_rater_page_and_cannot_see_cases(live, new_page, case_lines):
    status, body = live.api("POST", "/api/v1/cases", "doc", case_lines.encode(), "application/x-ndjson")
    assert status == 201, body
    case_id = body["ids"][0]
    page = new_page()
    login(page, live, "rita", lands_on="/rater")
    assert page.locator("h1").inner_text() == "Bewertungsstudien"
    assert page.get_by_role("link", name="Fälle").count() == 0
    for path in ("/cases", f"/cases/{case_id}", "/cases?q=Albers"):
        r = page.goto(live.url(path))
        assert r.status == 403, path
        assert page.locator("h1").inner_text() == "Nicht erlaubt", path
        html = page.content()
        for secret in ("Albers", "Berger", "Beate", "P-77881", "F-2029-00012", "Mammakarzinom"):
            assert secret not in html, (path, secret)


def test_security_headers_and_session_cookie(live, new_page):
    page = new_page()
    login(page, live, "doc")
    r = page.goto(live.url("/cases"))
    assert r.status == 200
    h = r.all_headers()
    csp = h["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["cache-control"] == "no-store"
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["medletter_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["path"] == "/"
    assert "medletter_login_csrf" not in cookies, "the login form's CSRF cookie is removed after login"
    assert page.evaluate("document.cookie") == "", "no cookie is readable by scripts"


def test_logout_ends_the_session(live, new_page):
    page = new_page()
    login(page, live, "doc")
    old = [c for c in page.context.cookies() if c["name"] == "medletter_session"]
    assert len(old) == 1
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/login\?message="))
    assert page.get_by_role("alert").inner_text() == "Sie sind abgemeldet."
    assert not [c for c in page.context.cookies() if c["name"] == "medletter_session"]
    page.goto(live.url("/cases"))
    assert _path(page.url) == "/login?next=%2Fcases"
    assert page.get_by_role("button", name="Anmelden").is_visible()

    # the old cookie is dead on the server, too (not only deleted in this browser)
    replay = new_page()
    replay.context.add_cookies(old)
    replay.goto(live.url("/cases"))
    assert _path(replay.url) == "/login?next=%2Fcases"


def test_the_page_after_a_form_post_shows_what_the_post_wrote(live, new_page, case_lines):
    """POST → 303 → GET: the browser asks for the next page as soon as it has the redirect, so the
    POST's transaction must be committed before the redirect is sent. Every commit is slowed down
    here, which makes a commit that runs after the response is sent lose the race every time."""
    from sqlalchemy import event

    slow = threading.Event()
    event.listen(live.db.Session, "before_commit", lambda _s: slow.is_set() and time.sleep(0.4))
    slow.set()  # (the listener stays: removing it while another thread commits is not safe)
    try:
        page = new_page()
        login(page, live, "doc")  # the session row must exist when the browser asks for /cases
        upload(page, "cases.jsonl", case_lines)
        page.wait_for_url(live.url("/cases?imported=3"))
        assert page.locator("table.list tbody tr td:nth-child(2)").count() == 3, "the imported cases are listed"
    finally:
        slow.clear()


# ---------------------------------------------------------------- a rating study, end to end


def test_rating_study_admin_creates_rater_completes_admin_reads_results(live_plain, new_page, corpus_records, tmp_path, shots):
    """Three systems (two letters files + the reference), two raters: the admin makes the study in the
    browser, a rater rates every letter (pausing once), the other rates through the API, and the admin
    reads the results page with Krippendorff's α. The rater never sees a system name."""
    live = live_plain
    recs = corpus_records[:2]
    cases = tmp_path / "study-cases.jsonl"
    cases.write_text("".join(r.model_dump_json() + "\n" for r in recs), encoding="utf-8")
    files = {}
    for name, cut in (("alphasys", 3), ("betasys", 2)):
        f = tmp_path / f"{name}.jsonl"
        f.write_text("".join(json.dumps({"case_id": r.case.case_id, "text": r.letter.text[: len(r.letter.text) // cut]},
                                        ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
        files[name] = f

    admin = new_page()
    login(admin, live, "root")
    admin.goto(live.url("/admin/studies"))
    admin.get_by_label("Name", exact=True).fill("browserstudy")
    admin.locator("input[name=cases_file]").set_input_files(str(cases))
    for i, (name, f) in enumerate(files.items(), start=1):
        admin.locator(f"input[name=system_name_{i}]").fill(name)
        admin.locator(f"input[name=system_file_{i}]").set_input_files(str(f))
    admin.locator("input[name=reference]").check()
    admin.locator("select[name=raters]").select_option(["rita", "rolf"])
    with admin.expect_navigation():
        admin.get_by_role("button", name="Studie anlegen").click()
    assert re.search(r"/admin/studies/\d+$", admin.url), admin.content()[:3000]
    sid = int(admin.url.rsplit("/", 1)[1])

    rater = new_page()
    login(rater, live, "rita", lands_on="/rater")
    assert "browserstudy" in rater.locator("main").inner_text()
    rater.get_by_role("link", name="Beginnen").click()
    seen_cases = []
    for n in range(6):
        rater.wait_for_url(live.url(f"/rater/studies/{sid}"))
        assert f"Brief {n + 1} von 6" in rater.locator(".crumbs").inner_text()
        html = rater.content()
        for word in ("alphasys", "betasys", "reference"):
            assert word not in html.lower()
        for r in recs:  # as a word: a surrogate city may contain it ("Wolf" in "Wolfsburg")
            assert not re.search(rf"\b{re.escape(r.case.patient.last_name)}\b", html)
        seen_cases.append(rater.locator("section.case").inner_text())
        if n == 0:
            # submitting without every answer is refused by the browser (required radios): nothing is stored
            rater.get_by_role("button", name="Bewertung speichern und weiter").click()
            assert "Brief 1 von 6" in rater.locator(".crumbs").inner_text()
            rater.screenshot(path=str(shots / "rating.png"), full_page=True)
        for fs in rater.locator("fieldset.dim").all():
            radios = fs.locator("input[type=radio]")  # four points per dimension; yes/no for "would sign"
            radios.nth((2 if n % 2 else 3) if radios.count() == 4 else 0).check()
        rater.locator("textarea[name=comment]").fill(f"Kommentar {n}")
        with rater.expect_navigation():
            rater.get_by_role("button", name="Bewertung speichern und weiter").click()
        if n == 2:  # pause, and come back later
            rater.get_by_role("link", name="Pause").click()
            assert "3 von 6" in rater.locator("main").inner_text()
            rater.get_by_role("link", name="Fortsetzen").click()
    rater.wait_for_url(live.url(f"/rater/studies/{sid}"))
    assert "Sie haben jeden Brief bewertet" in rater.locator("main").inner_text()
    assert all(a != b for a, b in zip(seen_cases, seen_cases[1:]))  # never one case twice in a row

    # the second rater, through the API
    while True:
        st, item = live.api("GET", f"/api/v1/studies/{sid}/next", "rolf")
        if st == 204:
            break
        body = json.dumps({"item_id": item["item_id"], "scores": {d["key"]: 3 for d in item["dimensions"]},
                           "would_sign": False}).encode()
        st, _ = live.api("POST", f"/api/v1/studies/{sid}/ratings", "rolf", body, "application/json")
        assert st == 201

    admin.goto(live.url(f"/admin/studies/{sid}"))
    text = admin.locator("main").inner_text()
    assert "12 Bewertungen von 6 Briefen" in text and "Krippendorffs α (ordinal)" in text
    assert admin.locator("svg.chart").count() == 10
    for name in ("alphasys", "betasys", "reference"):
        assert name in text
    admin.screenshot(path=str(shots / "study-results.png"), full_page=True)
    with admin.expect_download() as dl:
        admin.get_by_role("link", name="Alle Bewertungen exportieren (CSV)").click()
    rows = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(rows) == 13 and "Kommentar 0" in "\n".join(rows)
