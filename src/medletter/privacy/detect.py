"""Detection of patient information (PHI) in letters: Presidio's ``AnalyzerEngine`` with our German
recognisers, plus what the case record already knows, plus (German, where ``medletter deid
train-model`` built one) a learned tagger whose spans join the rules' (the last section below).

    spans = detect(text, lang="de", known=KnownPHI.from_case(case))

Detection is kept apart from transformation (:mod:`medletter.privacy.pseudonymize`), as in
Presidio. Everything runs offline: the NLP engine is a blank spaCy pipeline saved to a cache folder
(see :mod:`medletter.privacy.nlp`), and no recogniser needs a model or the network.

Labels follow the GraSCCo PHI annotation (``records.PHI_LABELS`` plus ``NAME_TITLE``,
``NAME_EXT``, ``NAME_USERNAME``, ``PROFESSION``, ``LOCATION_ORGANIZATION``, ``LOCATION_COUNTRY``)
and ``CONTACT_URL`` for web addresses. Overlapping hits are resolved to non-overlapping spans: the
higher score wins, then the longer span.

Nothing here logs or raises with text in it: only counts, labels and offsets.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import regex as re
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult

from medletter import months as MO
from medletter.privacy import patterns as P
from medletter.privacy.recognizers import DEFAULT_RECOGNIZERS, make_result
from medletter.records import Span

logger = logging.getLogger(__name__)

LANGUAGES = ("de", "en")
SCORE_THRESHOLD = 0.4
ALL_LABELS = (
    "NAME_PATIENT", "NAME_DOCTOR", "NAME_TITLE", "NAME_RELATIVE", "NAME_EXT", "NAME_USERNAME", "DATE", "AGE",
    "ID", "PROFESSION", "LOCATION_STREET", "LOCATION_ZIP", "LOCATION_CITY", "LOCATION_HOSPITAL",
    "LOCATION_ORGANIZATION", "LOCATION_COUNTRY", "CONTACT_PHONE", "CONTACT_FAX", "CONTACT_EMAIL", "CONTACT_URL",
)


class DetectionError(RuntimeError):
    """Detection failed; the message names the stage and the exception type, never the text."""


# --- what the case record knows ------------------------------------------------------------------


@dataclass
class KnownPHI:
    """Identifiers that a case record already holds, to be found in every text of that patient."""

    patient_first: list[str] = field(default_factory=list)
    patient_last: list[str] = field(default_factory=list)
    doctor_names: list[tuple[str, str]] = field(default_factory=list)
    relative_names: list[str] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    postcodes: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    faxes: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    institutions: list[str] = field(default_factory=list)

    @classmethod
    def from_case(cls, case) -> "KnownPHI":
        """Collect the patient's and physicians' identifiers from a :class:`medletter.records.Case`."""
        p = case.patient
        k = cls(
            patient_first=[p.first_name],
            patient_last=[p.last_name],
            dates=[p.birth_date],
            streets=[p.address.street],
            postcodes=[p.address.postcode],
            cities=[p.address.city],
            phones=[p.phone] if p.phone else [],
            ids=[p.patient_id, p.case_id, p.insurance_number, case.case_id],
        )
        for doc in [case.referring_physician, *case.treating_physicians]:
            k.doctor_names.append((doc.first_name, doc.last_name))
            if doc.phone:
                k.phones.append(doc.phone)
            if doc.fax:
                k.faxes.append(doc.fax)
            if doc.institution:
                k.institutions.append(doc.institution)
            if doc.address:
                k.streets.append(doc.address.street)
                k.postcodes.append(doc.address.postcode)
                k.cities.append(doc.address.city)
        k.ids = list(dict.fromkeys(i for i in k.ids if i))
        return k


def _date_variants(d: dt.date) -> list[str]:
    months, en = MO.MONTHS_DE, MO.MONTHS_EN
    y2 = f"{d.year % 100:02d}"
    return [
        f"{d.day:02d}.{d.month:02d}.{d.year}", f"{d.day}.{d.month}.{d.year}", f"{d.day:02d}.{d.month:02d}.{y2}",
        f"{d.day}.{d.month}.{y2}", d.isoformat(), f"{d.day}. {months[d.month - 1]} {d.year}",
        f"{d.day}.{months[d.month - 1]} {d.year}", f"{en[d.month - 1]} {d.day}, {d.year}",
        f"{d.day} {en[d.month - 1]} {d.year}", f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.month:02d}/{d.day:02d}/{d.year}",
    ]


def _loose(s: str) -> str:
    """A pattern for ``s`` that tolerates changed spacing and separators."""
    parts = [re.escape(c) for c in s if c.isalnum()]
    return r"[\s.\-/]{0,2}".join(parts)


class KnownPHIRecognizer(EntityRecognizer):
    """Finds a case's known identifiers: names in inflected, abbreviated and slightly misspelt forms,
    dates in any of the usual formats, IDs and phone numbers with any spacing, and the address."""

    def __init__(self, known: KnownPHI, supported_language: str = "de"):
        self.known = known
        super().__init__(supported_entities=list(ALL_LABELS), supported_language=supported_language,
                         name="KnownPHIRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        from rapidfuzz.distance import Levenshtein

        k = self.known
        out: list[RecognizerResult] = []

        def hit(label, s, e, rule, score=1.0):
            out.append(make_result(self, label, s, e, score, rule))

        def names(parts: Iterable[str], label: str, first: bool = False):
            for name in parts:
                name = (name or "").strip()
                if len(name) < 2:
                    continue
                # each word of a multi-word name, and the compound forms "Albers-Müller"
                for w in {name, *name.replace("-", " ").split()}:
                    if len(w) < 2 or re.fullmatch(P.PARTICLE, w):
                        continue
                    rx = re.compile(
                        rf"(?<![\w])(?:[{P.UC}][{P.LC}]+-)?{re.escape(w)}(?:-[{P.UC}][{P.LC}]+)?(?:['’]s|s|['’])?(?![\w])",
                        re.IGNORECASE,
                    )
                    for m in rx.finditer(text):
                        hit(label, *m.span(), "known_name")
                    # one or two OCR-like edits in longer names
                    if len(w) >= 5:
                        limit = 1 if len(w) < 8 else 2
                        for m in re.finditer(rf"(?<![\w-])[\w]{{{max(2, len(w) - limit)},{len(w) + limit}}}(?![\w])", text):
                            cand = m.group(0)
                            if cand.lower() != w.lower() and cand[0].upper() == w[0].upper() and \
                                    Levenshtein.distance(cand.lower(), w.lower(), score_cutoff=limit) <= limit:
                                hit(label, *m.span(), "known_name_fuzzy", 0.9)
                # abbreviated: "Fr. A.", "Herrn A."
                if not first:
                    ini = re.escape(name[0].upper())
                    for m in re.finditer(rf"(?<=\b(?:Frau|Fr\.|Herrn?|Hr\.|Pat\.|Patient(?:in)?)\s{{1,2}}){ini}\.", text):
                        hit(label, *m.span(), "known_initial")

        names(k.patient_last, "NAME_PATIENT")
        names(k.patient_first, "NAME_PATIENT", first=True)
        names(k.relative_names, "NAME_RELATIVE")
        for first_name, last_name in k.doctor_names:
            names([last_name], "NAME_DOCTOR")
            for m in re.finditer(rf"(?<![\w]){re.escape(first_name)}(?=\s+{re.escape(last_name)})", text, re.IGNORECASE):
                hit("NAME_DOCTOR", *m.span(), "known_doctor_first")
        for d in k.dates:
            for v in _date_variants(d):
                for m in re.finditer(rf"(?<![\d]){_loose(v)}(?![\d])", text):
                    hit("DATE", *m.span(), "known_date")
        for label, values in (("ID", k.ids), ("LOCATION_ZIP", k.postcodes)):
            for v in values:
                if v and len(v.strip()) >= 3:
                    for m in re.finditer(rf"(?<![\w]){_loose(v)}(?![\w])", text, re.IGNORECASE):
                        hit(label, *m.span(), "known_value")
        for label, values in (("CONTACT_PHONE", k.phones), ("CONTACT_FAX", k.faxes)):
            for v in values:
                digits = re.sub(r"\D", "", v or "")
                if len(digits) < 5:
                    continue
                core = re.sub(r"^(?:00?\d{2}|0)", "", digits) if v.strip().startswith(("+", "00")) else digits.lstrip("0")
                rx = r"[\s/().\-]{0,3}".join(core)
                for m in re.finditer(rf"(?:\+\s?\d{{1,3}}\s?(?:\(0\)\s?)?|0)?\(?{rx}(?!\d)", text):
                    hit(label, *m.span(), "known_phone")
        for street in k.streets:
            street = (street or "").strip()
            if not street:
                continue
            m0 = re.match(r"(.*?)(?:str(?:aße|asse|\.)?)?\s*(\d+\s*[a-zA-Z]?)?$", street, re.IGNORECASE)
            stem = m0.group(1).strip() if m0 else street
            num = (m0.group(2) or "").replace(" ", "") if m0 else ""
            if len(stem) < 3:
                continue
            pat = re.escape(stem) + r"(?:\s?-?\s?(?:str(?:aße|asse|\.)?|Str(?:aße|asse|\.)?))?\.?"
            if num:
                pat += r"(?:\s*" + r"\s?".join(re.escape(c) for c in num) + r")?"
            for m in re.finditer(rf"(?<![\w]){pat}(?![\w])", text, re.IGNORECASE):
                hit("LOCATION_STREET", *m.span(), "known_street")
        for label, values in (("LOCATION_CITY", k.cities), ("LOCATION_HOSPITAL", k.institutions)):
            for v in values:
                v = (v or "").strip()
                if len(v) >= 3:
                    for m in re.finditer(rf"(?<![\w]){re.escape(v)}(?![\w])", text, re.IGNORECASE):
                        hit(label, *m.span(), "known_place")
        return out


# --- the engine ------------------------------------------------------------------------------------


def build_registry(languages: tuple[str, ...] = LANGUAGES) -> RecognizerRegistry:
    """Our recognisers (:data:`~medletter.privacy.recognizers.DEFAULT_RECOGNIZERS`), one instance per language."""
    registry = RecognizerRegistry(supported_languages=list(languages))
    for lang in languages:
        for cls in DEFAULT_RECOGNIZERS:
            registry.add_recognizer(cls(supported_language=lang))
    return registry


_engine: AnalyzerEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> AnalyzerEngine:
    """The shared ``AnalyzerEngine`` (built on first use; offline)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from medletter.privacy.nlp import create_nlp_engine

            nlp = create_nlp_engine(LANGUAGES)
            _engine = AnalyzerEngine(
                registry=build_registry(LANGUAGES),
                nlp_engine=nlp,
                supported_languages=list(LANGUAGES),
                default_score_threshold=SCORE_THRESHOLD,
            )
        return _engine


def _remainder(s: int, e: int, clashes: list[tuple[int, int]], text: str) -> tuple[int, int]:
    """The longest part of [s, e) that no accepted span covers, without edge blanks/punctuation."""
    cuts = sorted(clashes)
    pieces, cur = [], s
    for a, b in cuts:
        if a > cur:
            pieces.append((cur, min(a, e)))
        cur = max(cur, b)
    if cur < e:
        pieces.append((cur, e))
    best = max(pieces, key=lambda p: p[1] - p[0], default=(s, s))
    a, b = best
    while a < b and not text[a].isalnum():
        a += 1
    while b > a and not text[b - 1].isalnum() and text[b - 1] != ".":
        b -= 1
    return a, b


def resolve(results: Iterable[RecognizerResult], text: str) -> list[Span]:
    """Non-overlapping spans: the higher score wins, then the longer span."""
    ordered = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    taken: list[tuple[int, int]] = []
    spans: list[Span] = []
    for r in ordered:
        if r.end <= r.start or r.score < SCORE_THRESHOLD:
            continue
        s, e = r.start, r.end
        clashes = [(a, b) for a, b in taken if a < e and s < b]
        if clashes:
            s, e = _remainder(s, e, clashes, text)
            if e - s < 2:
                continue
        taken.append((s, e))
        spans.append(Span(start=s, end=e, label=r.entity_type, text=text[s:e]))
    spans.sort(key=lambda s: s.start)
    return spans


def analyze(text: str, lang: str = "de", known: KnownPHI | None = None, nlp_artifacts=None) -> list[RecognizerResult]:
    """Raw Presidio results (overlapping), for inspection and evaluation. ``nlp_artifacts``: Presidio's
    NLP results for ``text`` when the caller already has them (else Presidio makes them)."""
    if lang not in LANGUAGES:
        raise DetectionError(f"language {lang!r} is not supported (use one of {', '.join(LANGUAGES)})")
    engine = get_engine()
    ad_hoc = [KnownPHIRecognizer(known, supported_language=lang)] if known is not None else None
    try:
        results = engine.analyze(
            text=text,
            language=lang,
            ad_hoc_recognizers=ad_hoc,
            score_threshold=SCORE_THRESHOLD,
            regex_flags=re.MULTILINE,  # case-sensitive: capitalisation is evidence
            nlp_artifacts=nlp_artifacts,
        )
    except Exception as e:  # never let a recogniser's message (which may quote text) escape
        kind = type(e).__name__
    else:
        for on_analyze, _ in _observers:
            if on_analyze is not None:
                on_analyze(text, results)
        return results
    # raised outside the handler, so that the original exception is not even kept as context
    raise DetectionError(f"detection failed in the analyzer ({kind}) on a text of {len(text)} characters")


def detect(text: str, lang: str = "de", known: KnownPHI | None = None, use_learned: bool = True) -> list[Span]:
    """Patient-information spans in ``text``, non-overlapping and sorted by offset: the rules, and
    the learned tagger's spans where a trained model is in the cache (``use_learned``; German only)."""
    if not text:
        spans: list[Span] = []
    else:
        model = _learned_model(lang) if use_learned else None
        if model is None:
            spans = resolve(analyze(text, lang, known), text)
        else:  # one tokenisation for both: the tagger's doc also serves Presidio as its NLP artifacts
            doc = model.make_doc(text)
            results = analyze(text, lang, known, nlp_artifacts=_artifacts(doc, lang))
            spans = combine(results, learned_spans(text, lang, model, doc=doc), text)
        logger.debug("detected %d spans in a text of %d characters", len(spans), len(text))
    for _, on_detect in _observers:
        if on_detect is not None:
            on_detect(text, spans)
    return spans


# --- observing detection ----------------------------------------------------------------------------

_observers: list[tuple[Callable | None, Callable | None]] = []


@contextmanager
def observed(on_analyze: Callable[[str, list[RecognizerResult]], None] | None = None,
             on_detect: Callable[[str, list[Span]], None] | None = None) -> Iterator[None]:
    """Within the block, ``on_analyze(text, results)`` is called after every :func:`analyze` (the rules'
    raw results) and ``on_detect(text, spans)`` after every :func:`detect` (the final spans), so that a
    caller sees what detection decided without running it twice (the residual-risk report of ``deid
    run``). The observers see the calls of every thread: meant for single-threaded commands."""
    entry = (on_analyze, on_detect)
    _observers.append(entry)
    try:
        yield
    finally:
        _observers.remove(entry)


# --- the learned tagger beside the rules (medletter.privacy.learned) -------------------------------
#
# Union for recall: the tagger's spans join the rules' results with a score below every rule's, so
# where a rule fires too its span and label win (``resolve``), and the tagger adds what no rule found.
# For precision, a filter (``_plausible``) drops learned spans that cannot be what their label says:
# measurements ("140/80 mmHg", "276 /nl", "2 Gy"), a "date" without a date's shape (lab values such as
# "29.9") or one the rules keep on purpose (a season and a year), one-character IDs, and names or places made only of the letters' ordinary words (learned from
# the training letters: ``learned.common_words``). Person names the tagger found are then looked for
# elsewhere in the letter. Each step was measured by cross-validation (``medletter deid eval --cv 5``,
# benchmarks/RESULTS.md).

LEARNED_SCORE = 0.45  # rules score 0.55-1.0; above SCORE_THRESHOLD
_UNIT_AFTER = re.compile(
    r"\s{0,2}(?:/\s?)?(?:[mµnkc]?g|[mµd]?l|[mck]?m|mmHg|mm\s?Hg|Gy|cGy|%|min|/min|[nµ]l|h|sec|s|Std|mval|mmol|"
    r"µmol|U|IE|I\.E\.|MBq|MV|MeV|kV|Hz|ms|Schläge|Fraktionen|x|×|Mio|Tsd|fach)(?![\w])"
)
_MEASURE = re.compile(r"[\d\s.,/\-–:]+")
# the rules' month words of three letters ("Okt", "Mai", "Mrz"), in the order of the months, and what follows
_MONTH_STEMS = sorted((w for w in (*P.MONTHS_DE, *P.MONTHS_EN, *P.MONTH_ABBR) if len(w) == 3), key=MO.NUMBER.__getitem__)
_MONTH = "(?:" + "|".join(_MONTH_STEMS) + r")[a-zä]*|Ostern|Weihnacht\w*|Silvester|Neujahr"
# the rules' policy (recognizers.GermanDateRecognizer): a season and a year is too coarse to identify anyone,
# and a number after "Tel", "Nr", "Zi" ... is not a year
_SEASON = re.compile(r"\b(?i:frühjahr|frühling|sommer|herbst|winter|spring|summer|autumn|fall)\b")
_SEASON_BEFORE = re.compile(_SEASON.pattern + r"\s*$")
_YEAR = re.compile(r"(?:1[89]|20|21)\d\d")
_NOT_A_YEAR_AFTER = re.compile(r"\b(?i:tel\.?|fax|nr\.?|no\.?|zi\.?|station|pos\.?)\s*:?\s*$")
_DATE_SHAPE = re.compile(
    rf"\d{{1,2}}\.\s?\d{{1,2}}\.|\d{{1,2}}\.\d{{1,2}}\.?\d{{2,4}}|(?<!\d)(?:1[89]|20|21)\d\d(?!\d)|{_MONTH}|"
    rf"\d{{1,2}}\s?/\s?\d{{2,4}}|\d{{4}}-\d\d",
    re.IGNORECASE,
)
_AGE_SHAPE = re.compile(r"\d|zig|zehn|elf|zwölf|hundert|ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun", re.IGNORECASE)
_LEXICAL = ("NAME_PATIENT", "NAME_DOCTOR", "NAME_RELATIVE", "NAME_EXT", "PROFESSION", "LOCATION_STREET",
            "LOCATION_CITY", "LOCATION_HOSPITAL", "LOCATION_ORGANIZATION", "LOCATION_COUNTRY")


def _plausible(text: str, start: int, end: int, label: str, common: frozenset[str] = frozenset()) -> bool:
    """False for a learned span that cannot be the patient information its label says."""
    span = text[start:end]
    if not any(c.isalnum() for c in span):
        return False
    if _MEASURE.fullmatch(span) and _UNIT_AFTER.match(text, end):
        return False
    digits = sum(c.isdigit() for c in span)
    if label == "DATE":  # with the period after it: "19.3" + "." (the tagger's tokens split it off)
        before = text[max(0, start - 12):start]
        if _SEASON.search(span) or (_YEAR.fullmatch(span) and (_SEASON_BEFORE.search(before) or
                                                                 _NOT_A_YEAR_AFTER.search(before))):
            return False
        return bool(_DATE_SHAPE.search(text[start:end + 1]))
    if label == "AGE":
        return bool(_AGE_SHAPE.search(span))
    if label == "ID":
        return len(span) >= 2
    if label == "LOCATION_ZIP":
        return 4 <= digits <= 5
    if label in ("CONTACT_PHONE", "CONTACT_FAX"):
        return digits >= 5
    if label in _LEXICAL and common:
        from medletter.privacy.learned import words_of

        words = words_of(span)
        return not words or not all(w in common for w in words)
    return True


_NAME_WORD = re.compile(rf"[{P.UC}][{P.LC}{P.UC}'’\-]{{2,}}")
_PROPAGATED = ("NAME_PATIENT", "NAME_DOCTOR", "NAME_RELATIVE")
_NOT_NAMES = {"frau", "herr", "herrn", "patient", "patientin", "pat", "prof", "doktor", "med", "dres", "oberarzt",
              "oberärztin", "chefarzt", "chefärztin", "assistenzarzt", "assistenzärztin", "facharzt", "fachärztin"}


def _propagate(text: str, spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Each word of a learned person name, found again elsewhere in the letter as a whole word, is the
    same name there ("Frau Korsakoff ... Korsakoff erholt sich")."""
    words: dict[str, tuple[str, float]] = {}
    for s, e, label, sc in spans:
        if label in _PROPAGATED:
            for m in _NAME_WORD.finditer(text, s, e):
                if m.group(0).lower() not in _NOT_NAMES:
                    words.setdefault(m.group(0), (label, sc))
    if not words:
        return spans
    taken = [(s, e) for s, e, *_ in spans]
    out = list(spans)
    for w, (label, sc) in words.items():
        a = text.find(w)
        while a >= 0:  # str.find: far quicker than a regular expression built per letter
            b = a + len(w)
            if (a == 0 or not (text[a - 1].isalnum() or text[a - 1] == "-")) and \
                    (b == len(text) or not (text[b].isalnum() or text[b] == "-")) and \
                    not any(x < b and a < y for x, y in taken):
                out.append((a, b, label, sc))
                taken.append((a, b))
            a = text.find(w, b)
    return sorted(out)


def _learned_model(lang: str):
    if lang != "de":
        return None
    from medletter.privacy import learned

    return learned.load_model()


def _artifacts(doc, lang: str):
    """Presidio's NLP artifacts from the tagger's tokens. None of our recognisers reads tokens, and
    none has context words for Presidio's context enhancer (their context is in their patterns), so
    the rules find the same with these tokens as with Presidio's own, and the text is tokenised once."""
    from presidio_analyzer.nlp_engine import NlpArtifacts

    return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[t.idx for t in doc],
                        lemmas=[t.text.lower() for t in doc], nlp_engine=get_engine().nlp_engine, language=lang)


def learned_spans(text: str, lang: str = "de", model=None, threshold: float | None = None,
                  filtered: bool = True, propagated: bool = True, doc=None) -> list[tuple[int, int, str, float]]:
    """The learned tagger's spans (start, end, label, score), implausible ones dropped (``filtered``) and
    person names propagated through the letter (``propagated``); [] without a model or for another
    language than German."""
    if lang != "de" or not text:
        return []
    from medletter.privacy import learned

    model = model if model is not None else learned.load_model()
    if model is None:
        return []
    th = learned.THRESHOLD if threshold is None else threshold
    common = learned.model_common_words(model)
    spans = [x for x in learned.predict(model, text, th, doc=doc)
             if not filtered or _plausible(text, x[0], x[1], x[2], common)]
    return _propagate(text, spans) if propagated else spans


def combine(rule_results: Iterable[RecognizerResult], learned: Iterable[tuple], text: str) -> list[Span]:
    """Union of the rules' results and the learned spans, resolved to non-overlapping spans."""
    extra = [RecognizerResult(entity_type=x[2], start=x[0], end=x[1], score=LEARNED_SCORE) for x in learned]
    return resolve([*rule_results, *extra], text)
