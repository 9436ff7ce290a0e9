"""Importing, finding and showing cases.

An import is all or nothing: every bad line is listed as ``LINE: FIELD: problem`` (never the
value) and nothing of that file is stored. A reference letter in a line is ignored.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from medletter.app.i18n import Msg, join
from medletter.app.models import CaseRow
from medletter.app.problems import line_error
from medletter.app.services import audit
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Invalid, NotFound
from medletter.jsonl import RecordsError, parse_records
from medletter.records import Case, Record

IMPORT_ROLES = ("physician", "admin")
VIEW_ROLES = ("physician", "admin")
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _search_text(c: Case) -> str:
    p = c.patient
    bits = [c.case_id, p.patient_id, p.first_name, p.last_name, c.main_diagnosis.text, c.main_diagnosis.icd10,
            c.main_diagnosis.tnm or "", c.entity or ""]
    return " ".join(bits).lower()


def import_jsonl(s: Session, who: Principal, raw: bytes) -> list[int]:
    """Store every case of a JSONL upload and return their ids, or store none and raise Invalid."""
    who.require(*IMPORT_ROLES)
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid([Msg("(file): larger than %(mb)s MB", mb=MAX_IMPORT_BYTES // (1024 * 1024))])
    try:
        res = parse_records(raw, "(upload)", Record, ignore=("letter", "split"))
    except RecordsError as e:
        raise Invalid([line_error(err) for err in e.errors]) from None
    errors = [line_error(e) for e in res.errors]
    rows: list[tuple[int, Case, str, str]] = []
    seen: dict[str, int] = {}
    for line, rec in res.good:
        c = rec.case
        data = c.model_dump_json()
        digest = hashlib.sha256(data.encode()).hexdigest()
        if c.case_id in seen:
            errors.append(join([line, "case.case_id", Msg("the same case number as line %(line)s", line=seen[c.case_id])], ": "))
            continue
        seen[c.case_id] = line
        rows.append((line, c, data, digest))
    existing = {r.external_id: r for r in s.scalars(select(CaseRow).where(CaseRow.external_id.in_(list(seen))))} if seen else {}
    for line, c, _data, digest in rows:
        old = existing.get(c.case_id)
        if old is not None and old.content_hash != digest:
            errors.append(join([line, "case.case_id", Msg("imported before with different content (cases are never overwritten)")], ": "))
    if errors:
        errors.sort(key=lambda e: int(e.split(":", 1)[0]) if e.split(":", 1)[0].isdigit() else 0)
        raise Invalid(errors)
    ids = []
    new = 0
    for _line, c, data, digest in rows:
        old = existing.get(c.case_id)
        if old is not None:  # the same case again: idempotent
            ids.append(old.id)
            continue
        row = CaseRow(external_id=c.case_id, search_text=_search_text(c), data=data, content_hash=digest, created_by=who.id)
        s.add(row)
        s.flush()
        ids.append(row.id)
        new += 1
    audit.record(s, who, "case_import", "case", ids[0] if ids else "-", f"cases={len(ids)} new={new}")
    return ids


def list_cases(s: Session, who: Principal, q: str = "", page: int = 1, per_page: int = 25) -> tuple[list[CaseRow], int]:
    who.require(*VIEW_ROLES)
    query = select(CaseRow)
    for word in q.lower().split()[:6]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(CaseRow.search_text.like(like)))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(query.order_by(CaseRow.id.desc()).offset((max(page, 1) - 1) * per_page).limit(per_page))
    if q:
        audit.record(s, who, "case_search", "case", "-", f"results={total}")
    return list(rows), total


def get_case(s: Session, who: Principal, case_id: int, log_view: bool = True) -> tuple[CaseRow, Case]:
    who.require(*VIEW_ROLES)
    row = s.get(CaseRow, case_id)
    if row is None:
        raise NotFound(Msg("no case %(id)s", id=case_id))
    if log_view:
        audit.record(s, who, "case_view", "case", row.id)
    return row, case_of(row)


def case_of(row: CaseRow) -> Case:
    return Case.model_validate_json(row.data)


def case_summary(row: CaseRow) -> dict:
    """The list/API view of a case (what a worklist shows)."""
    c = case_of(row)
    p = c.patient
    return {
        "id": row.id, "case_id": c.case_id, "patient": f"{p.last_name}, {p.first_name}", "birth_date": p.birth_date.isoformat(),
        "diagnosis": c.main_diagnosis.text, "icd10": c.main_diagnosis.icd10, "letter_date": c.letter_date.isoformat(),
        "imported_at": row.created_at.isoformat(timespec="seconds") + "Z",
    }


def as_json(c: Case) -> dict:
    return json.loads(c.model_dump_json())
