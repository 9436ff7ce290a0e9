"""De-identification of whole records (:class:`medletter.records.Record`): the case fields and the
letter, consistently per patient.

The patient's and physicians' names, address, phone numbers and IDs are replaced by the same surrogates
in the case and in the letter, and every date of the case is shifted by the same per-patient offset,
so that the case stays valid. The letter's own spans (ground truth of the synthetic generator) are
united with what detection finds, using what the case knows.

Logs never contain text: only counts.
"""

from __future__ import annotations

import datetime as dt
import logging

import regex as re

from medletter.privacy.operators import MODES, Mode, apply
from medletter.privacy.surrogates import Surrogates
from medletter.records import Span

logger = logging.getLogger(__name__)

_DATE_KEYS = ("birth_date", "letter_date", "date_of_diagnosis", "date", "start_date", "end_date")
_FREE_TEXT_KEYS = ("text", "procedure", "surgeon_institution", "where", "what", "interval_text", "reason",
                   "findings_at_end", "recommendations")


def _surrogates_for_case(case, key: bytes) -> Surrogates:
    p = case.patient
    sur = Surrogates(key=key, patient_key=str(p.patient_id), sex=p.sex.value if p.sex else None)
    sur.known_first = {t.lower() for t in p.first_name.split()}
    sur.add_known(p.first_name, p.last_name)
    for doc in [case.referring_physician, *case.treating_physicians]:
        sur.add_known(doc.first_name, doc.last_name)
        for t in doc.first_name.split():
            sur.first_sex.setdefault(t.lower(), doc.sex.value if doc.sex else "")
    dates = [p.birth_date, case.letter_date]
    if case.main_diagnosis.date_of_diagnosis:
        dates.append(case.main_diagnosis.date_of_diagnosis)
    dates += [s.date for s in case.prior_treatments.surgeries]
    dates += [s.start_date for s in case.prior_treatments.systemic] + [s.end_date for s in case.prior_treatments.systemic if s.end_date]
    dates += [c.start_date for c in case.radiotherapy_courses] + [c.end_date for c in case.radiotherapy_courses]
    for d in sorted(dates):
        sur.anchors.setdefault((d.year, d.month), d.day)
    return sur


def _placeholder(label: str, mode: Mode) -> str:
    return f"[{label}]" if mode == "mask" else "[REDACTED]"


def _deid_case(case, sur: Surrogates, mode: Mode, known, lang: str):
    from medletter.privacy.detect import detect

    data = case.model_dump(mode="json")
    p = data["patient"]
    pseudo = mode == "pseudonymize"

    def name(v, label):
        return sur.name(v) if pseudo else _placeholder(label, mode)

    p["first_name"] = name(p["first_name"], "NAME_PATIENT")
    p["last_name"] = name(p["last_name"], "NAME_PATIENT")
    a = p["address"]
    a["street"] = sur.street(a["street"]) if pseudo else _placeholder("LOCATION_STREET", mode)
    a["postcode"] = sur.postcode(a["postcode"]) if pseudo else "00000"
    a["city"] = sur.city(a["city"]) if pseudo else _placeholder("LOCATION_CITY", mode)
    if p.get("phone"):
        p["phone"] = sur.phone(p["phone"]) if pseudo else _placeholder("CONTACT_PHONE", mode)
    for k in ("patient_id", "case_id", "insurance_number"):
        p[k] = sur.digits(p[k], "id") if pseudo else _placeholder("ID", mode)
    data["case_id"] = sur.digits(data["case_id"], "id") if pseudo else _placeholder("ID", mode)
    for doc in [data["referring_physician"], *data["treating_physicians"]]:
        doc["first_name"] = name(doc["first_name"], "NAME_DOCTOR")
        doc["last_name"] = name(doc["last_name"], "NAME_DOCTOR")
        if doc.get("institution"):
            doc["institution"] = sur.replace("LOCATION_HOSPITAL", doc["institution"]) if pseudo else _placeholder("LOCATION_HOSPITAL", mode)
        for k in ("phone", "fax"):
            if doc.get(k):
                doc[k] = sur.phone(doc[k]) if pseudo else _placeholder("CONTACT_PHONE", mode)
        if doc.get("address"):
            da = doc["address"]
            da["street"] = sur.street(da["street"]) if pseudo else _placeholder("LOCATION_STREET", mode)
            da["postcode"] = sur.postcode(da["postcode"]) if pseudo else "00000"
            da["city"] = sur.city(da["city"]) if pseudo else _placeholder("LOCATION_CITY", mode)

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in _DATE_KEYS and isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                    node[k] = sur.shift(dt.date.fromisoformat(v)).isoformat()
                elif k in _FREE_TEXT_KEYS and isinstance(v, str) and v.strip():
                    node[k] = _deid_free_text(v, sur, mode, known, lang, detect)
                elif k in _FREE_TEXT_KEYS and isinstance(v, list):
                    node[k] = [_deid_free_text(x, sur, mode, known, lang, detect) if isinstance(x, str) else x for x in v]
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(data)
    return data


def _deid_free_text(text: str, sur: Surrogates, mode: Mode, known, lang: str, detect) -> str:
    spans = detect(text, lang=lang, known=known)
    if not spans:
        return text
    out = apply(text, spans, sur, mode=mode).text
    return out if out.strip() else _placeholder("PHI", mode)


def union_spans(text: str, gold: list[Span], found: list[Span]) -> list[Span]:
    """The letter's own spans (those that still match its text; they win where they overlap) and the
    detected ones, resolved to non-overlapping spans."""
    from presidio_analyzer import RecognizerResult as AR

    from medletter.privacy.detect import resolve

    results = [AR(s.label, s.start, s.end, 1.0) for s in gold if text[s.start:s.end] == s.text]
    results += [AR(s.label, s.start, s.end, 0.9) for s in found]
    return resolve(results, text)


def deidentify_record_with_mapping(record, key: bytes, mode: Mode = "pseudonymize", use_gold_spans: bool = True):
    """:func:`deidentify_record`, also returning the letter's encrypted mapping (or None)."""
    from medletter.privacy.detect import KnownPHI, detect
    from medletter.records import Record

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (use one of {', '.join(MODES)})")
    case = record.case
    known = KnownPHI.from_case(case)
    sur = _surrogates_for_case(case, key)
    letter = record.letter
    lang = letter.language if letter is not None else "de"
    case_data = _deid_case(case, sur, mode, known, lang)
    letter_data, token = None, None
    if letter is not None:
        found = detect(letter.text, lang=lang, known=known)
        spans = union_spans(letter.text, letter.spans if use_gold_spans else [], found)
        res = apply(letter.text, spans, sur, mode=mode, with_mapping=True)
        token = res.mapping
        sections, cursor = [], 0
        for sec in letter.sections:
            pos = letter.text.find(sec.text, cursor) if sec.text else -1
            a = res.new_offset(pos) if pos >= 0 else None
            b = res.new_offset(pos + len(sec.text)) if pos >= 0 else None
            if a is not None and b is not None:
                new_sec = res.text[a:b]
                cursor = pos + len(sec.text)
            else:  # a section not found verbatim: de-identify it on its own (same surrogates)
                new_sec = _deid_free_text(sec.text, sur, mode, known, lang, detect) if sec.text else sec.text
            sd = sec.model_dump(mode="json")
            sd["text"] = new_sec
            sections.append(sd)
        letter_data = letter.model_dump(mode="json")
        letter_data["text"] = res.text
        letter_data["sections"] = sections
        letter_data["spans"] = [s.model_dump() for s in res.spans if s.end > s.start]
    out = Record.model_validate({"case": case_data, "letter": letter_data, "split": record.split})
    logger.debug("de-identified a record: %d letter spans", len(letter_data["spans"]) if letter_data else 0)
    return out, token


def deidentify_record(record, key: bytes, mode: Mode = "pseudonymize", use_gold_spans: bool = True):
    """De-identify one :class:`medletter.records.Record`: the case fields and the letter, consistently.

    The patient's and physicians' names, address, phone numbers and IDs are replaced by surrogates
    (``mask``/``redact``: placeholders), and **every date of the case is shifted by the same
    per-patient offset**, so that the case stays valid. The letter's spans (from the synthetic
    generator; ground truth when ``use_gold_spans``) are united with :func:`detect` hits, using what
    the case knows; the new letter's spans point at the surrogates. The result is validated.
    """
    return deidentify_record_with_mapping(record, key, mode=mode, use_gold_spans=use_gold_spans)[0]
