"""Server-rendered pages (Jinja2, plain forms, no JavaScript). Every POST carries the session's
CSRF token; every page escapes what it shows (Jinja2 autoescape)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from medletter.app import i18n, labels
from medletter.app.deps import DB, LOGIN_CSRF_COOKIE, SESSION_COOKIE, FormUser, PageUser, wake_worker
from medletter.app.i18n import Msg, N_
from medletter.app.labels import fact_label, flag_title  # noqa: F401  (the pages' wording of the fact check)
from medletter.app.services import audit, auth, cases, completion, drafting, review
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Forbidden, Invalid, ServiceError, StaleVersion, Unauthorized

router = APIRouter(include_in_schema=False)
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
HOME = {"physician": "/cases", "admin": "/cases", "rater": "/rater"}


def _templates(lang: str) -> Jinja2Templates:
    env = i18n.jinja_env(TEMPLATES_DIR, lang)
    labels.install(env, lang)
    return Jinja2Templates(env=env)


templates = {lang: _templates(lang) for lang in i18n.LANGS}
"""One Jinja2 environment per language (each with its catalogue installed: no state shared between requests)."""


def ui_lang(request: Request, user: Principal | None = None) -> str:
    """The language of the page: the user's, else the app's default (``medletter app --lang``)."""
    lang = getattr(user, "lang", None)
    return lang if lang in i18n.LANGS else request.app.state.settings.ui_lang


def render(request: Request, name: str, user: Principal | None = None, status_code: int = 200, **ctx) -> HTMLResponse:
    """The page ``name`` in the user's language (``lang`` in the template: ``<html lang>``)."""
    return templates[ui_lang(request, user)].TemplateResponse(request, name, {"user": user, **ctx}, status_code=status_code)


def error_page(request: Request, exc: ServiceError) -> HTMLResponse:
    if isinstance(exc, StaleVersion):
        return render(request, "conflict.html", getattr(request.state, "user", None), status_code=409, conflict=exc)
    user = getattr(request.state, "user", None)
    return render(request, "error.html", user, status_code=exc.status, errors=exc.texts(ui_lang(request, user)),
                  status=exc.status)


def _secure(request: Request) -> bool:
    forced = request.app.state.settings.secure_cookies
    return forced if forced is not None else request.url.scheme == "https"


def _safe_next(target: str | None, role: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME.get(role, "/")


# ---------------------------------------------------------------- login


@router.get("/", response_class=HTMLResponse)
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, message: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    # a message the app sent here ("You are logged out.") is shown translated; any other text as it is
    message = i18n.gettext(ui_lang(request), message) if message else None
    resp = render(request, "login.html", None, csrf_token=token, next=next or "", message=message)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login")
    return resp


@router.post("/login")
def login(request: Request, s: DB, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not csrf_token or not cookie_token or not secrets.compare_digest(csrf_token, cookie_token):
        raise Forbidden(Msg("missing or wrong CSRF token; reload the login page and try again"))
    try:
        session_cookie, user = auth.login(s, username.strip(), password, request.app.state.policy)
    except Unauthorized as e:
        s.commit()  # keep the failure count and the audit event
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html", None, status_code=401, csrf_token=token, next=next,
                      message=e.texts(ui_lang(request))[0])
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login")
        return resp
    resp = RedirectResponse(_safe_next(next, user.role), status_code=303)
    policy = request.app.state.policy
    resp.set_cookie(SESSION_COOKIE, session_cookie, httponly=True, samesite="lax", secure=_secure(request),
                    max_age=int(policy.absolute.total_seconds()), path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(s: DB, user: FormUser) -> Response:
    auth.logout(s, user)
    resp = RedirectResponse("/login?message=" + quote(N_("You are logged out.")), status_code=303)  # translated on display
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


# ---------------------------------------------------------------- cases


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request, s: DB, user: PageUser, q: str = "", page: int = Query(1, ge=1)) -> HTMLResponse:
    per = request.app.state.settings.page_size
    rows, total = cases.list_cases(s, user, q, page, per)
    return render(request, "cases.html", user, cases=[cases.case_summary(r) for r in rows], q=q, page=page,
                  pages=max(1, -(-total // per)), total=total)


@router.post("/cases/import", response_class=HTMLResponse)
async def case_import(request: Request, s: DB, user: FormUser, file: Annotated[UploadFile, File()]) -> Response:
    raw = await file.read()
    try:
        ids = cases.import_upload(s, user, raw, file.filename or "(upload)")
    except Invalid as e:
        s.rollback()
        per = request.app.state.settings.page_size
        rows, total = cases.list_cases(s, user, "", 1, per)
        return render(request, "cases.html", user, status_code=422, import_errors=e.texts(ui_lang(request, user)), filename=file.filename,
                      cases=[cases.case_summary(r) for r in rows], q="", page=1, pages=max(1, -(-total // per)), total=total)
    return RedirectResponse(f"/cases?imported={len(ids)}", status_code=303)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, s: DB, user: PageUser) -> HTMLResponse:
    return _case_view(request, case_id, s, user)


def _case_view(request: Request, case_id: int, s, user: Principal, status_code: int = 200, errors: list[str] | None = None,
               given: dict[str, str] | None = None) -> HTMLResponse:
    row, case = cases.get_case(s, user, case_id)
    letters = review.letters_for_case(s, user, case_id) if user.role == "physician" else []
    jobs = drafting.jobs_for_case(s, user, case_id) if user.role == "physician" else []
    return render(request, "case.html", user, status_code=status_code, row=row, case=case, letters=letters, jobs=jobs,
                  drafting_enabled=request.app.state.generator is not None,
                  completion=completion.form(case.missing, given), completion_errors=errors or [])


@router.post("/cases/{case_id}/complete", response_class=HTMLResponse)
async def case_complete(request: Request, case_id: int, s: DB, user: FormUser) -> Response:
    posted = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}
    _row, case = cases.get_case(s, user, case_id, log_view=False)
    vals = completion.values(case.missing, posted)
    try:
        if not vals:
            raise Invalid([Msg("fill in at least one missing field (every required input of it)")])
        cases.complete_case(s, user, case_id, vals)
    except Invalid as e:
        s.rollback()
        return _case_view(request, case_id, s, user, status_code=422, errors=e.texts(ui_lang(request, user)), given=posted)
    return RedirectResponse(f"/cases/{case_id}?completed={len(vals)}", status_code=303)


@router.post("/cases/{case_id}/drafts")
def draft(request: Request, case_id: int, s: DB, user: FormUser) -> Response:
    job = drafting.queue_draft(s, user, case_id)
    wake_worker(request, s)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, s: DB, user: PageUser) -> Response:
    job = drafting.get_job(s, user, job_id)
    if job.status == "done" and job.letter_id:
        return RedirectResponse(f"/letters/{job.letter_id}", status_code=303)
    return render(request, "job.html", user, job=job, error=i18n.translate(drafting.job_error(job), ui_lang(request, user)),
                  ahead=drafting.queue_position(s, job),
                  max_tokens=request.app.state.settings.max_new_tokens)


@router.post("/jobs/{job_id}/retry")
def job_retry(request: Request, job_id: int, s: DB, user: FormUser) -> Response:
    drafting.retry(s, user, job_id)
    wake_worker(request, s)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


# ---------------------------------------------------------------- letters


def segments(text: str, flags: list[dict]) -> list[tuple[str, dict | None]]:
    """The letter cut into plain pieces and flagged pieces, for inline highlighting."""
    out, pos = [], 0
    for f in sorted(flags, key=lambda f: (f["start"], -f["end"])):
        a, b = max(f["start"], pos), min(f["end"], len(text))
        if b <= a:
            continue
        if a > pos:
            out.append((text[pos:a], None))
        out.append((text[a:b], f))
        pos = b
    if pos < len(text):
        out.append((text[pos:], None))
    return out


@router.get("/letters/{letter_id}", response_class=HTMLResponse)
def letter_page(request: Request, letter_id: int, s: DB, user: PageUser, saved: int | None = None) -> HTMLResponse:
    view = review.get_letter(s, user, letter_id)
    case = cases.case_of(view.case_row)
    facts = view.facts
    return render(request, "letter.html", user, view=view, case=case, facts=facts,
                  segments=segments(view.current.text, facts["unsupported"]),
                  versions=review.versions(s, user, letter_id), saved=saved)


@router.post("/letters/{letter_id}", response_class=HTMLResponse)
def letter_save(letter_id: int, s: DB, user: FormUser, text: Annotated[str, Form()] = "",
                base_version: Annotated[int, Form()] = 0) -> Response:
    view = review.save(s, user, letter_id, base_version, text)
    return RedirectResponse(f"/letters/{letter_id}?saved={view.letter.version}", status_code=303)


@router.post("/letters/{letter_id}/approve")
def letter_approve(letter_id: int, s: DB, user: FormUser, version: Annotated[int, Form()] = 0) -> Response:
    review.approve(s, user, letter_id, version)
    return RedirectResponse(f"/letters/{letter_id}", status_code=303)


@router.get("/letters/{letter_id}/versions/{version}", response_class=HTMLResponse)
def letter_version(request: Request, letter_id: int, version: int, s: DB, user: PageUser) -> HTMLResponse:
    view = review.get_letter(s, user, letter_id, log_view=False)
    v = review.get_version(s, user, letter_id, version)
    audit.record(s, user, "letter_view", "letter", letter_id, f"version={version}")
    facts = json.loads(v.facts)
    return render(request, "version.html", user, view=view, v=v, facts=facts, segments=segments(v.text, facts["unsupported"]))


@router.get("/letters/{letter_id}/diff", response_class=HTMLResponse)
def letter_diff(request: Request, letter_id: int, s: DB, user: PageUser, a: int = Query(..., ge=1), b: int = Query(..., ge=1)) -> HTMLResponse:
    view = review.get_letter(s, user, letter_id, log_view=False)
    va, vb = review.get_version(s, user, letter_id, a), review.get_version(s, user, letter_id, b)
    audit.record(s, user, "letter_diff", "letter", letter_id, f"a={a} b={b}")
    return render(request, "diff.html", user, view=view, a=va, b=vb, rows=review.diff_rows(va.text, vb.text))


@router.get("/letters/{letter_id}/export")
def letter_export(request: Request, letter_id: int, s: DB, user: PageUser, format: str = Query(...)) -> Response:
    settings = request.app.state.settings
    data, filename, media = review.export_letter(s, user, letter_id, format, settings.letter_template,
                                                 patient_system=settings.fhir_patient_system)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------- admins (rating studies: routes/studies.py)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, s: DB, user: PageUser) -> HTMLResponse:
    user.require("admin")
    return render(request, "users.html", user, users=auth.list_users(s), now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                  langs=i18n.LANG_NAMES, default_lang=request.app.state.settings.ui_lang)


@router.post("/admin/users", response_class=HTMLResponse)
def users_add(request: Request, s: DB, user: FormUser, name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "", lang: Annotated[str, Form()] = "") -> Response:
    user.require("admin")
    auth.add_user(s, name, role, password, actor=user.name, lang=lang or None)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/disable")
def users_disable(s: DB, user: FormUser, name: str) -> Response:
    user.require("admin")
    if name == user.name:
        raise Invalid([Msg("name: you cannot disable your own account")])
    auth.set_disabled(s, name, True, actor=user.name)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, s: DB, user: PageUser, who: str = "", action: str = "", object_type: str = "",
               object_id: str = "", since: str = "", until: str = "", page: int = Query(1, ge=1)) -> HTMLResponse:
    user.require("admin")
    try:
        d0 = dt.datetime.fromisoformat(since) if since else None
        d1 = dt.datetime.fromisoformat(until) + dt.timedelta(days=1) if until else None
    except ValueError:
        raise Invalid([Msg("since/until: dates as YYYY-MM-DD")]) from None
    per = 50
    rows, total = audit.events(s, who or None, action or None, object_type or None, object_id or None, d0, d1, page, per)
    return render(request, "audit.html", user, rows=rows, total=total, page=page, pages=max(1, -(-total // per)),
                  f={"who": who, "action": action, "object_type": object_type, "object_id": object_id, "since": since, "until": until},
                  actions=audit.actions(s))


@router.post("/admin/users/{name}/lang")
def users_lang(s: DB, user: FormUser, name: str, lang: Annotated[str, Form()] = "") -> Response:
    user.require("admin")
    auth.set_lang(s, name, lang or None, actor=user.name)
    return RedirectResponse("/admin/users", status_code=303)


# ---------------------------------------------------------------- every user's own settings


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: PageUser, saved: int = 0) -> HTMLResponse:
    return render(request, "settings.html", user, langs=i18n.LANG_NAMES, default_lang=request.app.state.settings.ui_lang,
                  saved=bool(saved))


@router.post("/settings")
def settings_save(s: DB, user: FormUser, lang: Annotated[str, Form()] = "") -> Response:
    auth.set_lang(s, user.name, lang or None, actor=user.name)
    return RedirectResponse("/settings?saved=1", status_code=303)
