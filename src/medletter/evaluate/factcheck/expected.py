"""The facts a letter is expected to carry, and whether it does: ICD-10 code and TNM of the main diagnosis; per
course the target region, technique, dose per fraction, fractions, total dose, start and end date; each
toxicity's grade; the first follow-up; histology (every part), grading, date of first diagnosis, concurrent
systemic therapy with its dose, secondary diagnoses with their codes. *Fact recall* is the share found.

A fact is found from the letter's facts (its values, dates with their event words, grades with their
toxicities) and, for what is words rather than values (histology, a target region, a secondary diagnosis),
from the letter's words.
"""

from __future__ import annotations

import datetime as dt
import re

from medletter.evaluate.factcheck import values as V
from medletter.evaluate.factcheck.casefacts import CaseFacts
from medletter.evaluate.factcheck.model import LetterFacts
from medletter.evaluate.factcheck.text import close, norm, similar
from medletter.evaluate.factcheck.vocab import Vocabulary, tokens



def has_tokens(text_tokens: set[str], text_words: list[str], part: str) -> bool:
    toks = tokens(part)
    if not toks:
        return True
    for t in toks:
        if t in text_tokens:
            continue
        if len(t) >= 5 and any(similar(t, w) for w in text_words):
            continue
        return False
    return True


_TARGET_STOP = {norm(w) for w in ("und", "mit", "and", "with", "der", "des", "die", "the", "of", "in", "im", "to", "links", "rechts", "left",
                                   "right", "beidseits", "bilateral", "isrt", "inkl", "including", "sowie")}
_ABBREVIATIONS = {"lc": ("lymphcnoten", "lymph", "nodes", "node"), "law": ("lymphabflusswege", "lymphabfluss"),
                  "ln": ("lymph", "nodes", "node"), "lns": ("lymph", "nodes", "node"), "pt": ("primertumor", "primary"),
                  "met": ("metastase", "metastasis", "metastasen"), "mets": ("metastasis", "metastases", "metastasen"),
                  "ca": ("carcinom", "cancer", "carcinoma"), "mamma": ("brust", "breast"), "brust": ("mamma", "breast")}
"""Abbreviations letters write for the words of a target region (normalised spelling)."""


def target_named(region: str, f: LetterFacts) -> bool:
    """The letter names the target region in its own words: two thirds of the region's content words (sides aside:
    the laterality check reads those) are words of the letter, whole, inflected, cut short ("met", "supraklav.") or
    abbreviated ("LK", "LAW", "LNs")."""
    want = [w for w in tokens(region.replace("/", " ").replace("-", " ")) if w not in _TARGET_STOP and not w.isdigit()]
    if not want:
        return True
    have = {norm(w) for w in re.findall(r"[^\W\d_]+", f.text)}
    expand = set(have)
    for w in have:
        expand.update(_ABBREVIATIONS.get(w, ()))

    def named(w: str) -> bool:
        if w in expand or any(similar(w, x) for x in expand if len(x) >= 5):
            return True
        return any(len(x) >= 3 and w.startswith(x) and len(x) >= min(len(w), 3) for x in have if x not in _TARGET_STOP)

    return sum(named(w) for w in want) * 3 >= 2 * len(want)


def expected(f: LetterFacts, cf: CaseFacts) -> list[tuple[str, str, bool]]:
    """(kind, value, present) for every fact the letter is expected to carry."""
    case, text = cf.case, f.text
    d = case.main_diagnosis
    out: list[tuple[str, str, bool]] = []
    doses = [v for _, _, v in f.doses]
    fracs = [v for _, _, v in f.fractions]
    dates = f.date_values()
    tnm_found = {V.tnm_core(v) for _, _, v in f.tnm}
    techs = {v for _, _, v in f.techniques}
    grades = [v for _, _, v in f.extra["grade_hits"]]
    intervals = [v for _, _, v in f.intervals]
    out.append(("icd10", d.icd10, bool(re.search(rf"(?<![A-Za-z0-9]){re.escape(d.icd10.split()[0])}(?![0-9])", text))))
    if d.tnm:
        parts = {p for p in (V.tnm_core(p) for p in V.norm_tnm_parts(d.tnm)) if p[:1] in "tnm"}
        out.append(("tnm", d.tnm, bool(parts) and parts <= tnm_found))
    for i, c in enumerate(case.radiotherapy_courses):
        tag = f"course{i + 1}"
        region = c.target_region.lower()
        out.append((f"{tag}.target_region", c.target_region, region in f.lower or V.loose_in(region, f.lower) or target_named(c.target_region, f)))
        tech_ok = c.technique.value in techs or (c.technique.value in ("SBRT", "SRS", "FSRT") and "stereotactic" in techs)
        out.append((f"{tag}.technique", c.technique.value, tech_ok))
        out.append((f"{tag}.dose_per_fraction_gy", f"{c.dose_per_fraction_gy:g}", any(close(x, c.dose_per_fraction_gy) for x in doses)))
        out.append((f"{tag}.fractions", str(c.fractions), c.fractions in fracs))
        out.append((f"{tag}.total_dose_gy", f"{c.total_dose_gy:g}", any(close(x, c.total_dose_gy) for x in doses)))
        if c.fractions > 1 or c.start_date != c.end_date:
            out.append((f"{tag}.start_date", c.start_date.isoformat(), c.start_date in dates))
        out.append((f"{tag}.end_date", c.end_date.isoformat(), c.end_date in dates))
    remaining = list(grades)
    for i, t in enumerate(case.toxicities):
        near = re.search(rf"{re.escape(t.term)}\W{{0,4}}{V.GRADE_EXPR}{t.grade}(?!\d)", text, re.IGNORECASE)
        bound = any(i in (g.toxicities or ()) and t.grade in g.values for g in f.grades)
        ok = bound or bool(near) or t.grade in remaining
        if ok and t.grade in remaining:
            remaining.remove(t.grade)
        out.append(("ctcae_grade", f"{t.term}:{t.grade}", ok))
    fw = case.follow_up.first_visit_weeks
    first_date = case.rt_end + dt.timedelta(weeks=fw)
    out.append(("follow_up.first_visit_weeks", str(fw), (fw, "w") in intervals or first_date in dates or V.in_range(fw, text)))
    out += widened(f, cf)
    return out


def widened(f: LetterFacts, cf: CaseFacts) -> list[tuple[str, str, bool]]:
    """Histology (every comma part of it, e.g. receptor status), grading, date of first diagnosis (a date of the
    diagnosis not written for another event of that day), each concurrent chemotherapy with its agents and doses,
    each secondary diagnosis with its code."""
    case, text = cf.case, f.text
    d = case.main_diagnosis
    toks = set(tokens(text))
    long_words = sorted({t for t in toks if len(t) >= 5})
    out = []
    vocab = Vocabulary(text)
    if d.histology:
        parts = [p for p in re.split(r",\s*", d.histology) if p.strip()]
        out.append(("histology", d.histology, all(vocab.names(p) for p in re.split(r"[/]", ", ".join(parts)) if p.strip())))
    if d.grading:
        out.append(("grading", d.grading, _grading_present(f, cf)))
    if d.date_of_diagnosis:
        out.append(("date_of_diagnosis", d.date_of_diagnosis.isoformat(), _dx_date_present(f, cf)))
    seen = set()
    for c in case.radiotherapy_courses:
        chemo = c.concurrent_chemotherapy
        if chemo and chemo not in seen:
            seen.add(chemo)
            out.append(("concurrent_systemic", chemo, _chemo_present(f, cf, chemo, toks, long_words)))
    for s in case.secondary_diagnoses:
        name_ok = vocab.names(s.text)
        code_ok = True
        if s.icd10:
            code = s.icd10.split()[0]
            code_ok = bool(re.search(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![0-9])", text))
        out.append(("secondary_diagnosis", f"{s.text} ({s.icd10})" if s.icd10 else s.text, name_ok and code_ok))
    return out


def _grading_present(f: LetterFacts, cf: CaseFacts) -> bool:
    """'G2' outside a toxicity's clause ('Fatigue G2' is a CTCAE grade); other gradings by their words and numbers."""
    text = f.text
    g = (cf.case.main_diagnosis.grading or "").strip()
    m = re.match(r"^G([1-4X])$", g)
    if m:
        if any(gr.g_form and str(gr.value) == m.group(1) and not gr.toxicities for gr in f.grades):
            return True
        return bool(re.search(rf"\bGrading:?\s*G?\s?{m.group(1)}\b|\bG\s{m.group(1)}\b", text, re.I))
    # other gradings ('Gleason 3+4=7 (ISUP 2)', 'CNS WHO Grad 4'): all their numbers and words
    flat = re.sub(r"\s+", "", text.lower()).replace("grade", "grad")
    want = re.sub(r"\s+", "", g.lower()).replace("grade", "grad")
    if want in flat:
        return True
    nums = re.findall(r"\d\+\d|\d+", g)
    return bool(nums) and all(re.search(rf"(?<![\d+]){re.escape(n)}(?![\d+])", text) for n in nums) and has_tokens(set(tokens(text)), [], re.sub(r"[\d+=()]", " ", g))


def _same(v, d: dt.date) -> bool:
    if isinstance(v, dt.date):
        return v == d
    return isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int) and (v[0], v[1]) == (d.year, d.month)


def _dx_date_present(f: LetterFacts, cf: CaseFacts) -> bool:
    dx = cf.case.main_diagnosis.date_of_diagnosis
    for d in f.dates:
        if not _same(d.value, dx):
            continue
        # the date stands for the diagnosis unless its clause names another event of that date
        kinds = d.near
        if "diagnosis" in kinds or not kinds or not any(any(_same(d.value, x) for x in cf.events[k]["all"]) for k in kinds if k != "diagnosis"):
            return True
    return False


def _chemo_present(f: LetterFacts, cf: CaseFacts, chemo: str, toks: set[str], long_words: list[str]) -> bool:
    agents = []
    for s in cf.case.prior_treatments.systemic:
        if s.intent == "concurrent" and any(norm(a)[:5] in norm(chemo) for a in s.agents):
            agents += s.agents
    if not agents:
        agents = [w for w in re.findall(r"[^\W\d_]{5,}", chemo) if norm(w) not in {norm(x) for x in ("täglich", "wöchentlich", "weekly", "daily", "twice", "CROSS")}]
    if not all(has_tokens(toks, long_words, a) for a in agents):
        return False
    for dose in re.findall(r"\d+(?:[.,]\d+)?\s*(?:mg/m²|mg/m2|mg/kg|mg|AUC)|AUC\s*\d+(?:[.,]\d+)?", chemo):
        if re.sub(r"\s+", "", dose.lower()).replace("m2", "m²") not in f.flat:
            return False
    return True
