"""Synthetic corpus: validity, dose arithmetic, PHI spans, styles, variation, determinism, lengths."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import json
import random
import re
import statistics
from collections import Counter, defaultdict

import pytest

from medletter.records import DOSE_TOLERANCE_GY, PHI_LABELS, REQUIRED_SECTIONS, Record
from medletter.synth import STYLES, generate_corpus, render_letter, section_patterns, style_names
from medletter.synth.entities import fraction_dates
from medletter.textfmt import fmt_date, fmt_gy

DE_N, EN_N = 300, 150


@pytest.fixture(scope="module")
def de() -> list[Record]:
    return generate_corpus(DE_N, seed=7, lang="de")


@pytest.fixture(scope="module")
def en() -> list[Record]:
    return generate_corpus(EN_N, seed=7, lang="en")


@pytest.fixture(scope="module", params=["de", "en"])
def corpus(request, de, en) -> list[Record]:
    return de if request.param == "de" else en


def _by_style(records):
    out = defaultdict(list)
    for r in records:
        out[r.letter.style].append(r)
    return out


def _covered(spans, start, end, labels=None) -> bool:
    return any(s.start <= start and end <= s.end and (labels is None or s.label in labels) for s in spans)


def _masked(letter) -> str:
    """Letter text with PHI spans and digits replaced: what is left is the template."""
    text = letter.text
    for s in sorted(letter.spans, key=lambda s: -s.start):
        text = text[: s.start] + f"<{s.label}>" + text[s.end :]
    return re.sub(r"\d+([.,]\d+)?", "0", text)


# --- API and validity ---------------------------------------------------------------------------------

def test_api_and_styles():
    assert len(STYLES) >= 3
    assert style_names() == list(STYLES)
    for name in style_names():
        assert STYLES[name].name == name
    with pytest.raises(ValueError):
        generate_corpus(3, seed=1, style="nonexistent")
    with pytest.raises(ValueError):
        generate_corpus(3, seed=1, lang="fr")


def test_count_and_every_record_validates(corpus):
    assert len(corpus) in (DE_N, EN_N)
    for r in corpus:
        again = Record.model_validate(r.model_dump(mode="json"))
        assert again == r
        assert r.letter is not None and r.letter.language == corpus[0].letter.language
        assert r.case.patient.case_id == r.case.case_id


def test_dose_arithmetic_and_total_dose_in_letter(corpus):
    for r in corpus:
        lang = r.letter.language
        for c in r.case.radiotherapy_courses:
            assert abs(c.dose_per_fraction_gy * c.fractions - c.total_dose_gy) <= DOSE_TOLERANCE_GY
            assert fmt_gy(c.total_dose_gy, lang) in r.letter.text
            assert fmt_gy(c.dose_per_fraction_gy, lang) in r.letter.text
        # German decimals have commas, English ones points
        wrong = r"\d\.\d+ Gy" if lang == "de" else r"\d,\d+ Gy"
        assert not re.search(wrong, r.letter.text)


def test_known_regimens(de):
    seen = set()
    for r in de:
        c0 = r.case.radiotherapy_courses[0]
        seen.add((r.case.entity, c0.fractions, c0.dose_per_fraction_gy))
    assert ("breast", 15, 2.67) in seen
    assert ("prostate", 20, 3.0) in seen and ("prostate", 39, 2.0) in seen
    assert ("rectum", 28, 1.8) in seen and ("rectum", 5, 5.0) in seen
    assert ("glioblastoma", 30, 2.0) in seen
    assert ("head_neck", 35, 2.0) in seen
    assert ("bone_mets", 1, 8.0) in seen
    assert ("cervix", 28, 1.8) in seen
    assert ("oesophagus", 23, 1.8) in seen
    boosts = [c for r in de for c in r.case.radiotherapy_courses if c.is_boost]
    assert boosts and all(c.fractions in (5, 8, 4, 3) for c in boosts)


def test_entities_and_icd(de):
    entities = Counter(r.case.entity for r in de[:200])
    assert len(entities) >= 11
    icd_prefix = {"breast": "C50", "prostate": "C61", "rectum": "C20", "glioblastoma": "C71", "nsclc": "C34",
                  "head_neck": ("C09", "C01", "C32", "C13"), "bone_mets": "C79.5", "brain_mets": "C79.3", "cervix": "C53",
                  "oesophagus": "C15", "lymphoma": ("C81", "C83")}
    for r in de:
        assert r.case.main_diagnosis.icd10.startswith(icd_prefix[r.case.entity])
        assert r.case.main_diagnosis.icd10 in r.letter.text


def test_dates_in_order_and_schedules(corpus):
    for r in corpus:
        c = r.case
        birth = c.patient.birth_date
        dx = c.main_diagnosis.date_of_diagnosis
        assert birth < dx
        for s in c.prior_treatments.surgeries:
            assert birth < s.date <= c.rt_start
        for s in c.prior_treatments.systemic:
            assert s.start_date <= c.rt_end
        assert dx <= c.rt_start
        assert 0 <= (c.letter_date - c.rt_end).days <= 7
        assert c.letter_date.weekday() < 5
        for course in c.radiotherapy_courses:
            assert course.start_date.weekday() < 5 and course.end_date.weekday() < 5
            plain = fraction_dates(course.start_date, course.fractions, course.fractions_per_week)
            if course.interruptions:
                assert course.end_date > plain[-1]
            else:
                assert course.end_date == plain[-1]
        fu = c.follow_up
        assert 6 <= fu.first_visit_weeks <= 8 and fu.interval_text and fu.visits


def test_fraction_dates_skip_weekends():
    d = fraction_dates(dt.date(2029, 4, 2), 15, 5)  # a Monday
    assert len(d) == 15 and all(x.weekday() < 5 for x in d) and d[-1] == dt.date(2029, 4, 20)
    d2 = fraction_dates(dt.date(2029, 4, 2), 15, 5, pause_after=5, pause_days=7)
    assert d2[-1] > d[-1]


def test_toxicities_plausible(de):
    grades = [t.grade for r in de for t in r.case.toxicities]
    assert grades and set(grades) <= {1, 2, 3}
    assert grades.count(3) / len(grades) < 0.15
    assert (grades.count(1) + grades.count(2)) / len(grades) > 0.85


def test_second_cases_share_patient(de):
    by_pid = defaultdict(list)
    for r in de:
        by_pid[r.case.patient.patient_id].append(r.case)
    multi = [cs for cs in by_pid.values() if len(cs) > 1]
    assert 0.06 <= len(multi) / len(by_pid) <= 0.2
    for cs in multi:
        first = cs[0].patient
        for c in cs[1:]:
            p = c.patient
            assert (p.first_name, p.last_name, p.birth_date, p.address, p.insurance_number) == (
                first.first_name, first.last_name, first.birth_date, first.address, first.insurance_number)
        assert len({c.case_id for c in cs}) == len(cs)
    assert len({r.case.case_id for r in de}) == len(de)


# --- PHI spans --------------------------------------------------------------------------------------------

_DATE_RES = {
    "de": re.compile(r"\b\d{1,2}\.\d{1,2}\.(?:\d{4})?|\b(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}"),
    "en": re.compile(r"\b\d{2}/\d{2}/\d{4}|\b(?:\d{1,2} )?(?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"),
}


def test_spans_exact_sorted_and_labelled(corpus):
    for r in corpus:
        L = r.letter
        prev_end = 0
        for s in L.spans:
            assert L.text[s.start : s.end] == s.text
            assert s.label in PHI_LABELS
            assert s.start >= prev_end  # sorted, no overlaps
            prev_end = s.end
            assert s.text == s.text.strip()
            if s.label.startswith("NAME_"):
                assert not s.text.startswith(("Dr.", "Prof.", "PD ")), s.text  # titles are not part of a name span


def test_patient_phi_all_covered(corpus):
    for r in corpus:
        L, p = r.letter, r.case.patient
        for name in {p.last_name, p.first_name}:
            for m in re.finditer(rf"\b{re.escape(name)}\b", L.text):
                assert _covered(L.spans, m.start(), m.end(), {"NAME_PATIENT", "NAME_DOCTOR"}), (name, L.text)
        for fmt in ("dd.mm.yyyy", "d.m.yyyy", "d month yyyy", "dd/mm/yyyy"):
            dob = fmt_date(p.birth_date, fmt, L.language)
            for m in re.finditer(re.escape(dob), L.text):
                assert _covered(L.spans, m.start(), m.end(), {"DATE"})
        for value, labels in ((p.patient_id, {"ID"}), (p.address.street, {"LOCATION_STREET"}), (p.address.postcode, {"LOCATION_ZIP"}),
                              (p.address.city, {"LOCATION_CITY", "LOCATION_HOSPITAL"}), (p.insurance_number, {"ID"})):
            for m in re.finditer(re.escape(value), L.text):
                assert _covered(L.spans, m.start(), m.end(), labels)
        for doc in [r.case.referring_physician, *r.case.treating_physicians]:
            for m in re.finditer(rf"\b{re.escape(doc.last_name)}\b", L.text):
                assert _covered(L.spans, m.start(), m.end(), {"NAME_DOCTOR", "NAME_PATIENT"})


def test_every_date_is_a_span(corpus):
    for r in corpus:
        L = r.letter
        for m in _DATE_RES[L.language].finditer(L.text):
            assert _covered(L.spans, m.start(), m.end(), {"DATE"}), (m.group(), L.text)
        labels = Counter(s.label for s in L.spans)
        assert labels["DATE"] >= 2 and labels["NAME_PATIENT"] >= 1 and labels["NAME_DOCTOR"] >= 1


def test_phi_label_variety(de):
    labels = Counter(s.label for r in de for s in r.letter.spans)
    for label in ("NAME_PATIENT", "NAME_DOCTOR", "DATE", "AGE", "ID", "LOCATION_STREET", "LOCATION_ZIP", "LOCATION_CITY", "CONTACT_PHONE"):
        assert labels[label] > 0, label


# --- sections and styles --------------------------------------------------------------------------------

def test_sections_and_patterns(corpus):
    for r in corpus:
        L = r.letter
        keys = [s.key for s in L.sections]
        assert set(REQUIRED_SECTIONS) <= set(keys)
        assert keys == [k for k in STYLES[L.style].order if k in keys]
        pats = section_patterns(L.style, L.language)
        assert set(pats) == set(REQUIRED_SECTIONS)
        pos = 0
        for s in L.sections:
            idx = L.text.index(s.text, pos)
            pos = idx + len(s.text)
            if s.key in pats:
                m = pats[s.key].search(L.text)
                assert m, (s.key, L.style)
                # the match is this section's heading or its first line
                start = idx - (len(s.heading) + 1 if s.heading else 0)
                assert m.start() == start, (s.key, L.style)
                assert s.text.strip()


def test_patterns_do_not_match_empty_or_other_text():
    for st in style_names():
        for lang in ("de", "en"):
            for key, pat in section_patterns(st, lang).items():
                assert pat.search("") is None
                assert pat.search("Lorem ipsum dolor sit amet.\nNur Text ohne Abschnitte.") is None


def test_headings_differ_between_every_pair_of_styles(corpus):
    headings = {st: {s.heading for r in rs for s in r.letter.sections if s.heading} for st, rs in _by_style(corpus).items()}
    assert len(headings) >= 3
    for a, b in itertools.combinations(headings, 2):
        assert headings[a] != headings[b]
        assert len(headings[a] & headings[b]) <= 1
    orders = {tuple(STYLES[st].order) for st in headings}
    assert len(orders) == len(headings)


def test_styles_measurably_different(de, en):
    for records in (de, en):
        groups = {st: [_masked(r.letter) for r in rs[:8]] for st, rs in _by_style(records).items()}

        def ratio(a, b):  # word-level edit similarity
            return difflib.SequenceMatcher(None, re.findall(r"\S+", a), re.findall(r"\S+", b), autojunk=False).ratio()

        def jaccard(a, b):
            ta, tb = set(re.findall(r"\w+", a)), set(re.findall(r"\w+", b))
            return len(ta & tb) / len(ta | tb)

        for sim in (jaccard, ratio):
            within = statistics.mean(sim(a, b) for g in groups.values() for a, b in itertools.combinations(g, 2))
            across = statistics.mean(sim(a, b) for g1, g2 in itertools.combinations(groups.values(), 2) for a in g1 for b in g2)
            assert within - across > 0.12, (sim.__name__, within, across)


def test_variation_within_a_style(de, en):
    for records in (de, en):
        for st, rs in _by_style(records).items():
            rs = rs[:30]
            openings = {_masked_section(r.letter, "salutation").split("\n")[-1] for r in rs}
            assert len(openings) >= 3, st
            for key in ("assessment", "course", "follow_up"):
                assert len({_masked_section(r.letter, key) for r in rs}) >= 3, (st, key)
            assert len({_masked(r.letter) for r in rs}) == len(rs)


def _masked_section(letter, key):
    sec = letter.section(key)
    text = sec.text
    for s in letter.spans:
        if s.text in text:
            text = text.replace(s.text, f"<{s.label}>")
    return re.sub(r"\d+([.,]\d+)?", "0", text)


def test_style_param_and_even_mix():
    one = generate_corpus(12, seed=3, style="praxis")
    assert {r.letter.style for r in one} == {"praxis"}
    mixed = Counter(r.letter.style for r in generate_corpus(30, seed=3))
    assert set(mixed) == set(style_names()) and max(mixed.values()) - min(mixed.values()) <= 1
    assert Counter(r.letter.style for r in generate_corpus(30, seed=3, style="mixed")) == mixed


def test_render_letter_api(de):
    case = de[0].case
    for st in style_names():
        for lang in ("de", "en"):
            L = render_letter(case, st, lang, random.Random(1))
            assert L.style == st and L.language == lang
            assert L == render_letter(case, st, lang, random.Random(1))
    with pytest.raises(ValueError):
        render_letter(case, "nope", "de", random.Random(1))


# --- determinism, language, length ---------------------------------------------------------------------------

def _dump(records) -> str:
    return json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, sort_keys=True)


def test_deterministic():
    a = _dump(generate_corpus(40, seed=11))
    assert a == _dump(generate_corpus(40, seed=11))
    assert a != _dump(generate_corpus(40, seed=12))
    assert _dump(generate_corpus(20, seed=11, lang="en")) == _dump(generate_corpus(20, seed=11, lang="en"))
    state = random.getstate()
    generate_corpus(5, seed=1)
    assert random.getstate() == state  # the global generator is not used


def test_english_letters(en):
    for r in en:
        t = r.letter.text
        assert r.letter.language == "en"
        for german in ("Sehr geehrte", "Liebe Kollegin", "Grüßen", "Strahlentherapie", " Grad ", "Fraktionen"):
            assert german not in t
        assert re.search(r"\d Gy", t)


def test_german_date_formats(de):
    uni = next(r for r in de if r.letter.style == "uniklinik")
    assert re.search(r"\b\d{2}\.\d{2}\.\d{4}\b", uni.letter.text)
    kk = [r for r in de if r.letter.style == "kreisklinikum"]
    assert any(re.search(r"\b\d\.\d{1,2}\.\d{4}|\b\d{1,2}\.\d\.\d{4}", r.letter.text) for r in kk)
    px = [r for r in de if r.letter.style == "praxis"]
    assert any(re.search(r"(Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}", r.letter.text) for r in px)


def test_length_budget(corpus):
    lengths = [len(r.letter.text) for r in corpus]
    assert 1000 <= statistics.median(lengths) <= 1450
    assert max(lengths) <= 1900
    for st, rs in _by_style(corpus).items():
        assert 800 <= statistics.median(len(r.letter.text) for r in rs) <= 1500, st
