"""Fact check flags: character offsets of unsupported statements, for inline highlighting."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from medletter.evaluate.facts import FactReport, Flag, check_letter
from medletter.records import Case
from medletter.synth import generate_corpus
from medletter.textfmt import fmt_gy

LETTER_DE = (
    "Diagnose: Invasiv-duktales Mammakarzinom links (C50.4), pT1c pN0 cM0, G2. "
    "Bestrahlung der Restbrust links in IMRT-Technik vom 01.03.2029 bis 21.03.2029 mit 15 x 2,67 Gy "
    "bis 40,05 Gy, danach Boost auf das Tumorbett links mit 5 x 2 Gy bis 10 Gy vom 22.03.2029 bis 28.03.2029. "
    "Radiation dermatitis Grad 1, Fatigue Grad 1. Wiedervorstellung in 6 Wochen."
)
LETTER_EN = (
    "Diagnosis: invasive ductal carcinoma of the left breast (C50.4), pT1c pN0 cM0, G2. "
    "Radiotherapy to the Restbrust links with IMRT from 1 March 2029 to 21 March 2029, 15 fractions of 2.67 Gy "
    "to 40.05 Gy, followed by a boost to the Tumorbett links of 5 x 2 Gy to 10 Gy (22/03/2029 to 28/03/2029). "
    "Radiation dermatitis grade 1, fatigue grade 1. Follow-up in 6 weeks."
)


@pytest.fixture
def case(good_case) -> Case:
    return Case.model_validate(good_case)


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def check_flags(rep: FactReport, text: str) -> list[tuple[str, str, str]]:
    """Invariants of every report; returns (surface, kind, value) per flag."""
    assert len(rep.flags) == len(rep.unsupported)
    assert Counter((f.kind, f.value) for f in rep.flags) == Counter(rep.unsupported)
    assert [f.start for f in rep.flags] == sorted(f.start for f in rep.flags)
    js = rep.flags_json()
    assert js == [{"start": f.start, "end": f.end, "kind": f.kind, "value": f.value} for f in rep.flags]
    assert [d["start"] for d in js] == sorted(d["start"] for d in js)
    assert rep.missing_json() == rep.to_dict()["missing"]
    for f in rep.flags:
        assert 0 <= f.start < f.end <= len(text), f
        assert text[f.start : f.end].strip(), f
    return [(text[f.start : f.end], f.kind, f.value) for f in rep.flags]


@pytest.mark.parametrize("letter", [LETTER_DE, LETTER_EN])
def test_correct_letter_has_no_flags(case, letter):
    rep = check_letter(case, letter)
    assert check_flags(rep, letter) == []
    assert rep.flags_json() == []
    assert ("icd10", "C50.4") in rep.found and ("course1.total_dose_gy", "40.05") in rep.found


PLANTED = [
    # (letter, replace, by, expected surface, kind, value)
    (LETTER_DE, "bis 40,05 Gy", "bis 42 Gy", "42 Gy", "dose_gy", "42"),
    (LETTER_DE, "bis 40,05 Gy", "bis 12,5 Gy", "12,5 Gy", "dose_gy", "12.5"),
    (LETTER_DE, "bis 21.03.2029", "bis 3.4.2029", "3.4.2029", "date", "2029-04-03"),
    (LETTER_DE, "bis 21.03.2029", "bis 31.02.2029", "31.02.2029", "date", "invalid"),
    (LETTER_DE, "vom 01.03.2029 bis 21.03.2029", "vom 2.3.–21.3.2029", "2.3.", "date", "2029-03-02"),
    (LETTER_DE, "Wiedervorstellung", "Beginn im April 2029. Wiedervorstellung", "April 2029", "month", "2029-04"),
    (LETTER_DE, "pN0", "pN1", "pN1", "tnm", "pn1"),
    (LETTER_DE, "pT1c", "pT2", "pT2", "tnm", "pt2"),
    (LETTER_DE, "IMRT-Technik", "VMAT-Technik", "VMAT", "technique", "VMAT"),
    (LETTER_DE, "IMRT-Technik", "IMRT-Technik (Elektronenboost)", "Elektronenboost", "technique", "electrons"),
    (LETTER_DE, "in IMRT-Technik", "in IMRT-Technik stereotaktisch", "stereotaktisch", "technique", "stereotactic"),
    (LETTER_DE, "Fatigue Grad 1", "Fatigue Grad 3", "Grad 3", "ctcae_grade", "3"),
    (LETTER_DE, "Fatigue Grad 1", "Fatigue CTCAE-Grad 3", "CTCAE-Grad 3", "ctcae_grade", "3"),
    (LETTER_DE, "Fatigue Grad 1", "Fatigue °3", "°3", "ctcae_grade", "3"),
    (LETTER_DE, "Fatigue Grad 1", "Fatigue 3°", "3°", "ctcae_grade", "3"),
    (LETTER_DE, "Fatigue Grad 1", "Fatigue G3", "G3", "ctcae_grade", "3"),
    (LETTER_DE, "in 6 Wochen", "in 10 Wochen", "10 Wochen", "interval", "10w"),
    (LETTER_DE, "in 6 Wochen", "in 6 Wochen und 9 Monaten", "9 Monaten", "interval", "9m"),
    (LETTER_DE, "15 x 2,67 Gy", "16 x 2,67 Gy", "16 x", "fractions", "16"),
    (LETTER_DE, "mit 15 x 2,67 Gy", "in 16 Fraktionen zu 2,67 Gy", "16 Fraktionen", "fractions", "16"),
    (LETTER_DE, "(C50.4)", "(C61)", "C61", "icd10", "C61"),
    (LETTER_EN, "to 40.05 Gy", "to 45 Gy", "45 Gy", "dose_gy", "45"),
    (LETTER_EN, "to 21 March 2029", "to 3 April 2029", "3 April 2029", "date", "2029-04-03"),
    (LETTER_EN, "to 28/03/2029", "to 29/03/2029", "29/03/2029", "date", "2029-03-29"),
    (LETTER_EN, "to 21 March 2029", "to April 3, 2029", "April 3, 2029", "date", "2029-04-03"),
    (LETTER_EN, "pN0", "pN2a", "pN2a", "tnm", "pn2a"),
    (LETTER_EN, "cM0", "cM1", "cM1", "tnm", "cm1"),
    (LETTER_EN, "with IMRT", "with volumetric modulated arc therapy", "volumetric modulated arc", "technique", "VMAT"),
    (LETTER_EN, "with IMRT", "with IMRT, stereotactically", "stereotactically", "technique", "stereotactic"),
    (LETTER_EN, "with IMRT", "with IMRT and HDR brachytherapy", "HDR", "technique", "brachytherapy"),
    (LETTER_EN, "fatigue grade 1", "fatigue grade 3", "grade 3", "ctcae_grade", "3"),
    (LETTER_EN, "fatigue grade 1", "fatigue CTCAE v5.0 grade 4", "CTCAE v5.0 grade 4", "ctcae_grade", "4"),
    (LETTER_EN, "in 6 weeks", "in 10 weeks", "10 weeks", "interval", "10w"),
    (LETTER_EN, "15 fractions", "16 fractions", "16 fractions", "fractions", "16"),
    (LETTER_EN, "of 5 x 2 Gy", "of 4 x 2 Gy", "4 x", "fractions", "4"),
    (LETTER_EN, "(C50.4)", "(C61)", "C61", "icd10", "C61"),
]


@pytest.mark.parametrize(("letter", "old", "new", "surface", "kind", "value"), PLANTED, ids=[f"{p[4]}:{p[3]}" for p in PLANTED])
def test_planted_wrong_fact_is_flagged_at_its_surface(case, letter, old, new, surface, kind, value):
    assert letter.count(old) == 1
    text = letter.replace(old, new)
    rep = check_letter(case, text)
    flags = check_flags(rep, text)
    assert flags == [(surface, kind, value)], flags
    assert rep.flags[0].start == text.index(new) + new.index(surface)


def test_single_fraction_word_and_its_dose(case):
    text = LETTER_DE.replace("Wiedervorstellung", "Zusätzlich einmalig 8 Gy. Wiedervorstellung")
    flags = check_flags(check_letter(case, text), text)
    assert flags == [("einmalig", "fractions", "1"), ("8 Gy", "dose_gy", "8")]
    text = LETTER_EN.replace("Follow-up", "A single fraction of 8 Gy was added. Follow-up")
    assert check_flags(check_letter(case, text), text) == [("single fraction", "fractions", "1"), ("8 Gy", "dose_gy", "8")]


def test_date_range_across_new_year(case):
    text = LETTER_DE + " Vorbehandlung 22.12.–9.1.2029."
    flags = check_flags(check_letter(case, text), text)
    assert flags == [("22.12.", "date", "2028-12-22"), ("9.1.2029", "date", "2029-01-09")]


def test_several_planted_facts_sorted_by_start(case):
    text = (LETTER_DE.replace("bis 40,05 Gy", "bis 42 Gy").replace("pN0", "pN1").replace("Fatigue Grad 1", "Fatigue Grad 3")
            .replace("(C50.4)", "(C61)").replace("in 6 Wochen", "in 10 Wochen").replace("IMRT-Technik", "VMAT-Technik"))
    rep = check_letter(case, text)
    flags = check_flags(rep, text)
    assert flags == [("C61", "icd10", "C61"), ("pN1", "tnm", "pn1"), ("VMAT", "technique", "VMAT"), ("42 Gy", "dose_gy", "42"),
                     ("Grad 3", "ctcae_grade", "3"), ("10 Wochen", "interval", "10w")]
    assert all(isinstance(f, Flag) for f in rep.flags)
    assert set(rep.flags_json()[0]) == {"start", "end", "kind", "value"}
    # the summary stays what it was: counts and 'kind=value' strings, no offsets
    d = rep.to_dict()
    assert set(d) == {"recall", "n_expected", "missing", "unsupported"}
    assert d["unsupported"] == [f"{k}={v}" for k, v in rep.unsupported] and len(d["unsupported"]) == 6
    assert "course1.total_dose_gy=40.05" in rep.missing_json()


def test_a_technique_mentioned_twice_is_flagged_once_at_its_first_mention(case):
    text = LETTER_EN.replace("with IMRT", "with VMAT") + " VMAT was well tolerated."
    rep = check_letter(case, text)
    assert check_flags(rep, text) == [("VMAT", "technique", "VMAT")]
    assert rep.flags[0].start == text.index("VMAT")


def test_empty_letter():
    r = generate_corpus(1, seed=1)[0]
    rep = check_letter(r.case, "")
    assert rep.flags == [] and rep.flags_json() == [] and len(rep.missing_json()) == len(rep.expected)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_reference_letters_have_no_flags(lang):
    for r in generate_corpus(30, seed=5, lang=lang):
        rep = check_letter(r.case, r.letter.text)
        assert check_flags(rep, r.letter.text) == [], r.case.case_id


def _surface_carries_value(surface: str, kind: str, value: str) -> bool:
    if kind in ("dose_gy", "interval", "ctcae_grade", "icd10"):
        return _digits(value) in _digits(surface)
    if kind == "fractions":
        return _digits(value) in _digits(surface) if _digits(surface) else value == "1"
    if kind == "tnm":
        return surface.lower() == value
    if kind == "date":
        return value == "invalid" or str(int(value[-2:])) in surface
    if kind == "month":
        return value[:4] in surface
    return bool(surface)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_perturbed_reference_letters_flag_the_perturbed_values(lang):
    """Replace the total dose, fraction count and ICD-10 code of reference letters; each is flagged where it stands."""
    n_dose = n_frac = n_icd = 0
    for i, r in enumerate(generate_corpus(30, seed=5, lang=lang)):
        text, case = r.letter.text, r.case
        c = case.radiotherapy_courses[0]
        ok = {c2.total_dose_gy for c2 in case.radiotherapy_courses} | {c2.dose_per_fraction_gy for c2 in case.radiotherapy_courses}
        new_total = next(x for x in (77.7 + i, 83.45 + i, 91.3 + i) if all(abs(x - y) > 0.5 for y in ok))
        text, k = re.subn(rf"(?<![\d,.]){re.escape(fmt_gy(c.total_dose_gy, lang))}", fmt_gy(new_total, lang), text)
        new_fx = max(c2.fractions for c2 in case.radiotherapy_courses) + 13
        kf = 0
        if c.fractions > 1:
            text, kf = re.subn(rf"\b{c.fractions}(\s*(?:x|×|Fraktionen|fractions)(?![A-Za-z]))", rf"{new_fx}\1", text)
        icd = case.main_diagnosis.icd10.split()[0]
        new_icd = "Z99.9" if not icd.startswith("Z") else "Y88"
        text, ki = re.subn(rf"(?<![A-Za-z0-9]){re.escape(icd)}(?![0-9])", new_icd, text)
        rep = check_letter(case, text)
        flags = check_flags(rep, text)
        for surface, kind, value in flags:
            assert _surface_carries_value(surface, kind, value), (surface, kind, value)
        got = {(kind, value) for _, kind, value in flags}
        if k:
            n_dose += 1
            assert ("dose_gy", f"{new_total:g}") in got
            assert fmt_gy(new_total, lang) in [s for s, kd, _ in flags if kd == "dose_gy"]
        if kf:
            n_frac += 1
            assert ("fractions", str(new_fx)) in got
        if ki:
            n_icd += 1
            assert ("icd10", new_icd) in got
    assert n_dose >= 20 and n_frac >= 10 and n_icd >= 20
