"""The case's vocabulary, for reading a letter: which words name which toxicity, procedure, systemic
therapy, course and diagnosis. Words and indices only, never a value of the case: what a letter's value is
bound to is read with these words (:mod:`~medletter.evaluate.factcheck.extract`); whether the value is right
is decided by comparison (:mod:`~medletter.evaluate.factcheck.compare`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medletter.evaluate.factcheck.text import norm, similar, words
from medletter.records import Case

_GENERIC_TOX = {norm(w) for w in ("decreased", "count", "nicht", "infektiös", "noninfective", "radiation", "syndrom", "syndrome",
                                   "increased", "acute", "akute", "chronic", "white", "blood", "cell", "oral", "orale", "perianal",
                                   "vaginal", "vaginale")}
_PROC_GENERIC = {norm(w) for w in ("Therapie", "therapy", "Behandlung", "treatment", "Operation", "surgery", "Eingriff", "procedure",
                                     "links", "rechts", "left", "right", "beidseits", "bilateral")}
_SIDES = {norm(w) for w in ("links", "rechts", "left", "right", "beidseits", "bilateral")}
_SURGICAL = re.compile(r"ectomie|ectomy|resection|reseccion|resecti|biops|excision|exsision|sciopie|scopy|operation|plastic|tomie|tomy|exstirpation", re.I)
"""Words of what was done (normalised spelling: k, z -> c): they name a procedure even where an organ's word
contains them ("Lumpektomie", "resection")."""
SIDE_WORD = re.compile(r"\b(links|rechts|linksseitig\w*|rechtsseitig\w*|linke[nmrs]?|rechte[nmrs]?|left|right|left-sided|right-sided)\b"
                       r"|\b(?:li|re)\.(?:-seitig\w*)?|\((?:L|R)\)|\b(?:L|R)(?=\s+[a-z]{4,})", re.I)
"""A side: the words, and as letters abbreviate them ("li.", "re.-seitig", "(L)", "R breast")."""


@dataclass
class Lexicon:
    tox_terms: list[str] = field(default_factory=list)
    tox_keys: list[list[str]] = field(default_factory=list)
    """Per toxicity the normalised words that name it (≥ 5 letters, not generic)."""
    procedures: list[tuple[list[str], int]] = field(default_factory=list)
    """Per surgery the (up to two) words that name it, and its index."""
    systemic: list[str] = field(default_factory=list)
    course_words: list[set[str]] = field(default_factory=list)
    """Per course the words of its target region that no other course's target has."""
    target_words: list[str] = field(default_factory=list)
    """Every word of the courses' target regions (a target is no event: "Resektionshöhle" names no surgery)."""
    boost_courses: set[int] = field(default_factory=set)
    n_courses: int = 0
    diagnoses: list[str] = field(default_factory=list)
    """The main diagnosis (index 0) and the secondary ones, as texts."""
    main_words: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """What a diagnosis list may also write: the histology, the prior procedures and systemic therapies."""


def lexicon(case: Case) -> Lexicon:
    lex = Lexicon()
    for t in case.toxicities:
        ws = [w for _, _, w in words(t.term) if len(w) >= 5 and w not in _GENERIC_TOX]
        if not ws:
            ws = [w for _, _, w in words(t.term) if len(w) >= 4]
        lex.tox_keys.append(ws)
        lex.tox_terms.append(t.term)
    # a procedure is named by what was done ("Stanzbiopsie", "Lumpektomie"), not by the organ, which the
    # radiotherapy's target and the diagnosis name too ("Radiotherapie der Prostata … abgeschlossen")
    anatomy = {w for t in [c.target_region for c in case.radiotherapy_courses] + [case.main_diagnosis.text]
               for _, _, w in words(t) if len(w) >= 4}
    for i, s in enumerate(case.prior_treatments.surgeries):
        ws = [w for _, _, w in words(s.procedure) if len(w) >= 6 and w not in _PROC_GENERIC
              and (_SURGICAL.search(w) or not any(similar(w, x) for x in anatomy))][:2]
        if ws:
            lex.procedures.append((ws, i))
    sysw = set()
    for s in case.prior_treatments.systemic:
        for x in [s.regimen, *s.agents]:
            sysw |= {w for _, _, w in words(x) if len(w) >= 4}
    for c in case.radiotherapy_courses:
        if c.concurrent_chemotherapy:
            sysw |= {w for _, _, w in words(c.concurrent_chemotherapy) if len(w) >= 6}
    lex.systemic = sorted(sysw)
    ws = [{w for _, _, w in words(c.target_region) if len(w) >= 4 and w not in _SIDES} for c in case.radiotherapy_courses]
    for i, s in enumerate(ws):
        others = set().union(*(ws[j] for j in range(len(ws)) if j != i)) if len(ws) > 1 else set()
        lex.course_words.append({w for w in s if not any(similar(w, o) for o in others)})
    lex.target_words = sorted({w for c in case.radiotherapy_courses for _, _, w in words(c.target_region) if len(w) >= 5})
    lex.boost_courses = {i for i, c in enumerate(case.radiotherapy_courses) if c.is_boost}
    lex.n_courses = len(case.radiotherapy_courses)
    lex.diagnoses = [case.main_diagnosis.text] + [s.text for s in case.secondary_diagnoses]
    lex.main_words = [w for _, _, w in words(case.main_diagnosis.text) if len(w) >= 5 and not SIDE_WORD.fullmatch(w)]
    d = case.main_diagnosis
    lex.details = [x for x in [d.histology, *(p.strip() for p in (d.histology or "").split(",")), d.grading,
                               *(s.procedure for s in case.prior_treatments.surgeries),
                               *(s.regimen for s in case.prior_treatments.systemic),
                               *(a for s in case.prior_treatments.systemic for a in s.agents)] if x]
    return lex
