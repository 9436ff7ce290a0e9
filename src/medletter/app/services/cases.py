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
    bits = [c.case_id, p.patient_id or "", p.first_name, p.last_name, c.main_diagnosis.text, c.main_diagnosis.icd10 or "",
            c.main_diagnosis.tnm or "", c.entity or ""]
    return " ".join(bits).lower()


def is_fhir(raw: bytes) -> bool:
    """Whether an upload is FHIR (a Bundle, a resource, or NDJSON of resources) rather than case-record JSONL."""
    head = raw.lstrip()[:4096].decode("utf-8", errors="replace")
    first = head.split("\n", 1)[0]
    return '"resourceType"' in first or (head.startswith("{") and '"resourceType"' in head and '"case"' not in head)


def import_upload(s: Session, who: Principal, raw: bytes, name: str = "(upload)") -> list[int]:
    """A JSONL file of case records or FHIR R4 (told apart by content): store every case or none."""
    return import_fhir(s, who, raw, name) if is_fhir(raw) else import_jsonl(s, who, raw)


def import_jsonl(s: Session, who: Principal, raw: bytes) -> list[int]:
    """Store every case of a JSONL upload and return their ids, or store none and raise Invalid."""
    who.require(*IMPORT_ROLES)
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid([Msg("(file): larger than %(mb)s MB", mb=MAX_IMPORT_BYTES // (1024 * 1024))])
    try:
        res = parse_records(raw, "(upload)", Record, ignore=("letter", "split", "provenance"), allow_incomplete=True)
    except RecordsError as e:
        raise Invalid([line_error(err) for err in e.errors]) from None
    errors = [line_error(e) for e in res.errors]
    return _store(s, who, [(str(line), rec.case) for line, rec in res.good], errors, "case_import")


def import_fhir(s: Session, who: Principal, raw: bytes, name: str = "(upload)") -> list[int]:
    """Store the cases of a FHIR R4 Bundle or NDJSON upload (``medletter import fhir``'s mapping), or none:
    a bad bundle is Invalid with ``RESOURCE: ELEMENT: problem`` per problem."""
    from medletter.fhir.importer import import_index
    from medletter.fhir.read import FhirInputError, read_index

    who.require(*IMPORT_ROLES)
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid([Msg("(file): larger than %(mb)s MB", mb=MAX_IMPORT_BYTES // (1024 * 1024))])
    try:
        index = read_index([], raw={name: raw})
    except FhirInputError as e:
        raise Invalid([f"{p.resource}: {p.element}: {p.problem}" for p in e.problems]) from None
    result = import_index(index)
    if not result.records:
        raise Invalid([f"{u['resource']}: {u['reason']}" for u in result.unmappable] or ["(file): no case in the FHIR input"])
    items = [(c.patient, c.record.case) for c in result.cases if c.record is not None]
    return _store(s, who, items, [], "case_import_fhir")


def _store(s: Session, who: Principal, items: list[tuple[str, Case]], errors: list[str], action: str) -> list[int]:
    rows: list[tuple[str, Case, str, str]] = []
    seen: dict[str, str] = {}
    for where, c in items:
        data = c.model_dump_json()
        digest = hashlib.sha256(data.encode()).hexdigest()
        if c.case_id in seen:
            errors.append(join([where, "case.case_id", Msg("the same case number as line %(line)s", line=seen[c.case_id])], ": "))
            continue
        seen[c.case_id] = where
        rows.append((where, c, data, digest))
    existing = {r.external_id: r for r in s.scalars(select(CaseRow).where(CaseRow.external_id.in_(list(seen))))} if seen else {}
    for where, c, _data, digest in rows:
        old = existing.get(c.case_id)
        if old is not None and old.content_hash != digest:
            errors.append(join([where, "case.case_id", Msg("imported before with different content (cases are never overwritten)")], ": "))
    if errors:
        errors.sort(key=lambda e: int(e.split(":", 1)[0]) if e.split(":", 1)[0].isdigit() else 0)
        raise Invalid(errors)
    ids = []
    new = 0
    for _where, c, data, digest in rows:
        old = existing.get(c.case_id)
        if old is not None:  # the same case again: idempotent
            ids.append(old.id)
            continue
        row = CaseRow(external_id=c.case_id, search_text=_search_text(c), data=data, content_hash=digest, created_by=who.id,
                      incomplete=bool(c.missing))
        s.add(row)
        s.flush()
        ids.append(row.id)
        new += 1
    n_inc = sum(1 for _w, c, _d, _h in rows if c.missing)
    audit.record(s, who, action, "case", ids[0] if ids else "-", f"cases={len(ids)} new={new} incomplete={n_inc}")
    return ids


def complete_case(s: Session, who: Principal, case_id: int, values: dict) -> CaseRow:
    """Fill the missing fields of an incomplete case (``values``: field path → value, as the schema has it);
    a value for a field that is not missing, or one the schema refuses, is Invalid and nothing changes."""
    from pydantic import ValidationError

    from medletter.jsonl import validation_errors

    who.require("physician")
    row, case = get_case(s, who, case_id, log_view=False)
    data = json.loads(case.model_dump_json())
    errors = [f"{p}: is not missing (only missing fields can be completed here)" for p in values if p not in case.missing]
    if errors:
        raise Invalid(errors)
    for path, value in values.items():
        _put(data, path, value)
    data["missing"] = [p for p in case.missing if p not in values]
    try:
        new = Case.model_validate(data)
    except ValidationError as e:
        raise Invalid([f"{err.field}: {err.problem}" for err in validation_errors("(form)", None, e)]) from None
    row.data = new.model_dump_json()
    row.incomplete = bool(new.missing)
    row.search_text = _search_text(new)
    audit.record(s, who, "case_complete", "case", row.id, f"fields={len(values)} still_missing={len(new.missing)}")
    return row


def _put(data: dict, path: str, value) -> None:
    parts = path.split(".")
    cur = data
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    if isinstance(cur, list):
        cur[int(parts[-1])] = value
    else:
        cur[parts[-1]] = value


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
        "diagnosis": c.main_diagnosis.text, "icd10": c.main_diagnosis.icd10,
        "letter_date": c.letter_date.isoformat() if c.letter_date else None,
        "imported_at": row.created_at.isoformat(timespec="seconds") + "Z", "incomplete": bool(c.missing), "missing": c.missing,
    }


def as_json(c: Case) -> dict:
    return json.loads(c.model_dump_json())
