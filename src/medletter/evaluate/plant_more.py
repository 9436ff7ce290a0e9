"""Planted errors that add or take out: a diagnosis the case does not have, a diagnosis written twice, and facts
dropped (histology, grading, date of first diagnosis, a concurrent dose, a secondary diagnosis' code). See
:mod:`medletter.evaluate.plant`."""

from __future__ import annotations

import random
import re

from medletter.evaluate.plant_base import Planted, _drop
from medletter.records import Case


# ---------------------------------------------------------------- a diagnosis the case does not have

_OTHER_DIAGNOSES = {"de": ["Hyperurikämie", "Glaukom", "Migräne", "Depression", "Hypothyreose", "Osteoporose", "Psoriasis"],
                    "en": ["Gout", "Glaucoma", "Migraine", "Depression", "Hypothyroidism", "Osteoporosis", "Psoriasis"]}


def _diagnosis_list(text: str):
    """The first item line under a diagnosis heading, and the last line of that list: (first, last) as (start, end)."""
    from medletter.evaluate.factcheck.diagnoses import _HEADING

    lines = text.split("\n")
    pos = 0
    for i, ln in enumerate(lines):
        if _HEADING.match(ln) and not ln[_HEADING.match(ln).end():].strip() and i + 1 < len(lines) and lines[i + 1].strip():
            first = (pos + len(ln) + 1, pos + len(ln) + 1 + len(lines[i + 1]))
            j, p2 = i + 1, pos + len(ln) + 1
            while j + 1 < len(lines) and lines[j + 1].strip() and not _HEADING.match(lines[j + 1]):
                p2 += len(lines[j]) + 1
                j += 1
            return first, (p2, p2 + len(lines[j]))
        pos += len(ln) + 1
    return None


def plant_invented_diagnosis(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """A diagnosis the case does not have, added to the letter's diagnosis list as one more item (as a model adds a
    line where a case has no secondary diagnoses)."""
    spot = _diagnosis_list(text)
    if spot is None:
        return None
    (fa, fb), (la, lb) = spot
    have = " ".join([case.main_diagnosis.text] + [s.text for s in case.secondary_diagnoses]).lower()
    names = [n for n in _OTHER_DIAGNOSES.get(lang, _OTHER_DIAGNOSES["en"]) if n.lower()[:5] not in have]
    bullet = re.match(r"^[ \t]*(?:[-–•*→]\s*)?", text[fa:fb]).group()
    line = f"\n{bullet}{rng.choice(names)}"
    new = text[:lb] + line + text[lb:]
    return Planted("invented_diagnosis", new, [(lb + 1 + len(bullet), lb + len(line))], note=line.strip())


def plant_repeated_diagnosis(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The first item of the diagnosis list written again as one more item (the repeated line a model writes)."""
    spot = _diagnosis_list(text)
    if spot is None:
        return None
    (fa, fb), (la, lb) = spot
    item = text[fa:fb]
    if len(item.strip()) < 6:
        return None
    new = text[:lb] + "\n" + item + text[lb:]
    return Planted("repeated_diagnosis", new, [(lb + 1, lb + 1 + len(item))], in_set=True, note="repeated first item")


# ---------------------------------------------------------------- facts dropped

def plant_drop_histology(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The histology taken out of the letter: every place it is written as the case writes it."""
    h = case.main_diagnosis.histology
    if not h or h not in text:
        return None
    while h in text:
        a = text.index(h)
        text = _drop(text, a, a + len(h))
    return Planted("drop_histology", text, missing="histology")


def plant_drop_grading(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    g = case.main_diagnosis.grading
    if not g:
        return None
    hits = [m for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(g)}(?![A-Za-z0-9])", text)]
    h = case.main_diagnosis.histology
    if h and h in text and re.fullmatch(r"G\d", g):
        at = text.index(h) + len(h)
        hits = [m for m in hits if 0 <= m.start() - at <= 4]
    if not hits:
        return None
    m = hits[0]
    return Planted("drop_grading", _drop(text, m.start(), m.end()), missing="grading")


def plant_drop_dx_date(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    """The date of first diagnosis taken out of the letter: the dated statement ("ED 15.1.2029", "diagnosed on …"),
    and every other place the letter writes that date, so that the letter no longer says it."""
    from medletter.evaluate.factcheck.values import find_dates as _find_dates

    dx = case.main_diagnosis.date_of_diagnosis
    if dx is None:
        return None
    hits = [(a, b) for a, b, v in _find_dates(text) if v == dx or v == (dx.year, dx.month)]
    labelled = False
    for a, b in sorted(hits, reverse=True):
        m = re.search(r"(?:ED|Erstdiagnose|erstdiagnostiziert|first diagnosed|diagnosed|dx|Dx)\s*:?\s*(?:am|on|im|in)?\s*$", text[max(0, a - 30) : a])
        start = a - len(text[max(0, a - 30) : a]) + m.start() if m else a
        labelled = labelled or bool(m)
        text = _drop(text, start, b)
    if not labelled:
        return None
    return Planted("drop_dx_date", text, missing="date_of_diagnosis")


def plant_drop_concurrent_dose(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    for c in case.radiotherapy_courses:
        chemo = c.concurrent_chemotherapy
        if not chemo or chemo not in text:
            continue
        stripped = re.sub(r"\s*(?:\d+(?:[.,]\d+)?\s*(?:mg/m²|mg/m2|mg/kg|mg)|AUC\s*\d+(?:[.,]\d+)?)", "", chemo).strip()
        if stripped == chemo:
            continue
        new = text.replace(chemo, stripped)
        doses = re.findall(r"\d+(?:[.,]\d+)?\s*(?:mg/m²|mg/m2|mg/kg|mg)|AUC\s*\d+(?:[.,]\d+)?", chemo)
        if any(d in new for d in doses):
            continue  # the letter writes the dose elsewhere too: taking this one out drops nothing
        return Planted("drop_concurrent_dose", new, missing="concurrent_systemic")
    return None


def plant_drop_secondary_code(case: Case, text: str, lang: str, rng: random.Random) -> Planted | None:
    opts = []
    for s in case.secondary_diagnoses:
        if not s.icd10:
            continue
        code = s.icd10.split()[0]
        m = re.search(rf"\s*\((?:ICD-10\s*)?{re.escape(code)}[^)]*\)", text)
        if m and s.text in text and len(re.findall(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![0-9])", text)) == 1:
            opts.append(m)
    if not opts:
        return None
    m = rng.choice(opts)
    return Planted("drop_secondary_code", text[: m.start()] + text[m.end() :], missing="secondary_diagnosis")
