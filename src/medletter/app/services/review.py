"""Letters as chains of immutable versions: check against the case, save, compare, approve, export.

No lost updates: a save names the version it was based on, and ``letters.version`` is advanced by
a conditional UPDATE (``… WHERE version = based_on``). If another save came first, the UPDATE
changes no row, nothing is written and the caller gets :class:`StaleVersion` (HTTP 409) with both
texts. The (letter, version) pair is unique as well, so two writers can never make the same version.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from medletter.app.i18n import DEFAULT_LANG, LANGS, Msg
from medletter.app.models import CaseRow, Letter, LetterVersion, User, utcnow
from medletter.app.services import audit
from medletter.app.services.auth import Principal
from medletter.app.services.cases import case_of
from medletter.app.services.errors import Conflict, Invalid, NotFound, StaleVersion
from medletter.evaluate.core import section_coverage
from medletter.evaluate.facts import check_letter
from medletter.records import Case

LETTER_ROLES = ("physician",)
MAX_LETTER_CHARS = 100_000


def fact_report(case: Case, text: str, style: str, lang: str) -> dict:
    """What the review page and the API show: unsupported statements with character offsets, the
    case's facts the letter lacks, the style's sections it lacks."""
    rep = check_letter(case, text)
    _cov, missing_sections = section_coverage(text, style, lang)
    return {"unsupported": rep.flags_json(), "missing": rep.missing_json(), "missing_sections": missing_sections,
            "recall": round(rep.recall, 4)}


@dataclass
class LetterView:
    letter: Letter
    current: LetterVersion
    case_row: CaseRow

    @property
    def facts(self) -> dict:
        return json.loads(self.current.facts)

    @property
    def grounding(self) -> dict | None:
        """The model draft's grounding record (version 1), or None."""
        return json.loads(self.letter.grounding) if self.letter.grounding else None

    @property
    def held(self) -> list[dict]:
        """The places where the gate held the model's draft to the case, one per place: what the model wanted,
        what the draft wrote (a missing-value marker where the case has no such value)."""
        return held_numbers(self.grounding)

    def to_json(self) -> dict:
        lt = self.letter
        return {"id": lt.id, "case_id": lt.case_id, "version": lt.version, "status": lt.status, "text": self.current.text,
                "facts": self.facts, "approved_version": lt.approved_version,
                "approved_at": lt.approved_at.isoformat(timespec="seconds") + "Z" if lt.approved_at else None,
                "style": lt.style, "lang": lt.lang, "draft_end": lt.draft_end, "grounding": self.grounding,
                "updated_at": self.current.created_at.isoformat(timespec="seconds") + "Z"}


def held_numbers(g: dict | None) -> list[dict]:
    if not g:
        return []
    rank = {"missing": 3, "rewind": 2, "held": 1}
    by_start: dict[int, dict] = {}
    for e in g.get("interventions", []):
        cur = by_start.get(e["start"])
        if cur is None:
            by_start[e["start"]] = dict(e)
            continue
        if rank.get(e["kind"], 0) > rank.get(cur["kind"], 0):
            cur["kind"], cur["written"] = e["kind"], e["written"]
        cur["blocked"] = cur["blocked"] or e["blocked"]
    return [by_start[k] for k in sorted(by_start)]


DRAFT_ENDS = ("model", "length", "loop")


def draft_end(d) -> str:
    """How a draft (``medletter.generate.Draft``) ended, as ``Letter.draft_end`` records it."""
    return "loop" if d.looped else "model" if d.stopped else "length"


def create_letter(s: Session, case_row: CaseRow, text: str, style: str, lang: str, model: str, author_id: int | None,
                  draft_end: str | None = None, grounding: dict | None = None) -> Letter:
    """A new letter whose version 1 is the model's draft (called by the worker); ``draft_end``: how the draft
    ended (:data:`DRAFT_ENDS`, ``Letter.draft_end``); ``grounding``: the draft's grounding record."""
    if draft_end is not None and draft_end not in DRAFT_ENDS:
        raise ValueError(f"draft_end must be one of {DRAFT_ENDS}, not {draft_end!r}")
    lt = Letter(case_id=case_row.id, version=1, status="draft", style=style, lang=lang, model=model[:255], draft_end=draft_end,
                grounding=json.dumps(grounding, ensure_ascii=False) if grounding else None)
    s.add(lt)
    s.flush()
    s.add(LetterVersion(letter_id=lt.id, version=1, based_on=None, origin="model", author_id=author_id, text=text,
                        facts=json.dumps(fact_report(case_of(case_row), text, style, lang))))
    return lt


def _version(s: Session, letter_id: int, version: int) -> LetterVersion:
    v = s.scalar(select(LetterVersion).where(LetterVersion.letter_id == letter_id, LetterVersion.version == version))
    if v is None:
        raise NotFound(Msg("letter %(letter)s has no version %(version)s", letter=letter_id, version=version))
    return v


def get_letter(s: Session, who: Principal, letter_id: int, log_view: bool = True) -> LetterView:
    who.require(*LETTER_ROLES)
    lt = s.get(Letter, letter_id)
    if lt is None:
        raise NotFound(Msg("no letter %(letter)s", letter=letter_id))
    if log_view:
        audit.record(s, who, "letter_view", "letter", lt.id, f"version={lt.version}")
    return LetterView(lt, _version(s, lt.id, lt.version), s.get(CaseRow, lt.case_id))


def letters_for_case(s: Session, who: Principal, case_id: int) -> list[Letter]:
    who.require(*LETTER_ROLES)
    return list(s.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id)))


def versions(s: Session, who: Principal, letter_id: int) -> list[tuple[LetterVersion, str | None]]:
    """All versions, oldest first, with their author's name."""
    who.require(*LETTER_ROLES)
    rows = s.execute(select(LetterVersion, User.name).outerjoin(User, User.id == LetterVersion.author_id)
                     .where(LetterVersion.letter_id == letter_id).order_by(LetterVersion.version))
    return [(v, name) for v, name in rows]


def get_version(s: Session, who: Principal, letter_id: int, version: int) -> LetterVersion:
    who.require(*LETTER_ROLES)
    return _version(s, letter_id, version)


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Invalid([Msg("text: is empty")])
    if len(text) > MAX_LETTER_CHARS:
        raise Invalid([Msg("text: longer than %(n)s characters", n=MAX_LETTER_CHARS)])
    if "\x00" in text:
        raise Invalid([Msg("text: contains a NUL character")])
    return text


def save(s: Session, who: Principal, letter_id: int, based_on: int, text: str) -> LetterView:
    """A physician's edit becomes the next version; a stale ``based_on`` raises StaleVersion."""
    who.require(*LETTER_ROLES)
    text = _clean(text)
    lt = s.get(Letter, letter_id)
    if lt is None:
        raise NotFound(Msg("no letter %(letter)s", letter=letter_id))
    new = based_on + 1
    res = s.execute(update(Letter).where(Letter.id == letter_id, Letter.version == based_on)
                    .values(version=new, status="draft").execution_options(synchronize_session=False))
    if res.rowcount != 1:
        s.rollback()
        raise _stale(s, letter_id, based_on, text)
    case_row = s.get(CaseRow, lt.case_id)
    v = LetterVersion(letter_id=letter_id, version=new, based_on=based_on, origin="edit", author_id=who.id, text=text,
                      facts=json.dumps(fact_report(case_of(case_row), text, lt.style, lt.lang)))
    s.add(v)
    try:
        s.flush()
    except IntegrityError:  # a concurrent writer made this version number first
        s.rollback()
        raise _stale(s, letter_id, based_on, text) from None
    audit.record(s, who, "letter_save", "letter", letter_id, f"version={new} based_on={based_on}")
    s.refresh(lt)
    return LetterView(lt, v, case_row)


def _stale(s: Session, letter_id: int, based_on: int, your_text: str) -> StaleVersion:
    lt = s.get(Letter, letter_id)
    s.refresh(lt)
    cur = _version(s, letter_id, lt.version)
    return StaleVersion(letter_id, based_on, lt.version, cur.text, your_text)


def approve(s: Session, who: Principal, letter_id: int, version: int | None = None) -> LetterView:
    """Freeze the newest version (or exactly ``version``, refused if it is no longer the newest)."""
    who.require(*LETTER_ROLES)
    view = get_letter(s, who, letter_id, log_view=False)
    lt = view.letter
    v = lt.version if version is None else version
    if lt.status == "approved" and lt.approved_version == v:
        return view
    now = utcnow()
    res = s.execute(update(Letter).where(Letter.id == letter_id, Letter.version == v)
                    .values(status="approved", approved_version=v, approved_by=who.id, approved_at=now)
                    .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        s.rollback()
        raise _stale(s, letter_id, v, "")
    audit.record(s, who, "letter_approve", "letter", letter_id, f"version={v}")
    s.refresh(lt)
    return LetterView(lt, _version(s, letter_id, lt.version), view.case_row)


def approved_text(s: Session, who: Principal, letter_id: int) -> tuple[LetterView, LetterVersion]:
    """The approved version for an export; a letter that is not approved raises Conflict (409)."""
    view = get_letter(s, who, letter_id, log_view=False)
    lt = view.letter
    if lt.status != "approved" or lt.approved_version != lt.version:
        raise Conflict(Msg("letter %(letter)s is not approved (version %(version)s is a draft); approve it before exporting",
                           letter=letter_id, version=lt.version))
    return view, view.current


def diff_rows(old: str, new: str) -> list[tuple[str, str]]:
    """Line diff for the compare view: ('same'|'del'|'add', line)."""
    out = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, body = line[:2], line[2:]
        if tag == "  ":
            out.append(("same", body))
        elif tag == "- ":
            out.append(("del", body))
        elif tag == "+ ":
            out.append(("add", body))
    return out


EXPORT_MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "fhir": "application/fhir+json",  # an ISiK DocumentReference with the PDF inside (services/isik.py)
}


def approved_letter_ids(s: Session, who: Principal) -> list[int]:
    """The letters whose newest version is approved (the ones an export may take), oldest first."""
    who.require(*LETTER_ROLES)
    return list(s.scalars(select(Letter.id).where(Letter.status == "approved", Letter.approved_version == Letter.version)
                          .order_by(Letter.id)))


def _export_meta(s: Session, view: LetterView, version: LetterVersion):
    from medletter.app.i18n import format_date, format_datetime
    from medletter.app.services.export import ExportMeta

    lt, case = view.letter, case_of(view.case_row)
    p, a, ref = case.patient, case.patient.address, case.referring_physician
    approver = s.get(User, lt.approved_by)
    lang = lt.lang if lt.lang in LANGS else DEFAULT_LANG  # the document's labels are in the letter's language
    return ExportMeta(
        case_id=case.case_id, patient_name=f"{p.first_name} {p.last_name}", patient_birth_date=format_date(p.birth_date, lang),
        patient_address="\n".join(x for x in (a.street, f"{a.postcode} {a.city}".strip()) if x) if a else "",
        recipient=" ".join(x for x in (ref.title, ref.first_name, ref.last_name) if x), letter_date=format_date(case.letter_date, lang),
        version=version.version, approved_by=approver.name if approver else "?",
        approved_at=format_datetime(lt.approved_at, lang) + " UTC" if lt.approved_at else "", lang=lang,
    )


def export_letter(s: Session, who: Principal, letter_id: int, fmt: str, template=None,
                  patient_system: str | None = None) -> tuple[bytes, str, str]:
    """(file bytes, file name, media type) of the approved version; refused (409) for a draft.

    ``fhir``: the ISiK DocumentReference (:func:`export_fhir`) as JSON, ``DocumentReference-<id>.json``."""
    from medletter.app.services.export import to_docx, to_pdf

    if fmt not in EXPORT_MEDIA:
        raise Invalid(["format: must be docx, pdf or fhir"])
    if fmt == "fhir":
        from medletter.app.services import isik

        resource, _version = export_fhir(s, who, letter_id, patient_system)
        return isik.to_json(resource), isik.filename(letter_id), EXPORT_MEDIA[fmt]
    view, version = approved_text(s, who, letter_id)
    meta = _export_meta(s, view, version)
    data = to_docx(version.text, meta, template) if fmt == "docx" else to_pdf(version.text, meta)
    audit.record(s, who, "letter_export", "letter", letter_id, f"version={version.version} format={fmt}")
    return data, f"letter-{letter_id}-v{version.version}.{fmt}", EXPORT_MEDIA[fmt]


def export_fhir(s: Session, who: Principal, letter_id: int, patient_system: str | None = None) -> tuple[dict, int]:
    """(ISiK DocumentReference with the approved version's PDF, that version); refused (409) for a draft."""
    from medletter.app.services import isik
    from medletter.app.services.export import to_pdf

    view, version = approved_text(s, who, letter_id)
    meta = _export_meta(s, view, version)
    lt, case = view.letter, case_of(view.case_row)
    doc = isik.LetterDocument(
        letter_id=lt.id, version=version.version, lang=lt.lang or "de", letter_type=case.letter_type, letter_date=case.letter_date,
        case_number=case.case_id, patient_number=case.patient.patient_id, approved_by=meta.approved_by,
        approved_at=lt.approved_at or version.created_at, text=version.text)
    resource = isik.document_reference(doc, to_pdf(version.text, meta), patient_system or isik.DEFAULT_PATIENT_SYSTEM)
    audit.record(s, who, "letter_export", "letter", letter_id, f"version={version.version} format=fhir")
    return resource, version.version
