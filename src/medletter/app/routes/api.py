"""The JSON API for hospital integration under /api/v1 (bearer tokens; same services as the pages)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel

from medletter.app.deps import DB, ApiUser, wake_worker
from medletter.app.services import cases, drafting, review
from medletter.app.services.errors import Invalid

class CaseValues(BaseModel):
    values: dict[str, Any]


# Routes return plain dicts (no response_model): FastAPI would otherwise check each answer in a worker
# thread while the request still holds its database transaction (see deps.get_db).
router = APIRouter(prefix="/api/v1", tags=["api"])


FHIR_TYPES = ("application/fhir+json", "application/fhir+ndjson")


@router.post("/cases", status_code=201)
async def import_cases(request: Request, s: DB, user: ApiUser):
    """JSONL of case records, or FHIR R4 (a Bundle as application/fhir+json, NDJSON as application/fhir+ndjson)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in FHIR_TYPES:
        ids = cases.import_fhir(s, user, await request.body(), "(request)")
    elif ctype in ("application/x-ndjson", "application/jsonl", "application/json-lines", "text/plain"):
        ids = cases.import_jsonl(s, user, await request.body())
    else:
        raise Invalid([f"(request): Content-Type must be application/x-ndjson or application/fhir+json, not {ctype or 'missing'}"])
    rows = [cases.get_case(s, user, i, log_view=False)[1] for i in ids]
    return {"ids": ids, "incomplete": [i for i, c in zip(ids, rows) if c.missing]}


@router.post("/cases/{case_id}/complete")
def complete_case(case_id: int, body: CaseValues, s: DB, user: ApiUser):
    """Fill missing fields of an incomplete case: ``{"values": {"letter_date": "2029-05-10", ...}}``."""
    row = cases.complete_case(s, user, case_id, body.values)
    return cases.case_summary(row)


@router.get("/cases")
def list_cases(s: DB, user: ApiUser, q: str = "", page: int = Query(1, ge=1), per_page: int = Query(25, ge=1, le=200)):
    rows, total = cases.list_cases(s, user, q, page, per_page)
    return {"cases": [cases.case_summary(r) for r in rows], "page": page, "per_page": per_page, "total": total}


@router.get("/cases/{case_id}")
def get_case(case_id: int, s: DB, user: ApiUser):
    row, case = cases.get_case(s, user, case_id)
    letters = [{"id": lt.id, "version": lt.version, "status": lt.status} for lt in review.letters_for_case(s, user, case_id)] \
        if user.role == "physician" else []
    return {**cases.case_summary(row), "case": cases.as_json(case), "letters": letters}


@router.post("/cases/{case_id}/drafts", status_code=202)
def request_draft(case_id: int, request: Request, s: DB, user: ApiUser):
    job = drafting.queue_draft(s, user, case_id)
    wake_worker(request, s)
    return {"job_id": job.id}


@router.get("/jobs/{job_id}")
def get_job(job_id: int, s: DB, user: ApiUser):
    return drafting.job_json(drafting.get_job(s, user, job_id))


@router.post("/jobs/{job_id}/retry", status_code=202)
def retry_job(job_id: int, request: Request, s: DB, user: ApiUser):
    job = drafting.retry(s, user, job_id)
    wake_worker(request, s)
    return drafting.job_json(job)


@router.get("/letters/{letter_id}")
def get_letter(letter_id: int, s: DB, user: ApiUser):
    return review.get_letter(s, user, letter_id).to_json()


class LetterText(BaseModel):
    text: str


@router.put("/letters/{letter_id}")
def save_letter(letter_id: int, body: LetterText, s: DB, user: ApiUser, if_match: str | None = Header(None)):
    user.require(*review.LETTER_ROLES)
    version = _if_match(if_match)
    return review.save(s, user, letter_id, version, body.text).to_json()


@router.get("/letters/{letter_id}/versions")
def letter_versions(letter_id: int, s: DB, user: ApiUser):
    review.get_letter(s, user, letter_id, log_view=False)
    return {"versions": [{"version": v.version, "based_on": v.based_on, "origin": v.origin, "author": name,
                          "created_at": v.created_at.isoformat(timespec="seconds") + "Z"} for v, name in review.versions(s, user, letter_id)]}


class Approval(BaseModel):
    version: int | None = None


@router.post("/letters/{letter_id}/approve")
def approve_letter(letter_id: int, s: DB, user: ApiUser, body: Approval | None = None,
                   if_match: str | None = Header(None)):
    user.require(*review.LETTER_ROLES)
    version = body.version if body and body.version is not None else (_if_match(if_match) if if_match else None)
    return review.approve(s, user, letter_id, version).to_json()


@router.get("/letters/{letter_id}/export")
def export_letter(letter_id: int, s: DB, user: ApiUser, request: Request,
                  format: Literal["docx", "pdf", "fhir"] = Query(...)) -> Response:
    """The approved version as DOCX, PDF or (``fhir``) an ISiK DocumentReference with the PDF inside; 409 for a draft."""
    settings = request.app.state.settings
    data, filename, media = review.export_letter(s, user, letter_id, format, settings.letter_template,
                                                 patient_system=settings.fhir_patient_system)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _if_match(value: str | None) -> int:
    """``If-Match: 3`` or ``If-Match: "3"`` (an ETag) -> 3; anything else is a 428/422."""
    if value is None:
        raise Invalid(["If-Match: missing; name the version your edit is based on"])
    v = value.strip().removeprefix("W/").strip('"')
    if not v.isdigit():
        raise Invalid(["If-Match: must be a version number"])
    return int(v)
