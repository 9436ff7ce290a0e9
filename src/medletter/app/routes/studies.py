"""Rating studies: the rater's API (/api/v1/studies…), the rater's pages (/rater…) and the admin's pages
(/admin/studies…). A rater never sees a system name: items are random ids, case and letter pseudonymised."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile as StarletteUpload  # what request.form() gives

from medletter.app.deps import DB, ApiUser, FormUser, PageUser
from medletter.app.i18n import Msg
from medletter.app.routes.pages import render, ui_lang
from medletter.app.services import instrument, studies, study_stats
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Invalid

api_router = APIRouter(prefix="/api/v1", tags=["studies"])
router = APIRouter(include_in_schema=False)
MAX_UPLOAD = 50 * 1024 * 1024


def api_rater(user: ApiUser) -> Principal:
    """Raters only, checked before the body is read (a physician's or admin's token gets 403)."""
    user.require("rater")
    return user


RaterUser = Annotated[Principal, Depends(api_rater)]


class RatingIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=64)
    scores: dict[str, Any]
    comment: str | None = None
    would_sign: bool | None = None


@api_router.get("/studies")
def api_studies(s: DB, user: RaterUser):
    return {"studies": studies.studies_for(s, user)}


@api_router.get("/studies/{study_id}/next")
def api_next(request: Request, study_id: int, s: DB, user: RaterUser):
    nxt = studies.next_item(s, user, study_id)
    if nxt is None:
        return Response(status_code=204)
    return nxt.to_api(ui_lang(request, user))  # the instrument in the rater's language


@api_router.post("/studies/{study_id}/ratings", status_code=201)
def api_rate(study_id: int, body: RatingIn, s: DB, user: RaterUser):
    r = studies.submit_rating(s, user, study_id, body.item_id, body.scores, body.comment, body.would_sign)
    return {"item_id": body.item_id, "rated_at": r.created_at.isoformat(timespec="seconds") + "Z"}


# ---------------------------------------------------------------- rater pages


@router.get("/rater", response_class=HTMLResponse)
def rater_home(request: Request, s: DB, user: PageUser) -> HTMLResponse:
    user.require("rater", "admin")
    return render(request, "rater.html", user, studies=studies.studies_for(s, user) if user.role == "rater" else [])


def _rating_page(request: Request, s: DB, user: Principal, study_id: int, errors: list[str] | None = None,
                 entered: dict | None = None, status_code: int = 200) -> HTMLResponse:
    from medletter.records import Case

    nxt = studies.next_item(s, user, study_id)
    st = studies.get_study(s, study_id)
    if nxt is None:
        return render(request, "rate_done.html", user, study=st)
    lang = ui_lang(request, user)
    return render(request, "rate.html", user, status_code=status_code, study=st, nxt=nxt,
                  case=Case.model_validate_json(nxt.item.case_data), dims=studies.dimensions(st, lang),
                  would_sign=instrument.would_sign(st, lang), errors=errors or [], entered=entered or {})


@router.get("/rater/studies/{study_id}", response_class=HTMLResponse)
def rate_next(request: Request, study_id: int, s: DB, user: PageUser) -> HTMLResponse:
    return _rating_page(request, s, user, study_id)


@router.post("/rater/studies/{study_id}/ratings", response_class=HTMLResponse)
async def rate_submit(request: Request, study_id: int, s: DB, user: FormUser) -> Response:
    form = await request.form()
    st = studies.get_study(s, study_id)
    entered = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    scores = {d["key"]: form.get(f"score_{d['key']}") for d in studies.dimensions(st)}
    ws = form.get("would_sign")
    try:
        if ws not in ("yes", "no"):
            raise Invalid([Msg("would_sign: answer yes or no")])
        studies.submit_rating(s, user, study_id, str(form.get("item_id") or ""), scores,
                              str(form.get("comment") or ""), ws == "yes")
    except Invalid as e:
        s.rollback()
        return _rating_page(request, s, user, study_id, errors=e.texts(ui_lang(request, user)), entered=entered, status_code=422)
    return RedirectResponse(f"/rater/studies/{study_id}", status_code=303)


# ---------------------------------------------------------------- admin pages


@router.get("/admin/studies", response_class=HTMLResponse)
def admin_studies(request: Request, s: DB, user: PageUser) -> HTMLResponse:
    user.require("admin")
    return render(request, "studies.html", user, studies=studies.studies_for(s, user), raters=_active_raters(s), errors=[])


def _active_raters(s) -> list[str]:
    from medletter.app.services import auth

    return [u.name for u in auth.list_users(s) if u.role == "rater" and not u.disabled]


async def _read(f: StarletteUpload | None, field: str) -> bytes | None:
    if f is None or not f.filename:
        return None
    raw = await f.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise Invalid([Msg("%(field)s: larger than %(mb)s MB", field=field, mb=MAX_UPLOAD // (1024 * 1024))])
    return raw


@router.post("/admin/studies", response_class=HTMLResponse)
async def admin_create(request: Request, s: DB, user: FormUser, name: Annotated[str, Form()] = "",
                       cases_file: Annotated[UploadFile | None, File()] = None,
                       reference: Annotated[str, Form()] = "", per_item: Annotated[str, Form()] = "",
                       instrument_file: Annotated[UploadFile | None, File()] = None) -> Response:
    user.require("admin")
    form = await request.form()
    raters = [r for r in form.getlist("raters") if isinstance(r, str)]
    try:
        raw_cases = await _read(cases_file, "cases_file")
        if raw_cases is None:
            raise Invalid([Msg("cases_file: choose the case file (JSONL)")])
        systems = []
        for i in range(1, 7):
            sname = str(form.get(f"system_name_{i}") or "").strip()
            sfile = form.get(f"system_file_{i}")
            raw = await _read(sfile, f"system_file_{i}") if isinstance(sfile, StarletteUpload) else None
            if sname and raw is None:
                raise Invalid([Msg("%(field)s: choose the letters file of system '%(system)s'", field=f"system_file_{i}", system=sname)])
            if raw is not None:
                if not sname:
                    raise Invalid([Msg("%(field)s: name the system of %(file)s", field=f"system_name_{i}", file=sfile.filename)])
                systems.append(studies.SystemFile(sname, raw, sfile.filename))
        inst = None
        raw_inst = await _read(instrument_file, "instrument_file")
        if raw_inst is not None:
            try:
                inst = json.loads(raw_inst)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise Invalid([Msg("%(file)s: not valid JSON", file=instrument_file.filename)]) from None
        k = None
        if per_item.strip():
            if not per_item.strip().isdigit():
                raise Invalid([Msg("per_item: a whole number")])
            k = int(per_item)
        st = studies.create_study(s, user, name=name, cases_raw=raw_cases, cases_name=cases_file.filename or "cases",
                                  systems=systems, reference=bool(reference), raters=raters, per_item=k, instrument=inst)
    except Invalid as e:
        s.rollback()
        return render(request, "studies.html", user, status_code=422, studies=studies.studies_for(s, user),
                      raters=_active_raters(s),
                      errors=e.texts(ui_lang(request, user)), study_name=name)
    return RedirectResponse(f"/admin/studies/{st.id}", status_code=303)


@router.get("/admin/studies/{study_id}", response_class=HTMLResponse)
def admin_results(request: Request, study_id: int, s: DB, user: PageUser) -> HTMLResponse:
    user.require("admin")
    st = studies.get_study(s, study_id)
    lang = ui_lang(request, user)
    res = study_stats.results(s, st, lang=lang)
    return render(request, "study_results.html", user, study=st, res=res, progress=studies.progress(s, study_id),
                  charts={d["key"]: study_stats.chart_svg(res, d["key"], lang) for d in res["dimensions"]})


@router.get("/admin/studies/{study_id}/ratings.csv")
def admin_csv(study_id: int, s: DB, user: PageUser) -> Response:
    user.require("admin")
    st = studies.get_study(s, study_id)
    from medletter.app.services import audit

    audit.record(s, user, "study_export", "study", study_id, "format=csv")
    return Response(study_stats.ratings_csv(s, st), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="study-{study_id}-ratings.csv"'})


@router.post("/admin/studies/{study_id}/close")
def admin_close(study_id: int, s: DB, user: FormUser) -> Response:
    studies.close_study(s, user, study_id)
    return RedirectResponse(f"/admin/studies/{study_id}", status_code=303)
