"""Fact checks that bind values to what they describe (evaluate/factcheck: extracted facts compared with the case), on hand-written letters
in other phrasings than the synthetic corpus, and the planted-error benchmark's floors."""

from __future__ import annotations

import copy
import random

import pytest

from medletter.evaluate.facts import check_letter
from medletter.evaluate.plant import EXPECTED_FLAGS, PLANTERS, reformat_date
from medletter.evaluate.plant_measure import detected, measure
from medletter.records import Case
from medletter.synth import generate_corpus, style_names

from conftest import GOOD_CASE

# ---------------------------------------------------------------- cases and hand-written letters


def _case_en() -> Case:
    c = copy.deepcopy(GOOD_CASE)
    c["main_diagnosis"].update(text="Breast cancer, left", histology="invasive ductal carcinoma (NST)")
    c["secondary_diagnoses"] = [{"text": "Arterial hypertension", "icd10": "I10"}, {"text": "Type 2 diabetes mellitus", "icd10": "E11.9"}]
    c["prior_treatments"]["surgeries"][0]["procedure"] = "Breast-conserving surgery, left, with sentinel node biopsy"
    c["radiotherapy_courses"][0]["target_region"] = "left breast"
    c["radiotherapy_courses"][1]["target_region"] = "tumour bed"
    c["toxicities"] = [{"term": "Radiation dermatitis", "grade": 2}, {"term": "Fatigue", "grade": 1}]
    return Case.model_validate(c)


def _case_hn() -> Case:
    """Head and neck, concurrent cisplatin with its dose, two procedures, three toxicities."""
    c = copy.deepcopy(GOOD_CASE)
    c["main_diagnosis"] = {"text": "Oropharynxkarzinom (Tonsille) rechts", "icd10": "C09.9", "laterality": "right",
                           "histology": "Plattenepithelkarzinom, p16 positiv", "grading": "G3", "tnm": "cT2 cN1 cM0",
                           "uicc_stage": "I", "date_of_diagnosis": "2029-01-10"}
    c["secondary_diagnoses"] = [{"text": "Nikotinabusus", "icd10": "F17.2"}]
    c["prior_treatments"] = {
        "surgeries": [{"date": "2029-01-12", "procedure": "Panendoskopie mit Biopsie"}, {"date": "2029-01-25", "procedure": "PEG-Anlage"}],
        "systemic": [{"regimen": "Cisplatin 40 mg/m² wöchentlich", "agents": ["Cisplatin"], "intent": "concurrent",
                      "start_date": "2029-02-12", "end_date": "2029-03-30"}],
    }
    c["radiotherapy_courses"] = [{"target_region": "Primärtumor und zervikale Lymphabflusswege beidseits", "technique": "VMAT",
                                  "dose_per_fraction_gy": 2.0, "fractions": 35, "total_dose_gy": 70.0, "start_date": "2029-02-12",
                                  "end_date": "2029-03-30", "concurrent_chemotherapy": "Cisplatin 40 mg/m² wöchentlich"}]
    c["toxicities"] = [{"term": "Orale Mukositis", "grade": 3}, {"term": "Dysphagie", "grade": 2}, {"term": "Xerostomie", "grade": 1}]
    c["letter_date"] = "2029-04-03"
    c["follow_up"] = {"first_visit_weeks": 6, "visits": [{"after_weeks": 6, "what": "Nachsorge"}, {"after_weeks": 12, "what": "PET-CT"}]}
    return Case.model_validate(c)


CASES = {"de": Case.model_validate(GOOD_CASE), "en": _case_en(), "hn": _case_hn()}

LETTERS = {
    "de": """Sehr geehrter Herr Kollege Hausmann,

wir berichten über Ihre Patientin Frau Beate Albers (geb. 04.04.1957).

Diagnosen:
1. Invasiv-duktales Mammakarzinom links, ED 15.01.2029; histologisch invasiv-duktales Karzinom (NST), G2; pT1c pN0 cM0 (ICD-10: C50.4)
2. Arterielle Hypertonie (I10)

Vorgeschichte: Brusterhaltende Therapie links mit Sentinel-Lymphknotenbiopsie am 01.02.2029, R0.

Vom 01.03.2029 bis zum 21.03.2029 erfolgte die adjuvante Bestrahlung der Restbrust links in IMRT-Technik mit einer Gesamtdosis von 40,05 Gy in 15 Fraktionen à 2,67 Gy. Im Anschluss Boost auf das Tumorbett links: 10 Gy in 5 Fraktionen (ED 2 Gy), 22.03.–28.03.2029.

Verlauf: akut Grad 1 Radiation dermatitis sowie Fatigue (CTCAE Grad 1). Die Therapie wurde am 28.03.2029 abgeschlossen.
Wiedervorstellung zur Nachsorge am 09.05.2029, danach alle 3 Monate für 2 Jahre.
""",
    "en": """Dear Dr Hausmann,

Diagnosis: Breast cancer, left (ICD-10 C50.4), invasive ductal carcinoma (NST), G2, pT1c pN0 cM0, diagnosed on 15 January 2029.
Comorbidities: arterial hypertension (I10); type 2 diabetes mellitus (E11.9).

History: breast-conserving surgery with sentinel node biopsy on 1 February 2029 (R0).

Radiotherapy: left breast, IMRT, 40.05 Gy in 15 fractions (2.67 Gy per fraction), 1 March 2029 - 21 March 2029; followed by a boost to the tumour bed with 5 x 2 Gy = 10 Gy (22 March 2029 to 28 March 2029).
Acute toxicity: grade 2 radiation dermatitis and CTCAE grade 1 fatigue.
First follow-up visit on 9 May 2029, then every 3 months for 2 years.
""",
    "hn": """Sehr geehrte Frau Kollegin,

Diagnose: Oropharynxkarzinom (Tonsille) rechts, cT2 cN1 cM0, UICC I, ICD-10 C09.9. Histologie: Plattenepithelkarzinom, p16 positiv, G3. Erstdiagnose am 10.01.2029 (Panendoskopie mit Biopsie am 12.01.2029).
Nebendiagnose: Nikotinabusus (F17.2).
Am 25.01.2029 erfolgte die PEG-Anlage.

Therapie: definitive Radiochemotherapie des Primärtumors und der zervikalen Lymphabflusswege beidseits, VMAT, ED 2,0 Gy, GD 70 Gy in 35 Fraktionen vom 12.02. bis 30.03.2029, simultan Cisplatin 40 mg/m² wöchentlich.
Am 12.02.2029 begann die Bestrahlung, die am 30.03.2029 endete.

Nebenwirkungen nach CTCAE v5.0: orale Mukositis °3, Dysphagie °2 und Xerostomie °1; insgesamt max. Grad 3.
Die Mukositis Grad 3 besserte sich. Dysphagie (Grad 2) unter Analgesie.
Nachsorge: erste Kontrolle 6 Wochen nach Therapieende am 11.05.2029, PET-CT nach 12 Wochen.
""",
    "hn_en": """Dear colleague,

Mr Albers, born 4 April 1957, completed chemoradiotherapy on 30 March 2029.
Diagnosis: right tonsillar carcinoma (Oropharynxkarzinom (Tonsille) rechts), C09.9, cT2 cN1 cM0; squamous cell carcinoma (Plattenepithelkarzinom, p16 positiv), G3; first diagnosed 10 January 2029.
Treatment: 70 Gy in 35 fractions of 2 Gy (VMAT) from 12 February 2029 to 30 March 2029 with concurrent weekly cisplatin (Cisplatin 40 mg/m² wöchentlich).
Toxicity: grade 3 oral mucositis (Orale Mukositis), Dysphagie grade 2, Xerostomie grade 1. The worst toxicity was grade 3.
PEG tube placed on 25 January 2029.
Follow-up on 11 May 2029.
""",
}
CASE_OF = {"de": "de", "en": "en", "hn": "hn", "hn_en": "hn"}


def _check(letter: str, old: str | None = None, new: str | None = None):
    text = LETTERS[letter]
    if old is not None:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text, check_letter(CASES[CASE_OF[letter]], text)


def _flags(text: str, rep) -> list[tuple[str, str]]:
    for f in rep.flags:  # offsets for the app's highlighting
        assert 0 <= f.start < f.end <= len(text) and text[f.start : f.end].strip()
    assert [d["start"] for d in rep.flags_json()] == sorted(f.start for f in rep.flags)
    assert len(rep.flags) == len(rep.unsupported)
    return [(text[f.start : f.end], f.kind) for f in rep.flags]


@pytest.mark.parametrize("letter", list(LETTERS))
def test_hand_written_letters_have_no_flags(letter):
    text, rep = _check(letter)
    assert _flags(text, rep) == []


# ---------------------------------------------------------------- one error of each kind

PLANTED = [
    # (letter, replace, by, flagged surface, kind)
    ("de", "Grad 1 Radiation dermatitis", "Grad 2 Radiation dermatitis", "Grad 2", "grade_mismatch"),
    ("de", "Fatigue (CTCAE Grad 1)", "Fatigue (CTCAE Grad 2)", "CTCAE Grad 2", "grade_mismatch"),
    ("en", "grade 2 radiation dermatitis", "grade 1 radiation dermatitis", "grade 1", "grade_mismatch"),
    ("en", "CTCAE grade 1 fatigue", "CTCAE grade 2 fatigue", "CTCAE grade 2", "grade_mismatch"),
    ("hn", "orale Mukositis °3", "orale Mukositis °2", "°2", "grade_mismatch"),
    ("hn", "Dysphagie (Grad 2)", "Dysphagie (Grad 3)", "Grad 3", "grade_mismatch"),
    ("hn", "max. Grad 3", "max. Grad 2", "Grad 2", "grade_mismatch"),
    ("hn_en", "worst toxicity was grade 3", "worst toxicity was grade 2", "grade 2", "grade_mismatch"),
    ("de", "(NST), G2;", "(NST), G1;", "G1", "grading_mismatch"),
    ("en", "(NST), G2,", "(NST), G1,", "G1", "grading_mismatch"),
    ("de", "ED 15.01.2029", "ED 01.02.2029", "01.02.2029", "date_event_mismatch"),
    ("de", "Sentinel-Lymphknotenbiopsie am 01.02.2029", "Sentinel-Lymphknotenbiopsie am 15.01.2029", "15.01.2029", "date_event_mismatch"),
    ("de", "am 28.03.2029 abgeschlossen", "am 01.03.2029 abgeschlossen", "01.03.2029", "date_event_mismatch"),
    ("de", "Nachsorge am 09.05.2029", "Nachsorge am 28.03.2029", "28.03.2029", "date_event_mismatch"),
    ("de", "(geb. 04.04.1957)", "(geb. 15.01.2029)", "15.01.2029", "date_event_mismatch"),
    ("de", "bis zum 21.03.2029", "bis zum 28.03.2029", "28.03.2029", "date_event_mismatch"),
    ("en", "diagnosed on 15 January 2029", "diagnosed on 1 February 2029", "1 February 2029", "date_event_mismatch"),
    ("en", "biopsy on 1 February 2029", "biopsy on 1 March 2029", "1 March 2029", "date_event_mismatch"),
    ("en", "follow-up visit on 9 May 2029", "follow-up visit on 21 March 2029", "21 March 2029", "date_event_mismatch"),
    ("en", "(22 March 2029 to 28 March 2029)", "(1 March 2029 to 21 March 2029)", "1 March 2029 to 21 March 2029", "date_event_mismatch"),
    ("hn", "Erstdiagnose am 10.01.2029", "Erstdiagnose am 12.01.2029", "12.01.2029", "date_event_mismatch"),
    ("hn", "vom 12.02. bis", "vom 12.01. bis", "12.01.", "date_event_mismatch"),
    ("hn", "Am 25.01.2029 erfolgte", "Am 12.01.2029 erfolgte", "12.01.2029", "date_event_mismatch"),
    ("hn_en", "placed on 25 January 2029", "placed on 10 January 2029", "10 January 2029", "date_event_mismatch"),
    ("hn_en", "completed chemoradiotherapy on 30 March 2029", "completed chemoradiotherapy on 12 February 2029", "12 February 2029",
     "date_event_mismatch"),
    ("de", "40,05 Gy in 15 Fraktionen", "40,05 Gy in 5 Fraktionen", "40,05 Gy in 5 Fraktionen à 2,67 Gy", "dose_arithmetic"),
    ("de", "10 Gy in 5 Fraktionen (ED 2 Gy)", "10 Gy in 5 Fraktionen (ED 2,67 Gy)", "10 Gy in 5 Fraktionen (ED 2,67 Gy", "dose_arithmetic"),
    ("en", "40.05 Gy in 15 fractions", "40.05 Gy in 5 fractions", "40.05 Gy in 5 fractions (2.67 Gy", "dose_arithmetic"),
    ("de", "10 Gy in 5 Fraktionen (ED 2 Gy)", "40,05 Gy in 15 Fraktionen (ED 2,67 Gy)", "40,05 Gy in 15 Fraktionen (ED 2,67 Gy",
     "dose_course_mismatch"),
    ("en", "5 x 2 Gy = 10 Gy", "15 x 2.67 Gy = 40.05 Gy", "15 x 2.67 Gy = 40.05 Gy", "dose_course_mismatch"),
    ("de", "Mammakarzinom links", "Mammakarzinom rechts", "rechts", "laterality_mismatch"),
    ("de", "Bestrahlung der Restbrust links", "Bestrahlung der Restbrust rechts", "rechts", "laterality_mismatch"),
    ("en", "Breast cancer, left", "Breast cancer, right", "right", "laterality_mismatch"),
    ("en", "Radiotherapy: left breast", "Radiotherapy: right breast", "right", "laterality_mismatch"),
    ("hn", "Oropharynxkarzinom (Tonsille) rechts", "Oropharynxkarzinom (Tonsille) links", "links", "laterality_mismatch"),
    ("de", "pT1c pN0 cM0", "pT1c cN0 cM0", "cN0", "tnm_mismatch"),
    ("en", "pT1c pN0", "cT1c pN0", "cT1c", "tnm_mismatch"),
    ("hn", "cT2 cN1", "pT2 cN1", "pT2", "tnm_mismatch"),
    # the demo's fine-tuned model wrote "ICD-12 C9.7" and "ICD-10 C9.3"
    ("de", "(ICD-10: C50.4)", "(ICD-12 C9.7)", "ICD-12 C9.7", "invalid_code"),
    ("de", "(ICD-10: C50.4)", "(ICD-10 C9.3)", "C9.3", "invalid_code"),
    ("de", "(ICD-10: C50.4)", "(C504)", "C504", "invalid_code"),
    ("en", "(ICD-10 C50.4)", "(ICD-10 C50.412)", "C50.412", "invalid_code"),
    ("hn", "ICD-10 C09.9", "ICD-10 C9.9", "C9.9", "invalid_code"),
    ("de", "Hypertonie (I10)", "Hypertonie (C50.4)", "C50.4", "code_mismatch"),
    ("en", "hypertension (I10); type 2 diabetes mellitus (E11.9)", "hypertension (E11.9); type 2 diabetes mellitus (I10)", "E11.9",
     "code_mismatch"),
]


@pytest.mark.parametrize(("letter", "old", "new", "surface", "kind"), PLANTED, ids=[f"{p[4]}:{p[0]}:{p[2]}" for p in PLANTED])
def test_planted_error_is_flagged_where_it_stands(letter, old, new, surface, kind):
    text, rep = _check(letter, old, new)
    flags = _flags(text, rep)
    assert (surface, kind) in flags, flags
    at, end = text.index(new), text.index(new) + len(new)
    assert all(f.start < end and at < f.end for f in rep.flags), flags  # nothing else in the letter is flagged
    assert (kind, next(f.value for f in rep.flags if f.kind == kind)) in rep.unsupported


def test_a_value_the_case_lacks_is_flagged_once_by_the_value_check():
    # grade 3 is no grade of the case: the value check flags it, binding adds nothing on top
    text, rep = _check("de", "Fatigue (CTCAE Grad 1)", "Fatigue (CTCAE Grad 3)")
    assert _flags(text, rep) == [("CTCAE Grad 3", "ctcae_grade")]
    # 16 fractions are no count of the case: 'fractions', not a second 'dose_arithmetic' flag
    text, rep = _check("de", "in 15 Fraktionen", "in 16 Fraktionen")
    assert _flags(text, rep) == [("16 Fraktionen", "fractions")]


def test_grade_ranges_and_shared_grades_bind_to_their_terms():
    text, rep = _check("hn", "Dysphagie (Grad 2)", "Dysphagie (Grad 1–2)")
    assert _flags(text, rep) == []
    text, rep = _check("hn", "Dysphagie (Grad 2)", "Dysphagie (Grad 3-4)")
    assert _flags(text, rep) == [("Grad 3", "grade_mismatch")]
    text, rep = _check("de", "akut Grad 1 Radiation dermatitis sowie Fatigue (CTCAE Grad 1)", "Radiation dermatitis und Fatigue jeweils Grad 1")
    assert _flags(text, rep) == []
    # grade before term, no separators: each grade takes the term after it
    text, rep = _check("hn", "orale Mukositis °3, Dysphagie °2 und Xerostomie °1", "Grad 3 Mukositis Grad 2 Dysphagie Grad 1 Xerostomie")
    assert _flags(text, rep) == []


def test_fractions_per_week_are_no_fraction_count():
    text, rep = _check("hn", "VMAT, ED", "VMAT, 5 Fx/Woche, ED")
    assert _flags(text, rep) == []


def test_flags_json_carries_new_kinds_with_offsets():
    text, rep = _check("de", "(ICD-10: C50.4)", "(ICD-12 C9.7)")
    (d,) = rep.flags_json()
    assert d == {"start": text.index("ICD-12"), "end": text.index("ICD-12") + len("ICD-12 C9.7"), "kind": "invalid_code", "value": "ICD-12 C9.7"}
    assert rep.to_dict()["unsupported"] == ["invalid_code=ICD-12 C9.7"]


# ---------------------------------------------------------------- expected facts

WIDENED = ("histology", "grading", "date_of_diagnosis", "concurrent_systemic", "secondary_diagnosis")


@pytest.mark.parametrize("letter", list(LETTERS))
def test_widened_facts_are_found_in_full_letters(letter):
    _, rep = _check(letter)
    kinds = {k for k, _ in rep.expected}
    assert {"histology", "grading", "date_of_diagnosis", "secondary_diagnosis"} <= kinds
    assert ("concurrent_systemic" in kinds) == (CASE_OF[letter] == "hn")
    assert not [m for m in rep.missing if m[0] in WIDENED and letter != "hn_en"], rep.missing


DROPPED = [
    ("hn", "Histologie: Plattenepithelkarzinom, p16 positiv, G3.", "G3.", "histology"),
    ("hn", "Plattenepithelkarzinom, p16 positiv", "Plattenepithelkarzinom", "histology"),  # the p16 status is part of it
    ("en", "invasive ductal carcinoma (NST), ", "", "histology"),
    ("de", "(NST), G2;", "(NST);", "grading"),
    ("en", ", G2,", ",", "grading"),
    ("de", ", ED 15.01.2029", "", "date_of_diagnosis"),
    ("en", ", diagnosed on 15 January 2029", "", "date_of_diagnosis"),
    ("hn", "Erstdiagnose am 10.01.2029 ", "", "date_of_diagnosis"),  # the biopsy on 12.01. is no first diagnosis
    ("hn", "simultan Cisplatin 40 mg/m² wöchentlich", "simultan Cisplatin", "concurrent_systemic"),
    ("de", "Arterielle Hypertonie (I10)", "Arterielle Hypertonie", "secondary_diagnosis"),
    ("en", "; type 2 diabetes mellitus (E11.9)", "", "secondary_diagnosis"),
]


@pytest.mark.parametrize(("letter", "old", "new", "kind"), DROPPED, ids=[f"{d[3]}:{d[0]}" for d in DROPPED])
def test_a_dropped_fact_is_missing(letter, old, new, kind):
    text, rep = _check(letter, old, new)
    assert kind in {k for k, _ in rep.missing}, rep.missing
    assert f"{kind}=" in " ".join(rep.missing_json())
    assert rep.recall < _check(letter)[1].recall


def test_missing_json_keeps_its_shape():
    _, rep = _check("de", "Arterielle Hypertonie (I10)", "Arterielle Hypertonie")
    assert "secondary_diagnosis=Arterielle Hypertonie (I10)" in rep.missing_json()
    assert rep.to_dict()["missing"] == rep.missing_json()
    assert set(rep.to_dict()) == {"recall", "n_expected", "missing", "unsupported"}


# ---------------------------------------------------------------- planting and the benchmark's floors


def test_reformat_date_keeps_the_letters_form():
    import datetime as dt

    d = dt.date(2029, 8, 4)
    assert reformat_date("01.03.2029", d) == "04.08.2029"
    assert reformat_date("1.3.2029", d) == "4.8.2029"
    assert reformat_date("01/03/2029", d) == "04/08/2029"
    assert reformat_date("1 March 2029", d, "en") == "4 August 2029"
    assert reformat_date("1. März 2029", d) == "4. August 2029"
    assert reformat_date("März 2029", d, "de") == "August 2029"


def test_each_planter_edits_and_tells_where():
    r = generate_corpus(1, seed=2, lang="de", style="kreisklinikum")[0]
    for kind, fn in PLANTERS.items():
        p = fn(r.case, r.letter.text, "de", random.Random(0))
        if p is None:
            continue
        assert p.kind == kind and p.text != r.letter.text
        assert bool(p.missing) != bool(p.spans)
        assert kind in EXPECTED_FLAGS or p.missing


# Measured with benchmarks/bench_factcheck.py (360 reference letters, 60 per style × language):
# every planted kind flagged in 100% of letters, 0 false flags on the clean letters. The floors
# are checked here on a small sample (6 letters per style × language).
FLOOR_FLAGGED = 1.0
CEILING_FALSE_FLAGS = 0


def test_planted_error_floors():
    records = [r for lang in ("de", "en") for style in style_names() for r in generate_corpus(6, seed=11, lang=lang, style=style)]
    res = measure(records, seed=11)
    assert res["letters"] == 36
    assert res["clean"]["flags"] <= CEILING_FALSE_FLAGS, dict(res["clean"]["by_kind"])
    for group, g in res["groups"].items():
        assert g["false_flags"] <= CEILING_FALSE_FLAGS, group
    for kind, row in res["kinds"].items():
        assert row["planted"] >= 3, kind
        assert row["flagged"] / row["planted"] >= FLOOR_FLAGGED, (kind, dict(row))
        assert row["by_kind"] / row["planted"] >= FLOOR_FLAGGED, (kind, dict(row))
        assert row["collateral"] == 0, (kind, dict(row))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_reference_letters_have_no_binding_flags(lang):
    for style in style_names():
        for r in generate_corpus(15, seed=31, lang=lang, style=style):
            rep = check_letter(r.case, r.letter.text)
            assert rep.flags == [], (style, r.case.case_id, rep.flags_json())


def test_detected_needs_overlap():
    r = generate_corpus(1, seed=2, lang="de", style="uniklinik")[0]
    p = PLANTERS["invalid_code"](r.case, r.letter.text, "de", random.Random(1))
    rep = check_letter(r.case, p.text)
    assert detected(p, rep) == (True, True)
    clean = check_letter(r.case, r.letter.text)
    assert detected(p, clean) == (False, False)


def test_a_grading_written_otherwise_is_no_toxicity_grade():
    # 'CNS WHO Grad 4' restated as 'CNS WHO G4' (a draft did): the grading's own number, not a CTCAE grade
    c = copy.deepcopy(GOOD_CASE)
    c["main_diagnosis"].update(text="Glioblastom frontal rechts", icd10="C71.1", laterality="right",
                               histology="Glioblastom, IDH-Wildtyp", grading="CNS WHO Grad 4", tnm=None, uicc_stage=None)
    case = Case.model_validate(c)
    text = "Diagnose: Glioblastom frontal rechts, IDH-Wildtyp, CNS WHO G4 (ICD-10 C71.1)."
    assert [f.kind for f in check_letter(case, text).flags] == []
    # a grade the case has nowhere still is
    assert [f.kind for f in check_letter(case, text.replace("G4", "G3")).flags] == ["ctcae_grade"]
